import type { SqlExecutor } from './prisma-like.js';
import { StoreError } from '../errors.js';

/**
 * SQL of the scheduler's run leases (table `shopify_scheduler_leases`, primary key `(job_id, run_key)`).
 *
 * A lease row means "instance `holder` runs tick `run_key` of job `job_id`". It serves two purposes:
 * - the primary key makes each tick run on exactly one instance (`INSERT ... ON CONFLICT DO NOTHING`);
 * - while `expires_at` is in the future it also blocks *other* ticks of the same job, so a run that
 *   outlasts its interval on one instance is not started again on another. The holder renews the
 *   lease while it runs; a crashed holder stops renewing, the lease expires, and the next tick is
 *   taken by a live instance.
 *
 * A finished run keeps its row (with `expires_at` set to the finish time) so an instance whose tick
 * fires late cannot run the same tick again; old rows are removed by {@link deleteExpiredLeases}.
 * A lease whose run never began is removed by {@link abandonLease}.
 */
export interface LeaseRow {
  jobId: string;
  runKey: string;
  holder: string;
  acquiredAt: Date;
  expiresAt: Date;
}

/** Why a lease was not granted: another instance took this tick, or the job is still running elsewhere. */
export type LeaseRefusal = { reason: 'taken'; holder: string } | { reason: 'busy'; holder: string; runKey: string; expiresAt: Date };

export type LeaseResult = { acquired: true } | ({ acquired: false } & LeaseRefusal) | { acquired: false; reason: 'unknown' };

function fail(op: string, cause: unknown, jobId?: string): never {
  throw new StoreError(`scheduler lease ${op} failed${jobId ? ` for job ${jobId}` : ''}: ${(cause as Error)?.message ?? String(cause)}`, { cause, details: { jobId }, code: 'STORE_LEASE_FAILED' });
}

/**
 * Tries to take the lease of one tick. Instances claiming the same tick race on the primary key.
 * Claims of *different* ticks of one job (`runJobNow` on two instances, or one and a tick) do not
 * meet on the key, and the "no other unexpired lease" check of one claim's INSERT does not see
 * another claim not yet committed: both could pass it. So claims of a job are serialised by an
 * advisory lock, and a granted claim is checked again once committed (see {@link withdrawIfLater}).
 * Two statements and no transaction, so any raw-SQL executor works (the scheduler takes one).
 *
 * @example
 * ```ts
 * const r = await acquireLease(prisma, { jobId: 'orders-sync-t1', runKey: '2025-03-10T12:30:00.000Z', holder: 'web-1', now: new Date(), ttlMs: 60_000 });
 * if (r.acquired) await run();
 * ```
 */
export async function acquireLease(
  db: SqlExecutor,
  lease: { jobId: string; runKey: string; holder: string; now: Date; ttlMs: number },
): Promise<LeaseResult> {
  const expiresAt = new Date(lease.now.getTime() + lease.ttlMs);
  try {
    // The lock is taken before the row is inserted (the row is made from the subquery, which is
    // neither flattened nor dropped: its function is volatile) and held until the statement
    // commits. It does not refresh the statement's snapshot, taken before the lock was granted.
    const rows = await db.$queryRawUnsafe<Array<{ holder: string }>>(
      `INSERT INTO shopify_scheduler_leases (job_id, run_key, holder, acquired_at, expires_at)
       SELECT $1, $2, $3, $4::timestamptz, $5::timestamptz
       FROM (SELECT pg_advisory_xact_lock(hashtext('shopify_scheduler_leases'), hashtext($1))) AS claim
       WHERE NOT EXISTS (
         SELECT 1 FROM shopify_scheduler_leases
         WHERE job_id = $1 AND run_key <> $2 AND expires_at > $4::timestamptz
       )
       ON CONFLICT (job_id, run_key) DO NOTHING
       RETURNING holder`,
      lease.jobId, lease.runKey, lease.holder, lease.now, expiresAt,
    );
    if (rows.length === 1) return (await withdrawIfLater(db, lease)) ?? { acquired: true };
    // Not granted: find out why, for the status (one extra read, only on the losing instances).
    const blockers = await db.$queryRawUnsafe<Array<{ run_key: string; holder: string; expires_at: Date }>>(
      `SELECT run_key, holder, expires_at FROM shopify_scheduler_leases
       WHERE job_id = $1 AND (run_key = $2 OR expires_at > $3::timestamptz)
       ORDER BY (run_key = $2) DESC LIMIT 1`,
      lease.jobId, lease.runKey, lease.now,
    );
    const b = blockers[0];
    if (!b) return { acquired: false, reason: 'unknown' };
    if (b.run_key === lease.runKey) return { acquired: false, reason: 'taken', holder: b.holder };
    return { acquired: false, reason: 'busy', holder: b.holder, runKey: b.run_key, expiresAt: new Date(b.expires_at) };
  } catch (cause) {
    return fail('acquire', cause, lease.jobId);
  }
}

/**
 * The second half of a granted claim, in a new statement, whose snapshot sees every claim committed
 * before ours. Claims of one job that passed the check together committed one after the other (the
 * lock), and took their transaction ids in that order, so the row with the oldest `xmin` is the
 * claim that came first: it keeps the job, and a later one deletes its own row and is refused as
 * busy. A row renewed since (its `expires_at` pushed past `acquired_at + ttl`, so a newer `xmin`)
 * is a run that already began: it wins too. Returns the refusal, or undefined when ours stands.
 */
async function withdrawIfLater(
  db: SqlExecutor,
  lease: { jobId: string; runKey: string; holder: string; now: Date; ttlMs: number },
): Promise<LeaseResult | undefined> {
  const earlier = await db.$queryRawUnsafe<Array<{ run_key: string; holder: string; expires_at: Date }>>(
    `WITH ours AS (
       SELECT xmin FROM shopify_scheduler_leases WHERE job_id = $1 AND run_key = $2 AND holder = $3
     ), earlier AS (
       SELECT l.run_key, l.holder, l.expires_at FROM shopify_scheduler_leases l, ours
       WHERE l.job_id = $1 AND l.run_key <> $2 AND l.expires_at > $4::timestamptz
         AND (age(l.xmin) > age(ours.xmin) OR l.expires_at > l.acquired_at + $5 * interval '1 millisecond')
       ORDER BY age(l.xmin) DESC LIMIT 1
     ), withdrawn AS (
       DELETE FROM shopify_scheduler_leases
       WHERE job_id = $1 AND run_key = $2 AND holder = $3 AND EXISTS (SELECT 1 FROM earlier)
     )
     SELECT run_key, holder, expires_at FROM earlier`,
    lease.jobId, lease.runKey, lease.holder, lease.now, lease.ttlMs,
  );
  const e = earlier[0];
  return e && { acquired: false, reason: 'busy', holder: e.holder, runKey: e.run_key, expiresAt: new Date(e.expires_at) };
}

/** Extends a held lease (heartbeat while the run lasts). Returns false when it is no longer ours. */
export async function renewLease(db: SqlExecutor, lease: { jobId: string; runKey: string; holder: string; now: Date; ttlMs: number }): Promise<boolean> {
  try {
    const n = await db.$executeRawUnsafe(
      `UPDATE shopify_scheduler_leases SET expires_at = $4::timestamptz
       WHERE job_id = $1 AND run_key = $2 AND holder = $3`,
      lease.jobId, lease.runKey, lease.holder, new Date(lease.now.getTime() + lease.ttlMs),
    );
    return n === 1;
  } catch (cause) {
    return fail('renew', cause, lease.jobId);
  }
}

/** Marks a run finished: the row stays (the tick is done) but no longer blocks the job's next ticks. */
export async function releaseLease(db: SqlExecutor, lease: { jobId: string; runKey: string; holder: string; now: Date }): Promise<void> {
  try {
    await db.$executeRawUnsafe(
      `UPDATE shopify_scheduler_leases SET expires_at = LEAST(expires_at, $4::timestamptz)
       WHERE job_id = $1 AND run_key = $2 AND holder = $3`,
      lease.jobId, lease.runKey, lease.holder, lease.now,
    );
  } catch (cause) {
    fail('release', cause, lease.jobId);
  }
}

/**
 * Deletes a lease whose run never began (the scheduler stopped between winning the tick and running
 * it), so the lease table only records ticks that ran. Only the holder's own row is removed.
 */
export async function abandonLease(db: SqlExecutor, lease: { jobId: string; runKey: string; holder: string }): Promise<void> {
  try {
    await db.$executeRawUnsafe(
      `DELETE FROM shopify_scheduler_leases WHERE job_id = $1 AND run_key = $2 AND holder = $3`,
      lease.jobId, lease.runKey, lease.holder,
    );
  } catch (cause) {
    fail('abandon', cause, lease.jobId);
  }
}

/** Deletes leases that expired before `before`; returns how many. */
export async function deleteExpiredLeases(db: SqlExecutor, before: Date): Promise<number> {
  try {
    return await db.$executeRawUnsafe(`DELETE FROM shopify_scheduler_leases WHERE expires_at < $1::timestamptz`, before);
  } catch (cause) {
    return fail('cleanup', cause);
  }
}

/** Leases of one job (or all), newest first; for status pages and tests. */
export async function listLeases(db: SqlExecutor, jobId?: string): Promise<LeaseRow[]> {
  try {
    const rows = await db.$queryRawUnsafe<Array<{ job_id: string; run_key: string; holder: string; acquired_at: Date; expires_at: Date }>>(
      `SELECT job_id, run_key, holder, acquired_at, expires_at FROM shopify_scheduler_leases
       WHERE $1::text IS NULL OR job_id = $1 ORDER BY acquired_at DESC, run_key DESC`,
      jobId ?? null,
    );
    return rows.map((r) => ({ jobId: r.job_id, runKey: r.run_key, holder: r.holder, acquiredAt: new Date(r.acquired_at), expiresAt: new Date(r.expires_at) }));
  } catch (cause) {
    return fail('list', cause, jobId);
  }
}
