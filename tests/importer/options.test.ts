import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, createStore } from '../../src/store/index.js';
import { createImportService, ImportError } from '../../src/importer/index.js';
import { connectTenant, createHarness, importer, shopRecords, storedRecords, type Harness } from './harness.js';

/** These tests are about the options, on the legacy REST source (the GraphQL engine has its own). */
const REST = { defaults: { source: 'rest' as const } };

const SIZES = { customers: 80, products: 30, orders: 200 };
const SHOPS = 5;
let h: Harness;
beforeAll(async () => { h = await createHarness({ shops: Array.from({ length: SHOPS }, () => ({ ...SIZES })) }); });
afterAll(async () => { await h?.close(); });

const count = async (table: string, tenantId: string) =>
  Number((await h.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = $1`, [tenantId]))[0].n);

describe('import options against the simulator and PostgreSQL', { timeout: 120_000 }, () => {
  it('dryRun fetches and transforms everything but writes nothing at all', async () => {
    const { client } = await connectTenant(h, 'dry');
    const result = await importer(h, client, 'dry', REST).importAll({ dryRun: true, batchSize: 10 });
    expect(result.orders).toMatchObject({ dryRun: true, status: 'succeeded', fetched: SIZES.orders, imported: SIZES.orders, failed: 0 });
    expect(result.customers.fetched).toBe(SIZES.customers);
    for (const table of ['shopify_customers', 'shopify_products', 'shopify_product_variants', 'shopify_orders', 'shopify_order_line_items', 'shopify_order_events', 'shopify_sync_runs', 'shopify_sync_checkpoints', 'shopify_sync_failures']) {
      expect(await count(table, 'dry'), table).toBe(0);
    }
    const [tenant] = await h.db.query(`SELECT sync_status, last_sync_at FROM shopify_tenants WHERE id = 'dry'`);
    expect(tenant).toMatchObject({ sync_status: 'idle', last_sync_at: null });
  });

  it('a record that cannot be transformed is recorded as a failure with its id and reason; the rest is imported', async () => {
    const { client, shop } = await connectTenant(h, 'bad', 1);
    const badId = shop.idOf('orders', 17);
    // A value in the wrong field may be PII: the reason describes it, never repeats it.
    shop.update('orders', badId, { total_price: 'jane.doe@example.com Jane Doe' });
    const result = await importer(h, client, 'bad', REST).importOrders({ batchSize: 50 });
    expect(result).toMatchObject({ status: 'succeeded', fetched: SIZES.orders, imported: SIZES.orders - 1, failed: 1, errors: 1 });
    const failures = await h.db.query(`SELECT run_id, resource, shopify_id::text AS shopify_id, reason FROM shopify_sync_failures WHERE tenant_id = 'bad'`);
    expect(failures).toEqual([{ run_id: result.runId, resource: 'orders', shopify_id: String(badId), reason: expect.stringMatching(/total_price is not a decimal amount \(29 characters: letters, other characters\)/) }]);
    expect(failures[0].reason).not.toMatch(/jane|doe|example/i);
    const [run] = await h.db.query(`SELECT status, failed, imported FROM shopify_sync_runs WHERE id = $1`, [result.runId]);
    expect(run).toMatchObject({ status: 'succeeded', failed: 1, imported: SIZES.orders - 1 });
    const stored = await storedRecords(h, 'bad', 'orders');
    expect(stored.has(String(badId))).toBe(false);
    expect(stored.size).toBe(SIZES.orders - 1);
  });

  it('skipExisting leaves stored records alone and counts them as skipped', async () => {
    const { client, shop } = await connectTenant(h, 'skip', 2);
    const service = importer(h, client, 'skip', REST);
    await service.importCustomers({ dateRange: { to: String(shop.find('customers', shop.idOf('customers', 39))!.updated_at) } });
    const before = await storedRecords(h, 'skip', 'customers');
    expect(before.size).toBe(40);
    const changedId = String(shop.idOf('customers', 5));
    shop.update('customers', changedId, { note: 'changed after the first import' });
    const result = await service.importCustomers({ mode: 'full', skipExisting: true });
    expect(result).toMatchObject({ fetched: SIZES.customers, skipped: 40, imported: SIZES.customers - 40 });
    const after = await storedRecords(h, 'skip', 'customers');
    expect(after.get(changedId)).toEqual(before.get(changedId));
    expect(after.size).toBe(SIZES.customers);
    // Without skipExisting the change is picked up.
    await service.importCustomers({ mode: 'full' });
    expect((await storedRecords(h, 'skip', 'customers')).get(changedId)?.note).toBe('changed after the first import');
  });

  it('a batch write that keeps failing fails the run, records it, and a rerun completes to the same data', async () => {
    const { client } = await connectTenant(h, 'flaky', 3);
    const real = createStore(h.db.database);
    let calls = 0;
    const store = { ...real, writeRows: async (...args: Parameters<typeof real.writeRows>) => { if (++calls >= 3) throw new Error('could not serialize access'); return real.writeRows(...args); } };
    const err = await importer(h, client, 'flaky', { ...REST, store }).importOrders({ batchSize: 40, concurrency: 1, retryOptions: { retries: 2, minTimeout: 1 } }).catch((e) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect(err.code).toBe('IMPORT_FAILED');
    expect(calls).toBe(5);
    const [run] = await h.db.query(`SELECT status, error FROM shopify_sync_runs WHERE tenant_id = 'flaky'`);
    expect(run).toMatchObject({ status: 'failed', error: expect.stringMatching(/serialize/) });
    const [cp] = await h.db.query(`SELECT cursor FROM shopify_sync_checkpoints WHERE tenant_id = 'flaky' AND resource = 'orders'`);
    const cursor = JSON.parse(cp.cursor);
    const stored = await storedRecords(h, 'flaky', 'orders');
    expect(stored.size).toBe(80);
    expect(cursor.sinceId).toBe([...stored.keys()].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)).at(-1));
    const [tenant] = await h.db.query(`SELECT sync_status, last_error FROM shopify_tenants WHERE id = 'flaky'`);
    expect(tenant).toMatchObject({ sync_status: 'error', last_error: expect.stringMatching(/serialize/) });

    const resumed = await importer(h, client, 'flaky', REST).importOrders();
    expect(resumed).toMatchObject({ resumed: true, mode: 'full', fetched: SIZES.orders - 80 });
    const expected = await shopRecords(client, 'orders');
    const final = await storedRecords(h, 'flaky', 'orders');
    expect([...final.keys()].sort()).toEqual([...expected.keys()].sort());
    const runs = await h.db.query(`SELECT status FROM shopify_sync_runs WHERE tenant_id = 'flaky' ORDER BY started_at`);
    expect(runs.map((r) => r.status)).toEqual(['failed', 'succeeded']);
  });
  it('two processes importing the same resource: one runs, the other is refused at once or waits its turn', async () => {
    const { client } = await connectTenant(h, 'twice', 4);
    // A second database client, as another process of the host app would have.
    const other = await createDatabase({ url: h.db.url, migrate: false });
    try {
      const slow = createStore(h.db.database);
      let release!: () => void;
      const gate = new Promise<void>((r) => { release = r; });
      const held = { ...slow, upsertOrders: async (...args: Parameters<typeof slow.upsertOrders>) => { await gate; return slow.upsertOrders(...args); } };
      const first = importer(h, client, 'twice', { ...REST, store: held }).importOrders({ batchSize: 50 });
      const runningId = async () => (await h.db.query<{ id: string }>(`SELECT id FROM shopify_sync_runs WHERE tenant_id = 'twice' AND status = 'running'`))[0]?.id;
      for (let i = 0; i < 100 && !(await runningId()); i++) await new Promise((r) => setTimeout(r, 20));
      const firstRunId = await runningId();
      expect(firstRunId).toBeDefined();

      const refused = await createImportService(other, client, 'twice', { keyRing: h.keyRing }).importOrders().catch((e) => e);
      expect(refused).toBeInstanceOf(ImportError);
      expect(refused).toMatchObject({ code: 'IMPORT_ALREADY_RUNNING', details: { tenantId: 'twice', resource: 'orders', runningRunId: firstRunId } });
      // Customers of the same tenant are not blocked.
      await expect(createImportService(other, client, 'twice', { keyRing: h.keyRing }).importCustomers()).resolves.toMatchObject({ status: 'succeeded' });

      const waiting = createImportService(other, client, 'twice', { keyRing: h.keyRing }).importOrders({ waitForLockMs: 60_000 });
      await new Promise((r) => setTimeout(r, 300));
      release();
      const [a, b] = await Promise.all([first, waiting]);
      expect(a).toMatchObject({ status: 'succeeded', runId: firstRunId, imported: SIZES.orders });
      expect(b).toMatchObject({ status: 'succeeded', mode: 'incremental' });
      const runs = await h.db.query<{ id: string; status: string; started_at: Date; finished_at: Date }>(
        `SELECT id, status, started_at, finished_at FROM shopify_sync_runs WHERE tenant_id = 'twice' AND resource = 'orders' ORDER BY started_at`);
      // The refused run left no record; the waiting one started after the first had finished.
      expect(runs.map((r) => [r.id, r.status])).toEqual([[firstRunId, 'succeeded'], [b.runId, 'succeeded']]);
      expect(runs[1].started_at.getTime()).toBeGreaterThanOrEqual(runs[0].finished_at.getTime());
      expect(await h.db.query(`SELECT resource FROM shopify_run_locks WHERE tenant_id = 'twice'`)).toEqual([]);
      expect((await storedRecords(h, 'twice', 'orders')).size).toBe(SIZES.orders);
    } finally {
      await other.$disconnect();
    }
  });
});
