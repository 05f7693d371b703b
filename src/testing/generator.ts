/**
 * Deterministic fake Shopify data. Record `i` of a resource is a pure function of
 * (seed, shop number, i): nothing is cached, so a shop of 1,000,000 orders costs no memory until
 * a page of it is rendered. Shapes follow the REST Admin API payloads (2024-10 .. 2026-07):
 * https://shopify.dev/docs/api/admin-rest/latest/resources/order
 */
import { createRandom, combine, intBetween, pick, unitAt, type Random } from './prng.js';
import { formatShopTime } from './clock.js';

/** The resources the simulator serves. */
export type ResourceName = 'customers' | 'products' | 'orders';
/** A JSON object as the simulator builds and serves it. */
export type JsonObject = Record<string, unknown>;

/** Id spaces. Normal ids are 13 digits like today's Shopify ids; big ids exceed 2^53 like Shopify's own samples. */
const ID_BASES = {
  normal: {
    customers: 7_100_000_000_000n, products: 8_200_000_000_000n, orders: 5_600_000_000_000n,
    variants: 4_300_000_000_000n, images: 3_900_000_000_000n, addresses: 8_700_000_000_000n,
    lineItems: 1_400_000_000_000n, refunds: 9_100_000_000_000n, transactions: 6_800_000_000_000n,
    fulfillments: 5_100_000_000_000n, shippingLines: 4_700_000_000_000n, inventoryItems: 4_500_000_000_000n,
    refundLineItems: 3_300_000_000_000n, options: 1_900_000_000_000n,
  },
  big: {
    customers: 706_405_506_930_370_084n, products: 788_032_119_674_292_922n, orders: 820_982_911_946_154_508n,
    variants: 642_667_041_472_713_922n, images: 601_244_583_940_003_331n, addresses: 735_110_342_823_011_993n,
    lineItems: 866_550_311_766_439_020n, refunds: 929_361_465_200_008_773n, transactions: 680_043_112_094_420_213n,
    fulfillments: 519_411_223_334_007_401n, shippingLines: 470_009_238_112_004_117n, inventoryItems: 451_002_993_310_009_123n,
    refundLineItems: 331_204_992_001_382_511n, options: 190_332_088_211_094_337n,
  },
} as const;

/** PostgreSQL's largest `bigint`, 2^63 − 1 (Shopify's ids are UnsignedInt64, stored as signed bigint). */
export const MAX_ID = 9_223_372_036_854_775_807n;

/** Which records' counts bound each child id space (a child id is parent index × CHILD_STRIDE + position). */
const CHILD_OF = {
  variants: 'products', images: 'products', options: 'products', inventoryItems: 'products', addresses: 'customers',
  lineItems: 'orders', refunds: 'orders', transactions: 'orders', fulfillments: 'orders', shippingLines: 'orders', refundLineItems: 'orders',
} as const;

/** Id bases ending at {@link MAX_ID}: record `count − 1` of each resource has it, children end just below it. */
function topBases(counts: Record<ResourceName, number>): Record<keyof typeof ID_BASES.big, bigint> {
  const out = {} as Record<keyof typeof ID_BASES.big, bigint>;
  for (const kind of Object.keys(ID_BASES.big) as Array<keyof typeof ID_BASES.big>) {
    out[kind] = kind in CHILD_OF
      ? MAX_ID - BigInt(Math.max(1, counts[CHILD_OF[kind as keyof typeof CHILD_OF]])) * CHILD_STRIDE
      : MAX_ID - BigInt(Math.max(1, counts[kind as ResourceName]) - 1) * ID_STRIDE;
  }
  return out;
}

/** Gap between consecutive top-level ids (Shopify ids are sparse and increase with creation time). */
export const ID_STRIDE = 1000n;
/** Child ids: parent index × CHILD_STRIDE + position. */
const CHILD_STRIDE = 16n;

const RESOURCE_CODE: Record<ResourceName, number> = { customers: 1, products: 2, orders: 3 };
const STREAM = { record: 1, status: 2, times: 3, productShape: 4 } as const;

/** Base records are spread over this window, oldest first (fixed, so the same seed gives the same times). */
export const BASE_START_MS = Date.UTC(2024, 0, 1, 5, 0, 0);
const BASE_SPAN_MS = 500 * 86_400_000;

const FIRST_NAMES = ['Bob', 'Alice', 'Léon', 'Noël', 'Maria', 'Ahmed', 'Yuki', 'Olga', 'Chen', 'Priya', 'Lucas', 'Emma', 'Kwame', 'Sofia', 'Mateo', 'Zoë', 'Jean-Luc', "O'Brien", 'Ana', 'Liam'];
const LAST_NAMES = ['Norman', 'Biller', 'Müller', 'García', 'Nakamura', 'Ivanova', 'Smith', 'Okafor', 'Dubois', 'Rossi', 'Kowalski', 'Nguyen', 'Johansson', 'Silva', 'Khan', 'Brown', "D'Angelo", 'Lee', 'Haddad', 'Cohen'];
const CITIES = [
  { city: 'Louisville', province: 'Kentucky', province_code: 'KY', zip: '40202', country: 'United States', country_code: 'US' },
  { city: 'Ottawa', province: 'Ontario', province_code: 'ON', zip: 'K2P 1L4', country: 'Canada', country_code: 'CA' },
  { city: 'Austin', province: 'Texas', province_code: 'TX', zip: '78701', country: 'United States', country_code: 'US' },
  { city: 'Berlin', province: null, province_code: null, zip: '10115', country: 'Germany', country_code: 'DE' },
  { city: 'Paris', province: null, province_code: null, zip: '75001', country: 'France', country_code: 'FR' },
  { city: 'Portland', province: 'Oregon', province_code: 'OR', zip: '97205', country: 'United States', country_code: 'US' },
];
const STREETS = ['Chestnut Street', 'Elgin Street', 'Main Street', 'Rue de Rivoli', 'Unter den Linden', 'Oak Avenue', 'Pine Road'];
const ADJECTIVES = ['Classic', 'Organic', 'Vintage', 'Premium', 'Handmade', 'Eco', 'Deluxe', 'Minimal', 'Rugged', 'Cozy'];
const NOUNS = ['T-Shirt', 'Mug', 'Backpack', 'Sneakers', 'Candle', 'Notebook', 'Hoodie', 'Water Bottle', 'Lamp', 'Scarf'];
const VENDORS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli'];
const SIZES = ['Small', 'Medium', 'Large', 'XL'];
const TAGS = ['vip', 'wholesale', 'newsletter', 'returning', 'gift', 'sale', 'summer', 'eco'];
const GATEWAYS = ['shopify_payments', 'bogus', 'manual', 'paypal'];

/** Options of one shop's generator. */
export interface GeneratorOptions {
  seed: number;
  /** 0-based shop number within the simulator (shops of one seed differ by this). */
  shopNumber: number;
  /** Counts of base (seeded) records, used to link orders to customers and products. */
  counts: Record<ResourceName, number>;
  bigIds: boolean;
  /**
   * Ids at the top of PostgreSQL's `bigint` (implies `bigIds`): the last seeded record of each
   * resource has id 2^63 − 1 and every child id is just below it. Records created later would pass
   * it, so a shop with top ids is for reading only.
   */
  topIds?: boolean;
  currency?: string;
  domain: string;
}

/** Order status derived cheaply (without building the order), so filters and counts can scan fast. */
export const OrderState = { Open: 0, Closed: 1, Cancelled: 2 } as const;
export type OrderState = (typeof OrderState)[keyof typeof OrderState];

function money(cents: number): string {
  return (cents / 100).toFixed(2);
}

function moneySet(cents: number, currency: string): JsonObject {
  const amount = money(cents);
  return { shop_money: { amount, currency_code: currency }, presentment_money: { amount, currency_code: currency } };
}

function slug(s: string): string {
  return s.toLowerCase().normalize('NFD').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

function hex(r: Random, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 16).toString(16);
  return s;
}

/**
 * Creates the record generator of one shop.
 *
 * @example
 * ```ts
 * const gen = createGenerator({ seed: 1, shopNumber: 0, counts: { customers: 10, products: 5, orders: 100 }, bigIds: false, domain: 'a.myshopify.com' });
 * gen.order(0).id === gen.idOf('orders', 0) // true
 * ```
 */
export function createGenerator(options: GeneratorOptions) {
  const { seed, shopNumber, counts, domain } = options;
  const bigIds = options.bigIds || options.topIds === true;
  const currency = options.currency ?? 'USD';
  const bases: Record<keyof typeof ID_BASES.big, bigint> = options.topIds ? topBases(counts) : bigIds ? ID_BASES.big : ID_BASES.normal;
  const intervals: Record<ResourceName, number> = {
    customers: interval(counts.customers),
    products: interval(counts.products),
    orders: interval(counts.orders),
  };

  function interval(count: number): number {
    // At least 2 s so created_at and updated_at (whole seconds) stay strictly increasing with the index.
    return Math.max(2000, Math.floor(BASE_SPAN_MS / Math.max(1, count) / 1000) * 1000);
  }

  /** An id as JSON wants it: `number` when exact, `bigint` beyond 2^53 (written exactly by stringifyShopifyJson). */
  function out(id: bigint): number | bigint {
    return bigIds ? id : Number(id);
  }

  function rngFor(resource: ResourceName, stream: number, i: number): Random {
    return createRandom(combine(seed, shopNumber, RESOURCE_CODE[resource], stream, i));
  }

  function idOf(resource: ResourceName, index: number): bigint {
    return bases[resource] + BigInt(index) * ID_STRIDE;
  }

  /** The index of an id, or -1 when the id is not in this shop's id space. */
  function indexOf(resource: ResourceName, id: bigint): number {
    const d = id - bases[resource];
    if (d < 0n || d % ID_STRIDE !== 0n) return -1;
    const i = d / ID_STRIDE;
    return i > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(i);
  }

  function child(kind: keyof typeof bases, parentIndex: number, position: number): number | bigint {
    return out(bases[kind] + BigInt(parentIndex) * CHILD_STRIDE + BigInt(position));
  }

  /** created_at of base record i (ms): increasing with i. */
  function createdAtMs(resource: ResourceName, i: number): number {
    const iv = intervals[resource];
    const jitter = Math.floor(unitAt(seed, shopNumber, RESOURCE_CODE[resource], STREAM.times, i) * (iv / 2000)) * 1000;
    return BASE_START_MS + i * iv + jitter;
  }

  /** updated_at of base record i (ms): in [created_at, next record's window), so also increasing with i. */
  function updatedAtMs(resource: ResourceName, i: number): number {
    const iv = intervals[resource];
    const extra = Math.floor(unitAt(seed, shopNumber, RESOURCE_CODE[resource], STREAM.times, i, 7) * (iv / 2000)) * 1000;
    return BASE_START_MS + i * iv + Math.floor(iv / 2000) * 1000 + extra;
  }

  function orderState(i: number): OrderState {
    const u = unitAt(seed, shopNumber, 3, STREAM.status, i);
    return u < 0.05 ? OrderState.Cancelled : u < 0.35 ? OrderState.Closed : OrderState.Open;
  }

  function personName(r: Random): { first: string; last: string } {
    return { first: pick(r, FIRST_NAMES), last: pick(r, LAST_NAMES) };
  }

  function address(r: Random, first: string, last: string, phone: string | null): JsonObject {
    const place = pick(r, CITIES);
    return {
      first_name: first, last_name: last, company: r() < 0.2 ? `${pick(r, LAST_NAMES)} Ltd` : null,
      address1: `${pick(r, STREETS)} ${intBetween(r, 1, 200)}`, address2: r() < 0.3 ? `Apt ${intBetween(r, 1, 40)}` : '',
      city: place.city, province: place.province, country: place.country, zip: place.zip, phone,
      name: `${first} ${last}`, province_code: place.province_code, country_code: place.country_code, country_name: place.country,
    };
  }

  function customerPhone(i: number): string {
    return `+1613555${String(i % 10_000).padStart(4, '0')}`;
  }

  function customerIdentity(i: number) {
    const r = rngFor('customers', STREAM.record, i);
    const { first, last } = personName(r);
    const email = `${slug(first)}.${slug(last)}.${i}@example.com`;
    return { r, first, last, email };
  }

  /** A customer as `GET /customers.json` returns it. */
  function customer(i: number, times?: { created: number; updated: number }): JsonObject {
    const { r, first, last, email } = customerIdentity(i);
    const id = idOf('customers', i);
    const created = times?.created ?? createdAtMs('customers', i);
    const updated = times?.updated ?? updatedAtMs('customers', i);
    const phone = r() < 0.7 ? customerPhone(i) : null;
    const nAddresses = intBetween(r, 0, 2);
    const addresses: JsonObject[] = [];
    for (let k = 0; k < nAddresses; k++) {
      addresses.push({ id: child('addresses', i, k), customer_id: out(id), ...address(r, first, last, phone), default: k === 0 });
    }
    const ordersCount = intBetween(r, 0, 12);
    const marketing = r() < 0.4 ? 'subscribed' : 'not_subscribed';
    return {
      id: out(id), email, created_at: formatShopTime(created), updated_at: formatShopTime(updated),
      first_name: first, last_name: last, orders_count: ordersCount, state: r() < 0.8 ? 'enabled' : 'disabled',
      total_spent: money(ordersCount * intBetween(r, 1500, 9000)), last_order_id: null,
      note: r() < 0.1 ? 'This customer loves ice cream' : null, verified_email: r() < 0.9, multipass_identifier: null,
      tax_exempt: r() < 0.05, tags: r() < 0.5 ? [pick(r, TAGS), pick(r, TAGS)].filter((t, k, a) => a.indexOf(t) === k).join(', ') : '',
      last_order_name: null, currency, phone, addresses, tax_exemptions: [],
      email_marketing_consent: { state: marketing, opt_in_level: 'single_opt_in', consent_updated_at: formatShopTime(created) },
      sms_marketing_consent: phone ? { state: 'not_subscribed', opt_in_level: 'single_opt_in', consent_updated_at: null, consent_collected_from: 'OTHER' } : null,
      admin_graphql_api_id: `gid://shopify/Customer/${id}`,
      default_address: addresses[0] ?? null,
    };
  }

  /** Cheap facts about product p that orders need (variant count and prices) without building it. */
  function productShape(p: number) {
    const r = rngFor('products', STREAM.productShape, p);
    const title = `${pick(r, ADJECTIVES)} ${pick(r, NOUNS)}`;
    const variantCount = intBetween(r, 1, 4);
    const basePrice = intBetween(r, 5, 120) * 100 - (r() < 0.7 ? 1 : 0);
    const vendor = pick(r, VENDORS);
    return {
      /** Product title. */
      title,
      /** How many variants it has. */
      variantCount,
      /** Price of its first variant, in cents. */
      basePrice,
      /** Vendor name. */
      vendor,
    };
  }

  function variantPrice(p: number, v: number): number {
    return productShape(p).basePrice + v * 200;
  }

  /** A product as `GET /products.json` returns it. */
  function product(i: number, times?: { created: number; updated: number }): JsonObject {
    const shape = productShape(i);
    const r = rngFor('products', STREAM.record, i);
    const id = idOf('products', i);
    const created = times?.created ?? createdAtMs('products', i);
    const updated = times?.updated ?? updatedAtMs('products', i);
    const handle = `${slug(shape.title)}-${i}`;
    const variants: JsonObject[] = [];
    const multi = shape.variantCount > 1;
    const imageCount = intBetween(r, 0, 2);
    const images: JsonObject[] = [];
    for (let k = 0; k < imageCount; k++) {
      images.push({
        id: child('images', i, k), alt: k === 0 ? shape.title : null, position: k + 1, product_id: out(id),
        created_at: formatShopTime(created), updated_at: formatShopTime(updated), admin_graphql_api_id: `gid://shopify/ProductImage/${child('images', i, k)}`,
        width: 1024, height: 1024, src: `https://cdn.shopify.com/s/files/1/0000/0001/products/${handle}-${k + 1}.jpg`, variant_ids: [],
      });
    }
    for (let v = 0; v < shape.variantCount; v++) {
      const vid = child('variants', i, v);
      const price = variantPrice(i, v);
      const qty = intBetween(r, 0, 200);
      variants.push({
        id: vid, product_id: out(id), title: multi ? SIZES[v] : 'Default Title', price: money(price), position: v + 1,
        inventory_policy: 'deny', compare_at_price: r() < 0.3 ? money(price + 500) : null,
        option1: multi ? SIZES[v] : 'Default Title', option2: null, option3: null,
        created_at: formatShopTime(created), updated_at: formatShopTime(updated), taxable: true,
        barcode: r() < 0.5 ? String(400_000_000_000 + i * 10 + v) : null, fulfillment_service: 'manual', grams: intBetween(r, 50, 2000),
        inventory_management: 'shopify', requires_shipping: true, sku: `${handle.toUpperCase().slice(0, 12)}-${v + 1}`,
        weight: 0.2, weight_unit: 'kg', inventory_item_id: child('inventoryItems', i, v), inventory_quantity: qty, old_inventory_quantity: qty,
        image_id: images[0] && v === 0 ? images[0].id : null,
        admin_graphql_api_id: `gid://shopify/ProductVariant/${vid}`,
      });
    }
    const status = r() < 0.85 ? 'active' : r() < 0.5 ? 'draft' : 'archived';
    return {
      id: out(id), title: shape.title, body_html: `<p>A ${shape.title.toLowerCase()} by ${shape.vendor}.</p>`, vendor: shape.vendor,
      product_type: shape.title.split(' ').pop(), created_at: formatShopTime(created), handle, updated_at: formatShopTime(updated),
      published_at: status === 'active' ? formatShopTime(created) : null, template_suffix: null, published_scope: 'web',
      tags: [pick(r, TAGS), pick(r, TAGS)].filter((t, k, a) => a.indexOf(t) === k).join(', '), status,
      admin_graphql_api_id: `gid://shopify/Product/${id}`, variants,
      options: [{ id: child('options', i, 0), product_id: out(id), name: multi ? 'Size' : 'Title', position: 1, values: variants.map((v) => v.option1) }],
      images, image: images[0] ?? null,
    };
  }

  /** Order number (Shopify's `number`, 1-based; `order_number` adds 1000). */
  function orderNumber(i: number): number {
    return i + 1;
  }

  /** An order as `GET /orders.json` returns it, with line items, refunds, fulfillments, transactions and the customer. */
  function order(i: number, times?: { created: number; updated: number }, customerOverride?: (index: number) => JsonObject | null): JsonObject {
    const r = rngFor('orders', STREAM.record, i);
    const id = idOf('orders', i);
    const oid = out(id);
    const created = times?.created ?? createdAtMs('orders', i);
    const updated = times?.updated ?? updatedAtMs('orders', i);
    const processed = created;
    const state = orderState(i);
    const number = orderNumber(i);
    const name = `#${number + 1000}`;
    // Customers sign up over the same window as orders, so an order links to a customer created before it.
    const knownCustomers = Math.max(1, Math.min(counts.customers, Math.ceil(((i + 1) / Math.max(1, counts.orders)) * counts.customers)));
    const customerIndex = counts.customers > 0 && r() < 0.9 ? Math.floor(r() * knownCustomers) : -1;
    const customerObj = customerIndex >= 0 ? (customerOverride ? customerOverride(customerIndex) : customer(customerIndex)) : null;
    const ident = customerIndex >= 0 ? customerIdentity(customerIndex) : { first: 'Guest', last: 'Buyer', email: `guest.${i}@example.com`, r };
    const email = (customerObj?.email as string | undefined) ?? ident.email;
    const phone = r() < 0.3 ? customerPhone(i) : null;

    const nLines = counts.products > 0 ? intBetween(r, 1, 4) : 0;
    const lineItems: JsonObject[] = [];
    let subtotal = 0;
    let totalQty = 0;
    for (let k = 0; k < nLines; k++) {
      const p = Math.floor(r() * counts.products);
      const shape = productShape(p);
      const v = Math.floor(r() * shape.variantCount);
      const unit = variantPrice(p, v);
      const qty = intBetween(r, 1, 3);
      subtotal += unit * qty;
      totalQty += qty;
      const lid = child('lineItems', i, k);
      lineItems.push({
        id: lid, admin_graphql_api_id: `gid://shopify/LineItem/${lid}`, attributed_staffs: [], current_quantity: qty,
        fulfillable_quantity: state === OrderState.Open ? qty : 0, fulfillment_service: 'manual',
        fulfillment_status: state === OrderState.Closed ? 'fulfilled' : null, gift_card: false, grams: 200,
        name: shape.variantCount > 1 ? `${shape.title} - ${SIZES[v]}` : shape.title, price: money(unit), price_set: moneySet(unit, currency),
        product_exists: true, product_id: out(idOf('products', p)), properties: [], quantity: qty, requires_shipping: true,
        sku: `${slug(shape.title).toUpperCase().slice(0, 12)}-${v + 1}`, taxable: true, title: shape.title,
        total_discount: '0.00', total_discount_set: moneySet(0, currency), variant_id: child('variants', p, v),
        variant_inventory_management: 'shopify', variant_title: shape.variantCount > 1 ? SIZES[v] : null, vendor: shape.vendor,
        tax_lines: [{ channel_liable: false, price: money(Math.round(unit * qty * 0.06)), price_set: moneySet(Math.round(unit * qty * 0.06), currency), rate: 0.06, title: 'State Tax' }],
        duties: [], discount_allocations: [],
      });
    }
    const discount = r() < 0.2 ? Math.min(1000, Math.floor(subtotal / 10)) : 0;
    const tax = Math.round((subtotal - discount) * 0.06);
    const shipping = r() < 0.5 ? 0 : 799;
    const total = subtotal - discount + tax + shipping;

    let financial: string;
    let refundCents = 0;
    if (state === OrderState.Cancelled) financial = r() < 0.5 ? 'voided' : 'refunded';
    else {
      const u = r();
      financial = u < 0.72 ? 'paid' : u < 0.82 ? 'pending' : u < 0.9 ? 'partially_refunded' : u < 0.94 ? 'refunded' : 'authorized';
    }
    if (financial === 'refunded') refundCents = total;
    if (financial === 'partially_refunded') refundCents = Math.max(100, Math.floor(total / 3));
    const fulfillment = state === OrderState.Closed ? 'fulfilled' : state === OrderState.Open && r() < 0.15 ? 'partial' : null;
    const gateway = pick(r, GATEWAYS);

    const transactions: JsonObject[] = [];
    const saleKind = financial === 'authorized' ? 'authorization' : 'sale';
    const paid = financial !== 'pending';
    if (paid) {
      transactions.push(transaction(i, 0, saleKind, total, processed, null, gateway, oid));
      if (financial === 'voided') transactions.push(transaction(i, 1, 'void', 0, processed + 3_600_000, transactions[0].id, gateway, oid));
    }
    const refunds: JsonObject[] = [];
    if (refundCents > 0) {
      const at = Math.min(updated, processed + 86_400_000);
      const rid = child('refunds', i, 0);
      const refundTx = transaction(i, 2, 'refund', refundCents, at, transactions[0]?.id ?? null, gateway, oid);
      const first = lineItems[0];
      refunds.push({
        id: rid, admin_graphql_api_id: `gid://shopify/Refund/${rid}`, created_at: formatShopTime(at), note: 'it broke during shipping',
        order_id: oid, processed_at: formatShopTime(at), restock: true, total_additional_fees_set: moneySet(0, currency),
        total_duties_set: moneySet(0, currency), user_id: null, order_adjustments: [], transactions: [refundTx],
        refund_line_items: first ? [{
          id: child('refundLineItems', i, 0), line_item_id: first.id, location_id: null, quantity: 1, restock_type: 'return',
          subtotal: Number(first.price), subtotal_set: moneySet(Math.round(Number(first.price) * 100), currency),
          total_tax: 0, total_tax_set: moneySet(0, currency), line_item: first,
        }] : [],
      });
    }
    const fulfillments: JsonObject[] = [];
    if (fulfillment) {
      const at = Math.min(updated, processed + 2 * 86_400_000);
      const fid = child('fulfillments', i, 0);
      const tracking = `1Z${String(100_000_000 + (i % 900_000_000)).padStart(16, '0')}`;
      const shipped = fulfillment === 'fulfilled' ? lineItems : lineItems.slice(0, 1);
      fulfillments.push({
        id: fid, admin_graphql_api_id: `gid://shopify/Fulfillment/${fid}`, created_at: formatShopTime(at), location_id: null,
        name: `${name}.1`, order_id: oid, origin_address: {}, receipt: {}, service: 'manual', shipment_status: null,
        status: 'success', tracking_company: 'UPS', tracking_number: tracking, tracking_numbers: [tracking],
        tracking_url: `https://www.ups.com/track?tracknum=${tracking}`, tracking_urls: [`https://www.ups.com/track?tracknum=${tracking}`],
        updated_at: formatShopTime(at), line_items: shipped,
      });
    }
    const addr = address(r, ident.first, ident.last, phone);
    const cancelledAt = state === OrderState.Cancelled ? formatShopTime(Math.min(updated, created + 3_600_000)) : null;
    const closedAt = state !== OrderState.Open ? formatShopTime(updated) : null;
    const token = hex(r, 32);
    const current = total - refundCents;
    return {
      id: oid, admin_graphql_api_id: `gid://shopify/Order/${id}`, app_id: 580111, browser_ip: `203.0.113.${i % 250}`,
      buyer_accepts_marketing: r() < 0.4, cancel_reason: cancelledAt ? pick(r, ['customer', 'inventory', 'fraud', 'other']) : null,
      cancelled_at: cancelledAt, cart_token: hex(r, 32), checkout_id: out(idOf('orders', i) + 1n), checkout_token: hex(r, 32),
      client_details: { accept_language: 'en-US', browser_height: null, browser_ip: `203.0.113.${i % 250}`, browser_width: null, session_hash: null, user_agent: 'Mozilla/5.0' },
      closed_at: closedAt, confirmation_number: hex(r, 9).toUpperCase(), confirmed: true, contact_email: email,
      created_at: formatShopTime(created), currency, current_subtotal_price: money(subtotal - discount), current_subtotal_price_set: moneySet(subtotal - discount, currency),
      current_total_additional_fees_set: null, current_total_discounts: money(discount), current_total_discounts_set: moneySet(discount, currency),
      current_total_duties_set: null, current_total_price: money(current), current_total_price_set: moneySet(current, currency),
      current_total_tax: money(tax), current_total_tax_set: moneySet(tax, currency), customer_locale: 'en', device_id: null,
      discount_codes: discount ? [{ code: 'TENOFF', amount: money(discount), type: 'fixed_amount' }] : [], duties_included: false,
      email, estimated_taxes: false, financial_status: financial, fulfillment_status: fulfillment, landing_site: '/', landing_site_ref: null,
      location_id: null, merchant_business_entity_id: 'MTU0ODM4MDAwOQ', merchant_of_record_app_id: null, name, note: r() < 0.1 ? 'Please gift wrap' : null,
      note_attributes: [], number, order_number: number + 1000,
      order_status_url: `https://${domain}/548380009/orders/${token}/authenticate?key=${hex(r, 12)}`,
      original_total_additional_fees_set: null, original_total_duties_set: null, payment_gateway_names: paid ? [gateway] : [],
      phone, po_number: null, presentment_currency: currency, processed_at: formatShopTime(processed), reference: null,
      referring_site: r() < 0.3 ? 'https://www.google.com/' : null, source_identifier: null, source_name: 'web', source_url: null,
      subtotal_price: money(subtotal - discount), subtotal_price_set: moneySet(subtotal - discount, currency),
      tags: r() < 0.2 ? pick(r, TAGS) : '', tax_exempt: false,
      tax_lines: tax ? [{ price: money(tax), rate: 0.06, title: 'State Tax', price_set: moneySet(tax, currency), channel_liable: false }] : [],
      taxes_included: false, test: false, token, total_cash_rounding_payment_adjustment_set: moneySet(0, currency),
      total_cash_rounding_refund_adjustment_set: moneySet(0, currency), total_discounts: money(discount), total_discounts_set: moneySet(discount, currency),
      total_line_items_price: money(subtotal), total_line_items_price_set: moneySet(subtotal, currency),
      total_outstanding: money(paid ? 0 : total), total_price: money(total), total_price_set: moneySet(total, currency),
      total_shipping_price_set: moneySet(shipping, currency), total_tax: money(tax), total_tax_set: moneySet(tax, currency),
      total_tip_received: '0.00', total_weight: totalQty * 200, updated_at: formatShopTime(updated), user_id: null,
      billing_address: addr, customer: customerObj ? orderCustomer(customerObj) : null,
      discount_applications: discount ? [{ target_type: 'line_item', type: 'discount_code', value: money(discount), value_type: 'fixed_amount', allocation_method: 'across', target_selection: 'all', code: 'TENOFF' }] : [],
      fulfillments, line_items: lineItems, payment_terms: null, refunds, shipping_address: lineItems.length ? addr : null,
      shipping_lines: [{
        id: child('shippingLines', i, 0), carrier_identifier: null, code: shipping ? 'Standard' : 'Free Shipping',
        discounted_price: money(shipping), discounted_price_set: moneySet(shipping, currency), is_removed: false, phone: null,
        price: money(shipping), price_set: moneySet(shipping, currency), requested_fulfillment_service_id: null, source: 'shopify',
        title: shipping ? 'Standard' : 'Free Shipping', tax_lines: [], discount_allocations: [],
      }],
      transactions,
    };
  }

  function transaction(i: number, k: number, kind: string, cents: number, at: number, parent: unknown, gateway: string, orderId: unknown): JsonObject {
    const tid = child('transactions', i, k);
    return {
      id: tid, admin_graphql_api_id: `gid://shopify/OrderTransaction/${tid}`, amount: money(cents), authorization: `auth-${i}-${k}`,
      created_at: formatShopTime(at), currency, device_id: null, error_code: null, gateway, kind, location_id: null, message: null,
      order_id: orderId, parent_id: parent, payment_id: `#${orderNumber(i) + 1000}.${k + 1}`, processed_at: formatShopTime(at), receipt: {},
      source_name: 'web', status: 'success', test: false, user_id: null,
    };
  }

  /** The customer object embedded in an order (REST shape: no addresses list, a default_address). */
  function orderCustomer(c: JsonObject): JsonObject {
    const { addresses: _addresses, orders_count: _oc, total_spent: _ts, last_order_id: _lo, last_order_name: _ln, ...rest } = c;
    return rest;
  }

  return {
    /** Id of seeded record `i` (ids grow with the index). */
    idOf,
    /** Index of a seeded id, or -1. */
    indexOf,
    /** Index of the order a child id (`refunds`, `transactions`, `fulfillments`) was generated for, or -1. */
    orderIndexOfChild: (kind: 'refunds' | 'transactions' | 'fulfillments', id: bigint) => (id < bases[kind] ? -1 : Number((id - bases[kind]) / CHILD_STRIDE)),
    /** Seeded creation time of record `i` (epoch ms). */
    createdAtMs,
    /** Seeded update time of record `i` (epoch ms). */
    updatedAtMs,
    /** Seeded payment/fulfilment/cancellation state of order `i`. */
    orderState,
    /** Builds customer `i` (REST shape). */
    customer,
    /** Builds product `i` with its variants. */
    product,
    /** Builds order `i` with line items, transactions, fulfillments and refunds. */
    order,
    /** Title, variant count, base price and vendor of product `i`. */
    productShape,
    /** Seeded spacing of records in time, per resource. */
    intervals,
    /** Whether ids exceed 2^53. */
    bigIds,
    /** Shop currency. */
    currency,
    /** The shop. */
    domain,
    /** Builds record `i` of `resource`. */
    build(resource: ResourceName, i: number, times?: { created: number; updated: number }, customerLookup?: (index: number) => JsonObject | null): JsonObject {
      return resource === 'customers' ? customer(i, times) : resource === 'products' ? product(i, times) : order(i, times, customerLookup);
    },
  };
}

export type Generator = ReturnType<typeof createGenerator>;
