/**
 * The GraphQL engine against the simulator (Shopify 2026-10) and PostgreSQL: full syncs by bulk
 * operation, incremental syncs by pages, deletions by destroy events and id reconciliation, and what
 * Shopify can do to a bulk operation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTenant, createHarness, importer, sample, seededRandom, storedRecords, type Harness } from './harness.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
beforeAll(async () => {
  h = await createHarness({
    timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 },
    shops: [
      { customers: 120, products: 30, orders: 300 },
      { customers: 40, products: 10, orders: 80 },
      { customers: 40, orders: 60, protectedCustomerData: false },
      { orders: 60, scopes: ['read_orders', 'read_customers', 'read_products'] },
      { customers: 10, products: 10, orders: 80 },
    ],
  });
});
afterAll(async () => { await h?.close(); });

const live = async (tenant: string, table: string) => (await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1 AND deleted_at IS NULL`, [tenant]))[0].n;

describe('GraphQL engine against the simulator', { timeout: 240_000 }, () => {
  it('full by bulk operation, incremental by pages, deletions by events and reconciliation', async () => {
    const { client, shop } = await connectTenant(h, 'g1', 0);
    const service = importer(h, client, 'g1', { bulk: BULK });
    const full = await service.importAll();
    for (const r of Object.values(full)) expect(r, r.resource).toMatchObject({ status: 'succeeded', mode: 'full', method: r.resource === 'shop' ? 'pages' : 'bulk', failed: 0 });
    expect(full.orders.fetched).toBe(300);
    expect(await live('g1', 'shopify_orders')).toBe(300);

    const random = seededRandom(5);
    const orderIds = Array.from({ length: 300 }, (_, i) => String(shop.idOf('orders', i)));
    const deleted = sample(orderIds, 7, random);
    for (const id of deleted) shop.delete('orders', id);
    const changed = sample(orderIds.filter((id) => !deleted.includes(id)), 20, random);
    for (const id of changed) shop.update('orders', id, { note: 'changed' });
    const customerIds = Array.from({ length: 120 }, (_, i) => String(shop.idOf('customers', i)));
    // A customer deleted with no webhook: only reconciliation on a full sync can find it.
    const goneCustomer = customerIds.find((id) => !(shop.find('customers', id)!.orders_count as number))!;
    shop.delete('customers', goneCustomer);

    const inc = await service.importAll();
    expect(inc.orders).toMatchObject({ status: 'succeeded', mode: 'incremental', method: 'pages', deleted: 7 });
    expect(inc.orders.fetched).toBeGreaterThanOrEqual(20);
    expect(inc.orders.fetched).toBeLessThan(300);
    expect(await live('g1', 'shopify_orders')).toBe(293);
    const stored = await storedRecords(h, 'g1', 'orders');
    for (const id of changed) expect(stored.get(id)).toMatchObject({ legacyResourceId: id });

    const customers = await service.importCustomers({ mode: 'full' });
    expect(customers).toMatchObject({ status: 'succeeded', deleted: 1 });
    expect((await h.db.query(`SELECT deleted_at IS NOT NULL AS gone, deletion_inferred FROM shopify_customers WHERE tenant_id = 'g1' AND id = $1`, [goneCustomer]))[0]).toEqual({ gone: true, deletion_inferred: true });
  });

  it('an incremental window with more changes than bulkThreshold runs as a bulk operation', async () => {
    const { client, shop } = await connectTenant(h, 'g2', 1);
    const service = importer(h, client, 'g2', { bulk: BULK });
    await service.importOrders();
    for (let i = 0; i < 30; i++) shop.update('orders', shop.idOf('orders', i), { note: `bulk ${i}` });
    const inc = await service.importOrders({ bulkThreshold: 10 });
    expect(inc).toMatchObject({ status: 'succeeded', mode: 'incremental', method: 'bulk' });
    expect(inc.fetched).toBeGreaterThanOrEqual(30);
  });

  it('FAILED (TIMEOUT) with partial data: the window is split and the sync completes; CANCELED by Shopify: run again', async () => {
    const { client } = await connectTenant(h, 'g3', 4);
    const service = importer(h, client, 'g3', { bulk: BULK });
    h.sim.graphql.failNextBulkOperation('TIMEOUT', 0.4);
    const r = await service.importOrders({ mode: 'full' });
    // The partial file's orders are written, then listed again by the split windows: counted once.
    expect(r).toMatchObject({ status: 'succeeded', method: 'bulk', fetched: 80, imported: 80 });
    expect(await live('g3', 'shopify_orders')).toBe(80);
    h.sim.graphql.failNextBulkOperation('CANCELED', 0.2);
    expect(await service.importProducts({ mode: 'full' })).toMatchObject({ status: 'succeeded', fetched: 10 });
  });

  it('protected customer data: the bulk operation is denied, pages list the rest with the fields null, and the run says so', async () => {
    const { client } = await connectTenant(h, 'g4', 2);
    const service = importer(h, client, 'g4', { bulk: BULK });
    const r = await service.importCustomers({ mode: 'full' });
    expect(r).toMatchObject({ status: 'succeeded', fetched: 40 });
    expect(r.warnings.join(' ')).toMatch(/protected customer data/);
    expect((await h.db.query(`SELECT count(*)::int AS n FROM shopify_customers WHERE tenant_id = 'g4' AND email_enc IS NOT NULL`))[0].n).toBe(0);
    expect(await live('g4', 'shopify_customers')).toBe(40);
  });

  it('without read_all_orders a full order sync warns that history stops at 60 days', async () => {
    const { client } = await connectTenant(h, 'g5', 3);
    const r = await importer(h, client, 'g5', { bulk: BULK }).importOrders({ mode: 'full' });
    expect(r.status).toBe('succeeded');
    expect(r.warnings.join(' ')).toMatch(/read_all_orders/);
  });
});
