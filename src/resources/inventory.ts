/**
 * Inventory items (the stock-keeping side of variants: cost, tracking, origin) with their levels:
 * one row per item and location, holding Shopify's named quantities. Levels are a nested
 * connection of the item (their own JSONL lines in a bulk operation), written with their item; a
 * level the item no longer lists (`inventory_levels/disconnect`) is removed.
 *
 * Incremental runs list every item: a level's quantities change (every sale, every adjustment)
 * without its item's `updatedAt` moving, so an `updated_at` filter on `inventoryItems` would miss
 * them. `inventoryItems` has no count, so that listing is a bulk operation (no query points).
 * Webhooks keep rows current between runs: every item and level topic reads the item again with
 * all its levels, since level bodies carry only `available` of the eight quantities and item bodies
 * no levels at all (writing them would drop the stored levels). Shopify's `events` have no
 * inventory subject: deletions missed by `inventory_items/delete` are found by id reconciliation.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/InventoryItem
 * https://shopify.dev/docs/apps/build/orders-fulfillment/inventory-management-apps#inventory-states
 */
import { col } from '../store/columns.js';
import { FieldError } from '../transform/errors.js';
import { bool, isObject, money, nodes, pick, refId, resolveId, str, time, toBigId, type JsonObject } from '../transform/values.js';
import { defineResource, type ChildRowContext, type RowSet } from './definition.js';

/** Shopify's inventory states, as `quantities(names:)` takes them, and their columns. */
export const QUANTITY_NAMES = ['available', 'on_hand', 'committed', 'incoming', 'reserved', 'damaged', 'safety_stock', 'quality_control'] as const;
type QuantityName = (typeof QUANTITY_NAMES)[number];

/** A row of `shopify_inventory_items`. */
interface InventoryItemRow {
  tenantId: string;
  id: bigint;
  gid: string | null;
  sku: string | null;
  tracked: boolean | null;
  unitCost: string | null;
  unitCostCurrency: string | null;
  requiresShipping: boolean | null;
  countryCodeOfOrigin: string | null;
  variantId: bigint | null;
  shopifyCreatedAt: Date | null;
  shopifyUpdatedAt: Date;
  deletedAt: Date | null;
  payload: string;
}

/** A row of `shopify_inventory_levels`. */
interface InventoryLevelRow extends Record<QuantityName, number | null> {
  tenantId: string;
  inventoryItemId: bigint;
  locationId: bigint;
  gid: string | null;
  shopifyCreatedAt: Date | null;
  shopifyUpdatedAt: Date | null;
}

const itemColumns = [
  col<InventoryItemRow>('id', 'bigint', (r) => r.id),
  col<InventoryItemRow>('gid', 'text', (r) => r.gid),
  col<InventoryItemRow>('sku', 'text', (r) => r.sku),
  col<InventoryItemRow>('tracked', 'boolean', (r) => r.tracked),
  col<InventoryItemRow>('unit_cost', 'numeric', (r) => r.unitCost),
  col<InventoryItemRow>('unit_cost_currency', 'text', (r) => r.unitCostCurrency),
  col<InventoryItemRow>('requires_shipping', 'boolean', (r) => r.requiresShipping),
  col<InventoryItemRow>('country_code_of_origin', 'text', (r) => r.countryCodeOfOrigin),
  col<InventoryItemRow>('variant_id', 'bigint', (r) => r.variantId),
  col<InventoryItemRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
  col<InventoryItemRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
  col<InventoryItemRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
  col<InventoryItemRow>('payload', 'jsonb', (r) => r.payload),
] as const;

const levelColumns = [
  col<InventoryLevelRow>('inventory_item_id', 'bigint', (r) => r.inventoryItemId),
  col<InventoryLevelRow>('location_id', 'bigint', (r) => r.locationId),
  col<InventoryLevelRow>('gid', 'text', (r) => r.gid),
  ...QUANTITY_NAMES.map((name) => col<InventoryLevelRow>(name, 'integer', (r) => r[name])),
  col<InventoryLevelRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
  col<InventoryLevelRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
] as const;

/** One level (GraphQL `InventoryLevel` with `quantities { name quantity }` and `location { id }`) of item `itemId`. */
export function inventoryLevelRow(level: JsonObject, itemId: bigint, tenantId: string): InventoryLevelRow {
  const locationId = refId(level, 'location_id', 'location');
  if (locationId === null) throw new FieldError('an inventory level has no location');
  const row = {
    tenantId, inventoryItemId: itemId, locationId, gid: str(level.id) ?? str(level.admin_graphql_api_id),
    shopifyCreatedAt: time(pick(level, 'createdAt', 'created_at'), 'inventory level created_at'),
    shopifyUpdatedAt: time(pick(level, 'updatedAt', 'updated_at'), 'inventory level updated_at'),
  } as InventoryLevelRow;
  for (const name of QUANTITY_NAMES) row[name] = null;
  const quantities = Array.isArray(level.quantities) ? level.quantities.filter(isObject) : [];
  for (const q of quantities) {
    const name = q.name as QuantityName;
    if (!(QUANTITY_NAMES as readonly string[]).includes(name)) continue;
    if (typeof q.quantity !== 'number' || !Number.isInteger(q.quantity)) throw new FieldError(`inventory quantity ${name} is not an integer`);
    row[name] = q.quantity;
  }
  return row;
}

function itemRow(data: JsonObject, id: bigint, updatedAt: Date, tenantId: string, payload: string): InventoryItemRow {
  const cost = pick(data, 'unitCost', 'cost');
  return {
    tenantId,
    id,
    gid: str(data.admin_graphql_api_id) ?? (typeof data.id === 'string' ? data.id : `gid://shopify/InventoryItem/${id}`),
    sku: str(data.sku),
    tracked: bool(data.tracked),
    unitCost: money(cost, 'unit_cost'),
    unitCostCurrency: isObject(cost) ? str(cost.currencyCode) : null,
    requiresShipping: bool(pick(data, 'requiresShipping', 'requires_shipping')),
    countryCodeOfOrigin: str(pick(data, 'countryCodeOfOrigin', 'country_code_of_origin')),
    variantId: refId(data, 'variant_id', 'variant'),
    shopifyCreatedAt: time(pick(data, 'createdAt', 'created_at'), 'created_at'),
    shopifyUpdatedAt: updatedAt,
    deletedAt: null,
    payload,
  };
}

/** The item a webhook body names: the item's own body, or a level's `inventory_item_id`. */
function itemIdOf(body: JsonObject): bigint | null {
  try {
    return 'inventory_item_id' in body ? toBigId(body.inventory_item_id ?? null) : resolveId(body);
  } catch (error) {
    if (error instanceof FieldError) return null;
    throw error;
  }
}

const QUANTITIES = `quantities(names: [${QUANTITY_NAMES.map((n) => JSON.stringify(n)).join(', ')}]) { name quantity }`;

export const inventory = defineResource<RowSet, 'inventory'>({
  name: 'inventory',
  label: 'Inventory items and levels',
  // read_products: the item's variant.
  scopes: ['read_inventory', 'read_products'],
  dependsOn: ['products', 'locations'],
  root: { key: 'inventoryItems', table: 'shopify_inventory_items', model: 'ShopifyInventoryItem', columns: itemColumns, conflict: ['id'], versioned: true, syncedAt: true },
  children: [{
    key: 'inventoryLevels', table: 'shopify_inventory_levels', model: 'ShopifyInventoryLevel', columns: levelColumns,
    conflict: ['inventory_item_id', 'location_id'], versioned: false, syncedAt: false,
    parent: 'inventoryItems', parentColumn: 'inventory_item_id', parentIdOf: (r: InventoryLevelRow) => r.inventoryItemId,
    // An item lists its active levels: one it no longer lists was disconnected from that location.
    whenMissing: 'delete', bulkType: 'InventoryLevel',
  }],
  emptyRows: () => ({ inventoryItems: [], inventoryLevels: [] }),
  toRows: (record, ctx) => {
    const { inventoryLevels: _levels, ...item } = record;
    const levels = nodes(record.inventoryLevels).map((level) => inventoryLevelRow(level, ctx.id, ctx.tenantId));
    return { inventoryItems: [itemRow(record, ctx.id, ctx.updatedAt, ctx.tenantId, ctx.sealer.payload(item))], inventoryLevels: levels };
  },
  childRow: (_table, node, ctx: ChildRowContext) => inventoryLevelRow(node, ctx.parentId, ctx.tenantId),
  graphql: {
    connection: 'inventoryItems',
    type: 'InventoryItem',
    count: null,
    // `variant` is deprecated for `variants`, a connection, which a bulk query would return as
    // lines of its own; an inventory item stocks one variant.
    fields: `id legacyResourceId sku tracked requiresShipping countryCodeOfOrigin createdAt updatedAt
      unitCost { amount currencyCode }
      variant { id }`,
    connections: [{
      field: 'inventoryLevels',
      table: 'inventoryLevels',
      fields: `id createdAt updatedAt location { id } ${QUANTITIES}`,
      pageSize: 10,
    }],
    updatedAtSortKey: null,
    createdAtSortKey: null,
    baseQuery: null,
    incremental: 'everything',
  },
  // REST lists inventory items only by `ids=` and levels only by item or location ids: no listing to page.
  rest: null,
  webhooks: {
    upsert: [],
    delete: ['inventory_items/delete'],
    refetch: ['inventory_items/create', 'inventory_items/update', 'inventory_levels/connect', 'inventory_levels/update', 'inventory_levels/disconnect']
      .map((topic) => ({ topic, idOf: itemIdOf })),
  },
  deletions: { eventSubjectType: null, reconcileIds: true },
  privacy: null,
  schedule: { enabled: true, schedule: '15 * * * *' },
});
