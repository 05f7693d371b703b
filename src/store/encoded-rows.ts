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
import { encodeValue, SYNC_TAG, type ColumnSpec } from './columns.js';
import { CHUNK_BYTES, copyTextValue, textOfCopyValue, type ChunkPool } from './copy-stage.js';
import { checkTenantOfRows } from './store-errors.js';
import { OBSERVED_AT } from './versioning.js';

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
  constructor(readonly bytes: Buffer, readonly pool: { drop(slab: Slab): void }) {}
}

/**
 * Bytes encoded elsewhere (a worker thread, bulk-file-worker.ts) whose rows are adopted with
 * {@link RowEncoder.adopt}; `onFree` is called once every row adopted from them is released.
 */
export class AdoptedBytes {
  /** @internal */
  readonly slab: Slab;
  constructor(bytes: Buffer, onFree: (bytes: Buffer) => void) {
    this.slab = new Slab(bytes, { drop: (slab) => { if (--slab.live === 0) onFree(slab.bytes); } });
  }

  /** True when no adopted row holds them (none adopted yet, or every one released). */
  get free(): boolean {
    return this.slab.live === 0;
  }
}

/**
 * What the rows of one table share: the tenant (one per encoder) and where the values the writer
 * reads sit among the row's columns, so that a row keeps none of them itself.
 */
class EncodedTable {
  constructor(
    readonly owner: { tenantId: string | undefined },
    /** Indexes of the conflict key's columns (null: the key is `id` alone). */
    readonly keyColumns: readonly number[] | null,
    /** Indexes of the columns read back: -1 where the table has none. */
    readonly idColumn: number,
    readonly parentColumn: number,
    readonly updatedColumn: number,
    readonly deletedColumn: number,
    readonly observedColumn: number,
    readonly tagColumn: number,
  ) {}
}

/**
 * One row as COPY text in a slab. The writer reads a few values besides its bytes, under the row
 * object's names (`id`, `shopifyUpdatedAt`, `deletedAt`, `observedAt`, `syncTag`, `tenantId`,
 * `parentId`), so the version rule and the tenant check read it as they read a row: each is read
 * back from the bytes when asked (the id once, then kept), and the tenant is the encoder's.
 *
 * Why so little: a row waits for its batch (the regroup window, then batches in flight) long
 * enough to be promoted to V8's old generation with everything it points to, and how fast that
 * generation fills sets how far V8 lets the heap grow past its live size (about 4x at ~2.4 KB per
 * order, docs/benchmarks.md). Holding the values as fields kept an id and a parent id (bigints), a
 * Date and seven other fields per row: about 180 bytes, now 72 and no object of its own until read.
 */
export class EncodedRow {
  /** The id once read (at write time, when the row is about to go). */
  private idValue: bigint | undefined;

  constructor(
    private readonly table: EncodedTable,
    private slab: Slab | null,
    private readonly offset: number,
    private readonly length: number,
    /**
     * Offsets (in the row's bytes) of count columns written with {@link COUNT_DIGITS} digits: a
     * single one as a number (-1: the row has none), several as an array.
     */
    private readonly counts: number | readonly number[],
  ) {}

  /** The tenant of the encoder's rows (every row of one encoder has the same, checked when encoded). */
  get tenantId(): string | undefined {
    return this.table.owner.tenantId;
  }

  /** The row's `id` column (undefined where the table has none). */
  get id(): bigint {
    if (this.idValue === undefined && this.table.idColumn >= 0) this.idValue = BigInt(this.field(this.table.idColumn) as string);
    return this.idValue as bigint;
  }

  /** The parent's id (child tables; undefined for a root row). */
  get parentId(): bigint | undefined {
    const text = this.table.parentColumn >= 0 ? this.field(this.table.parentColumn) : null;
    return text === null ? undefined : BigInt(text);
  }

  /** Shopify's `updated_at` of the row (a new `Date` at each read); undefined when it has none. */
  get shopifyUpdatedAt(): Date | undefined {
    return this.date(this.table.updatedColumn) ?? undefined;
  }

  get deletedAt(): Date | null {
    return this.date(this.table.deletedColumn) ?? null;
  }

  /** When its version was observed: null when not stamped, undefined where the table has no such column. */
  get observedAt(): Date | null | undefined {
    return this.table.observedColumn < 0 ? undefined : this.date(this.table.observedColumn);
  }

  get syncTag(): string | null | undefined {
    if (this.table.tagColumn < 0) return undefined;
    const text = this.field(this.table.tagColumn);
    return text === null ? null : textOfCopyValue(text);
  }

  /**
   * The row's conflict key as the store's one-per-key rule reads it (synced-data.ts, `dedupeChild`):
   * its id, or the COPY text of the key's columns, read from the bytes when asked (rarely: tables
   * whose key is not `id`), so that no key string waits with the row.
   */
  get key(): string {
    const keyColumns = this.table.keyColumns;
    if (keyColumns === null) return String(this.id);
    let key = '';
    for (let k = 0; k < keyColumns.length; k++) key += (k === 0 ? '' : '\t') + this.text(keyColumns[k]);
    return key;
  }

  /** The row's COPY text line, newline included. */
  bytes(): Buffer {
    if (this.slab === null) throw new Error('[shopify-ingest] an encoded row was read after it was released');
    return this.slab.bytes.subarray(this.offset, this.offset + this.length);
  }

  /** Bytes of the row's line, newline included. */
  get byteLength(): number {
    return this.length;
  }

  /**
   * Copies the row's line to `target` at `at`; returns the bytes copied. Unlike {@link bytes}, makes
   * no view of the slab: the write path copies every row of a batch, and a view is an object each.
   */
  copyTo(target: Buffer, at: number): number {
    if (this.slab === null) throw new Error('[shopify-ingest] an encoded row was read after it was released');
    return this.slab.bytes.copy(target, at, this.offset, this.offset + this.length);
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

  /** The COPY text of column `index` (escapes left as they are), or null for `\N`. */
  private field(index: number): string | null {
    const text = this.text(index);
    return text === '\\N' ? null : text;
  }

  /** The COPY text of column `index` as written (`\N` for null). */
  private text(index: number): string {
    const slab = this.slab;
    if (slab === null) throw new Error('[shopify-ingest] an encoded row was read after it was released');
    const bytes = slab.bytes;
    const last = this.offset + this.length - 1;
    let start = this.offset;
    for (let k = 0; k < index; k++) start = bytes.indexOf(TAB, start) + 1;
    let end = bytes.indexOf(TAB, start);
    if (end < 0 || end > last) end = last;
    return bytes.toString('utf8', start, end);
  }

  private date(index: number): Date | null {
    const text = index < 0 ? null : this.field(index);
    return text === null ? null : new Date(text);
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
  /** What its rows share. */
  shared: EncodedTable;
}

/** Encodes a resource's rows (every table) into a pool's slabs. */
export class RowEncoder {
  private readonly plans = new Map<string, TablePlan>();
  private tenant: string | undefined;
  private encoded = 0;

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
      const indexOf = (name: string) => columns.findIndex((c) => c.column === name);
      const keyColumns = table.conflict.length === 1 && table.conflict[0] === 'id' ? null : table.conflict.map((name) => {
        const index = indexOf(name);
        if (index < 0) throw new Error(`[shopify-ingest] ${table.table} has no column ${name} of its key`);
        return index;
      });
      const shared = new EncodedTable(this, keyColumns, indexOf('id'), child ? indexOf(child.parentColumn) : -1, indexOf('shopify_updated_at'), indexOf('deleted_at'), indexOf(OBSERVED_AT), indexOf(SYNC_TAG));
      this.plans.set(table.key, { table, columns, padded, paddedCount: counted.length, shared });
    }
  }

  /** The tenant of the rows encoded: the first row's (every other row must have the same). */
  get tenantId(): string | undefined {
    return this.tenant;
  }

  /**
   * A row of table `key` encoded by another encoder of the same resource and columns (a worker
   * thread's), `length` bytes at `offset` of `bytes`, its count columns already set.
   */
  adopt(key: string, bytes: AdoptedBytes, offset: number, length: number): EncodedRow {
    const plan = this.plans.get(key);
    if (!plan) throw new Error(`[shopify-ingest] no table ${key} to adopt`);
    bytes.slab.live++;
    return new EncodedRow(plan.shared, bytes.slab, offset, length, -1);
  }

  /** Sets the tenant of rows adopted without any encoded here (see {@link RowEncoder.adopt}). */
  adoptTenant(tenantId: string): void {
    if (this.encoded++ === 0) this.tenant = tenantId;
    else if (tenantId !== this.tenant) checkTenantOfRows(String(this.tenant), 'adopted', [{ tenantId }]);
  }

  /**
   * Replaces each row list of `rows` (table key -> rows) by its encoded rows, in arrays of their exact
   * length (an array grown by push keeps room for 16 rows or more, and these may wait long enough to
   * reach V8's old generation). Returns `rows`.
   */
  encodeAll<R extends Record<string, unknown[]>>(rows: R): R {
    for (const key in rows) {
      const list = rows[key];
      const made: unknown[] = new Array(list.length);
      for (let k = 0; k < list.length; k++) made[k] = this.encode(key, list[k] as Record<string, unknown>);
      (rows as Record<string, unknown[]>)[key] = made;
    }
    return rows;
  }

  /** One row of table `key` as an {@link EncodedRow}. */
  encode(key: string, row: Record<string, unknown>): EncodedRow {
    const plan = this.plans.get(key);
    if (!plan) throw new Error(`[shopify-ingest] no table ${key} to encode`);
    // The rows keep no tenant of their own: the encoder's is theirs (the writer checks it against its own).
    if (this.encoded++ === 0) this.tenant = row.tenantId as string | undefined;
    else if (row.tenantId !== this.tenant) checkTenantOfRows(String(this.tenant), key, [row as { tenantId?: string }]);
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
    return new EncodedRow(plan.shared, slab, start, at - start, counts ?? count);
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

/**
 * Copies encoded rows' lines into chunks of about `chunkBytes` (each line prefixed with `prefix`, e.g.
 * a tenant column); with `pool`, chunks of {@link CHUNK_BYTES} are the pool's buffers.
 */
export function* encodedChunks(rows: readonly EncodedRow[], chunkBytes: number, prefix = '', pool?: ChunkPool): Generator<Buffer> {
  const head = prefix === '' ? null : Buffer.from(prefix, 'utf8');
  const fresh = (need: number) => (pool && chunkBytes === CHUNK_BYTES && need <= CHUNK_BYTES ? pool.take() : Buffer.allocUnsafe(Math.max(chunkBytes, need)));
  let buffer = fresh(0);
  let at = 0;
  for (const row of rows) {
    const need = row.byteLength + (head?.length ?? 0);
    if (at + need > buffer.length) {
      if (at > 0) yield buffer.subarray(0, at);
      buffer = fresh(need);
      at = 0;
    }
    if (head) at += head.copy(buffer, at);
    at += row.copyTo(buffer, at);
  }
  if (at > 0) yield buffer.subarray(0, at);
}
