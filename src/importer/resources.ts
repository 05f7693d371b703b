import type { CustomerRow, OrderBundle, ProductBundle, ResourceType, UpsertResult } from '../store/rows.js';
import type { IngestStore } from '../store/types.js';
import type { ImportTransformer } from './types.js';

/** How one resource is listed, transformed and written. */
export interface ResourceAdapter<U> {
  resource: ResourceType;
  /** REST listing path; the client infers the list key (`orders`) from it. */
  path: string;
  /** Filters every listing of this resource carries. */
  baseQuery: Record<string, string>;
  /** `subject_type` of this resource in Shopify's Events API, or null when it has no destroy events there. */
  eventSubject: 'Order' | 'Product' | null;
  transform(transformer: ImportTransformer, raw: unknown, tenantId: string): U;
  write(store: IngestStore, tenantId: string, units: U[]): Promise<UpsertResult>;
}

const customers: ResourceAdapter<CustomerRow> = {
  resource: 'customers',
  path: '/customers.json',
  baseQuery: {},
  // Shopify's Events API has no Customer subject (https://shopify.dev/docs/api/admin-rest/latest/resources/event):
  // missed customer deletes are found by id reconciliation on full syncs instead.
  eventSubject: null,
  transform: (t, raw, tenantId) => t.transformCustomer(raw, tenantId),
  write: (store, tenantId, rows) => store.upsertCustomers(tenantId, rows),
};

const products: ResourceAdapter<ProductBundle> = {
  resource: 'products',
  path: '/products.json',
  baseQuery: {},
  eventSubject: 'Product',
  transform: (t, raw, tenantId) => t.transformProduct(raw, tenantId),
  write: (store, tenantId, bundles) => {
    const merged: ProductBundle = { products: [], variants: [] };
    for (const b of bundles) {
      for (const p of b.products) merged.products.push(p);
      for (const v of b.variants) merged.variants.push(v);
    }
    return store.upsertProducts(tenantId, merged);
  },
};

const orders: ResourceAdapter<OrderBundle> = {
  resource: 'orders',
  path: '/orders.json',
  // Without status=any Shopify lists only open orders
  // (https://shopify.dev/docs/api/admin-rest/latest/resources/order#get-orders?status=any).
  baseQuery: { status: 'any' },
  eventSubject: 'Order',
  transform: (t, raw, tenantId) => t.transformOrder(raw, tenantId),
  write: (store, tenantId, bundles) => {
    const merged: OrderBundle = { orders: [], lineItems: [], events: [] };
    for (const b of bundles) {
      for (const o of b.orders) merged.orders.push(o);
      for (const l of b.lineItems) merged.lineItems.push(l);
      for (const e of b.events) merged.events.push(e);
    }
    return store.upsertOrders(tenantId, merged);
  },
};

export const RESOURCE_ADAPTERS = { customers, products, orders } as const satisfies Record<ResourceType, ResourceAdapter<unknown>>;

/** Shopify id of a raw record (number, bigint, numeric string or GraphQL gid), or null. */
export function shopifyIdOf(raw: unknown): bigint | null {
  if (raw === null || typeof raw !== 'object') return null;
  const id = (raw as { id?: unknown }).id;
  if (typeof id === 'bigint') return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return BigInt(id);
  if (typeof id === 'string') {
    const m = /(\d+)$/.exec(id);
    if (m) return BigInt(m[1]);
  }
  return null;
}

/** `updated_at` of a raw record in ms, or null when absent or unreadable. */
export function updatedAtOf(raw: unknown): number | null {
  if (raw === null || typeof raw !== 'object') return null;
  const r = raw as { updated_at?: unknown; updatedAt?: unknown };
  const v = r.updated_at ?? r.updatedAt;
  if (typeof v !== 'string' && !(v instanceof Date)) return null;
  const ms = v instanceof Date ? v.getTime() : Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}
