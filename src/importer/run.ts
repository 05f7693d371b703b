/**
 * One sync run of one resource: decide what to list (full or incremental, from which source, resuming
 * an interrupted run), list it through the frame's pipeline, find deletions, and record the outcome.
 * The listings themselves are in rest-listing.ts, pages-listing.ts and bulk-listing.ts.
 */
import { eitherSignal } from '../abort.js';
import type { Logger } from '../logger.js';
import { graphqlSourcesOf } from '../resources/definition.js';
import { getResource } from '../resources/registry.js';
import type { ResourceType } from '../store/rows.js';
import type { Checkpoint, IngestStore } from '../store/types.js';
import { decodeCursor, decodeGraphqlCursor, type GraphqlCursor, type ResumeCursor } from './checkpoint.js';
import { graphqlDestroyEvents, graphqlReconcile, restDestroyEvents, restReconcile } from './deletions.js';
import { codeOf, ShopifyIngestError } from '../errors.js';
import { ImportError } from './errors.js';
import { bulkListing, grantedScopes, missingFrom, type BulkDeps, type Window } from './bulk-listing.js';
import { describeOptions, type ResolvedImportOptions } from './options.js';
import { pagesListing } from './pages-listing.js';
import { countQuery, timeWindowQuery } from './queries.js';
import { restListing } from './rest-listing.js';
import { singletonListing } from './single-listing.js';
import { RunFrame } from './run-frame.js';
import { lockLostError, takeRunLock, type HeldRunLock } from './run-lock.js';
import type { GraphqlImportClient, ImportClient, ImportProgress, ImportResult, ImportTransformer } from './types.js';
import { NO_TELEMETRY, startSyncRun, type Telemetry, type TelemetrySpan } from '../telemetry/index.js';

/** Everything one run needs, injected by the ImportService. */
export interface RunContext {
  tenantId: string;
  client: ImportClient;
  store: IngestStore;
  transformer: ImportTransformer;
  logger: Logger;
  clock: () => Date;
  sleep: (ms: number) => Promise<void>;
  newRunId: () => string;
  emitProgress: (event: ImportProgress) => void;
  /** TTL of the run lock (see `takeRunLock`). */
  runLockTtlMs: number;
  /** Bulk operations: file downloads, webhook wake-ups, poll timing. */
  bulk?: BulkDeps;
  /** Metrics and spans, bound to the tenant (default: none). */
  telemetry?: Telemetry;
}

/** What a run will list, decided from the options and the checkpoint. */
export interface RunPlan {
  mode: 'full' | 'incremental';
  /** Windowed (dateRange) runs leave the watermark and the cursor alone. */
  windowed: boolean;
  source: 'graphql' | 'rest';
  sinceId: bigint;
  updatedAtMin: Date | null;
  updatedAtMax: Date | null;
  /** Start of the run this one continues (or of this run). */
  startedAt: Date;
  maxUpdatedAt: number | null;
  resumedFrom: ResumeCursor | null;
  resumedGraphql: GraphqlCursor | null;
  /** Watermark before this run. */
  previousWatermark: Date | null;
}

/**
 * Chooses full or incremental, and whether to resume:
 * - a windowed run (`dateRange`) lists exactly that window, whatever the checkpoint says;
 * - otherwise an unfinished run of the same source is resumed when the requested mode is `auto` or
 *   the same mode (a REST cursor by a REST run, a GraphQL cursor by a GraphQL run);
 * - `auto` is incremental once a full sync completed and a watermark exists, else full;
 * - `incremental` without a watermark has nothing to be incremental from and runs full.
 */
export function planRun(options: ResolvedImportOptions, checkpoint: Checkpoint | null, now: Date): RunPlan {
  const previousWatermark = checkpoint?.watermark ?? null;
  const source = options.source;
  const base = { source, sinceId: 0n, updatedAtMax: null, maxUpdatedAt: null, resumedFrom: null, resumedGraphql: null, previousWatermark, startedAt: now } as const;
  if (options.dateRange) {
    return { ...base, mode: 'incremental', windowed: true, updatedAtMin: options.dateRange.from, updatedAtMax: options.dateRange.to };
  }
  const fits = (mode: 'full' | 'incremental') => options.mode === 'auto' || options.mode === mode;
  const rest = source === 'rest' ? decodeCursor(checkpoint?.cursor) : null;
  if (rest && fits(rest.mode)) {
    return {
      ...base, mode: rest.mode, windowed: false, sinceId: BigInt(rest.sinceId),
      updatedAtMin: rest.updatedAtMin ? new Date(rest.updatedAtMin) : null,
      startedAt: new Date(rest.startedAt), maxUpdatedAt: rest.maxUpdatedAt, resumedFrom: rest,
    };
  }
  const graphql = source === 'graphql' ? decodeGraphqlCursor(checkpoint?.cursor) : null;
  if (graphql && fits(graphql.mode)) {
    return { ...base, mode: graphql.mode, windowed: false, updatedAtMin: null, startedAt: new Date(graphql.startedAt), maxUpdatedAt: graphql.maxUpdatedAt, resumedGraphql: graphql };
  }
  const canIncrement = previousWatermark !== null && (options.mode === 'incremental' || (options.mode === 'auto' && checkpoint?.fullSyncCompletedAt != null));
  if (canIncrement) {
    return { ...base, mode: 'incremental', windowed: false, updatedAtMin: new Date(previousWatermark.getTime() - options.overlapMs) };
  }
  return { ...base, mode: 'full', windowed: false, updatedAtMin: null };
}

/**
 * The watermark a completed listing may store: the newest `updated_at` seen, but never past
 * `ceiling` (the moment the listing started, minus the safety margin for Shopify's search index).
 */
export function nextWatermark(previous: Date | null, maxUpdatedAt: number | null, ceiling: Date): Date | null {
  if (maxUpdatedAt === null) return previous;
  const candidate = Math.min(maxUpdatedAt, ceiling.getTime());
  if (previous && previous.getTime() >= candidate) return previous;
  return new Date(candidate);
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 2000 ? message.slice(0, 2000) : message;
}

/**
 * One sync run of one resource. A run that writes holds the resource's run lock for its whole
 * duration, so one run per tenant and resource runs at a time across processes; a second one waits
 * up to `waitForLockMs` (default 0), then fails with `IMPORT_ALREADY_RUNNING`. A dry run writes
 * nothing and takes no lock.
 */
export async function runResourceSync(ctx: RunContext, resource: ResourceType, options: ResolvedImportOptions, onProgress?: (e: ImportProgress) => void): Promise<ImportResult> {
  const runId = ctx.newRunId();
  const trace = startSyncRun(ctx.telemetry ?? NO_TELEMETRY, { resource, source: options.source, runId, dryRun: options.dryRun });
  try {
    const result = await lockedSync(ctx, resource, options, onProgress, runId, trace.span);
    trace.end(result);
    return result;
  } catch (error) {
    trace.end((error as ImportError).result ?? null, error);
    throw error;
  }
}

async function lockedSync(ctx: RunContext, resource: ResourceType, options: ResolvedImportOptions, onProgress: ((e: ImportProgress) => void) | undefined, runId: string, span: TelemetrySpan): Promise<ImportResult> {
  if (options.dryRun) return syncResource(ctx, resource, options, onProgress, runId, null, span);
  // A lost lock (another run took it, or another process deactivated the tenant) aborts whatever the
  // run is waiting on (a bulk operation's poll, a request, a backoff), not only its next batch.
  const lost = new AbortController();
  const lock = await takeRunLock({
    store: ctx.store, logger: ctx.logger, clock: ctx.clock, tenantId: ctx.tenantId, resource, runId, ttlMs: ctx.runLockTtlMs,
    waitMs: options.waitForLockMs, sleep: ctx.sleep, signal: options.signal,
    onLost: () => lost.abort(lockLostError(resource, ctx.tenantId)),
  });
  const signal = eitherSignal(options.signal, lost.signal);
  try {
    return await syncResource(ctx, resource, { ...options, signal }, onProgress, runId, lock, span);
  } finally {
    await lock.release();
  }
}

function graphqlClientOf(ctx: RunContext): GraphqlImportClient {
  const client = ctx.client;
  if (typeof client.graphql !== 'function' || typeof client.shopDomain !== 'string') {
    throw new ImportError(`the client given to the importer has no graphql(): pass a ShopifyClient, or import with source: 'rest'`, { code: 'CONFIG_INVALID' });
  }
  return client as GraphqlImportClient;
}

async function syncResource(ctx: RunContext, resourceName: ResourceType, options: ResolvedImportOptions, onProgress: ((e: ImportProgress) => void) | undefined, runId: string, lock: HeldRunLock | null, span: TelemetrySpan): Promise<ImportResult> {
  const resource = getResource(resourceName);
  const { tenantId, store, logger, clock } = ctx;
  const dry = options.dryRun;
  const now = clock();
  const checkpoint = await store.getCheckpoint(tenantId, resourceName);
  const plan = planRun(options, checkpoint, now);
  const frame = new RunFrame(ctx, resource, runId, plan.mode, options, onProgress, lock);
  frame.checkpoint = checkpoint;
  frame.span = span;
  const resumedRunId = plan.resumedFrom?.runId || plan.resumedGraphql?.runId || null;
  const resumable = !plan.windowed && !dry;
  let method: ImportResult['method'] = plan.source === 'rest' ? 'rest' : plan.resumedGraphql?.method ?? 'pages';
  // The ceiling of this run's watermark: Shopify's search index lags writes, so a record changed just
  // before the listing started may not be found by it; the next run starts before it (plus the overlap).
  const ceiling = new Date(plan.startedAt.getTime() - options.safetyMarginMs);

  const result = (status: ImportResult['status'], error?: string): ImportResult => ({
    runId, tenantId, resource: resourceName, mode: plan.mode, status, dryRun: dry, resumed: resumedRunId !== null,
    ...frame.counts, errors: frame.counts.failed, deleted: frame.deleted, pages: frame.pages, startedAt: now, finishedAt: clock(),
    durationMs: frame.elapsedMs, method, warnings: [...frame.warnings], ...(error !== undefined ? { error } : {}),
  });

  if (!dry) {
    // This run holds the run lock: any other run of this resource still marked 'running' belongs to a
    // process that died. Close them before this run's record is written.
    await store.closeInterruptedRuns(tenantId, resourceName, runId, `interrupted; ${resumedRunId ? 'resumed' : 'followed'} by run ${runId}`)
      .catch((error) => logger.warn('could not close interrupted runs', { error }));
    if (!plan.windowed && !(await store.saveCheckpoint(tenantId, resourceName, { runId }, { heldBy: runId }))) throw lockLostError(resourceName, tenantId);
    await store.startRun({
      id: runId, tenantId, resource: resourceName, mode: plan.mode,
      options: { ...describeOptions(options), resumedFrom: resumedRunId, sinceId: plan.sinceId.toString(), updatedAtMin: plan.updatedAtMin?.toISOString() ?? null },
    });
    await store.setTenantSyncStatus(tenantId, 'running');
  }
  logger.info('sync started', { tenantId, resource: resourceName, runId, mode: plan.mode, source: plan.source, dryRun: dry, resumed: resumedRunId !== null, updatedAtMin: plan.updatedAtMin?.toISOString() });

  let committedMax: number | null = plan.maxUpdatedAt;
  try {
    if (plan.source === 'rest') {
      committedMax = await restListing(frame, ctx.client, {
        sinceId: plan.sinceId, updatedAtMin: plan.updatedAtMin, updatedAtMax: plan.updatedAtMax, startedAt: plan.startedAt,
        maxUpdatedAt: plan.maxUpdatedAt, resumedFrom: plan.resumedFrom, resumable,
      });
      // REST lists by id, not by time: a record with a low id may be the newest, so the watermark may
      // not pass the listing's start.
      committedMax = committedMax === null ? null : Math.min(committedMax, plan.startedAt.getTime());
    } else {
      const client = graphqlClientOf(ctx);
      const sources = graphqlSourcesOf(resource);
      // A resource with several listings runs them in turn; a resumed run starts at its cursor's.
      const first = Math.min(plan.resumedGraphql?.source ?? 0, sources.length - 1);
      let lowest: number | null = null;
      for (let k = first; k < sources.length && frame.failed === null; k++) {
        frame.useSource(k, resource, sources[k]);
        // Several listings (metafields through their owners): `bulk` when any was one.
        const used = await graphqlListing(ctx, frame, client, k === first ? plan : { ...plan, resumedGraphql: null }, resumable, (m) => { method = method === 'bulk' && k > first ? 'bulk' : m; });
        method = method === 'bulk' && k > first ? 'bulk' : used;
        // The watermark may pass no listing's: the lowest committed max (none when one committed nothing).
        lowest = k === first ? frame.committedMax : lowest === null || frame.committedMax === null ? null : Math.min(lowest, frame.committedMax);
      }
      frame.useSource(0, resource, resource.graphql);
      committedMax = sources.length > 1 ? lowest : frame.committedMax;
    }
  } catch (error) {
    frame.fail(error);
  }
  await frame.flushCursor();

  if (frame.failed === null && !dry && !plan.windowed) {
    await findDeletions(ctx, frame, plan, checkpoint);
  }
  // The listing is done: the watermark moves and the cursor goes. A windowed run leaves the
  // checkpoint alone (it must not clobber an unfinished run's cursor). Fenced by the run lock, as
  // every checkpoint write of a run: one that lost it fails instead (IMPORT_LOCK_LOST).
  if (frame.failed === null && !dry && !plan.windowed) {
    const patch: Parameters<IngestStore['saveCheckpoint']>[2] = { runId, cursor: null };
    // A bulk operation lists everything changed before it started: the watermark is its start.
    const max = method === 'bulk' && !resource.sources?.length ? plan.startedAt.getTime() : committedMax;
    patch.watermark = nextWatermark(plan.previousWatermark, max, ceiling);
    if (plan.mode === 'full') patch.fullSyncCompletedAt = clock();
    try {
      if (!(await store.saveCheckpoint(tenantId, resourceName, patch, { heldBy: runId }))) frame.fail(lockLostError(resourceName, tenantId));
    } catch (error) {
      frame.fail(error);
    }
  }

  await frame.flushCounts();
  if (frame.failed !== null) {
    const error = frame.failed as Error;
    // Whatever a request failed with once the signal was aborted (its reason, e.g. the tenant was uninstalled), the run was aborted.
    const lockLost = lock?.lost === true;
    const aborted = !lockLost && ((error as { code?: string }).code === 'IMPORT_ABORTED' || frame.options.signal?.aborted === true);
    const status = aborted ? 'cancelled' : 'failed';
    const message = reasonOf(error);
    const res = result(status, message);
    // The root cause's code and retryability at the top, so an app can switch on them.
    const code = aborted ? 'IMPORT_ABORTED' : lockLost ? 'IMPORT_LOCK_LOST' : codeOf(error) ?? 'IMPORT_FAILED';
    if (!dry) {
      await store.finishRun(runId, tenantId, { status, error: message, errorCode: code, counts: { ...frame.counts }, warnings: frame.warnings }).catch((e) => logger.error('could not record run failure', { error: e }));
      // Cancelled: idle again, its last error (of a failed run) kept as it was.
      await store.setTenantSyncStatus(tenantId, aborted ? 'idle' : 'error', aborted ? {} : { error: message }).catch(() => {});
    }
    // A cancelled run (Ctrl-C, stop(), an uninstall) is not a failure: logged as such, at warn.
    if (aborted) logger.warn('sync cancelled; the checkpoint keeps the last committed position', { tenantId, resource: resourceName, runId, reason: message });
    else logger.error('sync failed; the checkpoint keeps the last committed position', { tenantId, resource: resourceName, runId, error });
    frame.emit(true);
    throw error instanceof ImportError && error.result
      ? error
      : new ImportError(`${resourceName} sync of tenant ${tenantId} ${aborted ? 'aborted' : 'failed'}: ${message.replace(/^\[shopify-ingest\] /, '')}`, {
        cause: error, result: res, details: { ...(error instanceof ShopifyIngestError ? error.details : {}), tenantId, resource: resourceName, runId },
        code,
        retryable: aborted || (error instanceof ShopifyIngestError ? error.retryable : true),
      });
  }

  if (!dry) {
    await store.finishRun(runId, tenantId, { status: 'succeeded', counts: { ...frame.counts }, warnings: frame.warnings });
    await store.setTenantSyncStatus(tenantId, 'idle', { lastSyncAt: clock(), error: null });
  }
  const res = result('succeeded');
  logger.info('sync finished', { tenantId, resource: resourceName, runId, mode: plan.mode, method, fetched: frame.counts.fetched, imported: frame.counts.imported, skipped: frame.counts.skipped, failed: frame.counts.failed, deleted: frame.deleted, pages: frame.pages, durationMs: res.durationMs, warnings: frame.warnings.length });
  frame.emit(true);
  return res;
}

/**
 * GraphQL: a full sync is one bulk operation (windows by `created_at`); an incremental or windowed
 * sync pages by `updated_at`, unless Shopify counts more changes than `bulkThreshold`, which then
 * run as a bulk operation over the same window. Returns the method used.
 */
async function graphqlListing(ctx: RunContext, frame: RunFrame, client: GraphqlImportClient, plan: RunPlan, resumable: boolean, chose: (method: 'bulk' | 'pages') => void): Promise<'bulk' | 'pages'> {
  const resource = frame.resource;
  if (resource.graphql.singleton) {
    chose('pages');
    frame.committedMax = await singletonListing(frame, client);
    return 'pages';
  }
  const resumed = plan.resumedGraphql;
  const resumedRunId = resumed?.runId ?? null;
  await warnAboutScopes(frame, client);
  // Connections without a usable `updated_at` filter are listed whole by incremental runs (see `GraphqlSource.incremental`).
  const changed = (from: Date | null, to: Date | null) => resource.graphql.incremental === 'everything'
    ? timeWindowQuery('updated_at', null, null, resource.graphql.baseQuery)
    : timeWindowQuery('updated_at', from, to, resource.graphql.baseQuery);

  let windows: Window[] | null = null;
  let field: 'created_at' | 'updated_at' = 'updated_at';
  if (resumed?.method === 'bulk') {
    windows = resumed.windows ?? [];
    field = resumed.field ?? 'updated_at';
  } else if (!resumed) {
    if (plan.mode === 'full') {
      windows = [[null, null]];
      field = resource.graphql.windowField ?? 'created_at';
    } else {
      const search = changed(plan.updatedAtMin, plan.updatedAtMax);
      const count = await countRecords(frame, client, search);
      if (count !== null) frame.total = count;
      // Without a count (inventoryItems has none) a connection listed whole goes to a bulk operation: it may be any size.
      const whole = resource.graphql.incremental === 'everything';
      if ((count !== null && count > frame.options.bulkThreshold) || (count === null && whole)) {
        frame.deps.logger.info('more changes than paging should fetch: listing them with a bulk operation', { tenantId: frame.tenantId, resource: frame.name, count, threshold: frame.options.bulkThreshold });
        windows = whole ? [[null, null]] : [[plan.updatedAtMin?.toISOString() ?? null, plan.updatedAtMax?.toISOString() ?? null]];
        // A whole listing splits, when it fails, as a full sync does (locations have no `updated_at` filter).
        if (whole) field = resource.graphql.windowField ?? 'created_at';
      }
    }
  }

  chose(windows !== null ? 'bulk' : 'pages');
  if (windows !== null) {
    const outcome = await bulkListing(frame, client, ctx.bulk ?? {}, {
      field, windows, attempts: resumed?.attempts ?? 0, op: resumed?.op ?? null, askedAfter: resumed?.askedAfter ?? null, fallback: resumed?.fallback ?? null, startedAt: plan.startedAt,
      maxUpdatedAt: plan.maxUpdatedAt, resumedRunId, resumable,
    });
    // The span bulk operations could not list (protected customer data) is paged instead. Its pages'
    // cursor replaces the bulk one, which kept the span until now: a stopped run resumes the paging.
    if (outcome.fallback && frame.failed === null && !frame.shouldStop()) {
      const [from, to] = outcome.fallback;
      const search = timeWindowQuery(field, from ? new Date(from) : null, to ? new Date(to) : null, resource.graphql.baseQuery);
      await pagesListing(frame, client, { search, after: null, startedAt: plan.startedAt, maxUpdatedAt: plan.maxUpdatedAt, resumedRunId, resumable });
    }
    frame.committedMax = plan.startedAt.getTime();
    return 'bulk';
  }

  const search = resumed?.method === 'pages' ? resumed.search ?? null : changed(plan.updatedAtMin, plan.updatedAtMax);
  frame.committedMax = await pagesListing(frame, client, {
    search, after: resumed?.after ?? null, startedAt: plan.startedAt, maxUpdatedAt: plan.maxUpdatedAt, resumedRunId, resumable,
  });
  return 'pages';
}

/** Shopify's count of records matching `search`, or null when the resource has no count query or it failed. */
async function countRecords(frame: RunFrame, client: GraphqlImportClient, search: string | null): Promise<number | null> {
  const query = countQuery(frame.resource.graphql);
  if (!query) return null;
  try {
    const data = await client.graphql<Record<string, { count: number } | null>>(query, { query: search }, { signal: frame.options.signal });
    const count = data?.[frame.resource.graphql.count!]?.count;
    return typeof count === 'number' ? count : null;
  } catch (error) {
    frame.deps.logger.warn('count query failed; paging without a total', { tenantId: frame.tenantId, resource: frame.name, error });
    return null;
  }
}

/**
 * Orders older than 60 days need `read_all_orders`: say so instead of silently importing a partial
 * history. Every run of every listing through the orders connection says it (an incremental run
 * misses an old order's changes too), also those of records listed inside orders (refunds,
 * transactions, fulfillments) and of the orders' metafields: the run's warnings are what the status tells.
 */
async function warnAboutScopes(frame: RunFrame, client: GraphqlImportClient): Promise<void> {
  if (frame.resource.graphql.connection !== 'orders') return;
  try {
    const scopes = await grantedScopes(frame, client);
    // Without the resource's own scopes the run fails anyway.
    if (missingFrom(frame, scopes).length === 0 && !scopes.has('read_all_orders')) {
      frame.warnings.push('the app lacks read_all_orders: Shopify lists only the last 60 days of orders (https://shopify.dev/docs/api/usage/access-scopes#orders-permissions)');
    }
  } catch (error) {
    frame.deps.logger.warn('could not read the granted scopes', { tenantId: frame.tenantId, error });
  }
}

/** How long Shopify keeps events (SHOPIFY-API.md, "Deletions"): a first probe reads from this far back. */
const EVENTS_RETENTION_MS = 365 * 24 * 3_600_000;

/**
 * Deletions after a listing that completed. Never blocks the data path: a probe that fails is
 * recorded (run warning, checkpoint `deletionError`) and its span read again by the next run; the
 * listing's rows and watermark stand.
 */
async function findDeletions(ctx: RunContext, frame: RunFrame, plan: RunPlan, checkpoint: Checkpoint | null): Promise<void> {
  const { store, logger, tenantId } = ctx;
  const resource = frame.resource;
  // Shopify's search index lags (as for the watermark): events read now are complete only up to now − the margin.
  const probeStart = new Date(ctx.clock().getTime() - frame.options.safetyMarginMs);
  const known = checkpoint?.deletionsCheckedAt ?? plan.previousWatermark;
  // Never probed (a first full sync; rows may have come from dated runs or webhooks before it): from
  // as far back as Shopify keeps events.
  const since = known ?? (plan.mode === 'full' ? new Date(ctx.clock().getTime() - EVENTS_RETENTION_MS) : null);
  // A reconciliation that failed is run again by the next run, full or not.
  const reconcile = plan.mode === 'full' || Boolean(checkpoint?.deletionError);
  try {
    if (plan.source === 'rest') {
      if (since) frame.deleted += await restDestroyEvents(frame, ctx.client, new Date(since.getTime() - frame.options.overlapMs));
      if (reconcile) frame.deleted += await restReconcile(frame, ctx.client, plan.startedAt);
    } else {
      const client = graphqlClientOf(ctx);
      // Records listed through another resource's (an order's refunds) have no destroy events of their
      // own: they go with their carrier, so the carrier's events are read and it is tombstoned with its
      // riders, also when the carrier is not synced or its run has not come yet.
      const deletedWith = resource.ridesOn ? getResource(resource.ridesOn.resource) : resource;
      if (since && deletedWith.deletions.eventSubjectType) frame.deleted += await graphqlDestroyEvents(frame, client, new Date(since.getTime() - frame.options.overlapMs), deletedWith);
      if (reconcile) frame.deleted += await graphqlReconcile(frame, client, ctx.bulk ?? {}, plan.startedAt);
    }
    // Events read up to now cover deletions up to now − the margin; a listing covered those up to its start.
    const covered = since ? probeStart : null;
    if (!(await store.saveCheckpoint(tenantId, frame.name, { deletionsCheckedAt: covered, deletionError: null }, { heldBy: frame.runId }))) {
      frame.fail(lockLostError(frame.name, tenantId));
      return;
    }
    if (frame.deleted > 0) logger.info('tombstoned records deleted at Shopify', { tenantId, resource: resource.name, deleted: frame.deleted });
  } catch (error) {
    if ((error as { code?: string }).code === 'IMPORT_ABORTED' || frame.options.signal?.aborted) { frame.fail(error); return; }
    const message = reasonOf(error);
    frame.warnings.push(`deletion probe failed (retried next run): ${message.replace(/^\[shopify-ingest\] /, '')}`);
    logger.warn('deletion probe failed; records still synced, the probe runs again next time', { tenantId, resource: resource.name, error });
    // The span not read is kept: with nothing recorded, the next run would start from the watermark
    // this run is about to move to its own start, and never read what lies before it (a first full
    // sync's year of events).
    const pending = checkpoint?.deletionsCheckedAt == null && since ? { deletionsCheckedAt: since } : {};
    await store.saveCheckpoint(tenantId, frame.name, { deletionError: message, ...pending }, { heldBy: frame.runId }).catch(() => false);
  }
}
