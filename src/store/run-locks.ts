import { assertTenantId } from '../errors.js';
import type { PrismaLike } from './prisma-like.js';
import { storeFailure } from './store-errors.js';
import type { RunLockInput, RunLockResult } from './types.js';

/**
 * One sync run per tenant and resource at a time, across processes: a row of `shopify_run_locks`
 * (primary key `(tenant_id, resource)`) held by a run id until `expires_at`. The holder renews it
 * while it runs and deletes it when it ends; a holder that died stops renewing, and the lock can be
 * taken once it expired. Two runs racing for it meet on the primary key:
 * `INSERT ... ON CONFLICT DO UPDATE ... WHERE expired` lets exactly one win.
 *
 * The scheduler's leases (`shopify_scheduler_leases`) elect which instance runs a tick; this lock
 * guards the resource whatever started the run (a tick, `importData`, the CLI), so it has its own
 * table: a lease row outlives its run (it records the tick), a run lock does not.
 */
/**
 * SQL condition: the run `alias` (a `shopify_sync_runs` row) holds its run lock and the lock has
 * not expired at `nowParam` (a timestamptz parameter). Kept beside the lock's layout.
 */
export function runLockHeldSql(alias: string, nowParam: string): string {
  return `EXISTS (SELECT 1 FROM "shopify_run_locks" rl
    WHERE rl."tenant_id" = ${alias}."tenant_id" AND rl."resource" = ${alias}."resource"
      AND rl."run_id" = ${alias}."id" AND rl."expires_at" > ${nowParam})`;
}

export function createRunLockStore(prisma: PrismaLike) {
  return {
    async acquireRunLock(lock: RunLockInput & { ttlMs: number }): Promise<RunLockResult> {
      assertTenantId(lock.tenantId);
      try {
        const won = await prisma.$queryRawUnsafe<Array<{ run_id: string }>>(
          `INSERT INTO "shopify_run_locks" AS l ("tenant_id", "resource", "run_id", "acquired_at", "expires_at")
           VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz)
           ON CONFLICT ("tenant_id", "resource") DO UPDATE
             SET "run_id" = excluded."run_id", "acquired_at" = excluded."acquired_at", "expires_at" = excluded."expires_at"
             WHERE l."expires_at" <= excluded."acquired_at" OR l."run_id" = excluded."run_id"
           RETURNING "run_id"`,
          lock.tenantId, lock.resource, lock.runId, lock.now, new Date(lock.now.getTime() + lock.ttlMs),
        );
        if (won.length === 1) return { acquired: true };
        const held = await prisma.$queryRawUnsafe<Array<{ run_id: string; acquired_at: Date; expires_at: Date }>>(
          `SELECT "run_id", "acquired_at", "expires_at" FROM "shopify_run_locks" WHERE "tenant_id" = $1 AND "resource" = $2`,
          lock.tenantId, lock.resource,
        );
        // Released between the two statements: report it as held by nobody; the caller may try again.
        const h = held[0];
        return h
          ? { acquired: false, runId: h.run_id, acquiredAt: new Date(h.acquired_at), expiresAt: new Date(h.expires_at) }
          : { acquired: false, runId: null, acquiredAt: null, expiresAt: null };
      } catch (error) {
        throw storeFailure('acquireRunLock', lock.tenantId, error, { resource: lock.resource, runId: lock.runId });
      }
    },

    /**
     * Extends the lock to `now + ttlMs` if this run still holds it and its tenant is active: false once
     * another run took it, or once the tenant was deactivated (app/uninstalled applied by any process),
     * so a run in another process stops at its next renewal instead of calling Shopify with a revoked token.
     */
    async renewRunLock(lock: RunLockInput & { ttlMs: number }): Promise<boolean> {
      assertTenantId(lock.tenantId);
      try {
        const n = await prisma.$executeRawUnsafe(
          `UPDATE "shopify_run_locks" SET "expires_at" = $4::timestamptz WHERE "tenant_id" = $1 AND "resource" = $2 AND "run_id" = $3`
          + ` AND EXISTS (SELECT 1 FROM "shopify_tenants" WHERE "id" = $1 AND "is_active")`,
          lock.tenantId, lock.resource, lock.runId, new Date(lock.now.getTime() + lock.ttlMs),
        );
        return n === 1;
      } catch (error) {
        throw storeFailure('renewRunLock', lock.tenantId, error, { resource: lock.resource, runId: lock.runId });
      }
    },

    /** Deletes the lock if this run still holds it, so the next run starts at once. */
    async releaseRunLock(lock: Omit<RunLockInput, 'now'>): Promise<void> {
      assertTenantId(lock.tenantId);
      try {
        await prisma.$executeRawUnsafe(
          `DELETE FROM "shopify_run_locks" WHERE "tenant_id" = $1 AND "resource" = $2 AND "run_id" = $3`,
          lock.tenantId, lock.resource, lock.runId,
        );
      } catch (error) {
        throw storeFailure('releaseRunLock', lock.tenantId, error, { resource: lock.resource, runId: lock.runId });
      }
    },
  };
}
