/**
 * A bulk file read through a worker thread (bulk-worker.ts): the worker downloads the file itself
 * (`WorkerInit.url`), or, when the run's fetch is the host's, this side downloads it (resuming as
 * `readJsonlRuns` does) and hands the worker runs of whole lines; the worker sends back units in
 * pipeline order, whose rows this side adopts as encoded rows (their bytes in buffers given back to
 * the worker once written). Used where the worker can build the same rows: see `workerInitFor` in
 * bulk-listing.ts.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ResourceDefinition, RowSet } from '../resources/definition.js';
import { AdoptedBytes, type RowEncoder } from '../store/encoded-rows.js';
import { ShopifyIngestError } from '../errors.js';
import type { ErrorCode } from '../error-codes.js';
import { ImportError } from './errors.js';
import { readJsonlRuns, type ReadJsonlOptions } from './jsonl.js';
import type { Unit } from './pipeline.js';
import { OUT_BYTES, RUNS_IN_FLIGHT, type FromWorker, type ToWorker, type WorkerInit, type WorkerPosition } from './bulk-worker-protocol.js';

/** The worker's heap: small, so that V8 collects it often instead of letting it grow (see bulk-worker.ts). */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 };

/**
 * The worker script: `SHOPIFY_INGEST_BULK_WORKER_FILE` when set (a host that bundles the SDK copies
 * dist/bulk-worker.js and names it; the tests name a build of the sources), else the one shipped
 * beside this module (dist/bulk-worker.js, or .cjs beside the CommonJS build); null where there is
 * none (the TypeScript sources, a host's bundle): files are then read in the calling thread.
 */
export function bundledWorkerFile(env: Record<string, string | undefined> = process.env): string | null {
  const named = env.SHOPIFY_INGEST_BULK_WORKER_FILE;
  if (named) return named;
  let here: string;
  try {
    here = fileURLToPath(import.meta.url);
  } catch {
    return null;
  }
  const match = /\.(c?js|mjs)$/.exec(here);
  if (!match) return null;
  const file = here.replace(/[^/\\]+$/, `bulk-worker.${match[1]}`);
  return existsSync(file) ? file : null;
}

/** The worker thread failed (not the file or its download): the caller may read the file itself. */
export class BulkWorkerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`[shopify-ingest] ${message}`, options);
    this.name = 'BulkWorkerError';
  }
}

/** What the file's reading ended with, besides its units (see bulk-listing.ts, `FileWrites`). */
export interface WorkerOutcome {
  /** Lines of types the resource does not list. */
  unknown: number;
  /** Parents whose counted children came after they left the window (null: too many to list). */
  late: bigint[] | null;
}

/**
 * The units of the file at `url` from position `init.from`, read in a worker thread running `file`.
 * Throws as reading in the calling thread does: `BULK_FILE_EXPIRED` / `BULK_FILE_UNREADABLE` from
 * the download, `BULK_FILE_MALFORMED` for a line that is not a record of the resource. Stopping
 * early (a `return` from the consumer) ends the worker and the download. `read.merge`: records
 * per unit at most, for units of several records (see `adoptUnits`; 0 or none: one unit each).
 */
export async function* unitsFromWorker(
  file: string, init: WorkerInit, resource: ResourceDefinition, encoder: RowEncoder,
  read: ReadJsonlOptions & { url: string; merge?: number }, done: (outcome: WorkerOutcome) => void,
): AsyncGenerator<Unit<WorkerPosition>, void, undefined> {
  const worker = new Worker(file, { workerData: init, resourceLimits: RESOURCE_LIMITS });
  const tables = [resource.root, ...resource.children].map((t) => t.key);
  encoder.adoptTenant(init.tenantId);
  const inbox: FromWorker[] = [];
  let problem: unknown = null;
  let finished = false;
  let closed = false;
  let unread = 0;
  let wakeReader: (() => void) | null = null;
  let wakeFeeder: (() => void) | null = null;
  const wake = () => {
    wakeReader?.();
    wakeReader = null;
    wakeFeeder?.();
    wakeFeeder = null;
  };
  const post = (message: ToWorker, transfer: ArrayBuffer[] = []) => { if (!closed) worker.postMessage(message, transfer); };
  worker.on('message', (message: FromWorker) => {
    if (message.type === 'read') unread--;
    else if (message.type === 'log') read.logger?.[message.level](message.message, message.meta);
    else inbox.push(message);
    wake();
  });
  worker.on('error', (error) => { problem ??= new BulkWorkerError(`the bulk file's worker thread failed: ${error.message}`, { cause: error }); wake(); });
  worker.on('exit', (code) => {
    if (!finished && !closed) problem ??= new BulkWorkerError(`the bulk file's worker thread exited (code ${code}) before the end of the file`);
    wake();
  });

  const stop = new AbortController();
  const signal = read.signal ? AbortSignal.any([read.signal, stop.signal]) : stop.signal;
  // Downloading in the worker: an abort of the run ends it as the download's abort would here.
  const onAbort = () => { if (!closed) problem ??= read.signal!.reason; wake(); };
  if (init.url !== null) read.signal?.addEventListener('abort', onAbort, { once: true });
  const feeding = init.url !== null ? Promise.resolve() : (async () => {
    for await (const run of readJsonlRuns(read.url, { ...read, signal })) {
      while (unread >= RUNS_IN_FLIGHT && !closed && problem === null) await new Promise<void>((resolve) => { wakeFeeder = resolve; });
      if (closed || problem !== null) return;
      // A copy of its own: the run may be a view of the download's buffer.
      const bytes = run.bytes.slice();
      unread++;
      post({ type: 'run', bytes: bytes.buffer, from: run.from, to: run.to }, [bytes.buffer]);
    }
    post({ type: 'end' });
  })().catch((error: unknown) => {
    if (!closed) problem ??= error;
    wake();
  });

  try {
    for (;;) {
      while (inbox.length === 0 && problem === null) await new Promise<void>((resolve) => { wakeReader = resolve; });
      if (problem !== null) throw problem;
      const message = inbox.shift()!;
      if (message.type === 'error') {
        if (message.code !== undefined) throw new ShopifyIngestError(message.code as ErrorCode, message.message, { details: message.details, retryable: message.retryable });
        if (message.line === null) throw new BulkWorkerError(`the bulk file's worker thread failed: ${message.message}`);
        throw new ImportError(`${init.resource} bulk file line ${message.line} ${message.message}`, { code: 'BULK_FILE_MALFORMED', details: { line: message.line } });
      }
      if (message.type === 'done') {
        finished = true;
        done({ unknown: message.unknown, late: message.late });
        return;
      }
      if (message.type !== 'units') continue;
      post({ type: 'taken' });
      yield* adoptUnits(message, tables, encoder, (buffer) => {
        if (buffer.byteLength === OUT_BYTES) post({ type: 'recycle', buffer: buffer.buffer as ArrayBuffer }, [buffer.buffer as ArrayBuffer]);
      }, read.merge ?? 0);
    }
  } finally {
    closed = true;
    read.signal?.removeEventListener('abort', onAbort);
    stop.abort();
    wake();
    await worker.terminate();
    await feeding;
  }
}

/** Records a merged unit holds at most, whatever the batch size (see {@link mergedRecordsFor}). */
const MERGED_RECORDS = 32;

/**
 * How many records `adoptUnits` merges into one unit for batches of `batchSize` records: an eighth
 * of a batch, at most {@link MERGED_RECORDS} (a batch is cut before a unit, so it may exceed its
 * size by this many less one); 0 with `skipExisting`, which drops records one by one.
 */
export function mergedRecordsFor(batchSize: number, skipExisting: boolean): number {
  return skipExisting ? 0 : Math.min(MERGED_RECORDS, Math.max(1, Math.floor(batchSize / 8)));
}

/**
 * The units of one message, their rows adopted by `encoder` (every one before any is written).
 *
 * With `merge` > 0, consecutive units become one unit of up to `merge` records (their
 * rows in one list per table, their ids in `providesAll`/`requiresAll`, the last one's position):
 * each unit the calling thread holds waits for its batch's write, long enough for V8 to promote it
 * with everything it points to, so fewer, larger units keep that thread's heap smaller
 * (docs/benchmarks.md, "Where the peak goes"). A unit that failed stays on its own (its record is
 * recorded apart), and child lines before a message's first record stay apart from it (the batch
 * is cut before a record: see `BatchPipeline.add`; they stay with their parent's batch).
 */
function adoptUnits(
  message: Extract<FromWorker, { type: 'units' }>, tables: readonly string[], encoder: RowEncoder, recycle: (buffer: Buffer) => void, merge: number,
): Array<Unit<WorkerPosition>> {
  const meta = new Float64Array(message.meta);
  const ids = new BigInt64Array(message.ids);
  const bytes = new AdoptedBytes(Buffer.from(message.bytes), recycle);
  const units: Array<Unit<WorkerPosition>> = [];
  // Where each unit's entry starts in `meta`, read first so that a merged unit's lists get their exact lengths.
  const starts: number[] = [];
  for (let i = 0; i < meta.length; i += 5 + 3 * Math.max(0, meta[i + 4])) starts.push(i);
  const failed = new Map(message.failures.map((f) => [f.unit, f]));
  for (let u = 0; u < starts.length;) {
    let end = u + 1;
    if (merge > 0 && !failed.has(u)) {
      let records = meta[starts[u]];
      while (end < starts.length && !failed.has(end)) {
        const next = meta[starts[end]];
        if (next > 0 && (records === 0 || records + next > merge)) break;
        records += next;
        end++;
      }
    }
    const unit = adoptRange(meta, ids, starts, u, end, tables, encoder, bytes);
    const failure = failed.get(u);
    if (failure) unit.failure = { shopifyId: failure.shopifyId === null ? null : BigInt(failure.shopifyId), reason: failure.reason };
    units.push(unit);
    u = end;
  }
  if (bytes.free) recycle(Buffer.from(message.bytes));
  return units;
}

/**
 * Units `from` to `to` (exclusive) of a message as one unit: `meta` per unit is records, position
 * (line, byte, roots), row count (-1: no rows), then per row its table, offset and length; `ids`
 * per unit: provides, requires (-1: none).
 */
function adoptRange(
  meta: Float64Array, ids: BigInt64Array, starts: readonly number[], from: number, to: number,
  tables: readonly string[], encoder: RowEncoder, bytes: AdoptedBytes,
): Unit<WorkerPosition> {
  const last = starts[to - 1];
  const position = { line: meta[last + 1], byte: meta[last + 2], roots: meta[last + 3] };
  let records = 0;
  let anyRows = false;
  const counts = new Array<number>(tables.length).fill(0);
  for (let u = from; u < to; u++) {
    const at = starts[u];
    records += meta[at];
    const count = meta[at + 4];
    if (count >= 0) anyRows = true;
    for (let k = 0; k < count; k++) counts[meta[at + 5 + 3 * k]]++;
  }
  let rows: RowSet | null = null;
  if (anyRows) {
    // Lists of their exact lengths (one grown by push keeps room for 16 rows or more), in table order.
    const lists: unknown[][] = counts.map((n) => new Array(n));
    const filled = new Array<number>(tables.length).fill(0);
    for (let u = from; u < to; u++) {
      const at = starts[u];
      const count = meta[at + 4];
      for (let k = 0, i = at + 5; k < count; k++, i += 3) {
        const table = meta[i];
        lists[table][filled[table]++] = encoder.adopt(tables[table], bytes, meta[i + 1], meta[i + 2]);
      }
    }
    rows = {};
    for (let t = 0; t < tables.length; t++) if (counts[t] > 0) rows[tables[t]] = lists[t];
  }
  const unit: Unit<WorkerPosition> = { rows, records, position };
  if (to - from === 1) {
    if (ids[2 * from] >= 0n) unit.provides = ids[2 * from];
    if (ids[2 * from + 1] >= 0n) unit.requires = ids[2 * from + 1];
    return unit;
  }
  const provided: bigint[] = [];
  const required: bigint[] = [];
  for (let u = from; u < to; u++) {
    if (ids[2 * u] >= 0n) provided.push(ids[2 * u]);
    if (ids[2 * u + 1] >= 0n) required.push(ids[2 * u + 1]);
  }
  if (provided.length > 0) unit.providesAll = BigInt64Array.from(provided);
  if (required.length > 0) unit.requiresAll = BigInt64Array.from(required);
  return unit;
}
