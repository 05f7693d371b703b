/**
 * Every webhook topic of every resource in the registry (`RESOURCES[*].webhooks`), end to end: the
 * simulator changes a record and delivers Shopify's REST-shaped webhook, HMAC-signed and always twice
 * (same X-Shopify-Webhook-Id), to a real Express server mounted through `shopify-ingest/express`;
 * the webhook service stores it in the inbox and applies it to PostgreSQL. For each topic:
 *
 * - upsert / refetch: the record's rows (every table of the resource, PII decrypted) are the rows a
 *   sync of the same record writes (the importer's `fetchRecord` -> transformer -> store, into a
 *   reference tenant), the delivery is stored and handled once (also when it comes again after it
 *   was applied), and another tenant holding the same ids is untouched;
 * - delete: the row is tombstoned (with the records riding on it), and an older update of the same
 *   record arriving afterwards (its own webhook id, as an out-of-order Shopify delivery) does not
 *   resurrect it; nor does a create that arrives after the delete of a record never stored;
 * - malformed bodies (valid HMAC: `{}`, no id, a non-numeric id, an array) are refused (4xx) or
 *   recorded as failed, and change no row of any tenant.
 *
 * A topic the registry adds without a driver here fails the first test. Records are picked with a
 * seeded random: REGISTRY_TOPICS_SEED=<n> replays a run (the seed is printed).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shopifyWebhooks } from 'shopify-ingest/express';
import { createShopifyClient } from '../../src/client/index.js';
import { createKeyRing } from '../../src/crypto/index.js';
import { createImportService } from '../../src/importer/index.js';
import { fetchRecord } from '../../src/importer/pages-listing.js';
import { parseShopifyJson } from '../../src/json.js';
import { silentLogger } from '../../src/logger.js';
import { tablesOf, type ResourceDefinition } from '../../src/resources/definition.js';
import { getResource, RESOURCES, topicAction } from '../../src/resources/index.js';
import { createStore } from '../../src/store/index.js';
import { createShopifySimulator, type JsonObject, type ShopifySimulator } from '../../src/testing/index.js';
import { revealPayload, ShopifyTransformer } from '../../src/transform/index.js';
import { createWebhookService, type WebhookService } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seededRandom } from '../importer/harness.js';
import { ENCRYPTION_KEY, SECRET, signedDelivery } from './helpers/deliveries.js';
import { BOOKKEEPING_COLUMNS } from '../helpers/bookkeeping.js';

const SEED = Number(process.env.REGISTRY_TOPICS_SEED ?? Math.floor(Math.random() * 1_000_000));
console.log(`registry-topics: seed ${SEED} (REGISTRY_TOPICS_SEED=${SEED} replays this run)`);
const random = seededRandom(SEED);

const SHOP = 'registry-shop.myshopify.com';
/** Receives the webhooks. */
const A = 'tenant-registry-a';
/** The same shop's data (same ids) under another tenant and domain: no webhook of A may touch it. */
const B = 'tenant-registry-b';
/** Reference: each record synced again here after its webhook, to compare with A's rows. */
const R = 'tenant-registry-ref';
let simTime = Date.parse('2026-11-01T00:00:00Z');

let db: TestDatabase;
let sim: ShopifySimulator;
let server: Server;
let service: WebhookService;
let url: string;
let client: ReturnType<typeof createShopifyClient>;
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });
const transformer = new ShopifyTransformer({ keyRing });
/** Webhook ids handed to the host's handlers, in order (each must appear once). */
const handled: string[] = [];

const shop = () => sim.shops[0]!;
const q = <T extends Record<string, any> = Record<string, unknown>>(sql: string, params: unknown[] = []) => db.query<T>(sql, params);
const pick = <T>(items: readonly T[]): T => {
  if (!items.length) throw new Error('nothing to pick from in the simulated shop');
  return items[Math.floor(random() * items.length)]!;
};
const big = (v: unknown) => BigInt(v as bigint);

const WEBHOOK_RESOURCES = RESOURCES.filter((r) => r.webhooks.upsert.length + r.webhooks.delete.length + r.webhooks.refetch.length > 0);

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_wh_registry' });
  const store = createStore(db.database);
  await store.upsertTenant({ id: A, shopDomain: SHOP, accessTokenEnc: 'x' });
  await store.upsertTenant({ id: B, shopDomain: 'registry-twin.myshopify.com', accessTokenEnc: 'x' });
  await store.upsertTenant({ id: R, shopDomain: 'registry-reference.myshopify.com', accessTokenEnc: 'x' });
  sim = await createShopifySimulator({
    seed: SEED, apiSecret: SECRET, clock: () => (simTime += 1000), unthrottled: true, timeScale: 1000,
    shops: [{ domain: SHOP, customers: 8, products: 8, orders: 60, bigIds: true }],
    // Every delivery is sent twice with the same X-Shopify-Webhook-Id, as Shopify may.
    webhooks: { duplicateRate: 1 },
  });
  client = createShopifyClient({ shopDomain: SHOP, accessToken: shop().accessToken, baseUrl: shop().baseUrl, retryOptions: { retries: 3, minTimeout: 5, maxTimeout: 20 } });
  // All three tenants start from the same full sync of the same shop: same records, same ids.
  for (const tenant of [A, B, R]) {
    await createImportService(db.database, client, tenant, { keyRing, bulk: { minPollMs: 10, maxPollMs: 50 } }).importAll({ resources: WEBHOOK_RESOURCES.map((r) => r.name) as never });
  }
  service = createWebhookService(db.database, {
    secrets: SECRET, keyRing, logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0,
    // One attempt: a delivery that cannot be applied is a dead letter at once (no backoff to wait for).
    maxAttempts: 1,
    fetchRecord: (_tenant, resource, id, gid) => fetchRecord(client, getResource(resource), gid ?? id),
  });
  service.onAny((event) => { handled.push(event.webhookId); });
  const app = express();
  app.post('/webhooks/shopify', shopifyWebhooks(service));
  server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/shopify`;
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await sim?.stop();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await db?.drop();
});

/** Waits for every simulator delivery, then applies everything the inbox holds. */
async function settle(): Promise<void> {
  await sim.webhooks.waitForDeliveries(20_000);
  for (let i = 0; i < 50 && (await service.processPending()) > 0; i++) { /* drain */ }
}

/** Posts a signed delivery to the endpoint over HTTP (not through the simulator); answers its status. */
async function post(topic: string, body: string, webhookId: string, triggeredAt?: string): Promise<number> {
  const d = signedDelivery(topic, body, { shop: SHOP, webhookId, triggeredAt });
  const res = await fetch(url, { method: 'POST', headers: d.headers, body: d.body });
  await res.arrayBuffer();
  return res.status;
}

// ---------------------------------------------------------------------------------------------
// What a record's rows are: every table of its resource, tenant-independent (PII decrypted).

/** The key of a record's rows: its id, or for a resource riding on another (refunds) the carrier's id; null for a singleton. */
type Target = bigint | null;

async function tableRows(tenant: string, table: string, column: string | null, ids: readonly string[]): Promise<Array<Record<string, unknown>>> {
  const rows = await q<{ j: string }>(
    `SELECT (to_jsonb(t) - ${BOOKKEEPING_COLUMNS.map((c) => `'${c}'`).join(' - ')})::text AS j FROM ${table} t WHERE t.tenant_id = $1${column ? ` AND t.${column}::text = ANY($2::text[])` : ''}`,
    column ? [tenant, ids] : [tenant]);
  return rows.map((r) => parseShopifyJson<Record<string, unknown>>(r.j));
}

/** Rows of every table of `resource` belonging to the record, per SQL table, in a stable order. */
async function recordRows(tenant: string, resource: ResourceDefinition, target: Target): Promise<Record<string, Array<Record<string, unknown>>>> {
  const out: Record<string, Array<Record<string, unknown>>> = {};
  const idsByKey = new Map<string, string[]>();
  for (const table of tablesOf(resource)) {
    let rows: Array<Record<string, unknown>>;
    if (table === resource.root) {
      const column = resource.graphql.singleton ? null : resource.ridesOn?.column ?? 'id';
      rows = await tableRows(tenant, table.table, column, target === null ? [] : [String(target)]);
    } else {
      const child = resource.children.find((c) => c.key === table.key)!;
      rows = await tableRows(tenant, table.table, child.parentColumn, idsByKey.get(child.parent) ?? []);
    }
    idsByKey.set(table.key, rows.map((r) => String(r.id)));
    out[table.table] = rows;
  }
  return out;
}

/** The rows as a user reads them: encrypted columns and payload PII decrypted, rows sorted. */
function readable(tenant: string, image: Record<string, Array<Record<string, unknown>>>, options: { payload: boolean }) {
  const out: Record<string, unknown[]> = {};
  for (const [table, rows] of Object.entries(image)) {
    out[table] = rows.map((row) => {
      const plain: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) {
        if (key === 'payload') { if (options.payload) plain.payload = value === null ? null : revealPayload(value, tenant, keyRing); } else if (key.endsWith('_enc')) plain[key] = typeof value === 'string' ? keyRing.decrypt(value, tenant) : value;
        else plain[key] = value;
      }
      return plain;
    }).sort((x, y) => (JSON.stringify(x, jsonBig) < JSON.stringify(y, jsonBig) ? -1 : 1));
  }
  return out;
}
const jsonBig = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

/** A digest of every synced table of a tenant: any write to any of its rows changes it. */
async function tenantDigest(tenant: string): Promise<string> {
  const tables = [...new Set(RESOURCES.flatMap((r) => tablesOf(r as unknown as ResourceDefinition).map((t) => t.table)))].sort();
  const parts = await q<{ d: string }>(tables.map((t) => `SELECT '${t}:' || coalesce(md5(string_agg(x.r, '|' ORDER BY x.r)), '-') AS d FROM (SELECT t::text AS r FROM ${t} t WHERE tenant_id = $1) x`).join(' UNION ALL '), [tenant]);
  return parts.map((p) => p.d).sort().join(',');
}

/** Deletes the record's rows of a tenant (children first), so a delivery must write them again. */
async function wipe(tenant: string, resource: ResourceDefinition, target: Target): Promise<void> {
  const image = await recordRows(tenant, resource, target);
  const tables = tablesOf(resource);
  for (const table of [...tables].reverse()) {
    const rows = image[table.table] ?? [];
    if (!rows.length) continue;
    const where = table.conflict.map((c, k) => `t.${c}::text = x.c${k}`).join(' AND ');
    const values = rows.map((r) => table.conflict.map((c) => String(r[c])));
    await q(`DELETE FROM ${table.table} t USING (SELECT ${table.conflict.map((_c, k) => `(v->>${k}) AS c${k}`).join(', ')} FROM jsonb_array_elements($2::jsonb) v) x WHERE t.tenant_id = $1 AND ${where}`, [tenant, JSON.stringify(values)]);
  }
}

/** The same record synced into the reference tenant the way the importer does: fetched over GraphQL, transformed, stored. */
async function syncReference(resource: ResourceDefinition, target: Target, gid?: string): Promise<void> {
  if (resource.graphql.singleton) {
    await createImportService(db.database, client, R, { keyRing }).importAll({ resources: [resource.name] as never });
    return;
  }
  const record = await fetchRecord(client, resource, gid ?? (target as bigint));
  expect(record, `${resource.name} ${String(target)} in the simulated shop`).not.toBeNull();
  await createStore(db.database).writeRows(R, resource.name, transformer.toRows(resource.name, record, R));
}

// ---------------------------------------------------------------------------------------------
// Drivers: how the simulated shop produces each topic. A driver changes the shop (emitting the
// webhook through the simulator) and answers which record it is about.

interface Change { target: Target }

/**
 * Runs `change` with the simulator's deliveries of `from` sent as `to` instead: for the topics the
 * simulator has no mutation of its own (locations/activate, inventory_items/create, ...), the body
 * is the simulator's REST body of the record, delivered under the other topic.
 */
function relabelled<T>(from: string, to: string, change: () => T): T {
  const s = shop();
  const send = (topic: string, payload: JsonObject) => sim.webhooks.deliver(s, topic === from ? to : topic, payload);
  s.stock.deliver = send;
  s.discounts.deliver = send;
  s.drafts.deliver = send;
  s.onChange = (c) => sim.webhooks.dispatchChange(s, { ...c, topics: c.topics.map((t) => ({ ...t, topic: (t.topic === from ? to : t.topic) as typeof t.topic })) });
  try {
    return change();
  } finally {
    const plain = (topic: string, payload: JsonObject) => sim.webhooks.deliver(s, topic, payload);
    s.stock.deliver = plain;
    s.discounts.deliver = plain;
    s.drafts.deliver = plain;
    s.onChange = (c) => sim.webhooks.dispatchChange(s, c);
  }
}

const liveIds = (resource: 'customers' | 'products' | 'orders'): bigint[] => {
  const t = shop().tables[resource];
  const ids: bigint[] = [];
  for (let i = 0; i < t.size; i++) { const r = t.get(i); if (r) ids.push(big(r.id)); }
  return ids;
};
const orders = (test: (o: JsonObject) => boolean): JsonObject[] => liveIds('orders').map((id) => shop().find('orders', id)!).filter(test);
const hasList = (key: string) => (o: JsonObject) => ((o[key] as unknown[]) ?? []).length > 0;
/** Ids of records already deleted by a case (never picked again). */
const gone = new Set<string>();
const fresh = (ids: readonly bigint[]) => ids.filter((id) => !gone.has(String(id)));

/** Per resource: a live record to change, and the mutations behind its update and delete topics. */
const RECORDS: Record<string, { pick(): bigint; update(id: bigint): void; remove?(id: bigint): void }> = {
  customers: { pick: () => pick(fresh(liveIds('customers'))), update: (id) => { shop().update('customers', id, { tags: `rev-${simTime}` }); }, remove: (id) => shop().delete('customers', id) },
  products: { pick: () => pick(fresh(liveIds('products'))), update: (id) => { shop().update('products', id, { title: `Product ${simTime}` }); }, remove: (id) => shop().delete('products', id) },
  orders: { pick: () => pick(fresh(liveIds('orders'))), update: (id) => { shop().update('orders', id, { note: `note ${simTime}`, tags: 'webhook' }); }, remove: (id) => shop().delete('orders', id) },
  locations: {
    // Not the first location: every item is stocked there.
    pick: () => pick(fresh(shop().stock.locationIds().slice(1))),
    update: (id) => shop().stock.renameLocation(id, `Depot ${simTime}`),
    remove: (id) => { shop().stock.deactivateLocation(id); shop().stock.deleteLocation(id); },
  },
  inventory: {
    pick: () => pick(fresh(shop().stock.itemIds())),
    update: (id) => shop().stock.updateItem(id, { sku: `SKU-${simTime}`, cost: `${(simTime % 97) + 1}.25` }),
    remove: (id) => shop().stock.deleteItem(id),
  },
  collections: { pick: () => pick(fresh(shop().stock.collectionIds())), update: (id) => shop().stock.retitleCollection(id, `Collection ${simTime}`), remove: (id) => shop().stock.deleteCollection(id) },
  discounts: { pick: () => pick(fresh(shop().discounts.ids())), update: (id) => shop().discounts.retitle(id, `Discount ${simTime}`), remove: (id) => shop().discounts.remove(id) },
  draftOrders: { pick: () => pick(fresh(shop().drafts.draftIds())), update: (id) => shop().drafts.updateDraft(id, { note: `note ${simTime}`, quantity: 3 }), remove: (id) => shop().drafts.deleteDraft(id) },
  abandonedCheckouts: { pick: () => pick(fresh(shop().drafts.checkoutIds())), update: (id) => shop().drafts.updateCheckout(id, { quantity: 4 }), remove: (id) => shop().drafts.deleteCheckout(id) },
};

/** An order's REST list item (refund, transaction, fulfillment) delivered under `topic`; A's rows of the order's items removed first so the delivery must write them. */
async function orderItem(resource: string, list: string, topic: string): Promise<Change> {
  const order = pick(orders(hasList(list)));
  const id = big(order.id);
  await wipe(A, getResource(resource), id);
  sim.webhooks.deliver(shop(), topic, pick(order[list] as JsonObject[]));
  return { target: id };
}

const DRIVERS: Record<string, () => Promise<Change> | Change> = {
  'customers/create': () => ({ target: big(shop().create('customers', {}).id) }),
  'customers/update': () => { const id = RECORDS.customers.pick(); RECORDS.customers.update(id); return { target: id }; },
  'products/create': () => ({ target: big(shop().create('products', {}).id) }),
  'products/update': () => { const id = RECORDS.products.pick(); RECORDS.products.update(id); return { target: id }; },
  'orders/create': () => ({ target: big(shop().create('orders', {}).id) }),
  'orders/updated': () => { const id = RECORDS.orders.pick(); RECORDS.orders.update(id); return { target: id }; },
  'orders/paid': () => ({ target: big(shop().markOrderPaid(big(pick(orders((o) => o.financial_status !== 'paid' && !o.cancelled_at)).id)).id) }),
  'orders/cancelled': () => ({ target: big(shop().cancelOrder(big(pick(orders((o) => !o.cancelled_at)).id)).id) }),
  'orders/fulfilled': () => ({ target: big(shop().fulfillOrder(big(pick(orders((o) => o.fulfillment_status == null && !o.cancelled_at)).id)).id) }),
  'orders/partially_fulfilled': () => relabelled('orders/updated', 'orders/partially_fulfilled', () => {
    const order = pick(orders((o) => o.fulfillment_status == null && !o.cancelled_at && (o.line_items as unknown[]).length > 1));
    return { target: big(shop().update('orders', big(order.id), (o) => ({
      ...o, fulfillment_status: 'partial',
      line_items: (o.line_items as JsonObject[]).map((li, k) => (k === 0 ? { ...li, fulfillment_status: 'fulfilled', fulfillable_quantity: 0 } : li)),
    })).id) };
  }),
  'orders/edited': () => {
    const order = pick(orders((o) => (o.line_items as unknown[]).length > 1));
    shop().update('orders', big(order.id), (o) => ({ ...o, line_items: (o.line_items as unknown[]).slice(0, 1) }));
    // Shopify's orders/edited body: the edit, naming the order (https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-orders/edited).
    const at = new Date(simTime).toISOString();
    sim.webhooks.deliver(shop(), 'orders/edited', { order_edit: { id: Number(simTime % 1_000_000), app_id: null, created_at: at, committed_at: at, notify_customer: false, order_id: order.id as bigint, staff_note: '', user_id: null, line_items: { additions: [], removals: [] } } });
    return { target: big(order.id) };
  },
  'shop/update': () => { shop().stock.renameShop(`Shop ${simTime}`); return { target: null }; },
  'locations/create': () => ({ target: shop().stock.createLocation() }),
  'locations/update': () => { const id = RECORDS.locations.pick(); RECORDS.locations.update(id); return { target: id }; },
  'locations/activate': () => relabelled('locations/update', 'locations/activate', () => { const id = RECORDS.locations.pick(); RECORDS.locations.update(id); return { target: id }; }),
  'locations/deactivate': () => { const id = RECORDS.locations.pick(); shop().stock.deactivateLocation(id); return { target: id }; },
  'inventory_items/create': () => relabelled('inventory_items/update', 'inventory_items/create', () => { const id = RECORDS.inventory.pick(); RECORDS.inventory.update(id); return { target: id }; }),
  'inventory_items/update': () => { const id = RECORDS.inventory.pick(); RECORDS.inventory.update(id); return { target: id }; },
  'inventory_levels/connect': () => {
    const { stock } = shop();
    const item = pick(fresh(stock.itemIds()).filter((i) => stock.locationIds().some((l) => !stock.levelsOf(i).includes(l))));
    stock.connect(item, pick(stock.locationIds().filter((l) => !stock.levelsOf(item).includes(l))), 1 + Math.floor(random() * 50));
    return { target: item };
  },
  'inventory_levels/update': () => {
    const { stock } = shop();
    const item = RECORDS.inventory.pick();
    stock.adjustQuantity(item, pick(stock.levelsOf(item)), 'available', -1 - Math.floor(random() * 5));
    return { target: item };
  },
  'inventory_levels/disconnect': () => {
    const { stock } = shop();
    const item = pick(fresh(stock.itemIds()).filter((i) => stock.levelsOf(i).length > 1));
    stock.disconnect(item, pick(stock.levelsOf(item).slice(1)));
    return { target: item };
  },
  'collections/create': () => relabelled('collections/update', 'collections/create', () => { const id = RECORDS.collections.pick(); RECORDS.collections.update(id); return { target: id }; }),
  'collections/update': () => { const id = RECORDS.collections.pick(); RECORDS.collections.update(id); return { target: id }; },
  'refunds/create': () => orderItem('refunds', 'refunds', 'refunds/create'),
  'order_transactions/create': () => orderItem('transactions', 'transactions', 'order_transactions/create'),
  'fulfillments/create': () => orderItem('fulfillments', 'fulfillments', 'fulfillments/create'),
  'fulfillments/update': () => {
    const order = pick(orders(hasList('fulfillments')));
    const later = new Date(simTime + 60_000).toISOString();
    const next = shop().update('orders', big(order.id), (o) => ({ ...o, fulfillments: (o.fulfillments as JsonObject[]).map((f, k) => (k === 0 ? { ...f, tracking_company: 'FedEx', shipment_status: 'delivered', updated_at: later } : f)) }));
    sim.webhooks.deliver(shop(), 'fulfillments/update', (next.fulfillments as JsonObject[])[0]!);
    return { target: big(order.id) };
  },
  'discounts/create': () => ({ target: shop().discounts.create(pick(['DiscountCodeBasic', 'DiscountAutomaticBasic', 'DiscountCodeBxgy']), 3) }),
  'discounts/update': () => { const id = RECORDS.discounts.pick(); RECORDS.discounts.update(id); return { target: id }; },
  'discounts/redeemcode_added': () => {
    const { discounts } = shop();
    const id = pick(fresh(discounts.ids()).filter((d) => discounts.typeOf(d).startsWith('DiscountCode')));
    discounts.addCodes(id, 2);
    return { target: id };
  },
  'discounts/redeemcode_removed': () => {
    const { discounts } = shop();
    const id = pick(fresh(discounts.ids()).filter((d) => discounts.typeOf(d).startsWith('DiscountCode') && discounts.codesOf(d).length > 1));
    discounts.removeCodes(id, discounts.codesOf(id).slice(0, 1));
    return { target: id };
  },
  'draft_orders/create': () => ({ target: shop().drafts.createDraft() }),
  'draft_orders/update': () => { const id = RECORDS.draftOrders.pick(); RECORDS.draftOrders.update(id); return { target: id }; },
  'checkouts/create': () => ({ target: shop().drafts.createCheckout() }),
  'checkouts/update': () => { const id = RECORDS.abandonedCheckouts.pick(); RECORDS.abandonedCheckouts.update(id); return { target: id }; },
};

/** Create topics whose driver makes a new record (the others replay an existing record's body under the create topic). */
const CREATES_NEW = new Set(['customers/create', 'products/create', 'orders/create', 'locations/create', 'discounts/create', 'draft_orders/create', 'checkouts/create']);

// ---------------------------------------------------------------------------------------------

interface TopicCase { resource: ResourceDefinition; kind: 'upsert' | 'refetch' | 'delete'; topic: string }
const CASES: TopicCase[] = WEBHOOK_RESOURCES.flatMap((r) => {
  const resource = r as unknown as ResourceDefinition;
  return [
    ...resource.webhooks.upsert.map((topic) => ({ resource, kind: 'upsert' as const, topic })),
    ...resource.webhooks.refetch.map(({ topic }) => ({ resource, kind: 'refetch' as const, topic })),
    ...resource.webhooks.delete.map((topic) => ({ resource, kind: 'delete' as const, topic })),
  ];
});

/** Subscribes the endpoint to `topic` while `run` changes the shop, then applies what was delivered; answers the deliveries. */
async function delivered<T>(topic: string, run: () => Promise<T> | T): Promise<{ result: T; deliveries: typeof sim.webhooks.deliveries }> {
  sim.webhooks.clear();
  const sub = shop().subscribe(topic, url);
  let result: T;
  try {
    result = await run();
    await settle();
  } finally {
    shop().unsubscribe(sub.id);
  }
  const deliveries = sim.webhooks.deliveries.filter((d) => d.topic === topic);
  return { result, deliveries: [...deliveries] };
}

/** Each delivery acknowledged, stored once per webhook id, processed without error and handed to the host's handlers once. */
async function expectAppliedOnce(topic: string, deliveries: typeof sim.webhooks.deliveries): Promise<string[]> {
  expect(deliveries.length, `${topic}: deliveries sent`).toBeGreaterThanOrEqual(2);
  expect(deliveries.every((d) => d.ok), `${topic}: every delivery acknowledged`).toBe(true);
  expect(deliveries.some((d) => d.duplicate), `${topic}: sent twice`).toBe(true);
  const ids = [...new Set(deliveries.map((d) => d.webhookId))];
  const rows = await q<{ webhook_id: string; status: string; last_error: string | null; tenant_id: string }>(
    `SELECT webhook_id, status, last_error, tenant_id FROM shopify_webhook_inbox WHERE webhook_id = ANY($1::text[])`, [ids]);
  expect(rows.map((r) => r.webhook_id).sort(), `${topic}: one inbox row per webhook id`).toEqual([...ids].sort());
  expect(rows.filter((r) => r.status !== 'processed' || r.last_error !== null || r.tenant_id !== A), `${topic}: applied to tenant A without error`).toEqual([]);
  for (const id of ids) expect(handled.filter((h) => h === id).length, `${topic}: handled once`).toBe(1);
  return ids;
}

describe('every webhook topic of the registry, delivered by the simulator into PostgreSQL', { timeout: 60_000 }, () => {
  it('every topic a resource declares has a driver here (a new topic needs one)', () => {
    const topics = CASES.filter((c) => c.kind !== 'delete').map((c) => c.topic);
    expect(Object.keys(DRIVERS).sort()).toEqual([...topics].sort());
    for (const c of CASES.filter((x) => x.kind === 'delete')) expect(RECORDS[c.resource.name]?.remove, c.topic).toBeTypeOf('function');
    for (const c of CASES) expect(topicAction(c.topic)?.kind, c.topic).toBe(c.kind);
  });

  for (const c of CASES.filter((x) => x.kind !== 'delete')) {
    it(`${c.resource.name}: ${c.topic} (${c.kind}) writes the rows a sync writes, once, in its tenant only`, async () => {
      const bBefore = await tenantDigest(B);
      const { result, deliveries } = await delivered(c.topic, DRIVERS[c.topic]!);
      const target = result.target;
      await expectAppliedOnce(c.topic, deliveries);
      const action = topicAction(c.topic)!;
      const body = parseShopifyJson<Record<string, unknown>>(deliveries[0]!.body);
      const gid = action.kind === 'refetch' ? action.gidOf?.(body) ?? undefined : undefined;

      const rows = await recordRows(A, c.resource, target);
      const root = rows[c.resource.root.table]!;
      expect(root.length, `${c.topic}: rows of ${String(target)} in A`).toBeGreaterThan(0);
      expect(root.every((r) => r.deleted_at === null)).toBe(true);
      await syncReference(c.resource, target, gid);
      const reference = await recordRows(R, c.resource, target);
      // A REST webhook body and a GraphQL node are different documents: the columns must agree, the
      // stored source document (`payload`) only where both came from GraphQL (refetch topics).
      const payload = c.kind === 'refetch';
      expect(readable(A, rows, { payload })).toEqual(readable(R, reference, { payload }));
      expect(await tenantDigest(B), `${c.topic}: tenant B untouched`).toBe(bBefore);

      // The same delivery once more, after it was applied (a retry whose acknowledgement was lost):
      // acknowledged as a duplicate, not stored or applied again.
      const again = deliveries[0]!;
      const aBefore = await tenantDigest(A);
      const res = await fetch(url, { method: 'POST', headers: again.headers, body: again.body });
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { ok: true, duplicate: true } });
      expect(await service.processPending()).toBe(0);
      expect(handled.filter((h) => h === again.webhookId)).toHaveLength(1);
      expect(await tenantDigest(A)).toBe(aBefore);
    });
  }

  for (const c of CASES.filter((x) => x.kind === 'delete')) {
    it(`${c.resource.name}: ${c.topic} tombstones the record, once, in its tenant only; an older update arriving later does not resurrect it`, async () => {
      const records = RECORDS[c.resource.name]!;
      // A record all tenants hold (not one a create topic added to A only).
      let id = records.pick();
      for (let i = 0; i < 50 && (await recordRows(B, c.resource, id))[c.resource.root.table]!.length === 0; i++) id = records.pick();
      const updateTopic = CASES.find((x) => x.resource === c.resource && x.kind !== 'delete' && /update/.test(x.topic))!.topic;
      // The record changes first (an update Shopify delivers and the SDK applies) ...
      const { deliveries: updates } = await delivered(updateTopic, () => records.update(id));
      await expectAppliedOnce(updateTopic, updates);
      const bBefore = await tenantDigest(B);
      const bRoot = (await recordRows(B, c.resource, id))[c.resource.root.table]!;
      expect(bRoot).toHaveLength(1);
      // ... then it is deleted.
      const { deliveries } = await delivered(c.topic, () => records.remove!(id));
      gone.add(String(id));
      await expectAppliedOnce(c.topic, deliveries);
      const afterDelete = await recordRows(A, c.resource, id);
      expect(afterDelete[c.resource.root.table], `${c.topic}: tombstoned in A`).toEqual([expect.objectContaining({ deleted_at: expect.any(String) })]);
      // Records listed through this one (an order's refunds, transactions, fulfillments) go with it, in A only.
      for (const rider of RESOURCES.filter((r) => r.ridesOn?.resource === c.resource.name) as unknown as ResourceDefinition[]) {
        const inA = (await recordRows(A, rider, id))[rider.root.table]!;
        expect(inA.filter((r) => r.deleted_at === null), `${c.topic}: ${rider.name} of ${id} tombstoned in A`).toEqual([]);
        const inB = (await recordRows(B, rider, id))[rider.root.table]!;
        expect(inB.filter((r) => r.deleted_at !== null), `${c.topic}: ${rider.name} of ${id} live in B`).toEqual([]);
      }
      expect(await tenantDigest(B), `${c.topic}: tenant B untouched`).toBe(bBefore);

      // The update's delivery arrives again, late (Shopify does not order deliveries): its own webhook id, its original trigger time.
      const late = updates[0]!;
      expect(await post(updateTopic, late.body, `late-${late.webhookId}`, late.headers['X-Shopify-Triggered-At'])).toBe(200);
      await settle();
      const [row] = await q<{ status: string; last_error: string | null }>(`SELECT status, last_error FROM shopify_webhook_inbox WHERE webhook_id = $1`, [`late-${late.webhookId}`]);
      expect(row).toMatchObject({ status: 'processed', last_error: null });
      expect(await recordRows(A, c.resource, id), `${c.topic}: still deleted after the older ${updateTopic}`).toEqual(afterDelete);
      expect(await tenantDigest(B), `${c.topic}: tenant B untouched`).toBe(bBefore);
    });

    const createTopic = CASES.find((x) => x.resource === c.resource && x.kind !== 'delete' && x.topic.endsWith('/create'))?.topic;
    if (createTopic !== undefined && CREATES_NEW.has(createTopic)) it(`${c.resource.name}: ${c.topic} before the record's ${createTopic} arrived: the late create does not bring it back`, async () => {
      // The record is created, but its create delivery is held back (recorded by the simulator, not sent) ...
      sim.webhooks.configure({ enabled: false });
      let held: typeof sim.webhooks.deliveries;
      let target: Target;
      try {
        const run = await delivered(createTopic!, DRIVERS[createTopic!]!);
        held = run.deliveries;
        target = run.result.target;
      } finally {
        sim.webhooks.configure({ enabled: true });
      }
      expect(held.length).toBeGreaterThan(0);
      expect((await recordRows(A, c.resource, target))[c.resource.root.table]).toEqual([]);
      const bBefore = await tenantDigest(B);
      // ... and deleted at once: the delete arrives first.
      const { deliveries } = await delivered(c.topic, () => RECORDS[c.resource.name]!.remove!(target as bigint));
      gone.add(String(target));
      await expectAppliedOnce(c.topic, deliveries);
      const tombstone = await recordRows(A, c.resource, target);
      expect(tombstone[c.resource.root.table], `${c.topic}: a tombstone for a record A never stored`).toEqual([expect.objectContaining({ deleted_at: expect.any(String) })]);
      // Then the create, late.
      const late = held[0]!;
      expect(await post(createTopic!, late.body, `late-${late.webhookId}`, late.headers['X-Shopify-Triggered-At'])).toBe(200);
      await settle();
      expect(await q(`SELECT status, last_error FROM shopify_webhook_inbox WHERE webhook_id = $1`, [`late-${late.webhookId}`])).toEqual([{ status: 'processed', last_error: null }]);
      expect(await recordRows(A, c.resource, target), `${c.topic}: still deleted after the late ${createTopic}`).toEqual(tombstone);
      expect(await tenantDigest(B), `${c.topic}: tenant B untouched`).toBe(bBefore);
    });
  }

  for (const c of CASES) {
    it(`${c.resource.name}: ${c.topic} with a malformed body (valid HMAC) is refused or recorded as failed, and changes no row`, async () => {
      const digests = async () => [await tenantDigest(A), await tenantDigest(B)];
      const before = await digests();
      const bodies = ['{}', '{"note":"no id here"}', '{"id":"not-a-number","admin_graphql_api_id":"not-a-gid"}', '{"id":null}', '[]', 'null', '"text"', '42'];
      const answers: Array<{ webhookId: string; status: number }> = [];
      for (const [k, body] of bodies.entries()) {
        const webhookId = `malformed-${c.topic}-${k}`;
        answers.push({ webhookId, status: await post(c.topic, body, webhookId) });
      }
      await settle();
      for (const [k, { webhookId, status }] of answers.entries()) {
        if (status !== 200) { expect(status, `${c.topic} ${bodies[k]}`).toBeGreaterThanOrEqual(400); expect(status).toBeLessThan(500); continue; }
        const [row] = await q<{ status: string; last_error: string | null }>(`SELECT status, last_error FROM shopify_webhook_inbox WHERE webhook_id = $1`, [webhookId]);
        // Recorded as a dead letter with the SDK's own error (its messages start with `[shopify-ingest]`), not a stray TypeError.
        expect(row, `${c.topic} ${bodies[k]}: recorded as failed with a typed error`).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/^\[shopify-ingest\] /) });
        expect(handled, `${c.topic} ${bodies[k]}: not handed to the host's handlers`).not.toContain(webhookId);
      }
      expect(await digests(), `${c.topic}: no row of A or B changed`).toEqual(before);
    });
  }
});
