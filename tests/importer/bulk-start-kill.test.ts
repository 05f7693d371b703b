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
    shops: [{ customers: 30, products: 10, orders: 60 }, { customers: 30, products: 10, orders: 60 }],
  });
});
afterAll(async () => { await h?.close(); });

/** The client, counting the data operations it starts; `killAfterStart` makes the first start's answer the last thing the run sees. */
function instrumented(client: ShopifyClient, killAfterStart: boolean) {
  const ids = bulkIdsQuery(getResource('orders'));
  const seen = { starts: 0, started: [] as string[] };
  const wrapped = Object.create(client) as ShopifyClient;
  wrapped.graphql = (async (query: string, variables?: Record<string, unknown>, ...rest: unknown[]) => {
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
  expect(JSON.parse(cursor!)).toMatchObject({ method: 'bulk', op: null, starting: expect.any(String) });
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
});
