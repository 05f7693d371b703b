/**
 * Webhook topics the SDK processes itself, and the payload type of each.
 * Payload types are deliberately loose (Shopify adds fields every API version): the fields the SDK
 * relies on are typed, the rest is `unknown`. Integers beyond 2^53 arrive as `bigint`
 * (see parseShopifyJson), so ids are `number | bigint`.
 */
import { RESOURCE_TOPICS } from '../resources/registry.js';

/** A Shopify numeric id: `bigint` when it does not fit a double exactly. */
export type ShopifyId = number | bigint;

export interface CustomerPayload {
  id: ShopifyId;
  email?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  phone?: string | null;
  updated_at?: string;
  created_at?: string;
  admin_graphql_api_id?: string;
  [field: string]: unknown;
}

export interface ProductPayload {
  id: ShopifyId;
  title?: string;
  updated_at?: string;
  variants?: Array<{ id: ShopifyId; [field: string]: unknown }>;
  admin_graphql_api_id?: string;
  [field: string]: unknown;
}

export interface OrderPayload {
  id: ShopifyId;
  name?: string;
  email?: string | null;
  updated_at?: string;
  financial_status?: string | null;
  line_items?: Array<{ id: ShopifyId; [field: string]: unknown }>;
  admin_graphql_api_id?: string;
  [field: string]: unknown;
}

/** `orders/edited`: the edit, not the order (https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-orders/edited). */
export interface OrderEditedPayload {
  order_edit: { id: ShopifyId; order_id: ShopifyId; app_id?: ShopifyId | null; created_at?: string; committed_at?: string; notify_customer?: boolean; staff_note?: string; line_items?: unknown; [field: string]: unknown };
  [field: string]: unknown;
}

/** `customers/delete`, `products/delete`, `orders/delete`: only the id. */
export interface DeletePayload {
  id: ShopifyId;
  [field: string]: unknown;
}

export interface AppUninstalledPayload {
  id?: ShopifyId;
  domain?: string;
  myshopify_domain?: string;
  [field: string]: unknown;
}

export interface BulkOperationFinishPayload {
  admin_graphql_api_id: string;
  completed_at?: string | null;
  created_at?: string;
  error_code?: string | null;
  status: string;
  type: string;
  [field: string]: unknown;
}

/** https://shopify.dev/docs/apps/build/privacy-law-compliance#customers-redact */
export interface CustomersRedactPayload {
  shop_id: ShopifyId;
  shop_domain: string;
  customer: { id: ShopifyId; email?: string | null; phone?: string | null };
  orders_to_redact?: ShopifyId[];
  [field: string]: unknown;
}

/** https://shopify.dev/docs/apps/build/privacy-law-compliance#shop-redact */
export interface ShopRedactPayload {
  shop_id: ShopifyId;
  shop_domain: string;
  [field: string]: unknown;
}

/** https://shopify.dev/docs/apps/build/privacy-law-compliance#customers-data_request */
export interface CustomersDataRequestPayload {
  shop_id: ShopifyId;
  shop_domain: string;
  orders_requested?: ShopifyId[];
  customer: { id: ShopifyId; email?: string | null; phone?: string | null };
  data_request?: { id: ShopifyId };
  [field: string]: unknown;
}

/** Topic -> payload type, so `service.on('orders/paid', (e) => e.payload.financial_status)` is typed. */
export interface WebhookPayloads {
  'customers/create': CustomerPayload;
  'customers/update': CustomerPayload;
  'customers/delete': DeletePayload;
  'products/create': ProductPayload;
  'products/update': ProductPayload;
  'products/delete': DeletePayload;
  'orders/create': OrderPayload;
  'orders/updated': OrderPayload;
  'orders/paid': OrderPayload;
  'orders/cancelled': OrderPayload;
  'orders/fulfilled': OrderPayload;
  'orders/partially_fulfilled': OrderPayload;
  'orders/edited': OrderEditedPayload;
  'orders/delete': DeletePayload;
  'app/uninstalled': AppUninstalledPayload;
  'bulk_operations/finish': BulkOperationFinishPayload;
  'customers/redact': CustomersRedactPayload;
  'shop/redact': ShopRedactPayload;
  'customers/data_request': CustomersDataRequestPayload;
}

/** A topic the SDK knows. Other topics are still stored and dispatched to `onAny` handlers. */
export type WebhookTopic = keyof WebhookPayloads;

/** Topics of the app's lifecycle and of privacy law the SDK acts upon (not tied to a resource). */
export const LIFECYCLE_TOPICS = Object.freeze(['app/uninstalled', 'bulk_operations/finish'] as const);

/** The three mandatory privacy topics (`compliance_topics` in shopify.app.toml). */
export const COMPLIANCE_TOPICS = Object.freeze(['customers/data_request', 'customers/redact', 'shop/redact'] as const);

/** Every topic the SDK applies to the database or acts upon: the registry's resource topics, then lifecycle and compliance topics. */
export const WEBHOOK_TOPICS: readonly WebhookTopic[] = Object.freeze([...RESOURCE_TOPICS, ...LIFECYCLE_TOPICS, ...COMPLIANCE_TOPICS] as WebhookTopic[]);

/**
 * Topics accepted for a tenant that is no longer active: the mandatory privacy topics (`shop/redact`
 * arrives 48 hours after `app/uninstalled` deactivated the tenant,
 * https://shopify.dev/docs/apps/build/privacy-law-compliance) and a repeated `app/uninstalled`.
 */
export const INACTIVE_TENANT_TOPICS: readonly string[] = Object.freeze(['customers/redact', 'shop/redact', 'customers/data_request', 'app/uninstalled']);

/** One stored delivery, as handlers receive it. */
export interface WebhookEvent<T extends string = string> {
  /** Inbox row id (use it with replayWebhook). */
  id: string;
  topic: T;
  tenantId: string;
  shopDomain: string;
  webhookId: string;
  eventId: string | null;
  apiVersion: string | null;
  triggeredAt: Date | null;
  receivedAt: Date;
  /** 1 for the first processing attempt. */
  attempt: number;
  payload: T extends WebhookTopic ? WebhookPayloads[T] : Record<string, unknown>;
}
