/**
 * Refunds of orders, with their refund line items and order adjustments (`Refund.orderAdjustments`,
 * the discrepancies a refund settles: 2026-10 has them only as a connection of Refund).
 *
 * Shopify has no listing or `updated_at` filter of refunds: they are `Order.refunds`, a list field,
 * so they ride on the order's `updatedAt` (a refund changes its order) and are listed through
 * `orders` (`ridesOn`). Bulk queries reject a connection inside a list field
 * (`refunds { refundLineItems }`), so the bulk query selects the refunds without their
 * connections, and each order's refunds get them by `nodes(ids:)` plus `node(id:)` follow-ups for
 * a refund with more than a page (see `ListField`). Rows carry the refund's own `updatedAt`.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/Refund
 */
import { col } from '../store/columns.js';
import { bagAmounts } from '../transform/money-bag.js';
import { FieldError } from '../transform/errors.js';
import { int, lower, nodes, parseGid, refId, resolveId, str, time, toBigId, type JsonObject } from '../transform/values.js';
import { defineResource, type RowContext } from './definition.js';

/** A row of `shopify_refunds`. */
export interface RefundRow {
  tenantId: string; id: bigint; orderId: bigint; note: string | null;
  totalRefunded: string | null; totalRefundedPresentment: string | null; currency: string | null; presentmentCurrency: string | null;
  shopifyCreatedAt: Date | null; processedAt: Date | null; shopifyUpdatedAt: Date; deletedAt: Date | null; payload: string;
}
/** A row of `shopify_refund_line_items`. */
export interface RefundLineItemRow {
  tenantId: string; id: bigint; refundId: bigint; orderId: bigint; lineItemId: bigint | null; locationId: bigint | null;
  quantity: number; restockType: string | null; subtotal: string | null; subtotalPresentment: string | null;
  totalTax: string | null; totalTaxPresentment: string | null;
}
/** A row of `shopify_refund_order_adjustments`. */
export interface OrderAdjustmentRow {
  tenantId: string; id: bigint; refundId: bigint; orderId: bigint; reason: string | null;
  amount: string | null; amountPresentment: string | null; taxAmount: string | null; taxAmountPresentment: string | null;
}

const MONEY = '{ shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }';

function refundRows(order: JsonObject, ctx: RowContext): { refunds: RefundRow[]; refundLineItems: RefundLineItemRow[]; orderAdjustments: OrderAdjustmentRow[] } {
  const out = { refunds: [] as RefundRow[], refundLineItems: [] as RefundLineItemRow[], orderAdjustments: [] as OrderAdjustmentRow[] };
  for (const refund of nodes(order.refunds)) {
    const id = resolveId(refund);
    if (id === null) throw new FieldError('a refund has no id');
    const total = bagAmounts(refund.totalRefundedSet, 'refund totalRefundedSet');
    const { refundLineItems: items, orderAdjustments: adjustments, ...own } = refund;
    out.refunds.push({
      tenantId: ctx.tenantId, id, orderId: ctx.id, note: str(refund.note),
      totalRefunded: total.shop, totalRefundedPresentment: total.presentment, currency: total.shopCurrency, presentmentCurrency: total.presentmentCurrency,
      shopifyCreatedAt: time(refund.createdAt, 'refund createdAt'), processedAt: time(refund.processedAt, 'refund processedAt'),
      // Refund.updatedAt is non-null in 2026-10; a body without one takes its order's.
      shopifyUpdatedAt: time(refund.updatedAt, 'refund updatedAt') ?? ctx.updatedAt, deletedAt: null, payload: ctx.sealer.payload(own),
    });
    for (const item of nodes(items)) {
      const itemId = resolveId(item);
      if (itemId === null) throw new FieldError(`a line item of refund ${id} has no id`);
      const subtotal = bagAmounts(item.subtotalSet, 'refund line item subtotalSet');
      const tax = bagAmounts(item.totalTaxSet, 'refund line item totalTaxSet');
      out.refundLineItems.push({
        tenantId: ctx.tenantId, id: itemId, refundId: id, orderId: ctx.id, lineItemId: refId(item, 'line_item_id', 'lineItem'),
        locationId: refId(item, 'location_id', 'location'), quantity: int(item.quantity, 'refund line item quantity') ?? 0,
        restockType: lower(item.restockType ?? item.restock_type),
        subtotal: subtotal.shop, subtotalPresentment: subtotal.presentment, totalTax: tax.shop, totalTaxPresentment: tax.presentment,
      });
    }
    for (const adjustment of nodes(adjustments)) {
      const adjustmentId = resolveId(adjustment);
      if (adjustmentId === null) throw new FieldError(`an order adjustment of refund ${id} has no id`);
      const amount = bagAmounts(adjustment.amountSet, 'order adjustment amountSet');
      const tax = bagAmounts(adjustment.taxAmountSet, 'order adjustment taxAmountSet');
      out.orderAdjustments.push({
        tenantId: ctx.tenantId, id: adjustmentId, refundId: id, orderId: ctx.id, reason: lower(adjustment.reason),
        amount: amount.shop, amountPresentment: amount.presentment, taxAmount: tax.shop, taxAmountPresentment: tax.presentment,
      });
    }
  }
  return out;
}

/** The order a `refunds/create` body belongs to (REST refund: `order_id`). */
export function orderIdOfBody(body: JsonObject): bigint | null {
  return parseGid(body.order_admin_graphql_api_id) ?? toBigId(body.order_id ?? null);
}

export const refunds = defineResource<{ refunds: RefundRow[]; refundLineItems: RefundLineItemRow[]; orderAdjustments: OrderAdjustmentRow[] }, 'refunds'>({
  name: 'refunds',
  label: 'Refunds',
  scopes: ['read_orders'],
  dependsOn: ['orders'],
  ridesOn: { resource: 'orders', column: 'order_id' },
  root: {
    key: 'refunds', table: 'shopify_refunds', model: 'ShopifyRefund', conflict: ['id'], versioned: true, syncedAt: true,
    columns: [
      col<RefundRow>('id', 'bigint', (r) => r.id),
      col<RefundRow>('order_id', 'bigint', (r) => r.orderId),
      col<RefundRow>('note', 'text', (r) => r.note),
      col<RefundRow>('total_refunded', 'numeric', (r) => r.totalRefunded),
      col<RefundRow>('total_refunded_presentment', 'numeric', (r) => r.totalRefundedPresentment),
      col<RefundRow>('currency', 'text', (r) => r.currency),
      col<RefundRow>('presentment_currency', 'text', (r) => r.presentmentCurrency),
      col<RefundRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
      col<RefundRow>('processed_at', 'timestamptz', (r) => r.processedAt),
      col<RefundRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
      col<RefundRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
      col<RefundRow>('payload', 'jsonb', (r) => r.payload),
    ],
  },
  children: [
    {
      key: 'refundLineItems', table: 'shopify_refund_line_items', model: 'ShopifyRefundLineItem', conflict: ['id'], versioned: false, syncedAt: false,
      parent: 'refunds', parentColumn: 'refund_id', parentIdOf: (r: RefundLineItemRow) => r.refundId, whenMissing: 'delete', bulkType: null,
      columns: [
        col<RefundLineItemRow>('id', 'bigint', (r) => r.id),
        col<RefundLineItemRow>('refund_id', 'bigint', (r) => r.refundId),
        col<RefundLineItemRow>('order_id', 'bigint', (r) => r.orderId),
        col<RefundLineItemRow>('line_item_id', 'bigint', (r) => r.lineItemId),
        col<RefundLineItemRow>('location_id', 'bigint', (r) => r.locationId),
        col<RefundLineItemRow>('quantity', 'integer', (r) => r.quantity),
        col<RefundLineItemRow>('restock_type', 'text', (r) => r.restockType),
        col<RefundLineItemRow>('subtotal', 'numeric', (r) => r.subtotal),
        col<RefundLineItemRow>('subtotal_presentment', 'numeric', (r) => r.subtotalPresentment),
        col<RefundLineItemRow>('total_tax', 'numeric', (r) => r.totalTax),
        col<RefundLineItemRow>('total_tax_presentment', 'numeric', (r) => r.totalTaxPresentment),
      ],
    },
    {
      key: 'orderAdjustments', table: 'shopify_refund_order_adjustments', model: 'ShopifyRefundOrderAdjustment', conflict: ['id'], versioned: false, syncedAt: false,
      parent: 'refunds', parentColumn: 'refund_id', parentIdOf: (r: OrderAdjustmentRow) => r.refundId, whenMissing: 'delete', bulkType: null,
      columns: [
        col<OrderAdjustmentRow>('id', 'bigint', (r) => r.id),
        col<OrderAdjustmentRow>('refund_id', 'bigint', (r) => r.refundId),
        col<OrderAdjustmentRow>('order_id', 'bigint', (r) => r.orderId),
        col<OrderAdjustmentRow>('reason', 'text', (r) => r.reason),
        col<OrderAdjustmentRow>('amount', 'numeric', (r) => r.amount),
        col<OrderAdjustmentRow>('amount_presentment', 'numeric', (r) => r.amountPresentment),
        col<OrderAdjustmentRow>('tax_amount', 'numeric', (r) => r.taxAmount),
        col<OrderAdjustmentRow>('tax_amount_presentment', 'numeric', (r) => r.taxAmountPresentment),
      ],
    },
  ],
  emptyRows: () => ({ refunds: [], refundLineItems: [], orderAdjustments: [] }),
  toRows: (record, ctx) => refundRows(record, ctx),
  childRow: (table) => { throw new FieldError(`refunds have no bulk child lines (${table})`); },
  graphql: {
    connection: 'orders',
    type: 'Order',
    count: 'ordersCount',
    fields: 'id updatedAt',
    lists: [{
      field: 'refunds',
      type: 'Refund',
      fields: `id note createdAt processedAt updatedAt totalRefundedSet ${MONEY}`,
      connections: [
        { field: 'refundLineItems', table: 'refundLineItems', fields: `id quantity restockType lineItem { id } location { id } subtotalSet ${MONEY} totalTaxSet ${MONEY}`, pageSize: 25 },
        { field: 'orderAdjustments', table: 'orderAdjustments', fields: `id reason amountSet ${MONEY} taxAmountSet ${MONEY}`, pageSize: 10 },
      ],
    }],
    connections: [],
    updatedAtSortKey: 'UPDATED_AT',
    baseQuery: null,
  },
  rest: null,
  webhooks: {
    upsert: [],
    delete: [],
    // A REST refund body has no updated_at (nothing to order deliveries by) and no total in both
    // currencies: the order's refunds are fetched again, the same rows a sync writes.
    // https://shopify.dev/docs/api/webhooks/latest?reference=toml#list-of-topics-refunds/create
    refetch: [{ topic: 'refunds/create', idOf: orderIdOfBody }],
  },
  // Refunds are never deleted on their own; a deleted order's refunds are tombstoned with it (ridesOn).
  deletions: { eventSubjectType: null, reconcileIds: false },
  privacy: null,
  // A customer's orders' refunds are their data (a note may quote them): redacted and exported with the orders.
  privacyVia: { resource: 'orders', column: 'order_id' },
  schedule: { enabled: true, schedule: '*/30 * * * *', options: { batchSize: 50, concurrency: 3 } },
});
