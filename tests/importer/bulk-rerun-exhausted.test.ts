/**
 * Shopify cancels the window's operation on every attempt: the run fails with BULK_OPERATION_FAILED.
 * The cursor it leaves must not name that dead operation (as after BULK_FILE_INCOMPLETE): once
 * Shopify behaves again, the next run, in either mode, lists the window with a new operation.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
beforeAll(async () => {
  h = await createHarness({ timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ customers: 20, products: 12, orders: 30 }, { customers: 20, products: 12, orders: 30 }] });
});
afterAll(async () => { await h?.close(); });

/** The tenant's client, counting the listing operations started and cancelling each while `cancel.on`. */
async function cancellingClient(tenant: string, shopIndex: number) {
  const { client } = await connectTenant(h, tenant, shopIndex);
  const counter = { starts: 0, cancel: true };
  const wrapped = Object.create(client) as typeof client;
  wrapped.graphql = ((query: string, variables?: Record<string, unknown>, ...rest: unknown[]) => {
    // Listing operations only (an id-only one reconciles deletions).
    if (/bulkOperationRunQuery/.test(query) && !/edges \{ node \{ id \} \}/.test(String(variables?.query))) {
      counter.starts++;
      if (counter.cancel) h.sim.graphql.failNextBulkOperation('CANCELED', 0.3);
    }
    return (client.graphql as (...a: unknown[]) => Promise<unknown>)(query, variables, ...rest);
  }) as typeof client.graphql;
  return { client: wrapped, counter };
}

async function customersOf(tenant: string): Promise<number> {
  const [{ n }] = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM shopify_customers WHERE tenant_id = $1', [tenant]);
  return n;
}

for (const [shopIndex, mode] of (['auto', 'full'] as const).entries()) {
  it(`after every attempt was cancelled, the next run (mode ${mode}) starts a new operation`, { timeout: 120_000 }, async () => {
    const tenant = `bulk-rerun-exhausted-${mode}`;
    const { client, counter } = await cancellingClient(tenant, shopIndex);
    const first = await importer(h, client, tenant, { bulk: BULK }).importCustomers({ mode: 'full' }).catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 'BULK_OPERATION_FAILED' });
    expect(counter.starts).toBe(3);

    counter.cancel = false;
    counter.starts = 0;
    const second = await importer(h, client, tenant, { bulk: BULK }).importCustomers(mode === 'full' ? { mode } : {}).catch((e: unknown) => e);
    expect(counter.starts, 'operations started by the next run').toBe(1);
    expect(second).toMatchObject({ status: 'succeeded', method: 'bulk' });
    expect(await customersOf(tenant)).toBe(20);
  });
}
