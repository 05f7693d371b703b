/**
 * The bulk listing's state machine against a scripted Shopify (every status and error it documents),
 * writing into real PostgreSQL. The same paths run against the simulator in the integration tests.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKeyRing } from '../../src/crypto/index.js';
import { createImportService, type ImportError } from '../../src/importer/index.js';
import { bulkQuery } from '../../src/importer/queries.js';
import { getResource } from '../../src/resources/index.js';
import { createStore } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { FakeBulkShop, makeOrders } from './fake-bulk-shop.js';

const keyRing = createKeyRing({ key: randomBytes(32).toString('base64') });
let db: TestDatabase;
let shop: FakeBulkShop;
let seq = 0;

beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_bulk' }); }, 60_000);
afterAll(async () => { await db?.drop(); });
beforeEach(async () => {
  await shop?.close();
  shop = new FakeBulkShop(makeOrders(40));
  await shop.listen();
});

async function tenant(): Promise<string> {
  const id = `bulk-${++seq}`;
  await createStore(db.database).upsertTenant({ id, shopDomain: `${id}.myshopify.com`, accessTokenEnc: 'x' });
  return id;
}

function importer(tenantId: string, bulk: { regroupLines?: number } = {}) {
  const client = { shopDomain: shop.shopDomain, graphql: shop.graphql.bind(shop), pages: async function* () { /* REST unused */ } };
  return createImportService(db.database, client, tenantId, {
    keyRing, sleep: async () => {},
    bulk: { worker, minPollMs: 1, maxPollMs: 2, minWindowMs: 60_000, ...bulk },
  });
}

const lineItems = async (t: string) => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM shopify_order_line_items WHERE tenant_id = $1', [t]))[0].n;
const orders = async (t: string) => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM shopify_orders WHERE tenant_id = $1 AND deleted_at IS NULL', [t]))[0].n;
const expectedItems = () => shop.orders.reduce((n, o) => n + (o.lineItems as { nodes: unknown[] }).nodes.length, 0);

// Every scenario with the file read in the worker thread (the default) and in the calling thread.
let worker = true;

describe.each([{ worker: true }, { worker: false }])('bulk backfill against a scripted Shopify (%o)', (mode) => {
  beforeAll(() => { worker = mode.worker; });

  it('copies a first backfill straight into the tables; a second full sync is refused three times, then upserted without trying', async () => {
    const t = await tenant();
    const store = createStore(db.database);
    const calls: Array<{ direct: boolean; written: boolean | undefined }> = [];
    const finalizes: Array<{ walked: boolean; removed: Record<string, number> }> = [];
    const spy = { ...store, writeRows: async (...args: Parameters<typeof store.writeRows>) => {
      const r = await store.writeRows(...args);
      calls.push({ direct: args[3]?.direct === true, written: r.direct });
      return r;
    }, finalizeBulk: async (...args: Parameters<typeof store.finalizeBulk>) => {
      const done = await store.finalizeBulk(...args);
      finalizes.push({ walked: args[3]?.newParents === undefined, removed: done.removed });
      return done;
    } };
    const client = { shopDomain: shop.shopDomain, graphql: shop.graphql.bind(shop), pages: async function* () { /* REST unused */ } };
    const service = createImportService(db.database, client, t, { keyRing, sleep: async () => {}, store: spy, bulk: { worker, minPollMs: 1, maxPollMs: 2, minWindowMs: 60_000 } });
    expect(await service.importOrders({ mode: 'full', batchSize: 5, concurrency: 1 })).toMatchObject({ status: 'succeeded', imported: 40 });
    // 40 orders in batches of 5, each order with the line items it waited for (regroup.ts).
    expect(calls.length).toBeGreaterThanOrEqual(8);
    expect(calls.every((c) => c.direct && c.written === true)).toBe(true);
    const image = () => db.query(`SELECT o.id::text, o.line_item_count, o.total_price::text, (SELECT count(*)::int FROM shopify_order_line_items l WHERE l.tenant_id = o.tenant_id AND l.order_id = o.id) AS lines
      FROM shopify_orders o WHERE o.tenant_id = $1 ORDER BY o.id`, [t]);
    const first = await image();
    expect(await lineItems(t)).toBe(expectedItems());
    calls.length = 0;
    expect(await service.importOrders({ mode: 'full', batchSize: 5, concurrency: 1 })).toMatchObject({ status: 'succeeded', imported: 40 });
    expect(calls.slice(0, 3)).toEqual([{ direct: true, written: false }, { direct: true, written: false }, { direct: true, written: false }]);
    expect(calls.slice(3).every((c) => !c.direct && c.written === undefined)).toBe(true);
    expect(await image()).toEqual(first);
    // The first file's orders were all new: no walk for line items gone; the second's were stored: walked.
    expect(finalizes.map((f) => f.walked)).toEqual([false, true]);
    // A third full sync after Shopify dropped a line item of one order: walked, and the item is gone.
    const order = shop.orders[3] as { lineItems: { nodes: unknown[] } };
    order.lineItems.nodes.pop();
    expect(await service.importOrders({ mode: 'full', batchSize: 5, concurrency: 1 })).toMatchObject({ status: 'succeeded', imported: 40 });
    expect(finalizes[2]).toEqual({ walked: true, removed: { lineItems: 1 } });
    expect(await lineItems(t)).toBe(expectedItems());
  });

  it('writes a file whose children come long after their parents exactly as the pages would; line_item_count right with or without the regroup window', async () => {
    // Every order line first, then every line item, reversed: an order's items 40-140 lines after it.
    const finalized: Array<Record<string, number>> = [];
    const walked: boolean[] = [];
    const withWindow = async (regroupLines: number | undefined) => {
      const t = await tenant();
      const store = createStore(db.database);
      const spy = { ...store, finalizeBulk: async (...args: Parameters<typeof store.finalizeBulk>) => {
        const done = await store.finalizeBulk(...args);
        finalized.push(done.recounted);
        walked.push(args[3]?.newParents === undefined);
        return done;
      } };
      const client = { shopDomain: shop.shopDomain, graphql: shop.graphql.bind(shop), pages: async function* () { /* REST unused */ } };
      const service = createImportService(db.database, client, t, { keyRing, sleep: async () => {}, store: spy, bulk: { worker, minPollMs: 1, maxPollMs: 2, minWindowMs: 60_000, regroupLines } });
      expect(await service.importOrders({ mode: 'full', batchSize: 7 })).toMatchObject({ status: 'succeeded', method: 'bulk', fetched: 40, imported: 40 });
      return t;
    };
    // The default window holds each order until its items have passed: written once, with its count.
    const viaBulk = await withWindow(undefined);
    // A window of 60 lines catches the items of some orders; without one, every order is recounted after the file.
    const partly = await withWindow(60);
    const none = await withWindow(0);
    expect(finalized[0]).toEqual({ lineItems: 0 });
    expect(finalized[1].lineItems).toBeGreaterThan(0);
    expect(finalized[1].lineItems).toBeLessThan(40);
    expect(finalized[2]).toEqual({ lineItems: 40 });
    // A first backfill, every batch copied into empty tables: no walk over the orders for gone line items.
    expect(walked).toEqual([false, false, false]);
    expect(await lineItems(viaBulk)).toBe(expectedItems());
    // The same orders written whole (as a page or webhook would) give the same line item rows.
    const viaRows = await tenant();
    const t = (await import('../../src/transform/index.js')).ShopifyTransformer;
    const transformer = new t({ keyRing });
    const store = createStore(db.database);
    for (const order of shop.orders) await store.writeRows(viaRows, 'orders', transformer.toRows('orders', order, viaRows));
    const image = (tenantId: string) => db.query(`SELECT id::text, order_id::text, title, sku, quantity, price::text, fulfillment_status FROM shopify_order_line_items WHERE tenant_id = $1 ORDER BY id`, [tenantId]);
    expect(await image(viaBulk)).toEqual(await image(viaRows));
    const counts = (tenantId: string) => db.query(`SELECT id::text, line_item_count FROM shopify_orders WHERE tenant_id = $1 ORDER BY id`, [tenantId]);
    expect(await counts(viaBulk)).toEqual(await counts(viaRows));
    expect(await counts(partly)).toEqual(await counts(viaRows));
    expect(await counts(none)).toEqual(await counts(viaRows));
    expect(await image(partly)).toEqual(await image(viaRows));
    expect(shop.starts).toBe(3);
  });

  it('COMPLETED with url null means no records, and the run succeeds', async () => {
    const t = await tenant();
    shop.outcomes.push({ status: 'COMPLETED', emptyUrl: true });
    const r = await importer(t).importOrders({ mode: 'full' });
    expect(r).toMatchObject({ status: 'succeeded', fetched: 0 });
  });

  it('a file with fewer records than rootObjectCount, every attempt, fails the run (BULK_FILE_INCOMPLETE)', async () => {
    const t = await tenant();
    // One short file is listed again (bulk-recovery.test.ts); three in a row fail the run.
    for (let i = 0; i < 3; i++) shop.outcomes.push({ status: 'COMPLETED', dropRoots: 35 });
    const error = await importer(t).importOrders({ mode: 'full' }).catch((e: ImportError) => e);
    expect(error).toMatchObject({ code: 'BULK_FILE_INCOMPLETE' });
  });

  it('FAILED with TIMEOUT: partial data is stored, the window is split and both halves complete it', async () => {
    const t = await tenant();
    shop.outcomes.push({ status: 'FAILED', errorCode: 'TIMEOUT', partialRoots: 10 });
    const r = await importer(t).importOrders({ mode: 'full' });
    expect(r.status).toBe('succeeded');
    expect(shop.starts).toBe(3);
    const queries = [...shop.ops.values()].map((o) => o.query);
    // The first half keeps the window's open start; the second starts at the midpoint.
    expect(queries[1]).toMatch(/created_at:<='.*'/);
    expect(queries[1]).not.toMatch(/created_at:>=/);
    expect(queries[2]).toMatch(/created_at:>='.*'/);
    expect(await orders(t)).toBe(40);
    expect(await lineItems(t)).toBe(expectedItems());
  });

  it('ACCESS_DENIED for a missing scope is a typed error naming it, with no retry', async () => {
    const t = await tenant();
    shop.scopes = ['read_products'];
    shop.outcomes.push({ status: 'FAILED', errorCode: 'ACCESS_DENIED' });
    const error = await importer(t).importOrders({ mode: 'full' }).catch((e: ImportError) => e) as ImportError;
    expect(error).toMatchObject({ code: 'SHOPIFY_ACCESS_DENIED' });
    expect(error.message).toContain('read_orders');
    expect(shop.starts).toBe(1);
  });

  it('ACCESS_DENIED with every scope granted (protected customer data): listed by pages, withheld fields null and named', async () => {
    const t = await tenant();
    shop.outcomes.push({ status: 'FAILED', errorCode: 'ACCESS_DENIED' });
    const r = await importer(t).importOrders({ mode: 'full' });
    expect(r.status).toBe('succeeded');
    expect(await orders(t)).toBe(40);
    expect(r.warnings.join(' ')).toMatch(/withheld protected customer data \(email\)/);
    expect((await db.query('SELECT count(*)::int AS n FROM shopify_orders WHERE tenant_id = $1 AND email_enc IS NOT NULL', [t]))[0].n).toBe(0);
  });

  it('CANCELED (by Shopify) and EXPIRED operations are run again; a link that expired too; a bounded number of times', async () => {
    const t = await tenant();
    shop.outcomes.push({ status: 'CANCELED' }, { status: 'EXPIRED' });
    expect((await importer(t).importOrders({ mode: 'full' })).status).toBe('succeeded');
    expect(shop.starts).toBe(3);
    expect(shop.cancels).toBe(0);
    const u = await tenant();
    shop.outcomes.push({ status: 'COMPLETED_EXPIRED_LINK' }, { status: 'CANCELED' }, { status: 'CANCELED' });
    const error = await importer(u).importOrders({ mode: 'full' }).catch((e: ImportError) => e);
    expect(error).toMatchObject({ code: 'BULK_OPERATION_FAILED' });
  });

  it('waits while the shop is at its bulk-operation limit (the host app may run its own), never cancelling', async () => {
    const t = await tenant();
    shop.limitReached = 3;
    expect((await importer(t).importOrders({ mode: 'full' })).status).toBe('succeeded');
    expect(shop.starts).toBe(4);
    expect(shop.cancels).toBe(0);
  });

  it('re-attaches to a running operation of the same query instead of starting a second one', async () => {
    const t = await tenant();
    shop.preexisting(bulkQuery(getResource('orders'), null));
    expect((await importer(t).importOrders({ mode: 'full' })).status).toBe('succeeded');
    expect(shop.starts).toBe(0);
    expect(await orders(t)).toBe(40);
  });

  // Orders wait up to 10 lines for their line items (the default window would hold this whole small
  // file). Stopped after 15 orders: among orders only; after 32: near the last orders, where the
  // first line items start to pass (the positions themselves are checked in regroup.test.ts).
  it.each([15, 32])('resumes a file from the committed line with a Range request, without a second operation (stopped after %i orders)', async (stopAfter) => {
    const t = await tenant();
    const controller = new AbortController();
    const first = await importer(t, { regroupLines: 10 }).importOrders({ mode: 'full', batchSize: 5, concurrency: 1, signal: controller.signal, onProgress: (p) => { if (p.imported >= stopAfter) controller.abort(); } }).catch((e: ImportError) => e);
    expect(first).toMatchObject({ code: 'IMPORT_ABORTED' });
    const again = await importer(t, { regroupLines: 10 }).importOrders();
    expect(again).toMatchObject({ status: 'succeeded', mode: 'full', resumed: true });
    expect(shop.starts).toBe(1);
    expect(shop.fileRequests.at(-1)).toMatch(/^bytes=\d+-$/);
    expect(await orders(t)).toBe(40);
    expect(await lineItems(t)).toBe(expectedItems());
  });
});
