/**
 * The simulator's refunds, transactions and fulfillments in GraphQL's shape, from the REST order
 * the generator builds (and tests edit): `Order.refunds`, `Order.transactions` and
 * `Order.fulfillments` are list fields, while `Refund.refundLineItems`, `Refund.orderAdjustments`
 * and `Fulfillment.fulfillmentLineItems` are connections (served with `first`/`after`, and rejected
 * inside a list field by the bulk rules in graphql.ts, as Shopify does). Items are also found by id
 * for `node(id:)`, `nodes(ids:)`, `refund(id:)` and `fulfillment(id:)`.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/Refund
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/OrderTransaction
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/Fulfillment
 */
import { MAX_ID, type JsonObject } from './generator.js';
import { ConnectionSource, sumAmounts as sum } from './graphql-nodes.js';
import type { SimulatedShop } from './shop.js';

type Rec = JsonObject;

function utc(shopTime: unknown): string | null {
  if (typeof shopTime !== 'string') return null;
  return new Date(Date.parse(shopTime)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const gid = (type: string, id: unknown) => `gid://shopify/${type}/${String(id)}`;
const ref = (type: string, id: unknown) => (id === null || id === undefined ? null : { __typename: type, id: gid(type, id) });

/** A REST `*_set` (or a plain amount in the order's currency) as a GraphQL MoneyBag. */
function bag(set: unknown, amount: unknown, currency: string): JsonObject {
  const s = set as { shop_money?: { amount: string; currency_code: string }; presentment_money?: { amount: string; currency_code: string } } | null | undefined;
  const m = (x: { amount: string; currency_code: string }) => ({ amount: String(x.amount), currencyCode: x.currency_code });
  if (s?.shop_money) return { shopMoney: m(s.shop_money), presentmentMoney: m(s.presentment_money ?? s.shop_money) };
  const a = String(amount ?? '0.00');
  return { shopMoney: { amount: a, currencyCode: currency }, presentmentMoney: { amount: a, currencyCode: currency } };
}

/**
 * A fulfillment line item's id: REST lists the order's line items, GraphQL gives each shipped line
 * its own id. Line item ids near 2^63 − 1 (`topIds`) count down from it, so ids stay within a bigint.
 */
function fulfillmentLineId(lineItemId: unknown, position: number): bigint {
  const id = BigInt(String(lineItemId));
  const slot = BigInt(position % 4);
  return id <= (MAX_ID - 3n) / 4n ? id * 4n + slot : MAX_ID - (MAX_ID - id) * 4n - slot;
}

export function refundNode(r: Rec, currency: string): JsonObject {
  const transactions = (r.transactions as Rec[] | undefined) ?? [];
  const refunded = sum(transactions.filter((t) => t.kind === 'refund' && t.status === 'success').map((t) => t.amount));
  const lines = ((r.refund_line_items as Rec[] | undefined) ?? []).map((li) => ({
    __typename: 'RefundLineItem', id: gid('RefundLineItem', li.id), quantity: li.quantity,
    restockType: String(li.restock_type ?? 'no_restock').toUpperCase(), restocked: li.restock_type === 'return' || li.restock_type === 'cancel',
    lineItem: ref('LineItem', li.line_item_id), location: ref('Location', li.location_id),
    priceSet: bag((li.line_item as Rec | undefined)?.price_set, (li.line_item as Rec | undefined)?.price, currency),
    subtotalSet: bag(li.subtotal_set, li.subtotal, currency), totalTaxSet: bag(li.total_tax_set, li.total_tax, currency),
  }));
  const adjustments = ((r.order_adjustments as Rec[] | undefined) ?? []).map((a) => ({
    __typename: 'OrderAdjustment', id: gid('OrderAdjustment', a.id), reason: a.reason ? String(a.reason).toUpperCase() : null,
    amountSet: bag(a.amount_set, a.amount, currency), taxAmountSet: bag(a.tax_amount_set, a.tax_amount, currency),
  }));
  return {
    __typename: 'Refund', id: r.admin_graphql_api_id ?? gid('Refund', r.id), legacyResourceId: String(r.id), note: r.note ?? null,
    createdAt: utc(r.created_at), processedAt: utc(r.processed_at ?? r.created_at), updatedAt: utc(r.updated_at ?? r.processed_at ?? r.created_at),
    totalRefundedSet: r.total_refunded_set ? bag(r.total_refunded_set, null, currency) : bag(null, refunded, currency),
    refundLineItems: new ConnectionSource(lines), orderAdjustments: new ConnectionSource(adjustments),
    transactions: new ConnectionSource(transactions.map((t) => transactionNode(t, currency, null))),
  };
}

export function transactionNode(t: Rec, currency: string, holder: string | null): JsonObject {
  // Card payments carry the holder's name: protected data an app stores only encrypted (or not at all).
  const card = t.gateway === 'manual' || t.kind === 'void' ? null : {
    __typename: 'CardPaymentDetails', company: 'Visa', number: '•••• •••• •••• 4242', bin: '424242', name: holder,
    expirationMonth: 12, expirationYear: 2030, avsResultCode: 'Y', cvvResultCode: 'M', wallet: null, paymentMethodName: 'card',
  };
  return {
    __typename: 'OrderTransaction', id: t.admin_graphql_api_id ?? gid('OrderTransaction', t.id), kind: String(t.kind).toUpperCase(),
    status: String(t.status).toUpperCase(), gateway: t.gateway ?? null, test: t.test ?? false,
    errorCode: t.error_code ? String(t.error_code).toUpperCase() : null, createdAt: utc(t.created_at), processedAt: utc(t.processed_at),
    amountSet: bag(t.amount_set, t.amount, currency), parentTransaction: ref('OrderTransaction', t.parent_id),
    paymentDetails: card, receiptJson: JSON.stringify({ payer: holder }), manualPaymentGateway: t.gateway === 'manual',
  };
}

/** `position`: the fulfillment's place among its order's (a line item shipped twice gets two ids). */
export function fulfillmentNode(f: Rec, currency: string, position: number): JsonObject {
  const lines = ((f.line_items as Rec[] | undefined) ?? []).map((li) => {
    const total = sum(Array.from({ length: Number(li.quantity ?? 1) }, () => li.price));
    return {
      __typename: 'FulfillmentLineItem', id: gid('FulfillmentLineItem', fulfillmentLineId(li.id, position)), quantity: li.quantity,
      lineItem: ref('LineItem', li.id), originalTotalSet: bag(null, total, currency), discountedTotalSet: bag(null, total, currency),
    };
  });
  const status = String(f.status ?? 'success').toUpperCase();
  const delivered = f.shipment_status === 'delivered';
  return {
    __typename: 'Fulfillment', id: f.admin_graphql_api_id ?? gid('Fulfillment', f.id), legacyResourceId: String(f.id), name: f.name ?? null,
    status, displayStatus: status === 'CANCELLED' ? 'CANCELED' : delivered ? 'DELIVERED' : status === 'SUCCESS' ? 'FULFILLED' : null,
    createdAt: utc(f.created_at), updatedAt: utc(f.updated_at), deliveredAt: delivered ? utc(f.updated_at) : null,
    inTransitAt: f.shipment_status === 'in_transit' ? utc(f.updated_at) : null, estimatedDeliveryAt: null,
    totalQuantity: lines.reduce((n, l) => n + Number(l.quantity ?? 0), 0), requiresShipping: true,
    location: ref('Location', f.location_id),
    trackingInfo: ((f.tracking_numbers as string[] | undefined) ?? (f.tracking_number ? [f.tracking_number as string] : [])).map((number, k) => ({
      __typename: 'FulfillmentTrackingInfo', company: f.tracking_company ?? null, number, url: (f.tracking_urls as string[] | undefined)?.[k] ?? f.tracking_url ?? null,
    })),
    fulfillmentLineItems: new ConnectionSource(lines),
  };
}

/** An order node with its refunds, transactions and fulfillments as GraphQL serves them. */
export function withOrderMoney(node: JsonObject, order: Rec): JsonObject {
  const currency = String(order.currency ?? 'USD');
  const billing = order.billing_address as Rec | null;
  const holder = billing ? `${String(billing.first_name ?? '')} ${String(billing.last_name ?? '')}`.trim() || null : null;
  node.refunds = ((order.refunds as Rec[] | undefined) ?? []).map((r) => refundNode(r, currency));
  // Order.transactions lists every transaction of the order, its refunds' included.
  const transactions = new Map<string, Rec>();
  for (const t of (order.transactions as Rec[] | undefined) ?? []) transactions.set(String(t.id), t);
  for (const r of (order.refunds as Rec[] | undefined) ?? []) for (const t of (r.transactions as Rec[] | undefined) ?? []) transactions.set(String(t.id), t);
  node.transactions = [...transactions.values()].map((t) => transactionNode(t, currency, holder));
  node.fulfillments = ((order.fulfillments as Rec[] | undefined) ?? []).map((f, k) => fulfillmentNode(f, currency, k));
  return node;
}

const LIST_OF: Record<string, 'refunds' | 'transactions' | 'fulfillments'> = { Refund: 'refunds', OrderTransaction: 'transactions', Fulfillment: 'fulfillments' };

/**
 * The refund, transaction or fulfillment `gid` names, with the order holding it, or null. Child ids
 * of seeded orders lead to their order (`orderIndexOfChild`); others (added by tests) are searched.
 */
export function findOrderItem(shop: SimulatedShop, type: string, id: string, orderNode: (order: Rec) => JsonObject): JsonObject | null {
  const list = LIST_OF[type];
  if (!list) return null;
  const want = `gid://shopify/${type}/${id}`;
  const holds = (o: Rec | undefined) => ((o?.[list] as Rec[] | undefined) ?? []).some((x) => (x.admin_graphql_api_id ?? gid(type, x.id)) === want);
  const table = shop.tables.orders;
  const guess = shop.gen.orderIndexOfChild(list, BigInt(id));
  let order = guess >= 0 && table.exists(guess) ? table.get(guess) : undefined;
  if (!holds(order)) {
    order = undefined;
    for (let i = 0; i < table.size && !order; i++) if (table.exists(i) && holds(table.get(i))) order = table.get(i);
  }
  if (!order) return null;
  return ((orderNode(order)[list] as JsonObject[]).find((x) => x.id === want)) ?? null;
}
