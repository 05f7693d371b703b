/**
 * Bulk listings recover from what would otherwise stop them for good or drop records (found by
 * review, each test failing on the code before):
 * - a COMPLETED file shorter than `rootObjectCount` is listed again by a new operation (it failed
 *   every later run: the cursor kept naming the short file);
 * - a cursor naming an operation Shopify does not know is listed again (BULK_OPERATION_NOT_FOUND forever);
 * - a failed window with an open start is split with the start left open (the first record of a
 *   listing without a matching sort key was taken as the earliest, and older records were dropped).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyRing } from '../../src/crypto/index.js';
import { createImportService, type ImportError } from '../../src/importer/index.js';
import { getResource } from '../../src/resources/index.js';
import { createStore } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { FakeBulkShop, makeOrders } from './fake-bulk-shop.js';

const keyRing = createKeyRing({ key: randomBytes(32).toString('base64') });
let db: TestDatabase;
let shop: FakeBulkShop;
beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_bulk_recovery' });
  shop = new FakeBulkShop(makeOrders(40));
  await shop.listen();
}, 60_000);
afterAll(async () => {
  await shop?.close();
  await db?.drop();
});

let seq = 0;
async function tenant(): Promise<string> {
  const id = `recovery-${++seq}`;
  await createStore(db.database).upsertTenant({ id, shopDomain: `${id}.myshopify.com`, accessTokenEnc: 'x' });
  return id;
}
function importer(tenantId: string) {
  const client = { shopDomain: shop.shopDomain, graphql: shop.graphql.bind(shop), pages: async function* () { /* REST unused */ } };
  return createImportService(db.database, client, tenantId, { keyRing, sleep: async () => {}, bulk: { minPollMs: 1, maxPollMs: 2, minWindowMs: 60_000 } });
}
const stored = async (t: string) => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM shopify_orders WHERE tenant_id = $1 AND deleted_at IS NULL', [t]))[0].n;

describe('a short result file', () => {
  it('is listed again by a new operation within the run', async () => {
    const t = await tenant();
    const before = shop.starts;
    shop.outcomes.push({ status: 'COMPLETED', dropRoots: 35 });
    expect(await importer(t).importOrders({ mode: 'full' })).toMatchObject({ status: 'succeeded' });
    expect(shop.starts - before).toBe(2);
    expect(await stored(t)).toBe(40);
  });

  it('short every time: the run fails, and the next one starts a new operation', async () => {
    const t = await tenant();
    for (let i = 0; i < 3; i++) shop.outcomes.push({ status: 'COMPLETED', dropRoots: 35 });
    const first = await importer(t).importOrders({ mode: 'full' }).catch((e: ImportError) => e);
    expect(first).toMatchObject({ code: 'BULK_FILE_INCOMPLETE' });
    const before = shop.starts;
    expect(await importer(t).importOrders()).toMatchObject({ status: 'succeeded' });
    expect(shop.starts - before).toBe(1);
    expect(await stored(t)).toBe(40);
  });
});

it('a cursor naming an operation Shopify does not know lists the window again', async () => {
  const t = await tenant();
  const cursor = { v: 2, runId: 'old-run', mode: 'full', method: 'bulk', startedAt: '2026-05-01T00:00:00.000Z', maxUpdatedAt: null, field: 'created_at',
    windows: [[null, null]], attempts: 0, op: { id: 'gid://shopify/BulkOperation/999999', tag: 'bulk:999999', line: 0, byte: 0, roots: 0 } };
  await createStore(db.database).saveCheckpoint(t, 'orders', { cursor: JSON.stringify(cursor), runId: 'old-run' });
  expect(await importer(t).importOrders()).toMatchObject({ status: 'succeeded', resumed: true });
  expect(await stored(t)).toBe(40);
});

it('a failed window with an open start is split with the start left open', async () => {
  // Orders given the listing properties of inventoryItems (src/resources/inventory.ts): no updated_at
  // sort key, listed whole by incremental runs. The first record by id is then not the earliest.
  const g = getResource('orders').graphql as { updatedAtSortKey: string | null; incremental?: string };
  const saved = { updatedAtSortKey: g.updatedAtSortKey, incremental: g.incremental };
  g.updatedAtSortKey = null;
  g.incremental = 'everything';
  try {
    const t = await tenant();
    expect(await importer(t).importOrders({ mode: 'full' })).toMatchObject({ status: 'succeeded' });
    shop.orders[0].updatedAt = '2026-05-30T00:00:00Z'; // the lowest id edited lately
    const items = (shop.orders[20].lineItems as { nodes: Array<Record<string, unknown>> }).nodes;
    items[0].title = 'CHANGED'; // another order's child changed without its updatedAt moving
    shop.outcomes.push({ status: 'FAILED', errorCode: 'TIMEOUT' });
    const run = await importer(t).importOrders({ mode: 'incremental', bulkThreshold: 1 });
    expect(run).toMatchObject({ status: 'succeeded' });
    expect(run.fetched).toBeGreaterThanOrEqual(40);
    const [{ n }] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_order_line_items WHERE tenant_id = $1 AND title = 'CHANGED'`, [t]);
    expect(n).toBe(1);
  } finally {
    Object.assign(g, saved);
  }
});
