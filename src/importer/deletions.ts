import type { Logger } from '../logger.js';
import type { ResourceType } from '../store/rows.js';
import type { IngestStore } from '../store/types.js';
import { shopifyIdOf } from './resources.js';
import type { ImportClient } from './types.js';

/**
 * Deletions a sync notices on its own, for when a `orders/delete` or `products/delete` webhook
 * was never delivered (Shopify drops a subscription's deliveries after 19 failed attempts over
 * 48 hours: https://shopify.dev/docs/apps/build/webhooks/troubleshooting-webhooks).
 *
 * Orders and products: Shopify's Events API records a `destroy` event for each
 * (https://shopify.dev/docs/api/admin-rest/latest/resources/event, `filter=Order,Product&verb=destroy`),
 * so an incremental sync reads the destroy events created since its previous watermark (minus the
 * overlap) — a handful of requests, however large the store.
 *
 * Customers have no events there, so a full customer sync reconciles ids instead: it lists every
 * id (`fields=id`, ascending by `since_id`) and tombstones stored ids Shopify no longer has, range
 * by range, so memory stays flat.
 *
 * Tombstones go through `store.markDeleted`, which never lets an older version win.
 */
export async function applyDestroyEvents(input: {
  client: ImportClient;
  store: IngestStore;
  tenantId: string;
  resource: ResourceType;
  subject: 'Order' | 'Product';
  since: Date;
  pageSize: number;
  logger: Logger;
}): Promise<number> {
  const { client, store, tenantId, resource, subject } = input;
  let deleted = 0;
  const query = { filter: subject, verb: 'destroy', created_at_min: input.since.toISOString(), limit: input.pageSize };
  for await (const page of client.pages<Record<string, unknown>>('/events.json', query)) {
    const ids: bigint[] = [];
    let latest = 0;
    for (const event of page) {
      // The filter is applied again here: a host's proxy or an older API may ignore it.
      if (event.verb !== 'destroy' || (event.subject_type !== undefined && event.subject_type !== subject)) continue;
      const id = shopifyIdOf({ id: event.subject_id });
      if (id === null) continue;
      ids.push(id);
      const at = Date.parse(String(event.created_at ?? ''));
      if (!Number.isNaN(at) && at > latest) latest = at;
    }
    if (ids.length === 0) continue;
    // One tombstone time per page: the newest event of the page. A deleted id has no version newer
    // than its destroy event, so a later tombstone time can only make the tombstone win, never lose.
    deleted += await store.markDeleted(tenantId, resource, ids, new Date(latest || Date.now()));
  }
  if (deleted > 0) input.logger.info('tombstoned records deleted at Shopify (destroy events)', { tenantId, resource, deleted });
  return deleted;
}

/** Tombstones stored ids Shopify no longer lists (see {@link applyDestroyEvents} for why customers need this). */
export async function reconcileIds(input: {
  client: ImportClient;
  store: IngestStore;
  tenantId: string;
  resource: ResourceType;
  path: string;
  baseQuery: Record<string, string>;
  /** Reconciliation start: rows changed after it are left alone, tombstones carry this time. */
  startedAt: Date;
  pageSize: number;
  logger: Logger;
}): Promise<number> {
  const { client, store, tenantId, resource, startedAt } = input;
  let deleted = 0;
  let previous: bigint | null = null;
  const tombstoneMissing = async (upTo: bigint | null, seen: Set<bigint>): Promise<void> => {
    let after = previous;
    for (;;) {
      const stored = await store.listStoredIds(tenantId, resource, { afterId: after, upToId: upTo, changedBefore: startedAt, limit: 1000 });
      const missing = stored.filter((id) => !seen.has(id));
      if (missing.length > 0) deleted += await store.markDeleted(tenantId, resource, missing, startedAt);
      if (stored.length < 1000) return;
      after = stored[stored.length - 1];
    }
  };
  const query = { ...input.baseQuery, fields: 'id', since_id: '0', limit: input.pageSize };
  for await (const page of client.pages<Record<string, unknown>>(input.path, query)) {
    const seen = new Set<bigint>();
    let max: bigint | null = null;
    for (const record of page) {
      const id = shopifyIdOf(record);
      if (id === null) continue;
      seen.add(id);
      if (max === null || id > max) max = id;
    }
    if (max === null) continue;
    if (previous !== null && max <= previous) {
      // Not ascending: the ranges would be wrong, and a wrong range deletes live rows. Stop safely.
      input.logger.warn('id reconciliation stopped: listing is not ordered by id', { tenantId, resource });
      return deleted;
    }
    await tombstoneMissing(max, seen);
    previous = max;
  }
  await tombstoneMissing(null, new Set());
  if (deleted > 0) input.logger.info('tombstoned records deleted at Shopify (id reconciliation)', { tenantId, resource, deleted });
  return deleted;
}
