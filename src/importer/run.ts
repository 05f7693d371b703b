import type { Logger } from '../logger.js';
import type { ResourceType } from '../store/rows.js';
import type { Checkpoint, IngestStore, SyncFailureInput } from '../store/types.js';
import { CommitTracker, createLatestWriter, decodeCursor, encodeCursor, type ResumeCursor } from './checkpoint.js';
import { applyDestroyEvents, reconcileIds } from './deletions.js';
import { ImportError } from './errors.js';
import { describeOptions, type ResolvedImportOptions } from './options.js';
import { RESOURCE_ADAPTERS, shopifyIdOf, updatedAtOf, type ResourceAdapter } from './resources.js';
import { lookahead } from './lookahead.js';
import { takeRunLock, type HeldRunLock } from './run-lock.js';
import { withRetry } from './retry.js';
import type { ImportClient, ImportProgress, ImportResult, ImportTransformer } from './types.js';
import { restTotalCounter, type TotalCounter } from './totals.js';

type CountingClientLike = Parameters<typeof restTotalCounter>[0];

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
  /** Counts what a run will list, for progress totals (default: REST count endpoints when the client has `get`). */
  countTotal?: TotalCounter;
}

/** What a run will list, decided from the options and the checkpoint. */
export interface RunPlan {
  mode: 'full' | 'incremental';
  /** Windowed (dateRange) runs leave the watermark and the cursor alone. */
  windowed: boolean;
  sinceId: bigint;
  updatedAtMin: Date | null;
  updatedAtMax: Date | null;
  /** Start of the run this one continues (or of this run). */
  startedAt: Date;
  maxUpdatedAt: number | null;
  resumedFrom: ResumeCursor | null;
  /** Watermark before this run. */
  previousWatermark: Date | null;
}

/**
 * Chooses full or incremental, and whether to resume:
 * - a windowed run (`dateRange`) lists exactly that window, whatever the checkpoint says;
 * - otherwise an unfinished run's cursor is resumed when the requested mode is `auto` or the same mode;
 * - `auto` is incremental once a full sync completed and a watermark exists, else full;
 * - `incremental` without a watermark has nothing to be incremental from and runs full.
 */
export function planRun(options: ResolvedImportOptions, checkpoint: Checkpoint | null, now: Date): RunPlan {
  const previousWatermark = checkpoint?.watermark ?? null;
  if (options.dateRange) {
    return {
      mode: 'incremental', windowed: true, sinceId: 0n,
      updatedAtMin: options.dateRange.from, updatedAtMax: options.dateRange.to,
      startedAt: now, maxUpdatedAt: null, resumedFrom: null, previousWatermark,
    };
  }
  const cursor = decodeCursor(checkpoint?.cursor);
  if (cursor && (options.mode === 'auto' || options.mode === cursor.mode)) {
    return {
      mode: cursor.mode, windowed: false, sinceId: BigInt(cursor.sinceId),
      updatedAtMin: cursor.updatedAtMin ? new Date(cursor.updatedAtMin) : null, updatedAtMax: null,
      startedAt: new Date(cursor.startedAt), maxUpdatedAt: cursor.maxUpdatedAt, resumedFrom: cursor, previousWatermark,
    };
  }
  const canIncrement = previousWatermark !== null && (options.mode === 'incremental' || (options.mode === 'auto' && checkpoint?.fullSyncCompletedAt != null));
  if (canIncrement) {
    return {
      mode: 'incremental', windowed: false, sinceId: 0n,
      updatedAtMin: new Date(previousWatermark.getTime() - options.overlapMs), updatedAtMax: null,
      startedAt: now, maxUpdatedAt: null, resumedFrom: null, previousWatermark,
    };
  }
  return {
    mode: 'full', windowed: false, sinceId: 0n, updatedAtMin: null, updatedAtMax: null,
    startedAt: now, maxUpdatedAt: null, resumedFrom: null, previousWatermark,
  };
}

/**
 * The watermark a completed listing may store: the newest `updated_at` seen, but never past the
 * moment the listing started. The listing walks ids, not times, so a record with a low id updated
 * after the walk passed it is only guaranteed to be picked up if the next sync starts at or
 * before this run's start (the overlap then absorbs clock skew between Shopify and us).
 */
export function nextWatermark(previous: Date | null, maxUpdatedAt: number | null, startedAt: Date): Date | null {
  if (maxUpdatedAt === null) return previous;
  const candidate = Math.min(maxUpdatedAt, startedAt.getTime());
  if (previous && previous.getTime() >= candidate) return previous;
  return new Date(candidate);
}

interface Batch<U> {
  units: Array<{ id: bigint | null; unit: U }>;
  failures: SyncFailureInput[];
  lastId: bigint | null;
  maxUpdatedAt: number | null;
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 2000 ? message.slice(0, 2000) : message;
}

/**
 * One sync run of one resource: page -> transform -> batched upsert, with at most
 * `concurrency` batch writes in flight (the listing waits for a free slot, so memory is bounded by
 * `concurrency * batchSize` records plus one page, whatever the store size).
 *
 * A run that writes holds the resource's run lock for its whole duration, so one run per tenant
 * and resource runs at a time across processes; a second one waits up to `waitForLockMs`
 * (default 0), then fails with `IMPORT_ALREADY_RUNNING`. A dry run writes nothing and takes no lock.
 */
export async function runResourceSync(ctx: RunContext, resource: ResourceType, options: ResolvedImportOptions, onProgress?: (e: ImportProgress) => void): Promise<ImportResult> {
  const runId = ctx.newRunId();
  if (options.dryRun) return syncResource(ctx, resource, options, onProgress, runId, null);
  const lock = await takeRunLock({
    store: ctx.store, logger: ctx.logger, clock: ctx.clock, tenantId: ctx.tenantId, resource, runId, ttlMs: ctx.runLockTtlMs,
    waitMs: options.waitForLockMs, sleep: ctx.sleep, signal: options.signal,
  });
  try {
    return await syncResource(ctx, resource, options, onProgress, runId, lock);
  } finally {
    await lock.release();
  }
}

async function syncResource(ctx: RunContext, resource: ResourceType, options: ResolvedImportOptions, onProgress: ((e: ImportProgress) => void) | undefined, runId: string, lock: HeldRunLock | null): Promise<ImportResult> {
  const adapter = RESOURCE_ADAPTERS[resource] as ResourceAdapter<unknown>;
  const { tenantId, store, logger, clock } = ctx;
  const dry = options.dryRun;
  const now = clock();
  const checkpoint = await store.getCheckpoint(tenantId, resource);
  const plan = planRun(options, checkpoint, now);
  const resumable = !plan.windowed && !dry;
  const counts = { fetched: 0, imported: 0, skipped: 0, failed: 0 };
  let pages = 0;
  let deleted = 0;
  const t0 = performance.now();

  let total: number | undefined;
  const progress = (done: boolean): ImportProgress => {
    const elapsedMs = Math.round(performance.now() - t0);
    return { tenantId, resource, runId, mode: plan.mode, ...counts, ratePerSecond: elapsedMs > 0 ? Math.round((counts.fetched * 1000) / elapsedMs) : 0, elapsedMs, done, ...(total !== undefined ? { total } : {}) };
  };
  const emit = (done: boolean) => {
    const event = progress(done);
    try { ctx.emitProgress(event); onProgress?.(event); } catch (error) { logger.warn('progress listener threw', { error }); }
  };
  const result = (status: ImportResult['status'], error?: string): ImportResult => {
    const finishedAt = clock();
    return {
      runId, tenantId, resource, mode: plan.mode, status, dryRun: dry, resumed: plan.resumedFrom !== null,
      ...counts, errors: counts.failed, deleted, pages, startedAt: now, finishedAt, durationMs: Math.round(performance.now() - t0),
      ...(error !== undefined ? { error } : {}),
    };
  };

  let firstError: unknown = null;
  const fail = (error: unknown) => { if (firstError === null) firstError = error; };

  if (!dry) {
    // This run holds the run lock: any other run of this resource still marked 'running' (windowed or
    // not) belongs to a process that died. Close them before this run's record is written.
    await store.closeInterruptedRuns(tenantId, resource, runId, `interrupted; ${plan.resumedFrom ? 'resumed' : 'followed'} by run ${runId}`)
      .catch((error) => logger.warn('could not close interrupted runs', { error }));
    if (!plan.windowed) await store.saveCheckpoint(tenantId, resource, { runId });
    await store.startRun({
      id: runId, tenantId, resource, mode: plan.mode,
      options: { ...describeOptions(options), resumedFrom: plan.resumedFrom?.runId ?? null, sinceId: plan.sinceId.toString(), updatedAtMin: plan.updatedAtMin?.toISOString() ?? null },
    });
    await store.setTenantSyncStatus(tenantId, 'running');
  }
  logger.info('sync started', { tenantId, resource, runId, mode: plan.mode, dryRun: dry, resumed: plan.resumedFrom !== null, sinceId: plan.sinceId.toString(), updatedAtMin: plan.updatedAtMin?.toISOString() });

  /** False once the listing showed ids out of order: the resume position then stays at the run's start. */
  let ordered = true;
  const cursorOf = (tracker: CommitTracker): ResumeCursor => ({
    v: 1, runId: plan.resumedFrom?.runId || runId, mode: plan.mode, sinceId: (ordered ? tracker.committedId : plan.sinceId).toString(),
    updatedAtMin: plan.updatedAtMin?.toISOString() ?? null, startedAt: plan.startedAt.toISOString(), maxUpdatedAt: tracker.committedMaxUpdatedAt,
  });
  const tracker = new CommitTracker(plan.sinceId, plan.maxUpdatedAt);
  const checkpointWriter = createLatestWriter<string>((cursor) => store.saveCheckpoint(tenantId, resource, { cursor, runId }), fail);
  let lastCountsAt = 0;
  const countsWriter = createLatestWriter<typeof counts>((c) => store.updateRunCounts(runId, tenantId, c), (error) => logger.warn('could not update run counts', { error }));
  if (resumable) checkpointWriter.push(encodeCursor(cursorOf(tracker)));

  const retryLog = (what: string) => (error: unknown, attempt: number, delayMs: number) =>
    logger.warn(`${what} failed, retrying`, { tenantId, resource, runId, attempt, delayMs, error });

  const processBatch = async (batch: Batch<unknown>): Promise<void> => {
    if (batch.failures.length > 0 && !dry) {
      await withRetry(() => store.recordFailures(runId, tenantId, resource, batch.failures), options.retry, ctx.sleep, retryLog('recording failures'));
    }
    let units = batch.units;
    if (options.skipExisting && units.length > 0) {
      const ids = units.map((u) => u.id).filter((id): id is bigint => id !== null);
      const existing = await withRetry(() => store.existingIds(tenantId, resource, ids), options.retry, ctx.sleep, retryLog('existing ids lookup'));
      if (existing.size > 0) units = units.filter((u) => u.id === null || !existing.has(u.id));
      counts.skipped += batch.units.length - units.length;
    }
    if (units.length === 0) return;
    if (dry) { counts.imported += units.length; return; }
    const written = await withRetry(() => adapter.write(store, tenantId, units.map((u) => u.unit)), options.retry, ctx.sleep, retryLog('batch write'));
    counts.imported += written.written;
    counts.skipped += written.stale;
  };

  const inFlight = new Set<Promise<void>>();
  const dispatch = async (batch: Batch<unknown>): Promise<void> => {
    while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    if (firstError !== null) return;
    const seq = tracker.add(batch.lastId, batch.maxUpdatedAt);
    const task: Promise<void> = processBatch(batch).then(
      () => {
        if (tracker.complete(seq) && resumable) checkpointWriter.push(encodeCursor(cursorOf(tracker)));
        if (!dry && Date.now() - lastCountsAt > 1000) { lastCountsAt = Date.now(); countsWriter.push({ ...counts }); }
        emit(false);
      },
      (error) => { fail(error); },
    ).finally(() => { inFlight.delete(task); });
    inFlight.add(task);
  };

  const emptyBatch = (): Batch<unknown> => ({ units: [], failures: [], lastId: null, maxUpdatedAt: null });
  let batch = emptyBatch();
  let previousId: bigint | null = null;
  const query: Record<string, string | number> = { ...adapter.baseQuery, limit: options.pageSize, since_id: plan.sinceId.toString() };
  if (plan.updatedAtMin) query.updated_at_min = plan.updatedAtMin.toISOString();
  if (plan.updatedAtMax) query.updated_at_max = plan.updatedAtMax.toISOString();
  // The total is for progress only: asked alongside the listing, never waited for, never fatal.
  const countTotal = ctx.countTotal ?? (typeof (ctx.client as Partial<CountingClientLike>).get === 'function' ? restTotalCounter(ctx.client as unknown as CountingClientLike) : undefined);
  if (countTotal) {
    const { limit: _limit, since_id: _sinceId, ...filters } = query;
    countTotal({ resource, path: adapter.path, filters }).then(
      (n) => { total = n; },
      (error) => logger.debug('could not count the listing for progress', { tenantId, resource, error }),
    );
  }

  try {
    for await (const page of lookahead(ctx.client.pages<unknown>(adapter.path, query))) {
      pages++;
      for (const raw of page) {
        counts.fetched++;
        const id = shopifyIdOf(raw);
        const updatedAt = updatedAtOf(raw);
        if (id !== null) {
          if (previousId !== null && id <= previousId && ordered) {
            // The resume position assumes ascending ids; if the listing is not ordered, put it back to
            // where this run started (a restart then lists more again, which is harmless) rather than skip records.
            ordered = false;
            if (resumable) checkpointWriter.push(encodeCursor(cursorOf(tracker)));
            logger.warn('listing is not ordered by id: the resume position stops advancing for this run', { tenantId, resource, runId });
          }
          previousId = id;
          if (ordered) batch.lastId = id;
        }
        if (updatedAt !== null && (batch.maxUpdatedAt === null || updatedAt > batch.maxUpdatedAt)) batch.maxUpdatedAt = updatedAt;
        try {
          batch.units.push({ id, unit: adapter.transform(ctx.transformer, raw, tenantId) });
        } catch (error) {
          counts.failed++;
          batch.failures.push({ shopifyId: id, reason: reasonOf(error) });
          logger.warn('record could not be transformed; recorded as a failure', { tenantId, resource, runId, shopifyId: id?.toString(), error });
        }
        if (batch.units.length + batch.failures.length >= options.batchSize) {
          const full = batch;
          batch = emptyBatch();
          if (!ordered) full.lastId = null;
          await dispatch(full);
        }
      }
      if (firstError !== null) break;
      if (options.signal?.aborted) { fail(new ImportError(`${resource} sync of tenant ${tenantId} aborted`, { code: 'IMPORT_ABORTED' })); break; }
      if (lock?.lost) { fail(new ImportError(`${resource} sync of tenant ${tenantId} stopped: its run lock was taken by another run`, { code: 'IMPORT_LOCK_LOST' })); break; }
    }
    if (firstError === null && (batch.units.length > 0 || batch.failures.length > 0)) {
      if (!ordered) batch.lastId = null;
      await dispatch(batch);
    }
  } catch (error) {
    fail(error);
  }
  while (inFlight.size > 0) await Promise.race(inFlight);
  await checkpointWriter.flush();

  if (firstError === null && !dry && !plan.windowed) {
    try {
      const since = plan.previousWatermark ? new Date(plan.previousWatermark.getTime() - options.overlapMs) : null;
      if (adapter.eventSubject && since) {
        deleted += await applyDestroyEvents({ client: ctx.client, store, tenantId, resource, subject: adapter.eventSubject, since, pageSize: options.pageSize, logger });
      }
      if (!adapter.eventSubject && plan.mode === 'full') {
        deleted += await reconcileIds({
          client: ctx.client, store, tenantId, resource, path: adapter.path,
          baseQuery: adapter.baseQuery, startedAt: plan.startedAt, pageSize: options.pageSize, logger,
        });
      }
    } catch (error) {
      fail(error);
    }
  }

  await countsWriter.flush();
  if (firstError !== null) {
    const error = firstError as Error;
    const aborted = (error as { code?: string }).code === 'IMPORT_ABORTED';
    const status = aborted ? 'cancelled' : 'failed';
    const message = reasonOf(error);
    const res = result(status, message);
    if (!dry) {
      await store.finishRun(runId, tenantId, { status, error: message, counts: { ...counts } }).catch((e) => logger.error('could not record run failure', { error: e }));
      await store.setTenantSyncStatus(tenantId, 'error', { error: message }).catch(() => {});
    }
    logger.error('sync failed; the checkpoint keeps the last committed position', { tenantId, resource, runId, error, committedId: tracker.committedId.toString() });
    emit(true);
    throw error instanceof ImportError && error.result
      ? error
      : new ImportError(`${resource} sync of tenant ${tenantId} ${aborted ? 'aborted' : 'failed'}: ${message}`, {
        cause: error, result: res, details: { tenantId, resource, runId },
        code: aborted ? 'IMPORT_ABORTED' : error instanceof ImportError ? error.code : 'IMPORT_FAILED',
      });
  }

  if (!dry) {
    // A windowed run leaves the checkpoint alone: it must not clobber an unfinished run's cursor.
    const patch: Parameters<IngestStore['saveCheckpoint']>[2] = { runId };
    if (!plan.windowed) {
      patch.cursor = null;
      patch.watermark = nextWatermark(plan.previousWatermark, tracker.committedMaxUpdatedAt, plan.startedAt);
      if (plan.mode === 'full') patch.fullSyncCompletedAt = clock();
      await store.saveCheckpoint(tenantId, resource, patch);
    }
    await store.finishRun(runId, tenantId, { status: 'succeeded', counts: { ...counts } });
    await store.setTenantSyncStatus(tenantId, 'idle', { lastSyncAt: clock(), error: null });
  }
  const res = result('succeeded');
  logger.info('sync finished', { tenantId, resource, runId, mode: plan.mode, fetched: counts.fetched, imported: counts.imported, skipped: counts.skipped, failed: counts.failed, deleted, pages, durationMs: res.durationMs });
  emit(true);
  return res;
}
