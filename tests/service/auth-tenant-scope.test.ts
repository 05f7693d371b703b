/**
 * The facade's auth middleware scopes a session token to its shop's tenant: on the README's sync
 * route (`/api/shopify/sync/:tenantId`, verbatim below), shop A's merchant could sync shop B's tenant
 * (found by review: 200 and B's customers stored). Now 403 and nothing stored; the shop's own
 * tenant and an operator's API key pass. Fastify's preHandler gets the same.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestionService, ShopifyIngestError, signSessionToken, silentLogger, type IngestionService } from '../../src/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import Fastify from 'fastify';

const API_KEY = 'scope-client-id';
const API_SECRET = 'scope_app_secret_0123456789';
let db: TestDatabase;
let sim: ShopifySimulator;
let env: Record<string, string>;

async function listen(app: express.Express) {
  const server: Server = await new Promise((r) => { const s = app.listen(0, '127.0.0.1', () => r(s)); });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
const bearer = (shop: string) => `Bearer ${signSessionToken({ shop, apiKey: API_KEY, apiSecret: API_SECRET })}`;

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_auth_scope' });
  sim = await createShopifySimulator({ seed: 3, apiSecret: API_SECRET, unthrottled: true, shops: [
    { domain: 'shop-a-scope.myshopify.com', customers: 2, products: 1, orders: 1 },
    { domain: 'shop-b-scope.myshopify.com', customers: 3, products: 1, orders: 1 },
  ] });
  env = { DATABASE_URL: db.url, ENCRYPTION_KEY: 'scope-test-encryption-key-32byte', SHOPIFY_API_KEY: API_KEY, SHOPIFY_API_SECRET: API_SECRET, INGEST_API_KEYS: 'k_ops', LOG_LEVEL: 'error' };
}, 120_000);
afterAll(async () => { await sim?.stop(); await db?.drop(); });

describe('README quick start (Express): POST /api/shopify/sync/:tenantId', () => {
  let service: IngestionService;
  afterAll(async () => { await service?.shutdown({ timeoutMs: 5000 }); });
  const customersOf = async (tenant: string) => Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM shopify_customers WHERE tenant_id = $1`, [tenant]))[0]!.n);

  it('a session token reaches its own shop\'s tenant only; an API key reaches every tenant', async () => {
    service = createIngestionService(db.database, { env, logger: silentLogger, scheduler: { enabled: false }, healthCheckIntervalMs: 0 });
    await service.initialize();
    const [a, b] = sim.shops;
    await service.addTenant('tenant-a', { shopDomain: a!.domain, accessToken: a!.accessToken }, { client: { baseUrl: sim.url } });
    await service.addTenant('tenant-b', { shopDomain: b!.domain, accessToken: b!.accessToken }, { client: { baseUrl: sim.url } });

    // ---- README.md "Quick start in your app", step 3 (minus the simulator part) ----
    const app = express();
    service.setupWebhookEndpoints(app);
    const auth = service.createAuthMiddleware();
    function statusOf(error: unknown): number {
      const code = error instanceof ShopifyIngestError ? error.code : '';
      if (code === 'TENANT_NOT_FOUND') return 404;
      if (code === 'CONFIG_INVALID' || code === 'TENANT_REQUIRED') return 400;
      if (code === 'IMPORT_ALREADY_RUNNING') return 409;
      return 500;
    }
    app.post('/api/shopify/sync/:tenantId', auth, async (req, res) => {
      const { dataType = 'all', ...options } = req.body ?? {};
      try {
        res.json({ success: true, result: await service.importData(req.params.tenantId, dataType, options) });
      } catch (error) {
        const code = error instanceof ShopifyIngestError ? error.code : 'INTERNAL';
        res.status(statusOf(error)).json({ success: false, code, error: (error as Error).message });
      }
    });
    // ----
    const server = await listen(app);
    const sync = (tenant: string, headers: Record<string, string>) => fetch(`${server.base}/api/shopify/sync/${tenant}`, {
      method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"dataType":"customers","mode":"full"}',
    });
    try {
      const refused = await sync('tenant-b', { authorization: bearer(a!.domain) });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toEqual({ error: 'forbidden' });
      expect(await customersOf('tenant-b')).toBe(0);
      // A tenant that does not exist is not told apart from another shop's.
      expect((await sync('no-such-tenant', { authorization: bearer(a!.domain) })).status).toBe(403);

      const own = await sync('tenant-b', { authorization: bearer(b!.domain.toUpperCase()) });
      expect(own.status, await own.clone().text()).toBe(200);
      expect(await customersOf('tenant-b')).toBe(3);
      const operator = await sync('tenant-a', { 'x-api-key': 'k_ops' });
      expect(operator.status).toBe(200);
      expect(await customersOf('tenant-a')).toBe(2);
      expect((await sync('tenant-a', {})).status).toBe(401);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('as a Fastify preHandler', async () => {
    const app = Fastify();
    app.post<{ Params: { tenantId: string } }>('/api/shopify/sync/:tenantId', { preHandler: service.createAuthMiddleware() as never }, async (request) => ({ tenant: request.params.tenantId }));
    try {
      const post = (tenant: string, shop: string) => app.inject({ method: 'POST', url: `/api/shopify/sync/${tenant}`, headers: { authorization: bearer(shop) } });
      const refused = await post('tenant-b', sim.shops[0]!.domain);
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toEqual({ error: 'forbidden' });
      expect((await post('tenant-a', sim.shops[0]!.domain)).json()).toEqual({ tenant: 'tenant-a' });
    } finally {
      await app.close();
    }
  });
});
