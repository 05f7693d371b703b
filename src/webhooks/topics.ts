/**
 * Webhook topics the SDK processes itself, and the payload type of each.
 * Payload types are deliberately loose (Shopify adds fields every API version): the fields the SDK
 * relies on are typed, the rest is `unknown`. Integers beyond 2^53 arrive as `bigint`
 * (see parseShopifyJson), so ids are `number | bigint`.
 */
import { RESOURCE_TOPICS } from '../resources/registry.js';

/** A Shopify numeric id: `bigint` when it does not fit a double exactly. */
export type ShopifyId = number | bigint;

/** Body of `customers/create` and `customers/update` (REST shape of the webhook's API version). */
export interface CustomerPayload {
  /** Customer id. */
  id: ShopifyId;
  /** Email (PII). */
  email?: string | null;
  /** First name (PII). */
  first_name?: string | null;
  /** Last name (PII). */
  last_name?: string | null;
  /** Phone (PII). */
  phone?: string | null;
  /** ISO-8601 time of the change; newer versions win. */
  updated_at?: string;
  /** ISO-8601 creation time. */
  created_at?: string;
  /** GraphQL id (`gid://shopify/Customer/<id>`): exact even when `id` was parsed as a double. */
  admin_graphql_api_id?: string;
  [field: string]: unknown;
}

/** Body of `products/create` and `products/update`. */
export interface ProductPayload {
  /** Product id. */
  id: ShopifyId;
  /** Title. */
  title?: string;
  /** ISO-8601 time of the change. */
  updated_at?: string;
  /** Its variants (all of them, in a webhook). */
  variants?: Array<{
    /** Variant id. */
    id: ShopifyId;
    [field: string]: unknown;
  }>;
  /** GraphQL id (`gid://shopify/Product/<id>`). */
  admin_graphql_api_id?: string;
  [field: string]: unknown;
}

/** Body of the `orders/*` topics but `orders/delete`. */
export interface OrderPayload {
  /** Order id. */
  id: ShopifyId;
  /** Order name (`#1001`). */
  name?: string;
  /** Contact email (PII). */
  email?: string | null;
  /** ISO-8601 time of the change. */
  updated_at?: string;
  /** Payment status. */
  financial_status?: string | null;
  /** Its line items. */
  line_items?: Array<{
    /** Line item id. */
    id: ShopifyId;
    [field: string]: unknown;
  }>;
  /** GraphQL id (`gid://shopify/Order/<id>`). */
  admin_graphql_api_id?: string;
  [field: string]: unknown;
}

/** `orders/edited`: the edit, not the order (https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-orders/edited). */
export interface OrderEditedPayload {
  /** The edit. */
  order_edit: {
    /** The edit's id. */
    id: ShopifyId;
    /** The edited order. */
    order_id: ShopifyId;
    /** The app that made the edit, if an app did. */
    app_id?: ShopifyId | null;
    /** When the edit began. */
    created_at?: string;
    /** When it was committed. */
    committed_at?: string;
    /** Whether the customer was notified. */
    notify_customer?: boolean;
    /** The staff's note. */
    staff_note?: string;
    /** Line items added and removed. */
    line_items?: unknown;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** `customers/delete`, `products/delete`, `orders/delete`: only the id. */
export interface DeletePayload {
  /** Id of the deleted record. */
  id: ShopifyId;
  [field: string]: unknown;
}

/** Body of `app/uninstalled` (the shop's record). */
export interface AppUninstalledPayload {
  /** Shop id. */
  id?: ShopifyId;
  /** The shop's primary domain. */
  domain?: string;
  /** The shop, `*.myshopify.com`. */
  myshopify_domain?: string;
  [field: string]: unknown;
}

/** Body of `bulk_operations/finish`. */
export interface BulkOperationFinishPayload {
  /** The bulk operation (`gid://shopify/BulkOperation/<id>`). */
  admin_graphql_api_id: string;
  /** When it completed. */
  completed_at?: string | null;
  /** When it was created. */
  created_at?: string;
  /** Why it failed, when it did. */
  error_code?: string | null;
  /** `completed`, `failed`, `canceled`... */
  status: string;
  /** `query` or `mutation`. */
  type: string;
  [field: string]: unknown;
}

/** https://shopify.dev/docs/apps/build/privacy-law-compliance#customers-redact */
export interface CustomersRedactPayload {
  /** Shop id. */
  shop_id: ShopifyId;
  /** The shop. */
  shop_domain: string;
  /** The customer to erase. */
  customer: {
    /** Customer id. */
    id: ShopifyId;
    /** Their email. */
    email?: string | null;
    /** Their phone. */
    phone?: string | null;
  };
  /** Their orders to erase too. */
  orders_to_redact?: ShopifyId[];
  [field: string]: unknown;
}

/** https://shopify.dev/docs/apps/build/privacy-law-compliance#shop-redact */
export interface ShopRedactPayload {
  /** Shop id. */
  shop_id: ShopifyId;
  /** The shop whose data is to be erased. */
  shop_domain: string;
  [field: string]: unknown;
}

/** https://shopify.dev/docs/apps/build/privacy-law-compliance#customers-data_request */
export interface CustomersDataRequestPayload {
  /** Shop id. */
  shop_id: ShopifyId;
  /** The shop. */
  shop_domain: string;
  /** Orders whose data was requested. */
  orders_requested?: ShopifyId[];
  /** The customer asking. */
  customer: {
    /** Customer id. */
    id: ShopifyId;
    /** Their email. */
    email?: string | null;
    /** Their phone. */
    phone?: string | null;
  };
  /** The request. */
  data_request?: {
    /** Request id. */
    id: ShopifyId;
  };
  [field: string]: unknown;
}

/** Topic -> payload type, so `service.on('orders/paid', (e) => e.payload.financial_status)` is typed. */
export interface WebhookPayloads {
  /** A customer was created. */
  'customers/create': CustomerPayload;
  /** A customer changed. */
  'customers/update': CustomerPayload;
  /** A customer was deleted. */
  'customers/delete': DeletePayload;
  /** A product was created. */
  'products/create': ProductPayload;
  /** A product or its variants changed. */
  'products/update': ProductPayload;
  /** A product was deleted. */
  'products/delete': DeletePayload;
  /** An order was placed. */
  'orders/create': OrderPayload;
  /** An order changed. */
  'orders/updated': OrderPayload;
  /** An order was paid. */
  'orders/paid': OrderPayload;
  /** An order was cancelled. */
  'orders/cancelled': OrderPayload;
  /** An order was fulfilled. */
  'orders/fulfilled': OrderPayload;
  /** An order was partly fulfilled. */
  'orders/partially_fulfilled': OrderPayload;
  /** An order was edited: the body is the edit, the order is fetched again. */
  'orders/edited': OrderEditedPayload;
  /** An order was deleted. */
  'orders/delete': DeletePayload;
  /** The app was uninstalled: the tenant is deactivated. */
  'app/uninstalled': AppUninstalledPayload;
  /** A bulk operation finished. */
  'bulk_operations/finish': BulkOperationFinishPayload;
  /** Privacy: erase a customer's data. */
  'customers/redact': CustomersRedactPayload;
  /** Privacy: erase a shop's data (48 hours after uninstall). */
  'shop/redact': ShopRedactPayload;
  /** Privacy: a customer asked for their data. */
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
  /** Its topic (`orders/paid`). */
  topic: T;
  /** The tenant whose shop sent it. */
  tenantId: string;
  /** The shop (`X-Shopify-Shop-Domain`). */
  shopDomain: string;
  /** `X-Shopify-Webhook-Id`: the delivery, the same on every retry (deduplication key). */
  webhookId: string;
  /** `X-Shopify-Event-Id`: the event, shared by the topics it triggered. */
  eventId: string | null;
  /** `X-Shopify-API-Version` of the body. */
  apiVersion: string | null;
  /** `X-Shopify-Triggered-At`: when Shopify raised it. */
  triggeredAt: Date | null;
  /** When this app stored it. */
  receivedAt: Date;
  /** 1 for the first processing attempt. */
  attempt: number;
  /** The parsed body (ids beyond 2^53 as `bigint`). */
  payload: T extends WebhookTopic ? WebhookPayloads[T] : Record<string, unknown>;
}
