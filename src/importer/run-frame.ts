/**
 * What every sync run shares whatever it lists from (REST pages, GraphQL pages, a bulk operation's
 * file): counts and progress, turning records into units (transform failures recorded, never
 * fatal), the batch pipeline and its writes (retried, `skipExisting`), checkpoint writes, and the
 * checks that stop a run (abort, a lost run lock, a failed write).
 */
import type { Logger } from '../logger.js';
import type { ResourceDefinition, RowSet } from '../resources/definition.js';
import { releaseEncoded } from '../store/encoded-rows.js';
import type { Checkpoint, IngestStore, SyncFailureInput } from '../store/types.js';
import type { ResourceType } from '../store/rows.js';
import { isObject } from '../transform/values.js';
import { createLatestWriter } from './checkpoint.js';
import { ImportError } from './errors.js';
import type { ResolvedImportOptions } from './options.js';
import { BatchPipeline, type Batch, type Unit } from './pipeline.js';
import { lockLostError, type HeldRunLock } from './run-lock.js';
import { withRetry } from './retry.js';
import { childRows, reasonOf, recordRows, shopifyIdOf } from './units.js';
import type { ImportProgress, ImportTransformer } from './types.js';
import { ATTR, NO_SPAN, NO_TELEMETRY, SPANS, type Attributes, type Telemetry, type TelemetrySpan } from '../telemetry/index.js';

/** Everything a run frame needs from the run's context. */
export interface FrameDeps {
  tenantId: string;
  store: IngestStore;
  transformer: ImportTransformer;
  logger: Logger;
  clock: () => Date;
  sleep: (ms: number) => Promise<void>;
  emitProgress: (event: ImportProgress) => void;
  /** Metrics and spans, bound to the tenant. */
  telemetry?: Telemetry;
}

/** `updated_at` of a raw record in ms, or null. */
export function updatedAtOf(raw: unknown): number | null {
  if (!isObject(raw)) return null;
  const v = raw.updated_at ?? raw.updatedAt;
  if (typeof v !== 'string' && !(v instanceof Date)) return null;
  const ms = v instanceof Date ? v.getTime() : Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

export { shopifyIdOf } from './units.js';

export class RunFrame {
  readonly counts = { fetched: 0, imported: 0, skipped: 0, failed: 0 };
  /** Shopify requests made for the listing. */
  pages = 0;
  deleted = 0;
  /** Things a user should know about a run that succeeded (withheld fields, a partial history, a failed deletion probe). */
  readonly warnings: string[] = [];
  /** Highest `updated_at` among committed records (ms), for the watermark. */
  committedMax: number | null = null;
  /** Records Shopify may return in total for the listing being run (a count query or a bulk operation's rootObjectCount), for progress. */
  total: number | null = null;
  /**
   * When the read whose records are being turned into units began (a page request sent, a bulk
   * operation asked for): stamped on the rows of versioned tables, it breaks ties of `updated_at`
   * (store/versioning.ts). Each listing sets it before its records go to the pipeline.
   */
  observedAt: Date | null = null;
  /** Records fetched by the listings run before it (a resource with several: metafields through their owners), for progress. */
  private fetchedBefore = 0;
  private error: unknown = null;
  private readonly t0 = performance.now();
  private lastCountsAt = 0;
  private readonly countsWriter: ReturnType<typeof createLatestWriter<RunFrame['counts']>>;
  private readonly checkpointWriter: ReturnType<typeof createLatestWriter<string>>;
  readonly dry: boolean;
  /** The run's span: parent of the listing's page or bulk file spans. */
  span: TelemetrySpan = NO_SPAN;
  /** The page or bulk file being listed: batches dispatched meanwhile are its children. */
  private listingSpan: TelemetrySpan | null = null;
  private readonly telemetry: Telemetry;

  constructor(
    readonly deps: FrameDeps,
    public resource: ResourceDefinition,
    readonly runId: string,
    readonly mode: 'full' | 'incremental',
    readonly options: ResolvedImportOptions,
    private readonly onProgress: ((e: ImportProgress) => void) | undefined,
    private readonly lock: HeldRunLock | null,
  ) {
    this.dry = options.dryRun;
    this.telemetry = deps.telemetry ?? NO_TELEMETRY;
    this.countsWriter = createLatestWriter((c) => deps.store.updateRunCounts(runId, deps.tenantId, c), (error) => deps.logger.warn('could not update run counts', { error }));
    // Fenced by the run lock: a run that stalled past its TTL cannot write its older cursor over the
    // checkpoint of the run that took over (it stops at once instead, IMPORT_LOCK_LOST).
    this.checkpointWriter = createLatestWriter(async (cursor) => {
      if (!(await deps.store.saveCheckpoint(deps.tenantId, resource.name as ResourceType, { cursor, runId }, { heldBy: runId }))) this.fail(lockLostError(resource.name, deps.tenantId));
    }, (error) => this.fail(error));
  }

  get tenantId(): string { return this.deps.tenantId; }
  get name(): ResourceType { return this.resource.name as ResourceType; }
  /** The first error that stopped the run, or null. */
  get failed(): unknown { return this.error; }

  fail(error: unknown): void {
    if (this.error === null) this.error = error;
  }

  /** True when the run must stop now: an error, an abort, or a lost run lock. */
  shouldStop(): boolean {
    if (this.error !== null) return true;
    if (this.lock?.lost) {
      this.fail(lockLostError(this.name, this.tenantId));
      return true;
    }
    if (this.options.signal?.aborted) {
      this.fail(new ImportError(`${this.name} sync of tenant ${this.tenantId} aborted`, { code: 'IMPORT_ABORTED' }));
      return true;
    }
    return false;
  }

  progress(done: boolean): ImportProgress {
    const elapsedMs = Math.round(performance.now() - this.t0);
    return {
      tenantId: this.tenantId, resource: this.name, runId: this.runId, mode: this.mode, ...this.counts,
      ...(this.total !== null ? { total: this.fetchedBefore + this.total } : {}),
      ratePerSecond: elapsedMs > 0 ? Math.round((this.counts.fetched * 1000) / elapsedMs) : 0, elapsedMs, done,
    };
  }

  emit(done: boolean): void {
    const event = this.progress(done);
    try { this.deps.emitProgress(event); this.onProgress?.(event); } catch (error) { this.deps.logger.warn('progress listener threw', { error }); }
  }

  get elapsedMs(): number {
    return Math.round(performance.now() - this.t0);
  }

  /** Index of the GraphQL listing being run (`graphqlSourcesOf`): resources with several list them in turn. */
  sourceIndex = 0;

  /** Lists the resource through its `index`th GraphQL listing from now on (`resource.graphql` replaced by `source`). */
  useSource(index: number, definition: ResourceDefinition, source: ResourceDefinition['graphql']): void {
    // A new listing's total counts its own records: progress adds those of the listings before it.
    if (index > this.sourceIndex) {
      this.fetchedBefore = this.counts.fetched;
      this.total = null;
    }
    this.sourceIndex = index;
    this.resource = index === 0 ? definition : { ...definition, graphql: source };
  }

  /**
   * Saves a resume cursor (latest wins, one write in flight). Dry and windowed runs pass `enabled: false`.
   * With `gapMs`, cursors saved within that long of this one's write are dropped but the latest
   * (a bulk file's, which moves with every batch: see BULK_CHECKPOINT_GAP_MS).
   */
  saveCursor(cursor: string, gapMs = 0): void {
    if (this.dry) return;
    this.checkpointWriter.push(this.sourceIndex > 0 ? JSON.stringify({ ...JSON.parse(cursor) as object, source: this.sourceIndex }) : cursor, gapMs);
  }

  async flushCursor(): Promise<void> {
    await this.checkpointWriter.flush();
  }

  /** A record (REST body or GraphQL node) to a unit; a record that cannot be transformed becomes a recorded failure. */
  recordUnit<P>(raw: unknown, position: P, syncTag: string | null = null): Unit<P> {
    this.counts.fetched++;
    try {
      const { rows, provides } = recordRows(this.resource, this.deps.transformer, this.tenantId, raw, this.observedAt, syncTag);
      return { rows, records: 1, position, provides };
    } catch (error) {
      return this.failureUnit(raw, position, error);
    }
  }

  /**
   * A bulk child line (a node of a nested connection with `__parentId`) to a unit of its child table;
   * `text` is the line's JSON text without `__parentId` (`childLineText` in bulk-listing.ts), when known.
   */
  childUnit<P>(table: string, raw: unknown, parentId: bigint, position: P, syncTag: string, text?: string): Unit<P> {
    try {
      const { rows, provides } = childRows(this.resource, this.deps.transformer, this.tenantId, table, raw, parentId, this.observedAt, syncTag, text);
      return { rows, records: 0, position, requires: parentId, provides };
    } catch (error) {
      return this.failureUnit(raw, position, error, 0);
    }
  }

  /** A record that cannot be written, as a recorded failure (`error` says why). */
  failedUnit<P>(raw: unknown, position: P, error: unknown): Unit<P> {
    this.counts.fetched++;
    return this.failureUnit(raw, position, error);
  }

  private failureUnit<P>(raw: unknown, position: P, error: unknown, records = 1): Unit<P> {
    const id = shopifyIdOf(raw);
    return this.failedWith(position, { shopifyId: id, reason: reasonOf(error) }, records, error);
  }

  /**
   * A unit for a record (`records` 1) or child line (0) that could not be transformed, counted and
   * logged; `error` is what was thrown, when it was thrown here (a worker thread sends its reason only).
   */
  failedWith<P>(position: P, failure: SyncFailureInput, records: number, error: unknown = failure.reason): Unit<P> {
    this.counts.failed++;
    this.deps.logger.warn('record could not be transformed; recorded as a failure', { tenantId: this.tenantId, resource: this.name, runId: this.runId, shopifyId: failure.shopifyId?.toString(), error });
    return { rows: null, records, position, failure };
  }

  /** Opens the span of a page or bulk file (ending the previous one); batch writes started while it is open are its children. */
  openListingSpan(name: string, attributes: Attributes = {}): void {
    this.closeListingSpan();
    this.listingSpan = this.telemetry.startSpan(name, { [ATTR.resource]: this.name, ...attributes }, this.span);
  }

  /** Ends the open page or bulk file span, if any. */
  closeListingSpan(error?: unknown, attributes?: Attributes): void {
    const span = this.listingSpan;
    if (!span) return;
    this.listingSpan = null;
    if (attributes) span.set(attributes);
    span.end(error);
  }

  /**
   * Ends a listing's pipeline: writes what it holds when the run is still healthy, else waits for the
   * batches in flight and keeps the first failure.
   */
  async endPipeline<P>(pipeline: BatchPipeline<P>): Promise<void> {
    if (this.failed === null && pipeline.failed === null) await pipeline.close().catch((e) => this.fail(e));
    else {
      await pipeline.drain();
      if (pipeline.failed !== null) this.fail(pipeline.failed);
    }
  }

  /** A pipeline writing this run's batches (`mode: 'bulk'` for a bulk operation's lines). */
  pipeline<P>(mode: 'complete' | 'bulk', onCommitted: (position: P) => void): BatchPipeline<P> {
    return new BatchPipeline<P>({
      batchSize: this.options.batchSize,
      concurrency: this.options.concurrency,
      childLines: mode === 'bulk',
      write: (batch) => this.writeBatch(batch, mode),
      onCommitted: (position) => {
        onCommitted(position);
        if (!this.dry && Date.now() - this.lastCountsAt > 1000) { this.lastCountsAt = Date.now(); this.countsWriter.push({ ...this.counts }); }
        this.emit(false);
      },
    });
  }

  private retryLog(what: string) {
    return (error: unknown, attempt: number, delayMs: number) =>
      this.deps.logger.warn(`${what} failed, retrying`, { tenantId: this.tenantId, resource: this.name, runId: this.runId, attempt, delayMs, error });
  }

  private async writeBatch<P>(batch: Batch<P>, mode: 'complete' | 'bulk'): Promise<void> {
    const span = this.telemetry.startSpan(SPANS.batch, { [ATTR.resource]: this.name, 'shopify_ingest.batch.units': batch.units.length, 'shopify_ingest.batch.records': batch.records }, this.listingSpan ?? this.span);
    const started = performance.now();
    try {
      // Every batch says what it wrote: 0 when all its records failed or were skipped.
      span.set({ 'shopify_ingest.batch.written': await this.writeBatchNow(batch, mode) });
      span.end();
    } catch (error) {
      span.end(error);
      throw error;
    } finally {
      if (!this.dry) this.telemetry.record('batchDuration', (performance.now() - started) / 1000, { [ATTR.resource]: this.name });
    }
  }

  /** Writes the batch; returns the records it wrote (a dry run: the records it would write). */
  private async writeBatchNow<P>(batch: Batch<P>, mode: 'complete' | 'bulk'): Promise<number> {
    const { store, sleep } = this.deps;
    const outcome = (name: string, n: number) => { if (!this.dry) this.telemetry.add('syncRecords', n, { [ATTR.resource]: this.name, [ATTR.outcome]: name }); };
    const failures: SyncFailureInput[] = [];
    let units = batch.units;
    for (const unit of units) if (unit.failure) failures.push(unit.failure);
    if (failures.length > 0 && !this.dry) {
      await withRetry(() => store.recordFailures(this.runId, this.tenantId, this.name, failures), this.options.retry, sleep, this.retryLog('recording failures'));
      outcome('failed', failures.length);
    }
    units = units.filter((u) => u.rows !== null);
    if (this.options.skipExisting && units.length > 0) {
      const ids = units.filter((u) => u.records > 0).map((u) => u.provides).filter((id): id is bigint => id !== undefined);
      const existing = ids.length ? await withRetry(() => store.existingIds(this.tenantId, this.name, ids), this.options.retry, sleep, this.retryLog('existing ids lookup')) : new Set<bigint>();
      if (existing.size > 0) {
        const before = units.filter((u) => u.records > 0).length;
        units = units.filter((u) => u.records === 0 || u.provides === undefined || !existing.has(u.provides));
        const skipped = before - units.filter((u) => u.records > 0).length;
        this.counts.skipped += skipped;
        outcome('skipped', skipped);
      }
    }
    if (units.length === 0) return 0;
    const records = units.reduce((n, u) => n + u.records, 0);
    if (this.dry) { this.counts.imported += records; return records; }
    const rows: RowSet = {};
    for (const unit of units) {
      for (const [key, list] of Object.entries(unit.rows!)) {
        const target = rows[key] ?? (rows[key] = []);
        for (const row of list) target.push(row);
      }
    }
    const direct = mode === 'bulk' && this.tryDirect();
    const result = await withRetry(() => store.writeRows(this.tenantId, this.name, rows, direct ? { mode, direct } : { mode }), this.options.retry, sleep, this.retryLog('batch write'));
    // Rows encoded when read give their bytes back for the next ones (never before the write is done).
    releaseEncoded(rows);
    forgetRows(batch.units, rows);
    if (direct) this.directDone(result.direct === true);
    if (mode === 'bulk' && !(direct && result.direct === true)) this.upsertedBulkBatches++;
    // A batch of units that count no record (a truncated bulk record re-read whole, written again)
    // adds no imported record; its rows are still counted as written.
    const written = records === 0 ? 0 : result.written;
    this.counts.imported += written;
    this.counts.skipped += result.stale;
    outcome('written', written);
    outcome('skipped', result.stale);
    for (const [table, n] of Object.entries(result.tables.written)) this.telemetry.add('syncRows', n, { [ATTR.resource]: this.name, [ATTR.table]: table });
    for (const [table, n] of Object.entries(result.tables.orphans)) {
      if (n > 0) {
        this.deps.logger.warn('bulk child lines without a stored parent were not written', { tenantId: this.tenantId, resource: this.name, runId: this.runId, table, count: n });
        this.orphans += n;
      }
    }
    return written;
  }

  /** Bulk child lines whose parent was never stored (its line failed to transform). */
  orphans = 0;

  /** Bulk batches written by the upsert rather than copied straight into the tables (see `tryDirect`). */
  upsertedBulkBatches = 0;

  /**
   * Bulk batches are first offered to the store's direct write (COPY straight into the tables, see
   * `WriteRowsOptions.direct`), which pays off while the rows are new: a first backfill. Each refusal
   * costs a COPY cut short at the first stored row, so after three refusals in a row (a tenant
   * synced before, an incremental window) the next 64 batches are upserted without trying;
   * an incremental run starts that way.
   */
  private directState: { refusedInARow: number; pause: number } | null = null;

  private tryDirect(): boolean {
    this.directState ??= { refusedInARow: 0, pause: this.mode === 'full' ? 0 : 64 };
    if (this.directState.pause === 0) return true;
    this.directState.pause--;
    return false;
  }

  private directDone(done: boolean): void {
    const state = this.directState!;
    if (done) state.refusedInARow = 0;
    else if (++state.refusedInARow >= 3) { state.refusedInARow = 0; state.pause = 64; }
  }

  async flushCounts(): Promise<void> {
    await this.countsWriter.flush();
  }

  /** The checkpoint at the start of the run. */
  checkpoint: Checkpoint | null = null;
}

/**
 * Drops a written batch's links to its rows: its units' row sets and the lists merged from them.
 * The units and lists waited for the write, long enough that V8 may have promoted them to the old
 * generation (or allocated them there, once their allocation site looked long-lived); dead there,
 * they would keep every row they point to alive until the next full collection, and those rows
 * would be promoted in turn (docs/benchmarks.md, "Where the peak goes").
 */
function forgetRows(units: ReadonlyArray<{ rows: RowSet | null }>, rows: RowSet): void {
  for (const unit of units) unit.rows = null;
  for (const key in rows) rows[key].length = 0;
}
