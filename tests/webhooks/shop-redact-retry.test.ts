/**
 * shop/redact purges the tenant's inbox but keeps its own delivery: a host handler that throws sends
 * it back to pending, retried like every other delivery (docs/webhooks.md).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKeyRing } from '../../src/crypto/index.js';
import { silentLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { createWebhookService, type WebhookService } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, SECRET, signedDelivery, toRequest } from '../webhooks/helpers/deliveries.js';

let db: TestDatabase;
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });

function service(over: Parameters<typeof createWebhookService>[1] = {}): WebhookService {
  return createWebhookService(db.database, { secrets: SECRET, keyRing, logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0, ...over });
}
const send = (s: WebhookService, topic: string, body: unknown, options: Parameters<typeof signedDelivery>[2] = {}) =>
  s.handler(toRequest(signedDelivery(topic, body, options)));

beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_wh_shop_redact_retry' }); });
afterAll(async () => { await db?.drop(); });
beforeEach(async () => {
  await db.query('DELETE FROM shopify_tenants');
  const store = createStore(db.database);
  await store.upsertTenant({ id: 't1', shopDomain: 'shop.myshopify.com', accessTokenEnc: keyRing.encrypt('shpat_t1', 't1') });
});

describe('shop/redact', () => {
  it('whose handler fails goes back to pending and is retried', async () => {
    const s = service();
    let fail = true;
    let calls = 0;
    s.on('shop/redact', () => { calls++; if (fail) throw new Error('host erase failed'); });
    expect((await send(s, 'shop/redact', { shop_id: 1, shop_domain: 'shop.myshopify.com' }, { webhookId: 'redact-1' })).status).toBe(200);
    await s.processPending();
    expect(await db.query(`SELECT status FROM shopify_webhook_inbox WHERE webhook_id = 'redact-1'`)).toEqual([{ status: 'pending' }]);
    fail = false;
    await db.query(`UPDATE shopify_webhook_inbox SET next_attempt_at = now() WHERE webhook_id = 'redact-1'`);
    await s.processPending();
    expect(await db.query(`SELECT status FROM shopify_webhook_inbox WHERE webhook_id = 'redact-1'`)).toEqual([{ status: 'processed' }]);
    expect(calls).toBe(2);
  });
});
