/**
 * Row pieces shared by draft orders and abandoned checkouts: both are carts with a buyer (contact,
 * addresses, note) and line items priced in MoneyBags. Pure: no I/O.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/DraftOrder
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/AbandonedCheckout
 */
import { col, type ColumnSpec } from '../store/columns.js';
import { bagAmounts, type BagAmounts } from './money-bag.js';
import { customerEmail, normaliseAddress } from './customer.js';
import { FieldError } from './errors.js';
import type { RecordSealer } from './pii.js';
import { int, isObject, money, pick, refId, resolveId, str, type JsonObject } from './values.js';

/**
 * A money field in both currencies: GraphQL `totalPriceSet`, REST `total_price_set`, or REST's bare
 * `total_price` (shop money only).
 */
export function bagOf(record: JsonObject, graphKey: string, restKey: string): BagAmounts {
  const bag = pick(record, graphKey, `${restKey}_set`);
  if (isObject(bag)) return bagAmounts(bag, restKey);
  return { shop: money(record[restKey], restKey), presentment: null, shopCurrency: null, presentmentCurrency: null };
}

/** The buyer's contact: the record's own `email`/`phone`, else its customer's (AbandonedCheckout has no email field of its own). */
export function buyerContact(record: JsonObject): { email: string | null; phone: string | null } {
  const customer = isObject(record.customer) ? record.customer : null;
  const email = str(record.email) ?? (customer ? customerEmail(customer) : null);
  const nested = customer && isObject(customer.defaultPhoneNumber) ? str(customer.defaultPhoneNumber.phoneNumber) : null;
  return { email, phone: str(record.phone) ?? nested ?? (customer ? str(customer.phone) : null) };
}

/** An address sealed as one JSON ciphertext (REST spelling, as customers' `addresses_enc`), or null. */
export function sealedAddress(sealer: RecordSealer, value: unknown): string | null {
  return isObject(value) ? sealer.json(normaliseAddress(value)) : null;
}

/** The country code of an address, kept in clear for analytics (no street, name or ZIP). */
export function countryCodeOf(value: unknown): string | null {
  return isObject(value) ? str(pick(value, 'countryCodeV2', 'country_code', 'countryCode')) : null;
}

/**
 * The record's payload with `keys` left out (values held by `*_enc` columns that the PII walk does
 * not know: notes, invoice and recovery links), every PII value sealed.
 */
export function payloadWithout(sealer: RecordSealer, record: JsonObject, keys: readonly string[]): string {
  const copy: JsonObject = {};
  for (const key of Object.keys(record)) if (!keys.includes(key)) copy[key] = record[key];
  return sealer.payload(copy);
}

/** Columns every cart line item has. */
export interface CartLineItemRow {
  tenantId: string; id: bigint; productId: bigint | null; variantId: bigint | null; title: string | null; variantTitle: string | null;
  sku: string | null; quantity: number; price: string | null; pricePresentment: string | null;
  originalTotal: string | null; originalTotalPresentment: string | null; discountedTotal: string | null; discountedTotalPresentment: string | null;
  payload: string;
}

/**
 * A line item (GraphQL `DraftOrderLineItem` / `AbandonedCheckoutLineItem`, or REST) to its common
 * columns. The payload leaves out `customAttributes` / `properties` (what the buyer typed).
 */
export function cartLineItem(item: JsonObject, tenantId: string, sealer: RecordSealer, totals: { original: [string, string]; discounted: [string, string] }): CartLineItemRow {
  const id = resolveId(item);
  if (id === null) throw new FieldError('a line item has no id');
  const price = bagOf(item, 'originalUnitPriceSet', 'price');
  const original = bagOf(item, ...totals.original);
  const discounted = bagOf(item, ...totals.discounted);
  return {
    tenantId, id, productId: refId(item, 'product_id', 'product'), variantId: refId(item, 'variant_id', 'variant'),
    title: str(item.title), variantTitle: str(pick(item, 'variantTitle', 'variant_title')), sku: str(item.sku),
    quantity: int(item.quantity, 'line item quantity') ?? 0,
    price: price.shop, pricePresentment: price.presentment,
    originalTotal: original.shop, originalTotalPresentment: original.presentment,
    discountedTotal: discounted.shop, discountedTotalPresentment: discounted.presentment,
    payload: payloadWithout(sealer, item, ['customAttributes', 'properties']),
  };
}

/** Columns of a cart line item row, `parentColumn` (the draft order's or checkout's id) second. */
export function cartLineItemColumns<R extends CartLineItemRow>(parentColumn: string, parentId: (row: R) => bigint, extra: readonly ColumnSpec<R>[] = []): ColumnSpec<R>[] {
  return [
    col<R>('id', 'bigint', (r) => r.id),
    col<R>(parentColumn, 'bigint', parentId),
    col<R>('product_id', 'bigint', (r) => r.productId),
    col<R>('variant_id', 'bigint', (r) => r.variantId),
    col<R>('title', 'text', (r) => r.title),
    col<R>('variant_title', 'text', (r) => r.variantTitle),
    col<R>('sku', 'text', (r) => r.sku),
    col<R>('quantity', 'integer', (r) => r.quantity),
    col<R>('price', 'numeric', (r) => r.price),
    col<R>('price_presentment', 'numeric', (r) => r.pricePresentment),
    col<R>('original_total', 'numeric', (r) => r.originalTotal),
    col<R>('original_total_presentment', 'numeric', (r) => r.originalTotalPresentment),
    col<R>('discounted_total', 'numeric', (r) => r.discountedTotal),
    col<R>('discounted_total_presentment', 'numeric', (r) => r.discountedTotalPresentment),
    ...extra,
    col<R>('payload', 'jsonb', (r) => r.payload),
  ];
}
