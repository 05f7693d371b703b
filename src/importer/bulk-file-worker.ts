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
 * early (a `return` from the consumer) ends the worker and the download.
 */
export async function* unitsFromWorker(
  file: string, init: WorkerInit, resource: ResourceDefinition, encoder: RowEncoder,
  read: ReadJsonlOptions & { url: string }, done: (outcome: WorkerOutcome) => void,
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
      });
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

/** The units of one message, their rows adopted by `encoder` (every one before any is written). */
function adoptUnits(
  message: Extract<FromWorker, { type: 'units' }>, tables: readonly string[], encoder: RowEncoder, recycle: (buffer: Buffer) => void,
): Array<Unit<WorkerPosition>> {
  const meta = new Float64Array(message.meta);
  const ids = new BigInt64Array(message.ids);
  const bytes = new AdoptedBytes(Buffer.from(message.bytes), recycle);
  const units: Array<Unit<WorkerPosition>> = [];
  let failure = 0;
  for (let i = 0, j = 0; i < meta.length;) {
    const records = meta[i++];
    const position = { line: meta[i++], byte: meta[i++], roots: meta[i++] };
    const count = meta[i++];
    const provides = ids[j++];
    const requires = ids[j++];
    let rows: RowSet | null = null;
    if (count >= 0) {
      rows = {};
      for (let k = 0; k < count; k++) {
        const key = tables[meta[i++]];
        const row = encoder.adopt(key, bytes, meta[i++], meta[i++]);
        const list = rows[key];
        if (list) list.push(row);
        else rows[key] = [row];
      }
    }
    const unit: Unit<WorkerPosition> = { rows, records, position };
    if (provides >= 0n) unit.provides = provides;
    if (requires >= 0n) unit.requires = requires;
    const failed = message.failures[failure];
    if (failed && failed.unit === units.length) {
      unit.failure = { shopifyId: failed.shopifyId === null ? null : BigInt(failed.shopifyId), reason: failed.reason };
      failure++;
    }
    units.push(unit);
  }
  if (bytes.free) recycle(Buffer.from(message.bytes));
  return units;
}
