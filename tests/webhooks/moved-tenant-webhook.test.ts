/**
 * A tenant moved to another shop (updateTenant, or addTenant with a new shopDomain, in this process or
 * another): deliveries of its OLD shop are no longer its data. They must be refused at the door even
 * while a process still caches the old shop -> tenant mapping, and a delivery of the old shop stored
 * before the move must not be applied after it.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createIngestionService, silentLogger, type IngestionService } from '../../src/index.js';
import { createKeyRing } from '../../src/crypto/index.js';
import { createStore } from '../../src/store/index.js';
import type { IngestStore } from '../../src/store/types.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createWebhookInbox, type InboxDelivery } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, manualWebhookService, sendSigned, signedDelivery, toRequest } from './helpers/deliveries.js';

const OLD = 'old-shop.myshopify.com';
const NEW = 'new-shop.myshopify.com';
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });
const order = (id: number) => ({ id, name: `#${id}`, created_at: '2025-01-01T00:00:00Z', updated_at: '2025-01-01T00:00:00Z', currency: 'USD', total_price: '1.00', line_items: [] });

let db: TestDatabase;
let store: IngestStore;
beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_wh_moved' }); store = createStore(db.database); });
afterAll(async () => { await db?.drop(); });

const ordersOf = async (tenantId: string) => (await db.query<{ id: string }>(`SELECT id::text FROM shopify_orders WHERE tenant_id = $1 ORDER BY id`, [tenantId])).map((r) => Number(r.id));
const moveTenant = (id: string, shopDomain: string) => store.upsertTenant({ id, shopDomain, accessTokenEnc: keyRing.encrypt('shpat_x', id) });

describe('webhook service: a tenant moved to another shop', () => {
  beforeEach(async () => {
    await db.query('DELETE FROM shopify_webhook_inbox');
    await db.query('DELETE FROM shopify_orders');
    await db.query('DELETE FROM shopify_tenants');
    await moveTenant('tm', OLD);
  });

  it('refuses (404) a delivery of the old shop while this process still caches the old shop as the tenant\'s, and looks the shop up again', async () => {
    let lookups = 0;
    const counting: IngestStore = { ...store, getTenantByShop: (shop) => { lookups += 1; return store.getTenantByShop(shop); } };
    const s = manualWebhookService(db.database, { tenantCacheTtlMs: 60_000, store: counting });
    expect((await sendSigned(s, 'orders/create', order(1001), { shop: OLD })).status).toBe(200);
    await s.processPending();
    expect(await ordersOf('tm')).toEqual([1001]);

    // Moved by another process: nothing told this one, whose cache still says OLD -> tm.
    await moveTenant('tm', NEW);
    const lookupsBefore = lookups;
    const answer = await sendSigned(s, 'orders/create', order(2002), { shop: OLD, webhookId: 'after-move' });
    await s.processPending();
    expect({
      status: answer.status,
      stored: (await db.query(`SELECT id FROM shopify_webhook_inbox WHERE webhook_id = 'after-move'`)).length,
      orders: await ordersOf('tm'),
    }).toEqual({ status: 404, stored: 0, orders: [1001] });
    expect(lookups).toBe(lookupsBefore);

    // The refusal dropped the cached entry: the next delivery looks the shop up (unknown now).
    expect((await sendSigned(s, 'orders/create', order(3003), { shop: OLD })).status).toBe(404);
    expect(lookups).toBe(lookupsBefore + 1);
    // The new shop's deliveries reach the tenant.
    expect((await sendSigned(s, 'orders/create', order(4004), { shop: NEW })).status).toBe(200);
    await s.processPending();
    expect(await ordersOf('tm')).toEqual([1001, 4004]);
  });

  it('does not apply a delivery of the old shop stored before the move (nor let its app/uninstalled deactivate the tenant)', async () => {
    const s = manualWebhookService(db.database);
    expect((await sendSigned(s, 'orders/create', order(5005), { shop: OLD, webhookId: 'stored-order' })).status).toBe(200);
    expect((await sendSigned(s, 'app/uninstalled', { id: 1, domain: OLD, myshopify_domain: OLD }, { shop: OLD, webhookId: 'stored-uninstall' })).status).toBe(200);
    const seen: string[] = [];
    s.onAny((event) => { seen.push(event.webhookId); });

    await moveTenant('tm', NEW);
    await s.processPending();
    expect(await ordersOf('tm')).toEqual([]);
    expect((await store.getTenant('tm'))?.isActive).toBe(true);
    expect(seen).toEqual([]);
    // Done with, not retried.
    expect(await db.query(`SELECT webhook_id, status FROM shopify_webhook_inbox ORDER BY webhook_id`)).toEqual([
      { webhook_id: 'stored-order', status: 'processed' },
      { webhook_id: 'stored-uninstall', status: 'processed' },
    ]);
  });

  it('in one group-commit INSERT, only the deliveries whose tenant is no longer their shop\'s are refused (TENANT_NOT_FOUND)', async () => {
    await moveTenant('tm', NEW);
    await moveTenant('t2', 'other.myshopify.com');
    const inbox = createWebhookInbox(db.database);
    let seq = 0;
    const delivery = (over: Partial<InboxDelivery> = {}): InboxDelivery => ({
      id: `mv-${++seq}`, tenantId: 'tm', webhookId: `wh-mv-${seq}`, eventId: null, topic: 'orders/create', shopDomain: NEW,
      apiVersion: '2025-07', triggeredAt: null, bodyEnc: 'sealed', receivedAt: new Date('2025-01-01T00:00:00Z'), ...over,
    });
    const stale = delivery({ shopDomain: OLD, webhookId: 'stale' });
    const batch = [
      delivery(), stale, delivery({ tenantId: 't2', shopDomain: 'other.myshopify.com' }),
      delivery({ shopDomain: 'NEW-shop.myshopify.com' }), { ...stale, id: 'mv-repeat' },
      // A row error (a key over the btree row size: hashes do not compress) still splits the statement.
      delivery({ webhookId: Array.from({ length: 200 }, (_, i) => createHash('sha256').update(String(i)).digest('hex')).join('') }),
    ];
    const results = await Promise.allSettled(batch.map((d) => inbox.insert(d)));
    const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code : 'ok'));
    expect(codes.slice(0, 5)).toEqual(['ok', 'TENANT_NOT_FOUND', 'ok', 'ok', 'TENANT_NOT_FOUND']);
    expect(codes[5]).not.toMatch(/^(ok|TENANT_NOT_FOUND)$/);
    expect((await db.query(`SELECT webhook_id FROM shopify_webhook_inbox WHERE webhook_id = 'stale'`)).length).toBe(0);
    expect(await db.query(`SELECT count(*)::int AS n FROM shopify_webhook_inbox`)).toEqual([{ n: 3 }]);
  });
});

describe('ingestion service: updateTenant and removeTenant clear the webhook service\'s shop cache', () => {
  const API_SECRET = 'moved_tenant_app_secret_0123456789';
  let sim: ShopifySimulator;
  let service: IngestionService | undefined;
  beforeAll(async () => {
    sim = await createShopifySimulator({ seed: 7, apiSecret: API_SECRET, unthrottled: true, shops: [
      { domain: 'old-facade.myshopify.com', customers: 1, products: 1, orders: 1 },
      { domain: 'new-facade.myshopify.com', customers: 1, products: 1, orders: 1 },
    ] });
  }, 120_000);
  afterAll(async () => { await service?.shutdown({ timeoutMs: 5000 }); await sim?.stop(); });

  it('the new shop is answered at once, and the old one refused, without waiting for the cache to expire', async () => {
    await db.query('DELETE FROM shopify_webhook_inbox');
    await db.query('DELETE FROM shopify_tenants');
    const env = { DATABASE_URL: db.url, ENCRYPTION_KEY, SHOPIFY_API_SECRET: API_SECRET, LOG_LEVEL: 'error' };
    // A clock that stands still: a cached entry never expires by itself here.
    const frozen = new Date();
    service = createIngestionService(db.database, { env, logger: silentLogger, scheduler: { enabled: false }, healthCheckIntervalMs: 0, webhooks: { worker: { autoStart: false }, clock: () => frozen, tenantCacheTtlMs: 60_000 } });
    await service.initialize();
    const [oldShop, newShop] = sim.shops;
    const deliver = async (shop: string, id: number) => (await service!.webhooks!.handler(toRequest(signedDelivery('orders/create', order(id), { shop, secret: API_SECRET })))).status;
    await service.addTenant('tenant-f', { shopDomain: oldShop!.domain, accessToken: oldShop!.accessToken }, { client: { baseUrl: sim.url } });
    expect(await deliver(newShop!.domain, 1)).toBe(404); // cached: unknown shop
    expect(await deliver(oldShop!.domain, 2)).toBe(200); // cached: tenant-f

    await service.updateTenant('tenant-f', { shopDomain: newShop!.domain, accessToken: newShop!.accessToken });
    expect({ newShop: await deliver(newShop!.domain, 3), oldShop: await deliver(oldShop!.domain, 4) }).toEqual({ newShop: 200, oldShop: 404 });

    await service.removeTenant('tenant-f');
    expect(await deliver(newShop!.domain, 5)).toBe(404);
  }, 120_000);
});
