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
import type { ImportClient } from './types.js';
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
  try {
    // The signal also stops the prefetched page: no request follows an abort (app/uninstalled).
    for await (const { value: page, sentAt } of lookahead(timed(client.pages<unknown>(rest.path, query, { signal: frame.options.signal }), frame.deps.clock))) {
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
        await pipeline.add(frame.recordUnit(raw, { lastId: ordered ? id : null, maxUpdatedAt }));
        if (pipeline.failed !== null) break;
      }
      if (pipeline.failed !== null || frame.shouldStop()) break;
    }
  } catch (error) {
    // The request of the next page failed: the page read before it is complete, and the failed one
    // gets a span of its own (its span opens once it arrives, so it has none yet).
    frame.openListingSpan(SPANS.page, { 'shopify_ingest.page.records': 0 });
    frame.closeListingSpan(error);
    frame.fail(error);
  }
  await frame.endPipeline(pipeline);
  frame.closeListingSpan();
  if (frame.failed === null && before !== null) {
    // Every record there at both counts is listed (ids ascend; new ones come last), so a listing with
    // fewer than the smaller count ended early: fail rather than report a partial store as complete.
    const after = await count();
    const floor = after === null ? null : Math.min(before, after);
    if (floor !== null && frame.counts.fetched < floor) {
      frame.fail(new ImportError(`${frame.name} listing of tenant ${frame.tenantId} ended after ${frame.counts.fetched} records but Shopify counts ${floor}: incomplete (the checkpoint keeps what was committed)`, {
        code: 'LISTING_INCOMPLETE', details: { fetched: frame.counts.fetched, countBefore: before, countAfter: after },
      }));
    }
  }
  return committedMax;
}
