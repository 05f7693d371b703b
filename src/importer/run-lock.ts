import type { Logger } from '../logger.js';
import type { ResourceType } from '../store/rows.js';
import type { IngestStore } from '../store/types.js';
import { ImportError } from './errors.js';

/** A run lock held by a sync run (see `IngestStore.acquireRunLock`), renewed in the background until released. */
export interface HeldRunLock {
  /** True once a renewal found the lock taken by another run (this one had stopped renewing for longer than the TTL). */
  readonly lost: boolean;
  /** Stops renewing and releases the lock; never throws. */
  release(): Promise<void>;
}

export interface RunLockDeps {
  store: IngestStore;
  logger: Logger;
  clock: () => Date;
  tenantId: string;
  resource: ResourceType;
  runId: string;
  /** How long the lock outlives its last renewal; renewed every third of it. */
  ttlMs: number;
  /** How long to wait for the holder to finish before giving up (0: give up at once). */
  waitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
  /** Called once when a renewal finds the lock lost (the run then aborts what it is waiting on). */
  onLost?: () => void;
}

/** The error of a run whose run lock another run took, or whose tenant was deactivated. */
export function lockLostError(resource: string, tenantId: string): ImportError {
  return new ImportError(`${resource} sync of tenant ${tenantId} stopped: its run lock was taken by another run, or the tenant was deactivated`, { code: 'IMPORT_LOCK_LOST' });
}

/**
 * Takes the run lock of `resource` for `runId`, or throws an {@link ImportError} `IMPORT_ALREADY_RUNNING`
 * naming the run that holds it. With `waitMs`, a held lock is retried (every second, or every
 * `ttlMs / 3` if shorter) until it is free or `waitMs` has passed; `signal` stops the wait with
 * `IMPORT_ABORTED`. While held, the lock is renewed every `ttlMs / 3`; a renewal that
 * fails with an error is retried at the next tick (the lock lasts `ttlMs`), one that finds the lock
 * taken marks it `lost`, and the run is expected to stop.
 */
export async function takeRunLock(deps: RunLockDeps): Promise<HeldRunLock> {
  const { store, logger, clock, tenantId, resource, runId, ttlMs, waitMs = 0, signal } = deps;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const giveUpAt = clock().getTime() + waitMs;
  let got = await store.acquireRunLock({ tenantId, resource, runId, now: clock(), ttlMs });
  const pollMs = Math.max(1, Math.min(1000, Math.floor(ttlMs / 3)));
  // Bounded by the clock and by a count, so an injected clock that does not move still ends the wait.
  for (let attempt = 0; !got.acquired && attempt < Math.ceil(waitMs / pollMs) && clock().getTime() < giveUpAt && !signal?.aborted; attempt++) {
    if (attempt === 0) logger.info('waiting for the running sync of this resource to finish', { tenantId, resource, runId, runningRunId: got.runId, waitMs });
    await sleep(Math.max(1, Math.min(pollMs, giveUpAt - clock().getTime())));
    got = await store.acquireRunLock({ tenantId, resource, runId, now: clock(), ttlMs });
  }
  if (!got.acquired && signal?.aborted) {
    throw new ImportError(`${resource} sync of tenant ${tenantId} aborted while waiting for the running one`, { code: 'IMPORT_ABORTED', details: { tenantId, resource } });
  }
  if (!got.acquired) {
    const holder = got.runId ? `run ${got.runId}, locked until ${got.expiresAt?.toISOString()}` : 'a run that just finished';
    throw new ImportError(`${resource} sync of tenant ${tenantId} is already running (${holder})`, {
      code: 'IMPORT_ALREADY_RUNNING',
      details: { tenantId, resource, runningRunId: got.runId, lockedUntil: got.expiresAt?.toISOString() ?? null },
    });
  }
  let lost = false;
  let renewing: Promise<void> | null = null;
  const renew = async () => {
    try {
      if (!(await store.renewRunLock({ tenantId, resource, runId, now: clock(), ttlMs }))) {
        lost = true;
        clearInterval(timer);
        deps.onLost?.();
        logger.error('run lock lost (another run took it after this one stopped renewing, or the tenant was deactivated); stopping', { tenantId, resource, runId });
      }
    } catch (error) {
      logger.warn('could not renew the run lock; retrying', { tenantId, resource, runId, error });
    }
  };
  const timer = setInterval(() => { renewing ??= renew().finally(() => { renewing = null; }); }, Math.max(1, Math.floor(ttlMs / 3)));
  timer.unref?.();
  return {
    get lost() { return lost; },
    async release() {
      clearInterval(timer);
      await renewing;
      await store.releaseRunLock({ tenantId, resource, runId }).catch((error) => logger.warn('could not release the run lock; it expires by itself', { tenantId, resource, runId, error }));
    },
  };
}
