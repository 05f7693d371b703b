/**
 * Deletion detection never blocks the data path (issue 16): an id reconciliation that finds the
 * shop at its bulk-operation limit (the host app's own operations count) does not hold the run, its
 * lock and its checkpoint for hours (the data listing's wait, up to 6 h); it waits a few polls, is
 * recorded as a failed deletion probe, and the next run reconciles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bulkIdsQuery } from '../../src/importer/queries.js';
import { getResource } from '../../src/resources/index.js';
import { createStore } from '../../src/store/index.js';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';

let h: Harness;
const BULK = { minPollMs: 5, maxPollMs: 20, minWindowMs: 60_000 };
beforeAll(async () => {
  h = await createHarness({ timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ customers: 12, products: 0, orders: 0 }] });
});
afterAll(async () => { await h?.close(); });

describe('id reconciliation at the shop\'s bulk-operation limit', { timeout: 120_000 }, () => {
  it('is deferred to the next run after a short wait; the full sync completes and the next run tombstones', async () => {
    const { client, shop } = await connectTenant(h, 'rl1', 0);
    const idsQuery = bulkIdsQuery(getResource('customers'));
    let busy = true;
    let refused = 0;
    const faulty = Object.create(client) as typeof client;
    faulty.graphql = (async (query: string, variables?: Record<string, unknown>, options?: { signal?: AbortSignal }) => {
      if (busy && /bulkOperationRunQuery/.test(query) && variables?.query === idsQuery) {
        // Past this many, the run would be waiting for hours: stop the test's wait there.
        if (++refused > 60) throw new Error('test: the reconciliation kept waiting for a slot');
        return { bulkOperationRunQuery: { bulkOperation: null, userErrors: [{ field: null, message: 'Limit of 5 concurrent bulk query operations per shop reached.', code: 'LIMIT_REACHED' }] } };
      }
      return client.graphql(query, variables, options);
    }) as typeof client.graphql;
    const service = importer(h, faulty, 'rl1', { bulk: BULK });
    const gone = String(shop.idOf('customers', 3));
    const full = await service.importCustomers({ mode: 'full' });
    expect(full).toMatchObject({ status: 'succeeded', mode: 'full', imported: 12 });
    expect(refused, 'starts of the id listing refused before the run gave up waiting').toBeGreaterThan(0);
    expect(refused, 'the reconciliation waited as long as a data listing would (hours)').toBeLessThanOrEqual(20);
    expect(full.warnings.join(' ')).toMatch(/deletion probe failed.*limit/);
    const checkpoint = await createStore(h.db.database).getCheckpoint('rl1', 'customers');
    expect(checkpoint?.fullSyncCompletedAt, 'the full sync is recorded complete').toBeTruthy();
    expect(checkpoint?.deletionError).toMatch(/limit/);

    busy = false;
    shop.delete('customers', gone); // no destroy events for customers: only a reconciliation finds it
    const next = await service.importCustomers();
    expect(next).toMatchObject({ status: 'succeeded', mode: 'incremental', deleted: 1 });
    const row = (await h.db.query<{ gone: boolean }>(`SELECT deleted_at IS NOT NULL AS gone FROM shopify_customers WHERE tenant_id = 'rl1' AND id = $1`, [gone]))[0];
    expect(row.gone).toBe(true);
    expect((await createStore(h.db.database).getCheckpoint('rl1', 'customers'))?.deletionError ?? null).toBeNull();
  });
});
