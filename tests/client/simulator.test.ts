import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createShopifyClient } from '../../src/client/index.js';

// Against the project's simulator (a real HTTP server): faults of every kind must not fail a sync.
let sim: ShopifySimulator;
beforeAll(async () => {
  sim = await createShopifySimulator({
    seed: 3,
    shops: [{ orders: 1200, bigIds: true }],
    timeScale: 50, // a 40-request bucket leaking 100/s
    faults: { rates: { server_error: 0.08, reset: 0.08, malformed: 0.05, truncated: 0.05, storm: 0.04 } },
  });
});
afterAll(async () => {
  await sim?.stop();
});

describe('client against the simulator', () => {
  it('pages through every order despite 5xx, resets, malformed and truncated bodies and 429 storms', async () => {
    const shop = sim.shops[0];
    const client = createShopifyClient({
      shopDomain: shop.domain,
      accessToken: shop.accessToken,
      baseUrl: sim.url,
      leakRate: 100,
      retryOptions: { retries: 8, minTimeout: 5, maxTimeout: 50 },
    });
    const orders = await client.fetchAllPages<{ id: bigint | number }>('/orders.json', { status: 'any', limit: 250, fields: 'id,updated_at' });
    expect(orders).toHaveLength(1200);
    expect(new Set(orders.map((o) => String(o.id))).size).toBe(1200);
    expect(orders.some((o) => typeof o.id === 'bigint' && o.id > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
    const faults = sim.stats(0).faults;
    expect(Object.values(faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    await client.close();
  });

  it('runs GraphQL queries and reads the cost bucket from the responses', async () => {
    sim.faults.configure({ rates: {} });
    const shop = sim.shops[0];
    const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: sim.url, retryOptions: { retries: 8, minTimeout: 5, maxTimeout: 50 } });
    const data = await client.graphql<{ orders: { nodes: Array<{ id: string }> } }>('query($n: Int!) { orders(first: $n) { nodes { id } } }', { n: 50 });
    expect(data.orders.nodes).toHaveLength(50);
    expect(client.getRateLimitStatus().graphql.maximumAvailable).toBeGreaterThan(0);
    await client.close();
  });
});
