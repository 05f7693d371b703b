import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createSchedulerService, type SchedulerService } from '../../src/scheduler/index.js';
import { acquireLease, deleteExpiredLeases, listLeases, releaseLease, renewLease } from '../../src/store/leases.js';
import { createLeaseCoordinator } from '../../src/scheduler/lease-coordinator.js';
import { silentLogger } from '../../src/logger.js';
import type { SqlExecutor } from '../../src/store/prisma-like.js';
import { settle, useFakeClock } from '../helpers/fake-clock.js';
import { onlyScheduled } from '../helpers/schedules.js';

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
    // node-cron ticks on a fake clock; the lease SQL runs for real between ticks.
    const clock = useFakeClock('2030-01-01T00:00:00.400Z');
    const marks: Array<{ tick: string; instance: string }> = [];
    // Lease SQL in flight: a tick is settled once its claims, runs and releases are all done.
    let inFlight = 0;
    const track = <T>(query: Promise<T>) => { inFlight++; return query.finally(() => { inFlight--; }); };
    const sql: SqlExecutor = {
      $queryRawUnsafe: <T>(query: string, ...values: unknown[]) => track(db.prisma.$queryRawUnsafe<T>(query, ...values)),
      $executeRawUnsafe: (query, ...values) => track(db.prisma.$executeRawUnsafe(query, ...values)),
    };
    const make = (instanceId: string): SchedulerService => {
      const s = createSchedulerService(sql, null, {
        instanceId,
        syncConfig: onlyScheduled({ customers: { schedule: '* * * * * *' }, products: { enabled: false }, orders: { enabled: false }, fullSync: { enabled: false } }),
        runJob: async (run) => { marks.push({ tick: run.scheduledFor!.toISOString(), instance: instanceId }); },
      });
      s.addTenantJobs('t1');
      return s;
    };
    const a = make('a');
    const b = make('b');
    const job = (s: SchedulerService) => s.getStatus().jobs[0]!;
    try {
      await Promise.all([a.startScheduler(), b.startScheduler()]);
      for (let n = 1; n <= 3; n++) {
        await clock.advance(1000);
        // Both instances have settled the tick: one ran it, the other saw it taken.
        await settle(() => inFlight === 0 && job(a).runCount + job(b).runCount === n && job(a).ranElsewhere + job(b).ranElsewhere === n, `tick ${n}`);
      }
    } finally {
      await Promise.all([a.stopScheduler({ waitMs: 1000 }), b.stopScheduler({ waitMs: 1000 })]);
      clock.restore();
    }
    const ticks = marks.map((m) => m.tick);
    expect(ticks).toEqual(['2030-01-01T00:00:01.000Z', '2030-01-01T00:00:02.000Z', '2030-01-01T00:00:03.000Z']);
    expect([a, b].map((s) => job(s).skippedOverlaps + job(s).failureCount)).toEqual([0, 0]);
    expect(a.getStatus().distributed).toBe(true);
    const leases = await listLeases(db.prisma, 'customers-sync-t1');
    expect(leases.map((l) => l.runKey).sort()).toEqual(ticks);
    expect(leases.map((l) => l.holder).sort()).toEqual(marks.map((m) => m.instance).sort());
  });
});

describe('lease cleanup', () => {
  it('deletes leases that expired longer ago than the retention when the scheduler starts', async () => {
    await reset();
    const now = new Date();
    const ago = (ms: number) => new Date(now.getTime() - ms);
    await acquireLease(db.prisma, { jobId: 'j', runKey: 'old', holder: 'x', now: ago(3 * 3600_000), ttlMs: 1000 });
    await acquireLease(db.prisma, { jobId: 'j', runKey: 'recent', holder: 'x', now: ago(30 * 60_000), ttlMs: 1000 });
    const s = createSchedulerService(db.database, null, { runJob: async () => 'ok', leaseRetentionMs: 3600_000, clock: () => now });
    await s.startScheduler();
    await settle(async () => (await listLeases(db.prisma, 'j')).length === 1, 'the cleanup');
    await s.stopScheduler();
    expect((await listLeases(db.prisma, 'j')).map((l) => l.runKey)).toEqual(['recent']);
  });
});

describe('manual runs across instances', () => {
  it('refuses runJobNow while the job runs on another instance, and allows it after', async () => {
    await reset();
    let release!: () => void;
    const a = createSchedulerService(db.database, null, { instanceId: 'a', runJob: () => new Promise((r) => { release = () => r('a done'); }) });
    const b = createSchedulerService(db.database, null, { instanceId: 'b', runJob: async () => 'b done' });
    a.addTenantJobs('t1');
    b.addTenantJobs('t1');
    const running = a.runJobNow('products-sync-t1');
    await settle(async () => (await listLeases(db.prisma, 'products-sync-t1')).length === 1, "a's lease");
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
  // Real processes on real time: what these prove (no tick runs twice; a crashed holder's lease
  // expires and another process takes over) needs separate clocks, timers and connections. They
  // wait for events (marks, skips), never for a fixed time, so a slow machine makes them slower, not red.
  interface Instance { child: ChildProcess; output: () => string; start(): Promise<void> }
  const children: ChildProcess[] = [];
  afterAll(() => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });

  /** Spawns an instance; resolves once it is loaded (`deferStart`) or scheduling. */
  function startInstance(instanceId: string, mode: 'normal' | 'hang', ttlMs: number, options: { deferStart?: boolean } = {}): Promise<Instance> {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, DATABASE_URL: db.url, INSTANCE_ID: instanceId, MODE: mode, LEASE_TTL_MS: String(ttlMs), START_ON_STDIN: options.deferStart ? '1' : '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { err += d; });
    const printed = (line: string) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`instance ${instanceId} did not print ${line}: ${err}`)), 90_000);
      const check = () => { if (out.includes(`${line}\n`)) { clearTimeout(timer); child.stdout!.off('data', check); resolve(); } };
      child.stdout!.on('data', check);
      check();
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`instance ${instanceId} exited ${code}: ${err}`)); });
    });
    const instance: Instance = {
      child,
      output: () => out,
      async start() {
        child.stdin!.write('start\n');
        await printed('ready');
      },
    };
    return printed(options.deferStart ? 'loaded' : 'ready').then(() => instance);
  }

  async function terminate(instance: Instance): Promise<Record<string, unknown>> {
    const exited = new Promise((r) => instance.child.once('exit', r));
    instance.child.kill('SIGTERM');
    await exited;
    const lines = instance.output().trim().split('\n');
    return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
  }

  /** Ticks an instance was refused because another instance's run held the job. */
  const skipsOf = (instance: Instance) => [...instance.output().matchAll(/^skip (\S+)$/gm)].map((m) => new Date(m[1]!));

  it('runs each scheduled tick on exactly one of three processes', async () => {
    await reset();
    const instances = await Promise.all(['p1', 'p2', 'p3'].map((id) => startInstance(id, 'normal', 5000)));
    const allReady = new Date();
    // Three ticks contended by all three. (A starved machine may miss some: node-cron skips a tick
    // whose timer fires more than a second late, on every instance alike; then this waits longer.)
    await settle(async () => (await db.query<{ n: number }>('SELECT count(DISTINCT tick)::int AS n FROM sched_marks WHERE tick > $1', [allReady]))[0]!.n >= 3,
      'three ticks with all instances up', 60_000);
    const statuses = await Promise.all(instances.map(terminate));

    const perTick = await db.query<{ tick: Date; n: number }>('SELECT tick, count(*)::int AS n FROM sched_marks GROUP BY tick ORDER BY tick');
    expect(perTick.filter((r) => r.n !== 1)).toEqual([]);
    // each run had its lease, and the runs add up over the instances' own counts
    const [{ n: leases }] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM shopify_scheduler_leases WHERE job_id = 'customers-sync-t1'");
    expect(leases).toBe(perTick.length);
    expect(statuses.reduce((sum, s) => sum + (s.runCount as number), 0)).toBe(perTick.length);
    expect(statuses.reduce((sum, s) => sum + (s.ranElsewhere as number), 0)).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('takes over after a crashed instance\'s lease expires', async () => {
    await reset();
    // Long enough that a heartbeat (every ttl/3) delayed by a loaded machine does not let the lease
    // lapse while its holder lives (seen at 3 s under a full parallel suite).
    const ttl = 6000;
    // The survivor loads while the other one starts; it starts scheduling once the job is held.
    const [stuck, survivor] = await Promise.all([startInstance('crashing', 'hang', ttl), startInstance('survivor', 'normal', ttl, { deferStart: true })]);
    // the stuck instance holds the job: its run never ends, its lease is renewed
    await settle(async () => (await db.query('SELECT 1 FROM sched_marks')).length > 0, 'the stuck run', 60_000);
    const [{ acquired_at: heldSince }] = await db.query<{ acquired_at: Date }>("SELECT acquired_at FROM shopify_scheduler_leases WHERE holder = 'crashing'");
    await survivor.start();
    // Refused even for a tick after the lease would have expired without its heartbeat.
    await settle(() => skipsOf(survivor).some((tick) => tick.getTime() > heldSince.getTime() + ttl), 'a refused tick after the first TTL', 60_000);
    expect(await db.query("SELECT 1 FROM sched_marks WHERE instance = 'survivor'")).toEqual([]);

    stuck.child.kill('SIGKILL');
    await new Promise((r) => stuck.child.once('exit', r));
    const [{ until }] = await db.query<{ until: Date }>("SELECT max(expires_at) AS until FROM shopify_scheduler_leases WHERE holder = 'crashing'");
    await settle(async () => (await db.query("SELECT 1 FROM sched_marks WHERE instance = 'survivor'")).length > 0, "the survivor's first run", 60_000);
    // Taken over only once the dead holder's lease had expired: the claim (its acquired_at is the
    // survivor's clock when it claimed) came at or after the lease's last expiry.
    const [first] = await db.query<{ acquired_at: Date }>("SELECT acquired_at FROM shopify_scheduler_leases WHERE holder = 'survivor' ORDER BY acquired_at LIMIT 1");
    expect(first!.acquired_at.getTime()).toBeGreaterThanOrEqual(until.getTime());
    const status = await terminate(survivor);
    expect(status.skippedOverlaps as number).toBeGreaterThanOrEqual(1);
    expect(status.runCount as number).toBeGreaterThanOrEqual(1);
    const crashed = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM sched_marks WHERE instance = 'crashing'");
    expect(crashed[0].n).toBe(1);
  }, 120_000);
});
