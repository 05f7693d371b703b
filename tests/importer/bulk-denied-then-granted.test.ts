/**
 * A bulk operation denied for a missing scope fails the run with SHOPIFY_ACCESS_DENIED naming the
 * scope. Once the merchant grants it, the next run lists the window with a new bulk operation: the
 * old denial (kept in the cursor, the scopes all granted now) must not be taken for protected
 * customer data, which would page the whole window with a false warning.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
beforeAll(async () => {
  h = await createHarness({ timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ customers: 20, products: 12, orders: 30 }] });
});
afterAll(async () => { await h?.close(); });

it('after the missing scope is granted, the next run lists with a bulk operation, not pages', { timeout: 120_000 }, async () => {
  const tenant = 'bulk-denied-then-granted';
  const { shop, client } = await connectTenant(h, tenant, 0);
  let starts = 0;
  const wrapped = Object.create(client) as typeof client;
  wrapped.graphql = ((query: string, variables?: Record<string, unknown>, ...rest: unknown[]) => {
    // Listing operations only (an id-only one reconciles deletions).
    if (/bulkOperationRunQuery/.test(query) && !/edges \{ node \{ id \} \}/.test(String(variables?.query))) starts++;
    return (client.graphql as (...a: unknown[]) => Promise<unknown>)(query, variables, ...rest);
  }) as typeof client.graphql;

  const granted = [...shop.scopes];
  shop.scopes.splice(0, shop.scopes.length, ...granted.filter((s) => s !== 'read_customers'));
  h.sim.graphql.failNextBulkOperation('ACCESS_DENIED', 0); // what Shopify answers without read_customers
  const first = await importer(h, wrapped, tenant, { bulk: BULK }).importCustomers({ mode: 'full' }).catch((e: unknown) => e);
  expect(first).toMatchObject({ code: 'SHOPIFY_ACCESS_DENIED', details: { missingScopes: ['read_customers'] } });
  expect(starts).toBe(1);

  shop.scopes.splice(0, shop.scopes.length, ...granted); // the merchant approves the scope
  starts = 0;
  const second = await importer(h, wrapped, tenant, { bulk: BULK }).importCustomers();
  expect(second.status).toBe('succeeded');
  expect(second.warnings.join(' ')).not.toMatch(/protected customer data/);
  expect(starts, 'bulk operations started by the run after the grant').toBe(1);
  expect(second.pages).toBe(0);
  const [{ n }] = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM shopify_customers WHERE tenant_id = $1', [tenant]);
  expect(n).toBe(20);
});
