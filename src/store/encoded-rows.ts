/**
 * Rows encoded as COPY text when they are read, into slabs of a pool, instead of waiting for their
 * batch as objects.
 *
 * Why: a bulk file's rows wait for their batch (the regroup window, then batches in flight) longer
 * than two young-generation collections, so V8 promoted nearly all of every order (~8 KB) to the old
 * generation, whose size it lets grow to four times the live set before collecting it on a host
 * without a heap limit: the importer's peak RSS stayed above 320 MB whatever the row objects held
 * (docs/benchmarks.md). Encoded at once, a row's objects die young; what waits is its bytes in a
 * slab (outside the V8 heap, reused once every row in it is written) and a small {@link EncodedRow}
 * with the few values the writer still reads (ids and versions for the one-per-key rule and the lock
 * order, the parent id, the tag).
 *
 * Only for writes that stream COPY (a database handle with a pool that checks out connections):
 * the JSON-parameter path needs the row objects.
 */
import type { ChildTableDefinition, ResourceDefinition, TableDefinition } from '../resources/definition.js';
import { encodeValue, type ColumnSpec } from './columns.js';
import { copyTextValue } from './copy-stage.js';

/** Bytes of a slab; a row longer than this gets a slab of its own. */
const SLAB_BYTES = 256 * 1024;
/** Empty slabs kept for reuse; more are left to the garbage collector. */
const KEEP_FREE = 16;
/** Digits a count column is written with when it is set after the row is encoded (leading zeros). */
const COUNT_DIGITS = 10;
const TAB = 0x09;
const NEWLINE = 0x0a;

class Slab {
  /** Rows encoded into it and not released yet. */
  live = 0;
  at = 0;
  constructor(readonly bytes: Buffer, readonly pool: SlabPool) {}
}

/**
 * One row as COPY text in a slab, with what the writer reads besides its bytes: the names are the
 * row object's (`id`, `shopifyUpdatedAt`, `deletedAt`, `observedAt`, `syncTag`, `tenantId`), so the
 * version rule and the tenant check read it as they read a row. What it holds waits for its batch
 * long enough to be promoted to V8's old generation, so it keeps no object of its own that it can do
 * without: `updated_at` as milliseconds (a `Date` is made when read), one count offset as a number.
 */
export class EncodedRow {
  /** Shopify's `updated_at` of the row in milliseconds; NaN when it has none (unversioned tables). */
  private readonly updatedMs: number;

  constructor(
    readonly tenantId: string | undefined,
    readonly id: bigint,
    shopifyUpdatedAt: Date | undefined,
    readonly deletedAt: Date | null,
    readonly observedAt: Date | null | undefined,
    readonly syncTag: string | null | undefined,
    /** The parent's id (child tables). */
    readonly parentId: bigint | undefined,
    /** Indexes of the conflict key's columns (null: the key is `id` alone). */
    private readonly keyColumns: readonly number[] | null,
    private slab: Slab | null,
    private readonly offset: number,
    private readonly length: number,
    /**
     * Offsets (in the row's bytes) of count columns written with {@link COUNT_DIGITS} digits: a
     * single one as a number (-1: the row has none), several as an array.
     */
    private readonly counts: number | readonly number[],
  ) {
    this.updatedMs = shopifyUpdatedAt instanceof Date ? shopifyUpdatedAt.getTime() : Number.NaN;
  }

  /** Shopify's `updated_at` of the row (a new `Date` at each read); undefined when it has none. */
  get shopifyUpdatedAt(): Date | undefined {
    return Number.isNaN(this.updatedMs) ? undefined : new Date(this.updatedMs);
  }

  /**
   * The row's conflict key as the store's one-per-key rule reads it (synced-data.ts, `dedupeChild`):
   * its id, or the COPY text of the key's columns, read from the bytes when asked (rarely: tables
   * whose key is not `id`), so that no key string waits with the row.
   */
  get key(): string {
    if (this.keyColumns === null) return String(this.id);
    const fields = this.bytes().toString('utf8', 0, this.length - 1).split('\t');
    return this.keyColumns.map((k) => fields[k]).join('\t');
  }

  /** The row's COPY text line, newline included. */
  bytes(): Buffer {
    if (this.slab === null) throw new Error('[shopify-ingest] an encoded row was read after it was released');
    return this.slab.bytes.subarray(this.offset, this.offset + this.length);
  }

  /** Sets the k-th count column the encoder padded (see `RowEncoderOptions.counted`). */
  setCount(k: number, value: number): void {
    const at = typeof this.counts === 'number' ? (k === 0 && this.counts >= 0 ? this.counts : undefined) : this.counts[k];
    if (at === undefined) throw new Error(`[shopify-ingest] encoded row has no count column ${k}`);
    const text = String(value).padStart(COUNT_DIGITS, '0');
    if (text.length !== COUNT_DIGITS) throw new Error(`[shopify-ingest] count ${value} does not fit ${COUNT_DIGITS} digits`);
    this.bytes().write(text, at, 'latin1');
  }

  /** Gives its bytes back to their pool once written; the row must not be read again. */
  release(): void {
    const slab = this.slab;
    if (slab === null) return;
    this.slab = null;
    slab.pool.drop(slab);
  }
}

/** True when the rows of an input are encoded (a batch's rows of one table are all encoded or none). */
export function areEncoded(rows: readonly unknown[]): rows is readonly EncodedRow[] {
  return rows.length > 0 && rows[0] instanceof EncodedRow;
}

/** The slabs rows are encoded into: one pool per bulk file read, never shared between runs. */
export class SlabPool {
  private current: Slab | null = null;
  private readonly free: Slab[] = [];
  /** Slabs allocated so far (tests). */
  allocated = 0;

  /** Room for `most` bytes: the current slab, or another. */
  room(most: number): Slab {
    const slab = this.current;
    // Every row of it released: its bytes are free again.
    if (slab !== null && slab.live === 0) slab.at = 0;
    if (slab !== null && slab.at + most <= slab.bytes.length) return slab;
    if (slab !== null && slab.live === 0) this.keep(slab);
    const next = (most <= SLAB_BYTES ? this.free.pop() : undefined) ?? this.allocate(Math.max(most, SLAB_BYTES));
    this.current = next;
    return next;
  }

  /** A row of `slab` was released. */
  drop(slab: Slab): void {
    slab.live--;
    if (slab.live === 0 && slab !== this.current) this.keep(slab);
  }

  /** Slabs allocated and waiting for reuse (tests). */
  get freeSlabs(): number {
    return this.free.length;
  }

  private allocate(bytes: number): Slab {
    this.allocated++;
    return new Slab(Buffer.allocUnsafeSlow(bytes), this);
  }

  private keep(slab: Slab): void {
    slab.at = 0;
    if (slab.bytes.length === SLAB_BYTES && this.free.length < KEEP_FREE) this.free.push(slab);
  }
}

export interface RowEncoderOptions {
  /** The columns written for a table, in order (resource-writer.ts, `writtenColumns`). */
  columnsOf(table: TableDefinition): readonly ColumnSpec<unknown>[];
  /**
   * Count columns of the root row set after it is encoded (regroup.ts), by child table key: written
   * with leading zeros so that {@link EncodedRow.setCount} can set them in place (k-th key, k-th count).
   */
  counted?: readonly string[];
}

interface TablePlan {
  table: TableDefinition;
  columns: readonly ColumnSpec<unknown>[];
  /** Per column: its place in `counted` when it is written padded, else -1. */
  padded: number[];
  /** How many columns are padded. */
  paddedCount: number;
  /** Indexes of the conflict key's columns; null when the key is `id` alone. */
  keyIndexes: readonly number[] | null;
  parentIdOf: ((row: unknown) => bigint) | null;
}

/** Encodes a resource's rows (every table) into a pool's slabs. */
export class RowEncoder {
  private readonly plans = new Map<string, TablePlan>();

  constructor(resource: ResourceDefinition, readonly pool: SlabPool, options: RowEncoderOptions) {
    for (const table of [resource.root, ...resource.children]) {
      const columns = options.columnsOf(table);
      const child = table === resource.root ? null : table as ChildTableDefinition;
      const padded = columns.map(() => -1);
      const counted = child === null ? options.counted ?? [] : [];
      counted.forEach((key, k) => {
        const counter = resource.children.find((c) => c.key === key);
        const index = counter?.countColumn ? columns.findIndex((c) => c.column === counter.countColumn) : -1;
        if (index < 0) throw new Error(`[shopify-ingest] ${resource.name} has no count column for ${key}`);
        padded[index] = k;
      });
      this.plans.set(table.key, {
        table,
        columns,
        padded,
        paddedCount: counted.length,
        keyIndexes: table.conflict.length === 1 && table.conflict[0] === 'id' ? null : table.conflict.map((name) => {
          const index = columns.findIndex((c) => c.column === name);
          if (index < 0) throw new Error(`[shopify-ingest] ${table.table} has no column ${name} of its key`);
          return index;
        }),
        parentIdOf: child ? (row) => child.parentIdOf(row) : null,
      });
    }
  }

  /** One row of table `key` as an {@link EncodedRow}. */
  encode(key: string, row: Record<string, unknown>): EncodedRow {
    const plan = this.plans.get(key);
    if (!plan) throw new Error(`[shopify-ingest] no table ${key} to encode`);
    const { columns, padded } = plan;
    const texts: string[] = new Array(columns.length);
    let most = 1;
    for (let c = 0; c < columns.length; c++) {
      const value = columns[c].value(row);
      const text = padded[c] >= 0 ? String(typeof value === 'number' ? value : 0).padStart(COUNT_DIGITS, '0') : copyTextValue(encodeValue(value, columns[c].type));
      texts[c] = text;
      // At most 3 UTF-8 bytes per UTF-16 unit, plus the tab before.
      most += text.length * 3 + 1;
    }
    const slab = this.pool.room(most);
    const start = slab.at;
    let at = start;
    // One count column (the usual case) is kept as a number, more as an array.
    const counts: number[] | null = plan.paddedCount > 1 ? new Array(plan.paddedCount) : null;
    let count = -1;
    for (let c = 0; c < texts.length; c++) {
      if (c > 0) slab.bytes[at++] = TAB;
      if (padded[c] >= 0) {
        if (counts === null) count = at - start;
        else counts[padded[c]] = at - start;
      }
      at += slab.bytes.write(texts[c], at, 'utf8');
    }
    slab.bytes[at++] = NEWLINE;
    slab.at = at;
    slab.live++;
    return new EncodedRow(
      row.tenantId as string | undefined,
      row.id as bigint,
      row.shopifyUpdatedAt as Date | undefined,
      (row.deletedAt as Date | null | undefined) ?? null,
      row.observedAt as Date | null | undefined,
      row.syncTag as string | null | undefined,
      plan.parentIdOf ? plan.parentIdOf(row) : undefined,
      plan.keyIndexes,
      slab, start, at - start, counts ?? count,
    );
  }
}

/** Releases the encoded rows of a written batch (see {@link EncodedRow.release}). */
export function releaseEncoded(rows: Readonly<Record<string, readonly unknown[]>>): void {
  for (const list of Object.values(rows)) {
    if (!areEncoded(list)) continue;
    for (const row of list) row.release();
  }
}

/** The parent id of a child row, encoded or not. */
export function parentIdOfRow(child: ChildTableDefinition, row: unknown): bigint {
  return row instanceof EncodedRow ? row.parentId! : child.parentIdOf(row);
}

/** Copies encoded rows' lines into chunks of about `chunkBytes` (each line prefixed with `prefix`, e.g. a tenant column). */
export function* encodedChunks(rows: readonly EncodedRow[], chunkBytes: number, prefix = ''): Generator<Buffer> {
  const head = prefix === '' ? null : Buffer.from(prefix, 'utf8');
  let buffer = Buffer.allocUnsafe(chunkBytes);
  let at = 0;
  for (const row of rows) {
    const line = row.bytes();
    const need = line.length + (head?.length ?? 0);
    if (at + need > buffer.length) {
      if (at > 0) yield buffer.subarray(0, at);
      buffer = Buffer.allocUnsafe(Math.max(chunkBytes, need));
      at = 0;
    }
    if (head) at += head.copy(buffer, at);
    at += line.copy(buffer, at);
  }
  if (at > 0) yield buffer.subarray(0, at);
}
