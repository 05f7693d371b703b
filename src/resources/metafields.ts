/**
 * Metafields of products, variants, customers, orders, collections and the shop, value kept exactly
 * as Shopify sends it (a string, whatever the type).
 *
 * QueryRoot has no metafields connection: metafields are listed through their owners, one GraphQL
 * listing per owner type (`graphql` plus `sources`), each selecting only the owner's `id` and
 * `updatedAt` and its `metafields` connection (bulk: two levels, one nested connection). The root
 * table holds the owners listed (`shopify_metafield_owners`, keyed by owner type and id: ids are
 * unique per type only); an owner listed with all its metafields tombstones the stored ones it no
 * longer has (`whenMissing: 'tombstone'`, `parentKey: ['owner_type']`).
 *
 * Shopify does not document that setting a metafield moves its owner's `updatedAt`, so incremental
 * runs list every owner (`incremental: 'everything'`; above `bulkThreshold` owners, as a bulk
 * operation that costs no query points) on a slower schedule than the owners' own syncs.
 * Webhooks: none. Owner webhooks (`products/update`, …) carry metafields only for the namespaces a
 * subscription names (`metafield_namespaces`), and their topics already upsert their owners; the
 * scheduled run keeps metafields current. A deleted owner's metafields stay as they were last
 * listed: join `shopify_metafield_owners` to the owner's table for its `deleted_at`.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/Metafield
 * https://shopify.dev/docs/api/admin-graphql/latest/interfaces/HasMetafields
 */
import { col } from '../store/columns.js';
import { FieldError } from '../transform/errors.js';
import { nodes, parseGid, str, time, type JsonObject } from '../transform/values.js';
import { defineResource, type GraphqlSource } from './definition.js';

/** A row of `shopify_metafield_owners`. */
export interface MetafieldOwnerRow {
  tenantId: string; ownerType: string; id: bigint; gid: string | null; shopifyUpdatedAt: Date; deletedAt: Date | null;
}
/** A row of `shopify_metafields`. */
export interface MetafieldRow {
  tenantId: string; id: bigint; gid: string; ownerType: string; ownerId: bigint; namespace: string; key: string; type: string; value: string;
  shopifyCreatedAt: Date | null; shopifyUpdatedAt: Date; deletedAt: Date | null;
}

/** GraphQL owner types and Shopify's `MetafieldOwnerType` for each. */
const OWNER_TYPES: Readonly<Record<string, string>> = {
  Product: 'PRODUCT', ProductVariant: 'PRODUCTVARIANT', Customer: 'CUSTOMER', Order: 'ORDER', Collection: 'COLLECTION', Shop: 'SHOP',
};

function ownerTypeOf(record: JsonObject): string {
  const type = OWNER_TYPES[String(record.__typename)];
  if (!type) throw new FieldError(`a metafield owner of type ${String(record.__typename)} is not one this SDK lists`);
  return type;
}

function metafieldRow(node: JsonObject, ownerType: string, ownerId: bigint, tenantId: string): MetafieldRow {
  const id = parseGid(node.id);
  if (id === null) throw new FieldError('a metafield has no id');
  const updatedAt = time(node.updatedAt, 'metafield updatedAt');
  if (updatedAt === null) throw new FieldError(`metafield ${id} has no updatedAt`);
  if (typeof node.value !== 'string' || typeof node.namespace !== 'string' || typeof node.key !== 'string') throw new FieldError(`metafield ${id} has no namespace, key or value`);
  return {
    tenantId, id, gid: String(node.id), ownerType, ownerId, namespace: node.namespace, key: node.key, type: str(node.type) ?? 'string', value: node.value,
    shopifyCreatedAt: time(node.createdAt, 'metafield createdAt'), shopifyUpdatedAt: updatedAt, deletedAt: null,
  };
}

const METAFIELD_FIELDS = 'id namespace key type value ownerType createdAt updatedAt';

/** One owner type's listing: the owner's id and `updatedAt` and its metafields. */
function owner(connection: string, type: string, count: string | null, updatedAtSortKey: string | null, createdAtSortKey: string | null, windowField?: 'updated_at'): GraphqlSource {
  return {
    connection, type, count, fields: '__typename id updatedAt',
    connections: [{ field: 'metafields', table: 'metafields', fields: METAFIELD_FIELDS, pageSize: 50 }],
    updatedAtSortKey, createdAtSortKey, ...(windowField ? { windowField } : {}), baseQuery: null, incremental: 'everything',
  };
}

export const metafields = defineResource<{ owners: MetafieldOwnerRow[]; metafields: MetafieldRow[] }, 'metafields'>({
  name: 'metafields',
  label: 'Metafields',
  // Each owner's read scope (the shop's metafields need none).
  scopes: ['read_products', 'read_customers', 'read_orders'],
  dependsOn: ['products', 'customers', 'orders', 'collections'],
  root: {
    key: 'owners', table: 'shopify_metafield_owners', model: 'ShopifyMetafieldOwner', conflict: ['owner_type', 'id'], versioned: true, syncedAt: true,
    columns: [
      col<MetafieldOwnerRow>('owner_type', 'text', (r) => r.ownerType),
      col<MetafieldOwnerRow>('id', 'bigint', (r) => r.id),
      col<MetafieldOwnerRow>('gid', 'text', (r) => r.gid),
      col<MetafieldOwnerRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
      col<MetafieldOwnerRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
    ],
  },
  children: [{
    key: 'metafields', table: 'shopify_metafields', model: 'ShopifyMetafield', conflict: ['id'], versioned: true, syncedAt: true,
    parent: 'owners', parentColumn: 'owner_id', parentKey: ['owner_type'], parentIdOf: (r: MetafieldRow) => r.ownerId,
    // An owner lists all its metafields: one it no longer lists was deleted.
    whenMissing: 'tombstone', bulkType: 'Metafield',
    columns: [
      col<MetafieldRow>('id', 'bigint', (r) => r.id),
      col<MetafieldRow>('gid', 'text', (r) => r.gid),
      col<MetafieldRow>('owner_type', 'text', (r) => r.ownerType),
      col<MetafieldRow>('owner_id', 'bigint', (r) => r.ownerId),
      col<MetafieldRow>('namespace', 'text', (r) => r.namespace),
      col<MetafieldRow>('key', 'text', (r) => r.key),
      col<MetafieldRow>('type', 'text', (r) => r.type),
      col<MetafieldRow>('value', 'text', (r) => r.value),
      col<MetafieldRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
      col<MetafieldRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
      col<MetafieldRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
    ],
  }],
  emptyRows: () => ({ owners: [], metafields: [] }),
  toRows: (record, ctx) => {
    const ownerType = ownerTypeOf(record);
    return {
      owners: [{ tenantId: ctx.tenantId, ownerType, id: ctx.id, gid: str(record.id), shopifyUpdatedAt: ctx.updatedAt, deletedAt: null }],
      metafields: nodes(record.metafields).map((m) => metafieldRow(m, ownerType, ctx.id, ctx.tenantId)),
    };
  },
  // A bulk line names its owner by `__parentId`, and its type by `ownerType`.
  childRow: (_table, node, ctx) => metafieldRow(node, String(node.ownerType), ctx.parentId, ctx.tenantId),
  graphql: owner('products', 'Product', 'productsCount', 'UPDATED_AT', 'CREATED_AT'),
  sources: [
    // productVariants has no UPDATED_AT or CREATED_AT sort key: listed in id order.
    owner('productVariants', 'ProductVariant', 'productVariantsCount', null, null),
    owner('customers', 'Customer', 'customersCount', 'UPDATED_AT', 'CREATED_AT'),
    owner('orders', 'Order', 'ordersCount', 'UPDATED_AT', 'CREATED_AT'),
    owner('collections', 'Collection', 'collectionsCount', 'UPDATED_AT', null, 'updated_at'),
    { ...owner('shop', 'Shop', null, null, null), singleton: true },
  ],
  rest: null,
  webhooks: { upsert: [], delete: [], refetch: [] },
  deletions: { eventSubjectType: null, reconcileIds: false },
  privacy: null,
  schedule: { enabled: true, schedule: '30 */6 * * *' },
});
