/**
 * Draft orders (orders a merchant builds for a buyer: open, invoice sent, or completed into an
 * order) with their line items, a nested connection (their own JSONL lines in a bulk operation).
 *
 * `draftOrders` has an `updated_at` search filter and an `UPDATED_AT` sort key, so incremental runs
 * page the changes like orders; it has no `CREATED_AT` sort key. Deletions: `draft_orders/delete`,
 * destroy events of subject `DRAFT_ORDER` (in `EventSubjectType`; Shopify does not document whether
 * it records them, so a full sync also reconciles ids). Webhook bodies are REST draft orders, whose
 * amounts are shop money only: every create/update topic reads the draft again over GraphQL, the
 * same rows a sync writes. Scope: `read_draft_orders`.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/DraftOrder
 * https://shopify.dev/docs/api/admin-graphql/latest/queries/draftOrders
 */
import { col } from '../store/columns.js';
import { bagOf, buyerContact, cartLineItem, cartLineItemColumns, countryCodeOf, payloadWithout, sealedAddress, type CartLineItemRow } from '../transform/checkout.js';
import { bool, isObject, lower, nodes, pick, refId, resolveId, str, tags, time, type JsonObject } from '../transform/values.js';
import { defineResource, type RowContext } from './definition.js';

/** A row of `shopify_draft_orders`. */
export interface DraftOrderRow {
  tenantId: string; id: bigint; gid: string; name: string | null; status: string | null; customerId: bigint | null; orderId: bigint | null;
  emailEnc: string | null; emailHash: string | null; phoneEnc: string | null; billingAddressEnc: string | null; shippingAddressEnc: string | null;
  shippingCountryCode: string | null; noteEnc: string | null; invoiceUrlEnc: string | null; currency: string | null; presentmentCurrency: string | null;
  subtotalPrice: string | null; subtotalPricePresentment: string | null; totalDiscounts: string | null; totalDiscountsPresentment: string | null;
  totalShippingPrice: string | null; totalShippingPricePresentment: string | null; totalTax: string | null; totalTaxPresentment: string | null;
  totalPrice: string | null; totalPricePresentment: string | null; lineItemCount: number | null; tags: string | null;
  taxesIncluded: boolean | null; taxExempt: boolean | null; invoiceSentAt: Date | null; completedAt: Date | null;
  shopifyCreatedAt: Date | null; shopifyUpdatedAt: Date; deletedAt: Date | null; payload: string;
}
/** A row of `shopify_draft_order_line_items`. */
export interface DraftOrderLineItemRow extends CartLineItemRow {
  draftOrderId: bigint; vendor: string | null; custom: boolean | null; totalDiscount: string | null; totalDiscountPresentment: string | null;
}

const MONEY = '{ shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }';
const ADDRESS = 'firstName lastName name company address1 address2 city province provinceCode country countryCodeV2 zip phone';
/** Held by `*_enc` columns and unknown to the PII walk: left out of the payload. */
const SEALED_ELSEWHERE = ['note2', 'note', 'invoiceUrl', 'invoice_url', 'customAttributes', 'note_attributes', 'lineItems', 'line_items'];

function lineItemRow(item: JsonObject, draftOrderId: bigint, tenantId: string, sealer: RowContext['sealer']): DraftOrderLineItemRow {
  const discount = bagOf(item, 'totalDiscountSet', 'total_discount');
  return {
    ...cartLineItem(item, tenantId, sealer, { original: ['originalTotalSet', 'original_total'], discounted: ['discountedTotalSet', 'discounted_total'] }),
    draftOrderId, vendor: str(item.vendor), custom: bool(item.custom),
    totalDiscount: discount.shop, totalDiscountPresentment: discount.presentment,
  };
}

function draftOrderRows(data: JsonObject, ctx: RowContext): { draftOrders: DraftOrderRow[]; draftOrderLineItems: DraftOrderLineItemRow[] } {
  const { sealer } = ctx;
  const { email, phone } = buyerContact(data);
  const subtotal = bagOf(data, 'subtotalPriceSet', 'subtotal_price');
  const discounts = bagOf(data, 'totalDiscountsSet', 'total_discounts');
  const shipping = bagOf(data, 'totalShippingPriceSet', 'total_shipping_price');
  const tax = bagOf(data, 'totalTaxSet', 'total_tax');
  const total = bagOf(data, 'totalPriceSet', 'total_price');
  const items = pick(data, 'lineItems', 'line_items');
  const shippingAddress = pick(data, 'shippingAddress', 'shipping_address');
  const row: DraftOrderRow = {
    tenantId: ctx.tenantId, id: ctx.id, gid: `gid://shopify/DraftOrder/${ctx.id}`, name: str(data.name), status: lower(data.status),
    customerId: isObject(data.customer) ? resolveId(data.customer) : null,
    // GraphQL `order { id }`; REST `order_id`. Set once the draft is completed.
    orderId: refId(data, 'order_id', 'order'),
    emailEnc: sealer.value(email), emailHash: email ? ctx.blindIndex(email) : null, phoneEnc: sealer.value(phone),
    billingAddressEnc: sealedAddress(sealer, pick(data, 'billingAddress', 'billing_address')), shippingAddressEnc: sealedAddress(sealer, shippingAddress),
    shippingCountryCode: countryCodeOf(shippingAddress), noteEnc: sealer.value(str(pick(data, 'note2', 'note'))),
    invoiceUrlEnc: sealer.value(str(pick(data, 'invoiceUrl', 'invoice_url'))),
    currency: str(pick(data, 'currencyCode', 'currency')) ?? total.shopCurrency, presentmentCurrency: str(data.presentmentCurrencyCode) ?? total.presentmentCurrency,
    subtotalPrice: subtotal.shop, subtotalPricePresentment: subtotal.presentment, totalDiscounts: discounts.shop, totalDiscountsPresentment: discounts.presentment,
    totalShippingPrice: shipping.shop, totalShippingPricePresentment: shipping.presentment, totalTax: tax.shop, totalTaxPresentment: tax.presentment,
    totalPrice: total.shop, totalPricePresentment: total.presentment,
    lineItemCount: items === undefined ? null : nodes(items).length, tags: tags(data.tags),
    taxesIncluded: bool(pick(data, 'taxesIncluded', 'taxes_included')), taxExempt: bool(pick(data, 'taxExempt', 'tax_exempt')),
    invoiceSentAt: time(pick(data, 'invoiceSentAt', 'invoice_sent_at'), 'invoice_sent_at'), completedAt: time(pick(data, 'completedAt', 'completed_at'), 'completed_at'),
    shopifyCreatedAt: time(pick(data, 'createdAt', 'created_at'), 'created_at'), shopifyUpdatedAt: ctx.updatedAt, deletedAt: null,
    payload: payloadWithout(sealer, data, SEALED_ELSEWHERE),
  };
  return { draftOrders: [row], draftOrderLineItems: nodes(items).map((item) => lineItemRow(item, ctx.id, ctx.tenantId, sealer)) };
}

export const draftOrders = defineResource<{ draftOrders: DraftOrderRow[]; draftOrderLineItems: DraftOrderLineItemRow[] }, 'draftOrders'>({
  name: 'draftOrders',
  label: 'Draft orders',
  scopes: ['read_draft_orders'],
  dependsOn: ['customers', 'products', 'orders'],
  root: {
    key: 'draftOrders', table: 'shopify_draft_orders', model: 'ShopifyDraftOrder', conflict: ['id'], versioned: true, syncedAt: true,
    columns: [
      col<DraftOrderRow>('id', 'bigint', (r) => r.id),
      col<DraftOrderRow>('gid', 'text', (r) => r.gid),
      col<DraftOrderRow>('name', 'text', (r) => r.name),
      col<DraftOrderRow>('status', 'text', (r) => r.status),
      col<DraftOrderRow>('customer_id', 'bigint', (r) => r.customerId),
      col<DraftOrderRow>('order_id', 'bigint', (r) => r.orderId),
      col<DraftOrderRow>('email_enc', 'text', (r) => r.emailEnc),
      col<DraftOrderRow>('email_hash', 'text', (r) => r.emailHash),
      col<DraftOrderRow>('phone_enc', 'text', (r) => r.phoneEnc),
      col<DraftOrderRow>('billing_address_enc', 'text', (r) => r.billingAddressEnc),
      col<DraftOrderRow>('shipping_address_enc', 'text', (r) => r.shippingAddressEnc),
      col<DraftOrderRow>('shipping_country_code', 'text', (r) => r.shippingCountryCode),
      col<DraftOrderRow>('note_enc', 'text', (r) => r.noteEnc),
      col<DraftOrderRow>('invoice_url_enc', 'text', (r) => r.invoiceUrlEnc),
      col<DraftOrderRow>('currency', 'text', (r) => r.currency),
      col<DraftOrderRow>('presentment_currency', 'text', (r) => r.presentmentCurrency),
      col<DraftOrderRow>('subtotal_price', 'numeric', (r) => r.subtotalPrice),
      col<DraftOrderRow>('subtotal_price_presentment', 'numeric', (r) => r.subtotalPricePresentment),
      col<DraftOrderRow>('total_discounts', 'numeric', (r) => r.totalDiscounts),
      col<DraftOrderRow>('total_discounts_presentment', 'numeric', (r) => r.totalDiscountsPresentment),
      col<DraftOrderRow>('total_shipping_price', 'numeric', (r) => r.totalShippingPrice),
      col<DraftOrderRow>('total_shipping_price_presentment', 'numeric', (r) => r.totalShippingPricePresentment),
      col<DraftOrderRow>('total_tax', 'numeric', (r) => r.totalTax),
      col<DraftOrderRow>('total_tax_presentment', 'numeric', (r) => r.totalTaxPresentment),
      col<DraftOrderRow>('total_price', 'numeric', (r) => r.totalPrice),
      col<DraftOrderRow>('total_price_presentment', 'numeric', (r) => r.totalPricePresentment),
      col<DraftOrderRow>('line_item_count', 'integer', (r) => r.lineItemCount),
      col<DraftOrderRow>('tags', 'text', (r) => r.tags),
      col<DraftOrderRow>('taxes_included', 'boolean', (r) => r.taxesIncluded),
      col<DraftOrderRow>('tax_exempt', 'boolean', (r) => r.taxExempt),
      col<DraftOrderRow>('invoice_sent_at', 'timestamptz', (r) => r.invoiceSentAt),
      col<DraftOrderRow>('completed_at', 'timestamptz', (r) => r.completedAt),
      col<DraftOrderRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
      col<DraftOrderRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
      col<DraftOrderRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
      col<DraftOrderRow>('payload', 'jsonb', (r) => r.payload),
    ],
  },
  children: [{
    key: 'draftOrderLineItems', table: 'shopify_draft_order_line_items', model: 'ShopifyDraftOrderLineItem', conflict: ['id'], versioned: false, syncedAt: false,
    parent: 'draftOrders', parentColumn: 'draft_order_id', parentIdOf: (r: DraftOrderLineItemRow) => r.draftOrderId,
    whenMissing: 'delete', bulkType: 'DraftOrderLineItem', countColumn: 'line_item_count', countKey: 'lineItemCount',
    columns: cartLineItemColumns<DraftOrderLineItemRow>('draft_order_id', (r) => r.draftOrderId, [
      col<DraftOrderLineItemRow>('vendor', 'text', (r) => r.vendor),
      col<DraftOrderLineItemRow>('custom', 'boolean', (r) => r.custom),
      col<DraftOrderLineItemRow>('total_discount', 'numeric', (r) => r.totalDiscount),
      col<DraftOrderLineItemRow>('total_discount_presentment', 'numeric', (r) => r.totalDiscountPresentment),
    ]),
  }],
  emptyRows: () => ({ draftOrders: [], draftOrderLineItems: [] }),
  toRows: (record, ctx) => draftOrderRows(record, ctx),
  childRow: (_table, node, ctx) => lineItemRow(node, ctx.parentId, ctx.tenantId, ctx.sealer),
  graphql: {
    connection: 'draftOrders',
    type: 'DraftOrder',
    count: 'draftOrdersCount',
    fields: `id legacyResourceId name status email phone note2 tags taxesIncluded taxExempt currencyCode presentmentCurrencyCode
      invoiceUrl invoiceSentAt completedAt reserveInventoryUntil createdAt updatedAt
      subtotalPriceSet ${MONEY} totalDiscountsSet ${MONEY} totalShippingPriceSet ${MONEY} totalTaxSet ${MONEY} totalPriceSet ${MONEY}
      customer { id } order { id }
      billingAddress { ${ADDRESS} }
      shippingAddress { ${ADDRESS} }`,
    connections: [{
      field: 'lineItems',
      table: 'draftOrderLineItems',
      fields: `id title variantTitle sku vendor quantity custom
        originalUnitPriceSet ${MONEY} originalTotalSet ${MONEY} discountedTotalSet ${MONEY} totalDiscountSet ${MONEY}
        product { id } variant { id }`,
      pageSize: 10,
    }],
    updatedAtSortKey: 'UPDATED_AT',
    // DraftOrderSortKeys has no CREATED_AT: a full listing runs in id order.
    createdAtSortKey: null,
    baseQuery: null,
  },
  // REST pages draft orders by since_id, but the registry keeps new resources GraphQL-only (REST is legacy).
  rest: null,
  webhooks: {
    upsert: [],
    delete: ['draft_orders/delete'],
    // https://shopify.dev/docs/api/webhooks/latest?reference=toml#list-of-topics-draft_orders/create
    refetch: [
      { topic: 'draft_orders/create', idOf: (body) => resolveId(body) },
      { topic: 'draft_orders/update', idOf: (body) => resolveId(body) },
    ],
  },
  deletions: { eventSubjectType: 'DRAFT_ORDER', reconcileIds: true },
  // Shopify's customers/redact lists orders, not drafts: drafts match by their customer.
  privacy: { customerColumn: 'customer_id', listedInRequest: false, payload: 'scrub' },
  schedule: { enabled: true, schedule: '*/30 * * * *', options: { batchSize: 50, concurrency: 2 } },
});
