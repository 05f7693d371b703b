/**
 * One conformance suite every framework adapter runs, through a real HTTP server and the published
 * subpath (`shopify-ingest/express`, ...). Each test file supplies a harness that serves the webhook
 * route with its framework.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { createKeyRing } from '../../src/crypto/index.js';
import { silentLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { createWebhookService, type WebhookService } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, SECRET, signedDelivery } from '../webhooks/helpers/deliveries.js';

export interface RunningServer {
  /** Full URL of the webhook route. */
  url: string;
  close(): Promise<void>;
}

export interface AdapterHarness {
  name: string;
  /**
   * Serves the webhook route. `preParsed`: a JSON body parser of the framework (or the host) runs
   * before the route, as when `express.json()` is mounted globally.
   */
  start(service: WebhookService, options: { preParsed: boolean }): Promise<RunningServer>;
  /** What the route answers when a JSON parser ran first: 200 when the adapter still gets the raw bytes, else 500 with advice. */
  preParsed: { status: 200 } | { status: 500; messageIncludes: string };
}

export const MAX_BODY = 64 * 1024;

/** A minimal order as Shopify sends it. */
export const order = (id: number, extra: Record<string, unknown> = {}) => ({
  id, name: `#${id}`, created_at: '2025-01-01T00:00:00Z', updated_at: '2025-01-01T00:00:00Z', currency: 'USD', total_price: '1.00', line_items: [], ...extra,
});

export async function post(url: string, delivery: { headers: Record<string, string>; body: string }): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: delivery.headers, body: delivery.body });
  return { status: res.status, text: await res.text() };
}

export function runAdapterConformance(harness: AdapterHarness): void {
  describe(`${harness.name} adapter conformance`, () => {
    let db: TestDatabase;
    let service: WebhookService;
    let server: RunningServer;
    const keyRing = createKeyRing({ key: ENCRYPTION_KEY });
    const errors: Array<{ message: string; meta?: Record<string, unknown> }> = [];
    const recording = { ...silentLogger, error: (message: string, meta?: Record<string, unknown>) => { errors.push({ message, meta }); } };
    const rows = async (webhookId: string) =>
      db.query(`SELECT topic, duplicates, status FROM shopify_webhook_inbox WHERE webhook_id = $1`, [webhookId]);

    beforeAll(async () => {
      db = await createTestDatabase({ prefix: `si_wh_${harness.name.replace(/\W/g, '_').toLowerCase()}` });
      await createStore(db.database).upsertTenant({ id: 't1', shopDomain: 'shop.myshopify.com', accessTokenEnc: 'x' });
      service = createWebhookService(db.database, { secrets: SECRET, keyRing, logger: recording, maxBodyBytes: MAX_BODY, worker: { autoStart: false } });
      server = await harness.start(service, { preParsed: false });
    });
    afterAll(async () => {
      await server?.close();
      await db?.drop();
    });

    it('valid delivery: 200 after the row is stored', async () => {
      const d = signedDelivery('orders/create', order(1, { name: '#1' }), { webhookId: 'valid-1' });
      const res = await post(server.url, d);
      expect(res.status).toBe(200);
      expect(await rows('valid-1')).toEqual([{ topic: 'orders/create', duplicates: 0, status: 'pending' }]);
    });

    it('bad HMAC: 401, nothing stored', async () => {
      const d = signedDelivery('orders/create', order(2), { webhookId: 'bad-hmac', secret: 'not-the-secret' });
      const res = await post(server.url, d);
      expect(res.status).toBe(401);
      expect(res.text).toBe('Unauthorized');
      expect(await rows('bad-hmac')).toEqual([]);
    });

    it('missing headers: 400', async () => {
      const d = signedDelivery('orders/create', order(3), { webhookId: 'no-topic' });
      delete d.headers['x-shopify-topic'];
      const res = await post(server.url, d);
      expect(res.status).toBe(400);
      expect(res.text).toContain('X-Shopify-Topic');
      expect(await rows('no-topic')).toEqual([]);
    });

    it('oversized body: 413, nothing stored', async () => {
      const d = signedDelivery('orders/create', order(4, { note: 'x'.repeat(MAX_BODY) }), { webhookId: 'too-big' });
      const res = await post(server.url, d);
      expect(res.status).toBe(413);
      expect(await rows('too-big')).toEqual([]);
    });

    it('duplicate: 200 twice, stored once', async () => {
      const d = signedDelivery('orders/updated', order(5), { webhookId: 'dup-1' });
      expect((await post(server.url, d)).status).toBe(200);
      expect((await post(server.url, d)).status).toBe(200);
      expect(await rows('dup-1')).toEqual([{ topic: 'orders/updated', duplicates: 1, status: 'pending' }]);
    });

    it('unknown shop: 404, nothing stored', async () => {
      const d = signedDelivery('orders/create', order(6), { webhookId: 'unknown-shop', shop: 'nobody.myshopify.com' });
      expect((await post(server.url, d)).status).toBe(404);
      expect(await rows('unknown-shop')).toEqual([]);
    });

    it(`body pre-parsed by a JSON parser: ${harness.preParsed.status === 200 ? '200 (raw bytes still reach the HMAC check)' : '500 with mounting advice'}`, async () => {
      const parsedServer = await harness.start(service, { preParsed: true });
      try {
        const d = signedDelivery('orders/create', order(7, { total: 1.0 }), { webhookId: 'pre-parsed' });
        // Spacing a parser would not reproduce: a re-serialised body could never verify.
        d.body = d.body.replace(/,/g, ', ');
        d.headers['x-shopify-hmac-sha256'] = signedDelivery('x', d.body).headers['x-shopify-hmac-sha256']!;
        errors.length = 0;
        const res = await post(parsedServer.url, d);
        expect(res.status).toBe(harness.preParsed.status);
        if (harness.preParsed.status === 500) {
          // Answered to Shopify with advice, and logged once for the app's own logs.
          expect(errors).toEqual([{ message: expect.stringContaining('mounted behind a JSON body parser'), meta: expect.objectContaining({ code: 'WEBHOOK_RAW_BODY_UNAVAILABLE' }) }]);
          expect(res.text).toContain(harness.preParsed.messageIncludes);
          expect(res.text).toContain('raw request body is not available');
          expect(await rows('pre-parsed')).toEqual([]);
        } else {
          expect(await rows('pre-parsed')).toHaveLength(1);
        }
      } finally {
        await parsedServer.close();
      }
    });

    it('the SDK\'s own limit (2 MiB by default) passes through the framework: a 1.5 MiB order is 200, a 2.5 MiB one 413', async () => {
      const full = createWebhookService(db.database, { secrets: SECRET, keyRing, logger: silentLogger, worker: { autoStart: false } });
      const fullServer = await harness.start(full, { preParsed: false });
      try {
        const large = signedDelivery('orders/create', order(9, { note: 'x'.repeat(1.5 * 1024 * 1024) }), { webhookId: 'large' });
        expect((await post(fullServer.url, large)).status).toBe(200);
        expect(await rows('large')).toHaveLength(1);
        const huge = signedDelivery('orders/create', order(10, { note: 'x'.repeat(2.5 * 1024 * 1024) }), { webhookId: 'huge' });
        expect((await post(fullServer.url, huge)).status).toBe(413);
        expect(await rows('huge')).toEqual([]);
        await db.query(`DELETE FROM shopify_webhook_inbox WHERE webhook_id = 'large'`);
      } finally {
        await fullServer.close();
      }
    });

    it('database down: 503 so Shopify retries', async () => {
      const down = new PrismaClient({ adapter: new PrismaPg({ connectionString: 'postgresql://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 500 }) });
      const dead = createWebhookService(down, { secrets: SECRET, keyRing, logger: silentLogger, worker: { autoStart: false } });
      const deadServer = await harness.start(dead, { preParsed: false });
      try {
        const res = await post(deadServer.url, signedDelivery('orders/create', order(8), { webhookId: 'db-down' }));
        expect(res.status).toBe(503);
      } finally {
        await deadServer.close();
        await down.$disconnect();
      }
    });

    it('processes what it acknowledged', async () => {
      await service.processPending();
      const orders = await db.query(`SELECT id::text FROM shopify_orders ORDER BY id`);
      expect(orders.map((o) => o.id)).toEqual(harness.preParsed.status === 200 ? ['1', '5', '7'] : ['1', '5']);
    });
  });
}
