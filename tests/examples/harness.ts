/**
 * Shared scenario for the example apps: a fresh PostgreSQL database, the Shopify simulator signing
 * webhooks with the app's secret, and assertions over real HTTP and real rows.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSessionToken } from 'shopify-ingest';
import { createStore } from '../../src/store/index.js';
import { createShopifySimulator, signWebhookBody, type ShopifySimulator, type SimulatedShop, type WebhookTopic } from 'shopify-ingest/testing';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The examples import the published entry points (`shopify-ingest`, `shopify-ingest/express`, ...).
 * Inside the repo, `examples/node_modules/shopify-ingest -> ../..` resolves them through the
 * package's exports map to dist/, exactly as `npm install` of `file:../..` would.
 */
export function linkPackageForExamples(): void {
  if (!existsSync(path.join(root, 'dist/index.js'))) {
    throw new Error('[shopify-ingest tests] dist/ is missing: the examples use the published entry points; run `npm run build` first');
  }
  const dir = path.join(root, 'examples/node_modules');
  const link = path.join(dir, 'shopify-ingest');
  mkdirSync(dir, { recursive: true });
  try {
    lstatSync(link);
  } catch {
    try {
      symlinkSync('../..', link, 'dir');
    } catch (error) {
      // Another test file, running in parallel, linked it first.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

export const API_KEY = 'example-client-id';
export const API_SECRET = 'example_app_secret_0123456789';
export const INGEST_KEY = 'k_example_ops_key';
export const TENANT = 'acme';

/** The seed's environment variables, as a host would set them. */
export function exampleEnv(databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    ENCRYPTION_KEY: 'example-encryption-key-32-bytes!',
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    INGEST_API_KEYS: INGEST_KEY,
    LOG_LEVEL: 'error',
  };
}

export interface Environment {
  db: TestDatabase;
  simulator: ShopifySimulator;
  shop: SimulatedShop;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startEnvironment(): Promise<Environment> {
  linkPackageForExamples();
  const db = await createTestDatabase({ prefix: 'si_examples' });
  const simulator = await createShopifySimulator({
    seed: 7,
    apiSecret: API_SECRET,
    shops: [{ domain: 'acme-example.myshopify.com', customers: 6, products: 4, orders: 8 }],
    unthrottled: true,
  });
  return {
    db,
    simulator,
    shop: simulator.shops[0]!,
    env: exampleEnv(db.url),
    async stop() {
      await simulator.stop();
      await db.drop();
    },
  };
}

export async function countRows(db: TestDatabase, table: 'shopify_customers' | 'shopify_products' | 'shopify_orders'): Promise<number> {
  const [row] = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table} WHERE tenant_id = $1 AND deleted_at IS NULL`, [TENANT]);
  return Number(row!.n);
}

/** Polls until `check` returns true (or fails the test after `timeoutMs`). */
export async function until(check: () => Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Unauthenticated and wrongly authenticated calls to the protected routes get a bare 401. */
export async function expectProtectedRoutes(baseUrl: string, shopDomain: string): Promise<void> {
  const sync = `${baseUrl}/api/shopify/sync/${TENANT}`;
  const json = { 'content-type': 'application/json' };
  for (const headers of [json, { ...json, 'x-api-key': 'wrong-key' }, { ...json, authorization: `Bearer ${signSessionToken({ shop: shopDomain, apiKey: API_KEY, apiSecret: 'not-the-secret' })}` }]) {
    const res = await fetch(sync, { method: 'POST', headers, body: '{"dataType":"customers"}' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'unauthorized' });
  }
  const status = await fetch(`${baseUrl}/api/shopify/status`);
  expect(status.status).toBe(401);
}

/** A webhook signed with the wrong secret is refused and never stored. */
export async function expectBadHmacRefused(webhookUrl: string, shopDomain: string, db: TestDatabase): Promise<void> {
  const body = JSON.stringify({ id: 1, tags: 'forged' });
  const res = await fetch(webhookUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': 'orders/updated',
      'x-shopify-hmac-sha256': signWebhookBody(body, 'not-the-app-secret'),
      'x-shopify-shop-domain': shopDomain,
      'x-shopify-api-version': '2025-07',
      'x-shopify-webhook-id': 'forged-delivery-1',
      'x-shopify-triggered-at': new Date().toISOString(),
    },
    body,
  });
  expect(res.status).toBe(401);
  const [row] = await db.query<{ n: string }>("SELECT count(*)::text AS n FROM shopify_webhook_inbox WHERE webhook_id = 'forged-delivery-1'");
  expect(Number(row!.n)).toBe(0);
}

/** Runs a full sync through the protected route, authenticated the way Shopify's embedded apps are. */
export async function syncThroughRoute(baseUrl: string, shopDomain: string): Promise<void> {
  const token = signSessionToken({ shop: shopDomain, apiKey: API_KEY, apiSecret: API_SECRET });
  const res = await fetch(`${baseUrl}/api/shopify/sync/${TENANT}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ dataType: 'all', batchSize: 50 }),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(JSON.parse(text).success).toBe(true);
}

export const TOPICS: WebhookTopic[] = ['customers/create', 'customers/update', 'products/update', 'products/delete', 'orders/updated', 'orders/delete'];

/**
 * Changes in the simulator, delivered as signed webhooks to the app; returns what to expect.
 * `waitProcessed` resolves once the app's inbox is drained.
 */
/**
 * Syncs the tenant through the app's protected route, checks session tokens are scoped to their shop,
 * and checks the seeded store landed (6 customers, 4 products, 8 orders); returns the counts that
 * {@link expectRowsChanged} compares against.
 */
export async function syncAndExpectSeededRows(baseUrl: string, env: Environment): Promise<{ customers: number; products: number }> {
  await syncThroughRoute(baseUrl, env.shop.domain);
  await expectSessionTokensScopedToTheirShop(baseUrl, env.shop.domain);
  const before = { customers: await countRows(env.db, 'shopify_customers'), products: await countRows(env.db, 'shopify_products') };
  expect(before).toEqual({ customers: 6, products: 4 });
  expect(await countRows(env.db, 'shopify_orders')).toBe(8);
  return before;
}

export async function changeShopAndAwaitWebhooks(env: Environment, webhookUrl: string, waitProcessed: () => Promise<boolean>) {
  const { shop, simulator } = env;
  for (const topic of TOPICS) shop.subscribe(topic, webhookUrl);
  const orderId = shop.idOf('orders', 0);
  const productId = shop.idOf('products', 1);
  const customerId = shop.idOf('customers', 2);
  shop.update('orders', orderId, { tags: 'vip, via-webhook' });
  shop.update('customers', customerId, { tags: 'newsletter' });
  shop.create('customers', { email: 'new-customer@example.com', first_name: 'Nora' });
  shop.delete('products', productId);

  await simulator.webhooks.waitForDeliveries(15_000);
  const deliveries = simulator.webhooks.deliveries;
  expect(deliveries.length).toBeGreaterThanOrEqual(4);
  expect(deliveries.map((d) => d.status)).toEqual(deliveries.map(() => 200));
  await until(waitProcessed, 15_000, 'the webhook inbox to drain');
  return { orderId, productId, customerId };
}

/** The rows the webhooks should have changed. */
export async function expectRowsChanged(db: TestDatabase, ids: { orderId: number | bigint; productId: number | bigint; customerId: number | bigint }, before: { customers: number; products: number }): Promise<void> {
  const [order] = await db.query<{ tags: string }>('SELECT tags FROM shopify_orders WHERE tenant_id = $1 AND id = $2', [TENANT, ids.orderId.toString()]);
  expect(order?.tags).toBe('vip, via-webhook');
  const [customer] = await db.query<{ tags: string }>('SELECT tags FROM shopify_customers WHERE tenant_id = $1 AND id = $2', [TENANT, ids.customerId.toString()]);
  expect(customer?.tags).toBe('newsletter');
  const [product] = await db.query<{ deleted: boolean }>('SELECT deleted_at IS NOT NULL AS deleted FROM shopify_products WHERE tenant_id = $1 AND id = $2', [TENANT, ids.productId.toString()]);
  expect(product?.deleted).toBe(true);
  expect(await countRows(db, 'shopify_customers')).toBe(before.customers + 1);
  expect(await countRows(db, 'shopify_products')).toBe(before.products - 1);
}

/** A free TCP port on 127.0.0.1 (for servers that cannot report the port they picked). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Runs an example's `src/server.ts` as its own process (`npm start` does `tsx src/server.ts`),
 * checks it serves, then sends SIGTERM and expects a clean exit after the service has stopped.
 */
export async function expectStandaloneServerStopsOnSigterm(example: 'express' | 'fastify', env: Record<string, string>): Promise<void> {
  const port = await freePort();
  // Through the tsx CLI, as `npm start` runs it: the signal goes to tsx, which relays it to the app.
  const child = spawn(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'src/server.ts'], {
    cwd: path.join(root, 'examples', example),
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`${example} server exited with ${child.exitCode}:\n${output}`);
      return fetch(`http://127.0.0.1:${port}/healthz`).then((res) => res.ok, () => false);
    }, 20_000, `the ${example} server to listen`);
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000))]);
    expect(code, output).toBe(0);
    const messages = output.split('\n').filter((line) => line.startsWith('{')).map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toEqual(expect.arrayContaining(['shopify-ingest initialized', 'listening', 'shutting down', 'shopify-ingest stopped']));
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** A session token reaches its own shop's tenant only; a static key (an operator's) reaches all. */
export async function expectSessionTokensScopedToTheirShop(baseUrl: string, shopDomain: string): Promise<void> {
  const bearer = (shop: string) => ({ authorization: `Bearer ${signSessionToken({ shop, apiKey: API_KEY, apiSecret: API_SECRET })}` });
  const other = bearer('someone-else.myshopify.com');
  const sync = await fetch(`${baseUrl}/api/shopify/sync/${TENANT}`, { method: 'POST', headers: { ...other, 'content-type': 'application/json' }, body: '{"dataType":"customers"}' });
  expect(sync.status).toBe(403);
  expect(await sync.json()).toEqual({ error: 'forbidden' });

  type Status = { tenants: Array<{ tenantId: string }>; statistics?: unknown; health: Record<string, unknown> };
  const theirs = await (await fetch(`${baseUrl}/api/shopify/status`, { headers: other })).json() as Status;
  expect(theirs.tenants).toEqual([]);
  expect(theirs.statistics).toBeUndefined();
  // Health's detail names tenants (failing syncs, reauth, dead letters): a session token gets the status alone.
  expect(Object.keys(theirs.health)).toEqual(['status']);
  expect(JSON.stringify(theirs)).not.toContain(TENANT);
  const own = await (await fetch(`${baseUrl}/api/shopify/status`, { headers: bearer(shopDomain) })).json() as Status;
  expect(own.tenants.map((t) => t.tenantId)).toEqual([TENANT]);
  const operator = await (await fetch(`${baseUrl}/api/shopify/status`, { headers: { 'x-api-key': INGEST_KEY } })).json() as Status;
  expect(operator.statistics).toBeDefined();
  expect(Object.keys(operator.health).length).toBeGreaterThan(1);
}

/** A malformed JSON body on the sync route is the caller's mistake: 400, not 500. */
export async function expectMalformedBodyRefused(baseUrl: string): Promise<void> {
  const res = await fetch(`${baseUrl}/api/shopify/sync/${TENANT}`, { method: 'POST', headers: { 'x-api-key': INGEST_KEY, 'content-type': 'application/json' }, body: '{"dataType":' });
  expect(res.status).toBe(400);
}

/**
 * A sync of a resource another run is importing (here: a run lock held as another process would)
 * answers 409 with IMPORT_ALREADY_RUNNING and starts nothing; once released, the sync runs.
 */
export async function expectRunningSyncConflict(baseUrl: string, db: TestDatabase): Promise<void> {
  const store = createStore(db.database);
  const lock = { tenantId: TENANT, resource: 'products' as const, runId: 'held-by-another-process' };
  expect(await store.acquireRunLock({ ...lock, now: new Date(), ttlMs: 60_000 })).toMatchObject({ acquired: true });
  const sync = () => fetch(`${baseUrl}/api/shopify/sync/${TENANT}`, { method: 'POST', headers: { 'x-api-key': INGEST_KEY, 'content-type': 'application/json' }, body: '{"dataType":"products"}' });
  try {
    const res = await sync();
    expect(res.status).toBe(409);
    const body = await res.json() as { success: boolean; error: { code: string; message: string } };
    expect(body).toMatchObject({ success: false, error: { code: 'IMPORT_ALREADY_RUNNING' } });
    expect(body.error.message).toContain('held-by-another-process');
  } finally {
    await store.releaseRunLock(lock);
  }
  expect((await sync()).status).toBe(200);
}

/** A running Node example (Express or Fastify): where it listens, its service, how to stop it. */
export interface BootedNodeExample {
  baseUrl: string;
  webhookPath: string;
  service: { addTenant: (...args: any[]) => Promise<unknown>; webhooks?: { getStats(): Promise<{ pending: number; processed: number }> } };
  close(): Promise<void>;
}

/**
 * The scenario every Node example must pass, through real HTTP: health check, protected routes,
 * forged webhooks refused, a sync through the protected route, the simulator's webhooks applied to
 * the database, bad bodies and unknown tenants refused, and a clean SIGTERM when run standalone.
 */
export function describeNodeExample(name: 'express' | 'fastify', boot: (env: Environment) => Promise<BootedNodeExample>): void {
  describe(`examples/${name}`, () => {
    let env: Environment;
    let example: BootedNodeExample;
    let baseUrl: string;
    let WEBHOOK_PATH: string;

    beforeAll(async () => {
      env = await startEnvironment();
      example = await boot(env);
      baseUrl = example.baseUrl;
      WEBHOOK_PATH = example.webhookPath;
    });

    afterAll(async () => {
      await example?.close();
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

    it('syncs a tenant through the protected route, then applies the simulator\'s webhooks to the database', { timeout: 120_000 }, async () => {
      const { shop, simulator, db } = env;
      await example.service.addTenant(TENANT, { shopDomain: shop.domain, accessToken: shop.accessToken }, { client: { baseUrl: simulator.url } });

      const before = await syncAndExpectSeededRows(baseUrl, env);

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

    it('answers 409 while another run imports the resource', async () => {
      await expectRunningSyncConflict(baseUrl, env.db);
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
      await expectStandaloneServerStopsOnSigterm(name, env.env);
    });
  });
}
