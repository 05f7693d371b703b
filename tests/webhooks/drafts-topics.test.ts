/**
 * Draft order and checkout topics end to end: the simulator changes drafts and checkouts and
 * delivers Shopify's REST-shaped webhooks to a real Express server; the webhook service applies
 * each through the registry (create/update bodies name the record, which is read again over
 * GraphQL from the simulator as the facade wires it; delete bodies tombstone), and the database
 * follows: new rows with line items in both currencies, changed line items, a completed draft's
 * order, a recovered checkout, tombstones, and a checkout stored only once it is abandoned.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createShopifyClient } from '../../src/client/index.js';
import { createKeyRing } from '../../src/crypto/index.js';
import { createImportService } from '../../src/importer/index.js';
import { createStore } from '../../src/store/index.js';
import type { JsonObject } from '../../src/testing/generator.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, SECRET } from './helpers/deliveries.js';
import { startSimulatorReceiver, type SimulatorReceiver } from './helpers/simulator-receiver.js';

let db: TestDatabase;
let sim: ShopifySimulator;
let receiver: SimulatorReceiver;
const SHOP = 'drafts-shop.myshopify.com';
const TENANT = 'tenant-drafts';
let simTime = Date.parse('2026-11-01T00:00:00Z');
const TOPICS = ['draft_orders/create', 'draft_orders/update', 'draft_orders/delete', 'checkouts/create', 'checkouts/update', 'checkouts/delete'];
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_wh_drafts' });
  await createStore(db.database).upsertTenant({ id: TENANT, shopDomain: SHOP, accessTokenEnc: 'x' });
  sim = await createShopifySimulator({
    seed: 17, apiSecret: SECRET, clock: () => (simTime += 1000), unthrottled: true, timeScale: 1000,
    shops: [{ domain: SHOP, customers: 6, products: 8, orders: 6, draftOrders: 4, abandonedCheckouts: 4, bigIds: true }],
  });
  const shop = sim.shops[0]!;
  const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: shop.baseUrl, retryOptions: { retries: 3, minTimeout: 5, maxTimeout: 20 } });
  await createImportService(db.database, client, TENANT, { keyRing, bulk: { minPollMs: 10, maxPollMs: 50 } }).importAll({ resources: ['draftOrders', 'abandonedCheckouts'] });
  receiver = await startSimulatorReceiver({ db, sim, tenantId: TENANT, keyRing, client, topics: TOPICS });
});

afterAll(async () => {
  await receiver?.close();
  await sim?.stop();
  await db?.drop();
});

const q = <T extends Record<string, any> = Record<string, unknown>>(sql: string, params: unknown[] = []) => db.query<T>(sql, params);

const settle = () => receiver.settle();

const amount = (node: JsonObject, key: string, half: 'shopMoney' | 'presentmentMoney') => Number((node[key] as Record<string, { amount: string }>)[half].amount).toFixed(4);
const ids = (node: JsonObject) => ((node.lineItems as { nodes: JsonObject[] }).nodes).map((li) => String(li.id).split('/').pop()).sort();
async function draftRow(id: bigint) {
  const [row] = await q<Record<string, any>>(`SELECT status, order_id::text AS order_id, total_price::text AS total, total_price_presentment::text AS total_p, line_item_count, deleted_at, note_enc,
      (SELECT array_agg(l.id::text ORDER BY l.id::text) FROM shopify_draft_order_line_items l WHERE l.tenant_id = d.tenant_id AND l.draft_order_id = d.id) AS lines
    FROM shopify_draft_orders d WHERE tenant_id = $1 AND id = $2`, [TENANT, String(id)]);
  return row;
}
async function checkoutRow(id: bigint) {
  const [row] = await q<Record<string, any>>(`SELECT completed_at, total_price::text AS total, total_price_presentment::text AS total_p, line_item_count, deleted_at,
      (SELECT array_agg(l.id::text ORDER BY l.id::text) FROM shopify_abandoned_checkout_line_items l WHERE l.tenant_id = c.tenant_id AND l.checkout_id = c.id) AS lines
    FROM shopify_abandoned_checkouts c WHERE tenant_id = $1 AND id = $2`, [TENANT, String(id)]);
  return row;
}

it('draft_orders/create|update|delete: new and changed drafts as Shopify holds them (both currencies, line items), completion, tombstone', async () => {
  const { drafts } = sim.shops[0]!;
  const created = drafts.createDraft();
  const [changed, completed, doomed] = drafts.draftIds();
  drafts.updateDraft(changed, { note: 'Deliver after 5pm', quantity: 9, addLine: true });
  drafts.sendInvoice(created);
  const orderId = BigInt(sim.shops[0]!.idOf('orders', 5));
  drafts.completeDraft(completed, orderId);
  drafts.deleteDraft(doomed);
  await settle();

  for (const id of [created, changed, completed]) {
    const node = drafts.draftNode(id);
    expect(await draftRow(id), String(id)).toMatchObject({
      status: String(node.status).toLowerCase(), total: amount(node, 'totalPriceSet', 'shopMoney'), total_p: amount(node, 'totalPriceSet', 'presentmentMoney'),
      line_item_count: ids(node).length, lines: ids(node), deleted_at: null,
    });
  }
  expect(await draftRow(created)).toMatchObject({ status: 'invoice_sent' });
  expect(await draftRow(completed)).toMatchObject({ status: 'completed', order_id: String(orderId) });
  expect(keyRing.decrypt((await draftRow(changed)).note_enc, TENANT)).toBe('Deliver after 5pm');
  expect((await draftRow(doomed)).deleted_at).toBeInstanceOf(Date);
  // The deliveries were REST bodies: refetched, not transformed (the rows have presentment money REST bodies lack).
  const topics = await q<{ topic: string; n: number }>(`SELECT topic, count(*)::int AS n FROM shopify_webhook_inbox WHERE tenant_id = $1 AND topic LIKE 'draft_orders/%' GROUP BY topic ORDER BY topic`, [TENANT]);
  expect(topics).toEqual([{ topic: 'draft_orders/create', n: 1 }, { topic: 'draft_orders/delete', n: 1 }, { topic: 'draft_orders/update', n: 3 }]);
});

it('checkouts/create|update|delete: abandoned checkouts stored with line items; one not abandoned yet stored once it is; recovered; tombstone', async () => {
  const { drafts } = sim.shops[0]!;
  const created = drafts.createCheckout();
  const pending = drafts.createCheckout({ abandoned: false });
  const [changed, recovered, doomed] = drafts.checkoutIds();
  drafts.updateCheckout(changed, { quantity: 4, removeLine: true });
  drafts.recoverCheckout(recovered);
  drafts.deleteCheckout(doomed);
  await settle();
  // checkouts/create of a checkout Shopify does not list as abandoned: processed, nothing stored.
  expect(await checkoutRow(pending)).toBeUndefined();

  drafts.abandon(pending);
  await settle();
  for (const id of [created, changed, recovered, pending]) {
    const node = drafts.checkoutNode(id);
    expect(await checkoutRow(id), String(id)).toMatchObject({
      total: amount(node, 'totalPriceSet', 'shopMoney'), total_p: amount(node, 'totalPriceSet', 'presentmentMoney'),
      line_item_count: ids(node).length, lines: ids(node), deleted_at: null,
    });
  }
  expect((await checkoutRow(recovered)).completed_at).toBeInstanceOf(Date);
  expect((await checkoutRow(changed)).completed_at).toBeNull();
  expect((await checkoutRow(doomed)).deleted_at).toBeInstanceOf(Date);
});
