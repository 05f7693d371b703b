import type { RunCoordinator } from 'node-cron';
import type { SqlExecutor } from '../store/prisma-like.js';
import type { Logger } from '../logger.js';
import { abandonLease, acquireLease, releaseLease, renewLease, type LeaseResult } from '../store/leases.js';

/** Options of `createLeaseCoordinator` (internal; the scheduler makes one). */
export interface LeaseCoordinatorOptions {
  /** The job this coordinator elects runs for (node-cron's task name). */
  jobId: string;
  /** This instance's id, written as the lease holder. */
  holder: string;
  /** Lease lifetime; renewed every third of it while the run lasts. */
  ttlMs: number;
  /** The current time. */
  clock: () => Date;
  /** Where it logs. */
  logger: Logger;
  /** Told why a tick was not granted (another instance took it, or the job runs elsewhere). */
  onRefused?: (refusal: Exclude<LeaseResult, { acquired: true }>, runKey: string) => void;
}

/** A node-cron RunCoordinator backed by PostgreSQL, plus what the scheduler needs to know about it. */
export interface LeaseCoordinator extends RunCoordinator {
  /** Whether this instance runs this tick (it won the lease). */
  shouldRun(key: string, ttlMs?: number): Promise<boolean>;
  /** Records that a tick finished (the lease stays until it expires, so no other instance runs it). */
  onComplete(key: string): Promise<void>;
  /** Lease keys this instance holds right now. */
  held(): string[];
  /**
   * Says the run of a held lease began: `key`, or every held scheduled (non-manual) key. A lease that
   * is completed without having begun (the scheduler stopped while the lease was being taken) is
   * deleted instead of kept as a record of a run.
   */
  begin(key?: string): void;
}

/**
 * node-cron's `RunCoordinator` for one job, electing each tick through `shopify_scheduler_leases`.
 * node-cron asks `shouldRun("<task name>:<slot ISO time>")` on every instance at the same tick;
 * the instance whose INSERT wins runs it, renews the lease while running, and releases it in
 * `onComplete`. Fail-closed: when the database cannot be reached node-cron skips the tick.
 *
 * @example
 * ```ts
 * const coordinator = createLeaseCoordinator(prisma, { jobId: 'orders-sync-t1', holder: 'web-1', ttlMs: 60_000, clock: () => new Date(), logger });
 * cron.schedule('*\/30 * * * *', run, { name: 'orders-sync-t1', noOverlap: true, distributed: true, runCoordinator: coordinator, distributedLease: 60_000 });
 * ```
 */
export function createLeaseCoordinator(db: SqlExecutor, options: LeaseCoordinatorOptions): LeaseCoordinator {
  const { jobId, holder, clock, logger } = options;
  const heartbeats = new Map<string, NodeJS.Timeout>();
  // Renewals sent and not yet answered: onComplete waits for them, or one landing after the release
  // would extend the finished run's lease and block the job everywhere until it expired.
  const renewals = new Map<string, Promise<void>>();
  const begun = new Set<string>();
  const runKeyOf = (key: string) => (key.startsWith(`${jobId}:`) ? key.slice(jobId.length + 1) : key);

  return {
    async shouldRun(key: string, ttlMs?: number): Promise<boolean> {
      const ttl = options.ttlMs ?? ttlMs;
      const runKey = runKeyOf(key);
      const result = await acquireLease(db, { jobId, runKey, holder, now: clock(), ttlMs: ttl });
      if (!result.acquired) {
        options.onRefused?.(result, runKey);
        return false;
      }
      // Heartbeat: a run longer than the TTL keeps its lease; a crashed process stops renewing.
      const timer = setInterval(() => {
        if (renewals.has(key)) return; // the previous one is still on its way
        const renewal = renewLease(db, { jobId, runKey, holder, now: clock(), ttlMs: ttl })
          .then((ours) => { if (!ours) logger.warn('scheduler lease lost while running', { jobId, runKey }); })
          .catch((error: unknown) => logger.warn('scheduler lease renewal failed', { jobId, runKey, error }))
          .finally(() => renewals.delete(key));
        renewals.set(key, renewal);
      }, Math.max(50, Math.floor(ttl / 3)));
      timer.unref?.();
      heartbeats.set(key, timer);
      return true;
    },
    async onComplete(key: string): Promise<void> {
      const timer = heartbeats.get(key);
      if (timer) clearInterval(timer);
      heartbeats.delete(key);
      await renewals.get(key);
      const ran = begun.delete(key);
      if (ran) await releaseLease(db, { jobId, runKey: runKeyOf(key), holder, now: clock() });
      else await abandonLease(db, { jobId, runKey: runKeyOf(key), holder });
    },
    held: () => [...heartbeats.keys()],
    begin(key?: string): void {
      for (const held of heartbeats.keys()) {
        if (key === undefined ? !runKeyOf(held).startsWith('manual:') : held === key) begun.add(held);
      }
    },
  };
}
