/**
 * customers/redact and versions of the customer delivered after it. The redacted rows are observed at
 * the redact's time, so a version raised before it (same `updated_at`, observed earlier: Shopify
 * retrying a delivery it first got a 503 for) loses the tie of store/versioning.ts and cannot store
 * the PII again. A newer version still wins.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { manualWebhookService, sendSigned } from './helpers/deliveries.js';

let db: TestDatabase;

const service = () => manualWebhookService(db.database);
const send = sendSigned;

const customer = (updatedAt: string) => `{"id":333333333333,"email":"ann@example.com","first_name":"Ann","last_name":"A","created_at":"2024-01-01T00:00:00Z","updated_at":"${updatedAt}","state":"enabled","addresses":[],"tags":"","currency":"USD"}`;
const order = (updatedAt: string) => ({ id: 444, email: 'ann@example.com', customer: { id: 333333333333, email: 'ann@example.com' }, currency: 'USD', total_price: '1.00', created_at: '2024-01-01T00:00:00Z', updated_at: updatedAt, line_items: [] });
const redactAnn = { shop_id: 1, shop_domain: 'shop.myshopify.com', customer: { id: 333333333333, email: 'ann@example.com' }, orders_to_redact: [444] };
const TRIGGERED = '2024-02-01T00:00:00.500Z';

const pii = async () => ({
  customer: await db.query(`SELECT email_enc IS NOT NULL AS has_email, first_name_enc IS NOT NULL AS has_name FROM shopify_customers WHERE id = 333333333333`),
  order: await db.query(`SELECT payload ? 'email' AS has_email FROM shopify_orders WHERE id = 444`),
});

beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_wh_redact_replay' }); });
afterAll(async () => { await db?.drop(); });
beforeEach(async () => {
  await db.query('DELETE FROM shopify_tenants');
  await db.query('DELETE FROM shopify_webhook_inbox');
  await createStore(db.database).upsertTenant({ id: 't1', shopDomain: 'shop.myshopify.com', accessTokenEnc: 'x' });
});

describe('versions delivered after customers/redact', () => {
  it('the same version of the customer and of their order, delivered again, does not bring the PII back', async () => {
    const s = service();
    await send(s, 'customers/update', customer('2024-02-01T00:00:00Z'), { webhookId: 'first', triggeredAt: TRIGGERED });
    await send(s, 'orders/create', order('2024-02-01T00:00:00Z'), { webhookId: 'first-order', triggeredAt: TRIGGERED });
    await s.processPending();
    await send(s, 'customers/redact', redactAnn);
    await s.processPending();
    const redacted = { customer: [{ has_email: false, has_name: false }], order: [{ has_email: false }] };
    expect(await pii()).toEqual(redacted);

    // Stored only now: their first attempts were answered 503.
    await send(s, 'customers/create', customer('2024-02-01T00:00:00Z'), { webhookId: 'late', triggeredAt: TRIGGERED });
    await send(s, 'orders/updated', order('2024-02-01T00:00:00Z'), { webhookId: 'late-order', triggeredAt: TRIGGERED });
    await s.processPending();

    expect(await pii()).toEqual(redacted);
  });

  it('a newer version is stored', async () => {
    const s = service();
    await send(s, 'customers/update', customer('2024-02-01T00:00:00Z'), { triggeredAt: TRIGGERED });
    await s.processPending();
    await send(s, 'customers/redact', redactAnn);
    await s.processPending();

    await send(s, 'customers/update', customer('2030-01-01T00:00:00Z'), { triggeredAt: '2030-01-01T00:00:00Z' });
    await s.processPending();

    expect((await pii()).customer).toEqual([{ has_email: true, has_name: true }]);
  });
});
