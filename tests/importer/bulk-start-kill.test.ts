/**
 * A run killed after Shopify accepted its bulk operation but before it saved the operation's id
 * (the only moment the cursor cannot name it): the next run finds that operation, running or
 * completed meanwhile, and starts no second one (#16: "A process killed while the operation runs
 * re-attaches to it (no second operation)"). The kill is a thrown error right after the answer,
 * as if the process had died there: nothing after it runs. The crash test
 * (tests/importer/crash-registry.test.ts) does the same with real processes and SIGKILL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShopifyClient } from '../../src/client/index.js';
import { bulkIdsQuery } from '../../src/importer/queries.js';
import { getResource } from '../../src/resources/index.js';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50 };
beforeAll(async () => {
  h = await createHarness({
    bulk: { startDelayMs: 1_500, rowsPerSecond: 20_000 },
    shops: [{ customers: 30, products: 10, orders: 60 }, { customers: 30, products: 10, orders: 60 }, { customers: 30, products: 10, orders: 60 }],
  });
});
afterAll(async () => { await h?.close(); });

/**
 * The client, counting the data operations it starts. `kill`: 'after' makes the first start's
 * answer the last thing the run sees; 'before' kills the run as it sends the start (no operation).
 */
function instrumented(client: ShopifyClient, killAfterStart: boolean, killBeforeStart = false) {
  const ids = bulkIdsQuery(getResource('orders'));
  const seen = { starts: 0, started: [] as string[] };
  const wrapped = Object.create(client) as ShopifyClient;
  wrapped.graphql = (async (query: string, variables?: Record<string, unknown>, ...rest: unknown[]) => {
    if (killBeforeStart && /bulkOperationRunQuery/.test(query) && variables?.query !== ids) throw new Error('killed before the start was sent');
    const data = await (client.graphql as (...a: unknown[]) => Promise<unknown>)(query, variables, ...rest);
    if (/bulkOperationRunQuery/.test(query) && variables?.query !== ids) {
      seen.starts++;
      const id = (data as { bulkOperationRunQuery?: { bulkOperation?: { id?: string } } }).bulkOperationRunQuery?.bulkOperation?.id;
      if (id) seen.started.push(id);
      if (killAfterStart) throw new Error('killed after Shopify accepted the operation');
    }
    return data;
  }) as ShopifyClient['graphql'];
  return { client: wrapped, seen };
}

async function statusOf(client: ShopifyClient, id: string): Promise<string> {
  const data = await client.graphql<{ bulkOperation: { status: string } }>('query Status($id: ID!) { bulkOperation(id: $id) { status } }', { id });
  return data.bulkOperation.status;
}

async function killedAfterStart(tenant: string, shopIndex: number) {
  const { client, shop } = await connectTenant(h, tenant, shopIndex);
  const killed = instrumented(client, true);
  const first = await importer(h, killed.client, tenant, { bulk: BULK }).importResource('orders', { mode: 'full' }).catch((e: Error) => e);
  expect(first).toBeInstanceOf(Error);
  expect(killed.seen.starts).toBe(1);
  const [{ cursor }] = await h.db.query<{ cursor: string | null }>(`SELECT cursor FROM shopify_sync_checkpoints WHERE tenant_id = $1 AND resource = 'orders'`, [tenant]);
  // The cursor says an operation was asked for, and cannot name it.
  expect(JSON.parse(cursor!)).toMatchObject({ method: 'bulk', op: null, askedAfter: expect.stringMatching(/^\d+$/) });
  return { client, shop, operation: killed.seen.started[0] };
}

async function storedOrders(tenant: string): Promise<number> {
  const [{ n }] = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_orders WHERE tenant_id = $1`, [tenant]);
  return n;
}

describe('a run killed between starting a bulk operation and saving its id', { timeout: 120_000 }, () => {
  it('the next run attaches to that operation once it completed: no second operation', async () => {
    const { client, operation } = await killedAfterStart('start-kill-1', 0);
    for (let i = 0; i < 200 && (await statusOf(client, operation)) !== 'COMPLETED'; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await statusOf(client, operation)).toBe('COMPLETED');
    const again = instrumented(client, false);
    const run = await importer(h, again.client, 'start-kill-1', { bulk: BULK }).importResource('orders');
    expect(run).toMatchObject({ status: 'succeeded', resumed: true, mode: 'full', method: 'bulk' });
    expect(again.seen.starts).toBe(0);
    expect(await storedOrders('start-kill-1')).toBe(60);
  });

  it('the next run attaches to that operation while it runs', async () => {
    const { client, operation } = await killedAfterStart('start-kill-2', 1);
    expect(['CREATED', 'RUNNING']).toContain(await statusOf(client, operation));
    const again = instrumented(client, false);
    const run = await importer(h, again.client, 'start-kill-2', { bulk: BULK }).importResource('orders');
    expect(run).toMatchObject({ status: 'succeeded', resumed: true, method: 'bulk' });
    expect(again.seen.starts).toBe(0);
    expect(await storedOrders('start-kill-2')).toBe(60);
    // A later full sync is not taken for the killed one: it asks for an operation of its own.
    const later = instrumented(client, false);
    expect(await importer(h, later.client, 'start-kill-2', { bulk: BULK }).importResource('orders', { mode: 'full' })).toMatchObject({ status: 'succeeded', resumed: false });
    expect(later.seen.starts).toBe(1);
  });

  it('an older completed operation of the same query (the previous full sync\'s) is not taken for the one asked for', async () => {
    // Found by review: looked for by creation time with a clock-skew allowance, the previous run's
    // operation (a full sync's query is the same every time) was attached to, and its older data
    // moved the watermark past changes it did not hold.
    const { client, shop } = await connectTenant(h, 'start-kill-3', 2);
    expect(await importer(h, client, 'start-kill-3', { bulk: BULK }).importResource('orders', { mode: 'full' })).toMatchObject({ status: 'succeeded' });
    const order = shop.idOf('orders', 7);
    shop.update('orders', order, { tags: 'changed-after-the-first-full-sync' });
    // Killed as it asks for the next full sync's operation: none is created, the cursor says one was being asked for.
    const killed = instrumented(client, false, true);
    expect(await importer(h, killed.client, 'start-kill-3', { bulk: BULK }).importResource('orders', { mode: 'full' }).catch((e: Error) => e)).toBeInstanceOf(Error);
    const [{ cursor }] = await h.db.query<{ cursor: string | null }>(`SELECT cursor FROM shopify_sync_checkpoints WHERE tenant_id = 'start-kill-3' AND resource = 'orders'`);
    expect(JSON.parse(cursor!)).toMatchObject({ op: null, askedAfter: expect.stringMatching(/^\d+$/) });
    const again = instrumented(client, false);
    expect(await importer(h, again.client, 'start-kill-3', { bulk: BULK }).importResource('orders')).toMatchObject({ status: 'succeeded', resumed: true, mode: 'full' });
    expect(again.seen.starts).toBe(1);
    const [{ tags }] = await h.db.query<{ tags: string | null }>(`SELECT tags FROM shopify_orders WHERE tenant_id = 'start-kill-3' AND id = $1`, [String(order)]);
    expect(tags).toBe('changed-after-the-first-full-sync');
  });
});
