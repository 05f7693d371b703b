/**
 * Fulfillments of orders (shipments), with their line items and tracking.
 *
 * Shopify has no listing of fulfillments (QueryRoot has `fulfillment(id:)` only): they are
 * `Order.fulfillments`, a list field, so they ride on the order's `updatedAt` and are listed through
 * `orders` (`ridesOn`). Bulk queries reject `fulfillments { fulfillmentLineItems }` (a connection
 * inside a list field): each order's fulfillments get their line items by `nodes(ids:)` plus
 * `node(id:)` follow-ups (see `ListField`). Rows carry the fulfillment's own `updatedAt`.
 * Tracking: the first of `trackingInfo` in columns, all of them in the payload.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/Fulfillment
 */
import { col } from '../store/columns.js';
import { bagAmounts } from '../transform/money-bag.js';
import { FieldError } from '../transform/errors.js';
import { int, isObject, lower, nodes, refId, resolveId, str, time, type JsonObject } from '../transform/values.js';
import { defineResource, type RowContext } from './definition.js';
import { orderIdOfBody } from './refunds.js';

/** A row of `shopify_fulfillments`. */
export interface FulfillmentRow {
  tenantId: string; id: bigint; orderId: bigint; name: string | null; status: string | null; displayStatus: string | null;
  locationId: bigint | null; totalQuantity: number | null; trackingCompany: string | null; trackingNumber: string | null; trackingUrl: string | null;
  shopifyCreatedAt: Date | null; deliveredAt: Date | null; inTransitAt: Date | null; estimatedDeliveryAt: Date | null;
  shopifyUpdatedAt: Date; deletedAt: Date | null; payload: string;
}
/** A row of `shopify_fulfillment_line_items`. */
export interface FulfillmentLineItemRow {
  tenantId: string; id: bigint; fulfillmentId: bigint; orderId: bigint; lineItemId: bigint | null; quantity: number | null;
  originalTotal: string | null; originalTotalPresentment: string | null; discountedTotal: string | null; discountedTotalPresentment: string | null;
}

const MONEY = '{ shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }';

function fulfillmentRows(order: JsonObject, ctx: RowContext): { fulfillments: FulfillmentRow[]; fulfillmentLineItems: FulfillmentLineItemRow[] } {
  const out = { fulfillments: [] as FulfillmentRow[], fulfillmentLineItems: [] as FulfillmentLineItemRow[] };
  for (const f of nodes(order.fulfillments)) {
    const id = resolveId(f);
    if (id === null) throw new FieldError('a fulfillment has no id');
    const tracking = nodes(f.trackingInfo)[0];
    const { fulfillmentLineItems: items, ...own } = f;
    out.fulfillments.push({
      tenantId: ctx.tenantId, id, orderId: ctx.id, name: str(f.name), status: lower(f.status), displayStatus: lower(f.displayStatus),
      locationId: refId(f, 'location_id', 'location'), totalQuantity: int(f.totalQuantity, 'fulfillment totalQuantity'),
      trackingCompany: isObject(tracking) ? str(tracking.company) : null, trackingNumber: isObject(tracking) ? str(tracking.number) : null,
      trackingUrl: isObject(tracking) ? str(tracking.url) : null,
      shopifyCreatedAt: time(f.createdAt, 'fulfillment createdAt'), deliveredAt: time(f.deliveredAt, 'fulfillment deliveredAt'),
      inTransitAt: time(f.inTransitAt, 'fulfillment inTransitAt'), estimatedDeliveryAt: time(f.estimatedDeliveryAt, 'fulfillment estimatedDeliveryAt'),
      shopifyUpdatedAt: time(f.updatedAt, 'fulfillment updatedAt') ?? ctx.updatedAt, deletedAt: null, payload: ctx.sealer.payload(own),
    });
    for (const item of nodes(items)) {
      const itemId = resolveId(item);
      if (itemId === null) throw new FieldError(`a line item of fulfillment ${id} has no id`);
      const original = bagAmounts(item.originalTotalSet, 'fulfillment line item originalTotalSet');
      const discounted = bagAmounts(item.discountedTotalSet, 'fulfillment line item discountedTotalSet');
      out.fulfillmentLineItems.push({
        tenantId: ctx.tenantId, id: itemId, fulfillmentId: id, orderId: ctx.id, lineItemId: refId(item, 'line_item_id', 'lineItem'),
        quantity: int(item.quantity, 'fulfillment line item quantity'),
        originalTotal: original.shop, originalTotalPresentment: original.presentment, discountedTotal: discounted.shop, discountedTotalPresentment: discounted.presentment,
      });
    }
  }
  return out;
}

export const fulfillments = defineResource<{ fulfillments: FulfillmentRow[]; fulfillmentLineItems: FulfillmentLineItemRow[] }, 'fulfillments'>({
  name: 'fulfillments',
  label: 'Fulfillments',
  // read_fulfillments is for fulfillment services; an order's fulfillments are read with read_orders
  // (https://shopify.dev/docs/api/admin-graphql/latest/objects/Fulfillment).
  scopes: ['read_orders'],
  dependsOn: ['orders'],
  ridesOn: { resource: 'orders', column: 'order_id' },
  root: {
    key: 'fulfillments', table: 'shopify_fulfillments', model: 'ShopifyFulfillment', conflict: ['id'], versioned: true, syncedAt: true,
    columns: [
      col<FulfillmentRow>('id', 'bigint', (r) => r.id),
      col<FulfillmentRow>('order_id', 'bigint', (r) => r.orderId),
      col<FulfillmentRow>('name', 'text', (r) => r.name),
      col<FulfillmentRow>('status', 'text', (r) => r.status),
      col<FulfillmentRow>('display_status', 'text', (r) => r.displayStatus),
      col<FulfillmentRow>('location_id', 'bigint', (r) => r.locationId),
      col<FulfillmentRow>('total_quantity', 'integer', (r) => r.totalQuantity),
      col<FulfillmentRow>('tracking_company', 'text', (r) => r.trackingCompany),
      col<FulfillmentRow>('tracking_number', 'text', (r) => r.trackingNumber),
      col<FulfillmentRow>('tracking_url', 'text', (r) => r.trackingUrl),
      col<FulfillmentRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
      col<FulfillmentRow>('delivered_at', 'timestamptz', (r) => r.deliveredAt),
      col<FulfillmentRow>('in_transit_at', 'timestamptz', (r) => r.inTransitAt),
      col<FulfillmentRow>('estimated_delivery_at', 'timestamptz', (r) => r.estimatedDeliveryAt),
      col<FulfillmentRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
      col<FulfillmentRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
      col<FulfillmentRow>('payload', 'jsonb', (r) => r.payload),
    ],
  },
  children: [{
    key: 'fulfillmentLineItems', table: 'shopify_fulfillment_line_items', model: 'ShopifyFulfillmentLineItem', conflict: ['id'], versioned: false, syncedAt: false,
    parent: 'fulfillments', parentColumn: 'fulfillment_id', parentIdOf: (r: FulfillmentLineItemRow) => r.fulfillmentId, whenMissing: 'delete', bulkType: null,
    columns: [
      col<FulfillmentLineItemRow>('id', 'bigint', (r) => r.id),
      col<FulfillmentLineItemRow>('fulfillment_id', 'bigint', (r) => r.fulfillmentId),
      col<FulfillmentLineItemRow>('order_id', 'bigint', (r) => r.orderId),
      col<FulfillmentLineItemRow>('line_item_id', 'bigint', (r) => r.lineItemId),
      col<FulfillmentLineItemRow>('quantity', 'integer', (r) => r.quantity),
      col<FulfillmentLineItemRow>('original_total', 'numeric', (r) => r.originalTotal),
      col<FulfillmentLineItemRow>('original_total_presentment', 'numeric', (r) => r.originalTotalPresentment),
      col<FulfillmentLineItemRow>('discounted_total', 'numeric', (r) => r.discountedTotal),
      col<FulfillmentLineItemRow>('discounted_total_presentment', 'numeric', (r) => r.discountedTotalPresentment),
    ],
  }],
  emptyRows: () => ({ fulfillments: [], fulfillmentLineItems: [] }),
  toRows: (record, ctx) => fulfillmentRows(record, ctx),
  childRow: (table) => { throw new FieldError(`fulfillments have no bulk child lines (${table})`); },
  graphql: {
    connection: 'orders',
    type: 'Order',
    count: 'ordersCount',
    fields: 'id updatedAt',
    lists: [{
      field: 'fulfillments',
      type: 'Fulfillment',
      fields: `id name status displayStatus totalQuantity createdAt updatedAt deliveredAt inTransitAt estimatedDeliveryAt
        location { id } trackingInfo { company number url }`,
      connections: [{
        field: 'fulfillmentLineItems', table: 'fulfillmentLineItems', pageSize: 25,
        fields: `id quantity lineItem { id } originalTotalSet ${MONEY} discountedTotalSet ${MONEY}`,
      }],
    }],
    connections: [],
    updatedAtSortKey: 'UPDATED_AT',
    baseQuery: null,
  },
  rest: null,
  webhooks: {
    upsert: [],
    delete: [],
    // REST fulfillment bodies list line items in REST's order shape, not fulfillment line items with
    // their own ids: the order's fulfillments are fetched again, the same rows a sync writes.
    // https://shopify.dev/docs/api/webhooks/latest?reference=toml#list-of-topics-fulfillments/create
    refetch: [{ topic: 'fulfillments/create', idOf: orderIdOfBody }, { topic: 'fulfillments/update', idOf: orderIdOfBody }],
  },
  deletions: { eventSubjectType: null, reconcileIds: false },
  privacy: null,
  // A customer's orders' fulfillments are their data: redacted and exported with the orders.
  privacyVia: { resource: 'orders', column: 'order_id' },
  schedule: { enabled: true, schedule: '*/30 * * * *', options: { batchSize: 50, concurrency: 3 } },
});
