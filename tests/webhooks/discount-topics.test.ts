/**
 * The discount topics end to end: the simulator creates, changes and deletes discounts and their
 * codes and delivers Shopify's REST-shaped webhooks (not the GraphQL node) to a real Express
 * server; the webhook service refetches each discount over GraphQL with all its codes (more than
 * a page) through the registry, and tombstones deleted ones.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { shopifyWebhooks } from 'shopify-ingest/express';
import { createShopifyClient } from '../../src/client/index.js';
import { createKeyRing } from '../../src/crypto/index.js';
import { createImportService } from '../../src/importer/index.js';
import { fetchRecord } from '../../src/importer/pages-listing.js';
import { silentLogger } from '../../src/logger.js';
import { getResource, topicAction } from '../../src/resources/index.js';
import { createStore } from '../../src/store/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createWebhookService, type WebhookService } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, SECRET } from './helpers/deliveries.js';

let db: TestDatabase;
let sim: ShopifySimulator;
let server: Server;
let service: WebhookService;
const SHOP = 'discount-shop.myshopify.com';
const TENANT = 'tenant-discounts';
let simTime = Date.parse('2026-11-01T00:00:00Z');
const TOPICS = ['discounts/create', 'discounts/update', 'discounts/delete', 'discounts/redeemcode_added', 'discounts/redeemcode_removed'];

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_wh_disc' });
  await createStore(db.database).upsertTenant({ id: TENANT, shopDomain: SHOP, accessTokenEnc: 'x' });
  sim = await createShopifySimulator({ seed: 11, apiSecret: SECRET, clock: () => (simTime += 1000), unthrottled: true, timeScale: 1000, shops: [{ domain: SHOP, customers: 3, products: 10, orders: 3, bigIds: true }] });
  const shop = sim.shops[0]!;
  const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: shop.baseUrl, retryOptions: { retries: 3, minTimeout: 5, maxTimeout: 20 } });
  const keyRing = createKeyRing({ key: ENCRYPTION_KEY });
  // The starting state, synced: webhooks then keep it current.
  await createImportService(db.database, client, TENANT, { keyRing, bulk: { minPollMs: 10, maxPollMs: 50 } }).importAll({ resources: ['discounts'] });
  service = createWebhookService(db.database, {
    secrets: SECRET, keyRing, logger: silentLogger, worker: { pollIntervalMs: 100, batchSize: 50 },
    fetchRecord: (_tenant, resource, id, gid) => { refetchedBy.push(gid ?? String(id)); return fetchRecord(client, getResource(resource), gid ?? id); },
  });
  const app = express();
  app.post('/webhooks/shopify', shopifyWebhooks(service));
  server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/shopify`;
  for (const topic of TOPICS) shop.subscribe(topic, url);
});

afterAll(async () => {
  await service?.stop();
  await sim?.stop();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await db?.drop();
});

/** What each refetch was asked for: the webhook's gid, or the bare id. */
const refetchedBy: string[] = [];
const q = <T extends Record<string, any> = Record<string, unknown>>(sql: string, params: unknown[] = []) => db.query<T>(sql, params);

/** Waits until every delivery is acknowledged and the inbox has nothing left to apply. */
async function settle(): Promise<void> {
  await sim.webhooks.waitForDeliveries(20_000);
  for (let i = 0; i < 200; i++) {
    const [{ n }] = await q<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_webhook_inbox WHERE tenant_id = $1 AND status NOT IN ('processed', 'failed')`, [TENANT]);
    if (n === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const failed = await q(`SELECT topic, last_error FROM shopify_webhook_inbox WHERE tenant_id = $1 AND status <> 'processed'`, [TENANT]);
  expect(failed).toEqual([]);
}

it('discounts/create|update|delete and redeemcode_added|removed keep discounts and codes equal to the shop', async () => {
  const { discounts } = sim.shops[0]!;
  const big = discounts.ids().find((id) => discounts.codesOf(id).length === 250)!;
  discounts.addCodes(big, 3);
  const small = discounts.ids().find((id) => discounts.codesOf(id).length === 3)!;
  discounts.removeCodes(small, discounts.codesOf(small).slice(0, 1));
  const created = discounts.create('DiscountCodeBasic', 40);
  const automatic = discounts.ids().find((id) => discounts.typeOf(id) === 'DiscountAutomaticBxgy')!;
  discounts.retitle(automatic, 'Buy two, get one');
  const doomed = discounts.ids().find((id) => discounts.typeOf(id) === 'DiscountCodeFreeShipping')!;
  discounts.remove(doomed);
  await settle();

  const codes = await q<{ d: string; code: string }>(`SELECT c.discount_id::text AS d, c.code FROM shopify_discount_codes c
    JOIN shopify_discounts d ON d.tenant_id = c.tenant_id AND d.id = c.discount_id AND d.deleted_at IS NULL WHERE c.tenant_id = $1 ORDER BY c.code`, [TENANT]);
  const stored = new Map<string, string[]>();
  for (const r of codes) stored.set(r.d, [...(stored.get(r.d) ?? []), r.code]);
  const expected = new Map(discounts.ids().map((id) => [String(id), [...discounts.codesOf(id)].sort()] as [string, string[]]).filter(([, c]) => c.length > 0));
  expect(stored).toEqual(expected);
  expect(stored.get(String(big))?.length).toBe(253);
  expect(stored.get(String(created))?.length).toBe(40);
  expect(await q(`SELECT title, method FROM shopify_discounts WHERE tenant_id = $1 AND id = $2`, [TENANT, String(automatic)])).toEqual([{ title: 'Buy two, get one', method: 'automatic' }]);
  expect(await q(`SELECT deleted_at IS NOT NULL AS gone FROM shopify_discounts WHERE tenant_id = $1 AND id = $2`, [TENANT, String(doomed)])).toEqual([{ gone: true }]);
  // Every refetch went by the id the webhook named, not its DiscountCodeNode/DiscountAutomaticNode
  // gid (which answers `... on DiscountNode` with nothing at Shopify): fetchRecord builds the
  // DiscountNode gid (tests/webhooks/discount-refetch.test.ts).
  expect(refetchedBy.length).toBeGreaterThan(0);
  expect(refetchedBy.every((id) => /^\d+$/.test(id))).toBe(true);
  expect(refetchedBy).toContain(String(automatic));
});

it('a discount is fetched again by its id as a DiscountNode, whatever node type its webhook names', () => {
  const action = topicAction('discounts/update');
  expect(action?.kind).toBe('refetch');
  const refetch = action as Extract<typeof action, { kind: 'refetch' }>;
  expect(refetch.idOf({ admin_graphql_api_id: 'gid://shopify/DiscountAutomaticNode/1056', title: 'x' })).toBe(1056n);
  expect(refetch.idOf({ admin_graphql_api_id: 'gid://shopify/DiscountCodeNode/1057' })).toBe(1057n);
  expect(refetch.gidOf).toBeUndefined();
});
