import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createSchedulerService, type SchedulerService } from '../../src/scheduler/index.js';
import { acquireLease, deleteExpiredLeases, listLeases, releaseLease, renewLease } from '../../src/store/leases.js';
import { createLeaseCoordinator } from '../../src/scheduler/lease-coordinator.js';
import { silentLogger } from '../../src/logger.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/instance.ts');

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_sched' });
  await db.query('CREATE TABLE sched_marks (job_id text NOT NULL, tick timestamptz NOT NULL, instance text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())');
});
afterAll(async () => { await db?.drop(); });

async function reset() {
  await db.query('TRUNCATE sched_marks, shopify_scheduler_leases');
}

describe('lease SQL', () => {
  it('grants a tick once, blocks other ticks while held, and frees the job when released or expired', async () => {
    await reset();
    const t0 = new Date('2030-01-01T00:00:00Z');
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    const base = { jobId: 'customers-sync-t1', ttlMs: 10_000 };
    expect(await acquireLease(db.prisma, { ...base, runKey: 'k1', holder: 'a', now: t0 })).toEqual({ acquired: true });
    expect(await acquireLease(db.prisma, { ...base, runKey: 'k1', holder: 'b', now: t0 })).toEqual({ acquired: false, reason: 'taken', holder: 'a' });
    expect(await acquireLease(db.prisma, { ...base, runKey: 'k2', holder: 'b', now: at(5) })).toMatchObject({ acquired: false, reason: 'busy', holder: 'a', runKey: 'k1' });
    // another job is independent
    expect(await acquireLease(db.prisma, { ...base, jobId: 'orders-sync-t1', runKey: 'k2', holder: 'b', now: at(5) })).toEqual({ acquired: true });
    // renewal keeps it, by its holder only
    expect(await renewLease(db.prisma, { ...base, runKey: 'k1', holder: 'a', now: at(8) })).toBe(true);
    expect(await renewLease(db.prisma, { ...base, runKey: 'k1', holder: 'b', now: at(8) })).toBe(false);
    expect(await acquireLease(db.prisma, { ...base, runKey: 'k3', holder: 'b', now: at(15) })).toMatchObject({ reason: 'busy' });
    // expired (holder crashed): the next tick is taken over
    expect(await acquireLease(db.prisma, { ...base, runKey: 'k4', holder: 'b', now: at(19) })).toEqual({ acquired: true });
    // released: the next tick can run at once, the released tick cannot run again
    await releaseLease(db.prisma, { jobId: base.jobId, runKey: 'k4', holder: 'b', now: at(20) });
    expect(await acquireLease(db.prisma, { ...base, runKey: 'k4', holder: 'c', now: at(21) })).toMatchObject({ acquired: false, reason: 'taken' });
    expect(await acquireLease(db.prisma, { ...base, runKey: 'k5', holder: 'c', now: at(21) })).toEqual({ acquired: true });
    const leases = await listLeases(db.prisma, base.jobId);
    expect(leases.map((l) => [l.runKey, l.holder])).toEqual([['k5', 'c'], ['k4', 'b'], ['k1', 'a']]);
    expect(leases[1].expiresAt).toEqual(at(20));
    // cleanup removes what expired before the cutoff
    expect(await deleteExpiredLeases(db.prisma, at(25))).toBe(3); // k1, k4, orders k2
    expect((await listLeases(db.prisma)).map((l) => l.runKey)).toEqual(['k5']);
  });

  it('keeps the lease of a run that began and deletes one whose run never began (stopped while taking it)', async () => {
    await reset();
    const coordinator = createLeaseCoordinator(db.prisma, { jobId: 'j', holder: 'a', ttlMs: 5000, clock: () => new Date(), logger: silentLogger });
    expect(await coordinator.shouldRun('j:2030-01-01T00:00:00.000Z')).toBe(true);
    expect(await coordinator.shouldRun('j:manual:x:a')).toBe(false); // busy: the tick holds the job
    coordinator.begin(); // the scheduled run began; a manual key is never marked by it
    await coordinator.onComplete('j:2030-01-01T00:00:00.000Z');
    expect(await coordinator.shouldRun('j:2030-01-01T00:00:02.000Z')).toBe(true);
    await coordinator.onComplete('j:2030-01-01T00:00:02.000Z'); // never began
    expect(await coordinator.shouldRun('j:manual:y:a')).toBe(true);
    coordinator.begin('j:manual:y:a');
    await coordinator.onComplete('j:manual:y:a');
    expect((await listLeases(db.prisma, 'j')).map((l) => l.runKey)).toEqual(['manual:y:a', '2030-01-01T00:00:00.000Z']);
    expect(coordinator.held()).toEqual([]);
  });

  it('lets exactly one of many concurrent claimants win a tick', async () => {
    await reset();
    const now = new Date();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      acquireLease(db.prisma, { jobId: 'j', runKey: 'tick', holder: `h${i}`, now, ttlMs: 5000 })));
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
  });
});

describe('several schedulers on one database', () => {
  it('runs each tick once across two instances in one process', async () => {
    await reset();
    const marks: Array<{ tick: string; instance: string }> = [];
    const make = (instanceId: string): SchedulerService => {
      const s = createSchedulerService(db.prisma, null, {
        instanceId,
        syncConfig: { customers: { schedule: '* * * * * *' }, products: { enabled: false }, orders: { enabled: false }, fullSync: { enabled: false } },
        runJob: async (run) => { marks.push({ tick: run.scheduledFor!.toISOString(), instance: instanceId }); await sleep(50); },
      });
      s.addTenantJobs('t1');
      return s;
    };
    const a = make('a');
    const b = make('b');
    await Promise.all([a.startScheduler(), b.startScheduler()]);
    await sleep(3500);
    await Promise.all([a.stopScheduler({ waitMs: 1000 }), b.stopScheduler({ waitMs: 1000 })]);
    const ticks = marks.map((m) => m.tick);
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ticks).size).toBe(ticks.length);
    const [sa, sb] = [a.getStatus().jobs[0], b.getStatus().jobs[0]];
    expect(sa.runCount + sb.runCount).toBe(ticks.length);
    expect(sa.ranElsewhere + sb.ranElsewhere).toBeGreaterThanOrEqual(ticks.length - 1);
    expect(a.getStatus().distributed).toBe(true);
    const leases = await listLeases(db.prisma, 'customers-sync-t1');
    expect(leases.map((l) => l.runKey).sort()).toEqual([...ticks].sort());
  });
});

describe('lease cleanup', () => {
  it('deletes leases that expired longer ago than the retention when the scheduler starts', async () => {
    await reset();
    const now = new Date();
    const ago = (ms: number) => new Date(now.getTime() - ms);
    await acquireLease(db.prisma, { jobId: 'j', runKey: 'old', holder: 'x', now: ago(3 * 3600_000), ttlMs: 1000 });
    await acquireLease(db.prisma, { jobId: 'j', runKey: 'recent', holder: 'x', now: ago(30 * 60_000), ttlMs: 1000 });
    const s = createSchedulerService(db.prisma, null, { runJob: async () => 'ok', leaseRetentionMs: 3600_000, clock: () => now });
    await s.startScheduler();
    for (let i = 0; i < 50 && (await listLeases(db.prisma, 'j')).length === 2; i++) await sleep(50);
    await s.stopScheduler();
    expect((await listLeases(db.prisma, 'j')).map((l) => l.runKey)).toEqual(['recent']);
  });
});

describe('manual runs across instances', () => {
  it('refuses runJobNow while the job runs on another instance, and allows it after', async () => {
    await reset();
    let release!: () => void;
    const a = createSchedulerService(db.prisma, null, { instanceId: 'a', runJob: () => new Promise((r) => { release = () => r('a done'); }) });
    const b = createSchedulerService(db.prisma, null, { instanceId: 'b', runJob: async () => 'b done' });
    a.addTenantJobs('t1');
    b.addTenantJobs('t1');
    const running = a.runJobNow('products-sync-t1');
    await sleep(100);
    await expect(b.runJobNow('products-sync-t1')).rejects.toMatchObject({ code: 'SCHEDULER_JOB_BUSY', message: expect.stringMatching(/another instance/) });
    await expect(b.runJobNow('customers-sync-t1')).resolves.toBe('b done'); // other jobs are free
    release();
    await expect(running).resolves.toBe('a done');
    await expect(b.runJobNow('products-sync-t1')).resolves.toBe('b done');
    expect(b.getStatus().jobs.find((j) => j.id === 'products-sync-t1')!.skippedOverlaps).toBe(0);
    const leases = await listLeases(db.prisma, 'products-sync-t1');
    expect(leases.map((l) => l.holder)).toEqual(['b', 'a']);
    expect(leases.every((l) => l.runKey.startsWith('manual:'))).toBe(true);
  });
});

describe('several processes', () => {
  const children: ChildProcess[] = [];
  afterAll(() => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });

  function startInstance(instanceId: string, mode: 'normal' | 'hang', ttlMs: number): Promise<{ child: ChildProcess; output: () => string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, DATABASE_URL: db.url, INSTANCE_ID: instanceId, MODE: mode, LEASE_TTL_MS: String(ttlMs) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { err += d; });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`instance ${instanceId} not ready: ${err}`)), 90_000);
      child.stdout!.on('data', () => {
        if (out.includes('ready\n')) { clearTimeout(timer); resolve({ child, output: () => out }); }
      });
      child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`instance ${instanceId} exited ${code}: ${err}`)); });
    });
  }

  async function terminate(instance: { child: ChildProcess; output: () => string }): Promise<Record<string, unknown>> {
    const exited = new Promise((r) => instance.child.once('exit', r));
    instance.child.kill('SIGTERM');
    await exited;
    const lines = instance.output().trim().split('\n');
    return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
  }

  it('runs each scheduled tick on exactly one of three processes', async () => {
    await reset();
    const instances = await Promise.all(['p1', 'p2', 'p3'].map((id) => startInstance(id, 'normal', 5000)));
    const allReady = Date.now();
    await sleep(5000);
    const stopAt = Date.now();
    const statuses = await Promise.all(instances.map(terminate));

    const perTick = await db.query<{ tick: Date; n: number }>('SELECT tick, count(*)::int AS n FROM sched_marks GROUP BY tick ORDER BY tick');
    expect(perTick.filter((r) => r.n !== 1)).toEqual([]);
    // ticks kept running while all three were up (a starved CI machine may miss some: node-cron skips
    // a tick whose timer fires more than a second late, on every instance alike)
    const window = perTick.filter((r) => r.tick.getTime() > allReady && r.tick.getTime() < stopAt - 200);
    expect(window.length).toBeGreaterThanOrEqual(Math.floor((stopAt - 200 - allReady) / 2000));
    // each run had its lease, and the runs add up over the instances' own counts
    const [{ n: leases }] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM shopify_scheduler_leases WHERE job_id = 'customers-sync-t1'");
    expect(leases).toBe(perTick.length);
    expect(statuses.reduce((sum, s) => sum + (s.runCount as number), 0)).toBe(perTick.length);
  }, 120_000);

  it('takes over after a crashed instance\'s lease expires', async () => {
    await reset();
    const ttl = 3000;
    const stuck = await startInstance('crashing', 'hang', ttl);
    // wait until the stuck instance holds the job (its run never ends, its lease is renewed)
    for (let i = 0; i < 300 && (await db.query('SELECT 1 FROM sched_marks')).length === 0; i++) await sleep(100);
    const survivor = await startInstance('survivor', 'normal', ttl);
    await sleep(3500);
    expect(await db.query("SELECT 1 FROM sched_marks WHERE instance = 'survivor'")).toEqual([]);

    const killedAt = Date.now();
    stuck.child.kill('SIGKILL');
    let first: Array<{ tick: Date }> = [];
    for (let i = 0; i < 200 && first.length === 0; i++) {
      await sleep(100);
      first = await db.query<{ tick: Date }>("SELECT tick FROM sched_marks WHERE instance = 'survivor' ORDER BY tick LIMIT 1");
    }
    expect(first).toHaveLength(1);
    expect(first[0].tick.getTime()).toBeGreaterThan(killedAt - 1000);
    expect(first[0].tick.getTime()).toBeLessThan(killedAt + ttl + 8000);
    const status = await terminate(survivor);
    expect(status.skippedOverlaps as number).toBeGreaterThanOrEqual(1);
    expect(status.runCount as number).toBeGreaterThanOrEqual(1);
    const crashed = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM sched_marks WHERE instance = 'crashing'");
    expect(crashed[0].n).toBe(1);
  }, 120_000);
});
