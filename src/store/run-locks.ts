import { assertTenantId } from '../errors.js';
import type { PrismaLike } from './prisma-like.js';
import type { ResourceType } from './rows.js';
import { abandonLease, renewLease } from './leases.js';
import { storeFailure } from './store-errors.js';
import type { RunLockInput, RunLockResult } from './types.js';

/**
 * One sync run per tenant and resource at a time, across processes: a lock row in
 * `shopify_scheduler_leases` (job `import/<resource>/<tenantId>`, run key `run`), held by a run id
 * until `expires_at`. The holder renews it while it runs; a holder that died stops renewing, and the
 * lock can be taken once it expired. One row per tenant and resource, so two runs racing for it
 * meet on the primary key: `INSERT ... ON CONFLICT DO UPDATE ... WHERE expired` lets exactly one win.
 */
const RUN_KEY = 'run';
const lockJobId = (tenantId: string, resource: ResourceType) => `import/${resource}/${tenantId}`;

/**
 * SQL condition: the run `alias` (a `shopify_sync_runs` row) holds its run lock and the lock has
 * not expired at `nowParam` (a timestamptz parameter). Kept beside the lock's layout.
 */
export function runLockHeldSql(alias: string, nowParam: string): string {
  return `EXISTS (SELECT 1 FROM "shopify_scheduler_leases" rl
    WHERE rl."job_id" = 'import/' || ${alias}."resource" || '/' || ${alias}."tenant_id" AND rl."run_key" = '${RUN_KEY}'
      AND rl."holder" = ${alias}."id" AND rl."expires_at" > ${nowParam})`;
}

export function createRunLockStore(prisma: PrismaLike) {
  return {
    async acquireRunLock(lock: RunLockInput & { ttlMs: number }): Promise<RunLockResult> {
      assertTenantId(lock.tenantId);
      const jobId = lockJobId(lock.tenantId, lock.resource);
      try {
        const won = await prisma.$queryRawUnsafe<Array<{ holder: string }>>(
          `INSERT INTO "shopify_scheduler_leases" AS l ("job_id", "run_key", "holder", "acquired_at", "expires_at")
           VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz)
           ON CONFLICT ("job_id", "run_key") DO UPDATE
             SET "holder" = excluded."holder", "acquired_at" = excluded."acquired_at", "expires_at" = excluded."expires_at"
             WHERE l."expires_at" <= excluded."acquired_at" OR l."holder" = excluded."holder"
           RETURNING "holder"`,
          jobId, RUN_KEY, lock.runId, lock.now, new Date(lock.now.getTime() + lock.ttlMs),
        );
        if (won.length === 1) return { acquired: true };
        const held = await prisma.$queryRawUnsafe<Array<{ holder: string; acquired_at: Date; expires_at: Date }>>(
          `SELECT "holder", "acquired_at", "expires_at" FROM "shopify_scheduler_leases" WHERE "job_id" = $1 AND "run_key" = $2`,
          jobId, RUN_KEY,
        );
        // Released between the two statements: report it as held by nobody; the caller may try again.
        const h = held[0];
        return h
          ? { acquired: false, runId: h.holder, acquiredAt: new Date(h.acquired_at), expiresAt: new Date(h.expires_at) }
          : { acquired: false, runId: null, acquiredAt: null, expiresAt: null };
      } catch (error) {
        throw storeFailure('acquireRunLock', lock.tenantId, error, { resource: lock.resource, runId: lock.runId });
      }
    },

    /** The scheduler's lease heartbeat on the lock's row: false once another run holds it. */
    async renewRunLock(lock: RunLockInput & { ttlMs: number }): Promise<boolean> {
      assertTenantId(lock.tenantId);
      return renewLease(prisma, { jobId: lockJobId(lock.tenantId, lock.resource), runKey: RUN_KEY, holder: lock.runId, now: lock.now, ttlMs: lock.ttlMs });
    },

    /** Deletes the lock's row if this run still holds it, so the next run starts at once. */
    async releaseRunLock(lock: Omit<RunLockInput, 'now'>): Promise<void> {
      assertTenantId(lock.tenantId);
      await abandonLease(prisma, { jobId: lockJobId(lock.tenantId, lock.resource), runKey: RUN_KEY, holder: lock.runId });
    },
  };
}
