/**
 * What the SDK itself does with each topic: the same transformers and store as the importer, so the
 * store's updated_at guard and tombstones make duplicate and out-of-order deliveries harmless
 * (an `orders/updated` older than the stored version changes nothing; `products/update` before
 * `products/create` works; a late create cannot resurrect a deleted record).
 */
import type { KeyRing } from '../crypto/index.js';
import { parseShopifyJson } from '../json.js';
import { createYielder } from '../yielder.js';
import type { Logger } from '../logger.js';
import { revealPayload } from '../transform/pii.js';
import { readStoredCustomerData, type WebhookInbox } from '../store/inbox.js';
import type { SqlExecutor } from '../store/prisma-like.js';
import type { CustomerRow, OrderBundle, ProductBundle, ResourceType } from '../store/rows.js';
import type { IngestStore } from '../store/types.js';
import type { ShopifyId, WebhookEvent } from './topics.js';

/** The transformer surface used here (a `ShopifyTransformer` instance fits). */
export interface WebhookTransformer {
  /** A customer row from a webhook body. */
  transformCustomer(data: any, tenantId: string): CustomerRow;
  /** A product and its variants from a webhook body. */
  transformProduct(data: any, tenantId: string): ProductBundle;
  /** An order, its line items and events from a webhook body. */
  transformOrder(data: any, tenantId: string): OrderBundle;
}

/** What `customers/data_request` hands to the host: everything stored about the customer, decrypted. */
export interface CustomerDataExport {
  /** The customer. */
  customerId: bigint;
  /** The stored customer (PII decrypted), or null when nothing is stored. */
  customer: Record<string, unknown> | null;
  /** The customer's stored orders and the requested ones (PII decrypted). */
  orders: Array<Record<string, unknown>>;
  /** Shopify's data request id, to quote when answering the merchant. */
  dataRequestId: string | null;
}

/** What the host is told about privacy requests and uninstalls (options of `createWebhookService`). */
export interface ApplyHooks {
  /** customers/data_request: send the data to the merchant within 30 days (https://shopify.dev/docs/apps/build/privacy-law-compliance#customers-data_request). */
  onDataRequest?: (tenantId: string, data: CustomerDataExport, event: WebhookEvent<'customers/data_request'>) => unknown | Promise<unknown>;
  /** Called after app/uninstalled deactivated a tenant (e.g. to drop cached clients). */
  onTenantDeactivated?: (tenantId: string) => unknown | Promise<unknown>;
}

/** What applying a stored delivery needs (built by `createWebhookService`). */
export interface ApplyContext {
  /** Runs SQL (redactions, purges) in the caller's transaction. */
  db: SqlExecutor;
  /** Writes synced rows. */
  store: IngestStore;
  /** The webhook inbox (a shop/redact deletes the tenant's rows there too). */
  inbox: WebhookInbox;
  /** Turns webhook bodies into rows. */
  transformer: WebhookTransformer;
  /** Decrypts bodies and stored PII (data requests). */
  keyRing: KeyRing;
  /** Where applying logs. */
  logger: Logger;
  /** The host's callbacks. */
  hooks: ApplyHooks;
}

const UPSERT_TOPICS: Record<string, ResourceType> = {
  'customers/create': 'customers', 'customers/update': 'customers',
  'products/create': 'products', 'products/update': 'products',
  'orders/create': 'orders', 'orders/updated': 'orders', 'orders/paid': 'orders',
  'orders/cancelled': 'orders', 'orders/fulfilled': 'orders', 'orders/edited': 'orders',
};

const DELETE_TOPICS: Record<string, ResourceType> = {
  'customers/delete': 'customers', 'products/delete': 'products', 'orders/delete': 'orders',
};

export function toBigInt(id: ShopifyId | string | null | undefined): bigint {
  if (typeof id === 'bigint') return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return BigInt(id);
  if (typeof id === 'string' && /^-?\d+$/.test(id)) return BigInt(id);
  throw new TypeError(`not a Shopify id: ${String(id)}`);
}

/** Prefers the exact id of `admin_graphql_api_id` when the numeric id may have lost precision. */
function idOf(payload: { id?: ShopifyId; admin_graphql_api_id?: unknown }): bigint {
  const gid = typeof payload.admin_graphql_api_id === 'string' ? /\/(\d+)$/.exec(payload.admin_graphql_api_id)?.[1] : undefined;
  if (gid) return BigInt(gid);
  return toBigInt(payload.id);
}

/** Keeps, per id, the version with the newest shopifyUpdatedAt (one statement may touch a row once). */
function latestBy<T>(items: T[], key: (t: T) => bigint, updatedAt: (t: T) => Date): T[] {
  const map = new Map<bigint, T>();
  for (const item of items) {
    const k = key(item);
    const prev = map.get(k);
    if (!prev || updatedAt(item).getTime() >= updatedAt(prev).getTime()) map.set(k, item);
  }
  return [...map.values()];
}

function mergeProducts(bundles: ProductBundle[]): ProductBundle {
  const latest = latestBy(bundles.filter((b) => b.products.length > 0), (b) => b.products[0]!.id, (b) => b.products[0]!.shopifyUpdatedAt);
  return { products: latest.flatMap((b) => b.products), variants: latest.flatMap((b) => b.variants) };
}

function mergeOrders(bundles: OrderBundle[]): OrderBundle {
  const latest = latestBy(bundles.filter((b) => b.orders.length > 0), (b) => b.orders[0]!.id, (b) => b.orders[0]!.shopifyUpdatedAt);
  return { orders: latest.flatMap((b) => b.orders), lineItems: latest.flatMap((b) => b.lineItems), events: latest.flatMap((b) => b.events) };
}

/** Decrypts a stored row for a data export: `*Enc` columns opened (JSON ones parsed), payload PII restored. */
function decodeStoredRow(row: Record<string, unknown>, keyRing: KeyRing, tenantId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === 'payload' && typeof value === 'string') out.payload = revealPayload(value, tenantId, keyRing);
    else if (key.endsWith('Enc')) {
      const plain = typeof value === 'string' ? keyRing.decrypt(value, tenantId) : null;
      let parsed: unknown = plain;
      if (plain !== null && /^[[{]/.test(plain)) { try { parsed = parseShopifyJson(plain); } catch { /* plain text */ } }
      out[key.slice(0, -3)] = parsed;
    } else out[key] = value;
  }
  return out;
}

async function applyOne(ctx: ApplyContext, event: WebhookEvent): Promise<void> {
  const { store, transformer } = ctx;
  const tenantId = event.tenantId;
  const payload = event.payload as Record<string, any>;
  const upsert = UPSERT_TOPICS[event.topic];
  if (upsert === 'customers') { await store.upsertCustomers(tenantId, [transformer.transformCustomer(payload, tenantId)]); return; }
  if (upsert === 'products') { await store.upsertProducts(tenantId, transformer.transformProduct(payload, tenantId)); return; }
  if (upsert === 'orders') { await store.upsertOrders(tenantId, transformer.transformOrder(payload, tenantId)); return; }
  const deleted = DELETE_TOPICS[event.topic];
  if (deleted) {
    await store.markDeleted(tenantId, deleted, [idOf(payload)], event.triggeredAt ?? event.receivedAt);
    return;
  }
  switch (event.topic) {
    case 'app/uninstalled':
      await store.setTenantActive(tenantId, false);
      await ctx.hooks.onTenantDeactivated?.(tenantId);
      return;
    case 'customers/redact': {
      const customerId = toBigInt(payload.customer?.id);
      const orderIds = ((payload.orders_to_redact ?? []) as ShopifyId[]).map(toBigInt);
      await store.redactCustomer(tenantId, customerId, orderIds);
      // Earlier deliveries of this tenant may carry the customer's PII in their encrypted bodies.
      await ctx.inbox.clearProcessedBodies(tenantId);
      return;
    }
    case 'shop/redact':
      await store.purgeTenant(tenantId);
      await ctx.inbox.purgeTenant(tenantId, event.id);
      return;
    case 'customers/data_request': {
      const customerId = toBigInt(payload.customer?.id);
      const orderIds = ((payload.orders_requested ?? []) as ShopifyId[]).map(toBigInt);
      const stored = await readStoredCustomerData(ctx.db, tenantId, customerId, orderIds);
      const data: CustomerDataExport = {
        customerId,
        customer: stored.customer ? decodeStoredRow(stored.customer, ctx.keyRing, tenantId) : null,
        orders: stored.orders.map((o) => decodeStoredRow(o, ctx.keyRing, tenantId)),
        dataRequestId: payload.data_request?.id != null ? String(payload.data_request.id) : null,
      };
      if (ctx.hooks.onDataRequest) await ctx.hooks.onDataRequest(tenantId, data, event as WebhookEvent<'customers/data_request'>);
      else ctx.logger.warn('customers/data_request received but no onDataRequest hook is configured', { tenantId: tenantId, webhookId: event.webhookId });
      return;
    }
    default:
      // bulk_operations/finish and unknown topics: only the host's handlers act on them.
      return;
  }
}

/**
 * Applies a batch of events to the store. Upserts of one tenant and resource are written by one
 * set-based call (latest version per id); if that call fails, its events are retried one by one so a
 * single bad record does not fail the others.
 *
 * @returns the error of each event that could not be applied, by inbox id
 */
export async function applyWebhookEvents(ctx: ApplyContext, events: WebhookEvent[]): Promise<Map<string, unknown>> {
  const failures = new Map<string, unknown>();
  const groups = new Map<string, WebhookEvent[]>();
  const singles: WebhookEvent[] = [];
  for (const event of events) {
    const resource = UPSERT_TOPICS[event.topic];
    if (!resource) { singles.push(event); continue; }
    const key = `${event.tenantId}\u0000${resource}`;
    const list = groups.get(key) ?? [];
    list.push(event);
    groups.set(key, list);
  }

  for (const [key, group] of groups) {
    const [tenantId, resource] = key.split('\u0000') as [string, ResourceType];
    if (group.length === 1) { singles.push(group[0]!); continue; }
    const ok: WebhookEvent[] = [];
    const rows: unknown[] = [];
    const pause = createYielder();
    for (const event of group) {
      await pause();
      try {
        const p = event.payload as Record<string, unknown>;
        rows.push(resource === 'customers' ? ctx.transformer.transformCustomer(p, tenantId)
          : resource === 'products' ? ctx.transformer.transformProduct(p, tenantId)
            : ctx.transformer.transformOrder(p, tenantId));
        ok.push(event);
      } catch (error) {
        failures.set(event.id, error);
      }
    }
    try {
      if (resource === 'customers') {
        await ctx.store.upsertCustomers(tenantId, latestBy(rows as CustomerRow[], (r) => r.id, (r) => r.shopifyUpdatedAt));
      } else if (resource === 'products') {
        await ctx.store.upsertProducts(tenantId, mergeProducts(rows as ProductBundle[]));
      } else {
        await ctx.store.upsertOrders(tenantId, mergeOrders(rows as OrderBundle[]));
      }
    } catch (error) {
      ctx.logger.warn('batched webhook upsert failed; applying one by one', { tenantId, resource, count: ok.length, error });
      singles.push(...ok);
    }
  }

  for (const event of singles) {
    try {
      await applyOne(ctx, event);
    } catch (error) {
      failures.set(event.id, error);
    }
  }
  return failures;
}
