import { stringifyShopifyJson } from '../json.js';
import type { CustomerRow, LineItemRow, OrderEventRow, OrderRow, ProductRow, VariantRow } from './rows.js';

/** PostgreSQL type of a batch column; each column travels as one array parameter of this type. */
export type PgType = 'bigint' | 'text' | 'integer' | 'numeric' | 'timestamptz' | 'boolean' | 'jsonb';

export interface ColumnSpec<R> {
  /** Column name in the table. */
  column: string;
  type: PgType;
  value: (row: R) => unknown;
}

/**
 * Encodes one value as the text PostgreSQL parses for `type`, or null.
 *
 * Why text: every value travels as a JSON string and is parsed by PostgreSQL's input function of
 * its column type, which keeps bigints above 2^53 and decimal strings exact and makes times
 * unambiguous (ISO 8601 with `Z`), whatever the driver adapter does with JS bigint/Date values
 * (PGlite's adapter formats a Date without its time zone).
 */
export function encodeValue(value: unknown, type: PgType): string | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'timestamptz':
      return value instanceof Date ? value.toISOString() : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'jsonb':
      return typeof value === 'string' ? value : stringifyShopifyJson(value);
    default:
      return typeof value === 'string' ? value : String(value);
  }
}

/**
 * A whole batch as ONE parameter: a JSON array with one object per row, keyed by the column's
 * position in base 36 (`"0"`, `"1"`, ...: short keys are less to send and to parse, about 5 % of a
 * customer batch), every value a JSON string (or `null`) holding {@link encodeValue}'s text. Read
 * back with {@link recordsetFrom}, which names the columns again.
 *
 * Why not one array parameter per column (`unnest($2::bigint[], ...)`): the driver escapes every
 * element into PostgreSQL's array literal syntax in JavaScript, which for batches of large JSON
 * payloads cost about four times the CPU of `JSON.stringify` (measured: 200 ms against 50 ms per
 * 250 orders), and PostgreSQL parses the JSON no slower than the array literals. (Sending the
 * JSON as bytes instead, to dodge Prisma's own JSON round trip of raw-query parameters, measured
 * slower: base64 both ways costs more than the escaping it saves.)
 *
 * jsonb values travel as JSON strings too (escaped, never spliced in raw), so a payload can never
 * change the row's other fields whatever text it holds.
 */
export function recordsetJson<R>(columns: readonly ColumnSpec<R>[], rows: readonly R[]): string {
  const keys = columns.map((_, i) => `"${i.toString(36)}":`);
  const bare = columns.map((c) => BARE_JSON_TYPES.has(c.type));
  let out = '[';
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    out += r === 0 ? '{' : ',{';
    for (let c = 0; c < columns.length; c++) {
      const text = encodeValue(columns[c].value(row), columns[c].type);
      out += (c === 0 ? '' : ',') + keys[c] + (text === null ? 'null' : bare[c] ? text : JSON.stringify(text));
    }
    out += '}';
  }
  return `${out}]`;
}

/**
 * Types whose {@link encodeValue} text is always a valid JSON literal (`true`/`false`), so it goes
 * into the JSON bare. Every other value is a JSON string: a string given for a bigint column, say,
 * can then never break out of its field, and the column's input function rejects it if malformed.
 */
const BARE_JSON_TYPES = new Set<PgType>(['boolean']);

/**
 * `(SELECT alias."0" AS "col", ... FROM json_to_recordset($n::json) AS alias("0" type, ...)) AS alias` for a
 * parameter made by {@link recordsetJson}: PostgreSQL converts each value with its column type's
 * input function (jsonb values arrive as JSON strings and are cast from text).
 */
export function recordsetFrom<R>(columns: readonly ColumnSpec<R>[], param: number, alias: string): string {
  const select = columns.map((c, i) => `${alias}."${i.toString(36)}"${c.type === 'jsonb' ? '::jsonb' : ''} AS "${c.column}"`).join(', ');
  const fields = columns.map((c, i) => `"${i.toString(36)}" ${c.type === 'jsonb' ? 'text' : c.type}`).join(', ');
  return `(SELECT ${select} FROM json_to_recordset($${param}::json) AS ${alias}(${fields})) AS ${alias}`;
}

export const quoteColumns = (columns: readonly { column: string }[], prefix = ''): string =>
  columns.map((c) => `${prefix}"${c.column}"`).join(', ');

/** `"a" = excluded."a", ...` for the columns an upsert overwrites. */
export const setExcluded = (columns: readonly { column: string }[]): string =>
  columns.map((c) => `"${c.column}" = excluded."${c.column}"`).join(', ');

function col<R>(column: string, type: PgType, value: (row: R) => unknown): ColumnSpec<R> {
  return { column, type, value };
}

export const customerColumns: readonly ColumnSpec<CustomerRow>[] = [
  col('id', 'bigint', (r) => r.id),
  col('email_enc', 'text', (r) => r.emailEnc),
  col('email_hash', 'text', (r) => r.emailHash),
  col('first_name_enc', 'text', (r) => r.firstNameEnc),
  col('last_name_enc', 'text', (r) => r.lastNameEnc),
  col('phone_enc', 'text', (r) => r.phoneEnc),
  col('addresses_enc', 'text', (r) => r.addressesEnc),
  col('state', 'text', (r) => r.state),
  col('verified_email', 'boolean', (r) => r.verifiedEmail),
  col('accepts_marketing', 'boolean', (r) => r.acceptsMarketing),
  col('tags', 'text', (r) => r.tags),
  col('currency', 'text', (r) => r.currency),
  col('orders_count', 'integer', (r) => r.ordersCount),
  col('total_spent', 'numeric', (r) => r.totalSpent),
  col('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
  col('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
  col('deleted_at', 'timestamptz', (r) => r.deletedAt),
  col('payload', 'jsonb', (r) => r.payload),
];

export const productColumns: readonly ColumnSpec<ProductRow>[] = [
  col('id', 'bigint', (r) => r.id),
  col('title', 'text', (r) => r.title),
  col('handle', 'text', (r) => r.handle),
  col('vendor', 'text', (r) => r.vendor),
  col('product_type', 'text', (r) => r.productType),
  col('status', 'text', (r) => r.status),
  col('tags', 'text', (r) => r.tags),
  col('published_at', 'timestamptz', (r) => r.publishedAt),
  col('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
  col('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
  col('deleted_at', 'timestamptz', (r) => r.deletedAt),
  col('payload', 'jsonb', (r) => r.payload),
];

export const variantColumns: readonly ColumnSpec<VariantRow>[] = [
  col('id', 'bigint', (r) => r.id),
  col('product_id', 'bigint', (r) => r.productId),
  col('title', 'text', (r) => r.title),
  col('sku', 'text', (r) => r.sku),
  col('barcode', 'text', (r) => r.barcode),
  col('position', 'integer', (r) => r.position),
  col('price', 'numeric', (r) => r.price),
  col('compare_at_price', 'numeric', (r) => r.compareAtPrice),
  col('inventory_quantity', 'integer', (r) => r.inventoryQuantity),
  col('inventory_item_id', 'bigint', (r) => r.inventoryItemId),
  col('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
  col('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
  col('deleted_at', 'timestamptz', (r) => r.deletedAt),
  col('payload', 'jsonb', (r) => r.payload),
];

export const orderColumns: readonly ColumnSpec<OrderRow>[] = [
  col('id', 'bigint', (r) => r.id),
  col('name', 'text', (r) => r.name),
  col('order_number', 'integer', (r) => r.orderNumber),
  col('customer_id', 'bigint', (r) => r.customerId),
  col('email_enc', 'text', (r) => r.emailEnc),
  col('email_hash', 'text', (r) => r.emailHash),
  col('phone_enc', 'text', (r) => r.phoneEnc),
  col('financial_status', 'text', (r) => r.financialStatus),
  col('fulfillment_status', 'text', (r) => r.fulfillmentStatus),
  col('cancel_reason', 'text', (r) => r.cancelReason),
  col('cancelled_at', 'timestamptz', (r) => r.cancelledAt),
  col('closed_at', 'timestamptz', (r) => r.closedAt),
  col('processed_at', 'timestamptz', (r) => r.processedAt),
  col('currency', 'text', (r) => r.currency),
  col('subtotal_price', 'numeric', (r) => r.subtotalPrice),
  col('total_price', 'numeric', (r) => r.totalPrice),
  col('total_tax', 'numeric', (r) => r.totalTax),
  col('total_discounts', 'numeric', (r) => r.totalDiscounts),
  col('total_refunded', 'numeric', (r) => r.totalRefunded),
  col('line_item_count', 'integer', (r) => r.lineItemCount),
  col('tags', 'text', (r) => r.tags),
  col('source_name', 'text', (r) => r.sourceName),
  col('test', 'boolean', (r) => r.test),
  col('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
  col('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
  col('deleted_at', 'timestamptz', (r) => r.deletedAt),
  col('payload', 'jsonb', (r) => r.payload),
];

export const lineItemColumns: readonly ColumnSpec<LineItemRow>[] = [
  col('id', 'bigint', (r) => r.id),
  col('order_id', 'bigint', (r) => r.orderId),
  col('product_id', 'bigint', (r) => r.productId),
  col('variant_id', 'bigint', (r) => r.variantId),
  col('title', 'text', (r) => r.title),
  col('variant_title', 'text', (r) => r.variantTitle),
  col('sku', 'text', (r) => r.sku),
  col('vendor', 'text', (r) => r.vendor),
  col('quantity', 'integer', (r) => r.quantity),
  col('price', 'numeric', (r) => r.price),
  col('total_discount', 'numeric', (r) => r.totalDiscount),
  col('fulfillment_status', 'text', (r) => r.fulfillmentStatus),
  col('payload', 'jsonb', (r) => r.payload),
];

export const orderEventColumns: readonly ColumnSpec<OrderEventRow>[] = [
  col('order_id', 'bigint', (r) => r.orderId),
  col('type', 'text', (r) => r.type),
  col('source_id', 'bigint', (r) => r.sourceId),
  col('occurred_at', 'timestamptz', (r) => r.occurredAt),
  col('amount', 'numeric', (r) => r.amount),
];
