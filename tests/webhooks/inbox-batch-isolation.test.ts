/**
 * Deliveries that share one group-commit INSERT: a delivery the database refuses must fail alone,
 * the others sharing its statement still get their 200.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKeyRing } from '../../src/crypto/index.js';
import { silentLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { createWebhookInbox, createWebhookService, type InboxDelivery, type WebhookService } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, SECRET, signedDelivery, toRequest } from './helpers/deliveries.js';

let db: TestDatabase;
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });

beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_wh_batch_iso' }); });
afterAll(async () => { await db?.drop(); });
beforeEach(async () => {
  await db.query('DELETE FROM shopify_webhook_inbox');
  await db.query('DELETE FROM shopify_tenants');
  const store = createStore(db.database);
  await store.upsertTenant({ id: 't1', shopDomain: 'shop.myshopify.com', accessTokenEnc: keyRing.encrypt('shpat_t1', 't1') });
  await store.upsertTenant({ id: 't2', shopDomain: 'other.myshopify.com', accessTokenEnc: keyRing.encrypt('shpat_t2', 't2') });
});

function service(over: Parameters<typeof createWebhookService>[1] = {}): WebhookService {
  return createWebhookService(db.database, { secrets: SECRET, keyRing, logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0, ...over });
}
const product = (id: number) => ({ id, title: `p${id}`, updated_at: '2024-05-01T00:00:00Z', variants: [], options: [], images: [] });
const send = (s: WebhookService, id: number, options: Parameters<typeof signedDelivery>[2] = {}) =>
  s.handler(toRequest(signedDelivery('products/update', product(id), options)));

let seq = 0;
const delivery = (over: Partial<InboxDelivery> = {}): InboxDelivery => ({
  id: `iso-${++seq}`, tenantId: 't1', webhookId: `wh-iso-${seq}`, eventId: null, topic: 'products/update', shopDomain: 'shop.myshopify.com',
  apiVersion: '2025-07', triggeredAt: null, bodyEnc: 'sealed', receivedAt: new Date('2025-01-01T00:00:00Z'), ...over,
});

describe('group commit isolation', () => {
  it('one webhook id for two shops in one INSERT (a replay under another shop\'s header): the first is stored, the other refused with WEBHOOK_REPLAYED; the rest of the statement is stored', async () => {
    const inbox = createWebhookInbox(db.database);
    const original = delivery({ webhookId: 'one-id-two-shops' });
    const replay = delivery({ webhookId: 'one-id-two-shops', tenantId: 't2', shopDomain: 'other.myshopify.com' });
    const retry = delivery({ webhookId: 'one-id-two-shops' });
    const other = delivery({ tenantId: 't2', shopDomain: 'other.myshopify.com' });
    // Inserted in one event-loop turn: one statement.
    const results = await Promise.allSettled([original, replay, retry, other].map((d) => inbox.insert(d)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'WEBHOOK_REPLAYED', retryable: false });
    expect((results[2] as PromiseFulfilledResult<{ inserted: boolean }>).value.inserted).toBe(false);
    expect(await db.query(`SELECT tenant_id, webhook_id, duplicates FROM shopify_webhook_inbox ORDER BY tenant_id, webhook_id`)).toEqual([
      { tenant_id: 't1', webhook_id: 'one-id-two-shops', duplicates: 1 },
      { tenant_id: 't2', webhook_id: other.webhookId, duplicates: 0 },
    ]);
    // A tenant whose shop is not the delivery's is still told apart: TENANT_NOT_FOUND, not a replay.
    await expect(inbox.insert(delivery({ tenantId: 't2', shopDomain: 'shop.myshopify.com' }))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
  });

  it('an X-Shopify-Webhook-Id longer than 255 characters is answered 400 and stored nowhere; the deliveries arriving with it get 200', async () => {
    const s = service();
    const answers = await Promise.all([
      ...[300, 301, 302, 303].map((id) => send(s, id)),
      send(s, 399, { webhookId: 'x'.repeat(8000) }),
      send(s, 398, { webhookId: 'x'.repeat(256) }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 400, 400]);
    expect(await answers[4]!.text()).toBe('Invalid header(s): X-Shopify-Webhook-Id');
    expect(await db.query(`SELECT count(*)::int AS n FROM shopify_webhook_inbox`)).toEqual([{ n: 4 }]);
    expect((await send(s, 304, { webhookId: 'x'.repeat(255) })).status).toBe(200);
  });

  it('a row the database refuses (a key over the btree row size) fails alone: the rest of its INSERT is stored', async () => {
    const inbox = createWebhookInbox(db.database);
    const good = [delivery(), delivery(), delivery({ tenantId: 't2', shopDomain: 'other.myshopify.com' }), delivery()];
    // Hashes do not compress: 12,800 characters pass PostgreSQL's ~2.7 kB limit for a btree entry.
    const huge = delivery({ webhookId: Array.from({ length: 200 }, (_, i) => createHash('sha256').update(String(i)).digest('hex')).join('') });
    const results = await Promise.allSettled([good[0]!, good[1]!, huge, good[2]!, good[3]!].map((d) => inbox.insert(d)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason.message).toMatch(/^\[shopify-ingest\] inbox insert failed \(tenant t1\)/);
    const stored = await db.query(`SELECT webhook_id FROM shopify_webhook_inbox ORDER BY webhook_id`);
    expect(stored.map((r) => r.webhook_id)).toEqual(good.map((d) => d.webhookId).sort());
  });

  it('repeats of one webhook id inside a batch that had to be split are still one row and duplicates', async () => {
    const inbox = createWebhookInbox(db.database);
    const gone = delivery({ tenantId: 'no-such-tenant' });
    const results = await Promise.allSettled([delivery({ webhookId: 'same' }), gone, delivery({ webhookId: 'same' }), delivery({ webhookId: 'same' })].map((d) => inbox.insert(d)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const values = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ inserted: boolean }>).value.inserted);
    expect(values.filter(Boolean)).toHaveLength(1);
    expect(await db.query(`SELECT duplicates FROM shopify_webhook_inbox WHERE webhook_id = 'same'`)).toEqual([{ duplicates: 2 }]);
  });

  it('a delivery whose tenant was purged while its shop is still cached answers 404; other shops\' deliveries in the same INSERT get 200', async () => {
    const s = service({ tenantCacheTtlMs: 60_000 });
    expect((await send(s, 410)).status).toBe(200);
    expect((await send(s, 411, { shop: 'other.myshopify.com' })).status).toBe(200);
    // Another process (or removeTenant with purge) deletes the tenant; this process still caches shop -> t1.
    await createStore(db.database).purgeTenant('t1', { includeTenant: true });
    const answers = await Promise.all([send(s, 412), ...[413, 414, 415].map((id) => send(s, id, { shop: 'other.myshopify.com' }))]);
    expect(answers.map((r) => r.status)).toEqual([404, 200, 200, 200]);
    expect(await answers[0]!.text()).toBe('Unknown shop');
    expect(await db.query(`SELECT tenant_id, count(*)::int AS n FROM shopify_webhook_inbox GROUP BY tenant_id`)).toEqual([{ tenant_id: 't2', n: 4 }]);
  });

  it('a lost connection is not retried row by row: every delivery of the batch fails with it', async () => {
    const statements: string[] = [];
    const failing = {
      $queryRawUnsafe: async (sql: string) => { statements.push(sql); throw Object.assign(new Error('Connection terminated unexpectedly'), { code: '08006' }); },
      $executeRawUnsafe: async () => 0,
    };
    const inbox = createWebhookInbox(failing as never);
    const results = await Promise.allSettled([delivery(), delivery(), delivery()].map((d) => inbox.insert(d)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(statements).toHaveLength(1);
  });
});
