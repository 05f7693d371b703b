/**
 * Discounts, code and automatic (`discountNodes`; the fields sit in the `DiscountNode.discount`
 * union, lifted into the record: see `GraphqlSource.within`), with the redeem codes of code
 * discounts (`codes`, a connection of the code types: its own JSONL lines in a bulk operation).
 *
 * Shopify's bulk output can hold fewer codes than a discount has (reported: truncated near 100 per
 * discount, SHOPIFY-API.md): each discount's `codesCount` is checked against the lines read, and a
 * discount that falls short is read again with all its codes by paged queries (`countField`).
 * Webhooks: `discounts/create|update` bodies are not the node (`admin_graphql_api_id`, title,
 * status, times): the discount is read again by its `DiscountNode` gid; `discounts/delete`
 * tombstones it. Codes added or removed alone (`discounts/redeemcode_added|removed`) read the
 * discount again too.
 * https://shopify.dev/docs/api/admin-graphql/latest/queries/discountNodes
 * https://shopify.dev/docs/api/admin-graphql/latest/unions/Discount
 */
import { col } from '../store/columns.js';
import { FieldError } from '../transform/errors.js';
import { bool, int, isObject, nodes, parseGid, resolveId, str, time, toBigId, type JsonObject } from '../transform/values.js';
import { defineResource } from './definition.js';

/** A row of `shopify_discounts`. */
export interface DiscountRow {
  tenantId: string; id: bigint; gid: string | null; method: 'code' | 'automatic' | null; discountType: string | null; title: string | null; status: string | null;
  summary: string | null; valueType: string | null; value: string | null; valueCurrency: string | null; discountClasses: unknown[] | null;
  usageLimit: number | null; appliesOncePerCustomer: boolean | null; asyncUsageCount: number | null; codesCount: number | null;
  totalSales: string | null; totalSalesCurrency: string | null; startsAt: Date | null; endsAt: Date | null;
  shopifyCreatedAt: Date | null; shopifyUpdatedAt: Date; deletedAt: Date | null; payload: string;
}
/** A row of `shopify_discount_codes`. */
export interface DiscountCodeRow {
  tenantId: string; id: bigint; discountId: bigint; code: string; asyncUsageCount: number | null;
}

const COMMON = 'title status startsAt endsAt createdAt updatedAt asyncUsageCount discountClasses';
const VALUE = `customerGets { value { __typename ... on DiscountPercentage { percentage }
  ... on DiscountAmount { amount { amount currencyCode } appliesOnEachItem } ... on DiscountOnQuantity { quantity { quantity } } } }`;
const CODE = 'usageLimit appliesOncePerCustomer codesCount { count precision } totalSales { amount currencyCode }';
/** Each member of the `Discount` union and what it has (checked against the 2026-10 schema in tests). */
const TYPES: Readonly<Record<string, string>> = {
  DiscountCodeBasic: `${COMMON} summary ${CODE} ${VALUE}`,
  DiscountCodeBxgy: `${COMMON} summary ${CODE}`,
  DiscountCodeFreeShipping: `${COMMON} summary ${CODE}`,
  DiscountCodeApp: `${COMMON} ${CODE}`,
  DiscountAutomaticBasic: `${COMMON} summary ${VALUE}`,
  DiscountAutomaticBxgy: `${COMMON} summary`,
  DiscountAutomaticFreeShipping: `${COMMON} summary totalSales { amount currencyCode }`,
  DiscountAutomaticApp: COMMON,
};
const CODE_TYPES = Object.keys(TYPES).filter((t) => t.startsWith('DiscountCode'));

function codeRow(node: JsonObject, discountId: bigint, tenantId: string): DiscountCodeRow {
  const id = resolveId(node);
  if (id === null) throw new FieldError(`a code of discount ${discountId} has no id`);
  const code = str(node.code);
  if (code === null) throw new FieldError(`code ${id} of discount ${discountId} has no code`);
  return { tenantId, id, discountId, code, asyncUsageCount: int(node.asyncUsageCount, 'code asyncUsageCount') };
}

/** `customerGets.value`: a percentage (a fraction, 0.15), a fixed amount, or a quantity (buy X get Y). */
function valueOf(record: JsonObject): { type: string | null; value: string | null; currency: string | null } {
  const value = isObject(record.customerGets) && isObject(record.customerGets.value) ? record.customerGets.value : null;
  if (!value) return { type: null, value: null, currency: null };
  if (typeof value.percentage === 'number') return { type: 'percentage', value: String(value.percentage), currency: null };
  if (isObject(value.amount)) return { type: 'fixed_amount', value: str(value.amount.amount), currency: str(value.amount.currencyCode) };
  if (isObject(value.quantity)) return { type: 'quantity', value: str(value.quantity.quantity), currency: null };
  return { type: null, value: null, currency: null };
}

/** The discount a webhook body names (`admin_graphql_api_id`, or `id`). */
function discountIdOf(body: JsonObject): bigint | null {
  try { return parseGid(body.admin_graphql_api_id) ?? toBigId(body.id ?? null); } catch (error) { if (error instanceof FieldError) return null; throw error; }
}

export const discounts = defineResource<{ discounts: DiscountRow[]; discountCodes: DiscountCodeRow[] }, 'discounts'>({
  name: 'discounts',
  label: 'Discounts',
  scopes: ['read_discounts'],
  dependsOn: [],
  root: {
    key: 'discounts', table: 'shopify_discounts', model: 'ShopifyDiscount', conflict: ['id'], versioned: true, syncedAt: true,
    columns: [
      col<DiscountRow>('id', 'bigint', (r) => r.id),
      col<DiscountRow>('gid', 'text', (r) => r.gid),
      col<DiscountRow>('method', 'text', (r) => r.method),
      col<DiscountRow>('discount_type', 'text', (r) => r.discountType),
      col<DiscountRow>('title', 'text', (r) => r.title),
      col<DiscountRow>('status', 'text', (r) => r.status),
      col<DiscountRow>('summary', 'text', (r) => r.summary),
      col<DiscountRow>('value_type', 'text', (r) => r.valueType),
      col<DiscountRow>('value', 'numeric', (r) => r.value),
      col<DiscountRow>('value_currency', 'text', (r) => r.valueCurrency),
      col<DiscountRow>('discount_classes', 'jsonb', (r) => r.discountClasses),
      col<DiscountRow>('usage_limit', 'integer', (r) => r.usageLimit),
      col<DiscountRow>('applies_once_per_customer', 'boolean', (r) => r.appliesOncePerCustomer),
      col<DiscountRow>('async_usage_count', 'integer', (r) => r.asyncUsageCount),
      col<DiscountRow>('codes_count', 'integer', (r) => r.codesCount),
      col<DiscountRow>('total_sales', 'numeric', (r) => r.totalSales),
      col<DiscountRow>('total_sales_currency', 'text', (r) => r.totalSalesCurrency),
      col<DiscountRow>('starts_at', 'timestamptz', (r) => r.startsAt),
      col<DiscountRow>('ends_at', 'timestamptz', (r) => r.endsAt),
      col<DiscountRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
      col<DiscountRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
      col<DiscountRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
      col<DiscountRow>('payload', 'jsonb', (r) => r.payload),
    ],
  },
  children: [{
    key: 'discountCodes', table: 'shopify_discount_codes', model: 'ShopifyDiscountCode', conflict: ['id'], versioned: false, syncedAt: false,
    parent: 'discounts', parentColumn: 'discount_id', parentIdOf: (r: DiscountCodeRow) => r.discountId,
    // A discount lists all its codes: one it no longer lists was removed.
    whenMissing: 'delete', bulkType: 'DiscountRedeemCode',
    columns: [
      col<DiscountCodeRow>('id', 'bigint', (r) => r.id),
      col<DiscountCodeRow>('discount_id', 'bigint', (r) => r.discountId),
      col<DiscountCodeRow>('code', 'text', (r) => r.code),
      col<DiscountCodeRow>('async_usage_count', 'integer', (r) => r.asyncUsageCount),
    ],
  }],
  emptyRows: () => ({ discounts: [], discountCodes: [] }),
  toRows: (record, ctx) => {
    const { codes, ...discount } = record;
    const type = str(record.__typename) ?? 'Discount';
    const value = valueOf(record);
    const sales = isObject(record.totalSales) ? record.totalSales : null;
    const codesCount = isObject(record.codesCount) ? int(record.codesCount.count, 'codesCount') : null;
    return {
      discounts: [{
        tenantId: ctx.tenantId, id: ctx.id, gid: str(record.admin_graphql_api_id) ?? (typeof record.id === 'string' ? record.id : null),
        method: type.startsWith('DiscountAutomatic') ? 'automatic' : 'code', discountType: type, title: str(record.title), status: str(record.status),
        summary: str(record.summary), valueType: value.type, value: value.value, valueCurrency: value.currency,
        discountClasses: Array.isArray(record.discountClasses) ? record.discountClasses : null,
        usageLimit: int(record.usageLimit, 'usageLimit'), appliesOncePerCustomer: bool(record.appliesOncePerCustomer),
        asyncUsageCount: int(record.asyncUsageCount, 'asyncUsageCount'), codesCount,
        totalSales: str(sales?.amount), totalSalesCurrency: str(sales?.currencyCode),
        startsAt: time(record.startsAt, 'startsAt'), endsAt: time(record.endsAt, 'endsAt'), shopifyCreatedAt: time(record.createdAt, 'createdAt'),
        shopifyUpdatedAt: ctx.updatedAt, deletedAt: null, payload: ctx.sealer.payload(discount),
      }],
      discountCodes: nodes(codes).map((c) => codeRow(c, ctx.id, ctx.tenantId)),
    };
  },
  childRow: (_table, node, ctx) => codeRow(node, ctx.parentId, ctx.tenantId),
  graphql: {
    connection: 'discountNodes',
    type: 'DiscountNode',
    count: 'discountNodesCount',
    fields: 'id',
    within: { field: 'discount', types: TYPES },
    connections: [{ field: 'codes', table: 'discountCodes', fields: 'id code asyncUsageCount', pageSize: 25, countField: 'codesCount', on: CODE_TYPES }],
    updatedAtSortKey: 'UPDATED_AT',
    createdAtSortKey: 'CREATED_AT',
    baseQuery: null,
  },
  rest: null,
  webhooks: {
    upsert: [],
    delete: ['discounts/delete'],
    // Read again as `gid://shopify/DiscountNode/<id>`, not by the body's gid: that names a DiscountCodeNode
    // or DiscountAutomaticNode, and `node(id:)` answers the type the gid names, which the record
    // query's `... on DiscountNode` selects nothing from.
    refetch: ['discounts/create', 'discounts/update', 'discounts/redeemcode_added', 'discounts/redeemcode_removed'].map((topic) => ({ topic, idOf: discountIdOf })),
  },
  // Shopify's events have no discount subject: deletions come from `discounts/delete` and, on full syncs, id reconciliation.
  deletions: { eventSubjectType: null, reconcileIds: true },
  privacy: null,
  schedule: { enabled: true, schedule: '20 * * * *' },
});
