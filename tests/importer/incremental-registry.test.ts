/**
 * Every resource's incremental sync, held to what a user expects of it (docs/importing.md,
 * "Incremental syncs"): after records change at Shopify (updated, created, deleted; for resources
 * that ride on orders or live in child tables, through the order or the parent), an incremental run
 * stores the same rows as a fresh full sync of the changed shop; the same run stopped after its
 * first committed page and run again resumes and ends with the same rows; and the watermark never
 * passes the run's start minus `safetyMarginMs`, so a record Shopify stamped inside that margin, or
 * right after a run started, is listed by the next run even without an overlap.
 *
 * Deletions Shopify's events do not record (customers, locations, inventory items, discounts,
 * abandoned checkouts) are found by id reconciliation on full syncs only, by design (webhooks carry
 * them in between; docs/importing.md, "Deletions webhooks missed"): for those the incremental run
 * is expected to leave the deleted record live, and only its rows may differ from the full sync's.
 * The simulator has no way to create a collection: collections are updated and deleted here only.
 *
 * Found by this test: a deleted order's refunds, transactions and fulfillments stayed live through
 * their own runs, full or incremental (only the orders run's destroy-event probe tombstoned them),
 * so a tenant syncing them without orders, or between two orders runs, kept them. Their runs now
 * read the orders' destroy events (run.ts, `findDeletions`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportError, ImportResult } from '../../src/importer/index.js';
import { RESOURCES } from '../../src/resources/index.js';
import { tablesOf, type ChildTableDefinition, type ResourceDefinition } from '../../src/resources/definition.js';
import { parseShopifyJson } from '../../src/json.js';
import type { JsonObject } from '../../src/testing/generator.js';
import { createStore } from '../../src/store/index.js';
import { revealPayload } from '../../src/transform/index.js';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';

let h: Harness;
/** Both clocks (the importer's and the simulated Shopify's) run this far ahead of the wall clock: moved for time to pass. */
let clockOffsetMs = 0;
/** The simulated Shopify's clock runs this far from the importer's: moved to stamp a change at a chosen time. */
let stampOffsetMs = 0;
const importerClock = () => new Date(Date.now() + clockOffsetMs);
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000, regroupLines: 10 };
/** The default `safetyMarginMs` (docs/importing.md). */
const MARGIN_MS = 60_000;
beforeAll(async () => {
  h = await createHarness({
    timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ customers: 30, products: 16, orders: 80 }],
    clock: () => Date.now() + clockOffsetMs + stampOffsetMs,
  });
});
afterAll(async () => { await h?.close(); });

type Shop = Harness['sim']['shops'][number];
type Client = Awaited<ReturnType<typeof connectTenant>>['client'];

/**
 * More tenants reading the same shop (their rows are compared): a shop domain belongs to one tenant,
 * so these are registered under a domain of their own; the importer talks to the client's shop.
 */
async function addTenant(tenant: string): Promise<void> {
  await createStore(h.db.database).upsertTenant({ id: tenant, shopDomain: `${tenant.toLowerCase()}.myshopify.com`, accessTokenEnc: 'not-used-here' });
}

/** What a change did: the ids of records deleted at Shopify (their rows may be all that differs, see `reconcileOnly`). */
interface Changed { deleted: string[] }

/** Test-only ids (numbers, as the shop has no big ids), above the generator's children of order i (base + 16 i + k). */
let nextId = 0;
const testId = (base: number) => base + 500_000 + ++nextId;

const live = (shop: Shop, resource: 'customers' | 'products' | 'orders', from: number, n: number, where: (r: JsonObject) => boolean = () => true): JsonObject[] => {
  const out: JsonObject[] = [];
  for (let i = from; i < shop.tables[resource].size && out.length < n; i++) {
    const r = shop.find(resource, shop.idOf(resource, i));
    if (r && where(r)) out.push(r);
  }
  expect(out.length, `${resource} to change`).toBe(n);
  return out;
};
/** Now at the simulated Shopify, as its REST records write times. */
const later = () => new Date(Math.floor((Date.now() + clockOffsetMs + stampOffsetMs) / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const list = (o: JsonObject, field: string) => (o[field] as JsonObject[] | undefined) ?? [];

function newTransaction(o: JsonObject, kind: string, amount: string): JsonObject {
  const id = testId(6_800_000_000_000);
  return {
    id, admin_graphql_api_id: `gid://shopify/OrderTransaction/${id}`, order_id: o.id, amount, kind, status: 'success', gateway: 'manual',
    created_at: later(), processed_at: later(), parent_id: null, test: false, error_code: null,
  };
}
function newRefund(o: JsonObject): JsonObject {
  const id = testId(9_100_000_000_000);
  const li = list(o, 'line_items')[0];
  const money = (a: string) => ({ shop_money: { amount: a, currency_code: 'USD' }, presentment_money: { amount: a, currency_code: 'USD' } });
  return {
    id, admin_graphql_api_id: `gid://shopify/Refund/${id}`, created_at: later(), processed_at: later(), note: 'changed', order_id: o.id,
    order_adjustments: [], transactions: [newTransaction(o, 'refund', '0.01')],
    refund_line_items: li ? [{ id: testId(3_300_000_000_000), line_item_id: li.id, quantity: 1, restock_type: 'cancel', subtotal_set: money('0.01'), total_tax_set: money('0.00') }] : [],
  };
}
function newFulfillment(o: JsonObject): JsonObject {
  const id = testId(5_100_000_000_000);
  return {
    id, admin_graphql_api_id: `gid://shopify/Fulfillment/${id}`, created_at: later(), updated_at: later(), status: 'success', location_id: null,
    name: `${String(o.name)}.7`, tracking_company: 'UPS', tracking_number: `1Z${id}`, tracking_numbers: [`1Z${id}`], tracking_url: null, tracking_urls: [],
    shipment_status: null, line_items: list(o, 'line_items').slice(0, 1),
  };
}

/**
 * How each resource's records are changed at the simulated Shopify. `change` updates, creates and
 * deletes (enough records for several pages of `PAGE_SIZE`); `touch(k)` updates one record (the k-th
 * of a few), for the watermark check.
 */
const CHANGES: Record<string, { change(shop: Shop): Changed; touch(shop: Shop, k: number): void }> = {
  customers: {
    change(shop) {
      const [a, b, c, gone] = live(shop, 'customers', 1, 4);
      for (const r of [a, b, c]) shop.update('customers', r.id as number, { note: 'changed', first_name: 'Changed' });
      shop.create('customers', { first_name: 'New' });
      shop.create('customers', { first_name: 'Newer' });
      shop.delete('customers', gone.id as number);
      return { deleted: [String(gone.id)] };
    },
    touch(shop, k) { shop.update('customers', live(shop, 'customers', 10 + k, 1)[0].id as number, { note: `touched ${k}` }); },
  },
  products: {
    change(shop) {
      const [a, b, c, gone] = live(shop, 'products', 1, 4, (p) => list(p, 'variants').length > 1);
      shop.update('products', a.id as number, { title: 'Changed title', tags: 'vip, sale' });
      // A variant repriced, one removed (tombstoned), on another product.
      shop.update('products', b.id as number, (p) => ({ ...p, variants: list(p, 'variants').slice(0, -1).map((v, k) => (k === 0 ? { ...v, price: '12.34', updated_at: later() } : v)) }));
      shop.update('products', c.id as number, { vendor: 'Changed vendor' });
      shop.create('products', { title: 'New product' });
      shop.delete('products', gone.id as number);
      return { deleted: [String(gone.id)] };
    },
    touch(shop, k) { shop.update('products', live(shop, 'products', 8 + k, 1)[0].id as number, { title: `Touched ${k}` }); },
  },
  orders: {
    change(shop) {
      const [a, b, c, d, gone] = live(shop, 'orders', 1, 5, (o) => list(o, 'line_items').length > 1);
      shop.update('orders', a.id as number, { note: 'changed' });
      shop.update('orders', b.id as number, (o) => ({ ...o, line_items: list(o, 'line_items').slice(0, -1) }));
      shop.cancelOrder(c.id as number);
      shop.update('orders', d.id as number, { tags: 'changed' });
      shop.create('orders', { note: 'new' });
      shop.delete('orders', gone.id as number);
      return { deleted: [String(gone.id)] };
    },
    touch(shop, k) { shop.update('orders', live(shop, 'orders', 30 + k, 1)[0].id as number, { note: `touched ${k}` }); },
  },
  refunds: {
    change(shop) {
      const [a, b, c] = live(shop, 'orders', 10, 3);
      const [gone] = live(shop, 'orders', 13, 1, (o) => list(o, 'refunds').length > 0);
      const [cut] = live(shop, 'orders', 13, 1, (o) => o.id !== gone.id && list(o, 'refunds').length > 0 && list(list(o, 'refunds')[0], 'refund_line_items').length > 0);
      for (const o of [a, b, c]) shop.update('orders', o.id as number, (x) => ({ ...x, refunds: [...list(x, 'refunds'), newRefund(x)] }));
      // A refund's note changed and its line items emptied (Shopify does not, but the rows must follow the record).
      shop.update('orders', cut.id as number, (x) => ({ ...x, refunds: list(x, 'refunds').map((r, k) => (k === 0 ? { ...r, note: 'changed', refund_line_items: [] } : r)) }));
      shop.delete('orders', gone.id as number);
      return { deleted: [String(gone.id)] };
    },
    touch(shop, k) { shop.update('orders', live(shop, 'orders', 40 + k, 1)[0].id as number, (x) => ({ ...x, refunds: [...list(x, 'refunds'), newRefund(x)] })); },
  },
  transactions: {
    change(shop) {
      const [a, b, c] = live(shop, 'orders', 20, 3);
      const [gone] = live(shop, 'orders', 23, 1, (o) => list(o, 'transactions').length > 0);
      for (const o of [a, b, c]) shop.update('orders', o.id as number, (x) => ({ ...x, transactions: [...list(x, 'transactions'), newTransaction(x, 'capture', '1.00')] }));
      shop.delete('orders', gone.id as number);
      return { deleted: [String(gone.id)] };
    },
    touch(shop, k) { shop.update('orders', live(shop, 'orders', 45 + k, 1)[0].id as number, (x) => ({ ...x, transactions: [...list(x, 'transactions'), newTransaction(x, 'capture', '2.00')] })); },
  },
  fulfillments: {
    change(shop) {
      const [a, b] = live(shop, 'orders', 26, 2);
      const [moved] = live(shop, 'orders', 28, 1, (o) => list(o, 'fulfillments').length > 0);
      const [gone] = live(shop, 'orders', 28, 1, (o) => o.id !== moved.id && list(o, 'fulfillments').length > 0);
      for (const o of [a, b]) shop.update('orders', o.id as number, (x) => ({ ...x, fulfillments: [...list(x, 'fulfillments'), newFulfillment(x)] }));
      shop.update('orders', moved.id as number, (x) => ({ ...x, fulfillments: list(x, 'fulfillments').map((f) => ({ ...f, tracking_company: 'FedEx', updated_at: later() })) }));
      shop.delete('orders', gone.id as number);
      return { deleted: [String(gone.id)] };
    },
    touch(shop, k) { shop.update('orders', live(shop, 'orders', 50 + k, 1)[0].id as number, (x) => ({ ...x, fulfillments: [...list(x, 'fulfillments'), newFulfillment(x)] })); },
  },
  shop: {
    change(shop) { shop.stock.renameShop('Renamed shop'); return { deleted: [] }; },
    touch(shop, k) { shop.stock.renameShop(`Touched shop ${k}`); },
  },
  locations: {
    change(shop) {
      const [first, second, third] = shop.stock.locationIds();
      shop.stock.renameLocation(first, 'Renamed warehouse');
      shop.stock.deactivateLocation(second);
      shop.stock.createLocation();
      shop.stock.createLocation();
      shop.stock.deactivateLocation(third);
      shop.stock.deleteLocation(third);
      return { deleted: [String(third)] };
    },
    touch(shop, k) { shop.stock.renameLocation(shop.stock.locationIds()[k], `Touched ${k}`); },
  },
  inventory: {
    change(shop) {
      const items = shop.stock.itemIds();
      const locations = shop.stock.locationIds();
      // Quantities change without the item's updatedAt (the reason inventory is listed whole).
      shop.stock.adjustQuantity(items[0], shop.stock.levelsOf(items[0])[0], 'available', -2);
      const unstocked = items.find((i) => locations.some((l) => !shop.stock.levelsOf(i).includes(l)))!;
      shop.stock.connect(unstocked, locations.find((l) => !shop.stock.levelsOf(unstocked).includes(l))!, 5);
      const multi = items.find((i) => i !== unstocked && shop.stock.levelsOf(i).length > 1)!;
      shop.stock.disconnect(multi, shop.stock.levelsOf(multi).at(-1)!);
      shop.stock.updateItem(items[3], { cost: '9.99', sku: 'CHANGED' });
      shop.stock.deleteItem(items[4]);
      return { deleted: [String(items[4])] };
    },
    touch(shop, k) { shop.stock.updateItem(shop.stock.itemIds()[6 + k], { sku: `TOUCHED-${k}` }); },
  },
  collections: {
    // The simulator has no helper to create a collection: creations are not covered here.
    change(shop) {
      const [first, second, third] = shop.stock.collectionIds();
      shop.stock.retitleCollection(first, 'Retitled');
      const product = live(shop, 'products', 0, 1, (p) => !shop.stock.productsOf(second).includes(BigInt(p.id as number)))[0];
      shop.stock.addProduct(second, BigInt(product.id as number));
      // A smart collection's members follow the products' tags, its updatedAt stays.
      const smart = shop.stock.collectionIds().at(-1)!;
      const tag = /Tagged (\w+)/.exec(JSON.stringify(shop.stock.node(`gid://shopify/Collection/${smart}`)))?.[1] ?? 'eco';
      shop.update('products', live(shop, 'products', 2, 1)[0].id as number, (p) => ({ ...p, tags: `${String(p.tags ?? '')}, ${tag}` }));
      shop.stock.deleteCollection(third);
      return { deleted: [String(third)] };
    },
    touch(shop, k) { shop.stock.retitleCollection(shop.stock.collectionIds()[k], `Touched ${k}`); },
  },
  metafields: {
    change(shop) {
      const products = live(shop, 'products', 0, 6);
      const withOne = products.find((p) => shop.metafields.list('Product', BigInt(p.id as number)).length > 0)!;
      const [m] = shop.metafields.list('Product', BigInt(withOne.id as number));
      shop.metafields.remove('Product', BigInt(withOne.id as number), m.namespace, m.key);
      for (const p of products.slice(0, 3)) shop.metafields.set('Product', BigInt(p.id as number), 'custom', 'changed', 'single_line_text_field', 'yes');
      const [customer] = live(shop, 'customers', 0, 1);
      shop.metafields.set('Customer', BigInt(customer.id as number), 'custom', 'tier', 'single_line_text_field', 'gold');
      const [order] = live(shop, 'orders', 0, 1);
      shop.metafields.set('Order', BigInt(order.id as number), 'custom', 'gift', 'boolean', 'true');
      shop.metafields.set('Shop', `gid://shopify/Shop/${548_380_009 + shop.shopNumber}`, 'custom', 'motto', 'single_line_text_field', 'changed');
      // Metafield ids are not their owners': nothing deleted at the owner level.
      return { deleted: [] };
    },
    touch(shop, k) { shop.metafields.set('Product', BigInt(live(shop, 'products', k, 1)[0].id as number), 'custom', 'touched', 'single_line_text_field', `t${k}`); },
  },
  discounts: {
    change(shop) {
      const ids = shop.discounts.ids();
      const code = ids.find((id) => shop.discounts.typeOf(id).startsWith('DiscountCode') && shop.discounts.codesOf(id).length > 1)!;
      shop.discounts.retitle(ids.find((id) => id !== code)!, 'Retitled');
      shop.discounts.addCodes(code, 3);
      shop.discounts.removeCodes(code, shop.discounts.codesOf(code).slice(0, 1));
      shop.discounts.create(shop.discounts.typeOf(code), 2);
      shop.discounts.create('DiscountAutomaticBasic', 0);
      const gone = ids.filter((id) => id !== code).at(-1)!;
      shop.discounts.remove(gone);
      return { deleted: [String(gone)] };
    },
    touch(shop, k) { shop.discounts.retitle(shop.discounts.ids()[k], `Touched ${k}`); },
  },
  draftOrders: {
    change(shop) {
      const [a, b, c, gone] = shop.drafts.draftIds();
      shop.drafts.updateDraft(a, { note: 'changed', addLine: true });
      shop.drafts.updateDraft(b, { removeLine: true, quantity: 3 });
      shop.drafts.sendInvoice(c);
      shop.drafts.createDraft();
      // With a destroy event (Shopify's documentation does not say it records one; reconciliation covers full syncs).
      shop.drafts.deleteDraft(gone, { event: true });
      return { deleted: [String(gone)] };
    },
    touch(shop, k) { shop.drafts.updateDraft(shop.drafts.draftIds()[k], { note: `touched ${k}` }); },
  },
  abandonedCheckouts: {
    change(shop) {
      const [a, b, c, gone] = shop.drafts.checkoutIds();
      shop.drafts.updateCheckout(a, { quantity: 4 });
      shop.drafts.updateCheckout(b, { removeLine: true });
      shop.drafts.recoverCheckout(c);
      shop.drafts.createCheckout();
      shop.drafts.abandon(shop.drafts.createCheckout({ abandoned: false }));
      shop.drafts.deleteCheckout(gone);
      return { deleted: [String(gone)] };
    },
    touch(shop, k) { shop.drafts.updateCheckout(shop.drafts.checkoutIds()[k], { quantity: 10 + k }); },
  },
};

const definitionOf = (name: string) => RESOURCES.find((r) => r.name === name) as unknown as ResourceDefinition;
/** Deletions only a full sync's id reconciliation finds (no destroy events): an incremental run leaves the record live. */
const reconcileOnly = (d: ResourceDefinition) => d.deletions.eventSubjectType === null && d.deletions.reconcileIds;

/**
 * A tenant's rows of a resource, comparable across tenants and runs: every column but the tenant,
 * `synced_at`, the bulk operation's `sync_tag` and the tombstone (tombstoned rows are left out); PII
 * decrypted, the tenant-keyed email blind index left out, payloads revealed.
 */
async function image(tenant: string, definition: ResourceDefinition): Promise<Record<string, Record<string, Record<string, unknown>>>> {
  const out: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const { table, conflict } of tablesOf(definition)) {
    const columns = (await h.db.query<{ c: string }>(`SELECT column_name AS c FROM information_schema.columns WHERE table_name = $1`, [table])).map((r) => r.c);
    const tombstoned = columns.includes('deleted_at') ? 'AND deleted_at IS NULL' : '';
    const payload = columns.includes('payload') ? ', payload::text AS payload' : '';
    const rows = await h.db.query<Record<string, unknown>>(`SELECT *${payload} FROM ${table} WHERE tenant_id = $1 ${tombstoned}`, [tenant]);
    const byKey: Array<[string, Record<string, unknown>]> = rows.map((row) => {
      const clean: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) {
        if (['tenant_id', 'synced_at', 'sync_tag', 'deleted_at'].includes(k) || k.endsWith('_hash')) continue;
        if (k.endsWith('_enc')) clean[k] = v === null ? null : h.keyRing.decrypt(String(v), tenant);
        else if (k === 'payload' && typeof v === 'string') {
          // The payload is the record as it was listed, and listings differ in two ways that are not
          // data: a bulk query selects `__typename` on every node (to tell a file's lines apart), a
          // page query does not; a paged record carries its nested connections (`variants { nodes }`),
          // a bulk file's record does not (its children are lines of their own). Both are left out:
          // the children are compared as rows of their tables.
          const { __typename: _type, ...rest } = revealPayload(parseShopifyJson(v), tenant, h.keyRing) as Record<string, unknown>;
          for (const c of definition.graphql.connections) delete rest[c.field];
          clean[k] = rest;
        } else clean[k] = typeof v === 'bigint' ? v.toString() : v;
      }
      return [conflict.map((c) => String(row[c])).join(':'), clean];
    });
    out[table] = Object.fromEntries(byKey.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  // Rows of a tombstoned record's children (an order's line items and events) stay as they were; a
  // full sync of a shop without the record has none: only children of live parents are compared.
  for (const table of tablesOf(definition)) {
    if (!('parent' in table)) continue;
    const child = table as ChildTableDefinition;
    const parent = tablesOf(definition).find((t) => t.key === child.parent)!;
    const by = child.parentKey ?? [];
    const live = new Set(Object.values(out[parent.table]).map((row) => JSON.stringify([...by.map((k) => row[k]), row.id])));
    out[child.table] = Object.fromEntries(Object.entries(out[child.table]).filter(([, row]) => live.has(JSON.stringify([...by.map((k) => row[k]), row[child.parentColumn]]))));
  }
  return out;
}
type Image = Awaited<ReturnType<typeof image>>;

/** Empties a tenant's tables and checkpoint of a resource and runs a full sync: what a fresh full sync of the shop stores. */
async function freshFull(client: Client, tenant: string, name: string): Promise<Image> {
  const definition = definitionOf(name);
  for (const { table } of [...tablesOf(definition)].reverse()) await h.db.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenant]);
  await h.db.query(`DELETE FROM shopify_sync_checkpoints WHERE tenant_id = $1 AND resource = $2`, [tenant, name]);
  const full = await importer(h, client, tenant, { bulk: BULK, clock: importerClock }).importResource(name as never, { mode: 'full' });
  expect(full, JSON.stringify(full.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'full' });
  return image(tenant, definition);
}

/**
 * The incremental image equals the full sync's, but for rows of records whose deletion only a full
 * sync can find (`reconcileOnly`): those are still live after the incremental run, as documented.
 */
function expectSameRows(actual: Image, expected: Image, definition: ResourceDefinition, changed: Changed, label: string): void {
  if (!reconcileOnly(definition) || changed.deleted.length === 0) { expect(actual, label).toEqual(expected); return; }
  const references = (row: Record<string, unknown>) => changed.deleted.some((id) => Object.values(row).map(String).includes(id));
  const rootTable = tablesOf(definition)[0].table;
  for (const id of changed.deleted) expect(Object.values(actual[rootTable]).some((row) => String(row.id) === id), `${label}: ${id} deleted at Shopify stays live until a full sync`).toBe(true);
  const kept: Image = {};
  for (const [table, rows] of Object.entries(actual)) {
    kept[table] = Object.fromEntries(Object.entries(rows).filter(([key, row]) => key in expected[table] || !references(row)));
  }
  expect(kept, label).toEqual(expected);
}

async function watermarkOf(tenant: string, name: string): Promise<Date | null> {
  const [row] = await h.db.query<{ watermark: Date | null }>(`SELECT watermark FROM shopify_sync_checkpoints WHERE tenant_id = $1 AND resource = $2`, [tenant, name]);
  return row?.watermark ?? null;
}
/** docs/importing.md, `safetyMarginMs`: the watermark stays at least that far behind the run's start. */
async function expectWatermarkBehind(tenant: string, name: string, run: ImportResult): Promise<void> {
  const watermark = await watermarkOf(tenant, name);
  expect(watermark, `${name} watermark after a ${run.mode} run`).not.toBeNull();
  expect(watermark!.getTime(), `${name} watermark after a ${run.mode} run started at ${run.startedAt.toISOString()}`).toBeLessThanOrEqual(run.startedAt.getTime() - MARGIN_MS);
}

/** Runs `fn` with the simulated Shopify's clock at `at`: what it changes is stamped then. */
function stampedAt(at: number, fn: () => void): void {
  stampOffsetMs = at - importerClock().getTime();
  try { fn(); } finally { stampOffsetMs = 0; }
}

const PAGE_SIZE = 2;
const NAMES = RESOURCES.map((r) => r.name);

describe('incremental syncs, for every resource', { timeout: 240_000 }, () => {
  it('every resource has a change here', () => {
    expect(Object.keys(CHANGES).sort()).toEqual([...NAMES].sort());
  });

  it.each(NAMES)('%s: an incremental run (stopped and resumed, or not) stores what a full sync of the changed shop stores; the watermark stays behind the safety margin', async (name) => {
    const definition = definitionOf(name);
    const singleton = definition.graphql.singleton === true;
    // One tenant per role, for every resource: each resource has its own tables and checkpoint.
    const [plain, stopped, reference] = ['inc', 'stop', 'ref'];
    const { client, shop } = await connectTenant(h, plain, 0);
    for (const tenant of [stopped, reference]) await addTenant(tenant);
    const service = (tenant: string) => importer(h, client, tenant, { bulk: BULK, clock: importerClock });

    // Both tenants start from a full sync of the shop as it was.
    let listed = 0;
    for (const tenant of [plain, stopped]) {
      const full = await service(tenant).importResource(name, { mode: 'full' });
      expect(full, JSON.stringify(full.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'full' });
      await expectWatermarkBehind(tenant, name, full);
      listed = full.fetched;
    }
    const before = await image(plain, definition);
    expect(Object.keys(before[tablesOf(definition)[0].table]).length, 'the shop has records of this resource').toBeGreaterThan(singleton ? 0 : 2);

    // 1. Records change at Shopify; an incremental run (pages unless Shopify counts more than bulkThreshold).
    const changed = CHANGES[name].change(shop);
    const incremental = await service(plain).importResource(name, { mode: 'incremental' });
    expect(incremental, JSON.stringify(incremental.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'incremental', failed: 0 });
    await expectWatermarkBehind(plain, name, incremental);
    // Pages (Shopify counts far fewer changes than bulkThreshold), but for a connection listed whole
    // that has no count query (inventory items): a bulk operation. Only what changed is listed, unless
    // the resource is listed whole.
    const whole = definition.graphql.incremental === 'everything' || singleton;
    expect(incremental.method).toBe(whole && !definition.graphql.count && !singleton ? 'bulk' : 'pages');
    if (!whole) expect(incremental.fetched, 'records listed by the incremental run').toBeLessThan(listed);
    const afterIncremental = await image(plain, definition);
    expect(afterIncremental, 'the incremental run changed something').not.toEqual(before);
    const expected = await freshFull(client, reference, name);
    expectSameRows(afterIncremental, expected, definition, changed, 'incremental run vs full sync');

    // 2. The same incremental run stopped after its first committed batch, then run again: resumed.
    // The shop is one query: nothing to stop part-way.
    if (!singleton) {
      const controller = new AbortController();
      const stop = await service(stopped).importResource(name, {
        mode: 'incremental', pageSize: PAGE_SIZE, batchSize: 1, concurrency: 1, signal: controller.signal,
        onProgress: (p) => { if (p.imported >= 1) controller.abort(); },
      }).catch((e: ImportError) => e);
      expect(stop, 'the first run was stopped').toMatchObject({ code: 'IMPORT_ABORTED' });
      const resumed = await service(stopped).importResource(name, { pageSize: PAGE_SIZE });
      expect(resumed, JSON.stringify(resumed.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'incremental', resumed: true, failed: 0 });
      await expectWatermarkBehind(stopped, name, resumed);
      expectSameRows(await image(stopped, definition), expected, definition, changed, 'stopped and resumed incremental run vs full sync');
    }

    // 3. Without an overlap, the safety margin alone keeps what Shopify stamped near a run's start.
    // Time passes (what follows is stamped well after this test's changes); a record changes just
    // before the run, which lists it (the newest change it saw); then two records it did not see:
    // one stamped inside the margin before its start (Shopify's search index had not shown it yet;
    // not for the shop, a single record whose time cannot go back), one right after its start (its
    // listing had passed it).
    clockOffsetMs += 10 * 60_000;
    CHANGES[name].touch(shop, 0);
    const quiet = await service(plain).importResource(name, { mode: 'incremental', overlapMs: 0 });
    expect(quiet, JSON.stringify(quiet.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    await expectWatermarkBehind(plain, name, quiet);
    const start = quiet.startedAt.getTime();
    if (!singleton) stampedAt(start - MARGIN_MS / 2, () => CHANGES[name].touch(shop, 1));
    stampedAt(start + 1000, () => CHANGES[name].touch(shop, 2));
    const next = await service(plain).importResource(name, { mode: 'incremental', overlapMs: 0 });
    expect(next, JSON.stringify(next.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'incremental', failed: 0 });
    await expectWatermarkBehind(plain, name, next);
    expectSameRows(await image(plain, definition), await freshFull(client, reference, name), definition, changed, 'records stamped near the previous run\'s start');
  });
});
