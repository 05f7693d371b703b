import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportProgress } from '../../src/importer/index.js';
import { testDatabaseConfig } from '../helpers/pg-config.js';
import { connectTenant, createHarness, databaseImage, importer, sample, seededRandom, shopRecords, SIZES, storedRecords, type Harness } from './harness.js';

const SHOP_B = { customers: 60, products: 20, orders: 150 };
let h: Harness;
beforeAll(async () => { h = await createHarness({ shops: [{ ...SIZES, bigIds: true }, { ...SHOP_B }] }); });
afterAll(async () => { await h?.close(); });

async function expectStoreEqualsShop(tenantId: string, client: Awaited<ReturnType<typeof connectTenant>>['client'], resources: ReadonlyArray<'customers' | 'products' | 'orders'> = ['customers', 'products', 'orders']) {
  for (const resource of resources) {
    const expected = await shopRecords(client, resource);
    const stored = await storedRecords(h, tenantId, resource);
    expect([...stored.keys()].sort(), `${resource} ids`).toEqual([...expected.keys()].sort());
    for (const [id, record] of expected) expect(comparable(stored.get(id)), `${resource} ${id}`).toEqual(comparable(record));
  }
}

/**
 * An order embeds its customer as Shopify shows it now, and a customer update does not change the
 * order's updated_at, so no incremental sync can keep that copy current: the customers table holds
 * the current customer. Orders are compared with the embedded customer reduced to its id.
 */
function comparable(record: Record<string, unknown> | undefined): unknown {
  if (!record || !('line_items' in record)) return record;
  const customer = record.customer as { id?: unknown } | null;
  return { ...record, customer: customer ? { id: customer.id } : customer };
}

describe('REST source: full and incremental syncs against the simulator and PostgreSQL', { timeout: 240_000 }, () => {
  it('full sync stores every customer, product and order record for record (PII decrypted), runs recorded', async () => {
    const { client } = await connectTenant(h, 'tenant-a');
    const progress: ImportProgress[] = [];
    const service = importer(h, client, 'tenant-a', { defaults: { source: 'rest' } });
    service.on('progress', (p) => progress.push(p));
    h.sim.resetStats();
    const all = await service.importAll({ batchSize: 100, concurrency: 3 });
    const fullRequests = h.sim.stats(0).restRequests;
    expect(all.customers).toMatchObject({ status: 'succeeded', mode: 'full', fetched: SIZES.customers, imported: SIZES.customers, failed: 0 });
    expect(all.products).toMatchObject({ status: 'succeeded', mode: 'full', fetched: SIZES.products, imported: SIZES.products });
    expect(all.orders).toMatchObject({ status: 'succeeded', mode: 'full', fetched: SIZES.orders, imported: SIZES.orders });
    expect(fullRequests).toBeGreaterThanOrEqual(8);

    await expectStoreEqualsShop('tenant-a', client);
    // Ids beyond 2^53 survived exactly.
    const [{ max }] = await h.db.query<{ max: string }>(`SELECT max(id)::text AS max FROM shopify_orders`);
    expect(BigInt(max)).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));

    // Child rows: every line item and variant of every record.
    const orders = await shopRecords(client, 'orders');
    const lineItems = [...orders.values()].reduce((n, o) => n + (o.line_items as unknown[]).length, 0);
    const [{ count: storedLines }] = await h.db.query<{ count: string }>(`SELECT count(*) FROM shopify_order_line_items WHERE tenant_id = 'tenant-a'`);
    expect(Number(storedLines)).toBe(lineItems);
    const products = await shopRecords(client, 'products');
    const variants = [...products.values()].reduce((n, p) => n + (p.variants as unknown[]).length, 0);
    const [{ count: storedVariants }] = await h.db.query<{ count: string }>(`SELECT count(*) FROM shopify_product_variants WHERE tenant_id = 'tenant-a'`);
    expect(Number(storedVariants)).toBe(variants);

    const runs = await h.db.query(`SELECT * FROM shopify_sync_runs WHERE tenant_id = 'tenant-a' ORDER BY started_at`);
    expect(runs.map((r) => [r.resource, r.status, r.mode, r.fetched])).toEqual([
      ['customers', 'succeeded', 'full', SIZES.customers], ['products', 'succeeded', 'full', SIZES.products], ['orders', 'succeeded', 'full', SIZES.orders],
    ]);
    expect(runs.every((r) => /^[0-9A-Za-z]{27}$/.test(r.id) && r.finished_at instanceof Date)).toBe(true);
    const checkpoints = await h.db.query(`SELECT * FROM shopify_sync_checkpoints WHERE tenant_id = 'tenant-a'`);
    expect(checkpoints).toHaveLength(3);
    for (const c of checkpoints) {
      expect(c.cursor).toBeNull();
      expect(c.watermark).toBeInstanceOf(Date);
      expect(c.full_sync_completed_at).toBeInstanceOf(Date);
    }
    const [tenant] = await h.db.query(`SELECT sync_status, last_sync_at FROM shopify_tenants WHERE id = 'tenant-a'`);
    expect(tenant.sync_status).toBe('idle');
    expect(tenant.last_sync_at).toBeInstanceOf(Date);

    const done = progress.filter((p) => p.done);
    expect(done.map((p) => p.resource)).toEqual(['customers', 'products', 'orders']);
    expect(done[2]).toMatchObject({ tenantId: 'tenant-a', fetched: SIZES.orders, imported: SIZES.orders, failed: 0 });
    expect(progress.some((p) => !p.done && p.resource === 'orders' && p.imported > 0 && p.imported < SIZES.orders)).toBe(true);
    expect(done[2].ratePerSecond).toBeGreaterThan(0);

    const stats = await service.getImportStats();
    expect(stats.records).toMatchObject({ customers: SIZES.customers, products: SIZES.products, orders: SIZES.orders, lineItems });
    expect(stats.orders.lastRun).toMatchObject({ status: 'succeeded', fetched: SIZES.orders });
    expect(stats.orders.resumePending).toBe(false);
    expect(stats.session.runs).toBe(3);

    // Incremental after 500 random updates and 50 deletes: matches again, with far fewer requests.
    const shop = h.sim.shops[0];
    const random = seededRandom(11);
    const customers = await shopRecords(client, 'customers');
    const ids = { customers: [...customers.keys()], products: [...products.keys()], orders: [...orders.keys()] };
    // Shopify refuses to delete a customer who has orders, so only customers without orders are deleted.
    const buyers = new Set([...orders.values()].map((o) => String((o.customer as { id?: unknown } | null)?.id)));
    const deleted = { orders: sample(ids.orders, 25, random), products: sample(ids.products, 10, random), customers: sample(ids.customers.filter((id) => !buyers.has(id)), 15, random) };
    for (const resource of ['orders', 'products', 'customers'] as const) for (const id of deleted[resource]) shop.delete(resource, id);
    const alive = (resource: 'orders' | 'products' | 'customers') => ids[resource].filter((id) => !deleted[resource].includes(id));
    for (let i = 0; i < 500; i++) {
      const r = random();
      if (r < 0.5) {
        const id = alive('orders')[Math.floor(random() * alive('orders').length)];
        const k = Math.floor(random() * 4);
        if (k === 0) shop.markOrderPaid(id); else if (k === 1) shop.fulfillOrder(id); else if (k === 2) shop.cancelOrder(id); else shop.update('orders', id, { note: `update ${i}`, email: `changed.${i}@example.org` });
      } else if (r < 0.75) {
        shop.update('customers', alive('customers')[Math.floor(random() * alive('customers').length)], { note: `n${i}`, phone: `+1555000${String(i).padStart(4, '0')}` });
      } else {
        shop.update('products', alive('products')[Math.floor(random() * alive('products').length)], { title: `Renamed ${i}` });
      }
    }
    for (let i = 0; i < 5; i++) shop.create('orders', {});
    h.sim.resetStats();
    const inc = await service.importAll();
    const incRequests = h.sim.stats(0).restRequests;
    expect(inc.orders.mode).toBe('incremental');
    expect(inc.customers.mode).toBe('incremental');
    expect(inc.orders.deleted).toBe(25);
    expect(inc.products.deleted).toBe(10);
    expect(inc.orders.fetched).toBeLessThan(SIZES.orders / 2);
    expect(incRequests).toBeLessThan(fullRequests);
    await expectStoreEqualsShop('tenant-a', client, ['products', 'orders']);
    const tombstones = await h.db.query(`SELECT id::text AS id FROM shopify_orders WHERE tenant_id = 'tenant-a' AND deleted_at IS NOT NULL`);
    expect(tombstones.map((r) => r.id).sort()).toEqual([...deleted.orders].sort());

    // Customers have no destroy events: a full customer sync reconciles ids and tombstones the 15.
    const full = await service.importCustomers({ mode: 'full' });
    expect(full).toMatchObject({ mode: 'full', deleted: 15 });
    await expectStoreEqualsShop('tenant-a', client, ['customers']);
  });

  it('the database holds no plaintext email or phone (pg_dump of the whole database)', async () => {
    const { client } = await connectTenant(h, 'tenant-a');
    const secrets = new Set<string>();
    const add = (v: unknown) => { if (typeof v === 'string' && v.length > 3) secrets.add(v); };
    for (const resource of ['customers', 'orders'] as const) {
      for (const r of (await shopRecords(client, resource)).values()) {
        for (const v of [r.email, r.phone, r.contact_email, (r.customer as Record<string, unknown> | null)?.email, (r.customer as Record<string, unknown> | null)?.phone]) add(v);
        for (const a of [r.billing_address, r.shipping_address, r.default_address, ...((r.addresses as unknown[]) ?? [])] as Array<Record<string, unknown> | null>) add(a?.phone);
      }
    }
    expect(secrets.size).toBeGreaterThan(300);
    const c = testDatabaseConfig(h.db.name);
    const { stdout } = await promisify(execFile)('pg_dump', ['-h', c.host, '-p', String(c.port), '-U', c.user, '--data-only', h.db.name], {
      maxBuffer: 1 << 30, env: { ...process.env, PGPASSWORD: c.password ?? '' },
    });
    expect(stdout).toContain('COPY public.shopify_customers');
    // Every email- or phone-looking token of the dump, checked against every generated email and phone.
    const tokens = new Set(stdout.match(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+|\+?\d[\d ()-]{6,}\d/g) ?? []);
    const leaked = [...secrets].filter((s) => tokens.has(s));
    expect(stdout.includes([...secrets][0])).toBe(false);
    expect(leaked).toEqual([]);
  });

  it("tenant B's sync leaves tenant A's rows unchanged", async () => {
    const before = await databaseImage(h, 'tenant-a');
    expect(before.customers.length).toBe(SIZES.customers);
    const { client } = await connectTenant(h, 'tenant-b', 1);
    const result = await importer(h, client, 'tenant-b', { defaults: { source: 'rest' } }).importAll();
    expect(result.orders).toMatchObject({ fetched: SHOP_B.orders, imported: SHOP_B.orders });
    expect(await databaseImage(h, 'tenant-a')).toEqual(before);
    await expectStoreEqualsShop('tenant-b', client);
  });
});
