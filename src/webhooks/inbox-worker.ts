import { ShopifyIngestError } from '../errors.js';
import type { Logger } from '../logger.js';
import { redactText, silentLogger } from '../logger.js';
import type { InboxRow, WebhookInbox } from '../store/inbox.js';

/** Options of the inbox worker. */
export interface InboxWorkerOptions {
  /** The inbox it claims from. */
  inbox: WebhookInbox;
  /**
   * Processes claimed rows; returns the error of each row that failed (by id). Rows not in the map
   * are marked processed.
   */
  process(rows: InboxRow[]): Promise<Map<string, unknown>>;
  /** Unique per process; recorded in `locked_by`. */
  workerId: string;
  /** Rows claimed at once (default 100). */
  batchSize?: number;
  /** How often the inbox is polled when nothing wakes the worker (default 1000 ms). */
  pollIntervalMs?: number;
  /**
   * How long an idle worker waits after the first `wake()` before it claims (default 0). Deliveries
   * arriving meanwhile are claimed together, and `deferUntilOlderThan` sees a burst before the
   * worker has started on it.
   */
  wakeDelayMs?: number;
  /** A claim older than this is taken over (the worker holding it is presumed dead). Default 5 min. */
  lockTimeoutMs?: number;
  /**
   * Attempts before a row stays `failed` (default 25). With the default backoff the 25th comes about
   * 4 h after the first (2 s doubling to 15 min: 17 min for the first 10, then 15 min each), the
   * window Shopify itself retries a delivery in, so a cause that passes (Shopify or a downstream
   * service down for an hour) does not leave deliveries to replay by hand. A row whose worker died
   * during its last attempt is dead-lettered when its claim expires.
   */
  maxAttempts?: number;
  /** Backoff of attempt n: min(maxMs, baseMs * 2^(n-1)) plus up to 20% jitter. Defaults 2 s and 15 min. */
  backoff?: {
    /** First delay (default 2 s). */
    baseMs?: number;
    /** Longest delay (default 15 min). */
    maxMs?: number;
  };
  /** Drop the encrypted body once processed (default true: the inbox keeps no PII it no longer needs); or decide per row. */
  clearBodyOnSuccess?: boolean | ((row: InboxRow) => boolean);
  /** The current time. */
  clock?: () => Date;
  /** Random numbers for jitter. */
  random?: () => number;
  /** Where it logs. */
  logger?: Logger;
  /** Called with how many rows a batch processed. */
  onProcessed?: (count: number) => void;
  /** Called when a row fails an attempt. */
  onFailed?: (row: InboxRow, error: unknown, final: boolean) => void;
  /**
   * Asked before each claim: a time to claim only rows due before (the process is busy
   * acknowledging deliveries, so only those older than that are applied now), or null to claim
   * everything due. While it defers, the worker ignores `wake()` and polls every `pollIntervalMs`.
   */
  deferUntilOlderThan?: (now: Date) => Date | null;
}

/** Runs the inbox: claim, process, mark; woken at once after an insert, polling otherwise. */
export interface InboxWorker {
  /** Starts the loop (picks up rows left by a previous run first). Idempotent. */
  start(): void;
  /** Stops the loop after the batch in flight is finished. */
  stop(): Promise<void>;
  /** Signals new rows: the loop runs now instead of at the next poll. */
  wake(): void;
  /** Claims and processes one batch (deferring as `deferUntilOlderThan` says); returns how many rows were claimed. */
  runOnce(): Promise<number>;
  /** Processes batches until nothing is due, busy or not; returns the number of rows claimed. */
  drain(): Promise<number>;
  /** Whether it is started. */
  readonly running: boolean;
  /** Whether the loop runs, what it is doing and how it last failed (for health checks). */
  getStatus(): InboxWorkerStatus;
}

/** What {@link InboxWorker.getStatus} reports: started or not, ms the batch in flight has taken, the last claim error (cleared by a later claim), why the loop crashed. */
export interface InboxWorkerStatus { running: boolean; busyForMs: number | null; lastError: string | null; lastErrorAt: Date | null; crashed: string | null }

/**
 * Shopify retries a delivery it got no 200 for over 4 hours (https://shopify.dev/docs/apps/build/webhooks/subscribe/https);
 * with the default backoff, 25 attempts span 4 h 2 min before jitter (up to 20% more).
 */
const DEFAULT_MAX_ATTEMPTS = 25;

/** An error as stored (`last_error`) and reported: masked like a failed sync's reason (tokens, emails). */
export function errorMessage(error: unknown): string {
  if (error instanceof ShopifyIngestError) return redactText(error.message);
  if (error instanceof Error) return redactText(`${error.name}: ${error.message}`);
  return redactText(String(error));
}

/**
 * Creates the inbox worker. Several workers (processes) can run against one inbox: claims use
 * `FOR UPDATE SKIP LOCKED`, so a row is processed by one worker at a time.
 *
 * @example
 * ```ts
 * const worker = createInboxWorker({ inbox, workerId: 'web-1', process: async (rows) => new Map() });
 * worker.start();
 * process.on('SIGTERM', () => worker.stop());
 * ```
 */
export function createInboxWorker(options: InboxWorkerOptions): InboxWorker {
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const wakeDelayMs = options.wakeDelayMs ?? 0;
  const lockTimeoutMs = options.lockTimeoutMs ?? 5 * 60_000;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const baseMs = options.backoff?.baseMs ?? 2000;
  const maxMs = options.backoff?.maxMs ?? 15 * 60_000;
  const clock = options.clock ?? (() => new Date());
  const random = options.random ?? Math.random;
  const logger = options.logger ?? silentLogger;
  const clearBody = options.clearBodyOnSuccess ?? true;

  let running = false;
  let loop: Promise<void> | null = null;
  let endIdle: (() => void) | null = null;
  let woken = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let wakeTimer: ReturnType<typeof setTimeout> | null = null;

  /** Whether the last claim was limited by {@link InboxWorkerOptions.deferUntilOlderThan}. */
  let deferring = false;
  let busySince: Date | null = null;
  let lastError: { message: string; at: Date } | null = null;
  let crashed: string | null = null;

  async function runOnce(defer = true): Promise<number> {
    const now = clock();
    const dueBefore = (defer && options.deferUntilOlderThan?.(now)) || undefined;
    deferring = dueBefore !== undefined;
    const rows = await options.inbox.claim({ workerId: options.workerId, limit: batchSize, now, lockTimeoutMs, dueBefore, maxAttempts });
    if (rows.length === 0) return 0;
    // A claim older than lockTimeoutMs is taken over by another worker, which would apply the rows a
    // second time: renew it every third of that while this batch is applied and marked, so only a
    // worker that died (stopped renewing) loses its rows, and a short timeout stays safe on a slow host.
    const ids = rows.map((r) => r.id);
    const heartbeat = setInterval(() => {
      options.inbox.renew(ids, options.workerId, clock())
        .catch((error: unknown) => logger.warn('could not renew the claim of the webhook batch in flight; retrying', { workerId: options.workerId, error }));
    }, Math.max(50, Math.floor(lockTimeoutMs / 3)));
    heartbeat.unref?.();
    try {
      return await settleBatch(rows);
    } finally {
      clearInterval(heartbeat);
    }
  }

  async function settleBatch(rows: InboxRow[]): Promise<number> {
    let failures: Map<string, unknown>;
    try {
      failures = await options.process(rows);
    } catch (error) {
      failures = new Map(rows.map((r) => [r.id, error]));
    }
    const done = rows.filter((r) => !failures.has(r.id));
    const drop = done.filter((r) => (typeof clearBody === 'function' ? clearBody(r) : clearBody)).map((r) => r.id);
    const keep = done.filter((r) => !drop.includes(r.id)).map((r) => r.id);
    await options.inbox.complete(drop, options.workerId, clock(), { clearBody: true });
    await options.inbox.complete(keep, options.workerId, clock(), { clearBody: false });
    if (done.length > 0) options.onProcessed?.(done.length);
    for (const row of rows) {
      if (!failures.has(row.id)) continue;
      const error = failures.get(row.id);
      const final = row.attempts >= maxAttempts;
      const delay = Math.min(maxMs, baseMs * 2 ** Math.max(0, row.attempts - 1)) * (1 + 0.2 * random());
      const next = new Date(clock().getTime() + delay);
      await options.inbox.fail(row.id, options.workerId, errorMessage(error), next, final);
      logger[final ? 'error' : 'warn'](final ? 'webhook failed for good (replay it with replayWebhook)' : 'webhook processing failed; will retry', {
        inboxId: row.id, topic: row.topic, tenantId: row.tenantId, attempts: row.attempts, error,
      });
      options.onFailed?.(row, error, final);
    }
    return rows.length;
  }

  async function drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await runOnce(false); // asked for explicitly: everything due, busy or not
      total += n;
      if (n < batchSize) return total;
    }
  }

  function idle(): Promise<void> {
    if (woken && !deferring) { woken = false; return Promise.resolve(); }
    return new Promise<void>((resolve) => {
      endIdle = resolve;
      timer = setTimeout(resolve, pollIntervalMs);
      timer.unref?.();
    }).finally(() => {
      if (timer) clearTimeout(timer);
      if (wakeTimer) clearTimeout(wakeTimer);
      timer = null;
      wakeTimer = null;
      endIdle = null;
      woken = false;
    });
  }

  async function run(): Promise<void> {
    while (running) {
      try {
        busySince = clock();
        const n = await runOnce();
        lastError = null;
        if (n === batchSize) continue;
      } catch (error) {
        lastError = { message: errorMessage(error), at: clock() };
        logger.error('webhook worker could not claim or mark rows; retrying at next poll', { workerId: options.workerId, error });
      } finally {
        busySince = null;
      }
      if (!running) break;
      await idle();
    }
  }

  return {
    get running() { return running; },
    start() {
      if (running) return;
      running = true;
      crashed = null;
      // The loop catches every batch's error; anything escaping it stops the worker, and health says so.
      loop = run().catch((error: unknown) => {
        running = false;
        crashed = errorMessage(error);
        try {
          logger.error('webhook worker stopped: its loop crashed', { workerId: options.workerId, error });
        } catch {
          // The logger may be what crashed the loop; the status still says so.
        }
      });
    },
    async stop() {
      running = false;
      endIdle?.();
      await loop;
      loop = null;
    },
    wake() {
      // While deferring, a wake-up (one per acknowledged delivery) would only repeat an empty claim.
      if (deferring) return;
      if (!endIdle) { woken = true; return; }
      if (wakeDelayMs <= 0) { endIdle(); return; }
      if (wakeTimer) return;
      const end = endIdle;
      wakeTimer = setTimeout(() => { wakeTimer = null; end(); }, wakeDelayMs);
      wakeTimer.unref?.();
    },
    runOnce: () => runOnce(),
    drain,
    getStatus() {
      return {
        running,
        busyForMs: busySince ? Math.max(0, clock().getTime() - busySince.getTime()) : null,
        lastError: lastError?.message ?? null,
        lastErrorAt: lastError?.at ?? null,
        crashed,
      };
    },
  };
}
