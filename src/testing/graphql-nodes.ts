/**
 * REST records -> GraphQL Admin API objects (camelCase, gid ids, MoneyBag sets, UTC times,
 * upper-case enums). Nested paginated fields are {@link ConnectionSource}s so the resolver can
 * apply `first`/`after` and the bulk writer can emit them as `__parentId` lines.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/Order
 */
import type { JsonObject, ResourceName } from './generator.js';

/** A nested list served as a connection (`edges`/`nodes`/`pageInfo`). */
export class ConnectionSource {
  /** `bulkLimit`: most nodes a bulk operation's output holds per parent (Shopify truncates some, e.g. discount codes). */
  constructor(readonly items: JsonObject[], readonly options: { bulkLimit?: number } = {}) {}
}

type Rec = JsonObject;

function utc(shopTime: unknown): string | null {
  if (typeof shopTime !== 'string') return null;
  return new Date(Date.parse(shopTime)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function moneyBag(set: unknown): JsonObject | null {
  const s = set as { shop_money?: { amount: string; currency_code: string }; presentment_money?: { amount: string; currency_code: string } } | null;
  if (!s?.shop_money) return null;
  const m = (x: { amount: string; currency_code: string }) => ({ amount: x.amount, currencyCode: x.currency_code });
  return { shopMoney: m(s.shop_money), presentmentMoney: m(s.presentment_money ?? s.shop_money) };
}

/**
 * Exact sum of decimal amounts (up to 4 decimals), written with as many decimals as the most precise
 * of them and at least two (`"1.235"` for KWD, `"12.50"` for USD): never summed as floats.
 */
export function sumAmounts(amounts: readonly unknown[]): string {
  let total = 0n;
  let decimals = 2;
  for (const a of amounts) {
    const text = String(a ?? '0');
    const [whole, frac = ''] = text.replace('-', '').split('.');
    decimals = Math.min(4, Math.max(decimals, frac.length));
    const v = BigInt(whole + frac.padEnd(4, '0').slice(0, 4));
    total += text.startsWith('-') ? -v : v;
  }
  const neg = total < 0n;
  const digits = (neg ? -total : total).toString().padStart(5, '0');
  const whole = digits.slice(0, -4);
  return `${neg ? '-' : ''}${whole}.${digits.slice(whole.length, whole.length + decimals)}`;
}

function moneyOf(amount: unknown, currency: string): JsonObject {
  return { shopMoney: { amount: String(amount ?? '0.00'), currencyCode: currency }, presentmentMoney: { amount: String(amount ?? '0.00'), currencyCode: currency } };
}

function tags(value: unknown): string[] {
  return typeof value === 'string' && value ? value.split(',').map((t) => t.trim()).filter(Boolean) : [];
}

function gid(type: string, id: unknown): string {
  return `gid://shopify/${type}/${String(id)}`;
}

function address(a: unknown, id?: unknown): JsonObject | null {
  const x = a as Rec | null;
  if (!x) return null;
  return {
    __typename: 'MailingAddress',
    id: id !== undefined ? `${gid('MailingAddress', id)}?model_name=CustomerAddress` : null,
    firstName: x.first_name ?? null, lastName: x.last_name ?? null, name: x.name ?? null, company: x.company ?? null,
    address1: x.address1 ?? null, address2: x.address2 ?? null, city: x.city ?? null, province: x.province ?? null,
    provinceCode: x.province_code ?? null, country: x.country ?? null, countryCodeV2: x.country_code ?? null, zip: x.zip ?? null, phone: x.phone ?? null,
  };
}

export function customerNode(c: Rec): JsonObject {
  const addresses = ((c.addresses as Rec[] | undefined) ?? []).map((a) => address(a, a.id)!);
  const consent = c.email_marketing_consent as Rec | null;
  return {
    __typename: 'Customer', id: c.admin_graphql_api_id, legacyResourceId: String(c.id), email: c.email ?? null,
    firstName: c.first_name ?? null, lastName: c.last_name ?? null,
    displayName: `${c.first_name ?? ''} ${c.last_name ?? ''}`.trim() || (c.email ?? null), phone: c.phone ?? null,
    state: String(c.state ?? 'disabled').toUpperCase(), verifiedEmail: c.verified_email ?? false, taxExempt: c.tax_exempt ?? false,
    tags: tags(c.tags), note: c.note ?? null, createdAt: utc(c.created_at), updatedAt: utc(c.updated_at),
    numberOfOrders: String(c.orders_count ?? 0), amountSpent: { amount: String(c.total_spent ?? '0.00'), currencyCode: c.currency ?? 'USD' },
    defaultAddress: c.default_address ? address(c.default_address, (c.default_address as Rec).id) : null,
    addresses, addressesV2: new ConnectionSource(addresses),
    emailMarketingConsent: consent ? { marketingState: String(consent.state).toUpperCase(), marketingOptInLevel: consent.opt_in_level ? String(consent.opt_in_level).toUpperCase() : null, consentUpdatedAt: utc(consent.consent_updated_at) } : null,
    // 2025-04+: email and phone (and the email's marketing state) on their own objects; Customer.email is deprecated.
    defaultEmailAddress: c.email ? { __typename: 'CustomerEmailAddress', emailAddress: c.email, marketingState: consent ? String(consent.state).toUpperCase() : 'NOT_SUBSCRIBED' } : null,
    defaultPhoneNumber: c.phone ? { __typename: 'CustomerPhoneNumber', phoneNumber: c.phone } : null,
  };
}

export function productNode(p: Rec): JsonObject {
  const variants = ((p.variants as Rec[] | undefined) ?? []).map((v) => ({
    __typename: 'ProductVariant', id: v.admin_graphql_api_id, legacyResourceId: String(v.id), title: v.title, sku: v.sku ?? null,
    barcode: v.barcode ?? null, price: v.price, compareAtPrice: v.compare_at_price ?? null, position: v.position,
    inventoryQuantity: v.inventory_quantity ?? null, taxable: v.taxable ?? true, createdAt: utc(v.created_at), updatedAt: utc(v.updated_at),
    inventoryItem: { __typename: 'InventoryItem', id: gid('InventoryItem', v.inventory_item_id) },
    selectedOptions: [{ name: (p.options as Rec[] | undefined)?.[0]?.name ?? 'Title', value: v.option1 }],
    product: { __typename: 'Product', id: p.admin_graphql_api_id },
  }));
  const images = ((p.images as Rec[] | undefined) ?? []).map((img) => ({
    __typename: 'Image', id: img.admin_graphql_api_id, url: img.src, src: img.src, altText: img.alt ?? null, width: img.width, height: img.height,
  }));
  return {
    __typename: 'Product', id: p.admin_graphql_api_id, legacyResourceId: String(p.id), title: p.title, handle: p.handle,
    vendor: p.vendor, productType: p.product_type, status: String(p.status ?? 'active').toUpperCase(), tags: tags(p.tags),
    descriptionHtml: p.body_html ?? '', createdAt: utc(p.created_at), updatedAt: utc(p.updated_at), publishedAt: utc(p.published_at),
    totalInventory: ((p.variants as Rec[] | undefined) ?? []).reduce((n, v) => n + Number(v.inventory_quantity ?? 0), 0),
    options: ((p.options as Rec[] | undefined) ?? []).map((o) => ({ __typename: 'ProductOption', id: gid('ProductOption', o.id), name: o.name, position: o.position, values: o.values })),
    variants: new ConnectionSource(variants), images: new ConnectionSource(images), media: new ConnectionSource([]),
    featuredImage: images[0] ?? null,
  };
}

const FINANCIAL: Record<string, string> = {
  pending: 'PENDING', authorized: 'AUTHORIZED', partially_paid: 'PARTIALLY_PAID', paid: 'PAID',
  partially_refunded: 'PARTIALLY_REFUNDED', refunded: 'REFUNDED', voided: 'VOIDED',
};
const FULFILLMENT: Record<string, string> = { fulfilled: 'FULFILLED', partial: 'PARTIALLY_FULFILLED', restocked: 'RESTOCKED' };

export function orderNode(o: Rec): JsonObject {
  const currency = String(o.currency ?? 'USD');
  const lineItems = ((o.line_items as Rec[] | undefined) ?? []).map((li) => ({
    __typename: 'LineItem', id: li.admin_graphql_api_id, name: li.name, title: li.title, variantTitle: li.variant_title ?? null,
    sku: li.sku ?? null, vendor: li.vendor ?? null, quantity: li.quantity, currentQuantity: li.current_quantity ?? li.quantity,
    // Units not fulfilled (a cancelled order's line items are unfulfilled, though nothing is fulfillable any more).
    unfulfilledQuantity: li.fulfillment_status === 'fulfilled' ? 0 : li.fulfillment_status === 'partial' ? Math.max(1, Number(li.fulfillable_quantity ?? 1)) : Number(li.current_quantity ?? li.quantity), requiresShipping: li.requires_shipping ?? true, taxable: li.taxable ?? true,
    originalUnitPriceSet: moneyBag(li.price_set), discountedUnitPriceSet: moneyBag(li.price_set), totalDiscountSet: moneyBag(li.total_discount_set),
    product: li.product_id ? { __typename: 'Product', id: gid('Product', li.product_id) } : null,
    variant: li.variant_id ? { __typename: 'ProductVariant', id: gid('ProductVariant', li.variant_id) } : null,
  }));
  const refunds = ((o.refunds as Rec[] | undefined) ?? []).map((r) => ({
    __typename: 'Refund', id: r.admin_graphql_api_id, createdAt: utc(r.created_at), processedAt: utc(r.processed_at ?? r.created_at), note: r.note ?? null,
    totalRefundedSet: moneyOf(sumAmounts(((r.transactions as Rec[] | undefined) ?? []).map((t) => t.amount)), currency),
  }));
  const refunded = sumAmounts(refunds.map((r) => (r.totalRefundedSet as { shopMoney: { amount: string } }).shopMoney.amount));
  const transactions = ((o.transactions as Rec[] | undefined) ?? []).map((t) => ({
    __typename: 'OrderTransaction', id: t.admin_graphql_api_id, kind: String(t.kind).toUpperCase(), status: String(t.status).toUpperCase(),
    gateway: t.gateway, createdAt: utc(t.created_at), processedAt: utc(t.processed_at), amountSet: moneyOf(t.amount, currency),
  }));
  const fulfillments = ((o.fulfillments as Rec[] | undefined) ?? []).map((f) => ({
    __typename: 'Fulfillment', id: f.admin_graphql_api_id, status: String(f.status).toUpperCase(), createdAt: utc(f.created_at), updatedAt: utc(f.updated_at),
    trackingInfo: [{ company: f.tracking_company ?? null, number: f.tracking_number ?? null, url: f.tracking_url ?? null }],
  }));
  const customer = o.customer as Rec | null;
  return {
    __typename: 'Order', id: o.admin_graphql_api_id, legacyResourceId: String(o.id), name: o.name, number: o.order_number ?? null, email: o.email ?? null, phone: o.phone ?? null,
    createdAt: utc(o.created_at), updatedAt: utc(o.updated_at), processedAt: utc(o.processed_at), closedAt: utc(o.closed_at), closed: Boolean(o.closed_at),
    cancelledAt: utc(o.cancelled_at), cancelReason: o.cancel_reason ? String(o.cancel_reason).toUpperCase() : null,
    displayFinancialStatus: FINANCIAL[String(o.financial_status)] ?? null,
    displayFulfillmentStatus: FULFILLMENT[String(o.fulfillment_status)] ?? 'UNFULFILLED',
    currencyCode: currency, presentmentCurrencyCode: o.presentment_currency ?? currency,
    subtotalPriceSet: moneyBag(o.subtotal_price_set), totalPriceSet: moneyBag(o.total_price_set), totalTaxSet: moneyBag(o.total_tax_set),
    totalDiscountsSet: moneyBag(o.total_discounts_set), totalShippingPriceSet: moneyBag(o.total_shipping_price_set),
    currentTotalPriceSet: moneyBag(o.current_total_price_set), totalRefundedSet: moneyOf(refunded, currency),
    tags: tags(o.tags), note: o.note ?? null, test: o.test ?? false, sourceName: o.source_name ?? null, confirmed: o.confirmed ?? true,
    customer: customer ? customerNode(customer) : null,
    shippingAddress: address(o.shipping_address), billingAddress: address(o.billing_address),
    lineItems: new ConnectionSource(lineItems), refunds, transactions, fulfillments,
  };
}

/** Converts a REST record of `resource` to its GraphQL object. */
export function toGraphqlNode(resource: ResourceName, record: Rec): JsonObject {
  return resource === 'customers' ? customerNode(record) : resource === 'products' ? productNode(record) : orderNode(record);
}
