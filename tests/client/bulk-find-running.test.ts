/**
 * `BulkOperations.findRunning` against the simulator: an operation Shopify has created but not yet
 * started (`CREATED`) is running for this purpose. Missed, a run re-attaching after a crash, or a start
 * whose mutation failed ambiguously, starts a second operation of the same query: a wasted slot of the
 * shop's five. (Before 2026-01, `currentBulkOperation` is read instead, and CREATED counted there.)
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
});
