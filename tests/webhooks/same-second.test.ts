/**
 * Two webhooks of one record within one second: Shopify's `updated_at` has whole seconds, so an order
 * created and changed at once (`orders/create`, then `orders/updated` from an app tagging it) sends
 * two bodies with the same `updated_at`, and Shopify does not promise their order of delivery. The
 * one raised later (`X-Shopify-Triggered-At`) is kept, whichever is applied last, applied one by one
 * or in one batch; a retried delivery of the earlier one does not bring it back.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKeyRing } from '../../src/crypto/index.js';
import { silentLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { createWebhookService, type WebhookService } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, SECRET, signedDelivery, toRequest } from './helpers/deliveries.js';

let db: TestDatabase;
let service: WebhookService;
let orderId = 1000;

const UPDATED_AT = '2026-11-20T10:00:00Z';
const body = (id: number, tags: string) => ({ id, admin_graphql_api_id: `gid://shopify/Order/${id}`, created_at: UPDATED_AT, updated_at: UPDATED_AT, tags, line_items: [] });
const send = async (topic: string, id: number, tags: string, triggeredAt: string, webhookId?: string) => {
  const res = await service.handler(toRequest(signedDelivery(topic, body(id, tags), { triggeredAt, ...(webhookId ? { webhookId } : {}) })));
  expect(res.status).toBe(200);
};
const stored = async (id: number) => {
  const [row] = await db.query<{ tags: string; observed_at: Date }>(`SELECT tags, observed_at FROM shopify_orders WHERE tenant_id = 't1' AND id = $1`, [id]);
  return { tags: row?.tags, observedAt: row?.observed_at?.toISOString() };
};

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_wh_same_second' });
  await createStore(db.database).upsertTenant({ id: 't1', shopDomain: 'shop.myshopify.com', accessTokenEnc: 'x' });
  service = createWebhookService(db.database, {
    secrets: SECRET, keyRing: createKeyRing({ key: ENCRYPTION_KEY }), logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0,
  });
});
afterAll(async () => { await service?.stop(); await db?.drop(); });
beforeEach(() => { orderId++; });

describe('two deliveries of one record with the same updated_at', () => {
  it('applied one by one, the later-raised one is kept whichever comes last', async () => {
    await send('orders/updated', orderId, 'tagged-by-app', '2026-11-20T10:00:00.700Z');
    expect(await service.processPending()).toBe(1);
    await send('orders/create', orderId, 'new', '2026-11-20T10:00:00.200Z');
    expect(await service.processPending()).toBe(1);
    expect(await stored(orderId)).toEqual({ tags: 'tagged-by-app', observedAt: '2026-11-20T10:00:00.700Z' });
    // A retry of the earlier delivery (a new attempt, same webhook id would be a duplicate: a new id here).
    await send('orders/create', orderId, 'new', '2026-11-20T10:00:00.200Z');
    await service.processPending();
    expect((await stored(orderId)).tags).toBe('tagged-by-app');
  });

  it('in order, the later one replaces the earlier one', async () => {
    await send('orders/create', orderId, 'new', '2026-11-20T10:00:00.200Z');
    await service.processPending();
    await send('orders/updated', orderId, 'tagged-by-app', '2026-11-20T10:00:00.700Z');
    await service.processPending();
    expect(await stored(orderId)).toEqual({ tags: 'tagged-by-app', observedAt: '2026-11-20T10:00:00.700Z' });
  });

  it('applied in one batch, the later-raised one is kept whatever their order in the inbox', async () => {
    await send('orders/updated', orderId, 'tagged-by-app', '2026-11-20T10:00:00.700Z');
    await send('orders/create', orderId, 'new', '2026-11-20T10:00:00.200Z');
    expect(await service.processPending()).toBe(2);
    expect(await stored(orderId)).toEqual({ tags: 'tagged-by-app', observedAt: '2026-11-20T10:00:00.700Z' });
  });
});
