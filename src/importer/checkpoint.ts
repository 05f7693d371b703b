/**
 * What an unfinished run stores in `checkpoint.cursor` so a restart continues it.
 *
 * Shopify lists records by ascending id when `since_id` is given
 * (https://shopify.dev/docs/api/admin-rest/latest/resources/order#get-orders?since_id=123),
 * not by `updated_at`; so the resume position is an id (`sinceId`), and the run's filters are kept
 * so the restart lists exactly the same set. The watermark cannot move until the whole listing
 * is done (a record with a low id may be the newest), so it is only written when the run completes.
 */
export interface ResumeCursor {
  v: 1;
  /** The run that wrote the cursor (the first one, when a resumed run was resumed again). */
  runId: string;
  mode: 'full' | 'incremental';
  /** Every record with id <= sinceId matching the filters is committed. */
  sinceId: string;
  updatedAtMin: string | null;
  /** When the interrupted run started: the watermark of the finished run may not pass it. */
  startedAt: string;
  /** Highest updated_at among committed records (ms), for the final watermark. */
  maxUpdatedAt: number | null;
}

/** Parses a stored cursor; anything unreadable (another version, hand-edited) means "no resume". */
export function decodeCursor(text: string | null | undefined): ResumeCursor | null {
  if (!text) return null;
  try {
    const c = JSON.parse(text) as Partial<ResumeCursor>;
    if (c.v !== 1 || typeof c.sinceId !== 'string' || !/^\d+$/.test(c.sinceId) || (c.mode !== 'full' && c.mode !== 'incremental')) return null;
    if (typeof c.startedAt !== 'string' || Number.isNaN(Date.parse(c.startedAt))) return null;
    return {
      v: 1,
      runId: String(c.runId ?? ''),
      mode: c.mode,
      sinceId: c.sinceId,
      updatedAtMin: typeof c.updatedAtMin === 'string' ? c.updatedAtMin : null,
      startedAt: c.startedAt,
      maxUpdatedAt: typeof c.maxUpdatedAt === 'number' ? c.maxUpdatedAt : null,
    };
  } catch {
    return null;
  }
}

export function encodeCursor(cursor: ResumeCursor | GraphqlCursor): string {
  return JSON.stringify(cursor);
}

/**
 * What an unfinished GraphQL run stores in `checkpoint.cursor`.
 *
 * - `pages`: the listing is sorted by `updated_at`, so the resume position is Shopify's cursor after
 *   the last page whose records are all committed (`after`), with the search it continues.
 * - `bulk`: the windows still to list (the first is in progress; a failed operation's window is split
 *   in two and both halves queued), and the running operation: its id (a restarted process re-attaches
 *   to it instead of starting a second one), its tag, and how far its file is committed (line and
 *   byte, for a Range request, and the root records among those lines, to check the file against the
 *   operation's `rootObjectCount`).
 */
export interface GraphqlCursor {
  v: 2;
  runId: string;
  mode: 'full' | 'incremental';
  method: 'pages' | 'bulk';
  /** When the interrupted run started: the final watermark may not pass it. */
  startedAt: string;
  /** Highest updated_at among committed records (ms). */
  maxUpdatedAt: number | null;
  /** pages: the search of the listing, and Shopify's cursor after the committed pages. */
  search?: string | null;
  after?: string | null;
  /** bulk: the field windows split on (`created_at` for full syncs, `updated_at` for incremental ones). */
  field?: 'created_at' | 'updated_at';
  /** bulk: windows still to list, `[from, to]` as ISO strings or null for open ends; the first is in progress. */
  windows?: Array<[string | null, string | null]>;
  /** bulk: attempts made for the first window (a failing window is split, a cancelled one rerun, a bounded number of times). */
  attempts?: number;
  op?: BulkCursor | null;
  /**
   * bulk: the first window's operation is being asked for and its id is not saved yet; this is the
   * numeric id of the app's newest operation before it (`'0'`: none). A run killed in between finds
   * the operation, running or completed meanwhile (completed: an id above this one), instead of
   * starting a second one; an older completed operation of the same query is never taken for it.
   */
  askedAfter?: string;
  /** bulk: the span bulk operations were denied (protected customer data), listed with paged queries once the windows are done. */
  fallback?: [string | null, string | null];
  /** Which of the resource's GraphQL listings (`graphqlSourcesOf`) the cursor belongs to; 0 when absent. */
  source?: number;
}

/** The running (or finished, not yet fully read) bulk operation of a {@link GraphqlCursor}. */
export interface BulkCursor {
  id: string;
  tag: string;
  /** Lines and bytes of its file committed. */
  line: number;
  byte: number;
  /** Root records among the committed lines. */
  roots: number;
  /** Reading its partialDataUrl (a FAILED operation) rather than its url. */
  partial?: boolean;
  /**
   * When this SDK asked Shopify to run it (the importer's clock, ISO): what its rows' `observed_at`
   * is (store/versioning.ts), on the clock page reads use. Absent for an operation attached to
   * (started by a process that did not record it): then Shopify's `createdAt`.
   */
  sentAt?: string;
}

/** Parses a stored GraphQL cursor; null for anything else. */
export function decodeGraphqlCursor(text: string | null | undefined): GraphqlCursor | null {
  if (!text) return null;
  try {
    const c = JSON.parse(text) as Partial<GraphqlCursor>;
    if (c.v !== 2 || (c.method !== 'pages' && c.method !== 'bulk') || (c.mode !== 'full' && c.mode !== 'incremental')) return null;
    if (typeof c.startedAt !== 'string' || Number.isNaN(Date.parse(c.startedAt))) return null;
    return c as GraphqlCursor;
  } catch {
    return null;
  }
}

interface PendingBatch {
  seq: number;
  lastId: bigint | null;
  maxUpdatedAt: number | null;
  done: boolean;
}

/**
 * Tracks the contiguous prefix of committed batches. With `concurrency` > 1 batches finish out of
 * order; the resume position may only pass a batch when it and every batch before it are committed,
 * otherwise a crash would skip the unfinished one.
 *
 * @example
 * ```ts
 * const t = new CommitTracker(0n, null);
 * const a = t.add(100n, 1), b = t.add(200n, 2);
 * t.complete(b); // false: batch a is still in flight
 * t.complete(a); // true: committedId is now 200n
 * ```
 */
export class CommitTracker {
  private readonly pending: PendingBatch[] = [];
  private nextSeq = 0;
  committedId: bigint;
  committedMaxUpdatedAt: number | null;

  constructor(startId: bigint, startMaxUpdatedAt: number | null) {
    this.committedId = startId;
    this.committedMaxUpdatedAt = startMaxUpdatedAt;
  }

  /** Registers the next batch in listing order and returns its sequence number. */
  add(lastId: bigint | null, maxUpdatedAt: number | null): number {
    const seq = this.nextSeq++;
    this.pending.push({ seq, lastId, maxUpdatedAt, done: false });
    return seq;
  }

  /** Marks a batch committed; true when the committed prefix moved. */
  complete(seq: number): boolean {
    const batch = this.pending.find((b) => b.seq === seq);
    if (!batch) return false;
    batch.done = true;
    let advanced = false;
    while (this.pending.length > 0 && this.pending[0].done) {
      const head = this.pending.shift()!;
      if (head.lastId !== null && head.lastId > this.committedId) this.committedId = head.lastId;
      if (head.maxUpdatedAt !== null && (this.committedMaxUpdatedAt === null || head.maxUpdatedAt > this.committedMaxUpdatedAt)) {
        this.committedMaxUpdatedAt = head.maxUpdatedAt;
      }
      advanced = true;
    }
    return advanced;
  }

  /** Batches registered but not yet part of the committed prefix. */
  get uncommitted(): number {
    return this.pending.length;
  }
}

/**
 * Serialises writes of a value that only matters in its latest version (checkpoint, run counts):
 * at most one write in flight, intermediate values are dropped, `flush()` waits for the last one.
 * A value pushed with `gapMs` is followed by a pause of that long (from its write's start) before
 * the next write, unless `flush()` or a value pushed without a gap asks for it at once: values
 * pushed meanwhile are dropped but the latest, so a value that changes many times a second is
 * written a few times a second.
 */
export function createLatestWriter<T>(write: (value: T) => Promise<void>, onError: (error: unknown) => void): { push(value: T, gapMs?: number): void; flush(): Promise<void> } {
  let running: Promise<void> | null = null;
  let next: { value: T; gapMs: number } | null = null;
  let hurry: (() => void) | null = null;
  let flushing = 0;
  const pause = (ms: number) => new Promise<void>((resolve) => {
    const done = () => { clearTimeout(timer); hurry = null; resolve(); };
    const timer = setTimeout(done, ms);
    timer.unref?.();
    hurry = done;
  });
  const drain = async (): Promise<void> => {
    while (next) {
      const { value, gapMs } = next;
      next = null;
      const started = Date.now();
      try { await write(value); } catch (error) { onError(error); }
      const left = gapMs - (Date.now() - started);
      if (left > 0 && flushing === 0) await pause(left);
    }
    running = null;
  };
  return {
    push(value: T, gapMs = 0) {
      next = { value, gapMs };
      if (!running) running = drain();
      else if (gapMs === 0) hurry?.();
    },
    async flush() {
      flushing++;
      try {
        while (running) {
          hurry?.();
          await running;
        }
      } finally {
        flushing--;
      }
    },
  };
}
