/**
 * What customers/redact and the stores left of a customer:
 * - an order's status page link (REST `order_status_url`, GraphQL `statusPageUrl`) carries a `?key=`
 *   that opens the buyer's order page: sealed like the order's other PII, and removed by a redact
 *   from payloads stored in clear before;
 * - the refunds, transactions and fulfillments of the redacted orders (a refund's note is the
 *   buyer's words): PII columns NULL, payloads scrubbed; another customer's stay;
 * - a failed delivery's `last_error` is masked like a failed sync's reason (emails, tokens).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKeyRing } from '../../src/crypto/index.js';
import { stringifyShopifyJson } from '../../src/json.js';
import { silentLogger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { scrubPayload } from '../../src/store/privacy.js';
import { revealPayload, ShopifyTransformer } from '../../src/transform/index.js';
import { createWebhookService } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, SECRET, signedDelivery, toRequest } from './helpers/deliveries.js';

let db: TestDatabase;
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });
const transformer = new ShopifyTransformer({ keyRing });
const T = '2024-08-01T00:00:00Z';
const money = (amount: string) => ({ shopMoney: { amount, currencyCode: 'USD' }, presentmentMoney: { amount, currencyCode: 'USD' } });
const STATUS_URL = 'https://shop.example/548380009/orders/b1946ac92492d2347c6235b4d2611184/authenticate?key=imasecretipod';

beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_wh_leftovers' }); });
afterAll(async () => { await db?.drop(); });

it('seals an order\'s status page link (REST and GraphQL) in its payload, reveals it, and a redact removes one stored in clear', () => {
  const rest = { id: 450789469, name: '#1001', email: 'bob@example.com', updated_at: T, created_at: T, order_status_url: STATUS_URL, line_items: [] };
  const { orders } = transformer.toRows('orders', rest, 'tx') as { orders: Array<{ payload: string }> };
  expect(orders[0]!.payload).not.toContain('imasecretipod');
  expect((revealPayload(orders[0]!.payload, 'tx', keyRing) as Record<string, unknown>).order_status_url).toBe(STATUS_URL);

  const graphql = { id: 'gid://shopify/Order/450789470', name: '#1002', updatedAt: T, createdAt: T, statusPageUrl: STATUS_URL, lineItems: { nodes: [] } };
  const sealed = transformer.toRows('orders', graphql, 'tx') as { orders: Array<{ payload: string }> };
  expect(sealed.orders[0]!.payload).not.toContain('imasecretipod');
  expect((revealPayload(sealed.orders[0]!.payload, 'tx', keyRing) as Record<string, unknown>).statusPageUrl).toBe(STATUS_URL);

  // A payload stored before the link was sealed.
  expect(scrubPayload(stringifyShopifyJson({ id: 1, order_status_url: STATUS_URL, statusPageUrl: STATUS_URL }))).not.toContain('imasecretipod');
});

it('customers/redact scrubs the refunds, transactions and fulfillments of the redacted orders, not another customer\'s', async () => {
  const store = createStore(db.database);
  await store.upsertTenant({ id: 'lo1', shopDomain: 'shop.myshopify.com', accessTokenEnc: keyRing.encrypt('shpat_x', 'lo1') });
  const order = (id: number, customer: number, who: string) => ({
    id: `gid://shopify/Order/${id}`, name: `#${id}`, email: `${who.toLowerCase()}@example.com`, note: `Call ${who} Lee at 555-0100`, createdAt: T, updatedAt: T,
    totalPriceSet: money('10.0'), customer: { id: `gid://shopify/Customer/${customer}` }, lineItems: { nodes: [] },
    refunds: [{ id: `gid://shopify/Refund/${id}1`, note: `Refunded ${who} Lee after call to 555-0100`, createdAt: T, updatedAt: T, totalRefundedSet: money('10.0'), refundLineItems: { nodes: [] }, orderAdjustments: { nodes: [] } }],
    transactions: [{ id: `gid://shopify/OrderTransaction/${id}2`, kind: 'SALE', status: 'SUCCESS', gateway: 'paypal', createdAt: T, processedAt: T, amountSet: money('10.0'),
      paymentDetails: { __typename: 'CardPaymentDetails', company: 'Visa', number: '•••• 4242' } }],
    fulfillments: [{ id: `gid://shopify/Fulfillment/${id}3`, name: `#${id}.1`, status: 'SUCCESS', createdAt: T, updatedAt: T,
      trackingInfo: [{ company: 'UPS', number: '1Z999', url: 'https://track.example/1Z999' }], fulfillmentLineItems: { nodes: [] } }],
  });
  for (const [id, customer, who] of [[9100, 777, 'Ann'], [9900, 888, 'Bob']] as const) {
    const record = order(id, customer, who);
    for (const resource of ['orders', 'refunds', 'transactions', 'fulfillments']) await store.writeRows('lo1', resource, transformer.toRows(resource, record, 'lo1'));
  }
  const s = createWebhookService(db.database, { secrets: SECRET, keyRing, logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0 });
  const body = { shop_id: 1, shop_domain: 'shop.myshopify.com', customer: { id: 777, email: 'ann@example.com', phone: null }, orders_to_redact: [9100] };
  expect((await s.handler(toRequest(signedDelivery('customers/redact', body)))).status).toBe(200);
  await s.processPending();
  expect(await db.query(`SELECT status, last_error FROM shopify_webhook_inbox WHERE topic = 'customers/redact'`)).toEqual([{ status: 'processed', last_error: null }]);

  for (const table of ['shopify_orders', 'shopify_refunds', 'shopify_order_transactions', 'shopify_fulfillments']) {
    const rows = await db.query<{ order: string; row: string }>(`SELECT ${table === 'shopify_orders' ? 'id' : 'order_id'}::text AS "order", to_jsonb(t)::text AS row FROM "${table}" t WHERE tenant_id = 'lo1'`);
    expect(rows, table).toHaveLength(2);
    for (const { order: id, row } of rows) {
      const record = JSON.parse(row) as { payload: Record<string, unknown> };
      const revealed = JSON.stringify(revealPayload(record.payload, 'lo1', keyRing));
      if (id === '9100') {
        expect(`${row}\n${revealed}`, `${table} of the redacted order`).not.toMatch(/Ann|555-0100/);
        expect(record.payload.redacted, `${table}.payload.redacted`).toBe(true);
        expect(row, `${table}: no sealed blob left`).not.toContain('"_pii"');
      } else {
        expect(record.payload.redacted, `${table} of another customer`).toBeUndefined();
      }
    }
  }
  // The refund's amounts stay (analytics); its note is gone.
  expect(await db.query(`SELECT id::text, note, total_refunded::text FROM shopify_refunds WHERE tenant_id = 'lo1' ORDER BY id`)).toEqual([
    { id: '91001', note: null, total_refunded: '10.0000' }, { id: '99001', note: 'Refunded Bob Lee after call to 555-0100', total_refunded: '10.0000' },
  ]);
});

it('a failed delivery\'s last_error is masked: no email, no token', async () => {
  const store = createStore(db.database);
  await store.upsertTenant({ id: 'lo2', shopDomain: 'shop2.myshopify.com', accessTokenEnc: keyRing.encrypt('shpat_y', 'lo2') });
  const s = createWebhookService(db.database, {
    secrets: SECRET, keyRing, logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0,
    onDataRequest: () => { throw new Error('mailer refused ann.lee@example.com (token shpat_0123456789abcdef)'); },
  });
  const body = { shop_id: 2, shop_domain: 'shop2.myshopify.com', customer: { id: 777, email: 'ann.lee@example.com', phone: null }, orders_requested: [], data_request: { id: 7 } };
  expect((await s.handler(toRequest(signedDelivery('customers/data_request', body, { shop: 'shop2.myshopify.com' })))).status).toBe(200);
  await s.processPending();
  const [row] = await db.query<{ status: string; last_error: string }>(`SELECT status, last_error FROM shopify_webhook_inbox WHERE tenant_id = 'lo2'`);
  expect(row!.last_error).toContain('mailer refused');
  expect(row!.last_error).not.toContain('ann.lee@example.com');
  expect(row!.last_error).not.toContain('shpat_0123456789abcdef');
});
