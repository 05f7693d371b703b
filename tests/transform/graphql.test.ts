import { describe, expect, it } from 'vitest';
import { childLineText } from '../../src/importer/bulk-listing.js';
import { plain, restOrdersPage, ring, transformer, webhookBody } from './helpers.js';

const T = 'tenant-graphql';
const bag = (amount: string) => ({ shopMoney: { amount, currencyCode: 'USD' }, presentmentMoney: { amount, currencyCode: 'USD' } });

/** The REST reference order 450789469, as the GraphQL Admin API returns it (Decimal amounts like "597.0"). */
function graphqlOrder(edges: boolean) {
  const lineItems = [
    { id: 'gid://shopify/LineItem/466157049', title: 'IPod Nano - 8gb', variantTitle: 'green', sku: 'IPOD2008GREEN', vendor: null, quantity: 1, originalUnitPriceSet: bag('199.0'), totalDiscountSet: bag('0.0'), product: { id: 'gid://shopify/Product/632910392' }, variant: { id: 'gid://shopify/ProductVariant/39072856' } },
    { id: 'gid://shopify/LineItem/518995019', title: 'IPod Nano - 8gb', variantTitle: 'red', sku: 'IPOD2008RED', vendor: null, quantity: 1, originalUnitPriceSet: bag('199.0'), totalDiscountSet: bag('0.0'), product: null, variant: { id: 'gid://shopify/ProductVariant/49148385', product: { id: 'gid://shopify/Product/632910392' } } },
    { id: 'gid://shopify/LineItem/703073504', title: 'IPod Nano - 8gb', variantTitle: 'black', sku: 'IPOD2008BLACK', vendor: null, quantity: 1, originalUnitPriceSet: bag('199.00'), totalDiscountSet: bag('0'), product: { id: 'gid://shopify/Product/632910392' }, variant: { id: 'gid://shopify/ProductVariant/457924702' } },
  ];
  return {
    id: 'gid://shopify/Order/450789469',
    legacyResourceId: '450789469',
    name: '#1001',
    email: 'bob.norman@mail.example.com',
    phone: '+557734881234',
    displayFinancialStatus: 'PARTIALLY_REFUNDED',
    displayFulfillmentStatus: 'UNFULFILLED',
    cancelReason: null,
    cancelledAt: null,
    closedAt: null,
    processedAt: '2008-01-10T16:00:00Z',
    currencyCode: 'USD',
    subtotalPriceSet: bag('597.0'),
    totalPriceSet: bag('598.94'),
    totalTaxSet: bag('11.94'),
    totalDiscountsSet: bag('10.0'),
    totalRefundedSet: bag('209.0'),
    tags: [],
    sourceName: 'web',
    test: false,
    createdAt: '2008-01-10T16:00:00Z',
    updatedAt: '2008-01-10T16:00:00Z',
    customer: { id: 'gid://shopify/Customer/207119551', email: 'bob.norman@mail.example.com', firstName: 'Bob', lastName: 'Norman' },
    billingAddress: { firstName: 'Bob', lastName: 'Norman', name: 'Bob Norman', address1: 'Chestnut Street 92', phone: '+1(502)-459-2181', zip: '40202', city: 'Louisville', countryCodeV2: 'US' },
    lineItems: edges ? { edges: lineItems.map((node) => ({ node })) } : { nodes: lineItems },
    fulfillments: [{ id: 'gid://shopify/Fulfillment/255858046', createdAt: '2025-04-02T16:29:59Z', status: 'FAILURE' }],
    refunds: [{ id: 'gid://shopify/Refund/509562969', createdAt: '2025-04-02T11:29:59-05:00', totalRefundedSet: bag('209.0') }],
  };
}

describe('GraphQL nodes give the same rows as REST bodies', () => {
  it.each([false, true])('order (lineItems as %s connection)', async (edges) => {
    const [rest] = await restOrdersPage();
    const fromRest = transformer.transformOrder(rest, T);
    const fromGraphql = transformer.transformOrder(graphqlOrder(edges), T);
    expect(plain(fromGraphql.orders[0], T)).toEqual(plain(fromRest.orders[0], T));
    expect(fromGraphql.lineItems.map((l) => plain(l, T))).toEqual(fromRest.lineItems.map((l) => plain(l, T)));
    expect(fromGraphql.events).toEqual(fromRest.events);
    const text = fromGraphql.orders[0].payload;
    for (const pii of ['bob.norman', 'Norman', 'Chestnut', '459-2181', '40202', '+557734881234']) expect(text).not.toContain(pii);
  });

  it('GraphQL transactions drive the paid event (earliest successful sale/capture, summed exactly)', () => {
    const order = {
      ...graphqlOrder(false),
      displayFinancialStatus: 'PAID',
      transactions: [
        { kind: 'AUTHORIZATION', status: 'SUCCESS', processedAt: '2008-01-10T16:00:01Z', amountSet: bag('0.30') },
        { kind: 'SALE', status: 'FAILURE', processedAt: '2008-01-10T16:00:02Z', amountSet: bag('99.0') },
        { kind: 'CAPTURE', status: 'SUCCESS', processedAt: '2008-01-10T16:05:00Z', amountSet: bag('0.2') },
        { kind: 'SALE', status: 'SUCCESS', processedAt: '2008-01-10T16:03:00Z', amountSet: bag('0.10') },
      ],
    };
    const paid = transformer.transformOrder(order, T).events.find((e) => e.type === 'paid');
    expect(paid).toMatchObject({ occurredAt: new Date('2008-01-10T16:03:00Z'), amount: '0.30', sourceId: 450789469n });
  });

  it('product with variants as a connection', async () => {
    const rest = await webhookBody('products.create');
    const graphql = {
      id: 'gid://shopify/Product/788032119674292922', title: 'Example T-Shirt', handle: 'example-t-shirt', vendor: 'Acme', productType: 'Shirts',
      status: 'ACTIVE', tags: ['example', 'mens', 't-shirt'], publishedAt: '2022-01-01T00:00:00Z', createdAt: null, updatedAt: '2021-12-31T19:00:00-05:00',
      variants: { nodes: [
        { id: 'gid://shopify/ProductVariant/642667041472713922', title: 'Small', sku: 'example-shirt-s', barcode: null, position: 1, price: '19.99', compareAtPrice: '24.99', inventoryQuantity: 75, inventoryItem: null, createdAt: '2021-12-30T00:00:00Z', updatedAt: '2021-12-31T00:00:00Z' },
        { id: 'gid://shopify/ProductVariant/757650484644203962', title: 'Medium', sku: 'example-shirt-m', barcode: null, position: 2, price: { amount: '19.99', currencyCode: 'USD' }, compareAtPrice: '24.99', inventoryQuantity: 50, inventoryItem: null, createdAt: '2021-12-30T00:00:00Z', updatedAt: '2022-01-01T00:00:00Z' },
      ] },
    };
    const a = transformer.transformProduct(rest, T);
    const b = transformer.transformProduct(graphql, T);
    expect(plain(b.products[0], T)).toEqual(plain(a.products[0], T));
    expect(b.variants.map((v) => plain(v, T))).toEqual(a.variants.map((v) => plain(v, T)));
    const withItem = transformer.transformProduct({ ...graphql, variants: [{ ...graphql.variants.nodes[0], inventoryItem: { id: 'gid://shopify/InventoryItem/39072856' } }] }, T);
    expect(withItem.variants[0].inventoryItemId).toBe(39072856n);
  });

  it('customer, including the newer defaultEmailAddress / defaultPhoneNumber shape and camelCase addresses', async () => {
    const rest = await webhookBody('customers.create');
    const graphql = {
      id: 'gid://shopify/Customer/706405506930370084', defaultEmailAddress: { emailAddress: 'bob@biller.com', marketingState: 'NOT_SUBSCRIBED' },
      firstName: 'Bob', lastName: 'Biller', defaultPhoneNumber: null, state: 'DISABLED', verifiedEmail: true, tags: [],
      numberOfOrders: '0', amountSpent: { amount: '0.0', currencyCode: 'USD' }, addresses: [], emailMarketingConsent: null,
      createdAt: '2022-01-01T00:00:00Z', updatedAt: '2021-12-31T19:00:00-05:00',
    };
    // The REST sample has no marketing consent; the GraphQL one carries it on the email address (2025-04+).
    const fromGraphql = plain(transformer.transformCustomer(graphql, T), T) as Record<string, unknown>;
    expect(fromGraphql.acceptsMarketing).toBe(false);
    expect({ ...fromGraphql, acceptsMarketing: null }).toEqual(plain(transformer.transformCustomer(rest, T), T));

    const withAddress = transformer.transformCustomer({
      ...graphql, defaultPhoneNumber: { phoneNumber: '+16136120707' },
      emailMarketingConsent: { marketingState: 'SUBSCRIBED' },
      addressesV2: { nodes: [{ id: 'gid://shopify/MailingAddress/207119551?model_name=CustomerAddress', firstName: 'Bob', address1: 'Chestnut Street 92', provinceCode: 'KY', countryCodeV2: 'US', zip: '40202' }] },
    }, T);
    expect(ring.decrypt(withAddress.phoneEnc!, T)).toBe('+16136120707');
    expect(withAddress.acceptsMarketing).toBe(true);
    expect(ring.decryptJson(withAddress.addressesEnc!, T)).toEqual([{ id: 207119551, first_name: 'Bob', address1: 'Chestnut Street 92', province_code: 'KY', country_code: 'US', zip: '40202' }]);
    expect(withAddress.payload).not.toContain('Chestnut');
    expect(withAddress.payload).not.toContain('6136120707');
  });
});

describe('bulk child lines keep their own JSON text as payload when it holds no PII', () => {
  const parent = 'gid://shopify/Order/450789469';
  const item = { id: 'gid://shopify/LineItem/466157049', title: 'IPod Nano - 8gb', quantity: 1, originalUnitPriceSet: bag('199.0'), product: { id: 'gid://shopify/Product/632910392' }, __typename: 'LineItem' };
  const line = JSON.stringify({ ...item, __parentId: parent });

  it('strips the trailing __parentId Shopify writes, and nothing else', () => {
    expect(childLineText(line, parent)).toBe(JSON.stringify(item));
    // Not where Shopify writes it, or another parent: no text (the row is serialised instead).
    expect(childLineText(JSON.stringify({ __parentId: parent, ...item }), parent)).toBeUndefined();
    expect(childLineText(line, 'gid://shopify/Order/1')).toBeUndefined();
    expect(childLineText(`${line} `, parent)).toBeUndefined();
  });

  it('stores the text as is without PII, and seals a line that holds some', () => {
    const text = childLineText(line, parent)!;
    const row = transformer.childRow('orders', 'lineItems', JSON.parse(text), 450789469n, T, { text }) as { payload: string; id: bigint };
    expect(row.payload).toBe(text);
    expect(row.id).toBe(466157049n);
    // Digits JSON.parse would round stay exact in the stored text.
    const exact = text.replace('"quantity":1', '"quantity":18446744073709551615');
    expect((transformer.childRow('orders', 'lineItems', JSON.parse(exact), 450789469n, T, { text: exact }) as { payload: string }).payload).toContain('18446744073709551615');

    // A line holding a PII key: sealed, the text is not used.
    const withPii = { ...item, customAttributes: [{ key: 'gift', value: 'x' }], firstName: 'Bob' };
    const piiText = JSON.stringify(withPii);
    const sealed = transformer.childRow('orders', 'lineItems', JSON.parse(piiText), 450789469n, T, { text: piiText }) as { payload: string };
    expect(sealed.payload).not.toBe(piiText);
    expect(sealed.payload).not.toContain('Bob');
    expect(JSON.parse(sealed.payload)._pii).toMatch(/^v1\./);

    // The same row as without the text, apart from the payload's form.
    const plainRow = transformer.childRow('orders', 'lineItems', JSON.parse(text), 450789469n, T) as { payload: string };
    expect(JSON.parse(plainRow.payload)).toEqual(JSON.parse(row.payload));
    expect({ ...plainRow, payload: null }).toEqual({ ...row, payload: null });
  });

  it('an id that lost precision upstream is restored from its gid: the text is not used', () => {
    const node = { id: 2 ** 60, admin_graphql_api_id: 'gid://shopify/LineItem/1152921504606846977', title: 'x', quantity: 1 };
    const text = JSON.stringify(node);
    const row = transformer.childRow('orders', 'lineItems', node, 450789469n, T, { text }) as { payload: string };
    expect(row.payload).not.toBe(text);
    expect(row.payload).toContain('"id":1152921504606846977');
  });
});
