/**
 * `BulkOperations.findRunning` against the simulator: an operation Shopify has created but not yet
 * started (`CREATED`) is running for this purpose. Missed, a run re-attaching after a crash, or a start
 * whose mutation failed ambiguously, starts a second operation of the same query: a wasted slot of the
 * shop's five. (Before 2026-01, `currentBulkOperation` is read instead, and CREATED counted there.)
 * With `completedAfter` (`newestId` taken before asking), a completed operation counts too, only
 * above the mark: a run killed before it saved the id of the operation it asked for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyClient } from '../../src/client/index.js';
import { BulkOperations } from '../../src/client/bulk-operations.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';

const CUSTOMERS = '{ customers { edges { node { id } } } }';
let sim: ShopifySimulator;
beforeAll(async () => {
  // Operations stay CREATED for 1,000 s of simulated time (1 s real): long enough for the lookups.
  sim = await createShopifySimulator({ seed: 3, timeScale: 1000, unthrottled: true, bulk: { startDelayMs: 1_000_000 }, shops: [{ customers: 5 }] });
});
afterAll(() => sim?.stop());

function bulkOf(version: string) {
  const shop = sim.shops[0];
  const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: sim.url, apiVersion: version });
  return { client, bulk: new BulkOperations(client, { minPollMs: 1, maxPollMs: 5 }) };
}

describe('findRunning', () => {
  it('finds an operation of its query that Shopify has created but not started yet', async () => {
    const { client, bulk } = bulkOf('2026-10');
    try {
      const started = await bulk.start(CUSTOMERS);
      expect(started.status).toBe('CREATED');
      const found = await bulk.findRunning(CUSTOMERS);
      expect(found?.id, 'a CREATED operation was taken for "none running": a second one would be started').toBe(started.id);
      expect(await bulk.findRunning('{ products { edges { node { id } } } }')).toBeNull();
      await bulk.cancel(started.id);
    } finally {
      await client.close();
    }
  });

  // A run killed between asking for an operation and saving its id looks for it with the newest id
  // there was before asking: a completed one counts only above it (an older one of the same query
  // is a previous run's). Before 2026-01 both come from `currentBulkOperation` (the next test).
  it('with completedAfter, finds an operation of its query completed since, never an older one', async () => {
    const { client, bulk } = bulkOf('2026-10');
    try {
      const before = await bulk.newestId();
      expect(before).toMatch(/^\d+$/);
      const started = await bulk.start(CUSTOMERS);
      expect(BigInt(await bulk.newestId())).toBeGreaterThan(BigInt(before));
      expect(await bulk.waitFor(started.id)).toMatchObject({ status: 'COMPLETED' });
      expect(await bulk.findRunning(CUSTOMERS), 'completed is not running').toBeNull();
      expect((await bulk.findRunning(CUSTOMERS, { completedAfter: before }))?.id).toBe(started.id);
      expect(await bulk.findRunning(CUSTOMERS, { completedAfter: await bulk.newestId() }), 'older than the mark').toBeNull();
      expect(await bulk.findRunning('{ products { edges { node { id } } } }', { completedAfter: before })).toBeNull();
    } finally {
      await client.close();
    }
  });

  it('before 2026-01 (no bulkOperations), newestId and completedAfter read currentBulkOperation', async () => {
    // A shop answering as versions before 2026-01 do: `bulkOperations` is not a field.
    let current: Record<string, unknown> | null = null;
    const sent: string[] = [];
    const client = {
      shopDomain: 'legacy.myshopify.com',
      async graphql<T>(query: string): Promise<T> {
        sent.push(/query (\w+)/.exec(query)?.[1] ?? query);
        if (query.includes('bulkOperations(')) throw Object.assign(new Error('undefined field'), { errors: [{ message: "Field 'bulkOperations' doesn't exist on type 'QueryRoot'", extensions: { code: 'undefinedField' } }] });
        if (query.includes('currentBulkOperation')) return { currentBulkOperation: current } as T;
        throw new Error(`unexpected ${query}`);
      },
    };
    const bulk = new BulkOperations(client);
    expect(await bulk.newestId()).toBe('0');
    const op = (id: number, status: string) => ({ id: `gid://shopify/BulkOperation/${id}`, status, query: CUSTOMERS, errorCode: null, objectCount: '5', rootObjectCount: '5', fileSize: null, url: null, partialDataUrl: null, createdAt: null, completedAt: null });
    current = op(41, 'COMPLETED');
    expect(await bulk.newestId()).toBe('41');
    expect(await bulk.findRunning(CUSTOMERS), 'completed is not running').toBeNull();
    expect(await bulk.findRunning(CUSTOMERS, { completedAfter: '41' }), 'not above the mark').toBeNull();
    current = op(42, 'COMPLETED');
    expect((await bulk.findRunning(CUSTOMERS, { completedAfter: '41' }))?.id).toBe('gid://shopify/BulkOperation/42');
    expect((await bulk.findRunning(CUSTOMERS))).toBeNull();
    current = op(43, 'RUNNING');
    expect((await bulk.findRunning(CUSTOMERS))?.id).toBe('gid://shopify/BulkOperation/43');
    // Told once that the field is undefined, it asks currentBulkOperation straight away.
    expect(sent.filter((q) => q !== 'ShopifyIngestBulkCurrent')).toEqual(['ShopifyIngestBulkNewest']);
  });
});
