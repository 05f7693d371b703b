/**
 * How many records a run will list, for progress bars (done/total, ETA). Shopify answers this
 * cheaply: REST has a count endpoint per resource (`/orders/count.json?status=any`, one request);
 * GraphQL has `ordersCount` and friends, and a bulk operation reports `objectCount`. The counter is
 * a function of its own so an engine can bring its own; a run never waits for it or fails by it.
 */
import type { ResourceType } from '../store/rows.js';

/** What a run lists: the resource, its REST path and the filters of the listing. */
export interface TotalRequest {
  resource: ResourceType;
  /** REST listing path, e.g. `/orders.json`. */
  path: string;
  /** The listing's filters (`status`, `updated_at_min`, `updated_at_max`); paging keys are left out. */
  filters: Record<string, string | number>;
}

/**
 * Returns how many records match a listing, or undefined when it cannot tell.
 *
 * @example
 * ```ts
 * const countTotal: TotalCounter = async ({ resource }) => (resource === 'orders' ? 1200 : undefined);
 * ```
 */
export type TotalCounter = (request: TotalRequest) => Promise<number | undefined>;

/** The part of a client a REST counter uses. */
export interface CountingClient {
  get<T = unknown>(path: string, query?: Record<string, string | number | boolean | undefined>): Promise<T>;
}

/**
 * Counts through Shopify's REST count endpoints: `/orders.json` → `/orders/count.json` with the
 * same filters. They accept `status` and the `updated_at_*` bounds, not `since_id`, so a resumed
 * run's total is the whole listing's.
 *
 * @example
 * ```ts
 * const count = restTotalCounter(client);
 * await count({ resource: 'orders', path: '/orders.json', filters: { status: 'any' } }); // 1200
 * ```
 */
export function restTotalCounter(client: CountingClient): TotalCounter {
  return async ({ path, filters }) => {
    const countPath = path.replace(/\.json$/, '/count.json');
    const body = await client.get<{ count?: unknown }>(countPath, filters);
    const count = Number(body?.count);
    return Number.isSafeInteger(count) && count >= 0 ? count : undefined;
  };
}
