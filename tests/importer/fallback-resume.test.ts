/**
 * A bulk operation denied for protected customer data (`ACCESS_DENIED` with every scope granted) is
 * replaced by paged queries over the same span. Found by review: the span left the bulk cursor
 * before it was paged, so a run stopped during that paging left `{ method: 'bulk', windows: [] }`,
 * and the next run resumed it, listed nothing and recorded a completed full sync (10 of 40
 * customers stored, for good). The span now stays in the cursor until its pages' own cursor
 * replaces it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/index.js';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
beforeAll(async () => {
  const shop = { customers: 40, products: 0, orders: 0, protectedCustomerData: false };
  h = await createHarness({ timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [shop, shop, shop] });
});
afterAll(async () => { await h?.close(); });

async function cursorOf(tenant: string): Promise<Record<string, unknown>> {
  const [row] = await h.db.query<{ cursor: string | null }>(`SELECT cursor FROM shopify_sync_checkpoints WHERE tenant_id = $1 AND resource = 'customers'`, [tenant]);
  return JSON.parse(row.cursor!) as Record<string, unknown>;
}

describe('protected-data fallback paging stopped by an outage', { timeout: 120_000 }, () => {
  it.each([
    // The pages' cursor replaces the bulk one before the first page is asked for.
    { tenant: 'fb1', shop: 0, failPage: 1, cursor: { method: 'pages', search: null, after: null } },
    { tenant: 'fb2', shop: 1, failPage: 2, cursor: { method: 'pages', search: null, after: expect.any(String) } },
  ])('page $failPage fails: the next run lists every customer', async ({ tenant, shop, failPage, cursor }) => {
    const { client } = await connectTenant(h, tenant, shop);
    let pages = 0;
    let failing = true;
    const flaky = Object.create(client) as typeof client;
    flaky.graphql = (async (query: string, variables?: Record<string, unknown>, options?: { signal?: AbortSignal }) => {
      if (failing && /ShopifyIngestPage/.test(query) && ++pages === failPage) throw new Error('simulated outage during the fallback paging');
      return client.graphql(query, variables, options);
    }) as typeof client.graphql;
    const service = importer(h, flaky, tenant, { bulk: BULK, defaults: { pageSize: 10, batchSize: 10, concurrency: 1 } });

    await expect(service.importCustomers()).rejects.toThrow(/simulated outage/);
    expect(await cursorOf(tenant)).toMatchObject({ mode: 'full', ...cursor });

    failing = false;
    const next = await service.importCustomers();
    expect(next).toMatchObject({ status: 'succeeded', mode: 'full', resumed: true });
    const [{ n }] = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_customers WHERE tenant_id = $1 AND deleted_at IS NULL`, [tenant]);
    expect(n, 'every customer of the shop is stored').toBe(40);
  });
  it('stopped after the denial, before the paging began: the bulk cursor still holds the span', async () => {
    const { client } = await connectTenant(h, 'fb3', 2);
    // What a run killed right after the denial leaves (a run still in progress: its lock expired).
    const cursor = { v: 2, runId: 'killed-run', mode: 'full', method: 'bulk', startedAt: new Date(Date.now() - 60_000).toISOString(), maxUpdatedAt: null, field: 'created_at', windows: [], attempts: 0, op: null, fallback: [null, null] };
    await createStore(h.db.database).saveCheckpoint('fb3', 'customers', { cursor: JSON.stringify(cursor), runId: 'killed-run' });
    const next = await importer(h, client, 'fb3', { bulk: BULK, defaults: { pageSize: 10, batchSize: 10, concurrency: 1 } }).importCustomers();
    expect(next).toMatchObject({ status: 'succeeded', mode: 'full', resumed: true });
    const [{ n }] = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_customers WHERE tenant_id = 'fb3' AND deleted_at IS NULL`);
    expect(n, 'every customer of the shop is stored').toBe(40);
  });
});
