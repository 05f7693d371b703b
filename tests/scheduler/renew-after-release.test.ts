/**
 * A lease renewal already sent when a run ends must not extend the finished run's lease: landing after
 * the release, it would push `expires_at` back to now + leaseTtlMs, and the job, running nowhere, would
 * be refused on every instance (ticks skipped as overlaps, runJobNow SCHEDULER_JOB_BUSY) until then.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createSchedulerService } from '../../src/scheduler/index.js';
import { listLeases } from '../../src/store/leases.js';
import type { SqlExecutor } from '../../src/store/prisma-like.js';

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_sched_renew' }); });
afterAll(async () => { await db?.drop(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An executor whose first lease renewal is slow to reach the database (a busy pool, a network hiccup). */
function slowRenewal(delayMs: number) {
  let renewalSent!: () => void;
  const sent = new Promise<void>((r) => { renewalSent = r; });
  let landed = false;
  let delayed = false;
  const sql: SqlExecutor = {
    $queryRawUnsafe: <T>(query: string, ...values: unknown[]) => db.prisma.$queryRawUnsafe<T>(query, ...values),
    $executeRawUnsafe: async (query: string, ...values: unknown[]) => {
      if (/^\s*UPDATE shopify_scheduler_leases SET expires_at = \$4::timestamptz/.test(query) && !delayed) {
        delayed = true;
        renewalSent();
        await sleep(delayMs);
        const n = await db.prisma.$executeRawUnsafe(query, ...values);
        landed = true;
        return n;
      }
      return db.prisma.$executeRawUnsafe(query, ...values);
    },
  };
  return { sql, sent, landed: () => landed };
}

describe('a lease renewal in flight when the run ends', () => {
  it('does not extend the finished run\'s lease', async () => {
    const { sql, sent, landed } = slowRenewal(400);
    const s = createSchedulerService(sql, null, {
      instanceId: 'renew-a',
      leaseTtlMs: 600, // heartbeat every 200 ms
      runJob: async () => { await sent; return 'done'; }, // ends while a renewal is on its way
    });
    s.addTenantJobs('t-renew');
    const jobId = 'products-sync-t-renew';
    await expect(s.runJobNow(jobId)).resolves.toBe('done');
    const finishedAt = Date.now();
    while (!landed()) await sleep(20);
    const [lease] = await listLeases(db.prisma, jobId);
    expect(lease!.expiresAt.getTime()).toBeLessThanOrEqual(finishedAt + 50);
  }, 20_000);

  it('leaves the job free: runJobNow right after the run is not refused as busy', async () => {
    const { sql, sent, landed } = slowRenewal(300);
    const s = createSchedulerService(sql, null, {
      instanceId: 'renew-b',
      leaseTtlMs: 5_000, // renewed every ~1.7 s
      runJob: async () => { await sent; return 'done'; },
    });
    s.addTenantJobs('t-renew2');
    const jobId = 'customers-sync-t-renew2';
    await expect(s.runJobNow(jobId)).resolves.toBe('done');
    while (!landed()) await sleep(20);
    await expect(s.runJobNow(jobId)).resolves.toBe('done');
  }, 20_000);
});
