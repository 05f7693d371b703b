/**
 * Two claims of one job with different run keys at the same moment (runJobNow on two instances:
 * `manual:<time>:<instance>`; or a manual run and a tick) must not both be granted: the job would run
 * on two instances at once. A "no other unexpired lease" check inside the claim's own INSERT does not
 * see the other claim's uncommitted row, so the claims are serialised per job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { acquireLease, listLeases, type LeaseResult } from '../../src/store/leases.js';
import { createSchedulerService } from '../../src/scheduler/index.js';
import type { SqlExecutor } from '../../src/store/prisma-like.js';

let db: TestDatabase;
const pools: pg.Pool[] = [];
beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_sched_race' }); });
afterAll(async () => { for (const p of pools) await p.end(); await db?.drop(); });

/** A plain raw-SQL executor on its own pool: one app instance's connections. */
function executor(): SqlExecutor {
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pools.push(pool);
  return {
    $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) => (await pool.query(query, values)).rows as T,
    $executeRawUnsafe: async (query: string, ...values: unknown[]) => (await pool.query(query, values)).rowCount ?? 0,
  };
}

/** Claims `pairs` jobs from two executors at once; counts the jobs granted to both and to neither. */
async function race(a: SqlExecutor, b: SqlExecutor, pairs: number, prefix: string) {
  let both = 0;
  let neither = 0;
  for (let i = 0; i < pairs; i++) {
    const jobId = `${prefix}-${i}`;
    const now = new Date();
    const [ra, rb]: LeaseResult[] = await Promise.all([
      acquireLease(a, { jobId, runKey: `manual:${now.toISOString()}:a`, holder: 'a', now, ttlMs: 60_000 }),
      acquireLease(b, { jobId, runKey: i % 2 ? `manual:${now.toISOString()}:b` : '2030-01-01T00:00:00.000Z', holder: 'b', now, ttlMs: 60_000 }),
    ]);
    if (ra.acquired && rb.acquired) both++;
    if (!ra.acquired && !rb.acquired) neither++;
  }
  return { both, neither };
}

describe('concurrent claims of one job with different run keys', () => {
  it('grants exactly one of them (two instances, each with its own connections)', async () => {
    const a = executor();
    const b = executor();
    await Promise.all([a.$queryRawUnsafe('SELECT 1'), b.$queryRawUnsafe('SELECT 1')]);
    expect(await race(a, b, 200, 'pool')).toEqual({ both: 0, neither: 0 });
    // The loser's row is gone: each job has the one lease of the claim that won.
    const leases = await listLeases(db.prisma);
    expect(leases.filter((l) => l.jobId.startsWith('pool-'))).toHaveLength(200);
  }, 60_000);

  it('grants exactly one of them (through one PrismaClient)', async () => {
    await db.prisma.$queryRawUnsafe('SELECT 1');
    expect(await race(db.prisma, db.prisma, 100, 'prisma')).toEqual({ both: 0, neither: 0 });
  }, 60_000);

  it('runJobNow on two instances at once: never both running, the other refused as busy', async () => {
    let running = 0;
    let maxRunning = 0;
    const runJob = async () => { running++; maxRunning = Math.max(maxRunning, running); await new Promise((r) => setTimeout(r, 30)); running--; return 'ok'; };
    const s1 = createSchedulerService(executor(), null, { instanceId: 'one', runJob });
    const s2 = createSchedulerService(executor(), null, { instanceId: 'two', runJob });
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const tenant = `race${i}`;
      s1.addTenantJobs(tenant);
      s2.addTenantJobs(tenant);
      const settled = await Promise.allSettled([s1.runJobNow(`customers-sync-${tenant}`), s2.runJobNow(`customers-sync-${tenant}`)]);
      const key = settled.map((s) => (s.status === 'fulfilled' ? 'ran' : (s.reason as { code?: string }).code)).sort().join('+');
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    // Never both at once, never neither. (Both, one after the other, would be allowed: a claim that
    // reaches the database after the other run ended, on a loaded machine, runs the job again.)
    expect({ maxRunning, bothRefused: outcomes.get('SCHEDULER_JOB_BUSY+SCHEDULER_JOB_BUSY') ?? 0 }).toEqual({ maxRunning: 1, bothRefused: 0 });
    expect(outcomes.get('SCHEDULER_JOB_BUSY+ran')).toBeGreaterThan(0);
  }, 60_000);
});
