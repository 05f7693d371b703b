/**
 * The facade end to end: a real PostgreSQL database, the Shopify simulator over real HTTP and,
 * for webhooks, a real Express server. The tests share one database and one simulator and run in
 * order (each builds on the tenants the previous ones left).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import {
  ConfigError,
  ImportError,
  ShopifyIngestError,
  createIngestionService,
  createJsonLogger,
  createKeyRing,
  signWebhookBody,
  type ImportAllResult,
  type ImportResult,
  type IngestionService,
  type IngestionServiceOptions,
} from '../../src/index.js';
import { PrismaClient } from '../../src/prisma.js';
import { createDatabaseHandle, type DatabaseHandle } from '../../src/store/index.js';
import { RESOURCE_NAMES } from '../../src/resources/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const API_SECRET = `facade_secret_${randomBytes(6).toString('hex')}`;
const env = { ENCRYPTION_KEY, SHOPIFY_API_SECRET: API_SECRET, LOG_LEVEL: 'debug' };
// Schedules that never fire while the tests run (1 January), so no tick races the assertions.
const QUIET = '0 0 1 1 *';
const quietSyncConfig = { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { schedule: QUIET }])), fullSync: { schedule: QUIET } };

const ALPHA = 'alpha-outdoor.myshopify.com';
const BETA = 'beta-coffee.myshopify.com';
const SLOW = 'slow-books.myshopify.com';
const STOP = 'stop-shop.myshopify.com';
const STOP2 = 'stop-two.myshopify.com';

let db: TestDatabase;
/** The one handle the services share: Prisma plus the test database's pool, every pool statement recorded. */
let handle: DatabaseHandle;
const poolStatements: string[] = [];
let simulator: ShopifySimulator;
const logLines: string[] = [];
const logger = createJsonLogger({ level: 'debug', write: (line) => logLines.push(line) });
const services: IngestionService[] = [];
const extraClients: PrismaClient[] = [];
const servers: Server[] = [];

function makeService(prisma: unknown = handle, options: IngestionServiceOptions = {}): IngestionService {
  const service = createIngestionService(prisma as TestDatabase['prisma'], {
    env,
    logger,
    clientDefaults: { baseUrl: simulator.url },
    scheduler: { syncConfig: quietSyncConfig, leaseTtlMs: 5_000 },
    healthCheckIntervalMs: 0,
    // Every resource runs a bulk operation on a full sync: poll them quickly.
    bulk: { minPollMs: 20, maxPollMs: 200 },
    ...options,
  });
  services.push(service);
  return service;
}

function shop(domain: string) {
  return simulator.shop(domain);
}

async function shopifyCounts(domain: string): Promise<{ customers: number; products: number; orders: number }> {
  const s = shop(domain);
  const get = async (path: string) => {
    const res = await fetch(`${simulator.url}/admin/api/2025-10/${path}`, { headers: { 'X-Shopify-Access-Token': s.accessToken } });
    return ((await res.json()) as { count: number }).count;
  };
  return { customers: await get('customers/count.json'), products: await get('products/count.json'), orders: await get('orders/count.json?status=any') };
}

async function listen(app: express.Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_facade' });
  const pool = db.database.pool!;
  handle = createDatabaseHandle(db.prisma, {
    copyFromRows: 1,
    pool: {
      query: (text, values) => { poolStatements.push(text.trim().slice(0, 60)); return pool.query(text, values); },
      connect: async () => { poolStatements.push('CONNECT'); return pool.connect!(); },
    },
  });
  simulator = await createShopifySimulator({
    seed: 11,
    apiSecret: API_SECRET,
    unthrottled: true,
    shops: [
      { domain: ALPHA, name: 'Alpha Outdoor', customers: 25, products: 6, orders: 30 },
      { domain: BETA, name: 'Beta Coffee', customers: 12, products: 4, orders: 15 },
      { domain: SLOW, name: 'Slow Books', customers: 30, products: 2, orders: 2 },
      { domain: STOP, name: 'Stop Shop', customers: 30, products: 2, orders: 2 },
      { domain: STOP2, name: 'Stop Two', customers: 30, products: 2, orders: 2 },
    ],
  });
});

afterAll(async () => {
  for (const service of services) await service.shutdown({ timeoutMs: 2_000 }).catch(() => {});
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  for (const client of extraClients) await client.$disconnect().catch(() => {});
  await simulator?.stop();
  await db?.drop();
});

describe('IngestionService (PostgreSQL + simulator)', () => {
  let service: IngestionService;

  it('initialize() migrates the database and is idempotent', async () => {
    const fresh = await createTestDatabase({ prefix: 'si_facade_init', migrate: false });
    try {
      const before = await fresh.query(`SELECT to_regclass('public.shopify_tenants') AS t`);
      expect(before[0]!.t).toBeNull();
      const s = makeService(fresh.prisma);
      await s.initialize();
      await s.initialize();
      const after = await fresh.query(`SELECT to_regclass('public.shopify_tenants') AS t`);
      expect(after[0]!.t).toBe('shopify_tenants');
      const applied = await fresh.query(`SELECT count(*)::int AS n FROM shopify_ingest_migrations`);
      expect(applied[0]!.n).toBeGreaterThan(0);
      // A second service on the same database applies nothing twice.
      const again = makeService(fresh.prisma);
      await again.initialize();
      const appliedAgain = await fresh.query(`SELECT count(*)::int AS n FROM shopify_ingest_migrations`);
      expect(appliedAgain[0]!.n).toBe(applied[0]!.n);
      await s.shutdown({ timeoutMs: 1_000 });
      await again.shutdown({ timeoutMs: 1_000 });
    } finally {
      await fresh.drop();
    }
  });

  it('addTenant with a rejected token throws TENANT_CREDENTIALS_INVALID and saves nothing', async () => {
    service = makeService();
    await service.initialize();
    const error = await service.addTenant('bad-tenant', { shopDomain: ALPHA, accessToken: 'shpat_not_the_real_token' }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ShopifyIngestError);
    expect((error as ShopifyIngestError).code).toBe('TENANT_CREDENTIALS_INVALID');
    expect((error as Error).message).toMatch(/^\[shopify-ingest\].*rejected the credentials.*HTTP 401/);
    expect((error as Error).message).not.toContain('shpat_not_the_real_token');
    expect(await db.query(`SELECT id FROM shopify_tenants WHERE id = 'bad-tenant'`)).toHaveLength(0);
    expect(service.clientManager.hasClient('bad-tenant')).toBe(false);
    expect(service.scheduler!.getStatus().jobs.filter((j) => j.tenantId === 'bad-tenant')).toHaveLength(0);
  });

  it('addTenant stores the token encrypted, creates the client and schedules the jobs', async () => {
    const token = shop(ALPHA).accessToken;
    const record = await service.addTenant('alpha', { shopDomain: ALPHA, accessToken: token });
    expect(record).toMatchObject({ id: 'alpha', shopDomain: ALPHA, name: 'Alpha Outdoor', isActive: true });

    const rows = await db.query(`SELECT * FROM shopify_tenants WHERE id = 'alpha'`);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0]!.access_token_enc).not.toBe(token);
    // Encrypted (reversibly, bound to the tenant), not hashed or dropped.
    expect(createKeyRing({ key: ENCRYPTION_KEY }).decrypt(rows[0]!.access_token_enc, 'alpha')).toBe(token);

    expect(service.clientManager.hasClient('alpha')).toBe(true);
    expect(service.clientManager.getClient('alpha').shopDomain).toBe(ALPHA);
    const jobs = service.scheduler!.getStatus().jobs.filter((j) => j.tenantId === 'alpha').map((j) => j.id).sort();
    // A job per resource of the registry, plus the weekly full sync.
    expect(jobs).toEqual([...RESOURCE_NAMES.map((name) => `${name}-sync-alpha`), 'fullSync-sync-alpha'].sort());
    const customersJob = service.scheduler!.getStatus().jobs.find((j) => j.id === 'customers-sync-alpha')!;
    expect(customersJob).toMatchObject({ enabled: true, schedule: QUIET, timezone: 'UTC' });
    expect(customersJob.nextRunAt).toBeInstanceOf(Date);

    // One shop, one tenant: a second tenant for the same shop is refused before any request.
    const taken = await service.addTenant('alpha-copy', { shopDomain: ALPHA, accessToken: token }).then(() => null, (e: unknown) => e);
    expect((taken as ShopifyIngestError).code).toBe('TENANT_SHOP_IN_USE');
    expect((taken as Error).message).toContain('already connected to tenant alpha');
    expect(await db.query(`SELECT id FROM shopify_tenants WHERE id = 'alpha-copy'`)).toHaveLength(0);
    expect(service.clientManager.hasClient('alpha-copy')).toBe(false);

    // Behind a baseUrl any host is accepted, so a mistyped domain is caught by what the shop answers.
    const typo = await service.addTenant('alpha-typo', { shopDomain: 'alpha-outdoor.myshopfy.com', accessToken: token }).then(() => null, (e: unknown) => e);
    expect((typo as ShopifyIngestError).code).toBe('CONFIG_INVALID');
    expect((typo as Error).message).toContain(`the credentials are for shop ${ALPHA}, not alpha-outdoor.myshopfy.com`);
    expect(await db.query(`SELECT id FROM shopify_tenants WHERE id = 'alpha-typo'`)).toHaveLength(0);
  });

  it('importData runs each data type and "all", returning the seed shapes', { timeout: 120_000 }, async () => {
    const expected = await shopifyCounts(ALPHA);
    poolStatements.length = 0;
    const customers = (await service.importData('alpha', 'customers')) as ImportResult;
    expect(customers).toMatchObject({ tenantId: 'alpha', resource: 'customers', status: 'succeeded', imported: expected.customers, errors: 0 });
    expect(typeof customers.runId).toBe('string');
    const products = (await service.importData('alpha', 'products')) as ImportResult;
    expect(products).toMatchObject({ resource: 'products', status: 'succeeded', imported: expected.products, errors: 0 });
    const orders = (await service.importData('alpha', 'orders')) as ImportResult;
    expect(orders).toMatchObject({ resource: 'orders', status: 'succeeded', imported: expected.orders, errors: 0 });

    const all = (await service.importData('alpha', 'all', { batchSize: 10, mode: 'full' })) as ImportAllResult;
    expect(Object.keys(all).sort()).toEqual([...RESOURCE_NAMES].sort());
    for (const resource of ['customers', 'products', 'orders'] as const) {
      expect(all[resource]).toMatchObject({ resource, status: 'succeeded', fetched: expected[resource], errors: 0 });
    }
    const counts = await service.store.countRecords('alpha');
    expect({ customers: counts.customers, products: counts.products, orders: counts.orders }).toEqual(expected);
    // The batches went to the handle's pool (checked-out connections: COPY-staged), not through Prisma.
    expect(poolStatements.filter((sql) => sql === 'CONNECT').length).toBeGreaterThanOrEqual(3);
  });

  it('importData rejects an unknown data type with a ConfigError', async () => {
    const error = await service.importData('alpha', 'invoices' as never).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`dataType must be one of ${RESOURCE_NAMES.join(', ')}, all`);
  });

  it('getSyncStatus, getHealthStatus and getStatistics report real numbers in the seed shapes', async () => {
    const expected = await shopifyCounts(ALPHA);
    const status = await service.getSyncStatus();
    expect(status).toHaveLength(1);
    const alpha = status[0]!;
    expect(alpha).toMatchObject({
      tenantId: 'alpha', tenantName: 'Alpha Outdoor', shopDomain: ALPHA, isActive: true, syncStatus: 'idle', healthStatus: true,
      stats: expected,
    });
    expect(new Date(alpha.lastSync!).toISOString()).toBe(alpha.lastSync);
    expect(Date.now() - Date.parse(alpha.lastSync!)).toBeLessThan(60_000);
    expect(alpha.rateLimitStatus).toMatchObject({ isLimited: false });
    expect(alpha.rateLimitStatus!.bucketSize).toBeGreaterThan(0);
    expect(typeof alpha.rateLimitStatus!.callsMade).toBe('number');

    const health = await service.checkHealth();
    expect(health.status).toBe('healthy');
    expect(health.services).toMatchObject({
      database: { reachable: true },
      clients: 1,
      scheduler: { enabled: true, totalJobs: RESOURCE_NAMES.length + 1, runningJobs: 0 },
      webhooks: { enabled: true },
    });
    expect(health.uptime).toBeGreaterThanOrEqual(0);
    expect(service.getHealthStatus().services.database.checkedAt).not.toBeNull();

    const stats = await service.getStatistics();
    expect(stats).toMatchObject({
      totalTenants: 1,
      activeTenants: 1,
      totalRecords: expected,
      syncJobs: { enabled: true, totalJobs: RESOURCE_NAMES.length + 1, activeJobs: RESOURCE_NAMES.length + 1, runningJobs: 0 },
    });
    expect(stats.totalRecords.lineItems).toBeGreaterThan(0);
    expect(stats.totalRecords.variants).toBeGreaterThanOrEqual(expected.products);
    expect(stats.webhookStats).toMatchObject({ received: 0, pending: 0 });
  });

  it('health is unhealthy once the database is gone', async () => {
    const doomed = await createTestDatabase({ prefix: 'si_facade_gone' });
    const s = makeService(doomed.prisma);
    await s.initialize();
    expect((await s.checkHealth()).status).toBe('healthy');
    await doomed.drop(); // disconnects and DROP DATABASE ... WITH (FORCE)
    const health = await s.checkHealth();
    expect(health.status).toBe('unhealthy');
    expect(health.services.database.reachable).toBe(false);
    expect(health.services.database.error).toEqual(expect.any(String));
    await s.shutdown({ timeoutMs: 1_000 });
  });

  it('setupWebhookEndpoints on Express accepts a simulator-signed webhook, rejects a bad HMAC and parses later routes', async () => {
    const app = express();
    service.setupWebhookEndpoints(app);
    app.post('/api/echo', (req, res) => { res.json({ body: req.body }); });
    const url = await listen(app);
    const address = `${url}/api/webhooks/shopify`;

    const alpha = shop(ALPHA);
    alpha.subscribe('customers/update', address);
    const customerId = alpha.idOf('customers', 3);
    alpha.update('customers', customerId, { tags: 'vip-webhook' });
    await simulator.webhooks.waitForDeliveries(15_000);
    const delivery = simulator.webhooks.deliveries.find((d) => d.address === address && d.topic === 'customers/update');
    expect(delivery).toBeDefined();
    expect(delivery!.status).toBe(200);

    const badHmac = await fetch(address, {
      method: 'POST',
      headers: {
        ...Object.fromEntries(Object.entries(delivery!.headers).filter(([name]) => !/^x-shopify-(hmac-sha256|webhook-id)$/i.test(name))),
        'x-shopify-hmac-sha256': Buffer.from('not the signature').toString('base64'),
        'x-shopify-webhook-id': 'forged-1',
      },
      body: delivery!.body,
    });
    expect(badHmac.status).toBe(401);

    const echo = await fetch(`${url}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataType: 'orders', batchSize: 5 }) });
    expect(echo.status).toBe(200);
    expect(await echo.json()).toEqual({ body: { dataType: 'orders', batchSize: 5 } });

    // The accepted delivery is processed after the ack: the stored customer gets the new tags.
    const deadline = Date.now() + 15_000;
    let tags: string | null = null;
    while (Date.now() < deadline) {
      const rows = await db.query(`SELECT tags FROM shopify_customers WHERE tenant_id = 'alpha' AND id = $1::bigint`, [String(customerId)]);
      tags = rows[0]?.tags ?? null;
      if (tags?.includes('vip-webhook')) break;
      await sleep(100);
    }
    expect(tags).toContain('vip-webhook');
    // The inbox INSERT went to the same handle's pool.
    expect(poolStatements.some((sql) => sql.includes('INSERT INTO shopify_webhook_inbox'))).toBe(true);
    const stats = await service.getStatistics();
    expect(stats.webhookStats!.received).toBeGreaterThanOrEqual(1);
    expect(stats.webhookStats!.processed).toBeGreaterThanOrEqual(1);
  });

  it('removeTenant deactivates, removes the client and the jobs, and keeps the data; purge deletes it', async () => {
    await service.addTenant('beta', { shopDomain: BETA, accessToken: shop(BETA).accessToken });
    await service.importData('beta', 'all');
    const before = await service.store.countRecords('beta');
    expect(before.orders).toBeGreaterThan(0);

    await service.removeTenant('beta');
    expect(service.clientManager.hasClient('beta')).toBe(false);
    expect(service.scheduler!.getStatus().jobs.filter((j) => j.tenantId === 'beta')).toHaveLength(0);
    const row = await db.query(`SELECT is_active FROM shopify_tenants WHERE id = 'beta'`);
    expect(row[0]!.is_active).toBe(false);
    expect(await service.store.countRecords('beta')).toEqual(before);
    const inactive = await service.getClient('beta').then(() => null, (e: unknown) => e);
    expect((inactive as ShopifyIngestError).code).toBe('TENANT_INACTIVE');
    const status = await service.getSyncStatus();
    expect(status.find((s) => s.tenantId === 'beta')).toMatchObject({ isActive: false, healthStatus: false, rateLimitStatus: null });

    await service.removeTenant('beta', { purge: true });
    expect(Object.values(await service.store.countRecords('beta')).every((n) => n === 0)).toBe(true);
    expect(await db.query(`SELECT id FROM shopify_tenants WHERE id = 'beta'`)).toHaveLength(0);
    const unknown = await service.removeTenant('beta').then(() => null, (e: unknown) => e);
    expect((unknown as ShopifyIngestError).code).toBe('TENANT_NOT_FOUND');
  }, 180_000); // syncs every registry resource

  it('shop/redact through the Express mount: tenant inactive, credentials, rows, jobs and client gone; nothing stored or synced until it is added again', async () => {
    await service.addTenant('beta', { shopDomain: BETA, accessToken: shop(BETA).accessToken }, { syncConfig: quietSyncConfig });
    await service.importData('beta', 'customers');
    expect((await service.store.countRecords('beta')).customers).toBeGreaterThan(0);
    const app = express();
    service.setupWebhookEndpoints(app);
    const address = `${await listen(app)}/api/webhooks/shopify`;
    const deliver = (topic: string, body: unknown, id: string) => {
      const raw = JSON.stringify(body);
      return fetch(address, { method: 'POST', body: raw, headers: {
        'content-type': 'application/json', 'x-shopify-topic': topic, 'x-shopify-shop-domain': BETA, 'x-shopify-webhook-id': id,
        'x-shopify-hmac-sha256': signWebhookBody(raw, API_SECRET), 'x-shopify-api-version': '2026-10', 'x-shopify-triggered-at': new Date().toISOString(),
      } });
    };
    expect((await deliver('shop/redact', { shop_id: 2, shop_domain: BETA }, 'redact-beta')).status).toBe(200);
    await expect.poll(async () => (await db.query(`SELECT is_active FROM shopify_tenants WHERE id = 'beta'`))[0]!.is_active, { timeout: 15_000 }).toBe(false);
    // The redact deletes the tenant's inbox rows but its own, which stays as the record that it ran
    // (processed, body dropped: a failing handler would have sent it back to pending instead).
    await expect.poll(async () => await db.query(`SELECT topic, status, body_enc IS NULL AS body_dropped FROM shopify_webhook_inbox WHERE tenant_id = 'beta'`), { timeout: 15_000 })
      .toEqual([{ topic: 'shop/redact', status: 'processed', body_dropped: true }]);
    expect(await db.query(`SELECT access_token_enc, refresh_token_enc FROM shopify_tenants WHERE id = 'beta'`)).toEqual([{ access_token_enc: null, refresh_token_enc: null }]);
    expect(Object.values(await service.store.countRecords('beta')).every((n) => n === 0)).toBe(true);
    expect(service.scheduler!.getStatus().jobs.filter((j) => j.tenantId === 'beta')).toEqual([]);
    expect(service.clientManager.hasClient('beta')).toBe(false);
    expect((await deliver('customers/update', { id: 1, updated_at: '2030-01-01T00:00:00Z' }, 'after-redact')).status).toBe(404);
    const refused = await service.importData('beta', 'customers').then(() => null, (e: unknown) => e);
    expect((refused as ShopifyIngestError).code).toBe('TENANT_INACTIVE');
    expect(Object.values(await service.store.countRecords('beta')).every((n) => n === 0)).toBe(true);
  });

  it('a new service instance on the same database restores the active tenants (restart)', async () => {
    // An inactive tenant must not come back.
    await service.addTenant('beta', { shopDomain: BETA, accessToken: shop(BETA).accessToken });
    await service.removeTenant('beta');

    const prisma = new PrismaClient({ url: db.url });
    extraClients.push(prisma);
    const restarted = makeService(prisma);
    await restarted.initialize();
    expect(restarted.clientManager.tenantIds()).toEqual(['alpha']);
    expect(restarted.scheduler!.getStatus().jobs.map((j) => j.id).sort()).toEqual([...RESOURCE_NAMES.map((name) => `${name}-sync-alpha`), 'fullSync-sync-alpha'].sort());
    // The client was rebuilt from the decrypted token: Shopify accepts it.
    const result = (await restarted.importData('alpha', 'customers', { mode: 'full' })) as ImportResult;
    expect(result.status).toBe('succeeded');
    expect(result.fetched).toBe((await shopifyCounts(ALPHA)).customers);
    await restarted.shutdown({ timeoutMs: 2_000 });
  });

  it('shutdown() lets a running import finish and checkpoint, then refuses new imports', async () => {
    const s = makeService();
    await s.initialize();
    await s.addTenant('slow', { shopDomain: SLOW, accessToken: shop(SLOW).accessToken });
    simulator.faults.configure({ rates: { slow: 1 }, slowMs: 250, shops: [SLOW] });
    try {
      let settled = false;
      const run = s.importData('slow', 'customers', { mode: 'full', pageSize: 10 }).finally(() => { settled = true; });
      await sleep(300); // the first page is in flight
      expect(settled).toBe(false);
      const started = Date.now();
      await s.shutdown({ timeoutMs: 20_000 });
      expect(settled).toBe(true);
      expect(Date.now() - started).toBeGreaterThan(200);
      const result = (await run) as ImportResult;
      expect(result).toMatchObject({ status: 'succeeded', fetched: 30, imported: 30 });
      const checkpoint = await s.store.getCheckpoint('slow', 'customers');
      expect(checkpoint?.fullSyncCompletedAt).toBeInstanceOf(Date);
      expect(checkpoint?.cursor).toBeNull();
      const runs = await s.store.listRuns('slow', { resource: 'customers' });
      expect(runs[0]).toMatchObject({ id: result.runId, status: 'succeeded', fetched: 30 });
      const refused = await s.importData('slow', 'customers').then(() => null, (e: unknown) => e);
      expect((refused as ShopifyIngestError).code).toBe('SERVICE_STOPPING');
      expect(s.getHealthStatus().status).not.toBe('healthy');
    } finally {
      simulator.faults.clear();
    }
  });

  it('shutdown() is bounded by its timeout', async () => {
    const s = makeService();
    await s.initialize(); // restores 'slow' from the database
    expect(s.clientManager.hasClient('slow')).toBe(true);
    simulator.faults.configure({ rates: { slow: 1 }, slowMs: 3_000, shops: [SLOW] });
    let run: Promise<unknown> | undefined;
    try {
      run = s.importData('slow', 'customers', { mode: 'full', pageSize: 10 }).catch((e: unknown) => e);
      await sleep(100);
      const started = Date.now();
      await s.shutdown({ timeoutMs: 400 });
      const took = Date.now() - started;
      // The run, aborted 80 ms before the deadline, stopped with its request and recorded itself cancelled.
      expect(took).toBeLessThan(2_500);
      expect(await run).toMatchObject({ code: 'IMPORT_ABORTED' });
      expect((await s.store.listRuns('slow', { resource: 'customers', limit: 1 }))[0]?.status).toBe('cancelled');
    } finally {
      simulator.faults.clear();
      await run;
    }
  });

  it('shutdown() during importData(\'all\') lets the running resource finish, and starts no further one', async () => {
    const s = makeService();
    await s.initialize();
    await s.addTenant('draining', { shopDomain: STOP, accessToken: shop(STOP).accessToken });
    // Each request takes 300 ms: customers (30, pages of 10) take a couple of seconds, far less than
    // the timeout; before, the other resources followed and shutdown() waited the whole timeout.
    simulator.faults.configure({ rates: { slow: 1 }, slowMs: 300, shops: [STOP] });
    try {
      const run = s.importData('draining', 'all', { mode: 'full', source: 'rest', pageSize: 10 }).then(() => null, (e: unknown) => e);
      await sleep(300);
      const started = Date.now();
      await s.shutdown({ timeoutMs: 15_000 });
      expect(Date.now() - started).toBeLessThan(10_000);
      const error = (await run) as ImportError;
      expect(error).toBeInstanceOf(ImportError);
      expect(error.code).toBe('SERVICE_STOPPING');
      const details = error.details as { results: Record<string, ImportResult>; errors: Array<{ resource: string; code: string }> };
      expect(details.results.customers).toMatchObject({ status: 'succeeded', imported: 30 });
      expect(details.errors.length).toBeGreaterThan(1);
      expect(details.errors.every((e) => e.code === 'SERVICE_STOPPING' && e.resource !== 'customers')).toBe(true);
      const runs = await s.store.listRuns('draining', {});
      expect(runs.map((r) => [r.resource, r.status])).toEqual([['customers', 'succeeded']]);
    } finally {
      simulator.faults.clear();
    }
  });

  it('shutdown() stops a run still going near its deadline at once: recorded cancelled (resumable), nothing else started', async () => {
    const s = makeService();
    await s.initialize();
    await s.addTenant('stopping', { shopDomain: STOP2, accessToken: shop(STOP2).accessToken });
    // Every request takes 1.5 s: customers are still running at the deadline. Before, shutdown()
    // returned with the run `running` in the database, and it went on afterwards.
    simulator.faults.configure({ rates: { slow: 1 }, slowMs: 1_500, shops: [STOP2] });
    try {
      const run = s.importData('stopping', 'all', { mode: 'full', source: 'rest', pageSize: 10 }).then(() => null, (e: unknown) => e);
      await sleep(300);
      const started = Date.now();
      await s.shutdown({ timeoutMs: 3_500 });
      expect(Date.now() - started).toBeLessThan(4_000);
      const runs = await s.store.listRuns('stopping', {});
      expect(runs.map((r) => [r.resource, r.status])).toEqual([['customers', 'cancelled']]);
      const error = (await run) as ImportError;
      expect(error).toBeInstanceOf(ImportError);
      expect((error.details as { errors: Array<{ resource: string; code: string }> }).errors).toEqual([expect.objectContaining({ resource: 'customers', code: 'IMPORT_ABORTED' })]);
    } finally {
      simulator.faults.clear();
    }
  });

  it('per-tenant syncConfig is stored and restored; scheduler.enabled=false schedules nothing and is not degraded', async () => {
    const passive = makeService(db.prisma, { scheduler: { enabled: false, syncConfig: quietSyncConfig } });
    await passive.initialize();
    await passive.addTenant('slow', { shopDomain: SLOW, accessToken: shop(SLOW).accessToken }, {
      syncConfig: { orders: { schedule: '15 3 * * *', timezone: 'Europe/Paris' }, fullSync: { enabled: false } },
    });
    const idle = passive.scheduler!.getStatus();
    expect(idle).toMatchObject({ enabled: false, activeJobs: 0, runningJobs: 0 });
    expect(idle.jobs.filter((j) => j.tenantId === 'slow')).toHaveLength(RESOURCE_NAMES.length + 1);
    expect(idle.jobs.every((j) => j.nextRunAt === null)).toBe(true);
    expect((await passive.checkHealth()).status).toBe('healthy');

    const worker = makeService();
    await worker.initialize();
    const scheduler = worker.scheduler!;
    const job = (id: string) => scheduler.getStatus().jobs.find((j) => j.id === id)!;
    expect(job('orders-sync-slow')).toMatchObject({ schedule: '15 3 * * *', timezone: 'Europe/Paris', enabled: true });
    expect(job('orders-sync-slow').nextRunAt).toBeInstanceOf(Date);
    expect(job('fullSync-sync-slow')).toMatchObject({ enabled: false, nextRunAt: null });
    expect(job('customers-sync-slow')).toMatchObject({ schedule: QUIET, timezone: 'UTC' });

    const active = scheduler.getStatus().activeJobs;
    expect(scheduler.disableJob('customers-sync-slow')).toBe(true);
    expect(job('customers-sync-slow')).toMatchObject({ enabled: false, nextRunAt: null });
    expect(scheduler.getStatus().activeJobs).toBe(active - 1);
    expect(scheduler.enableJob('customers-sync-slow')).toBe(true);
    expect(job('customers-sync-slow').nextRunAt).toBeInstanceOf(Date);
    expect(scheduler.enableJob('customers-sync-nobody')).toBe(false);
    await passive.shutdown({ timeoutMs: 1_000 });
    await worker.shutdown({ timeoutMs: 1_000 });
  });

  it('a tenant removed on one instance is not synced by the scheduler of another', async () => {
    const a = makeService();
    const b = makeService();
    await a.initialize();
    await b.initialize();
    expect(b.clientManager.hasClient('slow')).toBe(true);
    const runsBefore = (await b.store.listRuns('slow')).length;

    await a.removeTenant('slow');
    const result = await b.scheduler!.runJobNow('customers-sync-slow');
    expect(result).toEqual({ skipped: 'tenant-inactive' });
    expect(b.clientManager.hasClient('slow')).toBe(false);
    expect(b.scheduler!.getStatus().jobs.filter((j) => j.tenantId === 'slow')).toHaveLength(0);
    expect((await b.store.listRuns('slow')).length).toBe(runsBefore);
    // Another tenant's scheduled run still imports.
    const alpha = (await b.scheduler!.runJobNow('customers-sync-alpha')) as ImportResult;
    expect(alpha.status).toBe('succeeded');
    await a.shutdown({ timeoutMs: 1_000 });
    await b.shutdown({ timeoutMs: 1_000 });
  });

  it('a scheduled run that reaches its import once shutdown() has begun is skipped, not failed', async () => {
    const c = makeService();
    await c.initialize();
    const runsBefore = (await c.store.listRuns('alpha')).length;
    const stopping = c.shutdown({ timeoutMs: 1_000 });
    // The job starts after shutdown() began (a tick whose lease was won just then): it takes no new
    // work, and it is no failure of the sync (a cluster test once counted such runs as failures).
    const result = await c.scheduler!.runJobNow('customers-sync-alpha');
    await stopping;
    expect(result).toEqual({ skipped: 'service-stopping' });
    const job = c.scheduler!.getStatus().jobs.find((j) => j.id === 'customers-sync-alpha')!;
    expect(job).toMatchObject({ failureCount: 0, lastError: null, lastResult: { skipped: 'service-stopping' } });
    expect((await c.store.listRuns('alpha')).length).toBe(runsBefore);
  });

  it('createAuthMiddleware throws a ConfigError when nothing is configured, and works with keys', () => {
    const bare = createIngestionService(db.database, { env: { ENCRYPTION_KEY }, logger, healthCheckIntervalMs: 0 });
    expect(() => bare.createAuthMiddleware()).toThrow(ConfigError);
    expect(() => bare.createAuthMiddleware()).toThrow(/INGEST_API_KEYS/);
    const keyed = createIngestionService(db.database, { env: { ENCRYPTION_KEY, INGEST_API_KEYS: 'k1' }, logger, healthCheckIntervalMs: 0 });
    expect(typeof keyed.createAuthMiddleware()).toBe('function');
  });

  it('logs of the whole run contain no access token and no customer PII', () => {
    expect(logLines.length).toBeGreaterThan(20);
    const text = logLines.join('\n');
    expect(text).toContain('tenant added');
    const needles: string[] = ['shpat_not_the_real_token'];
    for (const domain of [ALPHA, BETA, SLOW]) {
      const s = shop(domain);
      needles.push(s.accessToken);
      const total = domain === ALPHA ? 25 : domain === BETA ? 12 : 30;
      for (let i = 0; i < total; i++) {
        const customer = s.find('customers', s.idOf('customers', i));
        if (typeof customer?.email === 'string' && customer.email) needles.push(customer.email);
        if (typeof customer?.phone === 'string' && customer.phone) needles.push(customer.phone);
      }
    }
    expect(needles.length).toBeGreaterThan(40);
    const leaked = needles.filter((needle) => text.includes(needle));
    expect(leaked).toEqual([]);
  });
});
