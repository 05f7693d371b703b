/**
 * Abandoned checkouts (a buyer gave contact details and left; recovered ones stay listed with
 * `completedAt`) with their line items, a nested connection (own JSONL lines in a bulk operation).
 *
 * `abandonedCheckouts` has an `updated_at` search filter but no `UPDATED_AT` sort key
 * (AbandonedCheckoutSortKeys: CHECKOUT_ID, CREATED_AT, CUSTOMER_NAME, ID, RELEVANCE, TOTAL_PRICE),
 * so incremental runs filter by `updated_at` and list in id order (`updatedAtSortKey: null`): the
 * watermark is the largest committed `updatedAt`, which does not depend on the order.
 * AbandonedCheckout has no email or phone of its own: they are read from its customer.
 * Shopify records no destroy events for checkouts: missed `checkouts/delete` deliveries are found
 * by id reconciliation on full syncs. Webhook bodies are REST checkouts whose line items carry no
 * ids (`key` only): every create/update topic reads the checkout again over GraphQL (null while it
 * is not abandoned: nothing is stored until it is). Scope: `read_orders`.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/AbandonedCheckout
 * https://shopify.dev/docs/api/admin-graphql/latest/queries/abandonedCheckouts
 */
import { col } from '../store/columns.js';
import { bagOf, buyerContact, cartLineItem, cartLineItemColumns, countryCodeOf, payloadWithout, sealedAddress, type CartLineItemRow } from '../transform/checkout.js';
import { bool, isObject, nodes, pick, resolveId, str, time, type JsonObject } from '../transform/values.js';
import { defineResource, type RowContext } from './definition.js';

/** A row of `shopify_abandoned_checkouts`. */
export interface AbandonedCheckoutRow {
  tenantId: string; id: bigint; gid: string; name: string | null; customerId: bigint | null;
  emailEnc: string | null; emailHash: string | null; phoneEnc: string | null; billingAddressEnc: string | null; shippingAddressEnc: string | null;
  shippingCountryCode: string | null; noteEnc: string | null; recoveryUrlEnc: string | null; currency: string | null; presentmentCurrency: string | null;
  subtotalPrice: string | null; subtotalPricePresentment: string | null; totalDiscounts: string | null; totalDiscountsPresentment: string | null;
  totalTax: string | null; totalTaxPresentment: string | null; totalPrice: string | null; totalPricePresentment: string | null;
  lineItemCount: number | null; discountCodes: string | null; taxesIncluded: boolean | null; completedAt: Date | null;
  shopifyCreatedAt: Date | null; shopifyUpdatedAt: Date; deletedAt: Date | null; payload: string;
}
/** A row of `shopify_abandoned_checkout_line_items`. */
export interface AbandonedCheckoutLineItemRow extends CartLineItemRow { checkoutId: bigint }

const MONEY = '{ shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }';
const ADDRESS = 'firstName lastName name company address1 address2 city province provinceCode country countryCodeV2 zip phone';
/** Held by `*_enc` columns and unknown to the PII walk: left out of the payload. */
const SEALED_ELSEWHERE = ['note', 'abandonedCheckoutUrl', 'abandoned_checkout_url', 'customAttributes', 'note_attributes', 'lineItems', 'line_items'];

function lineItemRow(item: JsonObject, checkoutId: bigint, tenantId: string, sealer: RowContext['sealer']): AbandonedCheckoutLineItemRow {
  return {
    ...cartLineItem(item, tenantId, sealer, { original: ['originalTotalPriceSet', 'original_total_price'], discounted: ['discountedTotalPriceSet', 'discounted_total_price'] }),
    checkoutId,
  };
}

function discountCodes(data: JsonObject): string | null {
  const codes = pick(data, 'discountCodes', 'discount_codes');
  if (!Array.isArray(codes)) return null;
  // GraphQL: strings; REST: `{ code, amount, type }` objects.
  const list = codes.map((c) => (isObject(c) ? str(c.code) : str(c))).filter((c): c is string => c !== null);
  return list.length ? list.join(', ') : null;
}

function checkoutRows(data: JsonObject, ctx: RowContext): { abandonedCheckouts: AbandonedCheckoutRow[]; abandonedCheckoutLineItems: AbandonedCheckoutLineItemRow[] } {
  const { sealer } = ctx;
  const { email, phone } = buyerContact(data);
  const subtotal = bagOf(data, 'subtotalPriceSet', 'subtotal_price');
  const discounts = bagOf(data, 'totalDiscountSet', 'total_discounts');
  const tax = bagOf(data, 'totalTaxSet', 'total_tax');
  const total = bagOf(data, 'totalPriceSet', 'total_price');
  const items = pick(data, 'lineItems', 'line_items');
  const shippingAddress = pick(data, 'shippingAddress', 'shipping_address');
  const row: AbandonedCheckoutRow = {
    tenantId: ctx.tenantId, id: ctx.id, gid: `gid://shopify/AbandonedCheckout/${ctx.id}`, name: str(data.name),
    customerId: isObject(data.customer) ? resolveId(data.customer) : null,
    emailEnc: sealer.value(email), emailHash: email ? ctx.blindIndex(email) : null, phoneEnc: sealer.value(phone),
    billingAddressEnc: sealedAddress(sealer, pick(data, 'billingAddress', 'billing_address')), shippingAddressEnc: sealedAddress(sealer, shippingAddress),
    shippingCountryCode: countryCodeOf(shippingAddress), noteEnc: sealer.value(str(data.note)),
    recoveryUrlEnc: sealer.value(str(pick(data, 'abandonedCheckoutUrl', 'abandoned_checkout_url'))),
    currency: str(data.currency) ?? total.shopCurrency, presentmentCurrency: str(data.presentment_currency) ?? total.presentmentCurrency,
    subtotalPrice: subtotal.shop, subtotalPricePresentment: subtotal.presentment, totalDiscounts: discounts.shop, totalDiscountsPresentment: discounts.presentment,
    totalTax: tax.shop, totalTaxPresentment: tax.presentment, totalPrice: total.shop, totalPricePresentment: total.presentment,
    lineItemCount: items === undefined ? null : nodes(items).length, discountCodes: discountCodes(data),
    taxesIncluded: bool(pick(data, 'taxesIncluded', 'taxes_included')), completedAt: time(pick(data, 'completedAt', 'completed_at'), 'completed_at'),
    shopifyCreatedAt: time(pick(data, 'createdAt', 'created_at'), 'created_at'), shopifyUpdatedAt: ctx.updatedAt, deletedAt: null,
    payload: payloadWithout(sealer, data, SEALED_ELSEWHERE),
  };
  return { abandonedCheckouts: [row], abandonedCheckoutLineItems: nodes(items).map((item) => lineItemRow(item, ctx.id, ctx.tenantId, sealer)) };
}

export const abandonedCheckouts = defineResource<{ abandonedCheckouts: AbandonedCheckoutRow[]; abandonedCheckoutLineItems: AbandonedCheckoutLineItemRow[] }, 'abandonedCheckouts'>({
  name: 'abandonedCheckouts',
  label: 'Abandoned checkouts',
  // Also the staff permission manage_abandoned_checkouts (https://shopify.dev/docs/api/admin-graphql/latest/objects/AbandonedCheckout).
  scopes: ['read_orders'],
  dependsOn: ['customers', 'products'],
  root: {
    key: 'abandonedCheckouts', table: 'shopify_abandoned_checkouts', model: 'ShopifyAbandonedCheckout', conflict: ['id'], versioned: true, syncedAt: true,
    columns: [
      col<AbandonedCheckoutRow>('id', 'bigint', (r) => r.id),
      col<AbandonedCheckoutRow>('gid', 'text', (r) => r.gid),
      col<AbandonedCheckoutRow>('name', 'text', (r) => r.name),
      col<AbandonedCheckoutRow>('customer_id', 'bigint', (r) => r.customerId),
      col<AbandonedCheckoutRow>('email_enc', 'text', (r) => r.emailEnc),
      col<AbandonedCheckoutRow>('email_hash', 'text', (r) => r.emailHash),
      col<AbandonedCheckoutRow>('phone_enc', 'text', (r) => r.phoneEnc),
      col<AbandonedCheckoutRow>('billing_address_enc', 'text', (r) => r.billingAddressEnc),
      col<AbandonedCheckoutRow>('shipping_address_enc', 'text', (r) => r.shippingAddressEnc),
      col<AbandonedCheckoutRow>('shipping_country_code', 'text', (r) => r.shippingCountryCode),
      col<AbandonedCheckoutRow>('note_enc', 'text', (r) => r.noteEnc),
      col<AbandonedCheckoutRow>('recovery_url_enc', 'text', (r) => r.recoveryUrlEnc),
      col<AbandonedCheckoutRow>('currency', 'text', (r) => r.currency),
      col<AbandonedCheckoutRow>('presentment_currency', 'text', (r) => r.presentmentCurrency),
      col<AbandonedCheckoutRow>('subtotal_price', 'numeric', (r) => r.subtotalPrice),
      col<AbandonedCheckoutRow>('subtotal_price_presentment', 'numeric', (r) => r.subtotalPricePresentment),
      col<AbandonedCheckoutRow>('total_discounts', 'numeric', (r) => r.totalDiscounts),
      col<AbandonedCheckoutRow>('total_discounts_presentment', 'numeric', (r) => r.totalDiscountsPresentment),
      col<AbandonedCheckoutRow>('total_tax', 'numeric', (r) => r.totalTax),
      col<AbandonedCheckoutRow>('total_tax_presentment', 'numeric', (r) => r.totalTaxPresentment),
      col<AbandonedCheckoutRow>('total_price', 'numeric', (r) => r.totalPrice),
      col<AbandonedCheckoutRow>('total_price_presentment', 'numeric', (r) => r.totalPricePresentment),
      col<AbandonedCheckoutRow>('line_item_count', 'integer', (r) => r.lineItemCount),
      col<AbandonedCheckoutRow>('discount_codes', 'text', (r) => r.discountCodes),
      col<AbandonedCheckoutRow>('taxes_included', 'boolean', (r) => r.taxesIncluded),
      col<AbandonedCheckoutRow>('completed_at', 'timestamptz', (r) => r.completedAt),
      col<AbandonedCheckoutRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
      col<AbandonedCheckoutRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
      col<AbandonedCheckoutRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
      col<AbandonedCheckoutRow>('payload', 'jsonb', (r) => r.payload),
    ],
  },
  children: [{
    key: 'abandonedCheckoutLineItems', table: 'shopify_abandoned_checkout_line_items', model: 'ShopifyAbandonedCheckoutLineItem', conflict: ['id'], versioned: false, syncedAt: false,
    parent: 'abandonedCheckouts', parentColumn: 'checkout_id', parentIdOf: (r: AbandonedCheckoutLineItemRow) => r.checkoutId,
    whenMissing: 'delete', bulkType: 'AbandonedCheckoutLineItem', countColumn: 'line_item_count', countKey: 'lineItemCount',
    columns: cartLineItemColumns<AbandonedCheckoutLineItemRow>('checkout_id', (r) => r.checkoutId),
  }],
  emptyRows: () => ({ abandonedCheckouts: [], abandonedCheckoutLineItems: [] }),
  toRows: (record, ctx) => checkoutRows(record, ctx),
  childRow: (_table, node, ctx) => lineItemRow(node, ctx.parentId, ctx.tenantId, ctx.sealer),
  graphql: {
    connection: 'abandonedCheckouts',
    type: 'AbandonedCheckout',
    count: 'abandonedCheckoutsCount',
    fields: `id name note abandonedCheckoutUrl discountCodes taxesIncluded completedAt createdAt updatedAt
      subtotalPriceSet ${MONEY} totalDiscountSet ${MONEY} totalTaxSet ${MONEY} totalPriceSet ${MONEY}
      customer { id defaultEmailAddress { emailAddress } defaultPhoneNumber { phoneNumber } }
      billingAddress { ${ADDRESS} }
      shippingAddress { ${ADDRESS} }`,
    connections: [{
      field: 'lineItems',
      table: 'abandonedCheckoutLineItems',
      fields: `id title variantTitle sku quantity
        originalUnitPriceSet ${MONEY} originalTotalPriceSet ${MONEY} discountedTotalPriceSet ${MONEY}
        product { id } variant { id }`,
      pageSize: 10,
    }],
    updatedAtSortKey: null,
    createdAtSortKey: 'CREATED_AT',
    baseQuery: null,
  },
  // REST /checkouts.json line items have no ids: rows could not match the GraphQL ones.
  rest: null,
  webhooks: {
    upsert: [],
    delete: ['checkouts/delete'],
    // https://shopify.dev/docs/api/webhooks/latest?reference=toml#list-of-topics-checkouts/create
    refetch: [
      { topic: 'checkouts/create', idOf: (body) => resolveId(body) },
      { topic: 'checkouts/update', idOf: (body) => resolveId(body) },
    ],
  },
  deletions: { eventSubjectType: null, reconcileIds: true },
  privacy: { customerColumn: 'customer_id', listedInRequest: false, payload: 'scrub' },
  schedule: { enabled: true, schedule: '0 * * * *', options: { batchSize: 50, concurrency: 2 } },
});
