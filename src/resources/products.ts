/**
 * Products and their variants. Variants are a nested connection: a bulk operation returns each as
 * its own line after its product (`__parentId`), a page query returns up to `pageSize` inline and
 * the engine fetches the rest. Products may have up to 2,048 variants since 2025-10, while REST
 * returns at most 100 (https://shopify.dev/changelog, "new GraphQL product APIs").
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/Product
 */
import { col } from '../store/columns.js';
import type { ProductRow, VariantRow } from '../store/rows.js';
import { productBundle, variantRow } from '../transform/product.js';
import { defineResource } from './definition.js';

const productColumns = [
  col<ProductRow>('id', 'bigint', (r) => r.id),
  col<ProductRow>('title', 'text', (r) => r.title),
  col<ProductRow>('handle', 'text', (r) => r.handle),
  col<ProductRow>('vendor', 'text', (r) => r.vendor),
  col<ProductRow>('product_type', 'text', (r) => r.productType),
  col<ProductRow>('status', 'text', (r) => r.status),
  col<ProductRow>('tags', 'text', (r) => r.tags),
  col<ProductRow>('published_at', 'timestamptz', (r) => r.publishedAt),
  col<ProductRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
  col<ProductRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
  col<ProductRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
  col<ProductRow>('payload', 'jsonb', (r) => r.payload),
] as const;

const variantColumns = [
  col<VariantRow>('id', 'bigint', (r) => r.id),
  col<VariantRow>('product_id', 'bigint', (r) => r.productId),
  col<VariantRow>('title', 'text', (r) => r.title),
  col<VariantRow>('sku', 'text', (r) => r.sku),
  col<VariantRow>('barcode', 'text', (r) => r.barcode),
  col<VariantRow>('position', 'integer', (r) => r.position),
  col<VariantRow>('price', 'numeric', (r) => r.price),
  col<VariantRow>('compare_at_price', 'numeric', (r) => r.compareAtPrice),
  col<VariantRow>('inventory_quantity', 'integer', (r) => r.inventoryQuantity),
  col<VariantRow>('inventory_item_id', 'bigint', (r) => r.inventoryItemId),
  col<VariantRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
  col<VariantRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
  col<VariantRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
  col<VariantRow>('payload', 'jsonb', (r) => r.payload),
] as const;

export const products = defineResource<{ products: ProductRow[]; variants: VariantRow[] }, 'products'>({
  name: 'products',
  label: 'Products',
  scopes: ['read_products'],
  dependsOn: [],
  root: { key: 'products', table: 'shopify_products', model: 'ShopifyProduct', columns: productColumns, conflict: ['id'], versioned: true, syncedAt: true },
  children: [{
    key: 'variants', table: 'shopify_product_variants', model: 'ShopifyProductVariant', columns: variantColumns, conflict: ['id'],
    versioned: true, syncedAt: true, parent: 'products', parentColumn: 'product_id', parentIdOf: (r: VariantRow) => r.productId,
    // A product lists all its variants: one it no longer lists was deleted at Shopify.
    whenMissing: 'tombstone', bulkType: 'ProductVariant',
  }],
  emptyRows: () => ({ products: [], variants: [] }),
  toRows: (record, ctx) => productBundle(record, ctx.id, ctx.updatedAt, ctx.tenantId, ctx.sealer),
  childRow: (_table, node, ctx) => variantRow(node, ctx.parentId, ctx.tenantId, ctx.sealer, null),
  graphql: {
    connection: 'products',
    type: 'Product',
    count: 'productsCount',
    fields: 'id legacyResourceId title handle vendor productType status tags publishedAt createdAt updatedAt',
    connections: [{
      field: 'variants',
      table: 'variants',
      fields: 'id legacyResourceId title sku barcode position price compareAtPrice inventoryQuantity inventoryItem { id } createdAt updatedAt selectedOptions { name value }',
      pageSize: 20,
    }],
    updatedAtSortKey: 'UPDATED_AT',
    baseQuery: null,
  },
  // REST bodies (listings and webhooks) hold at most 100 variants; products may have 2,048.
  rest: { path: '/products.json', baseQuery: {}, countPath: '/products/count.json', eventFilter: 'Product', capped: { field: 'variants', max: 100 } },
  webhooks: { upsert: ['products/create', 'products/update'], delete: ['products/delete'], refetch: [] },
  deletions: { eventSubjectType: 'PRODUCT', reconcileIds: false },
  privacy: null,
  schedule: { enabled: true, schedule: '0 2 * * *', options: { batchSize: 75, concurrency: 2 } },
});
