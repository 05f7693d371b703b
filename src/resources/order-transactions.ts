/**
 * Payment transactions of orders: sales, authorizations, captures, refunds, voids.
 *
 * Shopify has no listing or `updated_at` filter of transactions: they are `Order.transactions`, a
 * list field, so they ride on the order's `updatedAt` and are listed through `orders` (`ridesOn`).
 * OrderTransaction has no `updatedAt`: its rows carry their order's (a transaction that changes,
 * such as a pending one that succeeds, changes its order).
 *
 * No personal data is selected: the cardholder's name (`paymentDetails.name`), `receiptJson`
 * (gateway receipts carry payers' names and emails) and `accountNumber` are left out on purpose;
 * the card's brand and masked number are kept.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/OrderTransaction
 */
import { col } from '../store/columns.js';
import { bagAmounts } from '../transform/money-bag.js';
import { FieldError } from '../transform/errors.js';
import { bool, isObject, lower, nodes, refId, resolveId, str, time, type JsonObject } from '../transform/values.js';
import { defineResource, type RowContext } from './definition.js';
import { orderIdOfBody } from './refunds.js';

/** A row of `shopify_order_transactions`. */
export interface OrderTransactionRow {
  tenantId: string; id: bigint; orderId: bigint; parentId: bigint | null; kind: string | null; status: string | null;
  gateway: string | null; amount: string | null; amountPresentment: string | null; currency: string | null; presentmentCurrency: string | null;
  errorCode: string | null; test: boolean | null; cardCompany: string | null; shopifyCreatedAt: Date | null; processedAt: Date | null;
  shopifyUpdatedAt: Date; deletedAt: Date | null; payload: string;
}

const MONEY = '{ shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }';

function transactionRows(order: JsonObject, ctx: RowContext): { transactions: OrderTransactionRow[] } {
  const transactions: OrderTransactionRow[] = [];
  for (const t of nodes(order.transactions)) {
    const id = resolveId(t);
    if (id === null) throw new FieldError('a transaction has no id');
    const amount = bagAmounts(t.amountSet, 'transaction amountSet');
    const card = isObject(t.paymentDetails) ? str(t.paymentDetails.company) : null;
    transactions.push({
      tenantId: ctx.tenantId, id, orderId: ctx.id, parentId: refId(t, 'parent_id', 'parentTransaction'),
      kind: lower(t.kind), status: lower(t.status), gateway: str(t.gateway),
      amount: amount.shop, amountPresentment: amount.presentment, currency: amount.shopCurrency, presentmentCurrency: amount.presentmentCurrency,
      errorCode: lower(t.errorCode), test: bool(t.test), cardCompany: card,
      shopifyCreatedAt: time(t.createdAt, 'transaction createdAt'), processedAt: time(t.processedAt, 'transaction processedAt'),
      shopifyUpdatedAt: ctx.updatedAt, deletedAt: null, payload: ctx.sealer.payload(t),
    });
  }
  return { transactions };
}

export const orderTransactions = defineResource<{ transactions: OrderTransactionRow[] }, 'transactions'>({
  name: 'transactions',
  label: 'Order transactions',
  scopes: ['read_orders'],
  dependsOn: ['orders'],
  ridesOn: { resource: 'orders', column: 'order_id' },
  root: {
    key: 'transactions', table: 'shopify_order_transactions', model: 'ShopifyOrderTransaction', conflict: ['id'], versioned: true, syncedAt: true,
    columns: [
      col<OrderTransactionRow>('id', 'bigint', (r) => r.id),
      col<OrderTransactionRow>('order_id', 'bigint', (r) => r.orderId),
      col<OrderTransactionRow>('parent_id', 'bigint', (r) => r.parentId),
      col<OrderTransactionRow>('kind', 'text', (r) => r.kind),
      col<OrderTransactionRow>('status', 'text', (r) => r.status),
      col<OrderTransactionRow>('gateway', 'text', (r) => r.gateway),
      col<OrderTransactionRow>('amount', 'numeric', (r) => r.amount),
      col<OrderTransactionRow>('amount_presentment', 'numeric', (r) => r.amountPresentment),
      col<OrderTransactionRow>('currency', 'text', (r) => r.currency),
      col<OrderTransactionRow>('presentment_currency', 'text', (r) => r.presentmentCurrency),
      col<OrderTransactionRow>('error_code', 'text', (r) => r.errorCode),
      col<OrderTransactionRow>('test', 'boolean', (r) => r.test),
      col<OrderTransactionRow>('card_company', 'text', (r) => r.cardCompany),
      col<OrderTransactionRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
      col<OrderTransactionRow>('processed_at', 'timestamptz', (r) => r.processedAt),
      col<OrderTransactionRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
      col<OrderTransactionRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
      col<OrderTransactionRow>('payload', 'jsonb', (r) => r.payload),
    ],
  },
  children: [],
  emptyRows: () => ({ transactions: [] }),
  toRows: (record, ctx) => transactionRows(record, ctx),
  childRow: (table) => { throw new FieldError(`transactions have no bulk child lines (${table})`); },
  graphql: {
    connection: 'orders',
    type: 'Order',
    count: 'ordersCount',
    fields: 'id updatedAt',
    lists: [{
      field: 'transactions',
      type: 'OrderTransaction',
      fields: `id kind status gateway test errorCode createdAt processedAt amountSet ${MONEY} parentTransaction { id }
        paymentDetails { __typename ... on CardPaymentDetails { company number } }`,
      connections: [],
    }],
    connections: [],
    updatedAtSortKey: 'UPDATED_AT',
    baseQuery: null,
  },
  rest: null,
  webhooks: {
    upsert: [],
    delete: [],
    // A REST transaction body has its amount in one currency only (`amount`, `currency`) and no
    // updated_at: the order's transactions are fetched again, the same rows a sync writes.
    // https://shopify.dev/docs/api/webhooks/latest?reference=toml#list-of-topics-order_transactions/create
    refetch: [{ topic: 'order_transactions/create', idOf: orderIdOfBody }],
  },
  deletions: { eventSubjectType: null, reconcileIds: false },
  privacy: null,
  // A customer's orders' transactions are their data: redacted and exported with the orders.
  privacyVia: { resource: 'orders', column: 'order_id' },
  schedule: { enabled: true, schedule: '*/30 * * * *', options: { batchSize: 50, concurrency: 3 } },
});
