/**
 * An order's lifecycle, derived from its payload (REST or GraphQL shape):
 * - `created`: `created_at`; amount = total price; source = the order.
 * - `paid`: when the financial status is or implies paid (`paid`, `partially_paid`, `partially_refunded`,
 *   `refunded`). Time: the earliest successful `sale`/`capture` transaction when the payload carries
 *   transactions (GraphQL orders may; REST orders do not, Shopify serves them from /transactions.json),
 *   else `processed_at` (Shopify: "the date and time when an order was processed"), else `created_at`.
 *   Amount: the sum of those transactions, else the order total. Source = the order.
 * - `fulfilled`: one per fulfillment, at its `created_at`, source = the fulfillment id; fulfillments whose
 *   status is `cancelled`, `failure` or `error` shipped nothing and make no event.
 * - `cancelled`: `cancelled_at`; source = the order.
 * - `refunded`: one per refund, at its `processed_at` (else `created_at`), source = the refund id; amount =
 *   GraphQL `totalRefundedSet`, else the sum of its successful `refund` transactions, else the sum of its
 *   refund line items' subtotals.
 * See https://shopify.dev/docs/api/admin-rest/latest/resources/order and .../resources/refund.
 */
import type { OrderEventRow } from '../store/rows.js';
import { addMoney, lower, moneyOf, nodes, pick, resolveId, time, type JsonObject } from './values.js';

const PAID_STATUSES = new Set(['paid', 'partially_paid', 'partially_refunded', 'refunded']);
const FAILED_FULFILLMENT = new Set(['cancelled', 'failure', 'error']);

export function sumMoney(amounts: Array<string | null>): string | null {
  let total: string | null = null;
  for (const amount of amounts) if (amount !== null) total = total === null ? amount : addMoney(total, amount);
  return total;
}

function successful(transactions: JsonObject[], kinds: ReadonlySet<string>): JsonObject[] {
  return transactions.filter((t) => kinds.has(lower(t.kind) ?? '') && (lower(t.status) ?? 'success') === 'success');
}

const txAmount = (t: JsonObject): string | null => moneyOf(t, 'transaction amount', 'amount', 'amount_set', 'amountSet');
const txTime = (t: JsonObject): Date | null => time(pick(t, 'processed_at', 'processedAt') ?? pick(t, 'created_at', 'createdAt'), 'transaction processed_at');

const SALE_KINDS = new Set(['sale', 'capture']);
const REFUND_KINDS = new Set(['refund']);

/** Amount of one refund (see the module comment for the order of sources). */
export function refundAmount(refund: JsonObject): string | null {
  const total = pick(refund, 'total_refunded_set', 'totalRefundedSet');
  if (total !== undefined && total !== null) return moneyOf(refund, 'refund total', 'total_refunded_set', 'totalRefundedSet');
  const transactions = successful(nodes(refund.transactions), REFUND_KINDS);
  if (transactions.length > 0) return sumMoney(transactions.map(txAmount));
  const lines = nodes(pick(refund, 'refund_line_items', 'refundLineItems'));
  if (lines.length > 0) return sumMoney(lines.map((l) => moneyOf(l, 'refund line subtotal', 'subtotal_set', 'subtotalSet', 'subtotal')));
  return null;
}

export function orderEvents(
  data: JsonObject,
  order: { tenantId: string; id: bigint; financialStatus: string | null; cancelledAt: Date | null; processedAt: Date | null; shopifyCreatedAt: Date | null; totalPrice: string | null },
  refunds: JsonObject[],
): OrderEventRow[] {
  const { tenantId, id: orderId } = order;
  const events: OrderEventRow[] = [];
  if (order.shopifyCreatedAt) events.push({ tenantId, orderId, type: 'created', sourceId: orderId, occurredAt: order.shopifyCreatedAt, amount: order.totalPrice });

  if (order.financialStatus !== null && PAID_STATUSES.has(order.financialStatus)) {
    const sales = successful(nodes(data.transactions), SALE_KINDS);
    let at: Date | null = null;
    for (const t of sales) { const when = txTime(t); if (when && (at === null || when < at)) at = when; }
    at ??= order.processedAt ?? order.shopifyCreatedAt;
    if (at) events.push({ tenantId, orderId, type: 'paid', sourceId: orderId, occurredAt: at, amount: sales.length > 0 ? sumMoney(sales.map(txAmount)) : order.totalPrice });
  }

  for (const fulfillment of nodes(data.fulfillments)) {
    if (FAILED_FULFILLMENT.has(lower(fulfillment.status) ?? '')) continue;
    const at = time(pick(fulfillment, 'created_at', 'createdAt'), 'fulfillment created_at');
    const sourceId = resolveId(fulfillment);
    if (at && sourceId !== null) events.push({ tenantId, orderId, type: 'fulfilled', sourceId, occurredAt: at, amount: null });
  }

  if (order.cancelledAt) events.push({ tenantId, orderId, type: 'cancelled', sourceId: orderId, occurredAt: order.cancelledAt, amount: null });

  for (const refund of refunds) {
    const at = time(pick(refund, 'processed_at', 'processedAt') ?? pick(refund, 'created_at', 'createdAt'), 'refund processed_at');
    const sourceId = resolveId(refund);
    if (at && sourceId !== null) events.push({ tenantId, orderId, type: 'refunded', sourceId, occurredAt: at, amount: refundAmount(refund) });
  }
  return events;
}
