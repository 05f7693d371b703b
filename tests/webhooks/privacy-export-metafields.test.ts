/**
 * customers/data_request hands the host what customers/redact erases as the customer's: the
 * metafields of the customer (owner CUSTOMER) and of their orders, stored and listed (owner ORDER),
 * and the refunds, transactions and fulfillments of those orders (a refund's note is the buyer's
 * words). Another customer's metafields and another order's refunds stay out of it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKeyRing } from '../../src/crypto/index.js';
import { silentLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { ShopifyTransformer } from '../../src/transform/index.js';
import { createWebhookService, type CustomerDataExport } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, SECRET, signedDelivery, toRequest } from './helpers/deliveries.js';

let db: TestDatabase;
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });
const transformer = new ShopifyTransformer({ keyRing });
const T = '2024-08-01T00:00:00Z';
const money = (amount: string) => ({ shopMoney: { amount, currencyCode: 'USD' }, presentmentMoney: { amount, currencyCode: 'USD' } });

/** A GraphQL order of `customer` with one refund, one transaction and one fulfillment. */
const order = (id: number, customer: number, note: string) => ({
  id: `gid://shopify/Order/${id}`, name: `#${id}`, email: `buyer${customer}@example.com`, createdAt: T, updatedAt: T,
  totalPriceSet: money('10.0'), customer: { id: `gid://shopify/Customer/${customer}` }, lineItems: { nodes: [] },
  refunds: [{ id: `gid://shopify/Refund/${id}1`, note, createdAt: T, updatedAt: T, totalRefundedSet: money('10.0'), refundLineItems: { nodes: [] }, orderAdjustments: { nodes: [] } }],
  transactions: [{ id: `gid://shopify/OrderTransaction/${id}2`, kind: 'SALE', status: 'SUCCESS', gateway: 'manual', createdAt: T, processedAt: T, amountSet: money('10.0') }],
  fulfillments: [{ id: `gid://shopify/Fulfillment/${id}3`, name: `#${id}.1`, status: 'SUCCESS', createdAt: T, updatedAt: T, trackingInfo: [], fulfillmentLineItems: { nodes: [] } }],
});
const metafield = (owner: 'Customer' | 'Order', ownerId: number, id: number, value: string) => ({
  __typename: owner, id: `gid://shopify/${owner}/${ownerId}`, updatedAt: T,
  metafields: { nodes: [{ id: `gid://shopify/Metafield/${id}`, namespace: 'custom', key: 'k', type: 'single_line_text_field', value, createdAt: T, updatedAt: T }] },
});

beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_wh_export_mf' }); });
afterAll(async () => { await db?.drop(); });

it('customers/data_request exports the metafields of the customer and of their orders, and the orders\' refunds, transactions and fulfillments', async () => {
  const store = createStore(db.database);
  await store.upsertTenant({ id: 'x1', shopDomain: 'shop.myshopify.com', accessTokenEnc: keyRing.encrypt('shpat_x', 'x1') });
  await store.writeRows('x1', 'customers', transformer.toRows('customers', { id: 777, email: 'ann@example.com', first_name: 'Ann', updated_at: T, created_at: T, addresses: [] }, 'x1'));
  for (const [id, customer, note] of [[9100, 777, 'Refunded Ann after her call'], [9900, 888, 'Refunded Bob']] as const) {
    const record = order(id, customer, note);
    for (const resource of ['orders', 'refunds', 'transactions', 'fulfillments']) await store.writeRows('x1', resource, transformer.toRows(resource, record, 'x1'));
  }
  // The customer's, their stored order's, an order Shopify lists but this tenant never stored, and another customer's.
  await store.writeRows('x1', 'metafields', transformer.toRows('metafields', metafield('Customer', 777, 5001, 'birthday 1990-02-03'), 'x1'));
  await store.writeRows('x1', 'metafields', transformer.toRows('metafields', metafield('Order', 9100, 5002, 'gift message for Ann'), 'x1'));
  await store.writeRows('x1', 'metafields', transformer.toRows('metafields', metafield('Order', 9200, 5003, 'listed order note'), 'x1'));
  await store.writeRows('x1', 'metafields', transformer.toRows('metafields', metafield('Customer', 888, 5004, 'Bob secret'), 'x1'));
  await store.writeRows('x1', 'metafields', transformer.toRows('metafields', metafield('Order', 9900, 5005, 'Bob order secret'), 'x1'));

  const exports: CustomerDataExport[] = [];
  const s = createWebhookService(db.database, { secrets: SECRET, keyRing, logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0, onDataRequest: (_t, data) => { exports.push(data); } });
  const body = { shop_id: 1, shop_domain: 'shop.myshopify.com', customer: { id: 777, email: 'ann@example.com', phone: null }, orders_requested: [9200], data_request: { id: 42 } };
  expect((await s.handler(toRequest(signedDelivery('customers/data_request', body)))).status).toBe(200);
  await s.processPending();
  expect(await db.query(`SELECT status, last_error FROM shopify_webhook_inbox WHERE topic = 'customers/data_request'`)).toEqual([{ status: 'processed', last_error: null }]);
  expect(exports).toHaveLength(1);
  const { records } = exports[0]!;

  const values = (records.shopify_metafields ?? []).map((m) => m.value).sort();
  expect(values, `tables exported: ${Object.keys(records).join(', ')}`).toEqual(['birthday 1990-02-03', 'gift message for Ann', 'listed order note']);
  expect(records.shopify_refunds?.map((r) => r.note)).toEqual(['Refunded Ann after her call']);
  expect(records.shopify_order_transactions?.map((r) => String(r.id))).toEqual(['91002']);
  expect(records.shopify_fulfillments?.map((r) => String(r.id))).toEqual(['91003']);
});
