import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RESOURCE_NAMES, getResource } from '../../src/resources/index.js';
import { createSchedulerService, SchedulerError, SchedulerService, type ScheduledRun, type SyncConfigOverrides } from '../../src/scheduler/index.js';
import type { Logger } from '../../src/logger.js';
import { useFakeClock, type FakeClock } from '../helpers/fake-clock.js';

// Every test runs on a fake clock (see useFakeClock): node-cron fires at simulated times, so a
// test asserts exact run counts and times and takes milliseconds whatever the machine's speed.
// 2030-01-01 is a Tuesday; the clock starts between minutes, as a real process would.
const START = '2030-01-01T03:17:20.000Z';
const at = (iso: string) => new Date(iso);
/** The seed's jobs: the three resources it knew and the weekly full sync. */
const SEED_JOBS: readonly string[] = ['customers', 'products', 'orders', 'fullSync'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)); // on the fake clock

/** Only the customers job, every minute; the others (every resource of the registry) disabled so they never tick during a test. */
const everyMinute: SyncConfigOverrides = {
  ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { enabled: false }])),
  customers: { schedule: '* * * * *' },
  fullSync: { enabled: false },
};

function captureLogger() {
  const lines: Array<{ level: string; msg: string; meta?: Record<string, unknown> }> = [];
  const at = (level: string) => (msg: string, meta?: Record<string, unknown>) => { lines.push({ level, msg, meta }); };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

let clock: FakeClock;
const schedulers: SchedulerService[] = [];
function make(options: Parameters<typeof createSchedulerService>[2] = {}, clientManager: Parameters<typeof createSchedulerService>[1] = null) {
  const s = createSchedulerService(null, clientManager, options);
  schedulers.push(s);
  return s;
}
beforeEach(() => {
  clock = useFakeClock(START);
});
afterEach(async () => {
  for (const s of schedulers.splice(0)) await s.stopScheduler();
  clock.restore();
});

describe('jobs and status', () => {
  it('creates the seed\'s four jobs per tenant with the seed\'s ids and default schedules, and one per further resource of the registry', () => {
    const scheduler = make({ runJob: async () => 'ok' });
    expect(scheduler.addTenantJobs('tenant123')).toEqual([...RESOURCE_NAMES.map((name) => `${name}-sync-tenant123`), 'fullSync-sync-tenant123']);
    const status = scheduler.getStatus();
    expect(status).toMatchObject({ enabled: false, totalJobs: RESOURCE_NAMES.length + 1, runningJobs: 0, activeJobs: 0, timezone: 'UTC', distributed: false });
    expect(status.jobs.filter((j) => SEED_JOBS.includes(j.type)).map((j) => [j.id, j.resource, j.schedule, j.enabled, j.nextRunAt])).toEqual([
      ['customers-sync-tenant123', 'customers', '0 */6 * * *', true, null],
      ['products-sync-tenant123', 'products', '0 2 * * *', true, null],
      ['orders-sync-tenant123', 'orders', '*/30 * * * *', true, null],
      ['fullSync-sync-tenant123', 'all', '0 1 * * 0', true, null],
    ]);
    // The others take their schedule from their registry entry.
    for (const job of status.jobs.filter((j) => !SEED_JOBS.includes(j.type))) expect(job.schedule).toBe(getResource(job.resource).schedule.schedule);
    expect(status.jobs[0]).toMatchObject({ tenantId: 'tenant123', running: false, lastRunAt: null, lastError: null, skippedOverlaps: 0, runCount: 0 });
  });

  it('reports next-run times in UTC by default, and moves them on as ticks pass', async () => {
    const scheduler = make({ runJob: async () => 'ok' });
    scheduler.addTenantJobs('t1');
    await scheduler.startScheduler();
    const next = () => Object.fromEntries(scheduler.getStatus().jobs.filter((j) => SEED_JOBS.includes(j.type)).map((j) => [j.type, j.nextRunAt]));
    expect(scheduler.getStatus()).toMatchObject({ enabled: true, activeJobs: RESOURCE_NAMES.length + 1 });
    expect(next()).toEqual({
      customers: at('2030-01-01T06:00:00.000Z'), // 0 */6 * * *
      products: at('2030-01-02T02:00:00.000Z'), // 0 2 * * *
      orders: at('2030-01-01T03:30:00.000Z'), // */30 * * * *
      fullSync: at('2030-01-06T01:00:00.000Z'), // 0 1 * * 0: Sunday
    });
    await clock.advanceTo('2030-01-01T03:30:00.000Z');
    expect(next().orders).toEqual(at('2030-01-01T04:00:00.000Z'));
    expect(scheduler.getStatus().jobs.find((j) => j.type === 'orders')).toMatchObject({ runCount: 1, lastRunAt: at('2030-01-01T03:30:00.000Z'), lastTrigger: 'scheduled' });
  });

  it('runs the default schedule over a week: each job at its own times, the full sync once on Sunday', async () => {
    const ticks: Record<string, string[]> = { customers: [], products: [], orders: [], fullSync: [] };
    const scheduler = make({ runJob: async (run) => { (ticks[run.jobType] ??= []).push(run.scheduledFor!.toISOString()); } });
    scheduler.addTenantJobs('t1');
    await scheduler.startScheduler();
    await clock.advanceTo('2030-01-06T01:00:00.000Z');
    expect(ticks.fullSync).toEqual(['2030-01-06T01:00:00.000Z']);
    expect(ticks.products).toEqual(['02', '03', '04', '05'].map((d) => `2030-01-${d}T02:00:00.000Z`));
    // every 6 hours from 06:00 on Tuesday to midnight on Sunday
    expect(ticks.customers).toHaveLength(20);
    expect(ticks.customers.slice(0, 4)).toEqual(['06', '12', '18'].map((h) => `2030-01-01T${h}:00:00.000Z`).concat('2030-01-02T00:00:00.000Z'));
    expect(ticks.customers.at(-1)).toBe('2030-01-06T00:00:00.000Z');
    // every half hour from 03:30 on Tuesday to 01:00 on Sunday
    expect(ticks.orders).toHaveLength(236);
    expect([ticks.orders[0], ticks.orders.at(-1)]).toEqual(['2030-01-01T03:30:00.000Z', '2030-01-06T01:00:00.000Z']);
    expect(scheduler.getStatus().jobs.filter((j) => SEED_JOBS.includes(j.type)).map((j) => [j.type, j.runCount, j.skippedOverlaps, j.failureCount])).toEqual([
      ['customers', 20, 0, 0], ['products', 4, 0, 0], ['orders', 236, 0, 0], ['fullSync', 1, 0, 0],
    ]);
  });

  it('reads schedules in the configured time zone, per service and per tenant', async () => {
    // Every other resource's job off: half a year of their ticks on the fake clock takes longer than the test may.
    const productsOnly = { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { enabled: false }])), products: {}, fullSync: { enabled: false } };
    const scheduler = make({ runJob: async () => 'ok', timezone: 'America/New_York', syncConfig: productsOnly });
    scheduler.addTenantJobs('t1');
    scheduler.addTenantJobs('t2', { products: { timezone: 'Asia/Tokyo' } });
    await scheduler.startScheduler();
    const p1 = scheduler.getStatus().jobs.find((j) => j.id === 'products-sync-t1')!;
    const p2 = scheduler.getStatus().jobs.find((j) => j.id === 'products-sync-t2')!;
    // 03:17 UTC is 22:17 on Dec 31 in New York (EST, UTC-5) and 12:17 on Jan 1 in Tokyo (UTC+9).
    expect(p1.timezone).toBe('America/New_York');
    expect(p1.nextRunAt).toEqual(at('2030-01-01T07:00:00.000Z')); // 02:00 EST
    expect(p2.timezone).toBe('Asia/Tokyo');
    expect(p2.nextRunAt).toEqual(at('2030-01-01T17:00:00.000Z')); // 02:00 JST on Jan 2
    // Summer time: in July New York's 02:00 is 06:00 UTC.
    await clock.advanceTo('2030-07-01T12:00:00.000Z');
    expect(scheduler.getStatus().jobs.find((j) => j.id === 'products-sync-t1')!.nextRunAt).toEqual(at('2030-07-02T06:00:00.000Z'));
  });

  it('rejects an invalid cron expression or time zone, naming the job', () => {
    const scheduler = make({ runJob: async () => 'ok' });
    expect(() => scheduler.addTenantJobs('t1', { orders: { schedule: 'every half hour' } })).toThrow(/invalid cron expression "every half hour" for job orders-sync-t1/);
    expect(() => scheduler.addTenantJobs('t1', { orders: { timezone: 'Mars/Olympus' } })).toThrow(SchedulerError);
    expect(() => make({ timezone: 'Nowhere/City' })).toThrow(/unknown time zone/);
    expect(() => make({ syncConfig: { products: { schedule: '61 * * * *' } } })).toThrow(/invalid cron expression/);
    expect(scheduler.getStatus().totalJobs).toBe(0); // nothing half-added
  });

  it('refuses a job it does not have or a dateWindowDays that is not a positive number (CONFIG_INVALID), changing nothing', () => {
    const scheduler = make({ runJob: async () => 'ok' });
    scheduler.addTenantJobs('t1', { orders: { schedule: '*/5 * * * *' } });
    const before = scheduler.getStatus().jobs.map((j) => [j.id, j.schedule]);
    expect(() => scheduler.addTenantJobs('t1', { order: { enabled: false } } as SyncConfigOverrides)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('no job "order"') }));
    for (const days of [0, -7, 'seven', Number.NaN]) {
      expect(() => scheduler.addTenantJobs('t1', { orders: { dateWindowDays: days as number } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
    expect(scheduler.getStatus().jobs.map((j) => [j.id, j.schedule])).toEqual(before);
    expect(() => make({ syncConfig: { fullsync: { enabled: false } } as SyncConfigOverrides })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    // Every job the SDK has is accepted, windows of any positive length too.
    expect(() => scheduler.addTenantJobs('t1', { ...Object.fromEntries(RESOURCE_NAMES.map((n) => [n, { dateWindowDays: 0.5 }])), fullSync: { enabled: false } })).not.toThrow();
  });

  it('a job replaced while it runs (the tenant updated) stays running, busy and with its history; its run ends in it', async () => {
    let release!: () => void;
    const scheduler = make({ runJob: () => new Promise((resolve) => { release = () => resolve('done'); }) });
    scheduler.addTenantJobs('t1', everyMinute);
    const run = scheduler.runJobNow('customers-sync-t1');
    for (let i = 0; i < 5; i++) await Promise.resolve(); // the run has started (microtasks only: the clock is fake)
    scheduler.addTenantJobs('t1', { ...everyMinute, customers: { schedule: '*/5 * * * *' } });
    const job = () => scheduler.getStatus().jobs.find((j) => j.id === 'customers-sync-t1')!;
    expect(job()).toMatchObject({ running: true, schedule: '*/5 * * * *', runCount: 1 });
    await expect(scheduler.runJobNow('customers-sync-t1')).rejects.toMatchObject({ code: 'SCHEDULER_JOB_BUSY' });
    release();
    await expect(run).resolves.toBe('done');
    expect(job()).toMatchObject({ running: false, lastResult: 'done', runCount: 1, schedule: '*/5 * * * *' });
    expect(scheduler.getStatus().jobs.filter((j) => j.tenantId === 't1').length).toBe(RESOURCE_NAMES.length + 1);
  });

  it('schedules the tenants of the client manager on start', async () => {
    const clientManager = { getClient: () => ({}), clients: () => new Map([['shop-a', {}], ['shop-b', {}]]).entries() };
    const scheduler = make({ runJob: async () => 'ok' }, clientManager);
    scheduler.addTenantJobs('shop-a', { orders: { schedule: '*/5 * * * *' } });
    await scheduler.startScheduler();
    const ids = scheduler.getStatus().jobs.map((j) => j.id);
    expect(ids).toHaveLength(2 * (RESOURCE_NAMES.length + 1));
    expect(ids).toContain('fullSync-sync-shop-b');
    // the existing tenant keeps its own override
    expect(scheduler.getStatus().jobs.find((j) => j.id === 'orders-sync-shop-a')!.schedule).toBe('*/5 * * * *');
  });

  it('removes a tenant\'s jobs', async () => {
    const scheduler = make({ runJob: async () => 'ok' });
    scheduler.addTenantJobs('t1');
    scheduler.addTenantJobs('t2');
    await scheduler.startScheduler();
    expect(scheduler.removeTenantJobs('t1')).toBe(RESOURCE_NAMES.length + 1);
    expect(scheduler.getStatus().jobs.map((j) => j.tenantId)).toEqual(Array(RESOURCE_NAMES.length + 1).fill('t2'));
    expect(scheduler.removeTenantJobs('t1')).toBe(0);
  });

  it('webhookSubscriptions adds a subscription check per tenant, run with { repair } as jobType webhookSubscriptions; it needs a runner', async () => {
    expect(() => make({ webhookSubscriptions: { schedule: '0 4 * * *' } })).toThrow(SchedulerError);
    expect(() => make({ runJob: async () => null, webhookSubscriptions: { schedule: 'not cron' } })).toThrow(/invalid cron/);
    const runs: ScheduledRun[] = [];
    const scheduler = make({ runJob: async (run) => { runs.push(run); return 'checked'; }, webhookSubscriptions: { schedule: '0 4 * * *', repair: true } });
    scheduler.addTenantJobs('t1');
    const ids = scheduler.getStatus().jobs.map((j) => j.id);
    expect(ids).toEqual(expect.arrayContaining(['customers-sync-t1', 'orders-sync-t1', 'fullSync-sync-t1', 'webhookSubscriptions-t1']));
    expect(ids.filter((id) => id.startsWith('webhookSubscriptions-'))).toHaveLength(1);
    expect(await scheduler.runJobNow('webhookSubscriptions-t1')).toBe('checked');
    expect(runs).toEqual([expect.objectContaining({ jobType: 'webhookSubscriptions', tenantId: 't1', options: { repair: true } })]);
    expect(scheduler.removeTenantJobs('t1')).toBe(ids.length);
  });
});

describe('running', () => {
  it('runs a due job with the runner and records the result', async () => {
    const runs: ScheduledRun[] = [];
    const scheduler = make({ runJob: async (run) => { runs.push(run); return { imported: runs.length }; } });
    scheduler.addTenantJobs('t1', { ...everyMinute, customers: { schedule: '*/15 * * * *' } });
    await scheduler.startScheduler();
    await clock.advanceTo('2030-01-01T03:29:59.999Z');
    expect(runs).toEqual([]);
    await clock.advance(1);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      jobId: 'customers-sync-t1', tenantId: 't1', resource: 'customers', trigger: 'scheduled',
      scheduledFor: at('2030-01-01T03:30:00.000Z'), startedAt: at('2030-01-01T03:30:00.000Z'),
      options: { batchSize: 100, concurrency: 2, skipExisting: false },
    });
    expect(runs[0].signal).toBeInstanceOf(AbortSignal);
    await clock.advance(15 * 60_000);
    expect(runs.map((r) => r.scheduledFor)).toEqual([at('2030-01-01T03:30:00.000Z'), at('2030-01-01T03:45:00.000Z')]);
    expect(scheduler.getStatus().jobs[0]).toMatchObject({
      runCount: 2, lastResult: { imported: 2 }, lastRunAt: at('2030-01-01T03:45:00.000Z'), lastFinishedAt: at('2030-01-01T03:45:00.000Z'),
      lastDurationMs: 0, lastTrigger: 'scheduled', nextRunAt: at('2030-01-01T04:00:00.000Z'),
    });
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
      // each run takes two and a half minutes: it outlasts the next two ticks
      runJob: async () => { started++; active++; maxActive = Math.max(maxActive, active); await sleep(150_000); active--; return 'done'; },
    });
    scheduler.addTenantJobs('t1', everyMinute);
    await scheduler.startScheduler();
    await clock.advanceTo('2030-01-01T03:19:00.000Z');
    const during = scheduler.getStatus();
    expect(during.runningJobs).toBe(1);
    expect(during.jobs[0]).toMatchObject({ running: true, runningSince: at('2030-01-01T03:18:00.000Z'), skippedOverlaps: 1, lastSkippedAt: at('2030-01-01T03:19:00.000Z') });
    await clock.advanceTo('2030-01-01T03:20:30.000Z'); // 03:20 skipped; the first run ends
    expect(scheduler.getStatus().jobs[0]).toMatchObject({ running: false, runCount: 1, skippedOverlaps: 2, lastDurationMs: 150_000, lastResult: 'done' });
    await clock.advanceTo('2030-01-01T03:21:00.000Z');
    expect(started).toBe(2);
    expect(maxActive).toBe(1);
    expect(scheduler.getStatus().jobs[0]).toMatchObject({ running: true, runningSince: at('2030-01-01T03:21:00.000Z'), runCount: 2, skippedOverlaps: 2 });
    const warns = lines.filter((l) => l.level === 'warn' && /skipped/.test(l.msg));
    expect(warns).toHaveLength(2);
    expect(warns[0]!.meta).toMatchObject({ jobId: 'customers-sync-t1', tenantId: 't1', skippedOverlaps: 1, runningSince: '2030-01-01T03:18:00.000Z' });
  });

  it('records a failing run and keeps scheduling', async () => {
    const { logger, lines } = captureLogger();
    let n = 0;
    const scheduler = make({ logger, runJob: async () => { n++; throw new Error(`boom ${n}`); } });
    scheduler.addTenantJobs('t1', everyMinute);
    await scheduler.startScheduler();
    await clock.advanceTo('2030-01-01T03:19:00.000Z');
    expect(scheduler.getStatus().jobs[0]).toMatchObject({ runCount: 2, failureCount: 2, lastError: 'boom 2', lastResult: undefined, nextRunAt: at('2030-01-01T03:20:00.000Z') });
    expect(lines.filter((l) => l.level === 'error' && l.msg === 'scheduled job failed' && l.meta?.jobId === 'customers-sync-t1')).toHaveLength(2);
  });

  it('a run refused by the import lock (IMPORT_ALREADY_RUNNING) counts as a skipped tick, not a failure; runJobNow still rejects', async () => {
    const { logger, lines } = captureLogger();
    let calls = 0;
    const locked = Object.assign(new Error('customers sync of tenant t1 is already running (run R1)'), {
      code: 'IMPORT_ALREADY_RUNNING', details: { tenantId: 't1', resource: 'customers', runningRunId: 'R1' },
    });
    const scheduler = make({ logger, runJob: async () => { calls++; if (calls === 1) return 'first ok'; throw locked; } });
    scheduler.addTenantJobs('t1', everyMinute);
    await scheduler.runJobNow('customers-sync-t1');
    const before = scheduler.getStatus().jobs[0];
    await expect(scheduler.runJobNow('customers-sync-t1')).rejects.toMatchObject({ code: 'IMPORT_ALREADY_RUNNING' });
    await scheduler.startScheduler();
    await clock.advanceTo('2030-01-01T03:19:00.000Z'); // two ticks, both refused by the lock
    const job = scheduler.getStatus().jobs[0];
    expect(calls).toBe(4);
    expect(job).toMatchObject({
      failureCount: 0, lastError: null, lastResult: 'first ok', runCount: 1, lastRunAt: before.lastRunAt, lastTrigger: 'manual',
      skippedOverlaps: 3, lastSkippedAt: at('2030-01-01T03:19:00.000Z'),
    });
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
    scheduler.addTenantJobs('t1', everyMinute);
    await scheduler.startScheduler();
    expect(scheduler.disableJob('customers-sync-t1')).toBe(true);
    expect(scheduler.getStatus().jobs[0]).toMatchObject({ enabled: false, nextRunAt: null });
    await clock.advanceTo('2030-01-01T04:00:30.000Z');
    expect(runs).toBe(0);
    expect(scheduler.enableJob('customers-sync-t1')).toBe(true);
    expect(scheduler.getStatus().jobs[0]).toMatchObject({ enabled: true, nextRunAt: at('2030-01-01T04:01:00.000Z') });
    await clock.advanceTo('2030-01-01T04:01:00.000Z');
    expect(runs).toBe(1);
    expect(scheduler.enableJob('nope-sync-t1')).toBe(false);
    expect(scheduler.disableJob('nope-sync-t1')).toBe(false);
  });

  it('enabling a job before start schedules it on start; stopScheduler clears next runs', async () => {
    let runs = 0;
    const scheduler = make({ runJob: async () => { runs++; } });
    scheduler.addTenantJobs('t1', { ...everyMinute, customers: { schedule: '* * * * *', enabled: false } });
    scheduler.enableJob('customers-sync-t1');
    await scheduler.startScheduler();
    await clock.advanceTo('2030-01-01T03:18:00.000Z');
    expect(runs).toBe(1);
    await scheduler.stopScheduler();
    expect(scheduler.getStatus()).toMatchObject({ enabled: false, activeJobs: 0 });
    expect(scheduler.getStatus().jobs.every((j) => j.nextRunAt === null)).toBe(true);
    await clock.advance(60 * 60_000);
    expect(runs).toBe(1);
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

  it('a scheduled run\'s date window ends at its tick', async () => {
    const runs: ScheduledRun[] = [];
    const scheduler = make({ runJob: async (run) => { runs.push(run); } });
    scheduler.addTenantJobs('t1', { ...everyMinute, customers: { enabled: false }, orders: { dateWindowDays: 7 } });
    await scheduler.startScheduler();
    await clock.advanceTo('2030-01-01T03:30:00.000Z');
    expect(runs.map((r) => [r.scheduledFor, r.options.dateRange])).toEqual([
      [at('2030-01-01T03:30:00.000Z'), { from: '2029-12-25T03:30:00.000Z', to: '2030-01-01T03:30:00.000Z' }],
    ]);
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
    expect(scheduler.getStatus().jobs[2]).toMatchObject({ running: true });
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
    const stoppedAt = (stopping: Promise<void>) => stopping.then(() => Date.now());
    // Waits for the run to finish (300 ms), not the whole waitMs.
    const first = scheduler.runJobNow('customers-sync-t1');
    const t0 = Date.now();
    const firstStop = stoppedAt(scheduler.stopScheduler({ waitMs: 5000 }));
    await clock.advance(5000);
    expect(await firstStop).toBe(t0 + 300);
    expect(scheduler.getStatus().runningJobs).toBe(0);
    await expect(first).resolves.toBe('finished');
    // Gives up after waitMs; the run goes on.
    const second = scheduler.runJobNow('products-sync-t1');
    const t1 = Date.now();
    const secondStop = stoppedAt(scheduler.stopScheduler({ waitMs: 2000 }));
    await clock.advance(2000);
    expect(await secondStop).toBe(t1 + 2000);
    expect(scheduler.getStatus().runningJobs).toBe(1);
    // Aborting ends it without waiting.
    const t2 = Date.now();
    const thirdStop = stoppedAt(scheduler.stopScheduler({ waitMs: 2000, abortRunning: true }));
    await clock.advance(2000);
    expect(await thirdStop).toBe(t2);
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
    scheduler.addTenantJobs('t1', everyMinute);
    await scheduler.startScheduler();
    await clock.advanceTo('2030-01-01T03:19:00.000Z');
    expect(runs).toBe(0);
    expect(scheduler.getStatus().jobs[0]).toMatchObject({ runCount: 0, lastLeaseError: 'lease table unreachable at 2030-01-01T03:19:00.000Z' });
    expect(lines.filter((l) => l.level === 'error' && /lease table unreachable/.test(l.msg))).toHaveLength(2);
    expect(lines.some((l) => l.level === 'warn' && /lease cleanup failed/.test(l.msg))).toBe(true);
    await expect(scheduler.runJobNow('customers-sync-t1')).rejects.toMatchObject({ code: 'STORE_LEASE_FAILED' });
    expect(runs).toBe(0);
  });
});
