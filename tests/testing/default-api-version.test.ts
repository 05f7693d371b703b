/**
 * The simulator speaks the SDK's DEFAULT_API_VERSION unless told otherwise: subscriptions it holds and
 * the webhooks it signs carry it, so verifyWebhookSubscriptions against a default simulator is in
 * sync instead of reporting every subscription mismatched on apiVersion forever. An explicit
 * `apiVersion` still wins.
 */
import { describe, expect, it } from 'vitest';
import { createShopifySimulator, runSimulatorCli, type ShopifySimulator } from '../../src/testing/index.js';
import { DEFAULT_API_VERSION } from '../../src/client/config.js';
import { syncWebhookSubscriptions, type SubscriptionClient } from '../../src/webhooks/subscriptions.js';

const SHOP = 'default-version.myshopify.com';
const URI = 'https://ingest.example.com/api/webhooks/shopify';

function clientOf(sim: ShopifySimulator): SubscriptionClient {
  return {
    async graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      const res = await fetch(`${sim.url}/admin/api/${DEFAULT_API_VERSION}/graphql.json`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-access-token': sim.shop(SHOP).accessToken }, body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: T; errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data!;
    },
  };
}

describe('the simulator\'s default API version', () => {
  it('is DEFAULT_API_VERSION: subscriptions the SDK created are in sync on the next check', async () => {
    const sim = await createShopifySimulator({ seed: 5, shops: [{ domain: SHOP, customers: 1, products: 1, orders: 1 }], unthrottled: true });
    try {
      const target = { tenantId: 't', uri: URI, resources: ['orders'] as const, apiVersion: DEFAULT_API_VERSION };
      const first = await syncWebhookSubscriptions(clientOf(sim), target, { repair: true });
      expect(first.repaired?.errors).toEqual([]);
      expect(sim.shop(SHOP).subscriptions.map((s) => s.api_version)).toEqual(sim.shop(SHOP).subscriptions.map(() => DEFAULT_API_VERSION));
      const again = await syncWebhookSubscriptions(clientOf(sim), target);
      expect(again).toMatchObject({ inSync: true, missing: [], mismatched: [], extra: [] });
    } finally {
      await sim.stop();
    }
  });

  it('an explicit apiVersion is kept', async () => {
    const sim = await createShopifySimulator({ seed: 5, apiVersion: '2026-01', shops: [{ domain: SHOP, orders: 1 }], unthrottled: true });
    try {
      sim.shop(SHOP).subscribe('orders/create', URI);
      expect(sim.shop(SHOP).subscriptions[0]!.api_version).toBe('2026-01');
    } finally {
      await sim.stop();
    }
  });

  it('the simulator command suggests a curl on DEFAULT_API_VERSION that answers', async () => {
    let out = '';
    const controller = new AbortController();
    await runSimulatorCli(['--orders', '3'], { stdout: { write: (s: string) => (out += s) }, signal: controller.signal, onStarted: () => controller.abort() });
    expect(out).toContain(`/admin/api/${DEFAULT_API_VERSION}/orders.json?status=any&limit=2`);
    expect(out).not.toContain('/admin/api/2025-10/');
  });
});
