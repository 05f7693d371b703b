/**
 * The simulator's stock and catalogue: locations, inventory items (one per seeded variant) with
 * their levels per location, collections (custom and smart) and the shop's own details, written
 * from Shopify's 2026-10 documentation (not from the SDK's registry). Small by design: a shop has
 * a handful of locations and collections, and one inventory item per variant of its seeded products.
 *
 * What it models that syncs depend on:
 * - `locations(includeInactive:, includeLegacy:)`: deactivated locations only when asked for;
 *   the search understands `created_at` only, as Shopify's does (no `updated_at` filter).
 * - A level's quantities change (`adjustQuantity`) without its item's `updatedAt` moving, and a
 *   smart collection's products follow the products' tags without its `updatedAt` moving.
 * - `inventoryLevels` lists active levels: a disconnected level is gone.
 * - Webhooks with REST-shaped bodies: `inventory_levels/update|connect|disconnect` (`inventory_item_id`,
 *   `location_id`, `available`, `updated_at`), `inventory_items/*`, `locations/*`, `collections/*`
 *   (no products in the body), `shop/update`.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/InventoryLevel
 * https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics
 */
import { formatShopTime } from './clock.js';
import { MAX_ID, type JsonObject } from './generator.js';
import { ConnectionSource } from './graphql-nodes.js';
import { createRandom, hashString, intBetween, pick } from './prng.js';
import type { ResourceTable } from './resource-table.js';

/** Shopify's inventory states (`quantities(names:)`). */
export const INVENTORY_STATES = ['available', 'on_hand', 'committed', 'incoming', 'reserved', 'damaged', 'safety_stock', 'quality_control'] as const;
/** One of {@link INVENTORY_STATES}. */
export type InventoryState = (typeof INVENTORY_STATES)[number];

interface Location {
  id: bigint; name: string; active: boolean; fulfillsOnline: boolean; address1: string; city: string; province: string | null;
  provinceCode: string | null; country: string; countryCode: string; zip: string; phone: string | null;
  createdMs: number; updatedMs: number; deactivatedMs: number | null; deleted: boolean;
}
interface Item {
  id: bigint; sku: string | null; tracked: boolean; cost: string | null; requiresShipping: boolean; origin: string | null;
  variantId: bigint; createdMs: number; updatedMs: number; deleted: boolean;
}
interface Level { itemId: bigint; locationId: bigint; number: number; quantities: Record<InventoryState, number>; createdMs: number; updatedMs: number }
interface Collection {
  id: bigint; title: string; handle: string; sortOrder: string; rules: Array<{ column: string; relation: string; condition: string }> | null;
  disjunctive: boolean; members: bigint[]; updatedMs: number; deleted: boolean;
}

const PLACES = [
  { city: 'Louisville', province: 'Kentucky', provinceCode: 'KY', zip: '40202', country: 'United States', countryCode: 'US' },
  { city: 'Ottawa', province: 'Ontario', provinceCode: 'ON', zip: 'K2P 1L4', country: 'Canada', countryCode: 'CA' },
  { city: 'Berlin', province: null, provinceCode: null, zip: '10115', country: 'Germany', countryCode: 'DE' },
  { city: 'Austin', province: 'Texas', provinceCode: 'TX', zip: '78701', country: 'United States', countryCode: 'US' },
  { city: 'Paris', province: null, provinceCode: null, zip: '75001', country: 'France', countryCode: 'FR' },
];
const ORIGINS = ['US', 'CN', 'DE', 'PT', 'VN', null];
const TAGS = ['vip', 'wholesale', 'newsletter', 'returning', 'gift', 'sale', 'summer', 'eco'];
const DAY = 86_400_000;
const STOCK_START_MS = Date.UTC(2024, 0, 1, 5, 0, 0);

const utc = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const gid = (type: string, id: bigint) => `gid://shopify/${type}/${id}`;

/** A `query:` search's time bounds (`updated_at`, `created_at`; quoted values; inclusive, as the SDK treats them). */
function timeBounds(query: unknown, field: 'updated_at' | 'created_at'): { min: number; max: number } {
  const out = { min: -Infinity, max: Infinity };
  if (typeof query !== 'string') return out;
  for (const m of query.matchAll(new RegExp(`${field}:(>=|<=|>|<)?'?([^'\\s]+)'?`, 'g'))) {
    const ms = Date.parse(m[2]);
    if (Number.isNaN(ms)) continue;
    if (m[1] === '>=' || m[1] === '>') out.min = Math.max(out.min, m[1] === '>' ? ms + 1 : ms);
    else if (m[1] === '<=' || m[1] === '<') out.max = Math.min(out.max, m[1] === '<' ? ms - 1 : ms);
  }
  return out;
}

/**
 * Creates the stock of one shop.
 *
 * @example
 * ```ts
 * const stock = shop.stock;
 * stock.adjustQuantity(stock.itemIds()[0], stock.locationIds()[0], 'available', -2); // inventory_levels/update
 * ```
 */
export function createStock(init: {
  seed: number; shopNumber: number; clock: () => number; bigIds: boolean; topIds?: boolean; currency: string; domain: string; name: string;
  locations?: number; products: ResourceTable; events: Array<Record<string, unknown>>;
}) {
  const r = createRandom(hashString(`${init.seed}:${init.shopNumber}:stock`));
  const big = init.bigIds;
  const out = (id: bigint): number | bigint => (big ? id : Number(id));
  const now = () => Math.floor(init.clock() / 1000) * 1000;
  let deliver: (topic: string, payload: JsonObject) => void = () => {};
  let levelNumber = 101_000_000;

  const locations: Location[] = [];
  // `topIds`: just below 2^63 − 1 (room for 10,000 locations and collections).
  const locationBase = init.topIds ? MAX_ID - 10_000_000n : big ? 655_441_491_000_000_000n : 6_600_000_000_000n;
  const addLocation = (k: number, createdMs: number): Location => {
    const place = PLACES[k % PLACES.length];
    const loc: Location = {
      id: locationBase + BigInt(k) * 1000n, name: k === 0 ? 'Main warehouse' : `${place.city} ${k % 2 ? 'store' : 'depot'}`, active: true,
      fulfillsOnline: k < 2, address1: `${10 + k} Commerce Way`, ...place, phone: k % 2 ? `+1-555-01${String(k).padStart(2, '0')}` : null,
      createdMs, updatedMs: createdMs, deactivatedMs: null, deleted: false,
    };
    locations.push(loc);
    return loc;
  };
  for (let k = 0; k < (init.locations ?? 3); k++) addLocation(k, STOCK_START_MS + k * 30 * DAY);

  const items = new Map<bigint, Item>();
  const levels = new Map<string, Level>();
  const levelKey = (itemId: bigint, locationId: bigint) => `${itemId}:${locationId}`;
  const newLevel = (itemId: bigint, locationId: bigint, ms: number, available: number): Level => {
    const committed = intBetween(r, 0, 5);
    const quantities = {
      available, committed, on_hand: available + committed, incoming: r() < 0.3 ? intBetween(r, 1, 50) : 0, reserved: intBetween(r, 0, 2),
      damaged: r() < 0.1 ? 1 : 0, safety_stock: 0, quality_control: 0,
    };
    const level: Level = { itemId, locationId, number: levelNumber++, quantities, createdMs: ms, updatedMs: ms };
    levels.set(levelKey(itemId, locationId), level);
    return level;
  };
  for (let i = 0; i < init.products.baseCount; i++) {
    const product = init.products.get(i);
    if (!product) continue;
    for (const v of (product.variants as JsonObject[] | undefined) ?? []) {
      const id = BigInt(v.inventory_item_id as number | bigint);
      const createdMs = Date.parse(String(v.created_at));
      const updatedMs = Date.parse(String(v.updated_at));
      // Cost in cents, from the price: an exact decimal string, as Shopify's MoneyV2 amount.
      const cents = Math.round(Number(v.price) * 100 * (0.3 + r() * 0.3));
      items.set(id, {
        id, sku: (v.sku as string | null) ?? null, tracked: r() < 0.9, cost: r() < 0.9 ? `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}` : null,
        requiresShipping: true, origin: pick(r, ORIGINS), variantId: BigInt(v.id as number | bigint), createdMs, updatedMs, deleted: false,
      });
      locations.forEach((loc, k) => { if (k === 0 || r() < 0.6) newLevel(id, loc.id, updatedMs, Number(v.inventory_quantity ?? 0) >> k); });
    }
  }

  const collections: Collection[] = [];
  const collectionBase = init.topIds ? MAX_ID - 20_000_000n : big ? 292_001_558_000_000_000n : 2_900_000_000_000n;
  const productIds: bigint[] = [];
  for (let i = 0; i < init.products.baseCount; i++) { const p = init.products.get(i); if (p) productIds.push(BigInt(p.id as number | bigint)); }
  for (let k = 0; k < 6; k++) {
    const smart = k >= 4;
    const tag = TAGS[(k * 3) % TAGS.length];
    collections.push({
      id: collectionBase + BigInt(k) * 1000n, title: smart ? `Tagged ${tag}` : `Collection ${k + 1}`, handle: smart ? `tagged-${tag}` : `collection-${k + 1}`,
      sortOrder: smart ? 'BEST_SELLING' : 'MANUAL', rules: smart ? [{ column: 'TAG', relation: 'EQUALS', condition: tag }] : null, disjunctive: false,
      members: smart ? [] : productIds.filter(() => r() < 0.3), updatedMs: STOCK_START_MS + k * 11 * DAY, deleted: false,
    });
  }

  const shop = { name: init.name, updatedMs: STOCK_START_MS, createdMs: STOCK_START_MS - 365 * DAY };

  /** Products of a collection: a custom one's list, or the live products a smart one's rules match. */
  function membersOf(c: Collection): bigint[] {
    if (!c.rules) return c.members.filter((id) => init.products.get(indexOfProduct(id)) !== undefined);
    const out: bigint[] = [];
    for (let i = 0; i < init.products.size; i++) {
      const p = init.products.get(i);
      if (!p) continue;
      const tags = String(p.tags ?? '').split(',').map((t) => t.trim());
      const hits = c.rules.map((rule) => rule.column === 'TAG' && rule.relation === 'EQUALS' && tags.includes(rule.condition));
      if (c.disjunctive ? hits.some(Boolean) : hits.every(Boolean)) out.push(BigInt(p.id as number | bigint));
    }
    return out;
  }
  // Product id -> index, rebuilt when the table grew (a scan per member made collections of a few
  // thousand products take minutes per request).
  let productIndex: { size: number; byId: Map<bigint, number> } | null = null;
  function indexOfProduct(id: bigint): number {
    if (!productIndex || productIndex.size !== init.products.size) {
      const byId = new Map<bigint, number>();
      for (let i = 0; i < init.products.size; i++) {
        const p = init.products.get(i);
        if (p) byId.set(BigInt(p.id as number | bigint), i);
      }
      productIndex = { size: init.products.size, byId };
    }
    return productIndex.byId.get(id) ?? -1;
  }

  // ---- GraphQL nodes ---------------------------------------------------------------------

  const levelNode = (l: Level): JsonObject => ({
    __typename: 'InventoryLevel', id: `gid://shopify/InventoryLevel/${l.number}?inventory_item_id=${l.itemId}`, isActive: true, canDeactivate: true,
    createdAt: utc(l.createdMs), updatedAt: utc(l.updatedMs),
    location: { __typename: 'Location', id: gid('Location', l.locationId) }, item: { __typename: 'InventoryItem', id: gid('InventoryItem', l.itemId) },
    quantities: INVENTORY_STATES.map((name) => ({ __typename: 'InventoryQuantity', id: `gid://shopify/InventoryQuantity/${l.number}?name=${name}`, name, quantity: l.quantities[name], updatedAt: utc(l.updatedMs) })),
  });
  const levelsOf = (pred: (l: Level) => boolean) => [...levels.values()].filter(pred).sort((a, b) => a.number - b.number);

  const locationNode = (l: Location): JsonObject => ({
    __typename: 'Location', id: gid('Location', l.id), legacyResourceId: String(l.id), name: l.name, isActive: l.active, activatable: !l.active,
    deactivatable: l.active, deletable: !l.active, fulfillsOnlineOrders: l.fulfillsOnline, hasActiveInventory: true, shipsInventory: true,
    deactivatedAt: l.deactivatedMs === null ? null : utc(l.deactivatedMs), createdAt: utc(l.createdMs), updatedAt: utc(l.updatedMs),
    address: {
      __typename: 'LocationAddress', address1: l.address1, address2: null, city: l.city, province: l.province, provinceCode: l.provinceCode,
      country: l.country, countryCode: l.countryCode, zip: l.zip, phone: l.phone, formatted: [l.address1, `${l.city} ${l.zip}`, l.country],
    },
    inventoryLevels: new ConnectionSource(levelsOf((x) => x.locationId === l.id).map(levelNode)),
  });

  const itemNode = (i: Item): JsonObject => ({
    __typename: 'InventoryItem', id: gid('InventoryItem', i.id), legacyResourceId: String(i.id), sku: i.sku, tracked: i.tracked,
    requiresShipping: i.requiresShipping, countryCodeOfOrigin: i.origin, createdAt: utc(i.createdMs), updatedAt: utc(i.updatedMs),
    unitCost: i.cost === null ? null : { __typename: 'MoneyV2', amount: i.cost, currencyCode: init.currency },
    variant: { __typename: 'ProductVariant', id: gid('ProductVariant', i.variantId) },
    inventoryLevels: new ConnectionSource(levelsOf((x) => x.itemId === i.id).map(levelNode)),
  });

  const collectionNode = (c: Collection): JsonObject => ({
    __typename: 'Collection', id: gid('Collection', c.id), legacyResourceId: String(c.id), title: c.title, handle: c.handle, sortOrder: c.sortOrder,
    updatedAt: utc(c.updatedMs), description: '', descriptionHtml: '',
    ruleSet: c.rules ? { __typename: 'CollectionRuleSet', appliedDisjunctively: c.disjunctive, rules: c.rules.map((x) => ({ __typename: 'CollectionRule', ...x })) } : null,
    products: new ConnectionSource(membersOf(c).map((id) => ({ __typename: 'Product', id: gid('Product', id) }))),
  });

  /** Root connections this module serves, by QueryRoot field: nodes in id order, filtered like Shopify's search. */
  function list(field: string, args: Record<string, unknown>): JsonObject[] | undefined {
    const created = timeBounds(args.query, 'created_at');
    const updated = timeBounds(args.query, 'updated_at');
    const inWindow = (createdMs: number | null, updatedMs: number) =>
      (createdMs === null || (createdMs >= created.min && createdMs <= created.max)) && updatedMs >= updated.min && updatedMs <= updated.max;
    if (field === 'locations') {
      // No `updated_at` filter in Shopify's location search: the term is ignored.
      return locations.filter((l) => !l.deleted && (l.active || args.includeInactive === true) && l.createdMs >= created.min && l.createdMs <= created.max).map(locationNode);
    }
    if (field === 'inventoryItems') return [...items.values()].filter((i) => !i.deleted && inWindow(i.createdMs, i.updatedMs)).sort((a, b) => (a.id < b.id ? -1 : 1)).map(itemNode);
    if (field === 'collections') return collections.filter((c) => !c.deleted && inWindow(null, c.updatedMs)).map(collectionNode);
    return undefined;
  }

  function item(id: bigint): Item {
    const found = items.get(id);
    if (!found || found.deleted) throw new Error(`[shopify-ingest] simulator: no inventory item ${id}`);
    return found;
  }
  function location(id: bigint): Location {
    const found = locations.find((l) => l.id === id && !l.deleted);
    if (!found) throw new Error(`[shopify-ingest] simulator: no location ${id}`);
    return found;
  }
  function collection(id: bigint): Collection {
    const found = collections.find((c) => c.id === id && !c.deleted);
    if (!found) throw new Error(`[shopify-ingest] simulator: no collection ${id}`);
    return found;
  }

  // ---- REST-shaped webhook bodies ----------------------------------------------------------

  const locationBody = (l: Location): JsonObject => ({
    id: out(l.id), name: l.name, address1: l.address1, address2: null, city: l.city, zip: l.zip, province: l.province, country: l.countryCode,
    phone: l.phone, created_at: formatShopTime(l.createdMs), updated_at: formatShopTime(l.updatedMs), country_code: l.countryCode,
    country_name: l.country, province_code: l.provinceCode, legacy: false, active: l.active, admin_graphql_api_id: gid('Location', l.id),
  });
  const itemBody = (i: Item): JsonObject => ({
    id: out(i.id), sku: i.sku, created_at: formatShopTime(i.createdMs), updated_at: formatShopTime(i.updatedMs), requires_shipping: i.requiresShipping,
    cost: i.cost, country_code_of_origin: i.origin, province_code_of_origin: null, harmonized_system_code: null, tracked: i.tracked,
    country_harmonized_system_codes: [], admin_graphql_api_id: gid('InventoryItem', i.id),
  });
  const levelBody = (l: Level): JsonObject => ({
    inventory_item_id: out(l.itemId), location_id: out(l.locationId), available: l.quantities.available, updated_at: formatShopTime(l.updatedMs),
    admin_graphql_api_id: `gid://shopify/InventoryLevel/${l.number}?inventory_item_id=${l.itemId}`,
  });
  const collectionBody = (c: Collection): JsonObject => ({
    id: out(c.id), handle: c.handle, title: c.title, updated_at: formatShopTime(c.updatedMs), body_html: '', published_at: formatShopTime(c.updatedMs),
    sort_order: c.sortOrder.toLowerCase().replace('best_selling', 'best-selling'), template_suffix: null, published_scope: 'web',
    admin_graphql_api_id: gid('Collection', c.id),
  });

  return {
    /** Sends a webhook (set by the simulator to its dispatcher). */
    set deliver(fn: (topic: string, payload: JsonObject) => void) { deliver = fn; },
    /** Root connections served from here (`locations`, `inventoryItems`, `collections`), or undefined for other fields. */
    list,
    /** `locationsCount` / `collectionsCount`, or undefined for other fields. */
    count(field: string, args: Record<string, unknown>): JsonObject | undefined {
      const of = field === 'locationsCount' ? 'locations' : field === 'collectionsCount' ? 'collections' : null;
      if (!of) return undefined;
      // locationsCount has no includeInactive: it counts active locations.
      return { __typename: 'Count', count: list(of, { ...args, includeInactive: false })!.length, precision: 'EXACT' };
    },
    /** A node by gid (Location, InventoryItem, InventoryLevel, Collection), or undefined. */
    node(id: string): JsonObject | null | undefined {
      const m = /^gid:\/\/shopify\/(Location|InventoryItem|Collection)\/(\d+)$/.exec(id);
      if (!m) return undefined;
      const n = BigInt(m[2]);
      if (m[1] === 'Location') { const l = locations.find((x) => x.id === n && !x.deleted); return l ? locationNode(l) : null; }
      if (m[1] === 'InventoryItem') { const i = items.get(n); return i && !i.deleted ? itemNode(i) : null; }
      const c = collections.find((x) => x.id === n && !x.deleted);
      return c ? collectionNode(c) : null;
    },
    /** Fields of `shop` this module adds (primary domain, plan, times) or changes (name). */
    shopFields(): JsonObject {
      return {
        name: shop.name, createdAt: utc(shop.createdMs), updatedAt: utc(shop.updatedMs),
        primaryDomain: { __typename: 'Domain', id: 'gid://shopify/Domain/1', host: init.domain, url: `https://${init.domain}`, sslEnabled: true },
        plan: { __typename: 'ShopPlan', displayName: 'Basic', publicDisplayName: 'Basic', partnerDevelopment: false, shopifyPlus: false },
      };
    },

    /** Ids of the live locations, oldest first. */
    locationIds: (): bigint[] => locations.filter((l) => !l.deleted).map((l) => l.id),
    /** Ids of the live inventory items, ascending. */
    itemIds: (): bigint[] => [...items.values()].filter((i) => !i.deleted).map((i) => i.id).sort((a, b) => (a < b ? -1 : 1)),
    /** Ids of the live collections (custom first, then smart). */
    collectionIds: (): bigint[] => collections.filter((c) => !c.deleted).map((c) => c.id),
    /** Quantities of a level, or undefined when the item is not stocked there. */
    quantities: (itemId: bigint, locationId: bigint): Record<InventoryState, number> | undefined => levels.get(levelKey(itemId, locationId))?.quantities,
    /** Locations an item is stocked at. */
    levelsOf: (itemId: bigint): bigint[] => levelsOf((l) => l.itemId === itemId).map((l) => l.locationId),
    /** Products of a collection as Shopify lists them now. */
    productsOf: (collectionId: bigint): bigint[] => membersOf(collection(collectionId)),

    /** Changes one quantity of a level (its item's `updatedAt` stays); emits `inventory_levels/update`. */
    adjustQuantity(itemId: bigint, locationId: bigint, name: InventoryState, delta: number): void {
      const level = levels.get(levelKey(item(itemId).id, location(locationId).id));
      if (!level) throw new Error(`[shopify-ingest] simulator: item ${itemId} is not stocked at ${locationId}`);
      level.quantities[name] += delta;
      if (name === 'available' || name === 'committed') level.quantities.on_hand += delta;
      level.updatedMs = now();
      deliver('inventory_levels/update', levelBody(level));
    },
    /** Stocks an item at a location; emits `inventory_levels/connect`. */
    connect(itemId: bigint, locationId: bigint, available = 0): void {
      const level = newLevel(item(itemId).id, location(locationId).id, now(), available);
      deliver('inventory_levels/connect', levelBody(level));
    },
    /** Stops stocking an item at a location (the level is no longer listed); emits `inventory_levels/disconnect`. */
    disconnect(itemId: bigint, locationId: bigint): void {
      const key = levelKey(itemId, locationId);
      const level = levels.get(key);
      if (!level) throw new Error(`[shopify-ingest] simulator: item ${itemId} is not stocked at ${locationId}`);
      levels.delete(key);
      deliver('inventory_levels/disconnect', { inventory_item_id: out(itemId), location_id: out(locationId) });
    },
    /** Changes an item (cost as a decimal string, sku, tracked); emits `inventory_items/update`. */
    updateItem(itemId: bigint, patch: { cost?: string | null; sku?: string | null; tracked?: boolean }): void {
      const i = item(itemId);
      if (patch.cost !== undefined) i.cost = patch.cost;
      if (patch.sku !== undefined) i.sku = patch.sku;
      if (patch.tracked !== undefined) i.tracked = patch.tracked;
      i.updatedMs = now();
      deliver('inventory_items/update', itemBody(i));
    },
    /** Deletes an item and its levels; emits `inventory_items/delete`. */
    deleteItem(itemId: bigint): void {
      item(itemId).deleted = true;
      for (const [key, l] of levels) if (l.itemId === itemId) levels.delete(key);
      deliver('inventory_items/delete', { id: out(itemId) });
    },
    /** Adds a location; emits `locations/create`. */
    createLocation(): bigint {
      const loc = addLocation(locations.length, now());
      deliver('locations/create', locationBody(loc));
      return loc.id;
    },
    /** Renames a location; emits `locations/update`. */
    renameLocation(id: bigint, name: string): void {
      const l = location(id);
      l.name = name;
      l.updatedMs = now();
      deliver('locations/update', locationBody(l));
    },
    /** Deactivates a location (listed only with `includeInactive: true`); emits `locations/deactivate`. */
    deactivateLocation(id: bigint): void {
      const l = location(id);
      l.active = false;
      l.deactivatedMs = l.updatedMs = now();
      deliver('locations/deactivate', locationBody(l));
    },
    /** Deletes a location (Shopify requires it inactive first); emits `locations/delete` with `{ id }`. */
    deleteLocation(id: bigint): void {
      const l = location(id);
      if (l.active) throw new Error('[shopify-ingest] simulator: a location must be deactivated before it is deleted');
      l.deleted = true;
      for (const [key, lv] of levels) if (lv.locationId === id) levels.delete(key);
      deliver('locations/delete', { id: out(id) });
    },
    /** Adds a product to a custom collection (the collection's `updatedAt` stays, as it does for a collect). */
    addProduct(collectionId: bigint, productId: bigint): void {
      const c = collection(collectionId);
      if (c.rules) throw new Error('[shopify-ingest] simulator: products of a smart collection follow its rules');
      if (!c.members.includes(productId)) c.members.push(productId);
    },
    /** Retitles a collection; emits `collections/update` (a REST body without products). */
    retitleCollection(id: bigint, title: string): void {
      const c = collection(id);
      c.title = title;
      c.updatedMs = now();
      deliver('collections/update', collectionBody(c));
    },
    /** Deletes a collection: records a destroy event, emits `collections/delete` with `{ id }`. */
    deleteCollection(id: bigint): void {
      const c = collection(id);
      c.deleted = true;
      const at = now();
      init.events.push({
        id: 700_000_000 + init.events.length, subject_id: out(id), created_at: formatShopTime(at), createdMs: at, subject_type: 'Collection', verb: 'destroy',
        arguments: [c.title], body: null, message: `Collection ${c.title} was deleted.`, author: 'Shopify', description: `Collection ${c.title} was deleted.`, path: `/admin/collections/${id}`,
      });
      deliver('collections/delete', { id: out(id) });
    },
    /** Renames the shop; emits `shop/update`. */
    renameShop(name: string): void {
      shop.name = name;
      shop.updatedMs = now();
      deliver('shop/update', {
        id: Number(548_380_009 + init.shopNumber), name, domain: init.domain, myshopify_domain: init.domain, currency: init.currency,
        iana_timezone: 'America/New_York', plan_name: 'basic', plan_display_name: 'Basic', created_at: formatShopTime(shop.createdMs), updated_at: formatShopTime(shop.updatedMs),
      });
    },
  };
}

/** The stock and catalogue of one simulated shop. */
export type SimulatedStock = ReturnType<typeof createStock>;
