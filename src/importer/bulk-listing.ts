/**
 * Backfill with bulk operations: one `bulkOperationRunQuery` per window of the resource, waited for
 * (polled with backoff, woken early by `bulk_operations/finish`), then its JSONL file streamed into
 * the pipeline line by line. See resource-writer.ts for how child lines find their parents whatever
 * their place in the file.
 *
 * What Shopify can do to an operation, and what happens then
 * (https://shopify.dev/docs/api/usage/bulk-operations/queries):
 * - COMPLETED with `url: null`: nothing matched; COMPLETED with a file: the file is read, checked
 *   against `rootObjectCount` (a file with fewer records is an error, never a silent gap), and the
 *   children its records no longer have are removed (`finalizeBulk`).
 * - FAILED with TIMEOUT or INTERNAL_SERVER_ERROR: what it wrote (`partialDataUrl`) is read, then its
 *   window is split in two halves queued in its place, down to a minimum span (adaptive windows).
 * - FAILED with ACCESS_DENIED: a missing scope is a typed error naming it; with every scope granted it
 *   is protected customer data, and the window is listed with paged queries instead, which return
 *   the rest of the data with the protected fields null.
 * - CANCELED (by Shopify: this SDK never cancels) or EXPIRED, or a result link that expired: the
 *   window is run again, a bounded number of times; then the run fails and the next one starts anew.
 * - Resume: the operation's id and how far its file is committed are in the checkpoint; a restarted
 *   run re-attaches to a running operation (also one found by its query when the id was not saved
 *   yet), and continues a file from the committed line.
 */
import { BulkOperations, type BulkOperationState } from '../client/bulk-operations.js';
import { ShopifyIngestError } from '../errors.js';
import { childLineText, kindOfLine } from './bulk-lines.js';
import { BulkWorkerError, bundledWorkerFile, mergedRecordsFor, unitsFromWorker, type WorkerOutcome } from './bulk-file-worker.js';
import type { WorkerInit } from './bulk-worker-protocol.js';
import { transformerSpecOf } from '../transform/transformer.js';
import { getResource } from '../resources/registry.js';
import { parseGid } from '../transform/values.js';
import { encodeCursor, type BulkCursor, type GraphqlCursor } from './checkpoint.js';
import { ImportError } from './errors.js';
import { readJsonl } from './jsonl.js';
import { ACCESS_SCOPES_QUERY, bulkQuery, earliestOf, earliestQuery, liftRecord, sortKeyFor, timeWindowQuery } from './queries.js';
import { completeListFieldsOf, fetchRecord, itemsToComplete, listItemsPerQuery } from './pages-listing.js';
import type { BulkDeps } from './types.js';
import type { RunFrame } from './run-frame.js';
import type { Unit } from './pipeline.js';
import { RegroupWindow } from './regroup.js';
import type { GraphqlImportClient } from './types.js';
import { graphqlSourcesOf, type NestedConnection, type RowSet } from '../resources/definition.js';
import { EncodedRow } from '../store/encoded-rows.js';
import { SPANS } from '../telemetry/instruments.js';

export { childLineText } from './bulk-lines.js';

/** A window `[from, to]` (ISO strings, null = open). */
export type Window = [string | null, string | null];

export interface BulkPlan {
  field: 'created_at' | 'updated_at';
  windows: Window[];
  attempts: number;
  op: BulkCursor | null;
  /** A killed run asked for the first window's operation without saving its id (`GraphqlCursor.askedAfter`). */
  askedAfter?: string | null;
  /** The span already denied to bulk operations (a resumed cursor's), to list with paged queries. */
  fallback: Window | null;
  startedAt: Date;
  maxUpdatedAt: number | null;
  resumedRunId: string | null;
  resumable: boolean;
}

export type { BulkDeps } from './types.js';

interface LinePosition { line: number; byte: number; roots: number }

/**
 * What `finalizeBulk` must do after a file, learnt while reading it: whether every batch was copied
 * straight into the tables from the file's first line in this process (its parents were all new),
 * and which parents got counted children after they were written (null past {@link MAX_LATE_PARENTS}).
 */
interface FileWrites { fromStart: boolean; upsertedBefore: number; late: Set<bigint> | null }

/** Parents with late counted children remembered per file; past it, every parent is recounted. */
const MAX_LATE_PARENTS = 20_000;

/**
 * Child lines per parent of connections with a `countField`, against the count their parent line
 * says: Shopify's bulk output may truncate such a connection (discount `codes` near 100).
 */
interface ChildTally {
  /** By child table key: parent id -> [expected, seen]. */
  byTable: Map<string, Map<bigint, [number, number]>>;
  /** Each counted record's gid as the file gave it, to read it again by. */
  gids: Map<bigint, string>;
  /**
   * Counted records this run read from the file and counted (a line that transformed): read again
   * whole, they add no record. The others (a line that could not be transformed, or one committed by
   * a killed run before this one resumed the file) are records this run writes when read again.
   */
  counted: Set<bigint>;
}

/** What a bulk listing ended with: the span to list with paged queries instead (protected data), if any. */
export interface BulkOutcome {
  fallback: Window | null;
  operations: number;
}

/** The smallest window holding both (null ends are open: they hold everything on their side). */
function spanOf(a: Window | null, b: Window): Window {
  if (a === null) return [...b] as Window;
  const from = a[0] === null || b[0] === null ? null : a[0] < b[0] ? a[0] : b[0];
  const to = a[1] === null || b[1] === null ? null : a[1] > b[1] ? a[1] : b[1];
  return [from, to];
}

const MIN_WINDOW_MS = 3_600_000;
/**
 * A bulk file's committed position moves with every batch (dozens a second in a backfill): its
 * checkpoint is written at most every this many milliseconds (the latest position then; always at
 * the file's end). Each write is a synchronous commit; a crash redoes at most this long of batches,
 * which the idempotent writer absorbs.
 */
const BULK_CHECKPOINT_GAP_MS = 250;
/** Bulk lines held at most while list items wait for their shared `nodes(ids:)` query. */
const MAX_HELD_LINES = 2_000;

/**
 * How many lines a record of a bulk file waits for its children by default (`BulkDeps.regroupLines`):
 * the simulator puts a child up to ~3,500 lines after its parent; Shopify does not say how far.
 */
const DEFAULT_REGROUP_LINES = 4_000;

/** How the records of a resource with list fields are completed (see `completeListFieldsOf`). */
interface Completion {
  /** List items of a record that lack their connections. */
  itemsOf(node: Record<string, unknown>): number;
  /** Items one query completes. */
  perQuery: number;
  run(nodes: Array<Record<string, unknown>>): Promise<void>;
}

/** Runs the plan's windows as bulk operations into the frame's pipeline. */
export async function bulkListing(frame: RunFrame, client: GraphqlImportClient, deps: BulkDeps, plan: BulkPlan): Promise<BulkOutcome> {
  const { logger } = frame.deps;
  const bulk = new BulkOperations(client, { logger, minPollMs: deps.minPollMs, maxPollMs: deps.maxPollMs });
  const maxAttempts = deps.maxAttempts ?? 3;
  const minWindowMs = deps.minWindowMs ?? MIN_WINDOW_MS;
  const childByType = new Map(frame.resource.children.filter((c) => c.bulkType).map((c) => [c.bulkType!, c]));
  const rootType = frame.resource.graphql.type;
  const windows = plan.windows.map((w) => [...w] as Window);
  let attempts = plan.attempts;
  let op: BulkCursor | null = plan.op;
  let askedAfter = plan.op ? null : plan.askedAfter ?? null;
  let operations = 0;
  const outcome: BulkOutcome = { fallback: plan.fallback, operations: 0 };
  // Connections inside list fields (`Order.refunds[].refundLineItems`) are not in the file: fetched per record.
  const withheld = new Set<string>();
  const lists = (frame.resource.graphql.lists ?? []).filter((l) => l.connections.length > 0);
  const complete: Completion | null = lists.length > 0
    ? {
      itemsOf: (node) => itemsToComplete(frame.resource, node),
      perQuery: Math.min(...lists.map(listItemsPerQuery)),
      run: (nodes) => completeListFieldsOf(frame.resource, client, nodes, withheld, frame.options.signal, () => { frame.pages++; }),
    }
    : null;

  const cursorOf = (): GraphqlCursor => ({
    v: 2, runId: plan.resumedRunId ?? frame.runId, mode: frame.mode, method: 'bulk', startedAt: plan.startedAt.toISOString(),
    maxUpdatedAt: plan.maxUpdatedAt, field: plan.field, windows, attempts, op, ...(askedAfter ? { askedAfter } : {}), ...(outcome.fallback ? { fallback: outcome.fallback } : {}),
  });
  const save = (gapMs = 0) => { if (plan.resumable) frame.saveCursor(encodeCursor(cursorOf()), gapMs); };
  /** The window's operation came to nothing: run again (saved), or, attempts spent, a typed error. */
  const rerun = (failed: BulkCursor, why: string): void => {
    const attempt = attempts + 1;
    // Either way the cursor no longer names the operation: the next run starts a new one for the
    // window (as after BULK_FILE_INCOMPLETE) instead of resuming this one and failing again at once.
    op = null;
    attempts = attempt >= maxAttempts ? 0 : attempt;
    save();
    if (attempt >= maxAttempts) {
      throw new ImportError(`${frame.name} bulk operation of tenant ${frame.tenantId} for window ${JSON.stringify(windows[0])} did not complete after ${attempt} attempts: ${why}`, {
        code: 'BULK_OPERATION_FAILED', details: { operation: failed.id, window: windows[0] },
      });
    }
    logger.warn('bulk operation will be run again', { tenantId: frame.tenantId, resource: frame.name, operation: failed.id, why, attempt });
  };
  const g = frame.resource.graphql;
  const sortKey = sortKeyFor(g, plan.field) ?? undefined;

  while (windows.length > 0 && !frame.shouldStop()) {
    const [from, to] = windows[0];
    const search = timeWindowQuery(plan.field, from ? new Date(from) : null, to ? new Date(to) : null, frame.resource.graphql.baseQuery);
    // A sort key matching the filtered field keeps large filtered operations from timing out (Shopify's advice).
    const query = bulkQuery(frame.resource, search, search ? sortKey : undefined);

    if (!op) {
      // After a kill between asking and saving the answer, the operation asked for may have completed
      // meanwhile: one with this query and an id above the newest there was before asking is it.
      const running = await bulk.findRunning(query, { signal: frame.options.signal, completedAfter: askedAfter ?? undefined });
      if (!running) {
        // Saved before asking, so that a run killed before the answer is saved knows what to look for.
        askedAfter = await bulk.newestId({ signal: frame.options.signal });
        save();
        await frame.flushCursor();
        if (frame.shouldStop()) break;
      }
      const sentAt = frame.deps.clock().toISOString();
      const state = running ?? await bulk.start(query, { groupObjects: false, signal: frame.options.signal, askedAfter: askedAfter ?? undefined });
      askedAfter = null;
      op = { id: state.id, tag: tagOf(state.id), line: 0, byte: 0, roots: 0, ...running ? {} : { sentAt } };
      operations++;
      logger.info(running ? `bulk operation ${running.status === 'COMPLETED' ? 'asked for by a killed run, completed since' : 'already running for this query'}: attached to it` : 'bulk operation started', { tenantId: frame.tenantId, resource: frame.name, operation: state.id, window: [from, to] });
      save();
    }

    let state: BulkOperationState;
    try {
      state = await bulk.waitFor(op.id, {
        signal: frame.options.signal,
        wake: deps.wake,
        onPoll: (s) => { if (frame.total === null && s.status === 'COMPLETED') frame.total = Number(s.rootObjectCount); },
      });
    } catch (error) {
      // An operation Shopify does not know (any more, or another app's after a reinstall): the cursor
      // must not name it for good; the window is listed again.
      if (!(error instanceof ShopifyIngestError && error.code === 'BULK_OPERATION_NOT_FOUND')) throw error;
      rerun(op, 'Shopify does not know it');
      continue;
    }

    // The file holds each record as the operation found it, some time after it was asked for.
    frame.observedAt = observedFrom(op, state);
    if (state.status === 'COMPLETED') {
      const tally: ChildTally = { byTable: new Map(), gids: new Map(), counted: new Set() };
      const writes: FileWrites = { fromStart: op.line === 0, upsertedBefore: frame.upsertedBulkBatches, late: new Set() };
      if (state.url) {
        const read = await readFile(frame, deps, state.url, Number(state.objectCount), op, childByType, rootType, save, false, complete, tally, writes);
        if (read === 'expired') { rerun(op, 'its result link expired'); continue; }
        if (frame.failed !== null) break;
      }
      const expected = Number(state.rootObjectCount);
      if (op.roots !== expected) {
        const error = new ImportError(`${frame.name} bulk operation ${state.id} of tenant ${frame.tenantId} listed ${expected} records but its file held ${op.roots}: incomplete, nothing was deleted`, {
          code: 'BULK_FILE_INCOMPLETE', details: { operation: state.id, expected, read: op.roots },
        });
        // The file will not change: the window is listed again by a new operation, here up to
        // maxAttempts, then by the next run (the cursor no longer names this one).
        if (attempts + 1 < maxAttempts) {
          logger.warn('bulk result file incomplete: the window is listed again', { tenantId: frame.tenantId, resource: frame.name, operation: state.id, expected, read: op.roots });
          op = null;
          attempts++;
          save();
          continue;
        }
        op = null;
        attempts = 0;
        save();
        throw error;
      }
      await rereadTruncated(frame, client, tally, op.tag);
      if (frame.failed !== null) break;
      if (!frame.dry) {
        // Parents all new (a first backfill's file, read whole here, every batch copied): none of their
        // stored children can be gone, and only parents with late children need their count rewritten.
        const fresh = writes.fromStart && writes.late !== null && frame.upsertedBulkBatches === writes.upsertedBefore;
        const { removed, recounted } = await frame.deps.store.finalizeBulk(frame.tenantId, frame.name, op.tag, fresh ? { newParents: { recount: [...writes.late!] } } : {});
        const total = Object.values(removed).reduce((a, b) => a + b, 0);
        if (total > 0) logger.info('children no longer listed by their parents removed', { tenantId: frame.tenantId, resource: frame.name, removed });
        if (Object.values(recounted).some((n) => n > 0)) logger.debug('parents recounted after the file (children read after they were written)', { tenantId: frame.tenantId, resource: frame.name, recounted });
      }
      windows.shift();
      op = null;
      attempts = 0;
      save();
      continue;
    }

    if (state.status === 'FAILED' && state.errorCode === 'ACCESS_DENIED') {
      const missing = await missingScopes(frame, client);
      if (missing.length > 0) {
        // Not resumed by the next run: granted the scope by then, it would take this denial for
        // protected customer data and page the window. A new operation is asked for instead.
        op = null;
        attempts = 0;
        save();
        throw new ImportError(`${frame.name} of tenant ${frame.tenantId}: Shopify denied access; the app lacks the scope(s) ${missing.join(', ')}`, {
          code: 'SHOPIFY_ACCESS_DENIED', details: { missingScopes: missing, operation: state.id },
        });
      }
      // Every scope is granted: protected customer data the app is not approved for. Paged queries
      // return the records with those fields null instead of failing.
      frame.warnings.push(`bulk operation ${state.id} was denied access (protected customer data): window listed with paged queries`);
      // Kept in the cursor until paged: a run stopped before the paging ends resumes it.
      outcome.fallback = spanOf(outcome.fallback, windows.shift()!);
      op = null;
      attempts = 0;
      save();
      continue;
    }

    if (state.status === 'FAILED') {
      logger.warn('bulk operation failed', { tenantId: frame.tenantId, resource: frame.name, operation: state.id, errorCode: state.errorCode, partial: Boolean(state.partialDataUrl) });
      if (state.partialDataUrl && !op.partial) { op = { ...op, line: 0, byte: 0, roots: 0, partial: true }; save(); }
      if (state.partialDataUrl) {
        // What it wrote is real data: store it now; the halves below list it again (idempotently) and complete it.
        await readFile(frame, deps, state.partialDataUrl, 0, op, childByType, rootType, save, true, complete, null, null);
        if (frame.failed !== null) break;
      }
      const halves = await splitWindow(frame, client, plan.field, windows[0], state, minWindowMs);
      if (!halves) { rerun(op, `it failed with ${state.errorCode ?? 'an error'} at the smallest window`); continue; }
      windows.splice(0, 1, ...halves);
      op = null;
      attempts = 0;
      logger.info('bulk window split after a failure', { tenantId: frame.tenantId, resource: frame.name, windows: halves });
      save();
      continue;
    }

    // CANCELED (by Shopify) or EXPIRED.
    rerun(op, `Shopify reported it ${state.status}`);
  }
  outcome.operations = operations;
  if (withheld.size > 0) frame.warnings.push(`Shopify withheld protected customer data (${[...withheld].sort().join(', ')}): stored as null`);
  return outcome;
}

/** The tag a bulk operation's rows carry: `bulk:<operation number>`. */
export function tagOf(operationId: string): string {
  const n = parseGid(operationId);
  return `bulk:${n ?? operationId}`;
}

/**
 * When the operation was asked for, on the importer's clock (as page reads are stamped: a read of
 * the same second made before it must lose to it). An operation attached to, not started: Shopify's
 * `createdAt` (whole seconds), or null when its answer does not say.
 */
function observedFrom(op: BulkCursor, state: BulkOperationState): Date | null {
  const ms = Date.parse(op.sentAt ?? state.createdAt ?? '');
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** Two halves of a window, or null when it is already at the smallest span. Open ends get bounds first. */
async function splitWindow(frame: RunFrame, client: GraphqlImportClient, field: BulkPlan['field'], window: Window, state: BulkOperationState, minWindowMs: number): Promise<Window[] | null> {
  const end = window[1] ? Date.parse(window[1]) : Date.parse(state.createdAt ?? '') || frame.deps.clock().getTime();
  let start = window[0] ? Date.parse(window[0]) : null;
  if (start === null) start = await earliest(frame, client, field) ?? end;
  if (end - start < 2 * minWindowMs) return null;
  const mid = new Date(Math.floor((start + (end - start) / 2) / 1000) * 1000).toISOString();
  // The halves share their edge second: a record stamped exactly then is listed twice, never missed.
  // An open start stays open: the earliest record found only places the midpoint (without a matching
  // sort key it is the first by id, not the earliest by date, and a bound from it would drop records).
  return [[window[0], mid], [mid, window[1]]];
}

/** The earliest `created_at`/`updated_at` of the resource (one cheap page). */
async function earliest(frame: RunFrame, client: GraphqlImportClient, field: BulkPlan['field']): Promise<number | null> {
  const g = frame.resource.graphql;
  const ms = earliestOf(g, field, await client.graphql(earliestQuery(g, field), undefined, { signal: frame.options.signal }));
  return ms === null ? null : ms - 1000;
}

/** The scopes the app was granted on this shop. */
export async function grantedScopes(frame: RunFrame, client: GraphqlImportClient): Promise<Set<string>> {
  const data = await client.graphql<{ currentAppInstallation: { accessScopes: Array<{ handle: string }> } | null }>(ACCESS_SCOPES_QUERY, undefined, { signal: frame.options.signal });
  return new Set((data?.currentAppInstallation?.accessScopes ?? []).map((s) => s.handle));
}

/** Scopes of the resource not among `granted`; write_x implies read_x (https://shopify.dev/docs/api/usage/access-scopes). */
export function missingFrom(frame: RunFrame, granted: ReadonlySet<string>): string[] {
  return frame.resource.scopes.filter((scope) => !granted.has(scope) && !granted.has(scope.replace(/^read_/, 'write_')));
}

/** Scopes of the resource the app was not granted on this shop. */
export async function missingScopes(frame: RunFrame, client: GraphqlImportClient): Promise<string[]> {
  return missingFrom(frame, await grantedScopes(frame, client));
}

/** {@link readFileInto} inside the file's span (batch writes of the file are its children). */
async function readFile(
  frame: RunFrame, deps: BulkDeps, url: string, lines: number, op: BulkCursor,
  childByType: Map<string, { key: string }>, rootType: string, save: (gapMs?: number) => void, partial: boolean,
  complete: Completion | null, tally: ChildTally | null, writes: FileWrites | null,
): Promise<'done' | 'expired'> {
  const failedBefore = frame.failed;
  frame.openListingSpan(SPANS.bulkFile, { 'shopify_ingest.bulk.operation': op.id, 'shopify_ingest.bulk.partial': partial, 'shopify_ingest.bulk.from_line': op.line });
  try {
    const read = await readFileInto(frame, deps, url, lines, op, childByType, rootType, save, partial, complete, tally, writes);
    frame.closeListingSpan(frame.failed !== failedBefore ? frame.failed : undefined, { 'shopify_ingest.bulk.lines': op.line, 'shopify_ingest.bulk.expired': read === 'expired' });
    return read;
  } catch (error) {
    frame.closeListingSpan(error);
    throw error;
  }
}

/**
 * Reads a result file (`lines`: the operation's `objectCount`) from the operation's committed
 * position into a pipeline. Returns 'expired' when the link no longer works, else 'done' (the frame
 * carries any error).
 */
async function readFileInto(
  frame: RunFrame, deps: BulkDeps, url: string, lines: number, op: BulkCursor,
  childByType: Map<string, { key: string }>, rootType: string, save: (gapMs?: number) => void, partial: boolean,
  complete: Completion | null, tally: ChildTally | null, writes: FileWrites | null,
): Promise<'done' | 'expired'> {
  let roots = op.roots;
  const counted = frame.resource.graphql.connections.filter((c) => c.countField);
  const newPipeline = () => frame.pipeline<LinePosition>('bulk', (position) => {
    op.line = position.line;
    op.byte = position.byte;
    op.roots = position.roots;
    save(BULK_CHECKPOINT_GAP_MS);
  });
  let pipeline = newPipeline();
  let unknownTypes = 0;
  const countedKeys = countedChildren(frame).map((c) => c.key);
  const window = regroupWindowFor(frame, deps, complete);
  // Rows encoded as COPY text as soon as they are made (store/encoded-rows.ts): what waits for its
  // batch is bytes outside the V8 heap, not row objects promoted to its old generation.
  const encoder = frame.dry ? null : frame.deps.store.rowEncoder?.(frame.name, window ? countedKeys : []) ?? null;
  const encoded = <U extends { rows: RowSet | null }>(unit: U): U => {
    // The unit is this unit's own (run-frame.ts, recordUnit/childUnit), its row lists too.
    if (encoder && unit.rows !== null) encoder.encodeAll(unit.rows);
    return unit;
  };
  // Child tables counted on their parent (`countColumn`): their late lines' parents are recounted.
  const countedTables = new Set(frame.resource.children.filter((c) => c.countColumn !== undefined).map((c) => c.key));
  // Position just before the line being read (the low-water mark of records the window holds).
  let before: LinePosition = { line: op.line, byte: op.byte, roots };
  // Records whose list items lack their connections wait, with every line after them (positions
  // commit in file order), until their items fill a nodes(ids:) query or MAX_HELD_LINES are held;
  // then the items are fetched together and the held lines go to the pipeline in order.
  type Unit = Parameters<typeof pipeline.add>[0];
  // A failed operation's partial file is listed again by the split windows, which count its records:
  // written here, they are not counted twice.
  const recordUnit = (node: Record<string, unknown>, position: LinePosition): Unit => {
    const unit = encoded(frame.recordUnit(node, position, op.tag));
    if (tally && !unit.failure && !partial) {
      const id = parseGid(node.id);
      if (id !== null && tally.gids.has(id)) tally.counted.add(id);
    }
    if (!partial) return unit;
    frame.counts.fetched--;
    return { ...unit, records: 0 };
  };
  const held: Array<Unit | (() => Unit)> = [];
  let heldRoots: Array<Record<string, unknown>> = [];
  let heldItems = 0;
  const add = async (unit: Unit | (() => Unit)) => {
    if (held.length > 0 || typeof unit === 'function') held.push(unit);
    else await pipeline.add(unit);
  };
  const release = async () => {
    if (heldRoots.length > 0) await complete!.run(heldRoots);
    for (const entry of held) {
      await pipeline.add(typeof entry === 'function' ? entry() : entry);
      if (pipeline.failed !== null) break;
    }
    held.length = 0;
    heldRoots = [];
    heldItems = 0;
  };
  try {
    // Resumed past some lines: their records' counts and children are tallied first (read, not
    // written), or a truncated connection among them would never be read again.
    if (tally && counted.length > 0 && op.line > 0) await tallyCommittedLines(frame, deps, url, op.line, tally, counted, childByType);
    const init = encoder && !partial && complete === null && counted.length === 0 ? workerInitFor(frame, deps, url, lines - op.line, op, roots, window ? countedKeys : []) : null;
    let inThisThread = init === null;
    if (init) {
      // Read, parsed, transformed, encoded and regrouped in a worker thread (bulk-worker.ts).
      frame.deps.logger.debug('bulk file read in a worker thread', { tenantId: frame.tenantId, resource: frame.name, operation: op.id, fromLine: op.line });
      let outcome: WorkerOutcome | null = null;
      const merge = mergedRecordsFor(frame.options.batchSize, frame.options.skipExisting);
      const read = { url, from: { line: op.line, byte: op.byte }, fetch: deps.fetch, signal: frame.options.signal, logger: frame.deps.logger, merge };
      try {
        for await (let unit of unitsFromWorker(init.file, init.init, frame.resource, encoder!, read, (o) => { outcome = o; })) {
          frame.counts.fetched += unit.records;
          if (unit.failure) unit = frame.failedWith(unit.position, unit.failure, unit.records);
          await pipeline.add(unit);
          if (pipeline.failed !== null || frame.shouldStop()) break;
        }
      } catch (error) {
        if (!(error instanceof BulkWorkerError)) throw error;
        // The thread died (out of its memory, or killed): what it sent is written, and the file is
        // read on from the committed position here, as a resumed run would.
        frame.deps.logger.warn('the bulk file worker thread failed: the rest of the file is read in this thread', { tenantId: frame.tenantId, resource: frame.name, operation: op.id, error });
        await frame.endPipeline(pipeline);
        if (frame.failed !== null) return 'done';
        pipeline = newPipeline();
        roots = op.roots;
        before = { line: op.line, byte: op.byte, roots };
        // Parents whose children it saw after they left its window are not known: every parent is recounted.
        if (writes) writes.late = null;
        inThisThread = true;
      }
      const ended = outcome as WorkerOutcome | null;
      if (ended && !inThisThread) {
        unknownTypes += ended.unknown;
        if (writes?.late) {
          if (ended.late === null || writes.late.size + ended.late.length > MAX_LATE_PARENTS) writes.late = null;
          else for (const id of ended.late) writes.late.add(id);
        }
      }
    }
    if (inThisThread) {
      for await (const line of readJsonl(url, { from: { line: op.line, byte: op.byte }, fetch: deps.fetch, signal: frame.options.signal, logger: frame.deps.logger })) {
        let node: Record<string, unknown>;
        try {
          node = JSON.parse(line.text) as Record<string, unknown>;
        } catch (cause) {
          throw new ImportError(`${frame.name} bulk file line ${line.line} is not JSON`, { code: 'BULK_FILE_MALFORMED', cause, details: { line: line.line } });
        }
        const kind = kindOfLine(node, childByType);
        if (window) for (const unit of window.due(line.line, before)) await add(unit);
        if (kind.kind !== 'record') {
          const position = { line: line.end.line, byte: line.end.byte, roots };
          before = position;
          if (kind.kind === 'unknown') {
            unknownTypes++;
            await add(pass(window, { rows: null, records: 0, position }));
            continue;
          }
          const { child, parentId, parent } = kind;
          const seen = tally?.byTable.get(child.key)?.get(parentId);
          if (seen) seen[1]++;
          const unit = encoded(frame.childUnit(child.key, node, parentId, position, op.tag, childLineText(line.text, parent)));
          if (!window?.join(parentId, unit, child.key)) {
            if (writes?.late && countedTables.has(child.key)) {
              writes.late.add(parentId);
              if (writes.late.size > MAX_LATE_PARENTS) writes.late = null;
            }
            await add(pass(window, unit));
          }
        } else {
          const type = node.__typename;
          if (typeof type === 'string' && type !== rootType) {
            throw new ImportError(`${frame.name} bulk file line ${line.line} is a ${type}, not a ${rootType}`, { code: 'BULK_FILE_MALFORMED', details: { line: line.line } });
          }
          roots++;
          node = liftRecord(frame.resource.graphql, node);
          if (tally) countChildren(tally, counted, node);
          const position = { line: line.end.line, byte: line.end.byte, roots };
          const items = complete ? complete.itemsOf(node) : 0;
          if (window) {
            const unit = recordUnit(node, position);
            const id = unit.provides;
            if (id === undefined) await add(window.pass(unit));
            else {
            // Listed twice in one file: the first leaves before the second is held.
              if (window.has(id)) for (const earlier of window.take(id, before)) await add(earlier);
              window.hold(id, unit, line.line, before);
            }
          } else if (items > 0) {
            const record = node;
            heldRoots.push(record);
            heldItems += items;
            held.push(() => recordUnit(record, position));
          } else {
            await add(recordUnit(node, position));
          }
          before = position;
        }
        if (held.length > 0 && (heldItems >= complete!.perQuery || held.length >= MAX_HELD_LINES)) await release();
        if (pipeline.failed !== null || frame.shouldStop()) break;
      }
    }
    // Held lines and records are released only at a clean end: a run that stops resumes before them.
    if (window && pipeline.failed === null && !frame.shouldStop()) for (const unit of window.flush(before)) await add(unit);
    if (held.length > 0 && pipeline.failed === null && !frame.shouldStop()) await release();
  } catch (error) {
    if (error instanceof ShopifyIngestError && error.code === 'BULK_FILE_EXPIRED') {
      // A partial file that expired is simply not read: the split windows list its records again.
      await pipeline.drain();
      if (!partial) return 'expired';
      frame.deps.logger.warn('partial data of a failed bulk operation expired before it was read', { tenantId: frame.tenantId, resource: frame.name });
      return 'done';
    }
    frame.fail(error);
  }
  if (unknownTypes > 0) frame.deps.logger.warn('bulk file lines of unknown types were skipped', { tenantId: frame.tenantId, resource: frame.name, count: unknownTypes });
  await frame.endPipeline(pipeline);
  return 'done';
}

/**
 * Lines left to read below which a file is read in this thread: starting a worker costs ~90 ms of
 * CPU (loading its modules), more than reading a few thousand lines, and a small file's objects
 * cannot grow the heap much. `BulkDeps.workerMinLines`, else `SHOPIFY_INGEST_BULK_WORKER_MIN_LINES`
 * (the tests set 0 to read every file in the worker), else 10,000.
 */
function workerMinLines(deps: BulkDeps): number {
  if (deps.workerMinLines !== undefined) return deps.workerMinLines;
  const named = Number(process.env.SHOPIFY_INGEST_BULK_WORKER_MIN_LINES);
  return process.env.SHOPIFY_INGEST_BULK_WORKER_MIN_LINES && Number.isFinite(named) ? named : WORKER_MIN_LINES;
}

const WORKER_MIN_LINES = 10_000;

/** Logged when a large bulk file is read in the calling thread because the worker script is not beside the SDK. */
export const NO_WORKER_SCRIPT = 'bulk file read in this thread: the worker script (bulk-worker.js) is not beside the SDK, as when a '
  + 'bundler packs the SDK into your server, and reading here takes more memory (docs/importing.md, "In a worker thread"). Keep '
  + 'shopify-ingest external to the bundle (Next.js: serverExternalPackages), or copy node_modules/shopify-ingest/dist/bulk-worker.js '
  + '(.cjs for CommonJS) beside it and name it in SHOPIFY_INGEST_BULK_WORKER_FILE; `bulk: { worker: false }` reads here without this warning';

/**
 * What a worker thread needs to read the file as this thread would (bulk-file-worker.ts), or null
 * when it cannot or need not: turned off (`BulkDeps.worker: false`), fewer than
 * {@link workerMinLines} lines left to read, no worker script (running from the
 * TypeScript sources, or bundled by the host's bundler), a transformer or key ring of the host's
 * own, or a resource definition that is not the registry's.
 */
function workerInitFor(frame: RunFrame, deps: BulkDeps, url: string, lines: number, op: BulkCursor, roots: number, counted: string[]): { file: string; init: WorkerInit } | null {
  if (deps.worker === false || lines < workerMinLines(deps)) return null;
  const transformer = transformerSpecOf(frame.deps.transformer);
  if (transformer === null) return null;
  const definition = getResource(frame.name);
  if (graphqlSourcesOf(definition)[frame.sourceIndex] !== frame.resource.graphql) return null;
  const file = deps.workerFile ?? bundledWorkerFile();
  if (file === null) {
    // Falling back in silence would cost a bundled host its memory bound (docs/importing.md): say so, and the fix.
    frame.deps.logger.warn(NO_WORKER_SCRIPT, { tenantId: frame.tenantId, resource: frame.name, lines });
    return null;
  }
  return {
    file,
    init: {
      resource: frame.name, source: frame.sourceIndex, tenantId: frame.tenantId, tag: op.tag,
      observedAt: frame.observedAt?.getTime() ?? null, transformer, counted,
      regroupLines: counted.length > 0 ? deps.regroupLines ?? DEFAULT_REGROUP_LINES : 0,
      maxLateParents: MAX_LATE_PARENTS, from: { line: op.line, byte: op.byte, roots },
      // With the global fetch the worker downloads the file itself; a fetch of the host's (or a
      // test's) runs here and the worker is sent the lines.
      url: deps.fetch ? null : url,
    },
  };
}

/**
 * The window that holds a file's records until their children have passed (regroup.ts), for a
 * resource whose records count a bulk child table (`countKey`); null when the resource has none,
 * when the records wait for their list items instead (`complete`), or when `regroupLines` is 0.
 */
function regroupWindowFor(frame: RunFrame, deps: BulkDeps, complete: Completion | null): RegroupWindow<LinePosition> | null {
  const root = frame.resource.root;
  const counted = countedChildren(frame);
  const lines = deps.regroupLines ?? DEFAULT_REGROUP_LINES;
  if (counted.length === 0 || complete || lines <= 0) return null;
  return new RegroupWindow<LinePosition>({
    lines,
    counted: new Set(counted.map((c) => c.key)),
    setCounts: (unit, counts) => {
      const row = unit.rows?.[root.key]?.[0] as Record<string, unknown> | undefined;
      if (row instanceof EncodedRow) counted.forEach((c, k) => row.setCount(k, counts.get(c.key) ?? 0));
      else if (row) for (const c of counted) row[c.countKey!] = counts.get(c.key) ?? 0;
    },
  });
}

/** Bulk child tables counted on the root (`countColumn`, set by the regroup window through `countKey`). */
function countedChildren(frame: RunFrame) {
  const root = frame.resource.root;
  return frame.resource.children.filter((c) => c.bulkType && c.parent === root.key && c.countColumn && c.countKey);
}

/** A unit that does not wait for the window: at its low-water position when records are held. */
function pass<P>(window: RegroupWindow<P> | null, unit: Unit<P>): Unit<P> {
  return window ? window.pass(unit) : unit;
}

/** The tally of the file's first `lines` lines (already committed by an earlier run): see {@link ChildTally}. */
async function tallyCommittedLines(
  frame: RunFrame, deps: BulkDeps, url: string, lines: number, tally: ChildTally,
  counted: readonly NestedConnection[], childByType: Map<string, { key: string }>,
): Promise<void> {
  for await (const line of readJsonl(url, { from: { line: 0, byte: 0 }, fetch: deps.fetch, signal: frame.options.signal, logger: frame.deps.logger })) {
    if (line.line >= lines || frame.shouldStop()) break;
    let node: Record<string, unknown>;
    try {
      node = JSON.parse(line.text) as Record<string, unknown>;
    } catch {
      continue; // read (and reported) by the run that committed it
    }
    const parent = node.__parentId;
    if (typeof parent === 'string') {
      const child = typeof node.__typename === 'string' ? childByType.get(node.__typename) : undefined;
      const parentId = parseGid(parent);
      const seen = child && parentId !== null ? tally.byTable.get(child.key)?.get(parentId) : undefined;
      if (seen) seen[1]++;
    } else {
      countChildren(tally, counted, liftRecord(frame.resource.graphql, node));
    }
  }
}

/** Records the count a root line gives for each counted connection (`codesCount { count }`). */
function countChildren(tally: ChildTally, counted: readonly NestedConnection[], node: Record<string, unknown>): void {
  if (counted.length === 0) return;
  const id = parseGid(node.id);
  if (id === null) return;
  for (const c of counted) {
    const count = (node[c.countField!] as { count?: unknown } | null | undefined)?.count;
    if (typeof count !== 'number' || count <= 0) continue;
    tally.gids.set(id, node.id as string);
    let byParent = tally.byTable.get(c.table);
    if (!byParent) tally.byTable.set(c.table, byParent = new Map());
    byParent.set(id, [count, 0]);
  }
}

/**
 * Records whose file held fewer children than their count says are read again whole with paged
 * queries and written with the operation's tag, before the operation is finalized.
 */
async function rereadTruncated(frame: RunFrame, client: GraphqlImportClient, tally: ChildTally, tag: string): Promise<void> {
  const short = new Set<bigint>();
  for (const byParent of tally.byTable.values()) for (const [id, [expected, seen]] of byParent) if (seen < expected) short.add(id);
  if (short.size === 0) return;
  frame.deps.logger.info('bulk output truncated nested connections: reading those records again', { tenantId: frame.tenantId, resource: frame.name, records: short.size });
  // Its batches hang under a page span of their own (paged queries), beside the operation's file spans.
  frame.openListingSpan(SPANS.page, { 'shopify_ingest.page.reread_truncated': short.size });
  // A record this run counted from the file adds no record written again whole (fetched once, unless
  // the whole read fails: then fetched twice, failed once). Any other is a record written now.
  // Separate pipelines, so that a batch's written rows are all records or none.
  const again = [...short].filter((id) => tally.counted.has(id));
  const fresh = [...short].filter((id) => !tally.counted.has(id));
  for (const [ids, counted] of [[again, true], [fresh, false]] as const) {
    if (ids.length === 0 || frame.failed !== null) continue;
    const pipeline = frame.pipeline<null>('complete', () => {});
    try {
      for (const id of ids) {
        if (frame.shouldStop() || pipeline.failed !== null) break;
        frame.pages++;
        frame.observedAt = frame.deps.clock();
        const node = await fetchRecord(client, frame.resource, tally.gids.get(id) ?? id, frame.options.signal);
        // A record deleted since the operation ran keeps what the file gave; its delete tombstones it.
        if (!node) continue;
        const unit = frame.recordUnit(node, null, tag);
        if (!counted) await pipeline.add(unit);
        else {
          if (!unit.failure) frame.counts.fetched--;
          await pipeline.add({ ...unit, records: 0 });
        }
      }
    } catch (error) {
      frame.fail(error);
    }
    await frame.endPipeline(pipeline);
  }
  frame.closeListingSpan(frame.failed ?? undefined);
}
