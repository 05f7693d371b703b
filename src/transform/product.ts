import { stringifyShopifyJson } from '../json.js';
import type { ProductBundle, VariantRow } from '../store/rows.js';
import type { RecordSealer } from './pii.js';
import { FieldError } from './errors.js';
import { int, isObject, lower, money, nodes, pick, refId, resolveId, str, tags, time, type JsonObject } from './values.js';

/**
 * One variant row. `productId` is the product's resolved id, not the variant's own `product_id`: in
 * bodies that lost precision the latter is the rounded number. A variant without `updated_at` (GraphQL
 * queries may not select it) takes `fallbackUpdatedAt`, its product's.
 */
export function variantRow(variant: JsonObject, productId: bigint, tenantId: string, sealer: RecordSealer, fallbackUpdatedAt: Date | null, sealedPayload?: string): VariantRow {
  const variantId = resolveId(variant);
  if (variantId === null) throw new FieldError('a variant has no id');
  const inventoryItem = pick(variant, 'inventory_item_id', 'inventoryItem');
  const updatedAt = time(pick(variant, 'updated_at', 'updatedAt'), 'variant updated_at') ?? fallbackUpdatedAt;
  if (updatedAt === null) throw new FieldError('variant updated_at is missing (needed to order versions)');
  return {
    tenantId,
    id: variantId,
    productId,
    title: str(variant.title),
    sku: str(variant.sku),
    barcode: str(variant.barcode),
    position: int(variant.position, 'variant position'),
    price: money(variant.price, 'variant price'),
    compareAtPrice: money(pick(variant, 'compare_at_price', 'compareAtPrice'), 'variant compare_at_price'),
    inventoryQuantity: int(pick(variant, 'inventory_quantity', 'inventoryQuantity'), 'variant inventory_quantity'),
    inventoryItemId: inventoryItem === undefined || inventoryItem === null ? null : refId(variant, 'inventory_item_id', 'inventoryItem'),
    shopifyCreatedAt: time(pick(variant, 'created_at', 'createdAt'), 'variant created_at'),
    shopifyUpdatedAt: updatedAt,
    deletedAt: null,
    payload: sealedPayload ?? sealer.payload(variant),
  };
}

/** Builds a product and its variants; `id` and `updatedAt` were validated by the caller. */
export function productBundle(data: JsonObject, id: bigint, updatedAt: Date, tenantId: string, sealer: RecordSealer): ProductBundle {
  const sealed = sealer.seal(data) as JsonObject;
  const sealedVariants = nodes(sealed.variants);
  const variants = nodes(data.variants).map((variant, i) => variantRow(variant, id, tenantId, sealer, updatedAt, stringifyShopifyJson(sealedVariants[i])));
  return {
    products: [{
      tenantId,
      id,
      title: str(data.title),
      handle: str(data.handle),
      vendor: str(data.vendor),
      productType: str(pick(data, 'product_type', 'productType')),
      status: lower(data.status),
      tags: tags(data.tags),
      publishedAt: time(pick(data, 'published_at', 'publishedAt'), 'published_at'),
      shopifyCreatedAt: time(pick(data, 'created_at', 'createdAt'), 'created_at'),
      shopifyUpdatedAt: updatedAt,
      deletedAt: null,
      // GraphQL variants (a connection: its first page) are rows of their own, as a bulk file's are.
      payload: stringifyShopifyJson(isObject(sealed.variants) ? withoutKey(sealed, 'variants') : sealed),
    }],
    variants,
  };
}

function withoutKey(record: JsonObject, key: string): JsonObject {
  const { [key]: _omitted, ...rest } = record;
  return rest;
}
