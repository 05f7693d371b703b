/**
 * Collections, custom and smart (smart ones with their rules), and which products each holds: a
 * membership row per collection and product, from the nested `products` connection (its own JSONL
 * lines in a bulk operation). Bulk output gives no position of a product in its collection, so
 * membership rows carry none.
 *
 * Incremental runs list every collection: a smart collection's products change with the products
 * (a new tag, a price) without the collection's `updatedAt` moving. `collections/create|update`
 * bodies carry no products (writing them would drop the stored membership): the collection is read
 * again with all its products. Deletions: `collections/delete`, and Shopify's destroy events.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/Collection
 */
import { col } from '../store/columns.js';
import { FieldError } from '../transform/errors.js';
import { bodyId, bool, isObject, lower, nodes, resolveId, str, type JsonObject } from '../transform/values.js';
import { defineResource, type RowSet } from './definition.js';

/** A row of `shopify_collections`. */
interface CollectionRow {
  tenantId: string;
  id: bigint;
  gid: string | null;
  title: string | null;
  handle: string | null;
  collectionType: 'smart' | 'custom';
  sortOrder: string | null;
  rules: unknown[] | null;
  disjunctive: boolean | null;
  shopifyUpdatedAt: Date;
  deletedAt: Date | null;
  payload: string;
}

/** A row of `shopify_collection_products`. */
interface CollectionProductRow {
  tenantId: string;
  collectionId: bigint;
  productId: bigint;
}

const collectionColumns = [
  col<CollectionRow>('id', 'bigint', (r) => r.id),
  col<CollectionRow>('gid', 'text', (r) => r.gid),
  col<CollectionRow>('title', 'text', (r) => r.title),
  col<CollectionRow>('handle', 'text', (r) => r.handle),
  col<CollectionRow>('collection_type', 'text', (r) => r.collectionType),
  col<CollectionRow>('sort_order', 'text', (r) => r.sortOrder),
  col<CollectionRow>('rules', 'jsonb', (r) => r.rules),
  col<CollectionRow>('disjunctive', 'boolean', (r) => r.disjunctive),
  col<CollectionRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
  col<CollectionRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
  col<CollectionRow>('payload', 'jsonb', (r) => r.payload),
] as const;

const memberColumns = [
  col<CollectionProductRow>('collection_id', 'bigint', (r) => r.collectionId),
  col<CollectionProductRow>('product_id', 'bigint', (r) => r.productId),
] as const;

/** A membership row: a product node (`{ id }`) of collection `collectionId`. */
function memberRow(product: JsonObject, collectionId: bigint, tenantId: string): CollectionProductRow {
  const productId = resolveId(product);
  if (productId === null) throw new FieldError('a collection product has no id');
  return { tenantId, collectionId, productId };
}

/**
 * GraphQL `ruleSet { appliedDisjunctively rules { column relation condition } }` (null for custom
 * collections), or REST smart collections' `rules` and `disjunctive`. Rules are kept in REST's
 * lower-case vocabulary (`{ column: 'tag', relation: 'equals', condition: 'sale' }`).
 */
function ruleSetOf(data: JsonObject): { rules: unknown[]; disjunctive: boolean | null } | null {
  const set = isObject(data.ruleSet) ? data.ruleSet : Array.isArray(data.rules) ? { rules: data.rules, appliedDisjunctively: data.disjunctive } : null;
  if (!set) return null;
  const rules = (Array.isArray(set.rules) ? set.rules.filter(isObject) : []).map((r) => ({ column: lower(r.column), relation: lower(r.relation), condition: str(r.condition) }));
  return { rules, disjunctive: bool(set.appliedDisjunctively) };
}

export const collections = defineResource<RowSet, 'collections'>({
  name: 'collections',
  label: 'Collections',
  scopes: ['read_products'],
  dependsOn: ['products'],
  root: { key: 'collections', table: 'shopify_collections', model: 'ShopifyCollection', columns: collectionColumns, conflict: ['id'], versioned: true, syncedAt: true },
  children: [{
    key: 'collectionProducts', table: 'shopify_collection_products', model: 'ShopifyCollectionProduct', columns: memberColumns,
    conflict: ['collection_id', 'product_id'], versioned: false, syncedAt: false,
    parent: 'collections', parentColumn: 'collection_id', parentIdOf: (r: CollectionProductRow) => r.collectionId,
    // A collection lists all its products: one it no longer lists left it.
    whenMissing: 'delete', bulkType: 'Product',
  }],
  emptyRows: () => ({ collections: [], collectionProducts: [] }),
  toRows: (record, ctx) => {
    const { products: _products, ...collection } = record;
    const ruleSet = ruleSetOf(record);
    return {
      collections: [{
        tenantId: ctx.tenantId,
        id: ctx.id,
        gid: str(record.admin_graphql_api_id) ?? (typeof record.id === 'string' ? record.id : `gid://shopify/Collection/${ctx.id}`),
        title: str(record.title),
        handle: str(record.handle),
        collectionType: ruleSet ? 'smart' : 'custom',
        sortOrder: lower(record.sortOrder ?? record.sort_order),
        rules: ruleSet?.rules ?? null,
        disjunctive: ruleSet?.disjunctive ?? null,
        shopifyUpdatedAt: ctx.updatedAt,
        deletedAt: null,
        payload: ctx.sealer.payload(collection),
      }],
      collectionProducts: nodes(record.products).map((p) => memberRow(p, ctx.id, ctx.tenantId)),
    };
  },
  childRow: (_table, node, ctx) => memberRow(node, ctx.parentId, ctx.tenantId),
  graphql: {
    connection: 'collections',
    type: 'Collection',
    count: 'collectionsCount',
    // `ruleSet` is deprecated for `sources` (2026-10) but still served, and is what names a smart
    // collection and its rules; `sources` does not say which collections are smart.
    fields: `id legacyResourceId title handle sortOrder updatedAt
      ruleSet { appliedDisjunctively rules { column relation condition } }`,
    connections: [{ field: 'products', table: 'collectionProducts', fields: 'id', pageSize: 50 }],
    updatedAtSortKey: 'UPDATED_AT',
    createdAtSortKey: null,
    // No `createdAt` field and no `created_at` search filter.
    windowField: 'updated_at',
    baseQuery: null,
    incremental: 'everything',
  },
  // REST splits collections in two listings (`/custom_collections.json`, `/smart_collections.json`)
  // and custom membership in a third (`/collects.json`): not one listing.
  rest: null,
  webhooks: {
    upsert: [],
    delete: ['collections/delete'],
    refetch: [{ topic: 'collections/create', idOf: bodyId }, { topic: 'collections/update', idOf: bodyId }],
  },
  deletions: { eventSubjectType: 'COLLECTION', reconcileIds: false },
  privacy: null,
  schedule: { enabled: true, schedule: '0 4 * * *' },
});
