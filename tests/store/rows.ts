import type { CustomerRow, LineItemRow, OrderBundle, OrderEventRow, OrderRow, ProductRow, VariantRow } from '../../src/store/rows.js';

/** Row builders for store tests: minimal valid rows, override what a test is about. */
export const at = (iso: string) => new Date(iso);

export function customer(tenantId: string, id: bigint, over: Partial<CustomerRow> = {}): CustomerRow {
  return {
    tenantId,
    id,
    emailEnc: `enc:mail-${id}`,
    emailHash: `hash-${id}`,
    firstNameEnc: 'enc:first',
    lastNameEnc: 'enc:last',
    phoneEnc: null,
    addressesEnc: null,
    state: 'enabled',
    verifiedEmail: true,
    acceptsMarketing: false,
    tags: 'vip',
    currency: 'USD',
    ordersCount: 1,
    totalSpent: '19.99',
    shopifyCreatedAt: at('2024-01-01T00:00:00Z'),
    shopifyUpdatedAt: at('2024-01-02T00:00:00Z'),
    deletedAt: null,
    payload: `{"id":${id},"note":"v1"}`,
    ...over,
  };
}

export function product(tenantId: string, id: bigint, over: Partial<ProductRow> = {}): ProductRow {
  return {
    tenantId, id, title: `Product ${id}`, handle: `p-${id}`, vendor: 'Acme', productType: 'Shirt', status: 'active', tags: null,
    publishedAt: null, shopifyCreatedAt: at('2024-01-01T00:00:00Z'), shopifyUpdatedAt: at('2024-01-02T00:00:00Z'), deletedAt: null,
    payload: `{"id":${id}}`, ...over,
  };
}

export function variant(tenantId: string, productId: bigint, id: bigint, over: Partial<VariantRow> = {}): VariantRow {
  return {
    tenantId, id, productId, title: 'Default', sku: `SKU-${id}`, barcode: null, position: 1, price: '10.00', compareAtPrice: null,
    inventoryQuantity: 5, inventoryItemId: id + 1n, shopifyCreatedAt: at('2024-01-01T00:00:00Z'), shopifyUpdatedAt: at('2024-01-02T00:00:00Z'),
    deletedAt: null, payload: `{"id":${id}}`, ...over,
  };
}

export function order(tenantId: string, id: bigint, over: Partial<OrderRow> = {}): OrderRow {
  return {
    tenantId, id, name: `#${id}`, orderNumber: 1001, customerId: null, emailEnc: 'enc:mail', emailHash: 'hash', phoneEnc: null,
    financialStatus: 'paid', fulfillmentStatus: null, cancelReason: null, cancelledAt: null, closedAt: null,
    processedAt: at('2024-01-01T00:00:00Z'), currency: 'USD', subtotalPrice: '30.00', totalPrice: '33.30', totalTax: '3.30',
    totalDiscounts: '0.00', totalRefunded: '0.00', lineItemCount: 3, tags: null, sourceName: 'web', test: false,
    shopifyCreatedAt: at('2024-01-01T00:00:00Z'), shopifyUpdatedAt: at('2024-01-02T00:00:00Z'), deletedAt: null,
    payload: `{"id":${id},"email":"a@example.com","customer":{"id":1},"total_price":"33.30"}`, ...over,
  };
}

export function lineItem(tenantId: string, orderId: bigint, id: bigint, over: Partial<LineItemRow> = {}): LineItemRow {
  return {
    tenantId, id, orderId, productId: 1n, variantId: 2n, title: `Item ${id}`, variantTitle: null, sku: `SKU-${id}`, vendor: 'Acme',
    quantity: 1, price: '10.00', totalDiscount: '0.00', fulfillmentStatus: null, payload: `{"id":${id}}`, ...over,
  };
}

export function event(tenantId: string, orderId: bigint, type: OrderEventRow['type'], over: Partial<OrderEventRow> = {}): OrderEventRow {
  return { tenantId, orderId, type, sourceId: orderId, occurredAt: at('2024-01-01T00:00:00Z'), amount: type === 'paid' ? '33.30' : null, ...over };
}

/** An order with `lines` line items (ids orderId*10+n) and created + paid events. */
export function orderBundle(tenantId: string, id: bigint, lines = 3, over: Partial<OrderRow> = {}): OrderBundle {
  return {
    orders: [order(tenantId, id, over)],
    lineItems: Array.from({ length: lines }, (_, n) => lineItem(tenantId, id, id * 10n + BigInt(n + 1))),
    events: [event(tenantId, id, 'created'), event(tenantId, id, 'paid')],
  };
}

export function mergeBundles(...bundles: OrderBundle[]): OrderBundle {
  return {
    orders: bundles.flatMap((b) => b.orders),
    lineItems: bundles.flatMap((b) => b.lineItems),
    events: bundles.flatMap((b) => b.events),
  };
}
