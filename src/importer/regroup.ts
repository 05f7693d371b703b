/**
 * Regrouping a bulk file's records with their children, within a bounded window of lines.
 *
 * A bulk file lists a record's children after it but, with `groupObjects: false` (the default since
 * 2026-01), not next to it. A record written as soon as its line is read does not know how many
 * children it has, and a count column on it (orders' `line_item_count`) then costs a second write
 * of every record after the file (`finalizeBulk`): measured, about a fifth of a first backfill's
 * time (docs/benchmarks.md). So a record with counted children waits here for up to `lines` lines
 * of the file; its children read meanwhile join it and are counted, and it leaves with them, its
 * count set. Children that come later pass straight through, and `finalizeBulk` recounts the few
 * records whose count they change. Correctness never depends on the window: only how many records
 * are written twice does.
 *
 * Positions: the pipeline commits units in the order it is given them and saves the position of
 * the last one committed, to resume from. With records held back, that can only be a position
 * before the oldest held record, so every unit leaving the window carries that low-water mark (or
 * its own position when nothing is held). A run that stops with records held resumes before them.
 */
import type { Unit } from './pipeline.js';

/** Lists of a held record shorter than this are copied when a child joins instead of grown. */
const SHORT_LIST = 8;

interface Held<P> {
  unit: Unit<P>;
  /** Line number of the record. */
  line: number;
  /** Position just before the record's line. */
  before: P;
  /** Children joined so far (null: none yet). */
  children: Unit<P>[] | null;
  /** Held children per counted table, in `counted` order (null: none yet). */
  counts: number[] | null;
}

export interface RegroupOptions<P> {
  /** How many lines after its own a record waits for its children. */
  lines: number;
  /** Child table keys counted on the record; each entry counts the held children of that table. */
  counted: ReadonlySet<string>;
  /** Sets a record's counts (per child table key) before it leaves. */
  setCounts(unit: Unit<P>, counts: ReadonlyMap<string, number>): void;
}

/**
 * @example
 * ```ts
 * const window = new RegroupWindow({ lines: 4000, counted: new Set(['lineItems']), setCounts });
 * for (const line of file) {
 *   for (const unit of window.due(line.number, before)) await pipeline.add(unit);
 *   if (isRecord) window.hold(id, unit, line.number, before);
 *   else if (!window.join(parentId, childUnit, table)) await pipeline.add(window.pass(childUnit));
 * }
 * for (const unit of window.flush(end)) await pipeline.add(unit);
 * ```
 */
export class RegroupWindow<P> {
  /** Held records by id, oldest first (a Map keeps insertion order). */
  private readonly held = new Map<bigint, Held<P>>();
  /** The counted tables, in the order of `Held.counts`. */
  private readonly counted: readonly string[];

  constructor(private readonly options: RegroupOptions<P>) {
    this.counted = [...options.counted];
  }

  /** Records held now. */
  get size(): number {
    return this.held.size;
  }

  /**
   * The records that have waited long enough once line `line` is read (their line is `lines` or more
   * before it), each followed by its children; `before` is the position just before line `line`.
   */
  due(line: number, before: P): Unit<P>[] {
    const out: Unit<P>[] = [];
    for (const [id, entry] of this.held) {
      if (line - entry.line < this.options.lines) break;
      this.release(id, entry, before, out);
    }
    return out;
  }

  /**
   * Holds a record read at `line` (`before`: the position just before that line). A record listed
   * twice in one file must leave (`take`) before its second line is held, so it is written first.
   */
  hold(id: bigint, unit: Unit<P>, line: number, before: P): void {
    if (this.held.has(id)) throw new Error(`record ${id} is held twice: release it first with take()`);
    // Nothing allocated per record until a child joins: a held record lives long enough to be
    // promoted to V8's old generation, with everything it points to (store/encoded-rows.ts).
    this.held.set(id, { unit, line, before, children: null, counts: null });
  }

  /** True when `id` is held. */
  has(id: bigint): boolean {
    return this.held.has(id);
  }

  /** Releases record `id` now (with its children), e.g. when the file lists it again. */
  take(id: bigint, before: P): Unit<P>[] {
    const entry = this.held.get(id);
    const out: Unit<P>[] = [];
    if (entry) this.release(id, entry, before, out);
    return out;
  }

  /**
   * A child line: joins its held parent (true), or false when the parent is not held. A child with
   * rows, that no later line needs (`provides`) and that did not fail, is merged into its parent's
   * unit: one unit per record and its children, instead of one per line held this long.
   */
  join(parentId: bigint, unit: Unit<P>, table: string): boolean {
    const entry = this.held.get(parentId);
    if (!entry) return false;
    const into = entry.unit.rows;
    if (into !== null && unit.rows !== null && unit.provides === undefined && unit.failure === undefined && unit.records === 0) {
      for (const key in unit.rows) {
        const list = into[key];
        const rows = unit.rows[key];
        // A held record waits long enough for its lists to reach V8's old generation: short lists are
        // remade at their exact length (push would leave room for 16 rows), long ones grow by push.
        if (list === undefined || list.length === 0) into[key] = rows;
        else if (list.length < SHORT_LIST) into[key] = list.concat(rows);
        else for (const row of rows) list.push(row);
      }
    } else (entry.children ??= []).push(unit);
    const k = this.counted.indexOf(table);
    if (k >= 0) (entry.counts ??= this.counted.map(() => 0))[k]++;
    return true;
  }

  /** A unit that does not wait: it leaves now, at the low-water position when records are held. */
  pass(unit: Unit<P>): Unit<P> {
    const oldest = this.oldest();
    return oldest ? { ...unit, position: oldest.before } : unit;
  }

  /** Every held record with its children, oldest first; `end` is the position after the last line read. */
  flush(end: P): Unit<P>[] {
    const out: Unit<P>[] = [];
    for (const [id, entry] of this.held) this.release(id, entry, end, out);
    return out;
  }

  private oldest(): Held<P> | undefined {
    for (const entry of this.held.values()) return entry;
    return undefined;
  }

  /**
   * Moves one record and its children to `out`. The last of them carries the low-water mark left
   * after it; the others the mark before (a batch may end between them).
   */
  private release(id: bigint, entry: Held<P>, readTo: P, out: Unit<P>[]): void {
    const from = this.oldest()!.before;
    this.held.delete(id);
    this.options.setCounts(entry.unit, new Map(this.counted.flatMap((table, k) => entry.counts?.[k] ? [[table, entry.counts[k]]] : [])));
    const group = entry.children ? [entry.unit, ...entry.children] : [entry.unit];
    const after = this.oldest()?.before ?? readTo;
    group.forEach((unit, k) => out.push({ ...unit, position: k === group.length - 1 ? after : from }));
  }
}
