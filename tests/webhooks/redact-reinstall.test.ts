/**
 * shop/redact and a reinstall: Shopify sends shop/redact 48 hours after an uninstall. One raised
 * before the tenant was last activated (the merchant installed the app again while it waited in the
 * inbox: a backlog, a failed attempt's backoff) belongs to the earlier installation and erases
 * nothing of the new one, as a late app/uninstalled deactivates nothing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKeyRing } from '../../src/crypto/index.js';
import { createStore } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, manualWebhookService, sendSigned } from './helpers/deliveries.js';

let db: TestDatabase;
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });

const service = () => manualWebhookService(db.database);
const send = sendSigned;

const product = (id: number) =>
  `{"id":${id},"title":"p","handle":"p-${id}","status":"active","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-05-01T00:00:00Z","variants":[{"id":${id}1,"product_id":${id},"title":"Default","price":"1.00","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-05-01T00:00:00Z"}],"options":[],"images":[]}`;

const tenant = async () => (await db.query(`SELECT is_active, access_token_enc IS NOT NULL AS has_token FROM shopify_tenants WHERE id = 't1'`))[0];
const products = async () => db.query(`SELECT id::text FROM shopify_products WHERE tenant_id = 't1' ORDER BY id`);

beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_wh_redact_reinstall' }); });
afterAll(async () => { await db?.drop(); });
beforeEach(async () => {
  await db.query('DELETE FROM shopify_tenants');
  await db.query('DELETE FROM shopify_webhook_inbox');
  await createStore(db.database).upsertTenant({ id: 't1', shopDomain: 'shop.myshopify.com', accessTokenEnc: keyRing.encrypt('shpat_t1', 't1') });
});

describe('shop/redact after a reinstall', () => {
  it('raised before the tenant was activated again: the new installation stays active, with its credentials and rows; the delivery is closed', async () => {
    const s = service();
    const store = createStore(db.database);
    await send(s, 'products/create', product(127));
    await s.processPending();
    await store.setTenantActive('t1', false); // app/uninstalled
    // Accepted for the inactive tenant, not applied yet.
    expect((await send(s, 'shop/redact', { shop_id: 1, shop_domain: 'shop.myshopify.com' }, { webhookId: 'stale-redact', triggeredAt: new Date(Date.now() - 60_000).toISOString() })).status).toBe(200);
    // The merchant installs the app again.
    await store.upsertTenant({ id: 't1', shopDomain: 'shop.myshopify.com', accessTokenEnc: keyRing.encrypt('shpat_new', 't1') });
    await store.setTenantActive('t1', true);

    await s.processPending();

    expect(await tenant()).toEqual({ is_active: true, has_token: true });
    expect(await products()).toEqual([{ id: '127' }]);
    expect(await db.query(`SELECT status FROM shopify_webhook_inbox WHERE webhook_id = 'stale-redact'`)).toEqual([{ status: 'processed' }]);
  });

  it('raised after the last activation: erases the tenant as before', async () => {
    const s = service();
    await send(s, 'products/create', product(128));
    await s.processPending();
    await createStore(db.database).setTenantActive('t1', false);
    await send(s, 'shop/redact', { shop_id: 1, shop_domain: 'shop.myshopify.com' }, { triggeredAt: new Date(Date.now() + 1_000).toISOString() });

    await s.processPending();

    expect(await tenant()).toEqual({ is_active: false, has_token: false });
    expect(await products()).toEqual([]);
  });
});
