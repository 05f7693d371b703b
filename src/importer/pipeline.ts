/**
 * The write half of a sync run: transformed units are grouped into batches of `batchSize` records,
 * each batch is written by one statement, at most `concurrency` batches are in flight (the producer
 * waits for a free slot: backpressure), and the checkpoint only ever moves to the end of the
 * contiguous prefix of committed batches, so a crash never skips an unfinished one.
 *
 * A unit may `require` a parent written by an earlier batch (a bulk operation's child line whose
 * parent line was in another batch): its batch then waits until the batch that `provides` that
 * parent has committed. Only batches still in flight are remembered, so memory stays bounded by
 * `concurrency × batchSize` ids whatever the size of the file.
 */
import type { RowSet } from '../resources/definition.js';
import type { SyncFailureInput } from '../store/types.js';

/** One record's (or one child line's) rows, with where it sits in the listing. */
export interface Unit<P> {
  rows: RowSet | null;
  /** Root records this unit counts as (1 for a record, 0 for a child line; a merged unit: the sum). */
  records: number;
  /** Position to resume after, once this unit and everything before it is committed. */
  position: P;
  /** An id later units may require (a record that has children). */
  provides?: bigint;
  /** An id an earlier unit provides, which must be committed before this unit is written. */
  requires?: bigint;
  /**
   * A unit of several records and child lines (adopted from a bulk file's worker thread in one
   * piece, bulk-file-worker.ts): every id they provide and require, beside `provides`/`requires`.
   */
  providesAll?: BigInt64Array;
  requiresAll?: BigInt64Array;
  /** A record that could not be transformed: recorded, not written. */
  failure?: SyncFailureInput;
}

/** A batch handed to the writer. */
export interface Batch<P> {
  seq: number;
  units: Unit<P>[];
  /** Records in the batch (child lines do not count). */
  records: number;
  position: P;
}

export interface PipelineOptions<P> {
  batchSize: number;
  concurrency: number;
  /** Writes one batch (with retries); rejects to fail the run. */
  write(batch: Batch<P>): Promise<void>;
  /** The committed prefix moved: everything up to `position` is stored. */
  onCommitted(position: P): void;
  /** Units may be child lines of earlier records (a bulk file): cut batches before records (see `add`). */
  childLines?: boolean;
}

/**
 * Batches units, writes them with bounded concurrency, reports the committed prefix.
 *
 * @example
 * ```ts
 * const pipeline = new BatchPipeline({ batchSize: 100, concurrency: 3, write, onCommitted: (p) => saveCursor(p) });
 * for await (const unit of units) await pipeline.add(unit);
 * await pipeline.close();
 * ```
 */
export class BatchPipeline<P> {
  private current: Unit<P>[] = [];
  private currentRecords = 0;
  private nextSeq = 0;
  private readonly inFlight = new Set<Promise<void>>();
  /** Ids provided by batches not yet committed -> their completion. */
  private readonly providers = new Map<bigint, Promise<void>>();
  private readonly pending: Array<{ seq: number; position: P; done: boolean }> = [];
  private error: unknown = null;

  constructor(private readonly options: PipelineOptions<P>) {}

  /** The first write error, once one happened (no further batches are written). */
  get failed(): unknown {
    return this.error;
  }

  /**
   * Adds a unit; resolves once it is queued (waits while every write slot is busy). A full batch is
   * written at once; with `childLines`, it is cut before the next record instead, not before a child
   * line, so children that follow their parent closely (a bulk file with `groupObjects: true`, or
   * children near their parent) share its batch and need not wait for another batch to commit. A
   * long run of child lines is still cut at four times the batch size.
   */
  async add(unit: Unit<P>): Promise<void> {
    const size = this.current.length;
    if (this.options.childLines && size > 0 && ((unit.records > 0 && this.currentRecords >= this.options.batchSize) || size >= 4 * this.options.batchSize)) await this.dispatch();
    this.current.push(unit);
    this.currentRecords += unit.records;
    if (!this.options.childLines && this.current.length >= this.options.batchSize) await this.dispatch();
  }

  /** Writes what is left and waits for every batch. Rejects with the first write error. */
  async close(): Promise<void> {
    if (this.current.length > 0 && this.error === null) await this.dispatch();
    await this.drain();
    if (this.error !== null) throw this.error;
  }

  /** Waits for the batches in flight without writing the partial one (on abort). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight).catch(() => {});
  }

  private async dispatch(): Promise<void> {
    const units = this.current;
    const records = this.currentRecords;
    this.current = [];
    this.currentRecords = 0;
    while (this.inFlight.size >= this.options.concurrency) await Promise.race(this.inFlight).catch(() => {});
    if (this.error !== null) return;

    const waits = new Set<Promise<void>>();
    const provides: bigint[] = [];
    const waitFor = (id: bigint) => {
      const wait = this.providers.get(id);
      if (wait) waits.add(wait);
    };
    for (const unit of units) {
      if (unit.requires !== undefined) waitFor(unit.requires);
      if (unit.requiresAll !== undefined) for (const id of unit.requiresAll) waitFor(id);
      if (unit.provides !== undefined) provides.push(unit.provides);
      if (unit.providesAll !== undefined) for (const id of unit.providesAll) provides.push(id);
    }
    const seq = this.nextSeq++;
    const batch: Batch<P> = { seq, units, records, position: units[units.length - 1].position };
    const entry = { seq, position: batch.position, done: false };
    this.pending.push(entry);
    const task = (async () => {
      // A required parent's batch must be committed first; its failure fails the run anyway.
      if (waits.size > 0) await Promise.all([...waits].map((w) => w.catch(() => {})));
      // Another batch failed meanwhile: this one is not written, so it must never count as committed
      // (the committed prefix would move past it, and a resumed run would skip its lines).
      if (this.error !== null) throw new Error('[shopify-ingest] batch not written: an earlier batch failed');
      await this.options.write(batch);
    })();
    const settled = task.then(
      () => { entry.done = true; this.advance(); },
      (error) => { if (this.error === null) this.error = error; },
    ).finally(() => {
      this.inFlight.delete(settled);
      for (const id of provides) if (this.providers.get(id) === task) this.providers.delete(id);
    });
    for (const id of provides) this.providers.set(id, task);
    this.inFlight.add(settled);
  }

  private advance(): void {
    let moved: P | undefined;
    let any = false;
    while (this.pending.length > 0 && this.pending[0].done) {
      moved = this.pending.shift()!.position;
      any = true;
    }
    if (any) this.options.onCommitted(moved as P);
  }
}
