/**
 * When a synced version was observed (`observed_at`, store/versioning.ts) breaks ties of Shopify's
 * whole-second `updated_at` between a sync's read and a webhook: a bulk operation's rows carry the
 * time the importer asked for the operation, a page's rows the time its request was sent (both on
 * the importer's clock, so a later read always wins over an earlier one of the same second). A webhook raised after a
 * read began is newer than what the read returned for the same second, and the read does not
 * overwrite it; a read that began after the webhook was raised replaces it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookService, type WebhookService } from '../../src/webhooks/index.js';
import { silentLogger } from '../../src/logger.js';
import { signedDelivery, SECRET, toRequest } from '../webhooks/helpers/deliveries.js';
import { createShopifyClient } from '../../src/client/index.js';
import { createStore } from '../../src/store/index.js';
import { connectTenant, createHarness, importer, shopRecords, type Harness } from './harness.js';

let h: Harness;
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
const TENANT = 'observed-t1';
const BULK = { minPollMs: 10, maxPollMs: 50 };

beforeAll(async () => {
  h = await createHarness({ bulk: { startDelayMs: 20, rowsPerSecond: 100_000 }, shops: [{ customers: 10, products: 6, orders: 25 }] });
});
afterAll(async () => { await h?.close(); });

const observed = async (table: string) =>
  (await h.db.query<{ observed_at: Date | null }>(`SELECT observed_at FROM ${table} WHERE tenant_id = $1`, [TENANT])).map((r) => r.observed_at?.getTime() ?? null);

describe('observed_at on synced rows', () => {
  it('a bulk operation stamps the time it was asked for, a page its request time; a webhook raised in between wins the tie, a later read replaces it', async () => {
    const { shop, client } = await connectTenant(h, TENANT);
    const run = importer(h, client, TENANT, { clock, bulk: BULK });

    // Full syncs: one bulk operation each, every row (variants too) stamped with the time it was asked for.
    const fullStart = Date.now();
    await run.importProducts();
    await run.importOrders();
    const fullEnd = Date.now();
    for (const table of ['shopify_products', 'shopify_product_variants', 'shopify_orders']) {
      const stamps = await observed(table);
      expect(stamps.length, table).toBeGreaterThan(0);
      expect(new Set(stamps).size, `${table}: one operation, one time`).toBe(1);
      expect(stamps[0]!, table).toBeGreaterThanOrEqual(fullStart);
      expect(stamps[0]!, table).toBeLessThanOrEqual(fullEnd);
    }

    // An order changes at Shopify (an incremental run lists it), and a webhook with its updated_at
    // arrives, raised later than any read so far.
    const changedId = [...(await shopRecords(client, 'orders')).keys()][3]!;
    shop.update('orders', Number(changedId), { note: 'changed at Shopify' });
    const newest = (await shopRecords(client, 'orders')).get(changedId)!;
    const shopifyTags = newest.tags;
    const raisedAt = new Date(Date.now() + 10 * 60_000).toISOString();
    const webhooks: WebhookService = createWebhookService(h.db.database, { secrets: SECRET, keyRing: h.keyRing, logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0 });
    try {
      const res = await webhooks.handler(toRequest(signedDelivery('orders/updated', { ...newest, tags: 'from-webhook' }, { shop: shop.domain, triggeredAt: raisedAt })));
      expect(res.status).toBe(200);
      expect(await webhooks.processPending()).toBe(1);
    } finally {
      await webhooks.stop();
    }
    const row = async () => (await h.db.query<{ tags: string | null; observed_at: Date }>(`SELECT tags, observed_at FROM shopify_orders WHERE tenant_id = $1 AND id = $2::bigint`, [TENANT, String(newest.id)]))[0]!;
    expect(await row()).toMatchObject({ tags: 'from-webhook', observed_at: new Date(raisedAt) });

    // An incremental run by pages, begun before the webhook was raised: its read of the same second loses.
    const incremental = await run.importOrders({ bulkThreshold: 1_000_000 });
    expect(incremental.mode).toBe('incremental');
    expect(incremental.fetched).toBeGreaterThan(0);
    expect(await row()).toMatchObject({ tags: 'from-webhook', observed_at: new Date(raisedAt) });

    // A run whose read begins after the webhook was raised replaces it with what Shopify holds,
    // stamped with the time of its page's request.
    offsetMs = 20 * 60_000;
    const pagesStart = clock().getTime();
    await run.importOrders({ bulkThreshold: 1_000_000 });
    const pagesEnd = clock().getTime();
    const after = await row();
    expect(after.tags).toBe(String(shopifyTags ?? ''));
    expect(after.observed_at.getTime()).toBeGreaterThanOrEqual(pagesStart);
    expect(after.observed_at.getTime()).toBeLessThanOrEqual(pagesEnd);
  });

  it('over REST (legacy), each page carries the time its request began, though pages are requested ahead', async () => {
    const tenant = 'observed-rest';
    await createStore(h.db.database).upsertTenant({ id: tenant, shopDomain: 'observed-rest.myshopify.com', accessTokenEnc: 'not-used-here' });
    const shop = h.sim.shops[0]!;
    const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: shop.baseUrl, retryOptions: { retries: 3, minTimeout: 5, maxTimeout: 50 } });
    const start = Date.now();
    const result = await importer(h, client, tenant).importCustomers({ source: 'rest', pageSize: 3 });
    const end = Date.now();
    expect(result.pages).toBeGreaterThanOrEqual(3);
    const stamps = (await h.db.query<{ observed_at: Date }>(`SELECT observed_at FROM shopify_customers WHERE tenant_id = $1`, [tenant])).map((r) => r.observed_at.getTime());
    expect(stamps).toHaveLength(10);
    for (const t of stamps) {
      expect(t).toBeGreaterThanOrEqual(start);
      expect(t).toBeLessThanOrEqual(end);
    }
    // One time per page, not one for the whole listing.
    expect(new Set(stamps).size).toBeGreaterThanOrEqual(2);
  });
});
