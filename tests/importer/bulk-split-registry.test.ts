/**
 * Every resource's full sync survives a bulk operation that fails with TIMEOUT (issue 16: "retry the
 * rest in smaller windows"): the window is split, which reads the earliest record and filters by a
 * time field. Found by review: collections (no `createdAt`, no `created_at` filter) and discounts
 * (`createdAt` inside the `discount` union, not on the node) sent a query Shopify's schema rejects,
 * so such a run failed every time. The same resources through a denied operation (paged instead)
 * and a timed-out windowed run (split by `updated_at`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bulkIdsQuery } from '../../src/importer/queries.js';
import { RESOURCES } from '../../src/resources/index.js';
import { tablesOf, type ResourceDefinition } from '../../src/resources/definition.js';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
beforeAll(async () => {
  h = await createHarness({ timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ customers: 20, products: 12, orders: 30 }] });
});
afterAll(async () => { await h?.close(); });

// Resources listed by a bulk operation of their own on a full sync (the shop is one query; refunds,
// transactions and fulfillments ride on orders' records but have their own listings too).
const BULK_RESOURCES = RESOURCES.filter((r) => !r.graphql.singleton).map((r) => r.name);

describe('bulk operations that fail, for every resource', { timeout: 240_000 }, () => {
  it.each(BULK_RESOURCES)('%s: a timed-out full sync, a denied one and a timed-out windowed one store the same rows as a clean run', async (name) => {
    // One tenant (one per shop): each resource's tables are its own.
    const tenant = 'split';
    const { client } = await connectTenant(h, tenant, 0);
    const definition = RESOURCES.find((r) => r.name === name) as unknown as ResourceDefinition;
    const tables = tablesOf(definition).map((t) => t.table);
    const counts = async () => Promise.all(tables.map(async (table) => [table, (await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [tenant]))[0].n]));
    const empty = async () => { for (const table of [...tables].reverse()) await h.db.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenant]); };
    const clean = await importer(h, client, tenant, { bulk: BULK }).importResource(name, { mode: 'full' });
    expect(clean.status).toBe('succeeded');
    const expected = await counts();

    let starts = 0;
    const counting = Object.create(client) as typeof client;
    const ids = bulkIdsQuery(definition);
    counting.graphql = ((query: string, variables?: Record<string, unknown>, ...rest: unknown[]) => {
      if (/bulkOperationRunQuery/.test(query) && variables?.query !== ids) starts++;
      return (client.graphql as (...a: unknown[]) => Promise<unknown>)(query, variables, ...rest);
    }) as typeof client.graphql;
    const service = importer(h, counting, tenant, { bulk: BULK });

    // TIMEOUT: the window is split in two halves by its time field (the earliest record starts the first).
    await empty();
    h.sim.graphql.failNextBulkOperation('TIMEOUT', 0.4);
    const timedOut = await service.importResource(name, { mode: 'full' });
    expect(timedOut, JSON.stringify(timedOut.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'full' });
    expect(await counts(), 'after a timed-out full sync').toEqual(expected);
    // The partial file's records are listed again by the halves: counted once.
    expect({ fetched: timedOut.fetched, imported: timedOut.imported }, 'counts after a timed-out full sync').toEqual({ fetched: clean.fetched, imported: clean.imported });
    // The failed operation, then its window's two halves (not counting an id reconciliation's).
    expect(starts, 'bulk operations listing records').toBeGreaterThanOrEqual(3);

    // ACCESS_DENIED with every scope granted (protected customer data): the window is paged instead.
    await empty();
    h.sim.graphql.failNextBulkOperation('ACCESS_DENIED', 0);
    const denied = await service.importResource(name, { mode: 'full' });
    expect(denied, JSON.stringify(denied.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'full' });
    expect(denied.warnings.join(' ')).toMatch(/denied access/);
    expect(await counts(), 'after a denied full sync').toEqual(expected);

    // A windowed run over more changes than bulkThreshold is a bulk operation over its updated_at
    // window (or, for resources listed whole, over everything): timed out, split the same way.
    await empty();
    starts = 0;
    h.sim.graphql.failNextBulkOperation('TIMEOUT', 0.4);
    const windowed = await service.importResource(name, { dateRange: { from: '2000-01-01T00:00:00Z', to: new Date(Date.now() + 3_600_000).toISOString() }, bulkThreshold: 0 });
    expect(windowed, JSON.stringify(windowed.error ?? null)).toMatchObject({ status: 'succeeded', method: 'bulk' });
    expect(await counts(), 'after a timed-out windowed run').toEqual(expected);
    expect(starts).toBeGreaterThanOrEqual(3);
  });
});
