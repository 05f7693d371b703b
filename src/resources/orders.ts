/**
 * Orders with their line items and lifecycle events. Line items are a nested connection (their own
 * JSONL lines in a bulk operation, paged inline otherwise); events are derived from the order's own
 * fields (fulfillments and refunds are list fields of Order, so they come inside its line).
 * Orders older than 60 days need the `read_all_orders` scope
 * (https://shopify.dev/docs/api/usage/access-scopes#orders-permissions).
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/Order
 */
import { col } from '../store/columns.js';
import type { LineItemRow, OrderEventRow, OrderRow } from '../store/rows.js';
import { lineItemRow, orderBundle } from '../transform/order.js';
import { isObject, parseGid, toBigId } from '../transform/values.js';
import { defineResource } from './definition.js';

const orderColumns = [
  col<OrderRow>('id', 'bigint', (r) => r.id),
  col<OrderRow>('name', 'text', (r) => r.name),
  col<OrderRow>('order_number', 'integer', (r) => r.orderNumber),
  col<OrderRow>('customer_id', 'bigint', (r) => r.customerId),
  col<OrderRow>('email_enc', 'text', (r) => r.emailEnc),
  col<OrderRow>('email_hash', 'text', (r) => r.emailHash),
  col<OrderRow>('phone_enc', 'text', (r) => r.phoneEnc),
  col<OrderRow>('financial_status', 'text', (r) => r.financialStatus),
  col<OrderRow>('fulfillment_status', 'text', (r) => r.fulfillmentStatus),
  col<OrderRow>('cancel_reason', 'text', (r) => r.cancelReason),
  col<OrderRow>('cancelled_at', 'timestamptz', (r) => r.cancelledAt),
  col<OrderRow>('closed_at', 'timestamptz', (r) => r.closedAt),
  col<OrderRow>('processed_at', 'timestamptz', (r) => r.processedAt),
  col<OrderRow>('currency', 'text', (r) => r.currency),
  col<OrderRow>('subtotal_price', 'numeric', (r) => r.subtotalPrice),
  col<OrderRow>('total_price', 'numeric', (r) => r.totalPrice),
  col<OrderRow>('total_tax', 'numeric', (r) => r.totalTax),
  col<OrderRow>('total_discounts', 'numeric', (r) => r.totalDiscounts),
  col<OrderRow>('total_refunded', 'numeric', (r) => r.totalRefunded),
  col<OrderRow>('line_item_count', 'integer', (r) => r.lineItemCount),
  col<OrderRow>('tags', 'text', (r) => r.tags),
  col<OrderRow>('source_name', 'text', (r) => r.sourceName),
  col<OrderRow>('test', 'boolean', (r) => r.test),
  col<OrderRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
  col<OrderRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
  col<OrderRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
  col<OrderRow>('payload', 'jsonb', (r) => r.payload),
] as const;

const lineItemColumns = [
  col<LineItemRow>('id', 'bigint', (r) => r.id),
  col<LineItemRow>('order_id', 'bigint', (r) => r.orderId),
  col<LineItemRow>('product_id', 'bigint', (r) => r.productId),
  col<LineItemRow>('variant_id', 'bigint', (r) => r.variantId),
  col<LineItemRow>('title', 'text', (r) => r.title),
  col<LineItemRow>('variant_title', 'text', (r) => r.variantTitle),
  col<LineItemRow>('sku', 'text', (r) => r.sku),
  col<LineItemRow>('vendor', 'text', (r) => r.vendor),
  col<LineItemRow>('quantity', 'integer', (r) => r.quantity),
  col<LineItemRow>('price', 'numeric', (r) => r.price),
  col<LineItemRow>('total_discount', 'numeric', (r) => r.totalDiscount),
  col<LineItemRow>('fulfillment_status', 'text', (r) => r.fulfillmentStatus),
  col<LineItemRow>('payload', 'jsonb', (r) => r.payload),
] as const;

const eventColumns = [
  col<OrderEventRow>('order_id', 'bigint', (r) => r.orderId),
  col<OrderEventRow>('type', 'text', (r) => r.type),
  col<OrderEventRow>('source_id', 'bigint', (r) => r.sourceId),
  col<OrderEventRow>('occurred_at', 'timestamptz', (r) => r.occurredAt),
  col<OrderEventRow>('amount', 'numeric', (r) => r.amount),
] as const;

const MONEY = '{ shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }';
const ADDRESS = 'firstName lastName name company address1 address2 city province provinceCode country countryCodeV2 zip phone';

/** `orders/edited` bodies are `{ order_edit: { order_id, ... } }`: the edited order's id. */
function editedOrderId(body: Record<string, unknown>): bigint | null {
  const edit = body.order_edit;
  if (!isObject(edit)) return null;
  return parseGid(edit.order_admin_graphql_api_id) ?? toBigId(edit.order_id ?? null);
}

export const orders = defineResource<{ orders: OrderRow[]; lineItems: LineItemRow[]; events: OrderEventRow[] }, 'orders'>({
  name: 'orders',
  label: 'Orders',
  scopes: ['read_orders'],
  dependsOn: [],
  root: { key: 'orders', table: 'shopify_orders', model: 'ShopifyOrder', columns: orderColumns, conflict: ['id'], versioned: true, syncedAt: true },
  children: [
    {
      key: 'lineItems', table: 'shopify_order_line_items', model: 'ShopifyOrderLineItem', columns: lineItemColumns, conflict: ['id'],
      versioned: false, syncedAt: false, parent: 'orders', parentColumn: 'order_id', parentIdOf: (r: LineItemRow) => r.orderId,
      whenMissing: 'delete', bulkType: 'LineItem', countColumn: 'line_item_count', countKey: 'lineItemCount',
    },
    {
      key: 'events', table: 'shopify_order_events', model: 'ShopifyOrderEvent', columns: eventColumns, conflict: ['order_id', 'type', 'source_id'],
      versioned: false, syncedAt: false, parent: 'orders', parentColumn: 'order_id', parentIdOf: (r: OrderEventRow) => r.orderId,
      whenMissing: 'delete', bulkType: null,
    },
  ],
  emptyRows: () => ({ orders: [], lineItems: [], events: [] }),
  toRows: (record, ctx) => orderBundle(record, ctx.id, ctx.updatedAt, ctx.tenantId, ctx.sealer, ctx.blindIndex),
  childRow: (_table, node, ctx) => lineItemRow(node, ctx.sealer.payload(node), ctx.parentId, ctx.tenantId),
  graphql: {
    connection: 'orders',
    type: 'Order',
    count: 'ordersCount',
    fields: `id legacyResourceId name number email phone displayFinancialStatus displayFulfillmentStatus cancelReason cancelledAt closedAt processedAt
      currencyCode tags sourceName test createdAt updatedAt
      subtotalPriceSet ${MONEY} totalPriceSet ${MONEY} totalTaxSet ${MONEY} totalDiscountsSet ${MONEY} totalRefundedSet ${MONEY}
      customer { id }
      billingAddress { ${ADDRESS} }
      shippingAddress { ${ADDRESS} }
      fulfillments { id createdAt status }
      refunds { id createdAt processedAt totalRefundedSet ${MONEY} }`,
    connections: [{
      field: 'lineItems',
      table: 'lineItems',
      fields: `id title variantTitle sku vendor quantity currentQuantity unfulfilledQuantity
        originalUnitPriceSet ${MONEY} totalDiscountSet ${MONEY} product { id } variant { id }`,
      pageSize: 10,
    }],
    updatedAtSortKey: 'UPDATED_AT',
    baseQuery: null,
  },
  // Without status=any REST lists only open orders
  // (https://shopify.dev/docs/api/admin-rest/latest/resources/order#get-orders?status=any).
  rest: { path: '/orders.json', baseQuery: { status: 'any' }, countPath: '/orders/count.json', eventFilter: 'Order' },
  webhooks: {
    upsert: ['orders/create', 'orders/updated', 'orders/paid', 'orders/cancelled', 'orders/fulfilled', 'orders/partially_fulfilled'],
    delete: ['orders/delete'],
    // An order edit's body is the edit, not the order: fetch the order again.
    // https://shopify.dev/docs/api/webhooks/latest?reference=toml#list-of-topics-orders/edited
    refetch: [{ topic: 'orders/edited', idOf: editedOrderId }],
  },
  deletions: { eventSubjectType: 'ORDER', reconcileIds: false },
  privacy: { customerColumn: 'customer_id', listedInRequest: true, payload: 'scrub' },
  schedule: { enabled: true, schedule: '*/30 * * * *', options: { batchSize: 50, concurrency: 3 } },
});
