/**
 * Id reconciliation re-attaches to a RUNNING id-only bulk operation of the same query (findRunning),
 * e.g. the one a previous run started and lost track of (its poll failed: a deletion probe failure,
 * the run itself succeeded). That operation lists the shop as of when IT started, but the stored ids
 * it is compared against are tombstoned when changed before THIS run's start: a customer created
 * between the two is stored, missing from the old listing, and wrongly tombstoned.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
beforeAll(async () => {
  // 40 customers at 10 rows/s: an operation over them runs ~4 s (timeScale 1).
  h = await createHarness({ timeScale: 1, bulk: { startDelayMs: 20, rowsPerSecond: 10 }, shops: [{ customers: 40, products: 0, orders: 0 }] });
});
afterAll(async () => { await h?.close(); });

const ID_QUERY = /\{ customers \{ edges \{ node \{ id \} \} \} \}/;

describe('id reconciliation attached to an older running operation', { timeout: 120_000 }, () => {
  it('does not tombstone a customer created after that operation started', async () => {
    const { client, shop } = await connectTenant(h, 'ra1', 0);
    let idOp: string | null = null;
    let failIdPolls = false;
    const faulty = Object.create(client) as typeof client;
    faulty.graphql = (async (query: string, variables?: Record<string, unknown>, options?: { signal?: AbortSignal }) => {
      if (failIdPolls && /ShopifyIngestBulkGet/.test(query) && variables?.id === idOp) throw new Error('simulated network failure polling the id listing');
      const data = await client.graphql<any>(query, variables, options);
      if (/bulkOperationRunQuery/.test(query) && ID_QUERY.test(String(variables?.query ?? ''))) idOp = data?.bulkOperationRunQuery?.bulkOperation?.id ?? null;
      return data;
    }) as typeof client.graphql;
    const service = importer(h, faulty, 'ra1', { bulk: BULK });
    expect(await service.importCustomers()).toMatchObject({ status: 'succeeded', mode: 'full' });

    // Run A (the weekly full sync): its id listing's poll fails; the operation keeps running at Shopify.
    failIdPolls = true;
    const a = await service.importCustomers({ mode: 'full' });
    expect(a.status).toBe('succeeded');
    expect(a.warnings.join(' ')).toMatch(/deletion probe failed/);
    failIdPolls = false;

    // A customer created after A's id listing started (it is not in that listing).
    await new Promise((r) => setTimeout(r, 1100));
    const created = shop.create('customers', { first_name: 'New', last_name: 'Customer' });
    const newId = String(created.id);
    await new Promise((r) => setTimeout(r, 1100));

    // Run B (incremental; reconciles because A's probe failed) stores it, then attaches to A's operation.
    const b = await service.importCustomers();
    console.log({ b: { status: b.status, mode: b.mode, fetched: b.fetched, deleted: b.deleted, warnings: b.warnings } });
    expect(b).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    const row = (await h.db.query<{ gone: boolean; inferred: boolean }>(`SELECT deleted_at IS NOT NULL AS gone, deletion_inferred AS inferred FROM shopify_customers WHERE tenant_id = 'ra1' AND id = $1`, [newId]))[0];
    expect(shop.find('customers', newId), 'the customer exists at Shopify').toBeTruthy();
    expect(row, 'the new customer is stored and live').toEqual({ gone: false, inferred: false });
  });
});
