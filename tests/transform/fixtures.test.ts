import { describe, expect, it } from 'vitest';
import { parseShopifyJson, stringifyShopifyJson } from '../../src/json.js';
import { revealPayload, TransformError } from '../../src/transform/index.js';
import { plain, restOrdersPage, ring, strings, transformer, WEBHOOK_FIXTURES, webhookBody } from './helpers.js';

const T = 'tenant-fixtures';
const PII_KEYS = new Set(['email', 'contact_email', 'phone', 'first_name', 'last_name', 'address1', 'address2', 'company', 'zip', 'latitude', 'longitude', 'browser_ip']);
const CIPHERTEXT = /v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;

/** All rows as one text, ciphertexts blanked (random base64 could contain a short name by chance). */
function rowsText(rows: unknown): string {
  return stringifyShopifyJson(rows).replace(CIPHERTEXT, '<enc>');
}

function expectNoPii(rows: unknown, source: unknown): void {
  const text = rowsText(rows);
  const pii = strings(source, PII_KEYS);
  expect(pii.size).toBeGreaterThan(0);
  for (const value of pii) expect(text, `plaintext PII ${JSON.stringify(value)} leaked`).not.toContain(value);
}

describe('REST orders page (Shopify reference example)', () => {
  it('produces the order row with exact money, UTC times and encrypted contact details', async () => {
    const [source] = await restOrdersPage();
    const { orders, lineItems, events, failures } = transformer.transformOrdersBatch([source], T);
    expect(failures).toEqual([]);
    expect(orders).toHaveLength(1);
    const order = orders[0];
    expect(plain(order, T)).toEqual({
      tenantId: T,
      id: 450789469n,
      name: '#1001',
      orderNumber: 1001,
      customerId: 207119551n,
      email: 'bob.norman@mail.example.com',
      emailHash: ring.blindIndex('bob.norman@mail.example.com'),
      phone: '+557734881234',
      financialStatus: 'partially_refunded',
      fulfillmentStatus: null,
      cancelReason: null,
      cancelledAt: null,
      closedAt: null,
      processedAt: new Date('2008-01-10T16:00:00.000Z'),
      currency: 'USD',
      subtotalPrice: '597.00',
      totalPrice: '598.94',
      totalTax: '11.94',
      totalDiscounts: '10.00',
      totalRefunded: '209.00',
      lineItemCount: 3,
      tags: '',
      sourceName: 'web',
      test: false,
      shopifyCreatedAt: new Date('2008-01-10T16:00:00.000Z'),
      shopifyUpdatedAt: new Date('2008-01-10T16:00:00.000Z'),
      deletedAt: null,
    });
    expect(lineItems.map((l) => [l.id, l.orderId, l.productId, l.variantId, l.sku, l.variantTitle, l.quantity, l.price, l.totalDiscount])).toEqual([
      [466157049n, 450789469n, 632910392n, 39072856n, 'IPOD2008GREEN', 'green', 1, '199.00', '0.00'],
      [518995019n, 450789469n, 632910392n, 49148385n, 'IPOD2008RED', 'red', 1, '199.00', '0.00'],
      [703073504n, 450789469n, 632910392n, 457924702n, 'IPOD2008BLACK', 'black', 1, '199.00', '0.00'],
    ]);
    expect(JSON.parse(lineItems[0].payload).properties[0]).toEqual({ name: 'Custom Engraving Front', value: 'Happy Birthday' });
    // created at created_at; paid at processed_at (no transactions in REST orders); the fulfillment
    // has status "failure" so it makes no event; the refund at its processed_at with its transaction total.
    expect(events).toEqual([
      { tenantId: T, orderId: 450789469n, type: 'created', sourceId: 450789469n, occurredAt: new Date('2008-01-10T16:00:00Z'), amount: '598.94' },
      { tenantId: T, orderId: 450789469n, type: 'paid', sourceId: 450789469n, occurredAt: new Date('2008-01-10T16:00:00Z'), amount: '598.94' },
      { tenantId: T, orderId: 450789469n, type: 'refunded', sourceId: 509562969n, occurredAt: new Date('2025-04-02T16:29:59Z'), amount: '209.00' },
    ]);
  });

  it('keeps unknown fields in the payload and no plaintext PII anywhere in the rows', async () => {
    const [source] = await restOrdersPage();
    const bundle = transformer.transformOrder(source, T);
    const payload = JSON.parse(bundle.orders[0].payload);
    expect(payload.merchant_business_entity_id).toBe('MTU0ODM4MDAwOQ');
    expect(payload.note_attributes).toEqual(source.note_attributes);
    expect(payload.billing_address.city).toBe('Louisville');
    expect(payload.billing_address.address1).toBeUndefined();
    // The order's objects outside arrays (addresses, customer, client details) share the order's one ciphertext.
    expect(ring.isEncrypted(payload._pii)).toBe(true);
    expect(payload.billing_address._pii).toBeUndefined();
    expect(payload.email).toBeUndefined();
    expect(payload.client_details.browser_ip).toBeUndefined();
    expectNoPii(bundle, source);
    for (const name of ['Bob Norman', 'Chestnut Street 92', '+1(502)-459-2181', '555-625-1199', '45.41634', '0.0.0.0']) {
      expect(rowsText(bundle)).not.toContain(name);
    }
  });

  it('revealPayload restores the original record exactly (tenant-bound)', async () => {
    const [source] = await restOrdersPage();
    const { orders, lineItems } = transformer.transformOrder(source, T);
    expect(revealPayload(orders[0].payload, T, ring)).toEqual(source);
    expect(revealPayload(lineItems[2].payload, T, ring)).toEqual(source.line_items[2]);
    expect(() => revealPayload(orders[0].payload, 'other-tenant', ring)).toThrow(/DECRYPT|authentication/i);
  });
});

describe('captured webhook bodies', () => {
  it.each(WEBHOOK_FIXTURES.filter((n) => !n.endsWith('.delete')))('%s -> rows without plaintext PII', async (name) => {
    const body = await webhookBody(name);
    const rows = name.startsWith('customers') ? transformer.transformCustomer(body, T)
      : name.startsWith('products') ? transformer.transformProduct(body, T)
      : transformer.transformOrder(body, T);
    const text = rowsText(rows);
    if (!name.startsWith('products')) expectNoPii(rows, body);
    for (const rounded of ['706405506930370000', '788032119674292900', '820982911946154500', '642667041472714000', '866550311766439000']) expect(text).not.toContain(`"id":${rounded}`);
    expect(text).toMatch(/"id":(706405506930370084|788032119674292922|820982911946154508)/);
  });

  it('customers/create: exact id from admin_graphql_api_id, encrypted columns, blind index, exact payload id', async () => {
    const body = await webhookBody('customers.create');
    expect(body.id).toBe(706405506930370000n); // what the stored (re-serialised) body says
    const row = transformer.transformCustomer(body, T);
    expect(row.id).toBe(706405506930370084n);
    expect(plain(row, T)).toMatchObject({
      email: 'bob@biller.com', firstName: 'Bob', lastName: 'Biller', phoneEnc: null, addressesEnc: null,
      emailHash: ring.blindIndex('BOB@biller.com '), state: 'disabled', verifiedEmail: true, acceptsMarketing: null,
      tags: '', currency: 'USD', ordersCount: 0, totalSpent: '0.00',
      shopifyCreatedAt: new Date('2022-01-01T00:00:00Z'), shopifyUpdatedAt: new Date('2022-01-01T00:00:00Z'),
    });
    expect(row.payload).toContain('"id":706405506930370084');
    expect(JSON.parse(row.payload).note).toBe('This customer loves ice cream');
  });

  it('products/create: variants point at the exact product id, money exact, null created_at tolerated', async () => {
    const body = await webhookBody('products.create');
    const { products, variants } = transformer.transformProduct(body, T);
    expect(products[0]).toMatchObject({ id: 788032119674292922n, title: 'Example T-Shirt', handle: 'example-t-shirt', vendor: 'Acme', productType: 'Shirts', status: 'active', tags: 'example, mens, t-shirt', shopifyCreatedAt: null, publishedAt: new Date('2022-01-01T00:00:00Z') });
    expect(variants.map((v) => [v.id, v.productId, v.sku, v.position, v.price, v.compareAtPrice, v.inventoryQuantity, v.inventoryItemId, v.shopifyUpdatedAt.toISOString()])).toEqual([
      [642667041472713922n, 788032119674292922n, 'example-shirt-s', 1, '19.99', '24.99', 75, null, '2021-12-31T00:00:00.000Z'],
      [757650484644203962n, 788032119674292922n, 'example-shirt-m', 2, '19.99', '24.99', 50, null, '2022-01-01T00:00:00.000Z'],
    ]);
    expect(variants[0].payload).toContain('"id":642667041472713922');
  });

  it('orders/create: exact order, line item and customer ids; cancelled event; addresses and customer PII sealed', async () => {
    const body = await webhookBody('orders.create');
    const { orders, lineItems, events } = transformer.transformOrder(body, T);
    expect(orders[0]).toMatchObject({ id: 820982911946154508n, customerId: 115310627314723954n, name: '#9999', orderNumber: 1234, financialStatus: 'voided', fulfillmentStatus: 'pending', cancelReason: 'customer', totalPrice: '388.00', totalRefunded: '0.00', test: true, tags: 'tag1, tag2' });
    expect(lineItems.map((l) => l.id)).toEqual([866550311766439020n, 141249953214522974n]);
    expect(lineItems.every((l) => l.orderId === 820982911946154508n)).toBe(true);
    expect(events.map((e) => [e.type, e.sourceId, e.occurredAt.toISOString()])).toEqual([
      ['created', 820982911946154508n, '2022-01-01T00:00:00.000Z'],
      ['cancelled', 820982911946154508n, '2022-01-01T00:00:00.000Z'],
    ]);
    const payload = parseShopifyJson<any>(orders[0].payload);
    expect(payload.id).toBe(820982911946154508n);
    expect(payload.customer.id).toBe(115310627314723954n);
    expect(payload.line_items[0].id).toBe(866550311766439020n);
    const revealed = revealPayload(orders[0].payload, T, ring) as any;
    expect(revealed.customer.default_address.address1).toBe('123 Elm St.');
    expect(revealed.shipping_address.name).toBe('Steve Shipper');
    for (const v of ['Steve', 'Shipper', '123 Shipping Street', '555-555-SHIP', 'Shipping Company', 'jon@example.com', 'john@example.com', 'Smith', '123 Elm St.', 'K2H7A8', '123-123-1234']) {
      expect(rowsText(orders)).not.toContain(v);
    }
  });

  it.each(['customers.delete', 'products.delete', 'orders.delete'])('%s bodies (id only) are a TransformError naming the id', async (name) => {
    const body = await webhookBody(name);
    const method = name.startsWith('customers') ? 'transformCustomer' : name.startsWith('products') ? 'transformProduct' : 'transformOrder';
    let error: unknown;
    try { (transformer as any)[method](body, T); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(TransformError);
    expect((error as TransformError).code).toBe('TRANSFORM_FAILED');
    expect((error as TransformError).reason).toMatch(/updated_at is missing/);
    expect((error as TransformError).shopifyId).toBe(name === 'customers.delete' ? 706405506930370084n : body.id);
  });
});

describe('ids beyond 2^53', () => {
  it('a raw body with "id": 820982911946154508 parsed by parseShopifyJson stores exactly that id', () => {
    const raw = '{"id": 820982911946154508, "updated_at": "2024-01-01T00:00:00Z", "line_items": [{"id": 9007199254740993, "product_id": 9007199254740995, "variant_id": 18014398509481985, "quantity": 2, "price": "1.5"}]}';
    const { orders, lineItems } = transformer.transformOrder(parseShopifyJson(raw), T);
    expect(orders[0].id).toBe(820982911946154508n);
    expect(lineItems[0]).toMatchObject({ id: 9007199254740993n, orderId: 820982911946154508n, productId: 9007199254740995n, variantId: 18014398509481985n, quantity: 2, price: '1.50' });
    expect(orders[0].payload).toContain('"id":820982911946154508');
    expect(lineItems[0].payload).toContain('"product_id":9007199254740995');
  });

  it('JSON.parse-rounded ids are recovered from admin_graphql_api_id (row and payload)', async () => {
    const body = JSON.parse(JSON.stringify(await webhookBody('orders.create'), (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
    expect(typeof body.id).toBe('number');
    const { orders, lineItems } = transformer.transformOrder(body, T);
    expect(orders[0].id).toBe(820982911946154508n);
    expect(lineItems[1].id).toBe(141249953214522974n);
    expect(orders[0].payload).toContain('"id":820982911946154508,');
  });

  it('accepts string, bigint, number and gid ids', () => {
    const base = { updated_at: '2024-01-01T00:00:00Z' };
    for (const id of ['123', 123n, 123, 'gid://shopify/Customer/123']) {
      expect(transformer.transformCustomer({ ...base, id }, T).id).toBe(123n);
    }
    expect(transformer.transformCustomer({ ...base, legacyResourceId: '123' }, T).id).toBe(123n);
  });
});
