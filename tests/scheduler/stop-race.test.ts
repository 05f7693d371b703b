/**
 * A tick whose lease is being taken when the scheduler is stopped (or the job disabled, or its tenant
 * removed) must not run once the lease is won: node-cron's Runner calls the task as soon as
 * shouldRun() resolves, without checking whether the task was stopped meanwhile. The lease of that
 * tick, whose run never began, is deleted. And a run whose job was removed while it ran is still
 * one of the runs stopScheduler({ abortRunning, waitMs }) aborts and waits for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createSchedulerService } from '../../src/scheduler/index.js';
import { listLeases } from '../../src/store/leases.js';
import type { SqlExecutor } from '../../src/store/prisma-like.js';
import { onlyScheduled } from '../helpers/schedules.js';
import { settle } from '../helpers/fake-clock.js';

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_sched_stop' }); });
afterAll(async () => { await db?.drop(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An executor whose lease claims wait until `open()`; `reached` resolves when one is waiting. */
function gatedExecutor() {
  let open!: () => void;
  const gate = new Promise<void>((r) => { open = r; });
  let hit!: () => void;
  const reached = new Promise<void>((r) => { hit = r; });
  let claims = 0;
  let settledClaims = 0;
  const sql: SqlExecutor = {
    $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) => {
      if (!/INSERT INTO shopify_scheduler_leases/.test(query)) return db.prisma.$queryRawUnsafe<T>(query, ...values);
      claims++;
      hit();
      await gate;
      try { return await db.prisma.$queryRawUnsafe<T>(query, ...values); } finally { settledClaims++; }
    },
    $executeRawUnsafe: (query: string, ...values: unknown[]) => db.prisma.$executeRawUnsafe(query, ...values),
  };
  return { sql, open, reached, claimsSettled: () => claims > 0 && settledClaims === claims };
}

const config = onlyScheduled({ customers: { schedule: '* * * * * *' }, products: { enabled: false }, orders: { enabled: false }, fullSync: { enabled: false } });

describe('stopping while a tick takes its lease', () => {
  for (const how of ['stopScheduler', 'disableJob', 'removeTenantJobs'] as const) {
    it(`${how}: the tick does not run, and its lease is deleted`, async () => {
      const { sql, open, reached, claimsSettled } = gatedExecutor();
      const runs: Array<{ aborted: boolean }> = [];
      const tenant = `t-${how}`;
      const jobId = `customers-sync-${tenant}`;
      const s = createSchedulerService(sql, null, {
        instanceId: `i-${how}`,
        syncConfig: config,
        runJob: async (run) => { runs.push({ aborted: run.signal.aborted }); await sleep(300); return 'ran'; },
      });
      s.addTenantJobs(tenant);
      await s.startScheduler();
      await reached; // a tick is taking its lease
      if (how === 'stopScheduler') await s.stopScheduler({ abortRunning: true, waitMs: 2000 });
      else if (how === 'disableJob') s.disableJob(jobId);
      else s.removeTenantJobs(tenant);
      expect(s.getStatus().runningJobs).toBe(0);
      open(); // the lease is won now
      await settle(claimsSettled, 'the claims');
      await sleep(500); // time for a run to start, and for the lease to be deleted
      await settle(async () => (await listLeases(db.prisma, jobId)).length === 0, 'the lease deleted', 2000).catch(() => {});
      const leases = await listLeases(db.prisma, jobId);
      await s.stopScheduler({ abortRunning: true, waitMs: 2000 });
      expect({ runs, leases: leases.map((l) => l.runKey) }).toEqual({ runs: [], leases: [] });
    }, 20_000);
  }
});

describe('a job removed while it runs', () => {
  it('stopScheduler({ abortRunning, waitMs }) still aborts its run and waits for it', async () => {
    const signals: AbortSignal[] = [];
    let finished = false;
    const s = createSchedulerService(null, null, {
      syncConfig: config,
      runJob: async (run) => {
        signals.push(run.signal);
        await new Promise((r) => { const t = setTimeout(r, 1500); run.signal.addEventListener('abort', () => { clearTimeout(t); setTimeout(r, 100); }); });
        finished = true;
        return 'ran';
      },
    });
    s.addTenantJobs('t-removed');
    const run = s.runJobNow('customers-sync-t-removed');
    await sleep(50);
    s.removeTenantJobs('t-removed'); // "a run in progress finishes"
    await s.stopScheduler({ abortRunning: true, waitMs: 3000 });
    const state = { aborted: signals[0]!.aborted, finishedBeforeStopReturned: finished };
    await run;
    expect(state).toEqual({ aborted: true, finishedBeforeStopReturned: true });
  }, 20_000);
});
