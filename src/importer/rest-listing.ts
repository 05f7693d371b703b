/**
 * The legacy REST source (`source: 'rest'`): pages of `GET /{resource}.json` in ascending id order
 * with `since_id`, for custom apps that still use REST and for the seed's API.
 *
 * Shopify lists records by ascending id when `since_id` is given
 * (https://shopify.dev/docs/api/admin-rest/latest/resources/order#get-orders?since_id=123), not by
 * `updated_at`; so the resume position is an id and the watermark only moves when the listing completes.
 */
import { ImportError } from './errors.js';
import { encodeCursor, type ResumeCursor } from './checkpoint.js';
import { lookahead, timed } from './lookahead.js';
import { shopifyIdOf, updatedAtOf, type RunFrame } from './run-frame.js';
import type { GraphqlImportClient, ImportClient } from './types.js';
import type { Unit } from './pipeline.js';
import { fetchRecord } from './pages-listing.js';
import { restBodyCapped } from '../resources/definition.js';
import { ShopifyApiError } from '../client/errors.js';
import { SPANS } from '../telemetry/instruments.js';

/** Where a REST run starts and what it lists. */
export interface RestPlan {
  sinceId: bigint;
  updatedAtMin: Date | null;
  updatedAtMax: Date | null;
  startedAt: Date;
  maxUpdatedAt: number | null;
  resumedFrom: ResumeCursor | null;
  /** Windowed runs keep no cursor. */
  resumable: boolean;
}

interface RestPosition {
  /** Every record with id <= lastId is committed (null: the listing is not ordered, stay put). */
  lastId: bigint | null;
  maxUpdatedAt: number | null;
}

/** Lists the resource over REST into the frame's pipeline; returns the committed max `updated_at`. */
export async function restListing(frame: RunFrame, client: ImportClient, plan: RestPlan): Promise<number | null> {
  const rest = frame.resource.rest;
  if (!rest) throw new ImportError(`${frame.name} cannot be listed over Shopify's REST Admin API (it has no listing for it): use source: 'graphql'`, { code: 'SOURCE_UNAVAILABLE', details: { resource: frame.name } });
  const { logger } = frame.deps;
  let ordered = true;
  let committedId = plan.sinceId;
  let committedMax = plan.maxUpdatedAt;
  const cursorOf = (): ResumeCursor => ({
    v: 1, runId: plan.resumedFrom?.runId || frame.runId, mode: frame.mode, sinceId: (ordered ? committedId : plan.sinceId).toString(),
    updatedAtMin: plan.updatedAtMin?.toISOString() ?? null, startedAt: plan.startedAt.toISOString(), maxUpdatedAt: committedMax,
  });
  if (plan.resumable) frame.saveCursor(encodeCursor(cursorOf()));
  const pipeline = frame.pipeline<RestPosition>('complete', (position) => {
    if (position.lastId !== null && position.lastId > committedId) committedId = position.lastId;
    if (position.maxUpdatedAt !== null && (committedMax === null || position.maxUpdatedAt > committedMax)) committedMax = position.maxUpdatedAt;
    if (plan.resumable) frame.saveCursor(encodeCursor(cursorOf()));
  });

  const query: Record<string, string | number> = { ...rest.baseQuery, limit: frame.options.pageSize, since_id: plan.sinceId.toString() };
  if (plan.updatedAtMin) query.updated_at_min = plan.updatedAtMin.toISOString();
  if (plan.updatedAtMax) query.updated_at_max = plan.updatedAtMax.toISOString();
  // Shopify's count of what the listing should return (from the start: a resumed run lists the rest).
  const countFilter: Record<string, string> = { ...rest.baseQuery };
  if (plan.updatedAtMin) countFilter.updated_at_min = plan.updatedAtMin.toISOString();
  if (plan.updatedAtMax) countFilter.updated_at_max = plan.updatedAtMax.toISOString();
  const count = async (): Promise<number | null> => {
    if (!rest.countPath || typeof client.get !== 'function' || plan.sinceId !== 0n) return null;
    try {
      const n = Number((await client.get<{ count?: unknown }>(rest.countPath, countFilter))?.count);
      return Number.isInteger(n) ? n : null;
    } catch (error) {
      logger.warn('count request failed; the listing is not checked against it', { tenantId: frame.tenantId, resource: frame.name, error });
      return null;
    }
  };
  const before = await count();
  if (before !== null) frame.total = before;
  let previousId: bigint | null = null;
  let maxUpdatedAt: number | null = null;
  // Where the current request sequence starts: the run's since_id, or after the last id listed when
  // Shopify refused one of its own cursors.
  let listFrom = plan.sinceId;
  for (;;) {
    let pagesOfListing = 0;
    try {
      // The signal also stops the prefetched page: no request follows an abort (app/uninstalled).
      for await (const { value: page, sentAt } of lookahead(timed(client.pages<unknown>(rest.path, { ...query, since_id: listFrom.toString() }, { signal: frame.options.signal }), frame.deps.clock))) {
        pagesOfListing++;
        frame.pages++;
        frame.observedAt = sentAt;
        frame.openListingSpan(SPANS.page, { 'shopify_ingest.page.records': page.length });
        for (const raw of page) {
          const id = shopifyIdOf(raw);
          const updatedAt = updatedAtOf(raw);
          if (updatedAt !== null && (maxUpdatedAt === null || updatedAt > maxUpdatedAt)) maxUpdatedAt = updatedAt;
          if (id !== null) {
            if (previousId !== null && id <= previousId && ordered) {
              // The resume position assumes ascending ids; if the listing is not ordered, put it back to
              // where this run started (a restart then lists more again, which is harmless) rather than skip records.
              ordered = false;
              if (plan.resumable) frame.saveCursor(encodeCursor(cursorOf()));
              logger.warn('listing is not ordered by id: the resume position stops advancing for this run', { tenantId: frame.tenantId, resource: frame.name, runId: frame.runId });
            }
            previousId = id;
          }
          const position = { lastId: ordered ? id : null, maxUpdatedAt };
          await pipeline.add(restBodyCapped(rest, raw) ? await completeCapped(frame, client, raw, position) : frame.recordUnit(raw, position));
          if (pipeline.failed !== null) break;
        }
        if (pipeline.failed !== null || frame.shouldStop()) break;
      }
      break;
    } catch (error) {
      // A 400 after the first page can only be the cursor: later requests carry nothing but page_info,
      // limit and fields, and the first one's filters were accepted. Shopify's cursors are opaque and
      // may stop being accepted (https://shopify.dev/docs/api/usage/pagination-rest); ids ascend, so
      // the same filters with since_id = the last id listed go on exactly where the cursor pointed.
      if (refusedCursor(error) && pagesOfListing > 0 && ordered && previousId !== null && previousId > listFrom && !frame.shouldStop()) {
        logger.warn('shopify refused a page_info cursor it issued; listing again after the last id listed', { tenantId: frame.tenantId, resource: frame.name, runId: frame.runId, sinceId: previousId.toString() });
        listFrom = previousId;
        continue;
      }
      // The request of the next page failed: the page read before it is complete, and the failed one
      // gets a span of its own (its span opens once it arrives, so it has none yet).
      frame.openListingSpan(SPANS.page, { 'shopify_ingest.page.records': 0 });
      frame.closeListingSpan(error);
      frame.fail(error);
      break;
    }
  }
  await frame.endPipeline(pipeline);
  frame.closeListingSpan();
  if (frame.failed === null && plan.sinceId !== 0n && ordered) {
    // A resumed run has no count to hold its listing to (Shopify's counts take no since_id): a
    // premature last page (empty, or without its next link) would pass for the end, and a completed
    // sync would be recorded with records missing for good. One record after the last id listed,
    // created before the run began, proves the listing ended early. (A stopped run has failed by now.)
    try {
      await checkListingEnd(frame, client, rest.path, { ...query, since_id: (previousId ?? plan.sinceId).toString() }, plan.startedAt);
    } catch (error) {
      frame.fail(error);
    }
  }
  if (frame.failed === null && before !== null) {
    // Every record there at both counts is listed (ids ascend; new ones come last), so a listing with
    // fewer than the smaller count ended early: fail rather than report a partial store as complete.
    const after = await count();
    const floor = after === null ? null : Math.min(before, after);
    if (floor !== null && frame.counts.fetched < floor) {
      frame.fail(new ImportError(`${frame.name} listing of tenant ${frame.tenantId} ended after ${frame.counts.fetched} records but Shopify counts ${floor}: incomplete (the checkpoint keeps what was committed)`, {
        code: 'LISTING_INCOMPLETE', retryable: true, details: { fetched: frame.counts.fetched, countBefore: before, countAfter: after },
      }));
    }
  }
  return committedMax;
}

/**
 * A record whose REST body holds its capped list at the cap (a product with 100 variants may have
 * up to 2,048) is read again over GraphQL: written as REST gave it, the variants past the cap would be
 * removed from the store. Without a GraphQL client it is a recorded failure, not a truncated write.
 */
async function completeCapped<P>(frame: RunFrame, client: ImportClient, raw: unknown, position: P): Promise<Unit<P>> {
  const id = shopifyIdOf(raw);
  const graphql = client as Partial<GraphqlImportClient>;
  if (id === null || typeof graphql.graphql !== 'function') {
    return frame.failedUnit(raw, position, new ImportError(`${frame.name} ${id ?? ''} has ${frame.resource.rest!.capped!.max} or more ${frame.resource.rest!.capped!.field} over REST, which cuts them there: it needs a GraphQL client`, { code: 'SOURCE_UNAVAILABLE' }));
  }
  const node = await fetchRecord(graphql as GraphqlImportClient, frame.resource, id, frame.options.signal);
  // Deleted since it was listed: written as listed, its delete tombstones it.
  return frame.recordUnit(node ?? raw, position);
}

/** Shopify answered 400 to a request: for a page_info request, the cursor was refused. */
function refusedCursor(error: unknown): boolean {
  return error instanceof ShopifyApiError && error.status === 400;
}

/** Fails with `LISTING_INCOMPLETE` when Shopify still lists a record after the listing's last id that existed when the run began. */
async function checkListingEnd(frame: RunFrame, client: ImportClient, path: string, query: Record<string, string | number>, startedAt: Date): Promise<void> {
  // Records created or changed after the run began are left to the next incremental sync (the
  // watermark stays before the start): one changed in the moment between the last page and this probe
  // must not fail a complete listing.
  const probe = { ...query, limit: 1, fields: 'id', created_at_max: startedAt.toISOString(), updated_at_max: startedAt.toISOString() };
  for await (const page of client.pages<unknown>(path, probe, { signal: frame.options.signal })) {
    if (page.length > 0) {
      throw new ImportError(`${frame.name} listing of tenant ${frame.tenantId} ended at id ${query.since_id} but Shopify lists more after it: incomplete (the checkpoint keeps what was committed)`, {
        code: 'LISTING_INCOMPLETE', retryable: true, details: { fetched: frame.counts.fetched, sinceId: query.since_id },
      });
    }
    return;
  }
}
