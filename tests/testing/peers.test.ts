import { describe, expect, it } from 'vitest';
import Shopify from 'shopify-api-node';
import { createAdminApiClient } from '@shopify/admin-api-client';
import { createShopifySimulator, createSimulatorAgent } from '../../src/testing/index.js';

describe('peers against the simulator', () => {
  it('shopify-api-node talks HTTPS to *.myshopify.com through createSimulatorAgent', async () => {
    const sim = await createShopifySimulator({ https: true, shops: [{ domain: 'peer-shop.myshopify.com', orders: 30 }] });
    expect(sim.url.startsWith('https://')).toBe(true);
    const shop = sim.shops[0];
    const agent = createSimulatorAgent(sim);
    const shopify = new Shopify({ shopName: 'peer-shop', accessToken: shop.accessToken, apiVersion: '2025-01', agent: { https: agent } as never });
    expect(await shopify.order.count({ status: 'any' })).toBe(30);
    let params: Record<string, unknown> | undefined = { status: 'any', limit: 7 };
    let total = 0;
    while (params) {
      const page = await shopify.order.list(params);
      total += page.length;
      params = page.nextPageParameters;
    }
    expect(total).toBe(30);
    const gql = await shopify.graphql('{ shop { name } }');
    expect(gql.shop.name).toBe('Simulated Shop 1');
    agent.destroy();
    await sim.stop();
  });

  it('@shopify/admin-api-client runs through a custom fetch', async () => {
    const sim = await createShopifySimulator({ shops: [{ domain: 'client-shop.myshopify.com', products: 4 }] });
    const shop = sim.shops[0];
    const client = createAdminApiClient({
      storeDomain: shop.domain,
      apiVersion: '2026-01',
      accessToken: shop.accessToken,
      // Send https://client-shop.myshopify.com/... to the simulator, keeping the path.
      customFetchApi: (url, init) => fetch(String(url).replace(/^https:\/\/[^/]+/, shop.baseUrl), init),
    });
    const { data, errors } = await client.request('{ products(first: 10) { nodes { id title } } }');
    expect(errors).toBeUndefined();
    expect(data.products.nodes).toHaveLength(4);
    await sim.stop();
  });
});
