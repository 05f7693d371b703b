/**
 * Runs the code samples of the seed's README (../shared/SEED.md) as written, with only the import
 * path changed to the published package (`shopify-ingest`, resolved through its exports map, so
 * run `npm run build` first; `npm test` does).
 *
 * The samples talk to `https://mystore.myshopify.com` and friends. Nothing here can reach Shopify,
 * so the network layer routes every `*.myshopify.com:443` connection to the Shopify simulator in
 * HTTPS mode; the sample code itself is unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Agent, buildConnector, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import express from 'express';
import { PrismaClient } from 'shopify-ingest/prisma';
import {
  createIngestionService,
  createShopifyClient,
  ShopifyTransformer,
  createImportService,
  createWebhookService,
  createSchedulerService,
  ClientManager,
  createKeyRing,
} from 'shopify-ingest';
import { createShopifySimulator, type ShopifySimulator } from 'shopify-ingest/testing';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { clearOfScheduledMinutes } from '../helpers/schedules.js';
import { DEFAULT_SYNC_CONFIG } from 'shopify-ingest';

const ENV_KEYS = ['DATABASE_URL', 'ENCRYPTION_KEY', 'SHOPIFY_API_SECRET', 'SHOPIFY_API_KEY', 'INGEST_API_KEYS', 'LOG_LEVEL'] as const;
const saved: Record<string, string | undefined> = {};
const ENCRYPTION_KEY = 'k'.repeat(32);

let db: TestDatabase;
let simulator: ShopifySimulator;
let previousDispatcher: Dispatcher;

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_seed' });
  for (const key of ENV_KEYS) saved[key] = process.env[key];
  process.env.DATABASE_URL = db.url;
  process.env.ENCRYPTION_KEY = ENCRYPTION_KEY;
  process.env.SHOPIFY_API_SECRET = 'seed_app_secret';
  process.env.SHOPIFY_API_KEY = 'seed_api_key';
  process.env.INGEST_API_KEYS = 'seed-static-key';
  process.env.LOG_LEVEL = 'silent';
  simulator = await createShopifySimulator({
    https: true,
    seed: 7,
    apiSecret: 'seed_app_secret',
    unthrottled: true,
    shops: [
      { domain: 'mystore.myshopify.com', accessToken: 'shpat_xxxxx', customers: 60, products: 8, orders: 40 },
      { domain: 'newstore.myshopify.com', accessToken: 'shpat_newstore', customers: 30, products: 5, orders: 25 },
      { domain: 'teststore.myshopify.com', accessToken: 'shpat_teststore', customers: 12, products: 3, orders: 6 },
    ],
  });
  const port = simulator.port;
  // Route *.myshopify.com:443 to the simulator, trusting its self-signed certificate (on its own address too); anything else connects as usual.
  previousDispatcher = getGlobalDispatcher();
  const direct = buildConnector({});
  setGlobalDispatcher(new Agent({
    connect: (options, callback) => {
      // The simulator itself (bulk operations' result files, as Shopify's storage host would be) is trusted too.
      const simulatorItself = options.hostname === '127.0.0.1' && Number(options.port) === port;
      if (!options.hostname.endsWith('.myshopify.com') && !simulatorItself) return direct(options, callback);
      const socket = tls.connect({ host: '127.0.0.1', port, servername: options.hostname, ca: simulator.certificate, rejectUnauthorized: true });
      socket.once('secureConnect', () => callback(null, socket));
      socket.once('error', (error) => callback(error, null));
    },
  }));
});

afterAll(async () => {
  setGlobalDispatcher(previousDispatcher);
  await simulator?.stop();
  await db?.drop();
  for (const key of ENV_KEYS) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

describe('the seed README samples, as written', () => {
  it('Shopify Client: fetchAllPages, rate limits, healthCheck', async () => {
    const client = createShopifyClient({
      shopDomain: 'mystore.myshopify.com',
      accessToken: 'shpat_xxxxx',
    });

    // Fetch data with automatic pagination
    const customers = await client.fetchAllPages('/customers.json');
    expect(customers).toHaveLength(60);

    // Check rate limits
    if (client.isRateLimited()) {
      const waitTime = client.getWaitTime();
      await new Promise((resolve) => setTimeout(resolve, waitTime));
    }
    expect(typeof client.getWaitTime()).toBe('number');

    const isHealthy = await client.healthCheck();
    expect(isHealthy).toBe(true);
    const bad = createShopifyClient({ shopDomain: 'mystore.myshopify.com', accessToken: 'shpat_wrong' });
    expect(await bad.healthCheck()).toBe(false);
  });

  it('Data Transformers: transformCustomer encrypts PII, transformOrdersBatch returns orders, lineItems, events', async () => {
    const client = createShopifyClient({ shopDomain: 'mystore.myshopify.com', accessToken: 'shpat_xxxxx' });
    const [shopifyCustomerData] = (await client.get('/customers.json', { limit: 1 }) as { customers: Array<Record<string, unknown>> }).customers;
    const shopifyOrders = (await client.get('/orders.json', { status: 'any', limit: 10 }) as { orders: unknown[] }).orders;
    const tenantId = 'tenant-123';

    // Transform a single customer
    const transformedCustomer = ShopifyTransformer.transformCustomer(shopifyCustomerData, tenantId);
    // Transform orders with line items and events
    const { orders, lineItems, events } = ShopifyTransformer.transformOrdersBatch(shopifyOrders, tenantId);

    // customer.email is now encrypted
    expect(transformedCustomer.emailEnc).toBeTruthy();
    expect(transformedCustomer.emailEnc).not.toContain(String(shopifyCustomerData!.email));
    expect(createKeyRing({ key: ENCRYPTION_KEY }).decrypt(transformedCustomer.emailEnc!, tenantId)).toBe(shopifyCustomerData!.email);
    expect(orders).toHaveLength(10);
    expect(lineItems.length).toBeGreaterThanOrEqual(10);
    expect(events.filter((e) => e.type === 'created')).toHaveLength(10);
  });

  it('Import Service: importCustomers with the seed options', async () => {
    const prisma = new PrismaClient();
    const shopifyService = createIngestionService(prisma);
    await shopifyService.initialize(); // applies the migrations
    await shopifyService.addTenant('seed-import', { shopDomain: 'mystore.myshopify.com', accessToken: 'shpat_xxxxx' });
    const shopifyClient = createShopifyClient({ shopDomain: 'mystore.myshopify.com', accessToken: 'shpat_xxxxx' });
    const tenantId = 'seed-import';

    const importService = createImportService(prisma, shopifyClient, tenantId);

    // Import with custom options
    const result = await importService.importCustomers({
      batchSize: 100,
      concurrency: 3,
      skipExisting: false,
      dateRange: {
        from: '2000-01-01T00:00:00Z',
        to: '2099-12-31T23:59:59Z',
      },
    });

    console.log(`Imported: ${result.imported}, Errors: ${result.errors}`);
    expect(result.imported).toBe(60);
    expect(result.errors).toBe(0);
    const stats = await importService.getImportStats();
    expect(stats).toBeTruthy();
    await shopifyService.shutdown();
    await prisma.$disconnect();
  });

  it('Webhook Handler and Scheduler: createWebhookService(prisma), createSchedulerService(prisma, clientManager)', async () => {
    const prisma = new PrismaClient();
    const webhookService = createWebhookService(prisma);
    expect(typeof webhookService.handler).toBe('function');

    const clientManager = new ClientManager();
    clientManager.addClient('tenant123', { shopDomain: 'mystore.myshopify.com', accessToken: 'shpat_xxxxx' });
    const scheduler = createSchedulerService(prisma, clientManager);

    // Start scheduler with default configuration
    await scheduler.startScheduler();

    // Manage jobs
    scheduler.enableJob('customers-sync-tenant123');
    scheduler.disableJob('products-sync-tenant123');

    // Get status
    const status = scheduler.getStatus();
    console.log(`Running ${status.runningJobs} of ${status.totalJobs} jobs`);
    expect(status.totalJobs).toBeGreaterThanOrEqual(4);
    expect(status.jobs.find((j) => j.id === 'products-sync-tenant123')?.enabled).toBe(false);
    expect(status.jobs.find((j) => j.id === 'customers-sync-tenant123')?.enabled).toBe(true);
    await scheduler.stopScheduler();
    await webhookService.stop();
    await clientManager.close();
    await prisma.$disconnect();
  });

  it('Quick Start + Express routes + multi-tenant usage + monitoring + shutdown', { timeout: 480_000 }, async () => {
    // The sample runs the default schedule (orders every 30 minutes, inventory at :15, ...). A
    // scheduled run starting beside the sample's own syncs would hold a run lock they need: start
    // when the next few minutes fire nothing (waits at most a few minutes, rarely).
    const waited = await clearOfScheduledMinutes(DEFAULT_SYNC_CONFIG, 150_000);
    if (waited > 0) console.log(`waited ${Math.round(waited / 1000)} s for a window without scheduled runs`);
    const prisma = new PrismaClient();

    // Create ingestion service with default configuration
    const shopifyService = createIngestionService(prisma);

    // Initialize the service
    await shopifyService.initialize();

    const app = express();

    // Setup webhook endpoints
    shopifyService.setupWebhookEndpoints(app);

    // Add authentication middleware
    const authMiddleware = shopifyService.createAuthMiddleware();

    // Sync endpoints
    app.post('/api/shopify/sync/:tenantId', authMiddleware, async (req, res) => {
      try {
        const { tenantId } = req.params;
        const { dataType = 'all', ...options } = req.body;

        const result = await shopifyService.importData(tenantId, dataType, options);
        res.json({ success: true, result });
      } catch (error) {
        res.status(500).json({ error: (error as Error).message });
      }
    });

    // Status endpoint
    app.get('/api/shopify/status', authMiddleware, async (req, res) => {
      try {
        const status = await shopifyService.getSyncStatus();
        res.json(status);
      } catch (error) {
        res.status(500).json({ error: (error as Error).message });
      }
    });

    const server = app.listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    try {
      // Add Shopify integration for a tenant
      await shopifyService.addTenant('tenant-123', {
        shopDomain: 'newstore.myshopify.com',
        accessToken: 'shpat_newstore',
      });
      await expect(shopifyService.addTenant('tenant-bad', { shopDomain: 'teststore.myshopify.com', accessToken: 'shpat_wrong' })).rejects.toThrow(/credentials/);

      // Sync specific data types
      await shopifyService.importData('tenant-123', 'customers');
      await shopifyService.importData('tenant-123', 'products');
      await shopifyService.importData('tenant-123', 'orders');

      // Full sync with custom options
      const result = await shopifyService.importData('tenant-123', 'all', {
        batchSize: 50,
        skipExisting: true,
      });
      expect(result).toHaveProperty('orders');

      // The sync endpoint, protected by the auth middleware
      const denied = await fetch(`${base}/api/shopify/sync/tenant-123`, { method: 'POST' });
      expect(denied.status).toBe(401);
      const synced = await fetch(`${base}/api/shopify/sync/tenant-123`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'seed-static-key' },
        body: JSON.stringify({ dataType: 'customers', batchSize: 25 }),
      });
      expect(synced.status).toBe(200);
      const syncedBody = await synced.json() as { success: boolean; result: { imported: number; resource: string } };
      expect(syncedBody.success).toBe(true);
      expect(syncedBody.result.resource).toBe('customers');

      const statusResponse = await fetch(`${base}/api/shopify/status`, { headers: { 'x-api-key': 'seed-static-key' } });
      const status = await statusResponse.json() as Array<Record<string, any>>;
      const tenant = status.find((s) => s.tenantId === 'tenant-123')!;
      expect(tenant).toMatchObject({ shopDomain: 'newstore.myshopify.com', isActive: true, syncStatus: 'idle', stats: { customers: 30, products: 5, orders: 25 } });
      expect(tenant.rateLimitStatus).toMatchObject({ bucketSize: expect.any(Number), isLimited: expect.any(Boolean) });

      // Test data import (dry run)
      await shopifyService.addTenant('test-tenant', { shopDomain: 'teststore.myshopify.com', accessToken: 'shpat_teststore' });
      const dry = await shopifyService.importData('test-tenant', 'customers', { dryRun: true, batchSize: 10 }) as { fetched: number; dryRun: boolean };
      console.log('Import test result:', dry);
      expect(dry.fetched).toBe(12);
      expect((await shopifyService.getSyncStatus()).find((t) => t.tenantId === 'test-tenant')?.stats.customers).toBe(0);

      const health = shopifyService.getHealthStatus();
      expect(health.status).toBe('healthy');
      expect(health.services.clients).toBeGreaterThanOrEqual(2);
      expect(health.services.webhooks.enabled).toBe(true);
      expect(health.services.scheduler.totalJobs).toBeGreaterThanOrEqual(4);

      const stats = await shopifyService.getStatistics();
      expect(stats.totalTenants).toBeGreaterThanOrEqual(2);
      expect(stats.totalRecords.orders).toBeGreaterThanOrEqual(25);

      // Remove Shopify integration
      await shopifyService.removeTenant('tenant-123');
      const after = await shopifyService.getSyncStatus();
      expect(after.find((s) => s.tenantId === 'tenant-123')?.isActive).toBe(false);
      expect(after.find((s) => s.tenantId === 'tenant-123')?.stats.orders).toBe(25);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await shopifyService.shutdown();
      await prisma.$disconnect();
    }
  });
});
