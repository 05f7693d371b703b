/**
 * examples/fastify, booted on port 0 against a fresh PostgreSQL database, fed by the simulator's
 * signed webhooks over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from 'shopify-ingest';
import { createApp, WEBHOOK_PATH, type ExampleApp } from '../../examples/fastify/src/app.js';
import {
  INGEST_KEY, TENANT, changeShopAndAwaitWebhooks, countRows, expectBadHmacRefused, expectMalformedBodyRefused, expectProtectedRoutes,
  expectRowsChanged, expectSessionTokensScopedToTheirShop, expectStandaloneServerStopsOnSigterm, startEnvironment, syncThroughRoute, type Environment,
} from './harness.js';

describe('examples/fastify', () => {
  let env: Environment;
  let example: ExampleApp;
  let baseUrl: string;

  beforeAll(async () => {
    env = await startEnvironment();
    // The app opens its own database from DATABASE_URL, as it does when run standalone.
    example = await createApp({ env: env.env, service: { logger: silentLogger } });
    baseUrl = await example.app.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await example?.close(); // app.close(): its onClose hook shuts the service down
    await env?.stop();
  });

  it('answers its health check', async () => {
    const res = await fetch(`${baseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'healthy' });
  });

  it('protects the sync and status routes and refuses a forged webhook', async () => {
    await expectProtectedRoutes(baseUrl, env.shop.domain);
    await expectBadHmacRefused(`${baseUrl}${WEBHOOK_PATH}`, env.shop.domain, env.db);
  });

  it('syncs a tenant through the protected route, then applies the simulator\'s webhooks to the database', async () => {
    const { shop, simulator, db } = env;
    await example.service.addTenant(TENANT, { shopDomain: shop.domain, accessToken: shop.accessToken }, { client: { baseUrl: simulator.url } });

    await syncThroughRoute(baseUrl, shop.domain);
    await expectSessionTokensScopedToTheirShop(baseUrl, shop.domain);
    const before = { customers: await countRows(db, 'shopify_customers'), products: await countRows(db, 'shopify_products') };
    expect(before).toEqual({ customers: 6, products: 4 });
    expect(await countRows(db, 'shopify_orders')).toBe(8);

    const ids = await changeShopAndAwaitWebhooks(env, `${baseUrl}${WEBHOOK_PATH}`, async () => {
      const stats = await example.service.webhooks!.getStats();
      return stats.pending === 0 && stats.processed >= simulator.webhooks.deliveries.length;
    });
    await expectRowsChanged(db, ids, before);

    const status = await fetch(`${baseUrl}/api/shopify/status`, { headers: { 'x-api-key': INGEST_KEY } });
    expect(status.status).toBe(200);
    const body = await status.json() as { tenants: Array<{ tenantId: string; stats: { customers: number } }>; statistics: { webhookStats: { received: number } } };
    expect(body.tenants).toEqual([expect.objectContaining({ tenantId: TENANT, stats: expect.objectContaining({ customers: 7 }) })]);
    expect(body.statistics.webhookStats.received).toBe(simulator.webhooks.deliveries.length);
  });

  it('answers 400 for a malformed body', async () => {
    await expectMalformedBodyRefused(baseUrl);
  });

  it('answers 404 for an unknown tenant', async () => {
    const res = await fetch(`${baseUrl}/api/shopify/sync/nobody`, { method: 'POST', headers: { 'x-api-key': INGEST_KEY, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(404);
    expect((await res.json() as { error: { code: string } }).error.code).toBe('TENANT_NOT_FOUND');
  });

  it('runs standalone (src/server.ts) and shuts down cleanly on SIGTERM', async () => {
    await expectStandaloneServerStopsOnSigterm('fastify', env.env);
  });
});
