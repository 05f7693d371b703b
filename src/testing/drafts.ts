/**
 * The simulator's draft orders and abandoned checkouts, written from Shopify's 2026-10
 * documentation and schema (not from the SDK's registry). Both are carts of the shop's seeded
 * variants with a buyer taken from its seeded customers (name, email, phone, address), priced in
 * the shop's currency and, for some buyers, a presentment currency.
 *
 * What it models that syncs depend on:
 * - `draftOrders(query:, sortKey:, reverse:)`: search on `updated_at`, `created_at`, `status`
 *   (`open`, `invoice_sent`, `completed`), `customer_id`; sort keys `ID` (default), `UPDATED_AT`,
 *   `NUMBER`, `TOTAL_PRICE`. Some drafts are completed into orders (`order { id }`), some have an
 *   invoice sent. `draftOrdersCount(query:)`.
 * - `abandonedCheckouts(query:, sortKey:, reverse:)`: search on `updated_at`, `created_at`,
 *   `status` (`open`, `closed`), `recovery_state`; sort keys `ID`/`CHECKOUT_ID` (default),
 *   `CREATED_AT`, `TOTAL_PRICE` (no `UPDATED_AT`). A checkout without contact details is not
 *   abandoned yet: neither listed nor found by `node(id:)`. AbandonedCheckout has no email or phone
 *   field: the buyer's are on its `customer`.
 * - `lineItems` of both are connections (own JSONL lines with `__parentId` in bulk operations).
 * - Webhooks with REST-shaped bodies: `draft_orders/create|update|delete`, `checkouts/create|update|delete`
 *   (checkout line items have a `key`, no id). Deleting a draft records a destroy event only when asked
 *   (Shopify does not document whether it does).
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/DraftOrder
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/AbandonedCheckout
 * https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics
 */
import { formatShopTime } from './clock.js';
import { MAX_ID, type JsonObject } from './generator.js';
import { ConnectionSource } from './graphql-nodes.js';
import { createRandom, hashString, intBetween, pick } from './prng.js';
import type { ResourceTable } from './resource-table.js';

interface Buyer { customerId: bigint | null; first: string; last: string; email: string | null; phone: string | null; address: JsonObject | null }
interface Line {
  id: bigint; productId: bigint | null; variantId: bigint | null; title: string; variantTitle: string | null; sku: string | null;
  vendor: string | null; quantity: number; unitCents: number; discountCents: number;
}
interface Cart {
  id: bigint; buyer: Buyer; lines: Line[]; note: string; presentment: { currency: string; rate: number }; shippingCents: number;
  createdMs: number; updatedMs: number; completedMs: number | null; deleted: boolean;
}
interface Draft extends Cart { number: number; status: 'OPEN' | 'INVOICE_SENT' | 'COMPLETED'; invoiceSentMs: number | null; orderId: bigint | null; tags: string[] }
interface Checkout extends Cart { token: string; abandoned: boolean; discountCodes: string[] }

const DAY = 86_400_000;
const START_MS = Date.UTC(2024, 2, 1, 5, 0, 0);
const NOTES = ['Gift wrap please', 'Call before delivery: +1 613 555 0199', 'Leave at the back door', ''];
const PRESENTMENT = [{ currency: 'EUR', rate: 0.92 }, { currency: 'CAD', rate: 1.36 }];

const utc = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const gid = (type: string, id: bigint) => `gid://shopify/${type}/${id}`;
/** GraphQL's Decimal: `24.99`, `20.0` (REST writes `20.00`; the SDK must store both alike). */
const decimal = (cents: number) => (cents % 100 === 0 ? `${cents / 100}.0` : (cents / 100).toFixed(cents % 10 === 0 ? 1 : 2));
const rest = (cents: number) => (cents / 100).toFixed(2);

/** A `query:` search's time bounds (quoted values; inclusive). */
function bounds(query: string, field: string): { min: number; max: number } {
  const out = { min: -Infinity, max: Infinity };
  for (const m of query.matchAll(new RegExp(`${field}:(>=|<=|>|<)?'?([^'\\s]+)'?`, 'g'))) {
    const ms = Date.parse(m[2]);
    if (Number.isNaN(ms)) continue;
    if (m[1] === '<=' || m[1] === '<') out.max = Math.min(out.max, m[1] === '<' ? ms - 1 : ms);
    else out.min = Math.max(out.min, m[1] === '>' ? ms + 1 : ms);
  }
  return out;
}
const term = (query: string, field: string) => new RegExp(`(?:^|\\s)${field}:'?([\\w-]+)'?`).exec(query)?.[1]?.toLowerCase();

/**
 * Creates the draft orders and abandoned checkouts of one shop.
 *
 * @example
 * ```ts
 * const id = shop.drafts.createDraft();        // draft_orders/create
 * shop.drafts.completeDraft(id, orderId);      // draft_orders/update, status COMPLETED
 * ```
 */
export function createDrafts(init: {
  seed: number; shopNumber: number; clock: () => number; bigIds: boolean; topIds?: boolean; currency: string; domain: string;
  customers: ResourceTable; products: ResourceTable; orders: ResourceTable; events: Array<Record<string, unknown>>;
  draftOrders: number; abandonedCheckouts: number;
}) {
  const r = createRandom(hashString(`${init.seed}:${init.shopNumber}:drafts`));
  const out = (id: bigint): number | bigint => (init.bigIds ? id : Number(id));
  const now = () => Math.floor(init.clock() / 1000) * 1000;
  let deliver: (topic: string, payload: JsonObject) => void = () => {};
  // `topIds`: just below 2^63 − 1 (room for 10,000 drafts and checkouts, a billion lines).
  const draftBase = init.topIds ? MAX_ID - 10_000_000n : init.bigIds ? 1_127_845_110_000_000_000n : 1_090_000_000_000n;
  const checkoutBase = init.topIds ? MAX_ID - 20_000_000n : init.bigIds ? 355_114_902_000_000_000n : 3_550_000_000_000n;
  let nextLine = init.topIds ? MAX_ID - 9_000_000_000n : init.bigIds ? 498_266_019_000_000_000n : 4_980_000_000_000n;

  function buyer(withCustomer: boolean): Buyer {
    const n = Math.max(1, init.customers.baseCount);
    const c = withCustomer ? init.customers.get(intBetween(r, 0, n - 1)) : undefined;
    if (!c) return { customerId: null, first: 'Walk', last: 'In', email: r() < 0.5 ? `walk.in.${intBetween(r, 1, 999)}@example.com` : null, phone: null, address: null };
    const address = (c.default_address as JsonObject | null) ?? null;
    return {
      customerId: BigInt(c.id as number | bigint), first: String(c.first_name), last: String(c.last_name), email: (c.email as string | null) ?? null,
      phone: (c.phone as string | null) ?? null, address: address ? { ...address } : null,
    };
  }

  function lines(count: number): Line[] {
    const out: Line[] = [];
    for (let k = 0; k < count; k++) {
      const product = init.products.get(intBetween(r, 0, Math.max(0, init.products.baseCount - 1)));
      const variant = product ? pick(r, product.variants as JsonObject[]) : undefined;
      const id = nextLine;
      nextLine += 7n;
      if (!product || !variant || r() < 0.1) {
        // A custom item: no product or variant.
        out.push({ id, productId: null, variantId: null, title: 'Custom engraving', variantTitle: null, sku: null, vendor: null, quantity: 1, unitCents: intBetween(r, 5, 40) * 100, discountCents: 0 });
        continue;
      }
      const unitCents = Math.round(Number(variant.price) * 100);
      const quantity = intBetween(r, 1, 3);
      out.push({
        id, productId: BigInt(product.id as number | bigint), variantId: BigInt(variant.id as number | bigint), title: String(product.title),
        variantTitle: variant.title === 'Default Title' ? null : String(variant.title), sku: (variant.sku as string | null) ?? null, vendor: String(product.vendor),
        quantity, unitCents, discountCents: r() < 0.3 ? Math.round(unitCents * quantity * 0.1) : 0,
      });
    }
    return out;
  }

  function cart(id: bigint, createdMs: number, withCustomer: boolean): Cart {
    return {
      id, buyer: buyer(withCustomer), lines: lines(intBetween(r, 1, 4)), note: pick(r, NOTES),
      presentment: r() < 0.3 ? pick(r, PRESENTMENT) : { currency: init.currency, rate: 1 }, shippingCents: r() < 0.5 ? 500 : 0,
      createdMs, updatedMs: createdMs + intBetween(r, 1, 48) * 3_600_000, completedMs: null, deleted: false,
    };
  }

  const drafts: Draft[] = [];
  const newDraft = (createdMs: number): Draft => {
    const k = drafts.length;
    const d: Draft = { ...cart(draftBase + BigInt(k) * 1000n, createdMs, r() < 0.85), number: 1001 + k, status: 'OPEN', invoiceSentMs: null, orderId: null, tags: r() < 0.4 ? ['wholesale'] : [] };
    drafts.push(d);
    return d;
  };
  for (let k = 0; k < init.draftOrders; k++) {
    const d = newDraft(START_MS + k * 9 * DAY);
    const fate = k % 3;
    if (fate >= 1) { d.status = 'INVOICE_SENT'; d.invoiceSentMs = d.createdMs + 3_600_000; }
    // Completed into an existing order of the shop.
    const order = init.orders.get(Math.min(k, init.orders.baseCount - 1));
    if (fate === 2 && order) { d.status = 'COMPLETED'; d.completedMs = d.updatedMs; d.orderId = BigInt(order.id as number | bigint); }
  }

  const checkouts: Checkout[] = [];
  const newCheckout = (createdMs: number, abandoned: boolean): Checkout => {
    const k = checkouts.length;
    const c: Checkout = { ...cart(checkoutBase + BigInt(k) * 1000n, createdMs, r() < 0.9), token: `${k.toString(16).padStart(4, '0')}${Math.floor(r() * 1e12).toString(16)}`, abandoned, discountCodes: r() < 0.2 ? ['WELCOME10'] : [] };
    c.note = '';
    checkouts.push(c);
    return c;
  };
  for (let k = 0; k < init.abandonedCheckouts; k++) {
    const c = newCheckout(START_MS + k * 7 * DAY + 3_600_000, true);
    if (k % 4 === 3) c.completedMs = c.updatedMs; // recovered
  }

  // ---- money --------------------------------------------------------------------------------

  const bag = (cents: number, rate: number, currency: string): JsonObject => ({
    __typename: 'MoneyBag',
    shopMoney: { __typename: 'MoneyV2', amount: decimal(cents), currencyCode: init.currency },
    presentmentMoney: { __typename: 'MoneyV2', amount: decimal(Math.round(cents * rate)), currencyCode: currency },
  });
  function totals(c: Cart) {
    const lineTotal = c.lines.reduce((n, l) => n + l.unitCents * l.quantity, 0);
    const discounts = c.lines.reduce((n, l) => n + l.discountCents, 0);
    const subtotal = lineTotal - discounts;
    const tax = Math.round(subtotal * 0.08);
    return { lineTotal, discounts, subtotal, tax, shipping: c.shippingCents, total: subtotal + tax + c.shippingCents };
  }

  // ---- GraphQL nodes ------------------------------------------------------------------------

  const address = (b: Buyer): JsonObject | null => (b.address ? {
    __typename: 'MailingAddress', firstName: b.first, lastName: b.last, name: `${b.first} ${b.last}`, company: b.address.company ?? null,
    address1: b.address.address1, address2: b.address.address2 || null, city: b.address.city, province: b.address.province,
    provinceCode: b.address.province_code, country: b.address.country, countryCodeV2: b.address.country_code, zip: b.address.zip, phone: b.phone,
  } : null);

  const draftNode = (d: Draft): JsonObject => {
    const t = totals(d);
    const { rate, currency } = d.presentment;
    return {
      __typename: 'DraftOrder', id: gid('DraftOrder', d.id), legacyResourceId: String(d.id), name: `#D${d.number}`, status: d.status,
      email: d.buyer.email, phone: d.buyer.phone, note2: d.note || null, tags: d.tags, taxesIncluded: false, taxExempt: false,
      currencyCode: init.currency, presentmentCurrencyCode: currency, invoiceUrl: `https://${init.domain}/${548_380_009 + init.shopNumber}/invoices/${d.id.toString(16)}`,
      invoiceSentAt: d.invoiceSentMs === null ? null : utc(d.invoiceSentMs), completedAt: d.completedMs === null ? null : utc(d.completedMs),
      reserveInventoryUntil: null, createdAt: utc(d.createdMs), updatedAt: utc(d.updatedMs), ready: true, totalQuantityOfLineItems: d.lines.reduce((n, l) => n + l.quantity, 0),
      subtotalPriceSet: bag(t.subtotal, rate, currency), totalDiscountsSet: bag(t.discounts, rate, currency), totalShippingPriceSet: bag(t.shipping, rate, currency),
      totalTaxSet: bag(t.tax, rate, currency), totalPriceSet: bag(t.total, rate, currency), totalLineItemsPriceSet: bag(t.lineTotal, rate, currency),
      customer: d.buyer.customerId === null ? null : { __typename: 'Customer', id: gid('Customer', d.buyer.customerId) },
      order: d.orderId === null ? null : { __typename: 'Order', id: gid('Order', d.orderId) },
      billingAddress: address(d.buyer), shippingAddress: address(d.buyer),
      lineItems: new ConnectionSource(d.lines.map((l) => ({
        __typename: 'DraftOrderLineItem', id: gid('DraftOrderLineItem', l.id), uuid: l.id.toString(16), name: l.variantTitle ? `${l.title} - ${l.variantTitle}` : l.title,
        title: l.title, variantTitle: l.variantTitle, sku: l.sku, vendor: l.vendor, quantity: l.quantity, custom: l.variantId === null,
        requiresShipping: true, taxable: true, isGiftCard: false,
        originalUnitPriceSet: bag(l.unitCents, rate, currency), originalTotalSet: bag(l.unitCents * l.quantity, rate, currency),
        discountedTotalSet: bag(l.unitCents * l.quantity - l.discountCents, rate, currency), totalDiscountSet: bag(l.discountCents, rate, currency),
        product: l.productId === null ? null : { __typename: 'Product', id: gid('Product', l.productId) },
        variant: l.variantId === null ? null : { __typename: 'ProductVariant', id: gid('ProductVariant', l.variantId) },
      }))),
    };
  };

  const checkoutNode = (c: Checkout): JsonObject => {
    const t = totals(c);
    const { rate, currency } = c.presentment;
    const b = c.buyer;
    return {
      __typename: 'AbandonedCheckout', id: gid('AbandonedCheckout', c.id), name: `#${c.id}`, note: c.note, discountCodes: c.discountCodes, taxesIncluded: false,
      abandonedCheckoutUrl: `https://${init.domain}/${548_380_009 + init.shopNumber}/checkouts/ac/${c.token}/recover?key=${c.token.split('').reverse().join('')}`,
      completedAt: c.completedMs === null ? null : utc(c.completedMs), createdAt: utc(c.createdMs), updatedAt: utc(c.updatedMs),
      subtotalPriceSet: bag(t.subtotal, rate, currency), totalDiscountSet: bag(t.discounts, rate, currency), totalTaxSet: bag(t.tax, rate, currency),
      totalPriceSet: bag(t.total, rate, currency), totalLineItemsPriceSet: bag(t.lineTotal, rate, currency), totalDutiesSet: null,
      customer: b.customerId === null ? null : {
        __typename: 'Customer', id: gid('Customer', b.customerId), firstName: b.first, lastName: b.last,
        defaultEmailAddress: b.email ? { __typename: 'CustomerEmailAddress', emailAddress: b.email } : null,
        defaultPhoneNumber: b.phone ? { __typename: 'CustomerPhoneNumber', phoneNumber: b.phone } : null,
      },
      billingAddress: address(b), shippingAddress: address(b),
      lineItems: new ConnectionSource(c.lines.map((l) => ({
        __typename: 'AbandonedCheckoutLineItem', id: gid('AbandonedCheckoutLineItem', l.id), title: l.title, variantTitle: l.variantTitle, sku: l.sku, quantity: l.quantity,
        originalUnitPriceSet: bag(l.unitCents, rate, currency), originalTotalPriceSet: bag(l.unitCents * l.quantity, rate, currency),
        discountedTotalPriceSet: bag(l.unitCents * l.quantity - l.discountCents, rate, currency),
        discountedUnitPriceSet: bag(Math.round((l.unitCents * l.quantity - l.discountCents) / l.quantity), rate, currency),
        product: l.productId === null ? null : { __typename: 'Product', id: gid('Product', l.productId) },
        variant: l.variantId === null ? null : { __typename: 'ProductVariant', id: gid('ProductVariant', l.variantId) },
      }))),
    };
  };

  const liveDrafts = () => drafts.filter((d) => !d.deleted);
  const liveCheckouts = () => checkouts.filter((c) => !c.deleted && c.abandoned);

  /** Sorts by a key then id (Shopify's tie-break), `reverse` flips it. */
  function sorted<T extends { id: bigint }>(items: T[], key: (x: T) => number, reverse: unknown): T[] {
    const s = [...items].sort((a, b) => key(a) - key(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return reverse === true ? s.reverse() : s;
  }

  function matchingDrafts(query: string): Draft[] {
    const created = bounds(query, 'created_at');
    const updated = bounds(query, 'updated_at');
    const status = term(query, 'status');
    const customer = term(query, 'customer_id');
    return liveDrafts().filter((d) => d.createdMs >= created.min && d.createdMs <= created.max && d.updatedMs >= updated.min && d.updatedMs <= updated.max
      && (!status || d.status.toLowerCase() === status) && (!customer || String(d.buyer.customerId) === customer));
  }
  function matchingCheckouts(query: string): Checkout[] {
    const created = bounds(query, 'created_at');
    const updated = bounds(query, 'updated_at');
    const status = term(query, 'status');
    const recovery = term(query, 'recovery_state');
    return liveCheckouts().filter((c) => c.createdMs >= created.min && c.createdMs <= created.max && c.updatedMs >= updated.min && c.updatedMs <= updated.max
      && (!status || (status === 'closed') === (c.completedMs !== null)) && (!recovery || (recovery === 'recovered') === (c.completedMs !== null)));
  }

  /** Root connections served from here, by QueryRoot field: filtered and sorted like Shopify's search, or undefined for other fields. */
  function list(field: string, args: Record<string, unknown>): JsonObject[] | undefined {
    const query = typeof args.query === 'string' ? args.query : '';
    if (field === 'draftOrders') {
      const key = args.sortKey === 'UPDATED_AT' ? (d: Draft) => d.updatedMs : args.sortKey === 'NUMBER' ? (d: Draft) => d.number
        : args.sortKey === 'TOTAL_PRICE' ? (d: Draft) => totals(d).total : () => 0;
      return sorted(matchingDrafts(query), key, args.reverse).map(draftNode);
    }
    if (field === 'abandonedCheckouts') {
      const key = args.sortKey === 'CREATED_AT' ? (c: Checkout) => c.createdMs : args.sortKey === 'TOTAL_PRICE' ? (c: Checkout) => totals(c).total : () => 0;
      return sorted(matchingCheckouts(query), key, args.reverse).map(checkoutNode);
    }
    return undefined;
  }

  function draft(id: bigint): Draft {
    const d = drafts.find((x) => x.id === id && !x.deleted);
    if (!d) throw new Error(`[shopify-ingest] simulator: no draft order ${id}`);
    return d;
  }
  function checkout(id: bigint): Checkout {
    const c = checkouts.find((x) => x.id === id && !x.deleted);
    if (!c) throw new Error(`[shopify-ingest] simulator: no checkout ${id}`);
    return c;
  }

  // ---- REST-shaped webhook bodies -----------------------------------------------------------

  const restAddress = (b: Buyer): JsonObject | null => (b.address ? { ...b.address, first_name: b.first, last_name: b.last, name: `${b.first} ${b.last}`, phone: b.phone } : null);
  const restCustomer = (b: Buyer): JsonObject | null => (b.customerId === null ? null : {
    id: out(b.customerId), email: b.email, first_name: b.first, last_name: b.last, phone: b.phone, admin_graphql_api_id: gid('Customer', b.customerId),
  });
  const draftBody = (d: Draft): JsonObject => {
    const t = totals(d);
    const node = draftNode(d);
    return {
      id: out(d.id), note: d.note || null, email: d.buyer.email, taxes_included: false, currency: init.currency, invoice_sent_at: d.invoiceSentMs === null ? null : formatShopTime(d.invoiceSentMs),
      created_at: formatShopTime(d.createdMs), updated_at: formatShopTime(d.updatedMs), tax_exempt: false, completed_at: d.completedMs === null ? null : formatShopTime(d.completedMs),
      name: `#D${d.number}`, status: d.status.toLowerCase(), invoice_url: node.invoiceUrl, order_id: d.orderId === null ? null : out(d.orderId),
      line_items: d.lines.map((l) => ({
        id: out(l.id), variant_id: l.variantId === null ? null : out(l.variantId), product_id: l.productId === null ? null : out(l.productId), title: l.title,
        variant_title: l.variantTitle, sku: l.sku, vendor: l.vendor, quantity: l.quantity, requires_shipping: true, taxable: true, gift_card: false,
        fulfillment_service: 'manual', grams: 0, tax_lines: [], applied_discount: null, name: l.title, properties: [], custom: l.variantId === null,
        price: rest(l.unitCents), admin_graphql_api_id: gid('DraftOrderLineItem', l.id),
      })),
      shipping_address: restAddress(d.buyer), billing_address: restAddress(d.buyer), applied_discount: null, shipping_line: null, tax_lines: [],
      tags: d.tags.join(', '), note_attributes: [], total_price: rest(t.total), subtotal_price: rest(t.subtotal), total_tax: rest(t.tax), payment_terms: null,
      admin_graphql_api_id: gid('DraftOrder', d.id), customer: restCustomer(d.buyer),
    };
  };
  const checkoutBody = (c: Checkout): JsonObject => {
    const t = totals(c);
    return {
      id: out(c.id), token: c.token, cart_token: `c1-${c.token}`, email: c.buyer.email, gateway: null, buyer_accepts_marketing: false,
      created_at: formatShopTime(c.createdMs), updated_at: formatShopTime(c.updatedMs), landing_site: '/', note: c.note || null, note_attributes: [],
      referring_site: '', shipping_lines: [], taxes_included: false, total_weight: 0, currency: init.currency, completed_at: c.completedMs === null ? null : formatShopTime(c.completedMs),
      closed_at: null, phone: c.buyer.phone, customer_locale: 'en', name: `#${c.id}`, source_name: 'web', presentment_currency: c.presentment.currency,
      abandoned_checkout_url: checkoutNode(c).abandonedCheckoutUrl, discount_codes: c.discountCodes.map((code) => ({ code, amount: '10.00', type: 'percentage' })),
      line_items: c.lines.map((l, k) => ({
        key: `${c.token}-${k}`, product_id: l.productId === null ? null : out(l.productId), variant_id: l.variantId === null ? null : out(l.variantId),
        quantity: l.quantity, sku: l.sku, title: l.title, variant_title: l.variantTitle, vendor: l.vendor, price: rest(l.unitCents),
        line_price: rest(l.unitCents * l.quantity), requires_shipping: true, taxable: true, gift_card: false, properties: null,
      })),
      total_discounts: rest(t.discounts), total_line_items_price: rest(t.lineTotal), total_price: rest(t.total), total_tax: rest(t.tax), subtotal_price: rest(t.subtotal),
      billing_address: restAddress(c.buyer), shipping_address: restAddress(c.buyer), customer: restCustomer(c.buyer),
    };
  };

  const touch = (c: Cart) => { c.updatedMs = Math.max(now(), c.updatedMs + 1000); };

  return {
    /** Sends a webhook (set by the simulator to its dispatcher). */
    set deliver(fn: (topic: string, payload: JsonObject) => void) { deliver = fn; },
    /** Root connections served from here (`draftOrders`, `abandonedCheckouts`), or undefined for other fields. */
    list,
    /** `draftOrdersCount` / `abandonedCheckoutsCount`, or undefined for other fields. */
    count(field: string, args: Record<string, unknown>): JsonObject | undefined {
      const query = typeof args.query === 'string' ? args.query : '';
      const n = field === 'draftOrdersCount' ? matchingDrafts(query).length : field === 'abandonedCheckoutsCount' ? matchingCheckouts(query).length : null;
      return n === null ? undefined : { __typename: 'Count', count: n, precision: 'EXACT' };
    },
    /** A DraftOrder or AbandonedCheckout by gid (null when deleted or not abandoned yet), or undefined for other types. */
    node(id: string): JsonObject | null | undefined {
      const m = /^gid:\/\/shopify\/(DraftOrder|AbandonedCheckout)\/(\d+)$/.exec(id);
      if (!m) return undefined;
      const n = BigInt(m[2]);
      if (m[1] === 'DraftOrder') { const d = drafts.find((x) => x.id === n && !x.deleted); return d ? draftNode(d) : null; }
      const c = checkouts.find((x) => x.id === n && !x.deleted && x.abandoned);
      return c ? checkoutNode(c) : null;
    },

    /** Ids of the live draft orders, oldest first. */
    draftIds: (): bigint[] => liveDrafts().map((d) => d.id),
    /** Ids of the listed (abandoned, live) checkouts, oldest first. */
    checkoutIds: (): bigint[] => liveCheckouts().map((c) => c.id),
    /** A live draft as `draftOrder(id:)` answers it (GraphQL shape; `lineItems` as `{ nodes }`). */
    draftNode: (id: bigint): JsonObject => { const n = draftNode(draft(id)); return { ...n, lineItems: { nodes: (n.lineItems as ConnectionSource).items } }; },
    /** A listed checkout as `node(id:)` answers it (GraphQL shape; `lineItems` as `{ nodes }`). */
    checkoutNode: (id: bigint): JsonObject => { const n = checkoutNode(checkout(id)); return { ...n, lineItems: { nodes: (n.lineItems as ConnectionSource).items } }; },

    /** Creates an open draft for a seeded customer; emits `draft_orders/create`. */
    createDraft(): bigint {
      const d = newDraft(now());
      d.updatedMs = d.createdMs;
      deliver('draft_orders/create', draftBody(d));
      return d.id;
    },
    /** Changes a draft (note, a line's quantity, a new line); emits `draft_orders/update`. */
    updateDraft(id: bigint, patch: { note?: string; quantity?: number; addLine?: boolean; removeLine?: boolean }): void {
      const d = draft(id);
      if (patch.note !== undefined) d.note = patch.note;
      if (patch.quantity !== undefined) d.lines[0].quantity = patch.quantity;
      if (patch.addLine) d.lines.push(...lines(1));
      if (patch.removeLine && d.lines.length > 1) d.lines.pop();
      touch(d);
      deliver('draft_orders/update', draftBody(d));
    },
    /** Sends the draft's invoice (status INVOICE_SENT); emits `draft_orders/update`. */
    sendInvoice(id: bigint): void {
      const d = draft(id);
      d.status = 'INVOICE_SENT';
      touch(d);
      d.invoiceSentMs = d.updatedMs;
      deliver('draft_orders/update', draftBody(d));
    },
    /** Completes a draft into order `orderId` (status COMPLETED); emits `draft_orders/update`. */
    completeDraft(id: bigint, orderId: bigint): void {
      const d = draft(id);
      d.status = 'COMPLETED';
      d.orderId = orderId;
      touch(d);
      d.completedMs = d.updatedMs;
      deliver('draft_orders/update', draftBody(d));
    },
    /**
     * Deletes a draft; emits `draft_orders/delete` with `{ id }`. `event`: also record a destroy event
     * (`subject_type: DRAFT_ORDER`); Shopify's documentation does not say whether it does.
     */
    deleteDraft(id: bigint, options: { event?: boolean; webhook?: boolean } = {}): void {
      const d = draft(id);
      d.deleted = true;
      const at = now();
      if (options.event) {
        init.events.push({
          id: 710_000_000 + init.events.length, subject_id: out(id), created_at: formatShopTime(at), createdMs: at, subject_type: 'DraftOrder', verb: 'destroy',
          arguments: [`#D${d.number}`], body: null, message: `Draft order #D${d.number} was deleted.`, author: 'Shopify', description: `Draft order #D${d.number} was deleted.`, path: `/admin/draft_orders/${id}`,
        });
      }
      if (options.webhook !== false) deliver('draft_orders/delete', { id: out(id) });
    },

    /**
     * Starts a checkout; emits `checkouts/create`. Without contact details (`abandoned: false`) it is
     * not an abandoned checkout yet: not listed, `node(id:)` null, until {@link abandon}.
     */
    createCheckout(options: { abandoned?: boolean } = {}): bigint {
      const c = newCheckout(now(), options.abandoned ?? true);
      c.updatedMs = c.createdMs;
      deliver('checkouts/create', checkoutBody(c));
      return c.id;
    },
    /** The buyer gave contact details and left: listed from now on; emits `checkouts/update`. */
    abandon(id: bigint): void {
      const c = checkouts.find((x) => x.id === id && !x.deleted);
      if (!c) throw new Error(`[shopify-ingest] simulator: no checkout ${id}`);
      c.abandoned = true;
      touch(c);
      deliver('checkouts/update', checkoutBody(c));
    },
    /** Changes a checkout's cart (a line's quantity, a line removed); emits `checkouts/update`. */
    updateCheckout(id: bigint, patch: { quantity?: number; removeLine?: boolean }): void {
      const c = checkout(id);
      if (patch.quantity !== undefined) c.lines[0].quantity = patch.quantity;
      if (patch.removeLine && c.lines.length > 1) c.lines.pop();
      touch(c);
      deliver('checkouts/update', checkoutBody(c));
    },
    /** The buyer came back and paid (completedAt set; still listed); emits `checkouts/update`. */
    recoverCheckout(id: bigint): void {
      const c = checkout(id);
      touch(c);
      c.completedMs = c.updatedMs;
      deliver('checkouts/update', checkoutBody(c));
    },
    /** Deletes a checkout (no destroy event: Shopify has no checkout subject); emits `checkouts/delete` with `{ id }` unless `webhook: false`. */
    deleteCheckout(id: bigint, options: { webhook?: boolean } = {}): void {
      checkout(id).deleted = true;
      if (options.webhook !== false) deliver('checkouts/delete', { id: out(id) });
    },
  };
}

/** The draft orders and abandoned checkouts of one simulated shop. */
export type SimulatedDrafts = ReturnType<typeof createDrafts>;
