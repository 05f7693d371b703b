import { stringifyShopifyJson } from '../json.js';
import type { LineItemRow, OrderBundle, OrderRow } from '../store/rows.js';
import type { RecordSealer } from './pii.js';
import { FieldError } from './errors.js';
import { orderEvents, refundAmount, sumMoney } from './events.js';
import { bool, int, isObject, lower, moneyOf, nodes, pick, refId, resolveId, str, tags, time, type JsonObject } from './values.js';

/** GraphQL `displayFulfillmentStatus` in REST's vocabulary (`null` = unfulfilled, `partial`, `fulfilled`, `restocked`). */
const GRAPHQL_FULFILLMENT: Record<string, string | null> = {
  UNFULFILLED: null,
  PARTIALLY_FULFILLED: 'partial',
  FULFILLED: 'fulfilled',
  RESTOCKED: 'restocked',
};

function fulfillmentStatus(data: JsonObject): string | null {
  if ('fulfillment_status' in data) return lower(data.fulfillment_status);
  const display = str(data.displayFulfillmentStatus);
  if (display === null) return lower(data.fulfillmentStatus);
  return display in GRAPHQL_FULFILLMENT ? GRAPHQL_FULFILLMENT[display] : display.toLowerCase();
}

/**
 * REST has `order_number` (1001; its `number` is the position, 1); GraphQL has `number`, the number
 * in the name (`#1001`: 1001, https://shopify.dev/docs/api/admin-graphql/latest/objects/Order#field-number).
 * Without either the number is read from the name, only when it holds a single run of digits: a
 * shop's prefix or suffix may hold digits too (`EU2-1001`).
 */
function orderNumber(data: JsonObject): number | null {
  const direct = pick(data, 'order_number', 'orderNumber');
  if (direct !== undefined && direct !== null) return int(direct, 'order_number');
  if (typeof data.id === 'string' && data.id.startsWith('gid://') && data.number !== undefined && data.number !== null) return int(data.number, 'number');
  const name = str(data.name);
  const match = name === null ? null : /^\D*(\d+)\D*$/.exec(name);
  return match ? Number(match[1]) : null;
}

/**
 * REST `fulfillment_status` of a line item (`fulfilled`, `partial`, or null); GraphQL deprecated
 * `LineItem.fulfillmentStatus`, so it is derived there from `unfulfilledQuantity` and `currentQuantity`.
 */
function lineItemFulfillment(item: JsonObject): string | null {
  const direct = pick(item, 'fulfillment_status', 'fulfillmentStatus');
  if (direct !== undefined) return lower(direct);
  const unfulfilled = item.unfulfilledQuantity;
  const current = item.currentQuantity ?? item.quantity;
  if (typeof unfulfilled !== 'number' || typeof current !== 'number' || current <= 0) return null;
  if (unfulfilled === 0) return 'fulfilled';
  return unfulfilled < current ? 'partial' : null;
}

/** One line item row; `payload` is its sealed JSON. */
export function lineItemRow(item: JsonObject, payload: string, orderId: bigint, tenantId: string): LineItemRow {
  const id = resolveId(item);
  if (id === null) throw new FieldError('a line item has no id');
  let productId = refId(item, 'product_id', 'product');
  const variant = item.variant;
  if (productId === null && isObject(variant) && isObject(variant.product)) productId = resolveId(variant.product);
  return {
    tenantId,
    id,
    orderId,
    productId,
    variantId: refId(item, 'variant_id', 'variant'),
    title: str(item.title),
    variantTitle: str(pick(item, 'variant_title', 'variantTitle')),
    sku: str(item.sku),
    vendor: str(item.vendor),
    quantity: int(item.quantity, 'line item quantity') ?? 0,
    price: moneyOf(item, 'line item price', 'price', 'price_set', 'originalUnitPriceSet'),
    totalDiscount: moneyOf(item, 'line item total_discount', 'total_discount', 'total_discount_set', 'totalDiscountSet'),
    fulfillmentStatus: lineItemFulfillment(item),
    payload,
  };
}

const ITEM_MARK = '\u0000shopify-ingest:line-item:';
const ITEM_MARK_JSON = /"\\u0000shopify-ingest:line-item:(\d+)"/g;

/**
 * The order's payload, with the line items' JSON (already serialised for their own rows) spliced in
 * rather than serialised a second time: serialising payloads is the largest cost of a transform.
 * Falls back to a plain serialisation unless the splice is unambiguous.
 */
function orderPayload(sealed: JsonObject, itemPayloads: string[]): string {
  // A GraphQL record's line items (a connection: its first page) are rows of their own, as a bulk
  // file's are: the payload is the same whichever way the order was read.
  if (isObject(sealed.lineItems)) {
    const { lineItems: _items, ...own } = sealed;
    return stringifyShopifyJson(own);
  }
  const key = Array.isArray(sealed.line_items) ? 'line_items' : Array.isArray(sealed.lineItems) ? 'lineItems' : null;
  const list = key === null ? null : (sealed[key] as unknown[]);
  if (list === null || list.length === 0 || list.length !== itemPayloads.length) return stringifyShopifyJson(sealed);
  const text = stringifyShopifyJson({ ...sealed, [key!]: list.map((_, i) => ITEM_MARK + i) });
  let count = 0;
  const spliced = text.replace(ITEM_MARK_JSON, (_m, i: string) => { count++; return itemPayloads[Number(i)]; });
  return count === itemPayloads.length ? spliced : stringifyShopifyJson(sealed);
}

/** Builds an order with its line items and lifecycle events; `id` and `updatedAt` were validated by the caller. */
export function orderBundle(data: JsonObject, id: bigint, updatedAt: Date, tenantId: string, sealer: RecordSealer, blindIndex: (email: string) => string): OrderBundle {
  const email = str(data.email) || str(pick(data, 'contact_email', 'contactEmail')) || null;
  const customer = data.customer;
  const items = nodes(pick(data, 'line_items', 'lineItems'));
  // Seal once; line item payloads are the sealed order's own line items (no second walk).
  const sealed = sealer.seal(data) as JsonObject;
  const sealedItems = nodes(pick(sealed, 'line_items', 'lineItems'));
  const itemPayloads = sealedItems.map((item) => stringifyShopifyJson(item));
  const refunds = nodes(data.refunds);
  const totalPrice = moneyOf(data, 'total_price', 'total_price', 'total_price_set', 'totalPriceSet');
  const explicitRefunded = pick(data, 'total_refunded', 'total_refunded_set', 'totalRefundedSet');
  let totalRefunded: string | null;
  if (explicitRefunded !== undefined && explicitRefunded !== null) {
    totalRefunded = moneyOf(data, 'total_refunded', 'total_refunded', 'total_refunded_set', 'totalRefundedSet');
  } else if (Array.isArray(data.refunds) || isObject(data.refunds)) {
    // REST orders carry no total_refunded: it is the sum of the refunds they embed.
    totalRefunded = sumMoney(refunds.map(refundAmount)) ?? '0.00';
  } else {
    totalRefunded = null;
  }

  const order: OrderRow = {
    tenantId,
    id,
    name: str(data.name),
    orderNumber: orderNumber(data),
    customerId: isObject(customer) ? resolveId(customer) : null,
    emailEnc: sealer.value(email),
    emailHash: email ? blindIndex(email) : null,
    phoneEnc: sealer.value(str(data.phone)),
    financialStatus: lower(pick(data, 'financial_status', 'displayFinancialStatus')),
    fulfillmentStatus: fulfillmentStatus(data),
    cancelReason: lower(pick(data, 'cancel_reason', 'cancelReason')),
    cancelledAt: time(pick(data, 'cancelled_at', 'cancelledAt'), 'cancelled_at'),
    closedAt: time(pick(data, 'closed_at', 'closedAt'), 'closed_at'),
    processedAt: time(pick(data, 'processed_at', 'processedAt'), 'processed_at'),
    currency: str(pick(data, 'currency', 'currencyCode')),
    subtotalPrice: moneyOf(data, 'subtotal_price', 'subtotal_price', 'subtotal_price_set', 'subtotalPriceSet'),
    totalPrice,
    totalTax: moneyOf(data, 'total_tax', 'total_tax', 'total_tax_set', 'totalTaxSet'),
    totalDiscounts: moneyOf(data, 'total_discounts', 'total_discounts', 'total_discounts_set', 'totalDiscountsSet'),
    totalRefunded,
    lineItemCount: pick(data, 'line_items', 'lineItems') === undefined ? null : items.length,
    tags: tags(data.tags),
    sourceName: str(pick(data, 'source_name', 'sourceName')),
    test: bool(data.test),
    shopifyCreatedAt: time(pick(data, 'created_at', 'createdAt'), 'created_at'),
    shopifyUpdatedAt: updatedAt,
    deletedAt: null,
    payload: orderPayload(sealed, itemPayloads),
  };
  return {
    orders: [order],
    lineItems: items.map((item, i) => lineItemRow(item, itemPayloads[i], id, tenantId)),
    events: orderEvents(data, order, refunds),
  };
}
