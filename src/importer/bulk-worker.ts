/**
 * The worker thread that turns a bulk file's lines into units (bulk-file-worker.ts starts it): it
 * parses each line, transforms and encodes its rows as COPY text, holds records in the regroup
 * window until their children have passed (regroup.ts), and sends the units in the order the
 * pipeline must take them, their rows' bytes copied into buffers the main thread gives back once
 * written. It downloads the file itself, unless the run's fetch is the host's: the main thread then
 * downloads it and sends runs of whole lines. The main thread keeps the writes.
 *
 * Why a thread: parsing and transforming a record makes many short-lived objects, and the regroup
 * window keeps records long enough to be promoted to V8's old generation. In the main thread, next
 * to the host's own heap, that made V8 grow the heap to ~4x its live size between collections
 * (peak RSS ~335 MB at 1,000,000 orders, docs/benchmarks.md). Here the heap is small and bounded
 * (`resourceLimits`), and the main thread only handles bytes and small row handles.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { getResource } from '../resources/registry.js';
import { graphqlSourcesOf, type ResourceDefinition } from '../resources/definition.js';
import { transformerFromSpec } from '../transform/transformer.js';
import { writtenColumns } from '../store/resource-writer.js';
import { EncodedRow, RowEncoder, SlabPool, releaseEncoded } from '../store/encoded-rows.js';
import { linesOf, readJsonlRuns, type JsonlRun } from './jsonl.js';
import { ShopifyIngestError } from '../errors.js';
import type { Logger } from '../logger.js';
import { liftRecord } from './queries.js';
import { RegroupWindow } from './regroup.js';
import { childRows, reasonOf, recordRows, shopifyIdOf } from './units.js';
import { childLineText, kindOfLine } from './bulk-lines.js';
import type { Unit } from './pipeline.js';
import { OUT_BYTES, UNITS_IN_FLIGHT, type FromWorker, type ToWorker, type WorkerInit, type WorkerPosition } from './bulk-worker-protocol.js';

type Pos = WorkerPosition;

/** The resource as the run lists it: its `source`th GraphQL listing. */
function resourceOf(name: string, source: number): ResourceDefinition {
  const definition = getResource(name);
  return source === 0 ? definition : { ...definition, graphql: graphqlSourcesOf(definition)[source] };
}

class UnitWriter {
  private bytes: Buffer;
  private at = 0;
  private meta: number[] = [];
  private ids: bigint[] = [];
  private failures: Array<{ unit: number; shopifyId: string | null; reason: string }> = [];
  private units = 0;
  private readonly free: Buffer[] = [];
  private inFlight = 0;
  private wake: (() => void) | null = null;
  private readonly tableIndex: Map<string, number>;

  constructor(private readonly send: (message: FromWorker, transfer: ArrayBuffer[]) => void, resource: ResourceDefinition) {
    this.bytes = Buffer.allocUnsafeSlow(OUT_BYTES);
    this.tableIndex = new Map([resource.root, ...resource.children].map((t, k) => [t.key, k]));
  }

  /** A buffer given back by the main thread. */
  recycle(buffer: ArrayBuffer): void {
    if (buffer.byteLength === OUT_BYTES) this.free.push(Buffer.from(buffer));
  }

  /** The main thread took a message of units. */
  taken(): void {
    this.inFlight--;
    this.wake?.();
    this.wake = null;
  }

  /** Adds a unit to the message being built; sends it first when the unit's rows do not fit. */
  async add(unit: Unit<Pos>): Promise<void> {
    let size = 0;
    if (unit.rows) for (const key in unit.rows) for (const row of unit.rows[key]) size += (row as EncodedRow).byteLength;
    if (this.at + size > this.bytes.length) {
      await this.flush();
      if (size > this.bytes.length) this.bytes = Buffer.allocUnsafeSlow(size);
    }
    const p = unit.position;
    let rows = -1;
    if (unit.rows) { rows = 0; for (const key in unit.rows) rows += unit.rows[key].length; }
    this.meta.push(unit.records, p.line, p.byte, p.roots, rows);
    this.ids.push(unit.provides ?? -1n, unit.requires ?? -1n);
    if (unit.failure) this.failures.push({ unit: this.units, shopifyId: unit.failure.shopifyId?.toString() ?? null, reason: unit.failure.reason });
    if (unit.rows) {
      for (const key in unit.rows) {
        for (const row of unit.rows[key]) {
          const length = (row as EncodedRow).copyTo(this.bytes, this.at);
          this.meta.push(this.tableIndex.get(key)!, this.at, length);
          this.at += length;
        }
      }
      releaseEncoded(unit.rows);
    }
    this.units++;
  }

  /** Sends the units built so far; waits while {@link UNITS_IN_FLIGHT} messages are not taken. */
  async flush(): Promise<void> {
    if (this.units > 0) {
      const meta = new Float64Array(this.meta);
      const ids = new BigInt64Array(this.ids);
      const bytes = this.bytes.buffer as ArrayBuffer;
      this.inFlight++;
      this.send({ type: 'units', meta: meta.buffer, ids: ids.buffer, bytes, failures: this.failures }, [meta.buffer, ids.buffer, bytes]);
      this.meta = [];
      this.ids = [];
      this.failures = [];
      this.units = 0;
      this.at = 0;
      this.bytes = this.free.pop() ?? Buffer.allocUnsafeSlow(OUT_BYTES);
    }
    while (this.inFlight >= UNITS_IN_FLIGHT) await new Promise<void>((resolve) => { this.wake = resolve; });
  }
}

/** Reads the runs of lines the main thread sends, in order, until it says the file ended. */
class RunQueue {
  private readonly runs: Array<JsonlRun | null> = [];
  private wake: (() => void) | null = null;

  push(run: JsonlRun | null): void {
    this.runs.push(run);
    this.wake?.();
    this.wake = null;
  }

  async next(): Promise<JsonlRun | null> {
    while (this.runs.length === 0) await new Promise<void>((resolve) => { this.wake = resolve; });
    return this.runs.shift()!;
  }
}

/** A line that stops the file: its number and what is wrong with it. */
class LineError extends Error {
  constructor(readonly line: number, message: string) { super(message); }
}

async function run(init: WorkerInit, port: NonNullable<typeof parentPort>): Promise<void> {
  const resource = resourceOf(init.resource, init.source);
  const transformer = transformerFromSpec(init.transformer);
  const observedAt = init.observedAt === null ? null : new Date(init.observedAt);
  const rootType = resource.graphql.type;
  const childByType = new Map(resource.children.filter((c) => c.bulkType).map((c) => [c.bulkType!, c]));
  const counted = resource.children.filter((c) => c.bulkType && c.parent === resource.root.key && c.countColumn && c.countKey && init.counted.includes(c.key));
  const countedTables = new Set(resource.children.filter((c) => c.countColumn !== undefined).map((c) => c.key));
  const encoder = new RowEncoder(resource, new SlabPool(), { columnsOf: (t) => writtenColumns(resource, t), counted: counted.map((c) => c.key) });
  const out = new UnitWriter((message, transfer) => port.postMessage(message, transfer), resource);
  const queue = new RunQueue();
  port.on('message', (message: ToWorker) => {
    if (message.type === 'run') queue.push({ bytes: new Uint8Array(message.bytes), from: message.from, to: message.to });
    else if (message.type === 'end') queue.push(null);
    else if (message.type === 'taken') out.taken();
    else if (message.type === 'recycle') out.recycle(message.buffer);
  });

  const window = init.regroupLines > 0 && counted.length > 0
    ? new RegroupWindow<Pos>({
      lines: init.regroupLines,
      counted: new Set(counted.map((c) => c.key)),
      setCounts: (unit, counts) => {
        const row = unit.rows?.[resource.root.key]?.[0];
        if (row instanceof EncodedRow) counted.forEach((c, k) => row.setCount(k, counts.get(c.key) ?? 0));
      },
    })
    : null;
  const pass = (unit: Unit<Pos>) => window ? window.pass(unit) : unit;
  let roots = init.from.roots;
  let unknown = 0;
  let late: Set<bigint> | null = new Set();
  let before: Pos = { ...init.from };
  const decoder = new TextDecoder('utf-8', { fatal: false });

  // The file downloaded here, or runs of its lines sent by the calling thread.
  const runs: AsyncIterable<JsonlRun> = init.url !== null
    ? readJsonlRuns(init.url, { from: { line: init.from.line, byte: init.from.byte }, logger: forwardingLogger(port) })
    : (async function* () { for (let next = await queue.next(); next !== null; next = await queue.next()) yield next; })();
  for await (const next of runs) {
    for (const line of linesOf(next, decoder)) {
      let node: Record<string, unknown>;
      try {
        node = JSON.parse(line.text) as Record<string, unknown>;
      } catch {
        throw new LineError(line.line, 'is not JSON');
      }
      if (window) for (const unit of window.due(line.line, before)) await out.add(unit);
      const kind = kindOfLine(node, childByType);
      if (kind.kind !== 'record') {
        const position = { line: line.end.line, byte: line.end.byte, roots };
        before = position;
        if (kind.kind === 'unknown') {
          unknown++;
          await out.add(pass({ rows: null, records: 0, position }));
          continue;
        }
        const { child, parentId, parent } = kind;
        let unit: Unit<Pos>;
        try {
          const made = childRows(resource, transformer, init.tenantId, child.key, node, parentId, observedAt, init.tag, childLineText(line.text, parent));
          unit = { rows: encoder.encodeAll(made.rows), records: 0, position, requires: parentId, provides: made.provides };
        } catch (error) {
          unit = { rows: null, records: 0, position, failure: { shopifyId: shopifyIdOf(node), reason: reasonOf(error) } };
        }
        if (!window?.join(parentId, unit, child.key)) {
          if (late && countedTables.has(child.key)) {
            late.add(parentId);
            if (late.size > init.maxLateParents) late = null;
          }
          await out.add(pass(unit));
        }
      } else {
        const type = node.__typename;
        if (typeof type === 'string' && type !== rootType) throw new LineError(line.line, `is a ${type}, not a ${rootType}`);
        roots++;
        const position = { line: line.end.line, byte: line.end.byte, roots };
        const record = liftRecord(resource.graphql, node);
        let unit: Unit<Pos>;
        try {
          const made = recordRows(resource, transformer, init.tenantId, record, observedAt, init.tag);
          unit = { rows: encoder.encodeAll(made.rows), records: 1, position, provides: made.provides };
        } catch (error) {
          unit = { rows: null, records: 1, position, failure: { shopifyId: shopifyIdOf(record), reason: reasonOf(error) } };
        }
        const id = unit.provides;
        if (!window || id === undefined) await out.add(pass(unit));
        else {
          // Listed twice in one file: the first leaves before the second is held.
          if (window.has(id)) for (const earlier of window.take(id, before)) await out.add(earlier);
          window.hold(id, unit, line.line, before);
        }
        before = position;
      }
    }
    if (init.url === null) port.postMessage({ type: 'read' } satisfies FromWorker);
  }
  if (window) for (const unit of window.flush(before)) await out.add(unit);
  await out.flush();
  port.postMessage({ type: 'done', unknown, late: late ? [...late] : null } satisfies FromWorker);
}

/** The download's log lines, sent to the calling thread's logger. */
function forwardingLogger(port: NonNullable<typeof parentPort>): Logger {
  const send = (level: 'warn' | 'info' | 'debug') => (message: string, meta?: Record<string, unknown>) => {
    const clean = meta && { ...meta, ...(meta.error instanceof Error ? { error: { name: meta.error.name, message: meta.error.message } } : {}) };
    port.postMessage({ type: 'log', level, message, ...(clean ? { meta: clean } : {}) } satisfies FromWorker);
  };
  return { debug: send('debug'), info: send('info'), warn: send('warn'), error: send('warn') };
}

if (parentPort) {
  const port = parentPort;
  run(workerData as WorkerInit, port).catch((error: unknown) => {
    const message: FromWorker = error instanceof LineError
      ? { type: 'error', line: error.line, message: error.message }
      : error instanceof ShopifyIngestError
        ? { type: 'error', line: null, message: error.message, code: error.code, details: error.details, retryable: error.retryable }
        : { type: 'error', line: null, message: error instanceof Error ? error.stack ?? error.message : String(error) };
    port.postMessage(message);
  });
}
