/**
 * customers/redact and the customer's (and their orders') metafields, which the
 * SDK syncs (owner types CUSTOMER and ORDER) and stores in clear in shopify_metafields.value.
 * docs/security.md: "customers/redact leaves nothing of the customer that the key could recover".
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKeyRing } from '../../src/crypto/index.js';
import { silentLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { ShopifyTransformer } from '../../src/transform/index.js';
import { createWebhookService, type WebhookService } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, SECRET, signedDelivery, toRequest } from '../webhooks/helpers/deliveries.js';

let db: TestDatabase;
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });

function service(): WebhookService {
  return createWebhookService(db.database, { secrets: SECRET, keyRing, logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0 });
}
const send = (s: WebhookService, topic: string, body: unknown) => s.handler(toRequest(signedDelivery(topic, body)));

beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_rv_wh_mf' }); });
afterAll(async () => { await db?.drop(); });
beforeEach(async () => {
  await db.query('DELETE FROM shopify_tenants');
  await createStore(db.database).upsertTenant({ id: 't1', shopDomain: 'shop.myshopify.com', accessTokenEnc: keyRing.encrypt('shpat_t1', 't1') });
});

describe('customers/redact', () => {
  it('erases the metafields of the redacted customer and of their orders', async () => {
    const store = createStore(db.database);
    const transformer = new ShopifyTransformer({ keyRing });
    const t = '2025-01-01T00:00:00Z';
    // What the metafields sync stores for a customer (owner type CUSTOMER) and one of their orders.
    await store.writeRows('t1', 'metafields', transformer.toRows('metafields', {
      __typename: 'Customer', id: 'gid://shopify/Customer/8', updatedAt: t,
      metafields: { nodes: [{ id: 'gid://shopify/Metafield/101', namespace: 'custom', key: 'birthday', type: 'date', value: '1984-03-02', createdAt: t, updatedAt: t },
        { id: 'gid://shopify/Metafield/102', namespace: 'custom', key: 'personal_note', type: 'single_line_text_field', value: 'Jane Roe, allergic to nuts, +1 555 0100', createdAt: t, updatedAt: t }] },
    }, 't1'));
    await store.writeRows('t1', 'metafields', transformer.toRows('metafields', {
      __typename: 'Order', id: 'gid://shopify/Order/77', updatedAt: t,
      metafields: { nodes: [{ id: 'gid://shopify/Metafield/201', namespace: 'custom', key: 'gift_message', type: 'multi_line_text_field', value: 'Happy birthday Jane, 12 Elm St', createdAt: t, updatedAt: t }] },
    }, 't1'));
    expect(await db.query(`SELECT count(*)::int AS n FROM shopify_metafields WHERE tenant_id = 't1'`)).toEqual([{ n: 3 }]);

    const s = service();
    expect((await send(s, 'customers/redact', { shop_id: 1, shop_domain: 'shop.myshopify.com', customer: { id: 8, email: 'jane@example.com' }, orders_to_redact: [77] })).status).toBe(200);
    await s.processPending();
    const [done] = await db.query(`SELECT status, last_error FROM shopify_webhook_inbox WHERE topic = 'customers/redact'`);
    expect(done).toMatchObject({ status: 'processed' });

    const left = await db.query(`SELECT owner_type, owner_id::text, key, value FROM shopify_metafields WHERE tenant_id = 't1' AND value IS NOT NULL ORDER BY id`);
    expect(left, 'the customer\'s and their order\'s metafield values survive customers/redact, in clear').toEqual([]);
  });
});
