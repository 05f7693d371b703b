/**
 * Rows as the transformers produce them and the store writes them: one interface per table,
 * field names as in prisma/schema.prisma. Conventions:
 * - ids are `bigint` (exact beyond 2^53);
 * - money is a decimal string (`"19.99"`), never a float;
 * - times are `Date` (UTC instants);
 * - `payload` is the full Shopify record as JSON text (PII already encrypted, ids exact), stored as jsonb;
 * - `*Enc` fields are ciphertext from the key ring; `emailHash` is the blind index.
 */

export interface CustomerRow {
  tenantId: string;
  id: bigint;
  emailEnc: string | null;
  emailHash: string | null;
  firstNameEnc: string | null;
  lastNameEnc: string | null;
  phoneEnc: string | null;
  addressesEnc: string | null;
  state: string | null;
  verifiedEmail: boolean | null;
  acceptsMarketing: boolean | null;
  tags: string | null;
  currency: string | null;
  ordersCount: number | null;
  totalSpent: string | null;
  shopifyCreatedAt: Date | null;
  shopifyUpdatedAt: Date;
  deletedAt: Date | null;
  payload: string;
}

export interface ProductRow {
  tenantId: string;
  id: bigint;
  title: string | null;
  handle: string | null;
  vendor: string | null;
  productType: string | null;
  status: string | null;
  tags: string | null;
  publishedAt: Date | null;
  shopifyCreatedAt: Date | null;
  shopifyUpdatedAt: Date;
  deletedAt: Date | null;
  payload: string;
}

export interface VariantRow {
  tenantId: string;
  id: bigint;
  productId: bigint;
  title: string | null;
  sku: string | null;
  barcode: string | null;
  position: number | null;
  price: string | null;
  compareAtPrice: string | null;
  inventoryQuantity: number | null;
  inventoryItemId: bigint | null;
  shopifyCreatedAt: Date | null;
  shopifyUpdatedAt: Date;
  deletedAt: Date | null;
  payload: string;
}

export interface OrderRow {
  tenantId: string;
  id: bigint;
  name: string | null;
  orderNumber: number | null;
  customerId: bigint | null;
  emailEnc: string | null;
  emailHash: string | null;
  phoneEnc: string | null;
  financialStatus: string | null;
  fulfillmentStatus: string | null;
  cancelReason: string | null;
  cancelledAt: Date | null;
  closedAt: Date | null;
  processedAt: Date | null;
  currency: string | null;
  subtotalPrice: string | null;
  totalPrice: string | null;
  totalTax: string | null;
  totalDiscounts: string | null;
  totalRefunded: string | null;
  lineItemCount: number | null;
  tags: string | null;
  sourceName: string | null;
  test: boolean | null;
  shopifyCreatedAt: Date | null;
  shopifyUpdatedAt: Date;
  deletedAt: Date | null;
  payload: string;
}

export interface LineItemRow {
  tenantId: string;
  id: bigint;
  orderId: bigint;
  productId: bigint | null;
  variantId: bigint | null;
  title: string | null;
  variantTitle: string | null;
  sku: string | null;
  vendor: string | null;
  quantity: number;
  price: string | null;
  totalDiscount: string | null;
  fulfillmentStatus: string | null;
  payload: string;
}

export type OrderEventType = 'created' | 'paid' | 'fulfilled' | 'cancelled' | 'refunded';

export interface OrderEventRow {
  tenantId: string;
  orderId: bigint;
  type: OrderEventType;
  /** Shopify id of what caused the event: the order (created/paid/cancelled), a fulfillment, a refund. */
  sourceId: bigint;
  occurredAt: Date;
  amount: string | null;
}

/** A product with its variants, written together. */
export interface ProductBundle {
  products: ProductRow[];
  variants: VariantRow[];
}

/** Orders with their line items and events, written together in one transaction. */
export interface OrderBundle {
  orders: OrderRow[];
  lineItems: LineItemRow[];
  events: OrderEventRow[];
}

/** The resources a sync or a webhook writes: the names of the resource registry (src/resources). */
export type { ResourceName as ResourceType } from '../resources/registry.js';

/** Result of a batch write. */
export interface UpsertResult {
  /** Rows inserted or updated (incoming version newer or equal). */
  written: number;
  /** Rows skipped because the stored version is newer, or a tombstone is. */
  stale: number;
}
