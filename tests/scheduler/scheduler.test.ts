import { afterEach, describe, expect, it } from 'vitest';
import { createSchedulerService, SchedulerError, SchedulerService, type ScheduledRun, type SyncConfigOverrides } from '../../src/scheduler/index.js';
import type { Logger } from '../../src/logger.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Only the customers job, every second; the others disabled so they never tick during a test. */
const everySecond: SyncConfigOverrides = {
  customers: { schedule: '* * * * * *' },
  products: { enabled: false },
  orders: { enabled: false },
  fullSync: { enabled: false },
};

function captureLogger() {
  const lines: Array<{ level: string; msg: string; meta?: Record<string, unknown> }> = [];
  const at = (level: string) => (msg: string, meta?: Record<string, unknown>) => { lines.push({ level, msg, meta }); };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

const schedulers: SchedulerService[] = [];
function make(options: Parameters<typeof createSchedulerService>[2] = {}, clientManager: Parameters<typeof createSchedulerService>[1] = null) {
  const s = createSchedulerService(null, clientManager, options);
  schedulers.push(s);
  return s;
}
afterEach(async () => {
  for (const s of schedulers.splice(0)) await s.stopScheduler();
});

describe('jobs and status', () => {
  it('creates the seed\'s four jobs per tenant with the seed\'s ids and default schedules', () => {
    const scheduler = make({ runJob: async () => 'ok' });
    expect(scheduler.addTenantJobs('tenant123')).toEqual([
      'customers-sync-tenant123', 'products-sync-tenant123', 'orders-sync-tenant123', 'fullSync-sync-tenant123',
    ]);
    const status = scheduler.getStatus();
    expect(status).toMatchObject({ enabled: false, totalJobs: 4, runningJobs: 0, activeJobs: 0, timezone: 'UTC', distributed: false });
    expect(status.jobs.map((j) => [j.id, j.resource, j.schedule, j.enabled, j.nextRunAt])).toEqual([
      ['customers-sync-tenant123', 'customers', '0 */6 * * *', true, null],
      ['products-sync-tenant123', 'products', '0 2 * * *', true, null],
      ['orders-sync-tenant123', 'orders', '*/30 * * * *', true, null],
      ['fullSync-sync-tenant123', 'all', '0 1 * * 0', true, null],
    ]);
    expect(status.jobs[0]).toMatchObject({ tenantId: 'tenant123', running: false, lastRunAt: null, lastError: null, skippedOverlaps: 0, runCount: 0 });
  });

  it('reports next-run times in UTC by default', async () => {
    const scheduler = make({ runJob: async () => 'ok' });
    scheduler.addTenantJobs('t1');
    await scheduler.startScheduler();
    const now = Date.now();
    const jobs = Object.fromEntries(scheduler.getStatus().jobs.map((j) => [j.type, j.nextRunAt!]));
    expect(scheduler.getStatus()).toMatchObject({ enabled: true, activeJobs: 4 });
    // customers: next hour divisible by 6, on the hour, within 6 hours
    expect(jobs.customers.getUTCHours() % 6).toBe(0);
    expect(jobs.customers.getUTCMinutes()).toBe(0);
    expect(jobs.customers.getTime()).toBeGreaterThan(now);
    expect(jobs.customers.getTime()).toBeLessThanOrEqual(now + 6 * 3600_000);
    // products: 02:00 UTC within a day
    expect([jobs.products.getUTCHours(), jobs.products.getUTCMinutes()]).toEqual([2, 0]);
    expect(jobs.products.getTime()).toBeLessThanOrEqual(now + 24 * 3600_000);
    // orders: the next :00 or :30
    expect(jobs.orders.getUTCMinutes() % 30).toBe(0);
    expect(jobs.orders.getTime()).toBeLessThanOrEqual(now + 30 * 60_000);
    // full sync: Sunday 01:00 UTC within a week
    expect([jobs.fullSync.getUTCDay(), jobs.fullSync.getUTCHours(), jobs.fullSync.getUTCMinutes()]).toEqual([0, 1, 0]);
    expect(jobs.fullSync.getTime()).toBeLessThanOrEqual(now + 7 * 24 * 3600_000);
  });

  it('reads schedules in the configured time zone, per service and per tenant', async () => {
    const scheduler = make({ runJob: async () => 'ok', timezone: 'America/New_York' });
    scheduler.addTenantJobs('t1');
    scheduler.addTenantJobs('t2', { products: { timezone: 'Asia/Tokyo' } });
    await scheduler.startScheduler();
    const hourIn = (d: Date, timeZone: string) => new Intl.DateTimeFormat('en-US', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
    const p1 = scheduler.getStatus().jobs.find((j) => j.id === 'products-sync-t1')!;
    const p2 = scheduler.getStatus().jobs.find((j) => j.id === 'products-sync-t2')!;
    expect(p1.timezone).toBe('America/New_York');
    expect(hourIn(p1.nextRunAt!, 'America/New_York')).toBe('02:00');
    expect([6, 7]).toContain(p1.nextRunAt!.getUTCHours()); // 02:00 EST/EDT
    expect(p2.timezone).toBe('Asia/Tokyo');
    expect(hourIn(p2.nextRunAt!, 'Asia/Tokyo')).toBe('02:00');
    expect(p2.nextRunAt!.getUTCHours()).toBe(17);
  });

  it('rejects an invalid cron expression or time zone, naming the job', () => {
    const scheduler = make({ runJob: async () => 'ok' });
    expect(() => scheduler.addTenantJobs('t1', { orders: { schedule: 'every half hour' } })).toThrow(/invalid cron expression "every half hour" for job orders-sync-t1/);
    expect(() => scheduler.addTenantJobs('t1', { orders: { timezone: 'Mars/Olympus' } })).toThrow(SchedulerError);
    expect(() => make({ timezone: 'Nowhere/City' })).toThrow(/unknown time zone/);
    expect(() => make({ syncConfig: { products: { schedule: '61 * * * *' } } })).toThrow(/invalid cron expression/);
    expect(scheduler.getStatus().totalJobs).toBe(0); // nothing half-added
  });

  it('schedules the tenants of the client manager on start', async () => {
    const clientManager = { getClient: () => ({}), clients: () => new Map([['shop-a', {}], ['shop-b', {}]]).entries() };
    const scheduler = make({ runJob: async () => 'ok' }, clientManager);
    scheduler.addTenantJobs('shop-a', { orders: { schedule: '*/5 * * * *' } });
    await scheduler.startScheduler();
    const ids = scheduler.getStatus().jobs.map((j) => j.id);
    expect(ids).toHaveLength(8);
    expect(ids).toContain('fullSync-sync-shop-b');
    // the existing tenant keeps its own override
    expect(scheduler.getStatus().jobs.find((j) => j.id === 'orders-sync-shop-a')!.schedule).toBe('*/5 * * * *');
  });

  it('removes a tenant\'s jobs', async () => {
    const scheduler = make({ runJob: async () => 'ok' });
    scheduler.addTenantJobs('t1');
    scheduler.addTenantJobs('t2');
    await scheduler.startScheduler();
    expect(scheduler.removeTenantJobs('t1')).toBe(4);
    expect(scheduler.getStatus().jobs.map((j) => j.tenantId)).toEqual(['t2', 't2', 't2', 't2']);
    expect(scheduler.removeTenantJobs('t1')).toBe(0);
  });
});

describe('running', () => {
  it('runs a due job with the runner and records the result', async () => {
    const runs: ScheduledRun[] = [];
    const scheduler = make({ runJob: async (run) => { runs.push(run); return { imported: runs.length }; } });
    scheduler.addTenantJobs('t1', everySecond);
    await scheduler.startScheduler();
    await sleep(2600);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs[0]).toMatchObject({ jobId: 'customers-sync-t1', tenantId: 't1', resource: 'customers', trigger: 'scheduled', options: { batchSize: 100, concurrency: 2, skipExisting: false } });
    expect(runs[0].signal).toBeInstanceOf(AbortSignal);
    const job = scheduler.getStatus().jobs[0];
    expect(job.runCount).toBe(runs.length);
    expect(job.lastResult).toEqual({ imported: runs.length });
    expect(job.lastRunAt).toBeInstanceOf(Date);
    expect(job.lastTrigger).toBe('scheduled');
    // disabled jobs never ran
    expect(runs.every((r) => r.resource === 'customers')).toBe(true);
  });

  it('skips a tick while the previous run is still going, and shows and logs the skip', async () => {
    const { logger, lines } = captureLogger();
    let active = 0;
    let maxActive = 0;
    let started = 0;
    const scheduler = make({
      logger,
      runJob: async () => { started++; active++; maxActive = Math.max(maxActive, active); await sleep(2200); active--; return 'done'; },
    });
    scheduler.addTenantJobs('t1', everySecond);
    await scheduler.startScheduler();
    await sleep(1500);
    const during = scheduler.getStatus();
    expect(during.runningJobs).toBe(1);
    expect(during.jobs[0]).toMatchObject({ running: true });
    expect(during.jobs[0].runningSince).toBeInstanceOf(Date);
    await sleep(1600);
    const job = scheduler.getStatus().jobs[0];
    expect(maxActive).toBe(1);
    expect(job.skippedOverlaps).toBeGreaterThanOrEqual(1);
    expect(job.lastSkippedAt).toBeInstanceOf(Date);
    expect(started).toBeLessThan(3);
    const warn = lines.find((l) => l.level === 'warn' && /skipped/.test(l.msg));
    expect(warn?.meta).toMatchObject({ jobId: 'customers-sync-t1', tenantId: 't1' });
  });

  it('records a failing run and keeps scheduling', async () => {
    const { logger, lines } = captureLogger();
    let n = 0;
    const scheduler = make({ logger, runJob: async () => { n++; throw new Error(`boom ${n}`); } });
    scheduler.addTenantJobs('t1', everySecond);
    await scheduler.startScheduler();
    await sleep(2600);
    const job = scheduler.getStatus().jobs[0];
    expect(job.failureCount).toBeGreaterThanOrEqual(2);
    expect(job.lastError).toBe(`boom ${n}`);
    expect(job.lastResult).toBeUndefined();
    expect(lines.some((l) => l.level === 'error' && l.msg === 'scheduled job failed' && l.meta?.jobId === 'customers-sync-t1')).toBe(true);
  });

  it('a run refused by the import lock (IMPORT_ALREADY_RUNNING) counts as a skipped tick, not a failure; runJobNow still rejects', async () => {
    const { logger, lines } = captureLogger();
    let calls = 0;
    const locked = Object.assign(new Error('customers sync of tenant t1 is already running (run R1)'), {
      code: 'IMPORT_ALREADY_RUNNING', details: { tenantId: 't1', resource: 'customers', runningRunId: 'R1' },
    });
    const scheduler = make({ logger, runJob: async () => { calls++; if (calls === 1) return 'first ok'; throw locked; } });
    scheduler.addTenantJobs('t1', everySecond);
    await scheduler.runJobNow('customers-sync-t1');
    const before = scheduler.getStatus().jobs[0];
    await expect(scheduler.runJobNow('customers-sync-t1')).rejects.toMatchObject({ code: 'IMPORT_ALREADY_RUNNING' });
    await scheduler.startScheduler();
    for (let i = 0; i < 40 && calls < 3; i++) await sleep(100);
    await sleep(50);
    const job = scheduler.getStatus().jobs[0];
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(job).toMatchObject({ failureCount: 0, lastError: null, lastResult: 'first ok', runCount: 1, lastRunAt: before.lastRunAt, lastTrigger: 'manual' });
    expect(job.skippedOverlaps).toBe(calls - 1);
    expect(job.lastSkippedAt).toBeInstanceOf(Date);
    const warn = lines.find((l) => l.level === 'warn' && /another run is importing/.test(l.msg));
    expect(warn?.meta).toMatchObject({ jobId: 'customers-sync-t1', reason: 'resource-locked', runningRunId: 'R1' });
    expect(lines.some((l) => l.msg === 'scheduled job failed')).toBe(false);
  });

  it('the weekly full sync is told to wait for a locked resource; the other jobs are not', async () => {
    const runs: ScheduledRun[] = [];
    const scheduler = make({ runJob: async (run) => { runs.push(run); } });
    scheduler.addTenantJobs('t1');
    for (const type of ['fullSync', 'customers', 'products', 'orders']) await scheduler.runJobNow(`${type}-sync-t1`);
    expect(runs.map((r) => [r.jobType, r.options.waitForLockMs])).toEqual([
      ['fullSync', 30 * 60_000], ['customers', undefined], ['products', undefined], ['orders', undefined],
    ]);
  });

  it('disableJob stops the ticks, enableJob resumes them; unknown ids return false', async () => {
    let runs = 0;
    const scheduler = make({ runJob: async () => { runs++; } });
    scheduler.addTenantJobs('t1', everySecond);
    await scheduler.startScheduler();
    expect(scheduler.disableJob('customers-sync-t1')).toBe(true);
    expect(scheduler.getStatus().jobs[0]).toMatchObject({ enabled: false, nextRunAt: null });
    await sleep(1500);
    expect(runs).toBe(0);
    expect(scheduler.enableJob('customers-sync-t1')).toBe(true);
    expect(scheduler.getStatus().jobs[0].enabled).toBe(true);
    expect(scheduler.getStatus().jobs[0].nextRunAt).toBeInstanceOf(Date);
    await sleep(1500);
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(scheduler.enableJob('nope-sync-t1')).toBe(false);
    expect(scheduler.disableJob('nope-sync-t1')).toBe(false);
  });

  it('enabling a job before start schedules it on start; stopScheduler clears next runs', async () => {
    let runs = 0;
    const scheduler = make({ runJob: async () => { runs++; } });
    scheduler.addTenantJobs('t1', { ...everySecond, customers: { schedule: '* * * * * *', enabled: false } });
    scheduler.enableJob('customers-sync-t1');
    await scheduler.startScheduler();
    await sleep(1300);
    expect(runs).toBeGreaterThanOrEqual(1);
    await scheduler.stopScheduler();
    const after = runs;
    expect(scheduler.getStatus()).toMatchObject({ enabled: false, activeJobs: 0 });
    expect(scheduler.getStatus().jobs.every((j) => j.nextRunAt === null)).toBe(true);
    await sleep(1200);
    expect(runs).toBe(after);
  });

  it('runs incremental jobs by default; a configured dateWindowDays window is computed when each run starts, not when configured', async () => {
    let now = new Date('2025-03-10T12:00:00.000Z');
    const runs: ScheduledRun[] = [];
    const scheduler = make({ clock: () => now, runJob: async (run) => { runs.push(run); } });
    scheduler.addTenantJobs('t0');
    await scheduler.runJobNow('orders-sync-t0');
    expect(runs.shift()!.options.dateRange).toBeUndefined();
    scheduler.addTenantJobs('t1', { orders: { dateWindowDays: 7 } });
    await scheduler.runJobNow('orders-sync-t1');
    now = new Date('2025-03-20T08:30:00.000Z');
    await scheduler.runJobNow('orders-sync-t1');
    expect(runs.map((r) => r.options.dateRange)).toEqual([
      { from: '2025-03-03T12:00:00.000Z', to: '2025-03-10T12:00:00.000Z' },
      { from: '2025-03-13T08:30:00.000Z', to: '2025-03-20T08:30:00.000Z' },
    ]);
    expect(runs[0]).toMatchObject({ trigger: 'manual', resource: 'orders', options: { batchSize: 50, concurrency: 3 } });
    // other resources get no window; fullSync imports everything
    await scheduler.runJobNow('fullSync-sync-t1');
    expect(runs[2]).toMatchObject({ resource: 'all', jobType: 'fullSync' });
    expect(runs[2].options.dateRange).toBeUndefined();
    // an explicit window in the config wins
    scheduler.addTenantJobs('t2', { orders: { options: { dateRange: { from: '2024-01-01T00:00:00Z' } } } });
    await scheduler.runJobNow('orders-sync-t2');
    expect(runs[3].options.dateRange).toEqual({ from: '2024-01-01T00:00:00Z' });
    expect(scheduler.getStatus().jobs.find((j) => j.id === 'orders-sync-t1')).toMatchObject({ lastRunAt: now, lastTrigger: 'manual', runCount: 2 });
  });

  it('runJobNow returns the result, rethrows failures, refuses a busy job and unknown ids', async () => {
    let release!: () => void;
    const scheduler = make({
      runJob: async (run) => {
        if (run.resource === 'products') throw new Error('products failed');
        if (run.resource === 'orders') await new Promise<void>((r) => { release = r; });
        return `${run.resource} ok`;
      },
    });
    scheduler.addTenantJobs('t1');
    await expect(scheduler.runJobNow('customers-sync-t1')).resolves.toBe('customers ok');
    await expect(scheduler.runJobNow('products-sync-t1')).rejects.toThrow('products failed');
    expect(scheduler.getStatus().jobs[1]).toMatchObject({ failureCount: 1, lastError: 'products failed' });
    const pending = scheduler.runJobNow('orders-sync-t1');
    await sleep(10);
    await expect(scheduler.runJobNow('orders-sync-t1')).rejects.toMatchObject({ code: 'SCHEDULER_JOB_BUSY' });
    release();
    await expect(pending).resolves.toBe('orders ok');
    await expect(scheduler.runJobNow('x-sync-t1')).rejects.toMatchObject({ code: 'SCHEDULER_JOB_NOT_FOUND' });
  });

  it('stopScheduler waits for running jobs up to waitMs and can abort them', async () => {
    let aborted = false;
    const scheduler = make({
      runJob: (run) => new Promise((resolve) => {
        const timer = setTimeout(() => resolve('finished'), run.resource === 'customers' ? 300 : 60_000);
        run.signal.addEventListener('abort', () => { aborted = true; clearTimeout(timer); resolve('aborted'); });
      }),
    });
    scheduler.addTenantJobs('t1');
    const first = scheduler.runJobNow('customers-sync-t1');
    await sleep(10);
    await scheduler.stopScheduler({ waitMs: 5000 });
    expect(scheduler.getStatus().runningJobs).toBe(0);
    await expect(first).resolves.toBe('finished');
    const second = scheduler.runJobNow('products-sync-t1');
    await sleep(10);
    const t0 = Date.now();
    await scheduler.stopScheduler({ waitMs: 2000, abortRunning: true });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(aborted).toBe(true);
    await expect(second).resolves.toBe('aborted');
  });
});

describe('lease table failures', () => {
  it('skips ticks (fail-closed) when the lease table cannot be reached, and says so', async () => {
    const { logger, lines } = captureLogger();
    const down = async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:5432'); };
    const db = { $queryRawUnsafe: down, $executeRawUnsafe: down };
    let runs = 0;
    const scheduler = createSchedulerService(db, null, { logger, runJob: async () => { runs++; } });
    schedulers.push(scheduler);
    scheduler.addTenantJobs('t1', everySecond);
    await scheduler.startScheduler();
    await sleep(2300);
    expect(runs).toBe(0);
    expect(scheduler.getStatus().jobs[0].lastLeaseError).toMatch(/^lease table unreachable at /);
    expect(lines.some((l) => l.level === 'error' && /lease table unreachable/.test(l.msg))).toBe(true);
    expect(lines.some((l) => l.level === 'warn' && /lease cleanup failed/.test(l.msg))).toBe(true);
    await expect(scheduler.runJobNow('customers-sync-t1')).rejects.toMatchObject({ code: 'STORE_LEASE_FAILED' });
    expect(runs).toBe(0);
  });
});
