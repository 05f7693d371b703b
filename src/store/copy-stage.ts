import { encodeValue, type ColumnSpec } from './columns.js';

/**
 * Batch writes through COPY: the rows of a batch are streamed with `COPY ... FROM STDIN` into a
 * session-local staging table, and the batch's statement (the same upsert, version guard and child
 * replacement as the JSON-parameter path) reads them from there, all in one transaction.
 *
 * Why: with one JSON parameter per batch, PostgreSQL spends most of a customer batch's time in
 * `json_to_recordset` (measured: 3.4 s of 5 s for 100k customers) and the client most of its own
 * in `JSON.stringify` (2.4 s). COPY's text format parses several times faster, costs the client a
 * third of the encoding, and is streamed in chunks as it is encoded, so the client's encoding and
 * the server's parsing overlap on two cores. See docs/benchmarks.md.
 */

/** One input of a batch statement: the rows of one table, staged as `name`. */
export interface StageSpec<R = never> {
  /** Name of the temporary staging table (session-local, emptied at every commit). */
  name: string;
  columns: readonly ColumnSpec<R>[];
}

/**
 * `CREATE TEMP TABLE IF NOT EXISTS` for a stage. Column types are the target's, so the statement
 * reads typed values; `ON COMMIT DELETE ROWS` empties it at every commit, and a rolled-back COPY
 * leaves nothing visible, so each transaction starts with it empty.
 */
export function stageTableDdl(stage: StageSpec): string {
  const columns = stage.columns.map((c) => `"${c.column}" ${c.type}`).join(', ');
  return `CREATE TEMP TABLE IF NOT EXISTS "${stage.name}" (${columns}) ON COMMIT DELETE ROWS`;
}

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIAL_ALL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * One value in COPY's text format: `\N` for null; backslash, newline, carriage return and tab
 * escaped, so any text (a JSON payload's own `\"` escapes included) arrives exactly as given.
 */
export function copyTextValue(text: string | null): string {
  if (text === null) return '\\N';
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIAL_ALL, (ch) => COPY_ESCAPES[ch]) : text;
}

const COPY_UNESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\' };

/** The text {@link copyTextValue} escaped, from its COPY text (not `\N`: the caller reads that as null). */
export function textOfCopyValue(copy: string): string {
  return copy.includes('\\') ? copy.replace(/\\(.)/g, (_, ch: string) => COPY_UNESCAPES[ch] ?? ch) : copy;
}

/** Roughly how many bytes are handed to the socket at a time: large enough to be cheap per write, small enough to overlap with the server. */
export const CHUNK_BYTES = 64 * 1024;
const TAB = 0x09;
const NEWLINE = 0x0a;

/**
 * The rows as COPY text lines (`\t` between columns, `\n` after each row), UTF-8 encoded straight
 * into buffers of about {@link CHUNK_BYTES}.
 *
 * Why buffers: building each chunk as a string (`chunk += value`) made a tree of concatenations
 * that was flattened and then encoded again into a buffer for the socket. Encoding each value
 * straight into the chunk's buffer cut what the importer benchmark's job allocates by about a sixth
 * (3.5 → 3.0 GB for 60,000 orders and 5,000 customers, `--trace-gc-nvp`) and its CPU per order by
 * about a tenth (alternating runs, docs/benchmarks.md).
 */
export function* copyChunks<R>(columns: readonly ColumnSpec<R>[], rows: readonly R[], pool?: ChunkPool): Generator<Buffer> {
  let buffer = pool ? pool.take() : Buffer.allocUnsafe(CHUNK_BYTES);
  let at = 0;
  for (const row of rows) {
    for (let c = 0; c < columns.length; c++) {
      const text = copyTextValue(encodeValue(columns[c].value(row), columns[c].type));
      // At most 3 UTF-8 bytes per UTF-16 unit, plus the tab before and the newline after.
      const most = text.length * 3 + 2;
      if (at + most > buffer.length) {
        if (at > 0) yield buffer.subarray(0, at);
        buffer = pool && most <= CHUNK_BYTES ? pool.take() : Buffer.allocUnsafe(Math.max(CHUNK_BYTES, most));
        at = 0;
      }
      if (c > 0) buffer[at++] = TAB;
      at += buffer.write(text, at, 'utf8');
    }
    buffer[at++] = NEWLINE;
  }
  if (at > 0) yield buffer.subarray(0, at);
}

/**
 * Buffers of {@link CHUNK_BYTES} for `COPY` chunks, taken by the chunk generators and given back once
 * the socket has written them (copy-trip.ts). Without it each chunk was a buffer of its own, freed
 * when the garbage collector found it: their external memory made V8 run full collections of the
 * calling thread's heap to free them (94 in a 200,000-order import, 12 with the pool; docs/benchmarks.md).
 */
export class ChunkPool {
  private readonly free: Buffer[] = [];
  /** Buffers allocated so far (tests). */
  allocated = 0;

  /** `keep`: buffers held for reuse at most (more are left to the garbage collector). */
  constructor(private readonly keep = 32) {}

  /** A buffer of {@link CHUNK_BYTES}: a given-back one, or a new one. */
  take(): Buffer {
    const reused = this.free.pop();
    if (reused) return reused;
    this.allocated++;
    return Buffer.allocUnsafeSlow(CHUNK_BYTES);
  }

  /** A chunk the socket has written (a view of a buffer of `take`, or any other, ignored). */
  give(chunk: Uint8Array): void {
    if (chunk.byteOffset !== 0 || chunk.buffer.byteLength !== CHUNK_BYTES || this.free.length >= this.keep) return;
    this.free.push(Buffer.from(chunk.buffer as ArrayBuffer, 0, CHUNK_BYTES));
  }

  /** Buffers waiting for reuse (tests). */
  get size(): number {
    return this.free.length;
  }
}

/** The part of a `pg.PoolClient` (a connection checked out of a `pg.Pool`) staged writes use; COPY also needs its `query(submittable)`. */
export interface PgSessionClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
  release(error?: Error | boolean): void;
}
