/**
 * One simulated shop: its data tables, deletion events, webhook subscriptions, rate-limit buckets
 * and the mutation API tests use to change it. Changes are reported to `onChange` so the
 * simulator can deliver the matching webhooks.
 */
import { createGenerator, ID_STRIDE, type JsonObject, type ResourceName } from './generator.js';
import { createResourceTable, type ResourceTable } from './resource-table.js';
import { createCostBucket, createLeakyBucket, type CostBucket, type LeakyBucket } from './leaky-bucket.js';
import { formatShopTime, type Clock } from './clock.js';
import { hashString, createRandom } from './prng.js';
import { ShopifyIngestError } from '../errors.js';
import { createStock } from './stock.js';
import { createMetafields } from './metafields.js';
import { createDiscounts } from './discounts.js';
import { createDrafts } from './drafts.js';

/** Webhook topics the simulator emits (REST names). https://shopify.dev/docs/api/webhooks */
export type WebhookTopic =
  | 'customers/create' | 'customers/update' | 'customers/delete'
  | 'products/create' | 'products/update' | 'products/delete'
  | 'orders/create' | 'orders/updated' | 'orders/delete' | 'orders/paid' | 'orders/cancelled' | 'orders/fulfilled'
  | 'bulk_operations/finish';

/** A change made through the mutation API. */
export interface ShopChange {
  /** The resource changed. */
  resource: ResourceName;
  /** What happened to it. */
  action: 'create' | 'update' | 'delete';
  /** Its id. */
  id: bigint;
  /** Topics to deliver, in order, with their payloads (delete payloads are `{ id }`). */
  topics: Array<{
    /** Webhook topic. */
    topic: WebhookTopic;
    /** Its body. */
    payload: JsonObject;
  }>;
}

/** A `GET /events.json` record (only deletions and creations are recorded). */
export interface ShopEvent {
  /** Event id. */
  id: number;
  /** Id of the record it is about. */
  subject_id: number | bigint;
  /** When, in the shop's time zone (ISO-8601). */
  created_at: string;
  /** When, in epoch milliseconds (simulator only: for filtering). */
  createdMs: number;
  /** Kind of record. */
  subject_type: 'Order' | 'Product' | 'Customer';
  /** What happened. */
  verb: 'destroy' | 'create';
  /** Shopify's event arguments (the record's title). */
  arguments: string[];
  /** Always null for these verbs. */
  body: null;
  /** Human-readable message. */
  message: string;
  /** Who did it. */
  author: string;
  /** Human-readable description. */
  description: string;
  /** Admin path of the record. */
  path: string;
}

/** A webhook subscription (topic -> address). */
export interface WebhookSubscription {
  /** Subscription id. */
  id: number;
  /** Its topic. */
  topic: WebhookTopic | string;
  /** Where deliveries go. */
  address: string;
  /** When it was created. */
  created_at: string;
  /** When it last changed. */
  updated_at: string;
  /** `json` (REST and the GraphQL default) or `xml`. */
  format: 'json' | 'xml';
  /** Its name (GraphQL `name`, 2026-04+), unique per shop. */
  name?: string | null;
  /** Fields to include (empty: all). */
  fields: string[];
  /** Metafield namespaces to include. */
  metafield_namespaces: string[];
  /** API version of the payloads. */
  api_version: string;
}

/** How a shop is configured. */
export interface ShopConfig {
  /** `*.myshopify.com` domain; default `sim-shop-{n}.myshopify.com`. */
  domain?: string;
  /** Admin API access token; default derived from the seed (`shpat_...`). */
  accessToken?: string;
  /** Shop name as `shop { name }` returns it. */
  name?: string;
  /** Seeded customers (default 20). */
  customers?: number;
  /** Seeded products (default 10). */
  products?: number;
  /** Seeded orders (default 100). */
  orders?: number;
  /** Seeded locations (default 3; every inventory item is stocked at the first and at ~60 % of the others). */
  locations?: number;
  /** Seeded draft orders (default 6; see drafts.ts). */
  draftOrders?: number;
  /** Seeded abandoned checkouts (default 8). */
  abandonedCheckouts?: number;
  /** Serve ids above 2^53 (exact in the JSON text). */
  bigIds?: boolean;
  /**
   * Ids just below 2^63 − 1 (PostgreSQL's largest bigint) for every seeded record, the last
   * customer, product and order at it; implies `bigIds`. Customers, products and orders created
   * afterwards would pass it.
   * @internal
   */
  topIds?: boolean;
  /** Shop currency (default `USD`). */
  currency?: string;
  /** Access scopes granted to the app (`currentAppInstallation.accessScopes`, token responses). */
  scopes?: string[];
  /**
   * The app is approved for protected customer data (default true). False: GraphQL answers with
   * customers' and orders' names, emails, phones and addresses null plus an `ACCESS_DENIED` error
   * per field, and bulk operations selecting them fail with `ACCESS_DENIED`.
   */
  protectedCustomerData?: boolean;
}

/** Scopes a simulated shop grants by default: everything the SDK reads. */
export const DEFAULT_SCOPES = ['read_customers', 'read_products', 'read_orders', 'read_all_orders', 'read_inventory', 'read_locations', 'read_fulfillments', 'read_discounts', 'read_draft_orders'];

/** Rate limits of a shop. */
export interface ShopLimits {
  bucket: { size?: number; leakPerSecond?: number };
  graphql: { maximumAvailable?: number; restoreRate?: number };
  timeScale: number;
}

/** Request counters per shop, for assertions and benchmarks. */
export interface ShopStats {
  /** API requests answered. */
  requests: number;
  /** REST requests. */
  restRequests: number;
  /** GraphQL requests. */
  graphqlRequests: number;
  /** REST 429 responses. */
  throttled: number;
  /** GraphQL THROTTLED answers. */
  graphqlThrottled: number;
  /** Responses per HTTP status. */
  byStatus: Record<number, number>;
  /** Injected faults per kind. */
  faults: Record<string, number>;
}

const RESOURCE_SUBJECT = { customers: 'Customer', products: 'Product', orders: 'Order' } as const;
const SINGULAR = { customers: 'customer', products: 'product', orders: 'order' } as const;

/**
 * Error thrown by the mutation API for an unknown record (code `SIMULATOR_ERROR`).
 *
 * @example
 * ```ts
 * try { shop.update('orders', 1, { note: 'x' }) } catch (e) { if (e instanceof SimulatorError) console.log(e.details) }
 * ```
 */
export class SimulatorError extends ShopifyIngestError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SIMULATOR_ERROR', message, { details });
  }
}

function toBigId(id: number | bigint | string): bigint {
  return typeof id === 'bigint' ? id : BigInt(id);
}

/**
 * Creates one shop. Used by {@link createShopifySimulator}; exported for unit tests.
 *
 * @example
 * ```ts
 * const shop = createShop({ seed: 1, shopNumber: 0, config: { orders: 100 }, limits, clock: Date.now, apiVersion: '2025-01' });
 * shop.update('orders', shop.idOf('orders', 0), { note: 'hi' });
 * ```
 */
export function createShop(init: {
  seed: number;
  shopNumber: number;
  config: ShopConfig;
  limits: ShopLimits;
  clock: Clock;
  apiVersion: string;
  onChange?: (change: ShopChange) => void;
}) {
  const { seed, shopNumber, config, limits, clock } = init;
  const domain = (config.domain ?? `sim-shop-${shopNumber + 1}.myshopify.com`).toLowerCase();
  const tokenRandom = createRandom(hashString(`${seed}:${shopNumber}:${domain}:token`));
  let token = 'shpat_';
  for (let i = 0; i < 32; i++) token += Math.floor(tokenRandom() * 16).toString(16);
  const accessToken = config.accessToken ?? token;
  const counts = {
    /** Seeded customers. */
    customers: config.customers ?? 20,
    /** Seeded products. */
    products: config.products ?? 10,
    /** Seeded orders. */
    orders: config.orders ?? 100,
  };
  const gen = createGenerator({ seed, shopNumber, counts, bigIds: config.bigIds ?? false, topIds: config.topIds, domain, currency: config.currency });
  let onChange = init.onChange;

  const customers = createResourceTable(gen, 'customers', counts.customers);
  const products = createResourceTable(gen, 'products', counts.products);
  const customerLookup = (index: number): JsonObject | null => customers.get(index) ?? null;
  const orders = createResourceTable(gen, 'orders', counts.orders, (index, times) => gen.build('orders', index, times, customerLookup));
  const tables: Record<ResourceName, ResourceTable> = { customers, products, orders };

  const events: ShopEvent[] = [];
  let nextEventId = 164_748_010;
  const subscriptions: WebhookSubscription[] = [];
  let nextSubscriptionId = 901_431_826;

  const bucket: LeakyBucket = createLeakyBucket({ ...limits.bucket, timeScale: limits.timeScale, clock });
  const costBucket: CostBucket = createCostBucket({ ...limits.graphql, timeScale: limits.timeScale, clock });
  const stats: ShopStats = { requests: 0, restRequests: 0, graphqlRequests: 0, throttled: 0, graphqlThrottled: 0, byStatus: {}, faults: {} };

  /** Now, in whole seconds: Shopify's times have no fractions, and filters compare what is shown. */
  const now = () => Math.floor(clock() / 1000) * 1000;

  function outId(id: bigint): number | bigint {
    return gen.bigIds ? id : Number(id);
  }

  function indexFor(resource: ResourceName, id: number | bigint | string): number {
    const index = gen.indexOf(resource, toBigId(id));
    if (index < 0 || !tables[resource].exists(index)) {
      throw new SimulatorError(`no ${SINGULAR[resource]} ${String(id)} in ${domain}`, { resource, id: String(id) });
    }
    return index;
  }

  function recordEvent(resource: ResourceName, verb: 'destroy' | 'create', id: bigint, title: string): void {
    const at = now();
    const subject = RESOURCE_SUBJECT[resource];
    events.push({
      id: nextEventId, subject_id: outId(id), created_at: formatShopTime(at), createdMs: at, subject_type: subject, verb,
      arguments: [title], body: null, message: `${subject} ${title} was ${verb === 'destroy' ? 'deleted' : 'created'}.`,
      author: 'Shopify', description: `${subject} ${title} was ${verb === 'destroy' ? 'deleted' : 'created'}.`,
      path: `/admin/${resource}/${id}`,
    });
    nextEventId += 7;
  }

  function titleOf(resource: ResourceName, record: JsonObject): string {
    if (resource === 'orders') return String(record.name ?? record.id);
    if (resource === 'products') return String(record.title ?? record.id);
    return `${record.first_name ?? ''} ${record.last_name ?? ''}`.trim() || String(record.id);
  }

  function emit(change: ShopChange): void {
    onChange?.(change);
  }

  const updateTopic = (resource: ResourceName): WebhookTopic => (resource === 'orders' ? 'orders/updated' : `${resource}/update` as WebhookTopic);

  /**
   * Shopify's REST amount (`total_price`) and its MoneyBag (`total_price_set`, what GraphQL's
   * `totalPriceSet` reads) are one value: a patch of the amount alone moves the bag's amounts too.
   */
  function syncMoneySets(record: JsonObject, patch: JsonObject): void {
    for (const [key, value] of Object.entries(patch)) {
      const bagKey = `${key}_set`;
      const bag = record[bagKey] as { shop_money?: JsonObject; presentment_money?: JsonObject } | undefined;
      if (bagKey in patch || !bag || typeof bag !== 'object' || (typeof value !== 'string' && typeof value !== 'number')) continue;
      record[bagKey] = {
        ...bag,
        ...(bag.shop_money ? { shop_money: { ...bag.shop_money, amount: String(value) } } : {}),
        ...(bag.presentment_money ? { presentment_money: { ...bag.presentment_money, amount: String(value) } } : {}),
      };
    }
  }

  /** Applies a patch (shallow merge; an amount's MoneyBag follows it) and bumps updated_at; returns the new record. */
  function update(resource: ResourceName, id: number | bigint | string, patch: JsonObject | ((record: JsonObject) => JsonObject), extraTopics: WebhookTopic[] = []): JsonObject {
    const index = indexFor(resource, id);
    const table = tables[resource];
    const current = table.get(index)!;
    const t = now();
    const next = typeof patch === 'function' ? patch(structuredClone(current)) : { ...current, ...patch };
    if (typeof patch !== 'function') syncMoneySets(next, patch);
    next.id = current.id;
    next.updated_at = formatShopTime(t);
    table.replace(index, next, t);
    const topics = [...extraTopics.map((topic) => ({ topic, payload: next })), { topic: updateTopic(resource), payload: next }];
    emit({ resource, action: 'update', id: toBigId(current.id as number | bigint), topics });
    return next;
  }

  return {
    /** The shop, `*.myshopify.com`. */
    domain,
    /** Admin API access token the simulator accepts for this shop. */
    accessToken,
    /** Position among the simulator's shops (0-based). */
    shopNumber,
    /** The seeded data generator. */
    gen,
    /** Records per resource. */
    tables,
    /** `events.json` records (creations and deletions). */
    events,
    /** Webhook subscriptions. */
    subscriptions,
    /** REST leaky bucket. */
    bucket,
    /** GraphQL cost bucket. */
    costBucket,
    /** Request counters. */
    stats,
    /** Shop name. */
    name: config.name ?? `Simulated Shop ${shopNumber + 1}`,
    /** Access scopes the app holds on this shop. */
    scopes: [...(config.scopes ?? DEFAULT_SCOPES)],
    /** Whether the app is approved for protected customer data (names, emails, phones, addresses). */
    protectedCustomerData: config.protectedCustomerData ?? true,
    /** Seeded records per resource. */
    counts,
    /** API version it answers (others are accepted too, like Shopify's fallback). */
    apiVersion: init.apiVersion,
    /** Locations, inventory, collections and the shop's own details (see stock.ts). */
    stock: createStock({ seed, shopNumber, clock, bigIds: gen.bigIds, topIds: config.topIds, currency: gen.currency, domain, name: config.name ?? `Simulated Shop ${shopNumber + 1}`, locations: config.locations, products, events: events as unknown as Array<Record<string, unknown>> }),
    /** Metafields of products, variants, customers, orders, collections and the shop (see metafields.ts). */
    metafields: createMetafields({ seed, shopNumber, clock, topIds: config.topIds }),
    /** Code and automatic discounts with their codes (see discounts.ts). */
    discounts: createDiscounts({ seed, shopNumber, clock, currency: gen.currency, topIds: config.topIds }),
    /** Draft orders and abandoned checkouts (see drafts.ts). */
    drafts: createDrafts({
      seed, shopNumber, clock, bigIds: gen.bigIds, topIds: config.topIds, currency: gen.currency, domain, customers, products, orders, events: events as unknown as Array<Record<string, unknown>>,
      draftOrders: config.draftOrders ?? 6, abandonedCheckouts: config.abandonedCheckouts ?? 8,
    }),
    /** Listener of every change (the simulator delivers webhooks from it). */
    set onChange(fn: ((change: ShopChange) => void) | undefined) { onChange = fn; },

    /** The id of seeded record `index` (ids increase with the index). */
    idOf(resource: ResourceName, index: number): number | bigint {
      return outId(gen.idOf(resource, index));
    },

    /** The current record with this id, or undefined. */
    find(resource: ResourceName, id: number | bigint | string): JsonObject | undefined {
      const index = gen.indexOf(resource, toBigId(id));
      return index < 0 ? undefined : tables[resource].get(index);
    },

    /**
     * Creates a record: a fresh seeded one merged with `data`, with a new (larger) id and
     * created_at = updated_at = now. Emits `{resource}/create` (and `orders/paid` for paid orders).
     */
    create(resource: ResourceName, data: JsonObject = {}): JsonObject {
      // Identity and times stay the simulator's, whatever `data` says.
      const { id: _id, admin_graphql_api_id: _gid, created_at: _c, updated_at: _u, ...fields } = data;
      const { record } = tables[resource].create(now(), fields);
      const id = toBigId(record.id as number | bigint);
      recordEvent(resource, 'create', id, titleOf(resource, record));
      const topics: ShopChange['topics'] = [{ topic: `${resource}/create` as WebhookTopic, payload: record }];
      if (resource === 'orders' && record.financial_status === 'paid') topics.push({ topic: 'orders/paid', payload: record });
      emit({ resource, action: 'create', id, topics });
      return record;
    },

    /**
     * Updates a record: `patch` merged in (or a function of the record), updated_at = now. Emits
     * `{resource}/update` (`orders/updated`) plus `extraTopics`.
     */
    update,

    /** Deletes a record: later reads 404, listings skip it, `events.json` records a `destroy`. Emits `{resource}/delete` with `{ id }`. */
    delete(resource: ResourceName, id: number | bigint | string): void {
      const index = indexFor(resource, id);
      const record = tables[resource].get(index)!;
      tables[resource].remove(index, now());
      const big = toBigId(record.id as number | bigint);
      recordEvent(resource, 'destroy', big, titleOf(resource, record));
      emit({ resource, action: 'delete', id: big, topics: [{ topic: `${resource}/delete` as WebhookTopic, payload: { id: record.id } }] });
    },

    /** Cancels an order (cancelled_at, closed_at, financial_status voided); emits orders/cancelled + orders/updated. */
    cancelOrder(id: number | bigint | string, reason = 'customer'): JsonObject {
      const t = formatShopTime(now());
      return update('orders', id, (o) => ({ ...o, cancelled_at: t, closed_at: t, cancel_reason: reason, financial_status: o.financial_status === 'paid' ? 'refunded' : 'voided' }), ['orders/cancelled']);
    },

    /** Marks an order paid; emits orders/paid + orders/updated. */
    markOrderPaid(id: number | bigint | string): JsonObject {
      return update('orders', id, (o) => ({ ...o, financial_status: 'paid', total_outstanding: '0.00' }), ['orders/paid']);
    },

    /** Fulfills every line item of an order; emits orders/fulfilled + orders/updated. */
    fulfillOrder(id: number | bigint | string): JsonObject {
      return update('orders', id, (o) => ({
        ...o, fulfillment_status: 'fulfilled',
        line_items: (o.line_items as JsonObject[]).map((li) => ({ ...li, fulfillment_status: 'fulfilled', fulfillable_quantity: 0 })),
      }), ['orders/fulfilled']);
    },

    /** Subscribes `address` to `topic` (like `POST /webhooks.json`). */
    subscribe(topic: WebhookTopic | string, address: string): WebhookSubscription {
      const at = formatShopTime(now());
      const sub: WebhookSubscription = {
        id: nextSubscriptionId, topic, address, created_at: at, updated_at: at, format: 'json', fields: [], metafield_namespaces: [], api_version: init.apiVersion,
      };
      nextSubscriptionId += 13;
      subscriptions.push(sub);
      return sub;
    },

    /** Removes a webhook subscription; false when there was none with that id. */
    unsubscribe(subscriptionId: number): boolean {
      const k = subscriptions.findIndex((s) => s.id === subscriptionId);
      if (k >= 0) subscriptions.splice(k, 1);
      return k >= 0;
    },

    /** Index of the first record with id > `id` minus one (for since_id and cursors). */
    afterIndexOf(resource: ResourceName, id: bigint): number {
      const base = gen.idOf(resource, 0);
      if (id < base) return -1;
      const k = (id - base) / ID_STRIDE;
      return k > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(k);
    },

    /** Index of the first record with id >= `id` (for `prev` cursors). */
    beforeIndexOf(resource: ResourceName, id: bigint): number {
      const base = gen.idOf(resource, 0);
      if (id <= base) return 0;
      const d = id - base;
      const k = d / ID_STRIDE + (d % ID_STRIDE === 0n ? 0n : 1n);
      return k > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(k);
    },
  };
}

/**
 * One simulated store: its data, rate limits, events and webhook subscriptions, and the mutation API that changes them (emitting webhooks).
 */
export type SimulatedShop = ReturnType<typeof createShop>;
