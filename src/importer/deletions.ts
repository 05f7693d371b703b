/**
 * Deletions a sync finds on its own, for when a `<resource>/delete` webhook was never delivered (Shopify
 * drops a subscription's deliveries after failing for 48 hours:
 * https://shopify.dev/docs/apps/build/webhooks/troubleshooting-webhooks).
 *
 * - Resources with destroy events (orders, products): Shopify's `events` query
 *   (`action:destroy subject_type:ORDER`, kept for a year), or the REST Events API for the REST
 *   source, read since the last successful probe. A handful of requests whatever the store's size.
 * - Resources without (customers): a full sync lists every id (an id-only bulk operation, or REST
 *   `fields=id` pages) into `shopify_listed_ids`, and the database tombstones the stored ids the
 *   listing lacks: memory stays flat, the comparison is one set operation per chunk.
 *
 * A listing is trusted only when it is provably complete: its length must equal the bulk
 * operation's `rootObjectCount` (or, over REST, Shopify's count before and after it). Otherwise
 * nothing is deleted. Tombstones inferred from a listing are revocable: a record Shopify lists again
 * is live again (store/versioning.ts). A probe that fails does not fail the sync: the caller records
 * it, keeps the probe's own watermark, and the next run tries again.
 */
import { BulkOperations } from '../client/bulk-operations.js';
import { parseGid, toBigId } from '../transform/values.js';
import { ImportError } from './errors.js';
import { readJsonl } from './jsonl.js';
import { bulkIdsQuery, DESTROY_EVENTS_QUERY, destroyEventsSearch } from './queries.js';
import type { ResourceDefinition } from '../resources/definition.js';
import type { RunFrame } from './run-frame.js';
import type { BulkDeps } from './bulk-listing.js';
import type { GraphqlImportClient, ImportClient } from './types.js';

const ID_CHUNK = 5000;

/**
 * Destroy events of `target` (the run's resource, or the carrier it rides on) since `since` over
 * GraphQL; returns tombstones written.
 */
export async function graphqlDestroyEvents(frame: RunFrame, client: GraphqlImportClient, since: Date, target: ResourceDefinition = frame.resource): Promise<number> {
  const subject = target.deletions.eventSubjectType;
  if (!subject) return 0;
  let after: string | null = null;
  let deleted = 0;
  for (;;) {
    const data: { events?: { nodes: Array<{ action?: string; createdAt?: string; subjectId?: string; subjectType?: string }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } =
      await client.graphql(DESTROY_EVENTS_QUERY, { first: 250, after, query: destroyEventsSearch(subject, since) }, { signal: frame.options.signal });
    const page = data?.events;
    if (!page || !Array.isArray(page.nodes) || !page.pageInfo) throw new ImportError('events query returned no events.nodes/pageInfo', { code: 'SHOPIFY_BAD_RESPONSE' });
    const ids: bigint[] = [];
    let latest = 0;
    for (const event of page.nodes) {
      // The filter is applied again here: a proxy or an older API version may ignore part of it.
      if (event.action !== 'destroy' || (event.subjectType !== undefined && event.subjectType !== subject)) continue;
      const id = parseGid(event.subjectId) ?? toBigId(event.subjectId ?? null);
      if (id === null) continue;
      ids.push(id);
      const at = Date.parse(String(event.createdAt ?? ''));
      if (!Number.isNaN(at) && at > latest) latest = at;
    }
    // One tombstone time per page: its newest event. A deleted id has no version newer than its
    // destroy event, so a later tombstone time can only make the tombstone win, never lose.
    if (ids.length > 0 && !frame.dry) deleted += await frame.deps.store.markDeleted(frame.tenantId, target.name as typeof frame.name, ids, new Date(latest || frame.deps.clock().getTime()));
    if (!page.pageInfo.hasNextPage) break;
    if (!page.pageInfo.endCursor || page.pageInfo.endCursor === after) throw new ImportError('events query has a next page but no new cursor', { code: 'SHOPIFY_BAD_RESPONSE' });
    after = page.pageInfo.endCursor;
  }
  return deleted;
}

/** Destroy events since `since` over REST (`GET /events.json?filter=Order&verb=destroy`). */
export async function restDestroyEvents(frame: RunFrame, client: ImportClient, since: Date): Promise<number> {
  const filter = frame.resource.rest?.eventFilter;
  if (!filter) return 0;
  let deleted = 0;
  const query = { filter, verb: 'destroy', created_at_min: since.toISOString(), limit: 250 };
  for await (const page of client.pages<Record<string, unknown>>('/events.json', query, { signal: frame.options.signal })) {
    const ids: bigint[] = [];
    let latest = 0;
    for (const event of page) {
      if (event.verb !== 'destroy' || (event.subject_type !== undefined && event.subject_type !== filter)) continue;
      const id = toBigId(event.subject_id ?? null);
      if (id === null) continue;
      ids.push(id);
      const at = Date.parse(String(event.created_at ?? ''));
      if (!Number.isNaN(at) && at > latest) latest = at;
    }
    if (ids.length > 0 && !frame.dry) deleted += await frame.deps.store.markDeleted(frame.tenantId, frame.name, ids, new Date(latest || frame.deps.clock().getTime()));
  }
  return deleted;
}

/** Writes listed ids in chunks; resolves to how many. */
async function collect(frame: RunFrame, listingId: string, ids: AsyncIterable<bigint>): Promise<number> {
  let chunk: bigint[] = [];
  let total = 0;
  for await (const id of ids) {
    chunk.push(id);
    if (chunk.length >= ID_CHUNK) {
      await frame.deps.store.addListedIds(frame.tenantId, frame.name, listingId, chunk);
      total += chunk.length;
      chunk = [];
    }
  }
  if (chunk.length > 0) {
    await frame.deps.store.addListedIds(frame.tenantId, frame.name, listingId, chunk);
    total += chunk.length;
  }
  return total;
}

/** How many longest poll delays an id reconciliation waits for a bulk-operation slot. */
const RECONCILE_LIMIT_POLLS = 10;

/** Id reconciliation over GraphQL: an id-only bulk operation, checked against its `rootObjectCount`. */
export async function graphqlReconcile(frame: RunFrame, client: GraphqlImportClient, deps: BulkDeps, startedAt: Date): Promise<number> {
  if (!frame.resource.deletions.reconcileIds || frame.dry) return 0;
  // The run holds its lock until this ends: at the shop's bulk limit (the host app's operations), it
  // waits about ten polls, then fails as a deletion probe and the next run reconciles.
  const maxPollMs = deps.maxPollMs ?? 30_000;
  const bulk = new BulkOperations(client, { logger: frame.deps.logger, minPollMs: deps.minPollMs, maxPollMs, limitWaitMs: RECONCILE_LIMIT_POLLS * maxPollMs });
  const query = bulkIdsQuery(frame.resource);
  const started = (await bulk.findRunning(query, { signal: frame.options.signal })) ?? await bulk.start(query, { signal: frame.options.signal });
  const state = await bulk.waitFor(started.id, { signal: frame.options.signal, wake: deps.wake });
  if (state.status !== 'COMPLETED') {
    throw new ImportError(`id listing of ${frame.name} (bulk operation ${state.id}) ended ${state.status}${state.errorCode ? ` (${state.errorCode})` : ''}: nothing deleted`, { code: 'RECONCILE_INCOMPLETE' });
  }
  const listingId = `${frame.runId}:${state.id}`;
  const store = frame.deps.store;
  try {
    const listed = state.url ? await collect(frame, listingId, idsOfFile(frame, deps, state.url)) : 0;
    const expected = Number(state.rootObjectCount);
    if (listed !== expected) {
      throw new ImportError(`id listing of ${frame.name} held ${listed} ids but Shopify counted ${expected}: incomplete, nothing deleted`, { code: 'RECONCILE_INCOMPLETE', details: { listed, expected } });
    }
    return await store.tombstoneUnlisted(frame.tenantId, frame.name, listingId, listedSince(state.createdAt, startedAt));
  } finally {
    await store.clearListedIds(frame.tenantId, frame.name, listingId).catch((error) => frame.deps.logger.warn('could not clear listed ids', { error }));
  }
}

/**
 * Only records last changed before the listing began may be tombstoned for missing from it. The
 * operation may be one an earlier run started and lost track of (found running): a record created
 * after it began, and stored by this run, is not in its file. Shopify's `createdAt` and the stored
 * `updated_at` are both Shopify's clock.
 */
function listedSince(createdAt: string | null, startedAt: Date): Date {
  const created = createdAt === null ? Number.NaN : Date.parse(createdAt);
  return Number.isFinite(created) && created < startedAt.getTime() ? new Date(created) : startedAt;
}

async function* idsOfFile(frame: RunFrame, deps: BulkDeps, url: string): AsyncGenerator<bigint> {
  for await (const line of readJsonl(url, { fetch: deps.fetch, signal: frame.options.signal, logger: frame.deps.logger })) {
    const node = JSON.parse(line.text) as { id?: unknown; __parentId?: unknown };
    if (node.__parentId !== undefined) continue;
    const id = parseGid(node.id);
    if (id === null) throw new ImportError(`id listing line ${line.line} has no gid`, { code: 'BULK_FILE_MALFORMED' });
    yield id;
  }
}

/**
 * Id reconciliation over REST: every id (`fields=id`, ascending `since_id`), trusted only when
 * Shopify's count is the same before and after the listing and equals the ids listed.
 */
export async function restReconcile(frame: RunFrame, client: ImportClient & { get?<T>(path: string, query?: Record<string, unknown>): Promise<T> }, startedAt: Date): Promise<number> {
  const rest = frame.resource.rest;
  if (!frame.resource.deletions.reconcileIds || !rest || frame.dry) return 0;
  if (!rest.countPath || typeof client.get !== 'function') {
    throw new ImportError(`id reconciliation of ${frame.name} needs Shopify's count (${rest.countPath ?? 'none'}) to prove the listing complete`, { code: 'RECONCILE_INCOMPLETE' });
  }
  const count = async () => Number((await client.get!<{ count?: unknown }>(rest.countPath!, { ...rest.baseQuery }))?.count);
  const before = await count();
  const listingId = `${frame.runId}:rest`;
  const store = frame.deps.store;
  try {
    async function* ids(): AsyncGenerator<bigint> {
      for await (const page of client.pages<Record<string, unknown>>(rest!.path, { ...rest!.baseQuery, fields: 'id', since_id: '0', limit: frame.options.pageSize }, { signal: frame.options.signal })) {
        for (const record of page) {
          const id = toBigId(record.id ?? null);
          if (id === null) throw new ImportError(`${frame.name} id listing returned a record without an id`, { code: 'SHOPIFY_BAD_RESPONSE' });
          yield id;
        }
      }
    }
    const listed = await collect(frame, listingId, ids());
    const after = await count();
    if (!Number.isInteger(before) || before !== after || listed !== before) {
      throw new ImportError(`id listing of ${frame.name} held ${listed} ids, Shopify counted ${before} before and ${after} after: not provably complete, nothing deleted`, {
        code: 'RECONCILE_INCOMPLETE', details: { listed, before, after },
      });
    }
    return await store.tombstoneUnlisted(frame.tenantId, frame.name, listingId, startedAt);
  } finally {
    await store.clearListedIds(frame.tenantId, frame.name, listingId).catch((error) => frame.deps.logger.warn('could not clear listed ids', { error }));
  }
}
