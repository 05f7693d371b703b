/**
 * Rows as the transformers produce them and the store writes them: one interface per table,
 * field names as in prisma/schema.prisma. Conventions:
 * - ids are `bigint` (exact beyond 2^53);
 * - money is a decimal string (`"19.99"`), never a float;
 * - times are `Date` (UTC instants);
 * - `payload` is the full Shopify record as JSON text (PII already encrypted, ids exact), stored as jsonb;
 * - `*Enc` fields are ciphertext from the key ring; `emailHash` is the blind index.
 */

/** A row of `shopify_customers`: a customer of a tenant's store, contact details encrypted. */
export interface CustomerRow {
  /** Your tenant id; first column of the primary key. */
  tenantId: string;
  /** Shopify's id of the record (exact beyond 2^53). */
  id: bigint;
  /** Email, encrypted by the key ring. */
  emailEnc: string | null;
  /** Blind index of the normalised email (HMAC): find a customer by email without decrypting. */
  emailHash: string | null;
  /** First name, encrypted. */
  firstNameEnc: string | null;
  /** Last name, encrypted. */
  lastNameEnc: string | null;
  /** Phone, encrypted. */
  phoneEnc: string | null;
  /** The customer's addresses as a JSON array, encrypted. */
  addressesEnc: string | null;
  /** Account state: `enabled`, `disabled`, `invited` or `declined`. */
  state: string | null;
  /** Whether the customer verified their email. */
  verifiedEmail: boolean | null;
  /** Whether the customer accepts email marketing. */
  acceptsMarketing: boolean | null;
  /** Comma-separated tags, as Shopify sends them. */
  tags: string | null;
  /** ISO 4217 currency code. */
  currency: string | null;
  /** Number of orders, as Shopify counts them. */
  ordersCount: number | null;
  /** Total spent, a decimal string. */
  totalSpent: string | null;
  /** Shopify's `created_at`. */
  shopifyCreatedAt: Date | null;
  /** Shopify's `updated_at`: a write applies only when it is at least as new as the stored one. */
  shopifyUpdatedAt: Date;
  /** When the record was deleted at Shopify (a tombstone); null while it exists. */
  deletedAt: Date | null;
  /** The full Shopify record as JSON text (PII encrypted, ids exact), stored as `jsonb`. */
  payload: string;
}

/** A row of `shopify_products`. */
export interface ProductRow {
  /** Your tenant id; first column of the primary key. */
  tenantId: string;
  /** Shopify's id of the record (exact beyond 2^53). */
  id: bigint;
  /** Product title. */
  title: string | null;
  /** URL handle. */
  handle: string | null;
  /** Vendor name. */
  vendor: string | null;
  /** Product type, as the merchant set it. */
  productType: string | null;
  /** `active`, `archived` or `draft`. */
  status: string | null;
  /** Comma-separated tags, as Shopify sends them. */
  tags: string | null;
  /** When it was published to the online store; null when unpublished. */
  publishedAt: Date | null;
  /** Shopify's `created_at`. */
  shopifyCreatedAt: Date | null;
  /** Shopify's `updated_at`: a write applies only when it is at least as new as the stored one. */
  shopifyUpdatedAt: Date;
  /** When the record was deleted at Shopify (a tombstone); null while it exists. */
  deletedAt: Date | null;
  /** The full Shopify record as JSON text (PII encrypted, ids exact), stored as `jsonb`. */
  payload: string;
}

/** A row of `shopify_product_variants`. */
export interface VariantRow {
  /** Your tenant id; first column of the primary key. */
  tenantId: string;
  /** Shopify's id of the record (exact beyond 2^53). */
  id: bigint;
  /** The product it belongs to. */
  productId: bigint;
  /** Variant title (e.g. `Large / Red`). */
  title: string | null;
  /** Stock keeping unit. */
  sku: string | null;
  /** Barcode (ISBN, UPC, GTIN...). */
  barcode: string | null;
  /** Order among the product's variants (1-based). */
  position: number | null;
  /** Price, a decimal string. */
  price: string | null;
  /** Compare-at price, a decimal string. */
  compareAtPrice: string | null;
  /** Available quantity, as Shopify reports it. */
  inventoryQuantity: number | null;
  /** The inventory item behind the variant. */
  inventoryItemId: bigint | null;
  /** Shopify's `created_at`. */
  shopifyCreatedAt: Date | null;
  /** Shopify's `updated_at`: a write applies only when it is at least as new as the stored one. */
  shopifyUpdatedAt: Date;
  /** When the record was deleted at Shopify (a tombstone); null while it exists. */
  deletedAt: Date | null;
  /** The full Shopify record as JSON text (PII encrypted, ids exact), stored as `jsonb`. */
  payload: string;
}

/** A row of `shopify_orders`: money as decimal strings, contact details encrypted. */
export interface OrderRow {
  /** Your tenant id; first column of the primary key. */
  tenantId: string;
  /** Shopify's id of the record (exact beyond 2^53). */
  id: bigint;
  /** Order name as shown to the merchant (e.g. `#1001`). */
  name: string | null;
  /** Order number (the name without its prefix). */
  orderNumber: number | null;
  /** The customer who placed it, when known. */
  customerId: bigint | null;
  /** Contact email, encrypted. */
  emailEnc: string | null;
  /** Blind index of the contact email. */
  emailHash: string | null;
  /** Contact phone, encrypted. */
  phoneEnc: string | null;
  /** Payment status (`pending`, `paid`, `refunded`, ...). */
  financialStatus: string | null;
  /** Fulfillment status (`fulfilled`, `partial`, null when unfulfilled). */
  fulfillmentStatus: string | null;
  /** Why it was cancelled, when it was. */
  cancelReason: string | null;
  /** When it was cancelled. */
  cancelledAt: Date | null;
  /** When it was closed (archived). */
  closedAt: Date | null;
  /** When it was processed (its business date). */
  processedAt: Date | null;
  /** ISO 4217 currency code. */
  currency: string | null;
  /** Subtotal after discounts, before shipping and taxes. */
  subtotalPrice: string | null;
  /** Total, including taxes and shipping. */
  totalPrice: string | null;
  /** Total tax. */
  totalTax: string | null;
  /** Total discounts. */
  totalDiscounts: string | null;
  /** Total refunded so far. */
  totalRefunded: string | null;
  /** Number of line items. */
  lineItemCount: number | null;
  /** Comma-separated tags, as Shopify sends them. */
  tags: string | null;
  /** Where it came from (`web`, `pos`, an app...). */
  sourceName: string | null;
  /** A test order (Shopify's bogus gateway). */
  test: boolean | null;
  /** Shopify's `created_at`. */
  shopifyCreatedAt: Date | null;
  /** Shopify's `updated_at`: a write applies only when it is at least as new as the stored one. */
  shopifyUpdatedAt: Date;
  /** When the record was deleted at Shopify (a tombstone); null while it exists. */
  deletedAt: Date | null;
  /** The full Shopify record as JSON text (PII encrypted, ids exact), stored as `jsonb`. */
  payload: string;
}

/** A row of `shopify_order_line_items`, written with its order. */
export interface LineItemRow {
  /** Your tenant id; first column of the primary key. */
  tenantId: string;
  /** Shopify's id of the record (exact beyond 2^53). */
  id: bigint;
  /** The order it belongs to. */
  orderId: bigint;
  /** The product, when it still exists. */
  productId: bigint | null;
  /** The variant, when it still exists. */
  variantId: bigint | null;
  /** Product title at the time of the order. */
  title: string | null;
  /** Variant title at the time of the order. */
  variantTitle: string | null;
  /** SKU at the time of the order. */
  sku: string | null;
  /** Vendor at the time of the order. */
  vendor: string | null;
  /** Quantity ordered. */
  quantity: number;
  /** Unit price, a decimal string. */
  price: string | null;
  /** Discount on this line. */
  totalDiscount: string | null;
  /** Fulfillment status of this line. */
  fulfillmentStatus: string | null;
  /** The full Shopify record as JSON text (PII encrypted, ids exact), stored as `jsonb`. */
  payload: string;
}

/** What happened to an order, as `shopify_order_events` records it. */
export type OrderEventType = 'created' | 'paid' | 'fulfilled' | 'cancelled' | 'refunded';

/** A row of `shopify_order_events`: one lifecycle event of an order (its key makes replays idempotent). */
export interface OrderEventRow {
  /** Your tenant id; first column of the primary key. */
  tenantId: string;
  /** The order. */
  orderId: bigint;
  /** What happened. */
  type: OrderEventType;
  /** Shopify id of what caused the event: the order (created/paid/cancelled), a fulfillment, a refund. */
  sourceId: bigint;
  /** When it happened. */
  occurredAt: Date;
  /** Amount involved (paid, refunded), a decimal string; null when none. */
  amount: string | null;
}

/** A product with its variants, written together. */
export interface ProductBundle {
  /** Product rows. */
  products: ProductRow[];
  /** Their variants. */
  variants: VariantRow[];
}

/** Orders with their line items and events, written together in one transaction. */
export interface OrderBundle {
  /** Order rows. */
  orders: OrderRow[];
  /** Their line items. */
  lineItems: LineItemRow[];
  /** Their lifecycle events. */
  events: OrderEventRow[];
}

/** The resources a sync or a webhook writes: the names of the resource registry (src/resources). */
export type { ResourceName as ResourceType } from '../resources/names.js';

/** Result of a batch write. */
export interface UpsertResult {
  /** Rows inserted or updated (incoming version newer or equal). */
  written: number;
  /** Rows skipped because the stored version is newer, or a tombstone is. */
  stale: number;
}
