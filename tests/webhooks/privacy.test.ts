/**
 * Privacy promises, end to end through the webhook service on PostgreSQL: after customers/redact
 * nothing of the customer's PII can be recovered, even with the key; after shop/redact the tenant is
 * inactive, its credentials gone, and nothing is stored for it; a signed body cannot be replayed
 * against another shop, nor one app's signature used for another app's shop. A shop/redact whose
 * host handler fails keeps its inbox row and is retried like any other delivery.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKeyRing } from '../../src/crypto/index.js';
import { silentLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { revealPayload } from '../../src/transform/pii.js';
import { ShopifyTransformer } from '../../src/transform/index.js';
import { unpackBody } from '../../src/webhooks/body-codec.js';
import { createWebhookService, type WebhookService } from '../../src/webhooks/index.js';
import { createTestDatabase, fixturesMissing, type TestDatabase } from '../helpers/db.js';
import { captureBody, ENCRYPTION_KEY, SECRET, signedDelivery, toRequest } from './helpers/deliveries.js';

let db: TestDatabase;
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });

function service(over: Parameters<typeof createWebhookService>[1] = {}): WebhookService {
  return createWebhookService(db.database, { secrets: SECRET, keyRing, logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0, ...over });
}
const send = (s: WebhookService, topic: string, body: unknown, options: Parameters<typeof signedDelivery>[2] = {}) =>
  s.handler(toRequest(signedDelivery(topic, body, options)));

beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_wh_privacy' }); });
afterAll(async () => { await db?.drop(); });
beforeEach(async () => {
  await db.query('DELETE FROM shopify_tenants');
  const store = createStore(db.database);
  await store.upsertTenant({ id: 't1', shopDomain: 'shop.myshopify.com', accessTokenEnc: keyRing.encrypt('shpat_t1', 't1') });
  await store.upsertTenant({ id: 't2', shopDomain: 'other.myshopify.com', accessTokenEnc: keyRing.encrypt('shpat_t2', 't2') });
});

/** Everything stored for a tenant, decrypted: every `*_enc` column, every sealed payload blob, every inbox body. */
async function everythingDecrypted(tenantId: string): Promise<string> {
  const tables = await db.query(`SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'tenant_id' ORDER BY table_name`);
  const out: string[] = [];
  for (const { table_name: table } of tables) {
    const rows = await db.query(`SELECT to_jsonb(t)::text AS row FROM "${table}" t WHERE tenant_id = $1`, [tenantId]);
    for (const { row } of rows) {
      const record = JSON.parse(row) as Record<string, unknown>;
      for (const [column, value] of Object.entries(record)) {
        if (typeof value !== 'string' && (typeof value !== 'object' || value === null)) continue;
        out.push(`[${table}.${column}]`);
        if (column.endsWith('_enc') && typeof value === 'string') out.push(column === 'body_enc' ? unpackBody(keyRing.decrypt(value, tenantId)) : keyRing.decrypt(value, tenantId));
        else if (column === 'payload') out.push(JSON.stringify(revealPayload(value, tenantId, keyRing)));
        else out.push(typeof value === 'string' ? value : JSON.stringify(value));
      }
    }
  }
  return out.join('\n');
}

describe.skipIf(fixturesMissing !== null)(`customers/redact${fixturesMissing ? ` (skipped: ${fixturesMissing})` : ''}`, () => {
  it('leaves nothing of the customer recoverable with the key (rows, payloads, sealed blobs, line items, inbox bodies), and the other customer intact', async () => {
    const s = service({ keepProcessedBodies: true });
    const order = await captureBody('orders.create');
    const other = await captureBody('customers.create');
    // The order's customer as their own record (Shopify's id is exact in the gid; the JSON number is not).
    const customerId = '115310627314723954';
    const customer = `{"id":${customerId},"email":"john@example.com","first_name":"John","last_name":"Smith","phone":"+15555550123","updated_at":"2024-08-01T00:00:00Z","created_at":"2024-08-01T00:00:00Z","admin_graphql_api_id":"gid://shopify/Customer/${customerId}","addresses":[{"id":1,"address1":"123 Shipping Street","zip":"40003","first_name":"John","last_name":"Smith"}]}`;
    await send(s, 'customers/create', customer);
    await send(s, 'customers/create', other);
    await send(s, 'orders/create', order);
    await s.processPending();
    // The customer's draft order and abandoned checkout, as a sync stores them (GraphQL nodes).
    const store = createStore(db.database);
    const transformer = new ShopifyTransformer({ keyRing });
    const money = (amount: string) => ({ shopMoney: { amount, currencyCode: 'USD' }, presentmentMoney: { amount, currencyCode: 'EUR' } });
    const address = { firstName: 'John', lastName: 'Smith', name: 'John Smith', address1: '123 Shipping Street', zip: '40003', city: 'Louisville', countryCodeV2: 'US', phone: '+15555550123' };
    const line = (type: string, id: number) => ({ id: `gid://shopify/${type}/${id}`, title: 'Mug', quantity: 2, sku: 'MUG-1', originalUnitPriceSet: money('5.0'), customAttributes: [{ key: 'Engraving', value: 'For John Smith' }] });
    await store.writeRows('t1', 'draftOrders', transformer.toRows('draftOrders', {
      id: 'gid://shopify/DraftOrder/9001', name: '#D1', status: 'OPEN', email: 'john@example.com', phone: '+15555550123', note2: 'Ring Steve Shipper at 555-555-SHIP',
      invoiceUrl: 'https://shop.example/invoices/john-smith-secret', createdAt: '2024-08-02T00:00:00Z', updatedAt: '2024-08-02T00:00:00Z', totalPriceSet: money('10.0'),
      customer: { id: `gid://shopify/Customer/${customerId}` }, billingAddress: address, shippingAddress: address, lineItems: { nodes: [line('DraftOrderLineItem', 9002)] },
    }, 't1'));
    await store.writeRows('t1', 'abandonedCheckouts', transformer.toRows('abandonedCheckouts', {
      id: 'gid://shopify/AbandonedCheckout/9101', name: '#9101', note: 'Shipping Company account 40003', abandonedCheckoutUrl: 'https://shop.example/recover/john-smith-secret',
      createdAt: '2024-08-03T00:00:00Z', updatedAt: '2024-08-03T00:00:00Z', totalPriceSet: money('10.0'), discountCodes: [],
      customer: { id: `gid://shopify/Customer/${customerId}`, defaultEmailAddress: { emailAddress: 'jon@example.com' }, defaultPhoneNumber: { phoneNumber: '+15555550123' } },
      billingAddress: address, shippingAddress: address, lineItems: { nodes: [line('AbandonedCheckoutLineItem', 9102)] },
    }, 't1'));
    // A delivery naming the order waits for a retry (no client to refetch the edit): applying it after
    // the redact would store the order's PII again, so the redact closes it.
    const edit = '{"order_edit":{"id":1,"order_id":820982911946154508,"committed_at":"2030-01-01T00:00:00Z","line_items":{"additions":[],"removals":[]}}}';
    await send(s, 'orders/edited', edit, { webhookId: 'waiting-edit' });
    await s.processPending();
    expect(await db.query(`SELECT status FROM shopify_webhook_inbox WHERE webhook_id = 'waiting-edit'`)).toEqual([{ status: 'pending' }]);
    // An update of the order claimed in the same batch as the redact: applied first, then erased.
    await send(s, 'orders/updated', { ...order, updated_at: '2030-01-01T00:00:00Z' }, { webhookId: 'late-update' });

    const pii = ['john@example.com', 'jon@example.com', 'John', 'Smith', 'Steve', 'Shipper', '123 Shipping Street', '555-555-SHIP', 'Shipping Company', '40003', '+15555550123', 'john-smith-secret'];
    const before = await everythingDecrypted('t1');
    for (const value of pii) expect(before, `stored before the redact: ${value}`).toContain(value);

    const redact = `{"shop_id":1,"shop_domain":"shop.myshopify.com","customer":{"id":${customerId},"email":"john@example.com","phone":null},"orders_to_redact":[820982911946154508]}`;
    expect((await send(s, 'customers/redact', redact)).status).toBe(200);
    await s.processPending();
    expect(await db.query(`SELECT status, last_error FROM shopify_webhook_inbox WHERE topic = 'customers/redact'`)).toEqual([{ status: 'processed', last_error: null }]);

    const after = await everythingDecrypted('t1');
    for (const value of pii) {
      const at = after.indexOf(value);
      expect(at, `still recoverable after the redact: ${value} in ${after.slice(after.lastIndexOf('\n[', at), at).split('\n')[1]}`).toBe(-1);
    }
    // Scope: the other customer keeps their data, the order keeps its analytics.
    expect(after).toContain('bob@biller.com');
    // The draft and the checkout keep their amounts and line items.
    expect(await db.query(`SELECT total_price::text AS total, total_price_presentment::text AS total_p, line_item_count FROM shopify_draft_orders WHERE tenant_id = 't1'`)).toEqual([{ total: '10.0000', total_p: '10.0000', line_item_count: 1 }]);
    expect(await db.query(`SELECT total_price::text AS total, line_item_count FROM shopify_abandoned_checkouts WHERE tenant_id = 't1'`)).toEqual([{ total: '10.0000', line_item_count: 1 }]);
    expect(await db.query(`SELECT quantity FROM shopify_abandoned_checkout_line_items WHERE tenant_id = 't1'`)).toEqual([{ quantity: 2 }]);
    const [o] = await db.query(`SELECT total_price::text, line_item_count, payload->>'redacted' AS redacted FROM shopify_orders WHERE tenant_id = 't1'`);
    expect(o).toMatchObject({ total_price: expect.stringMatching(/^\d/), line_item_count: 2, redacted: 'true' });
    const [waiting] = await db.query(`SELECT status, body_enc, last_error FROM shopify_webhook_inbox WHERE webhook_id = 'waiting-edit'`);
    expect(waiting).toMatchObject({ status: 'processed', body_enc: null, last_error: expect.stringContaining('customers/redact') });
    expect(await db.query(`SELECT status, body_enc FROM shopify_webhook_inbox WHERE webhook_id = 'late-update'`)).toEqual([{ status: 'processed', body_enc: null }]);
  });
});

describe('shop/redact', () => {
  it('deactivates the tenant, erases its credentials and rows, and stores nothing for it afterwards (deliveries accepted before included)', async () => {
    const s = service();
    const deactivated: string[] = [];
    const hooked = service({ onTenantDeactivated: (id) => { deactivated.push(id); } });
    await send(s, 'customers/update', { id: 7, updated_at: '2025-01-01T00:00:00Z', email: 'a@example.com' });
    await send(s, 'customers/update', { id: 8, updated_at: '2025-01-01T00:00:00Z' }, { shop: 'other.myshopify.com' });
    await s.processPending();
    // Accepted before the redact, claimed after it: must not be applied.
    await send(s, 'customers/update', { id: 9, updated_at: '2025-01-02T00:00:00Z' }, { webhookId: 'before-redact' });
    expect((await send(s, 'shop/redact', { shop_id: 1, shop_domain: 'shop.myshopify.com' })).status).toBe(200);
    await hooked.processPending();
    expect(deactivated).toEqual(['t1']);

    const [tenant] = await db.query(`SELECT is_active, access_token_enc, refresh_token_enc FROM shopify_tenants WHERE id = 't1'`);
    expect(tenant).toMatchObject({ is_active: false, access_token_enc: null, refresh_token_enc: null });
    expect(await db.query(`SELECT tenant_id FROM shopify_customers ORDER BY tenant_id`)).toEqual([{ tenant_id: 't2' }]);

    // Later deliveries: refused, nothing stored; a redelivered privacy topic is still accepted.
    expect((await send(s, 'orders/create', { id: 1, updated_at: '2025-01-03T00:00:00Z' })).status).toBe(404);
    expect((await send(s, 'customers/update', { id: 10, updated_at: '2025-01-03T00:00:00Z' })).status).toBe(404);
    expect((await send(s, 'shop/redact', { shop_id: 1, shop_domain: 'shop.myshopify.com' })).status).toBe(200);
    await s.processPending();
    expect(await db.query(`SELECT count(*)::int AS n FROM shopify_customers WHERE tenant_id = 't1'`)).toEqual([{ n: 0 }]);
    expect(await db.query(`SELECT count(*)::int AS n FROM shopify_orders WHERE tenant_id = 't1'`)).toEqual([{ n: 0 }]);
  });

  it('a delivery accepted before app/uninstalled but applied after it stores nothing and reaches no handler', async () => {
    const s = service();
    const handled: string[] = [];
    s.on('customers/update', (e) => { handled.push(e.webhookId); });
    await send(s, 'customers/update', { id: 11, updated_at: '2025-01-01T00:00:00Z' }, { webhookId: 'queued' });
    await createStore(db.database).setTenantActive('t1', false);
    await s.processPending();
    expect(handled).toEqual([]);
    expect(await db.query(`SELECT count(*)::int AS n FROM shopify_customers`)).toEqual([{ n: 0 }]);
    expect(await db.query(`SELECT status FROM shopify_webhook_inbox WHERE webhook_id = 'queued'`)).toEqual([{ status: 'processed' }]);
  });
});

describe('a signed body replayed against another shop', () => {
  const destructive: Array<[string, Record<string, unknown>]> = [
    ['shop/redact', { shop_id: 1, shop_domain: 'shop.myshopify.com' }],
    ['customers/redact', { shop_id: 1, shop_domain: 'shop.myshopify.com', customer: { id: 8, email: 'b@example.com' }, orders_to_redact: [] }],
    ['customers/data_request', { shop_id: 1, shop_domain: 'shop.myshopify.com', customer: { id: 8 }, orders_requested: [], data_request: { id: 1 } }],
    ['app/uninstalled', { id: 1, name: 'Shop', domain: 'shop.example', myshopify_domain: 'shop.myshopify.com' }],
  ];
  for (const [topic, body] of destructive) {
    it(`${topic} signed for shop A, sent with shop B's header: 400, shop B untouched`, async () => {
      const s = service();
      await send(s, 'customers/update', { id: 8, updated_at: '2025-01-01T00:00:00Z', email: 'b@example.com' }, { shop: 'other.myshopify.com' });
      await s.processPending();
      const res = await send(s, topic, body, { shop: 'other.myshopify.com' });
      expect(res.status).toBe(400);
      await s.processPending();
      expect(await db.query(`SELECT is_active, access_token_enc IS NOT NULL AS has_token FROM shopify_tenants WHERE id = 't2'`)).toEqual([{ is_active: true, has_token: true }]);
      const [c] = await db.query(`SELECT email_enc FROM shopify_customers WHERE tenant_id = 't2'`);
      expect(c!.email_enc).toBeTruthy();
      expect(await db.query(`SELECT topic FROM shopify_webhook_inbox WHERE topic = $1`, [topic])).toEqual([]);
    });
  }

  it('a destructive topic whose body names no shop is refused; a matching body is accepted', async () => {
    const s = service();
    expect((await send(s, 'shop/redact', { shop_id: 1 })).status).toBe(400);
    expect((await send(s, 'shop/redact', { shop_id: 1, shop_domain: 'SHOP.myshopify.com' })).status).toBe(200);
    // Topics whose bodies do not name the shop (orders, customers) are not affected.
    expect((await send(s, 'customers/update', { id: 1, updated_at: '2025-01-01T00:00:00Z' })).status).toBe(200);
  });

  it('a body that names no shop (an order), replayed with shop B\'s header and its webhook id: 400 WEBHOOK_REPLAYED, nothing stored for B; A\'s retry is still a duplicate', async () => {
    const s = service();
    const order = { id: 4401, name: '#4401', email: 'buyer@example.com', updated_at: '2025-01-01T00:00:00Z', line_items: [] };
    const captured = signedDelivery('orders/create', order, { webhookId: 'captured-delivery-1' });
    expect((await s.handler(toRequest(captured))).status).toBe(200);
    const replayed = { headers: { ...captured.headers, 'x-shopify-shop-domain': 'other.myshopify.com' }, body: captured.body };
    const res = await s.handler(toRequest(replayed));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/already received for another shop/);
    // Shopify's own retry of the original is acknowledged as a duplicate, and applied once.
    const retry = await s.handler(toRequest(captured));
    expect(await retry.json()).toEqual({ ok: true, duplicate: true });
    await s.processPending();
    expect(await db.query(`SELECT tenant_id, duplicates FROM shopify_webhook_inbox WHERE webhook_id = 'captured-delivery-1'`)).toEqual([{ tenant_id: 't1', duplicates: 1 }]);
    expect(await db.query(`SELECT tenant_id FROM shopify_orders WHERE id = 4401`)).toEqual([{ tenant_id: 't1' }]);
    // Still refused once the original is processed (its row is kept, without its body).
    expect((await s.handler(toRequest(replayed))).status).toBe(400);
    expect(await db.query(`SELECT count(*)::int AS n FROM shopify_webhook_inbox WHERE tenant_id = 't2'`)).toEqual([{ n: 0 }]);
  });
});

describe('several apps', () => {
  const A = 'shpss_secret_of_app_a', B = 'shpss_secret_of_app_b';
  beforeEach(async () => {
    await db.query(`UPDATE shopify_tenants SET client_id = CASE id WHEN 't1' THEN 'app-a' ELSE 'app-b' END`);
  });

  it("an app's secret verifies its own tenants' deliveries only: app A's signature for app B's shop is 401 with no side effect", async () => {
    const s = service({ secrets: [], apps: [{ clientId: 'app-a', secrets: [A] }, { clientId: 'app-b', secrets: [B] }] });
    expect((await send(s, 'customers/update', { id: 1, updated_at: '2025-01-01T00:00:00Z' }, { secret: A })).status).toBe(200);
    expect((await send(s, 'customers/update', { id: 2, updated_at: '2025-01-01T00:00:00Z' }, { secret: B, shop: 'other.myshopify.com' })).status).toBe(200);
    for (const [topic, body] of [['orders/create', { id: 3 }], ['shop/redact', { shop_id: 2, shop_domain: 'other.myshopify.com' }], ['customers/redact', { shop_id: 2, shop_domain: 'other.myshopify.com', customer: { id: 2 }, orders_to_redact: [] }]] as const) {
      expect((await send(s, topic, body, { secret: A, shop: 'other.myshopify.com' })).status, topic).toBe(401);
    }
    expect((await send(s, 'customers/update', { id: 4, updated_at: '2025-01-01T00:00:00Z' }, { secret: SECRET })).status).toBe(401);
    await s.processPending();
    expect(await db.query(`SELECT tenant_id, topic FROM shopify_webhook_inbox ORDER BY tenant_id`)).toEqual([
      { tenant_id: 't1', topic: 'customers/update' }, { tenant_id: 't2', topic: 'customers/update' },
    ]);
    expect(await db.query(`SELECT is_active FROM shopify_tenants WHERE id = 't2'`)).toEqual([{ is_active: true }]);
  });

  it('the default secrets verify tenants of apps not listed (one-app setups keep working)', async () => {
    const s = service({ secrets: SECRET, apps: [{ clientId: 'app-a', secrets: [A] }] });
    expect((await send(s, 'customers/update', { id: 1, updated_at: '2025-01-01T00:00:00Z' }, { secret: SECRET, shop: 'other.myshopify.com' })).status).toBe(200);
    expect((await send(s, 'customers/update', { id: 1, updated_at: '2025-01-01T00:00:00Z' }, { secret: SECRET })).status).toBe(401);
    expect((await send(s, 'customers/update', { id: 1, updated_at: '2025-01-01T00:00:00Z' }, { secret: A })).status).toBe(200);
  });
});

describe('shop/redact, retried', () => {
  it('whose handler fails goes back to pending and is retried', async () => {
    const s = service();
    let fail = true;
    let calls = 0;
    s.on('shop/redact', () => { calls++; if (fail) throw new Error('host erase failed'); });
    expect((await send(s, 'shop/redact', { shop_id: 1, shop_domain: 'shop.myshopify.com' }, { webhookId: 'redact-1' })).status).toBe(200);
    await s.processPending();
    expect(await db.query(`SELECT status FROM shopify_webhook_inbox WHERE webhook_id = 'redact-1'`)).toEqual([{ status: 'pending' }]);
    fail = false;
    // Due now. A second back, not now(): the worker claims rows due by its own millisecond clock, and
    // PostgreSQL's now() (microseconds) can be later within the same millisecond.
    await db.query(`UPDATE shopify_webhook_inbox SET next_attempt_at = now() - interval '1 second' WHERE webhook_id = 'redact-1'`);
    await s.processPending();
    expect(await db.query(`SELECT status FROM shopify_webhook_inbox WHERE webhook_id = 'redact-1'`)).toEqual([{ status: 'processed' }]);
    expect(calls).toBe(2);
  });
});
