/**
 * End to end: the simulator makes 1,000 changes to a shop and delivers their webhooks (some twice,
 * shuffled) to a real Express server mounted through `shopify-ingest/express`; once everything is
 * acknowledged and processed, the database equals the simulator's state for every record touched.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { shopifyWebhooks } from 'shopify-ingest/express';
import { createKeyRing } from '../../src/crypto/index.js';
import { silentLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createWebhookService, WEBHOOK_TOPICS, type WebhookService } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, SECRET } from './helpers/deliveries.js';

let db: TestDatabase;
let sim: ShopifySimulator;
let server: Server;
let service: WebhookService;

const SHOP = 'e2e-shop.myshopify.com';
// Shopify's timestamps have whole seconds; a clock that advances a second per reading gives every
// change its own updated_at, so "newest wins" has one right answer whatever the delivery order.
let simTime = Date.parse('2025-03-01T00:00:00Z');

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_wh_e2e' });
  await createStore(db.database).upsertTenant({ id: 'tenant-e2e', shopDomain: SHOP, accessTokenEnc: 'x' });
  service = createWebhookService(db.database, {
    secrets: SECRET, keyRing: createKeyRing({ key: ENCRYPTION_KEY }), logger: silentLogger,
    worker: { pollIntervalMs: 200, batchSize: 200 },
  });
  const app = express();
  app.post('/webhooks/shopify', shopifyWebhooks(service));
  server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  sim = await createShopifySimulator({
    seed: 7, apiSecret: SECRET, clock: () => (simTime += 1000),
    shops: [{ domain: SHOP, customers: 40, products: 40, orders: 60, bigIds: true }],
    // timeScale: Shopify's retry backoff (1 min, 2 min, ...) shrunk 1000x, should a delivery time out on this busy machine.
    timeScale: 1000,
    webhooks: { duplicateRate: 0.15, outOfOrder: { maxDelayMs: 300 } },
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/shopify`;
  for (const topic of WEBHOOK_TOPICS) if (/^(customers|products|orders)\/(create|update|updated|delete|paid|cancelled|fulfilled)$/.test(topic)) sim.shops[0]!.subscribe(topic, url);
});

afterAll(async () => {
  await service?.stop();
  await sim?.stop();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await db?.drop();
});

it('1,000 changes delivered with duplicates and shuffled: the database ends equal to the shop', async () => {
  const shop = sim.shops[0]!;
  let seed = 12345;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  const live: Record<'customers' | 'products' | 'orders', Array<number | bigint>> = {
    customers: Array.from({ length: 40 }, (_, i) => shop.idOf('customers', i)),
    products: Array.from({ length: 40 }, (_, i) => shop.idOf('products', i)),
    orders: Array.from({ length: 60 }, (_, i) => shop.idOf('orders', i)),
  };
  const touched = { customers: new Set<bigint>(), products: new Set<bigint>(), orders: new Set<bigint>() };
  const deleted = { customers: new Set<bigint>(), products: new Set<bigint>(), orders: new Set<bigint>() };
  const resources = ['customers', 'products', 'orders'] as const;

  for (let i = 0; i < 1000; i++) {
    // The simulator shares this process's event loop: changes go out in waves of 50, each wave's
    // deliveries shuffled (random delays) and partly duplicated, so no delivery waits on a blocked loop.
    if (i > 0 && i % 50 === 0) await sim.webhooks.waitForDeliveries(60_000);
    const resource = resources[rand(3)]!;
    const ids = live[resource];
    const op = rand(20);
    if (op < 3 || ids.length < 5) {
      const record = shop.create(resource, {});
      ids.push(record.id as number | bigint);
      touched[resource].add(BigInt(record.id as number));
    } else if (op === 3) {
      const [id] = ids.splice(rand(ids.length), 1);
      shop.delete(resource, id!);
      touched[resource].add(BigInt(id!));
      deleted[resource].add(BigInt(id!));
    } else {
      const id = ids[rand(ids.length)]!;
      touched[resource].add(BigInt(id));
      if (resource === 'orders' && op < 7) shop.markOrderPaid(id);
      else if (resource === 'orders' && op < 9) shop.fulfillOrder(id);
      else if (resource === 'orders' && op === 9) shop.cancelOrder(id);
      else if (resource === 'products') shop.update(resource, id, { title: `Product v${i}` });
      else shop.update(resource, id, { tags: `rev-${i}` });
    }
  }

  await sim.webhooks.waitForDeliveries(60_000);
  const deliveries = sim.webhooks.deliveries;
  expect(deliveries.length).toBeGreaterThan(1000);
  expect(deliveries.some((d) => d.duplicate)).toBe(true);
  // Every delivery was eventually acknowledged (a timed-out attempt is retried, as Shopify does).
  const acked = new Set(deliveries.filter((d) => d.ok).map((d) => d.webhookId));
  expect(deliveries.filter((d) => !acked.has(d.webhookId))).toEqual([]);
  await expect.poll(async () => (await service.getStats()).pending, { timeout: 60_000, interval: 250 }).toBe(0);
  const stats = await service.getStats();
  expect(stats.duplicates).toBeGreaterThanOrEqual(deliveries.filter((d) => d.duplicate && d.ok).length);
  expect(stats.deadLetters).toBe(0);

  const inbox = await db.query(`SELECT count(*)::int AS n FROM shopify_webhook_inbox WHERE status = 'processed'`);
  expect(inbox[0]!.n).toBe(new Set(deliveries.map((d) => d.webhookId)).size);

  const tables = { customers: 'shopify_customers', products: 'shopify_products', orders: 'shopify_orders' } as const;
  for (const resource of resources) {
    const rows = await db.query(`SELECT id::text, shopify_updated_at, deleted_at, ${resource === 'products' ? 'title' : resource === 'orders' ? 'financial_status, fulfillment_status, cancelled_at' : 'tags'} AS f1 FROM ${tables[resource]} WHERE tenant_id = 'tenant-e2e'`);
    const byId = new Map(rows.map((r) => [r.id as string, r]));
    expect(byId.size).toBe(touched[resource].size);
    for (const id of touched[resource]) {
      const row = byId.get(id.toString());
      expect(row, `${resource} ${id}`).toBeDefined();
      if (deleted[resource].has(id)) {
        expect(row!.deleted_at, `${resource} ${id} deleted`).not.toBeNull();
        continue;
      }
      const record = shop.find(resource, id)!;
      expect(row!.deleted_at).toBeNull();
      expect((row!.shopify_updated_at as Date).getTime(), `${resource} ${id} updated_at`).toBe(Date.parse(record.updated_at as string));
      if (resource === 'products') expect(row!.f1).toBe(record.title);
      if (resource === 'customers') expect(row!.f1 ?? '').toBe(record.tags ?? '');
    }
  }
  const orders = await db.query(`SELECT id::text, financial_status, fulfillment_status, cancelled_at FROM shopify_orders WHERE deleted_at IS NULL`);
  for (const o of orders) {
    const record = shop.find('orders', BigInt(o.id))!;
    expect(o.financial_status).toBe(record.financial_status);
    expect(o.fulfillment_status ?? null).toBe(record.fulfillment_status ?? null);
    expect(o.cancelled_at === null).toBe(record.cancelled_at == null);
  }
}, 180_000);
