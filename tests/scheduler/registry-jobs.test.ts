/**
 * The scheduler, resource by resource of the registry (every test loops over `RESOURCES`, so a new
 * resource is covered without editing this file), held to docs/scheduling.md and
 * docs/configuration.md:
 *
 * 1. The documented defaults: the schedule table of docs/scheduling.md and the scheduler paragraph of
 *    docs/configuration.md agree with `DEFAULT_SYNC_CONFIG`; every resource's job has the id
 *    `<resource>-sync-<tenant>`, its registry entry's schedule and options, and ticks (on a fake
 *    clock) exactly at the times of its cron expression, running its resource only.
 * 2. Configuration: service-wide and per-tenant overrides layer job by job and key by key; a
 *    disabled job never ticks; a bad cron expression or time zone, service-wide or per tenant, throws
 *    a `SchedulerError` naming the job and leaves the tenant's jobs as they were.
 * 3. Through the ingestion service, on PostgreSQL with the simulator as Shopify: `runJobNow` imports
 *    that resource only (rows stored, one `shopify_sync_runs` row: `full` first, `incremental` next);
 *    the weekly job imports the tenant's resources in full; a tick that meets the resource's run lock
 *    is a skipped tick, not a failure; a failing tick is counted and shows in `getStatus()` with its
 *    error code; a tenant that needs re-authorisation, or was deactivated by another instance, is
 *    skipped; `addTenant` / `updateTenant` / `removeTenant` leave exactly the jobs their configuration
 *    asks for (a randomised sequence: the seed is printed, `SCHEDULER_CONFIG_SEED=<n>` replays it), and
 *    a restarted instance restores the same jobs.
 *
 * Found by this test: `getStatus()` gave a failed run's message but not its code (`lastErrorCode`);
 * `SCHEDULER_JOB_BUSY` was not `retryable` (docs/errors.md says it is); an unknown time zone in the
 * service-wide `syncConfig` was accepted, then made every tenant's `addTenantJobs` throw (the
 * ingestion service's `initialize()` logs such a tenant and leaves it unscheduled); a field of an
 * override given as `undefined` replaced the default (`enabled: undefined` disabled the job, `schedule:
 * undefined` threw), unlike the same override stored as JSON and restored after a restart.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createIngestionService, SchedulerError, type IngestionService, type Logger } from '../../src/index.js';
import { tablesOf, type ResourceDefinition } from '../../src/resources/definition.js';
import { RESOURCE_NAMES, RESOURCES, type ResourceName } from '../../src/resources/index.js';
import {
  createSchedulerService, DEFAULT_SYNC_CONFIG, syncJobId, type ScheduledRun, type SchedulerJobStatus, type SchedulerService, type SyncConfigOverrides,
} from '../../src/scheduler/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { useFakeClock, type FakeClock } from '../helpers/fake-clock.js';

const DEFINITIONS = RESOURCES as unknown as readonly ResourceDefinition[];
const docs = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

// ---------------------------------------------------------------------------------------------
// A cron oracle written from crontab(5), independent of node-cron: 5 fields, `*`, `a`, `a-b`,
// `*/n`, `a-b/n`, lists; day of month and day of week are ORed when both are restricted. Read in UTC.
// ---------------------------------------------------------------------------------------------
const FIELD_RANGES: Array<[number, number]> = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];
function fieldValues(field: string, [lo, hi]: [number, number]): Set<number> {
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    const [from, to] = range === '*' ? [lo, hi] : range!.includes('-') ? range!.split('-').map(Number) as [number, number] : [Number(range), stepText === undefined ? Number(range) : hi];
    for (let v = from; v <= to; v += step) out.add(v);
  }
  if (out.has(7)) out.add(0); // Sunday is 0 and 7
  return out;
}
function cronMatches(expression: string, at: Date): boolean {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`oracle: only 5-field expressions (got "${expression}")`);
  const [min, hour, dom, month, dow] = fields.map((f, i) => fieldValues(f, FIELD_RANGES[i]!));
  const dayOfMonth = dom!.has(at.getUTCDate());
  const dayOfWeek = dow!.has(at.getUTCDay());
  const day = fields[2] !== '*' && fields[4] !== '*' ? dayOfMonth || dayOfWeek : dayOfMonth && dayOfWeek;
  return min!.has(at.getUTCMinutes()) && hour!.has(at.getUTCHours()) && month!.has(at.getUTCMonth() + 1) && day;
}
/** The ticks of `expression` in `(from, to]`, whole minutes. */
function ticksBetween(expression: string, from: Date, to: Date): string[] {
  const out: string[] = [];
  for (let t = Math.floor(from.getTime() / 60_000) * 60_000 + 60_000; t <= to.getTime(); t += 60_000) {
    if (cronMatches(expression, new Date(t))) out.push(new Date(t).toISOString());
  }
  return out;
}

// 2030-01-01 is a Tuesday; the clock starts between minutes, as a real process would.
const START = new Date('2030-01-01T03:17:20.000Z');
const HORIZON = new Date(START.getTime() + 25 * 60 * 60_000);

describe('the documented defaults', () => {
  it('docs/scheduling.md\'s schedule table is DEFAULT_SYNC_CONFIG: ids, schedules and options', () => {
    const rows = docs('scheduling.md').split('\n')
      .map((line) => /^\| `(\w+)` \| `([^`]+)` \| `([^`]+)`[^|]*\|[^|]*\| `([^`]+)` \|$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null);
    expect(rows.map((m) => m[1])).toEqual(['customers', 'products', 'orders', 'fullSync']);
    for (const [, type, id, schedule, options] of rows) {
      const job = DEFAULT_SYNC_CONFIG[type as keyof typeof DEFAULT_SYNC_CONFIG];
      expect(id!.replace('<tenant>', 'tenant123'), type).toBe(syncJobId(type as ResourceName, 'tenant123'));
      expect(schedule, type).toBe(job.schedule);
      const documented = Object.fromEntries(options!.split(',').map((pair) => {
        const [key, raw] = pair.split(':').map((s) => s.trim()) as [string, string];
        return [key, /^\d+$/.test(raw) ? Number(raw) : raw === 'true' || raw === 'false' ? raw === 'true' : raw.replace(/^'|'$/g, '')];
      }));
      expect(job.options, type).toEqual(documented);
    }
  });

  it('docs/configuration.md names the same default schedules', () => {
    const section = docs('configuration.md').split('## Scheduler')[1]!;
    const named = [...section.matchAll(/([A-Za-z]+|full\s+sync)\s+`([^`]+)`/g)]
      .map((m) => [/^full\s+sync$/.test(m[1]!) ? 'fullSync' : m[1], m[2]])
      .filter(([type]) => type === 'fullSync' || (RESOURCE_NAMES as readonly string[]).includes(type!));
    expect(named.map(([type]) => type)).toEqual(expect.arrayContaining(['customers', 'products', 'orders', 'fullSync']));
    for (const [type, schedule] of named) expect(schedule, type).toBe(DEFAULT_SYNC_CONFIG[type as keyof typeof DEFAULT_SYNC_CONFIG].schedule);
  });
});

describe('every resource\'s job on a fake clock', () => {
  let clock: FakeClock;
  const schedulers: SchedulerService[] = [];
  const make = (options: Parameters<typeof createSchedulerService>[2]) => {
    const s = createSchedulerService(null, null, options);
    schedulers.push(s);
    return s;
  };
  beforeEach(() => { clock = useFakeClock(START); });
  afterEach(async () => {
    for (const s of schedulers.splice(0)) await s.stopScheduler();
    clock.restore();
  });

  it.each(DEFINITIONS.map((d) => [d.name, d] as const))('%s: its default job has the documented id, schedule and options, and ticks at its cron times running only its resource', async (name, definition) => {
    const runs: ScheduledRun[] = [];
    const scheduler = make({ runJob: async (run) => { runs.push(run); return 'ok'; } });
    const id = `${name}-sync-tenant123`;
    expect(scheduler.addTenantJobs('tenant123')).toContain(id);
    const job = scheduler.getStatus().jobs.find((j) => j.id === id)!;
    expect(job).toMatchObject({ tenantId: 'tenant123', type: name, resource: name, schedule: definition.schedule.schedule, enabled: definition.schedule.enabled, timezone: 'UTC' });
    await scheduler.startScheduler();
    const expected = definition.schedule.enabled ? ticksBetween(definition.schedule.schedule, START, HORIZON) : [];
    expect(scheduler.getStatus().jobs.find((j) => j.id === id)!.nextRunAt?.toISOString() ?? null).toBe(expected[0] ?? null);
    await clock.advanceTo(HORIZON);
    const mine = runs.filter((r) => r.jobId === id);
    expect(mine.map((r) => r.scheduledFor!.toISOString())).toEqual(expected);
    for (const run of mine) expect(run).toMatchObject({ tenantId: 'tenant123', jobType: name, resource: name, trigger: 'scheduled', options: { ...definition.schedule.options } });
    // no other job ran this resource
    expect(runs.filter((r) => r.resource === name && r.jobId !== id)).toEqual([]);
    expect(scheduler.getStatus().jobs.find((j) => j.id === id)).toMatchObject({ runCount: expected.length, failureCount: 0, skippedOverlaps: 0 });
  });

  it.each(RESOURCE_NAMES)('%s: service-wide and per-tenant overrides layer job by job, key by key', async (name) => {
    const runs: ScheduledRun[] = [];
    const scheduler = make({ runJob: async (run) => { runs.push(run); }, syncConfig: { [name]: { options: { concurrency: 1, fromService: true } } } });
    scheduler.addTenantJobs('t1', { [name]: { schedule: '*/7 * * * *', options: { batchSize: 7 } } });
    scheduler.addTenantJobs('t2');
    await scheduler.startScheduler();
    const registry = RESOURCES.find((r) => r.name === name)!.schedule;
    const status = (tenant: string) => scheduler.getStatus().jobs.find((j) => j.id === `${name}-sync-${tenant}`)!;
    expect(status('t1')).toMatchObject({ schedule: '*/7 * * * *', enabled: true, nextRunAt: new Date('2030-01-01T03:21:00.000Z') });
    expect(status('t2').schedule).toBe(registry.schedule);
    await clock.advanceTo('2030-01-01T03:28:00.000Z');
    const t1 = runs.filter((r) => r.jobId === `${name}-sync-t1`);
    expect(t1.map((r) => r.scheduledFor!.toISOString())).toEqual(['2030-01-01T03:21:00.000Z', '2030-01-01T03:28:00.000Z']);
    expect(t1[0]!.options).toEqual({ ...registry.options, concurrency: 1, fromService: true, batchSize: 7 });
    // the other tenant keeps the registry's schedule, with the service's options
    const t2Runs = runs.filter((r) => r.jobId === `${name}-sync-t2`);
    for (const run of t2Runs) expect(run.options).toEqual({ ...registry.options, concurrency: 1, fromService: true });
  });

  it.each(RESOURCE_NAMES)('%s: a field given as undefined overrides nothing (as once the config is stored as JSON and restored)', async (name) => {
    const runs: ScheduledRun[] = [];
    const undefinedFields = { enabled: undefined, schedule: undefined, timezone: undefined, dateWindowDays: undefined, options: { batchSize: undefined, concurrency: undefined } };
    const scheduler = make({ runJob: async (run) => { runs.push(run); }, syncConfig: { [name]: undefinedFields } });
    scheduler.addTenantJobs('t1', { [name]: undefinedFields });
    scheduler.addTenantJobs('t2', JSON.parse(JSON.stringify({ [name]: undefinedFields })) as SyncConfigOverrides);
    const registry = RESOURCES.find((r) => r.name === name)!.schedule;
    const job = (tenant: string) => scheduler.getStatus().jobs.find((j) => j.id === `${name}-sync-${tenant}`)!;
    expect(job('t1')).toMatchObject({ enabled: registry.enabled, schedule: registry.schedule, timezone: 'UTC' });
    expect(job('t1')).toEqual({ ...job('t2'), id: job('t1').id, tenantId: 't1' });
    await scheduler.runJobNow(`${name}-sync-t1`);
    await scheduler.runJobNow(`${name}-sync-t2`);
    expect(runs[0]!.options).toEqual({ ...registry.options });
    expect(runs[0]!.options).toEqual(runs[1]!.options);
  });

  it.each(RESOURCE_NAMES)('%s: a job disabled in the configuration is listed but never ticks; the tenant\'s other jobs do', async (name) => {
    const runs: ScheduledRun[] = [];
    const scheduler = make({ runJob: async (run) => { runs.push(run); } });
    scheduler.addTenantJobs('t1', { [name]: { enabled: false, schedule: '* * * * *' } });
    await scheduler.startScheduler();
    const status = scheduler.getStatus();
    expect(status.jobs.find((j) => j.id === `${name}-sync-t1`)).toMatchObject({ enabled: false, nextRunAt: null });
    expect(status.activeJobs).toBe(status.totalJobs - 1);
    await clock.advanceTo(HORIZON);
    expect(runs.filter((r) => r.resource === name)).toEqual([]);
    expect(new Set(runs.map((r) => r.resource)).size).toBeGreaterThan(1);
  });

  it.each(RESOURCE_NAMES)('%s: a bad cron expression or time zone throws a SchedulerError naming the job, and the tenant\'s jobs stay as they were', (name) => {
    const scheduler = make({ runJob: async () => 'ok' });
    scheduler.addTenantJobs('t1', { [name]: { schedule: '5 4 * * *' } });
    const before = scheduler.getStatus().jobs;
    const id = `${name}-sync-t1`;
    const attempt = (overrides: SyncConfigOverrides) => { try { scheduler.addTenantJobs('t1', overrides); } catch (error) { return error; } return null; };
    for (const [overrides, code, text] of [
      [{ [name]: { schedule: 'every half hour' } }, 'SCHEDULER_INVALID_SCHEDULE', 'invalid cron expression "every half hour"'],
      [{ [name]: { schedule: '61 * * * *' } }, 'SCHEDULER_INVALID_SCHEDULE', 'invalid cron expression "61 * * * *"'],
      [{ [name]: { timezone: 'Mars/Olympus_Mons' } }, 'SCHEDULER_INVALID_TIMEZONE', 'unknown time zone "Mars/Olympus_Mons"'],
    ] as const) {
      const error = attempt(overrides);
      expect(error, JSON.stringify(overrides)).toBeInstanceOf(SchedulerError);
      expect(error).toMatchObject({ code, jobId: id, retryable: false });
      expect((error as Error).message).toContain(text);
      expect((error as Error).message).toContain(id);
      expect(scheduler.getStatus().jobs).toEqual(before);
    }
  });

  it.each(RESOURCE_NAMES)('%s: runJobNow runs the job now; a second call while it runs is refused as busy (retryable), an unknown id as not found', async (name) => {
    let release!: () => void;
    const runs: ScheduledRun[] = [];
    const scheduler = make({ runJob: async (run) => { runs.push(run); await new Promise<void>((resolve) => { release = resolve; }); return `${run.resource} done`; } });
    scheduler.addTenantJobs('t1');
    const id = `${name}-sync-t1`;
    const pending = scheduler.runJobNow(id);
    expect(scheduler.getStatus()).toMatchObject({ runningJobs: 1 });
    const busy = await scheduler.runJobNow(id).catch((error: unknown) => error);
    expect(busy).toBeInstanceOf(SchedulerError);
    expect(busy).toMatchObject({ code: 'SCHEDULER_JOB_BUSY', jobId: id, retryable: true });
    release();
    await expect(pending).resolves.toBe(`${name} done`);
    expect(runs).toEqual([expect.objectContaining({ jobId: id, resource: name, trigger: 'manual' })]);
    expect(scheduler.getStatus().jobs.find((j) => j.id === id)).toMatchObject({ runCount: 1, running: false, lastTrigger: 'manual', lastResult: `${name} done` });
    await expect(scheduler.runJobNow(`${name}-sync-nobody`)).rejects.toMatchObject({ code: 'SCHEDULER_JOB_NOT_FOUND', retryable: false });
  });

  it.each(RESOURCE_NAMES)('%s: a bad cron expression or time zone in the service-wide syncConfig is refused when the scheduler is created', (name) => {
    const refused = (syncConfig: SyncConfigOverrides) => { try { make({ runJob: async () => 'ok', syncConfig }); } catch (error) { return error; } return null; };
    expect(refused({ [name]: { schedule: '* * 32 * *' } })).toMatchObject({ code: 'SCHEDULER_INVALID_SCHEDULE', message: expect.stringContaining(name) });
    // Not only once a tenant is added: the ingestion service adds its tenants in initialize() and
    // logs a tenant it cannot schedule instead of failing, so a zone found bad then unschedules every tenant.
    expect(refused({ [name]: { timezone: 'Nowhere/Special' } })).toMatchObject({ code: 'SCHEDULER_INVALID_TIMEZONE', message: expect.stringContaining(name) });
  });
});

// ---------------------------------------------------------------------------------------------
// Through the ingestion service: PostgreSQL and the simulator.
// ---------------------------------------------------------------------------------------------
const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const API_SECRET = `registry_jobs_${randomBytes(6).toString('hex')}`;
const env = { ENCRYPTION_KEY, SHOPIFY_API_SECRET: API_SECRET };
// Schedules that never fire while the tests run (1 January, 15 March, 1 July): no tick races the assertions.
const QUIET = ['0 0 1 1 *', '30 6 15 3 *', '45 23 1 7 *'] as const;
const quietSyncConfig = { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { schedule: QUIET[0] }])), fullSync: { schedule: QUIET[0] } };
const everySecond: SyncConfigOverrides = { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { schedule: '* * * * * *' }])), fullSync: { enabled: false } };
const SHOP = { customers: 6, products: 4, orders: 8, locations: 2, draftOrders: 3, abandonedCheckouts: 3 };
const TINY = { customers: 1, products: 1, orders: 1, locations: 1, draftOrders: 1, abandonedCheckouts: 1 };
const DATA = 'data-shop.myshopify.com';
const LOCKED = 'locked-shop.myshopify.com';
const FAILING = 'failing-shop.myshopify.com';
const REAUTH = 'reauth-shop.myshopify.com';
const GONE = 'gone-shop.myshopify.com';
const CONFIGURED = 'configured-shop.myshopify.com';

let db: TestDatabase;
let sim: ShopifySimulator;
let service: IngestionService;
const logLines: Array<{ level: string; msg: string; meta?: Record<string, unknown> }> = [];
const record = (level: string) => (msg: string, meta?: Record<string, unknown>) => { logLines.push({ level, msg, meta }); };
const logger: Logger = { debug: () => {}, info: record('info'), warn: record('warn'), error: record('error') };

/** Connects `tenant` to a simulated shop; `as` gives it a domain of its own (the simulator finds the shop by its token). */
async function connect(tenant: string, domain: string, config: Parameters<IngestionService['addTenant']>[2] = {}, as?: string) {
  const shop = sim.shop(domain);
  return service.addTenant(tenant, { shopDomain: as ?? domain, accessToken: shop.accessToken }, { ...config, client: { baseUrl: as ? sim.url : shop.baseUrl, ...config.client } });
}
const jobsOf = (tenant: string): SchedulerJobStatus[] => service.scheduler!.getStatus().jobs.filter((j) => j.tenantId === tenant);
const jobOf = (tenant: string, name: string): SchedulerJobStatus => service.scheduler!.getStatus().jobs.find((j) => j.id === syncJobId(name as ResourceName, tenant))!;
/** Waits (real time) until `done()`; every 50 ms, as a status read builds every job of the service. */
async function until(done: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`still waiting after ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
/** Whether every resource's job of `tenant` meets `test` (one status read). */
function byType(tenant: string, test: (job: SchedulerJobStatus) => boolean): boolean {
  const jobs = new Map(jobsOf(tenant).map((j) => [j.type, j]));
  return RESOURCE_NAMES.every((name) => jobs.has(name) && test(jobs.get(name)!));
}
const runsOf = (tenant: string) => db.query<{ resource: string; mode: string; status: string; error_code: string | null }>(
  'SELECT resource, mode, status, error_code FROM shopify_sync_runs WHERE tenant_id = $1 ORDER BY started_at, id', [tenant]);
async function rowCounts(tenant: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const definition of DEFINITIONS) {
    let n = 0;
    for (const table of tablesOf(definition)) n += (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table.table}" WHERE tenant_id = $1`, [tenant]))[0]!.n;
    out[definition.name] = n;
  }
  return out;
}

describe('through the ingestion service, on PostgreSQL and the simulator', () => {
  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'si_sched_registry' });
    sim = await createShopifySimulator({
      seed: 31, unthrottled: true, apiSecret: API_SECRET, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 },
      shops: [{ domain: DATA, ...SHOP }, { domain: LOCKED, ...TINY }, { domain: FAILING, ...TINY }, { domain: REAUTH, ...TINY }, { domain: GONE, ...TINY }, { domain: CONFIGURED, ...TINY }],
    });
    service = createIngestionService(db.database, {
      env, logger, webhooks: { enabled: false }, healthCheckIntervalMs: 0,
      // A failing request fails its run at once (the failing shop answers every request with a 5xx).
      clientDefaults: { retryOptions: { retries: 0 } },
      scheduler: { syncConfig: quietSyncConfig, leaseTtlMs: 5_000 },
      bulk: { minPollMs: 10, maxPollMs: 50 },
    });
    await service.initialize();
  }, 60_000);
  afterAll(async () => {
    await service?.shutdown({ timeoutMs: 2_000 }).catch(() => {});
    await sim?.stop();
    await db?.drop();
  });

  describe('runJobNow imports its resource only', () => {
    it.each(RESOURCE_NAMES)('%s: rows stored for it alone, one run recorded: full first, incremental next', async (name) => {
      const tenant = `only-${name}`;
      await connect(tenant, DATA, {}, `only-${name.toLowerCase()}.myshopify.com`);
      const first = await service.scheduler!.runJobNow(syncJobId(name, tenant)) as { status: string; resource: string; mode: string; imported: number };
      expect(first).toMatchObject({ status: 'succeeded', resource: name, tenantId: tenant, mode: 'full' });
      expect(first.imported).toBeGreaterThan(0);
      const counts = await rowCounts(tenant);
      expect(counts[name]).toBeGreaterThan(0);
      expect(Object.entries(counts).filter(([resource, n]) => resource !== name && n > 0)).toEqual([]);
      expect(await runsOf(tenant)).toEqual([{ resource: name, mode: 'full', status: 'succeeded', error_code: null }]);
      const second = await service.scheduler!.runJobNow(syncJobId(name, tenant));
      expect(second).toMatchObject({ status: 'succeeded', resource: name, mode: 'incremental' });
      expect((await runsOf(tenant)).map((r) => [r.resource, r.mode, r.status])).toEqual([[name, 'full', 'succeeded'], [name, 'incremental', 'succeeded']]);
      expect(jobOf(tenant, name)).toMatchObject({ runCount: 2, failureCount: 0, lastError: null, lastTrigger: 'manual', lastResult: second });
    }, 60_000);

    it.each(RESOURCE_NAMES)('%s: with dateWindowDays, a one-off incremental run over the window that leaves the watermark alone', async (name) => {
      const tenant = `window-${name}`;
      await connect(tenant, DATA, { syncConfig: { [name]: { dateWindowDays: 36_500 } } }, `window-${name.toLowerCase()}.myshopify.com`);
      const result = await service.scheduler!.runJobNow(syncJobId(name, tenant));
      expect(result).toMatchObject({ status: 'succeeded', resource: name, mode: 'incremental' });
      expect(await runsOf(tenant)).toEqual([{ resource: name, mode: 'incremental', status: 'succeeded', error_code: null }]);
      const counts = await rowCounts(tenant);
      expect(Object.entries(counts).filter(([resource, n]) => resource !== name && n > 0)).toEqual([]);
      const [checkpoint] = await db.query<{ watermark: Date | null }>('SELECT watermark FROM shopify_sync_checkpoints WHERE tenant_id = $1 AND resource = $2', [tenant, name]);
      expect(checkpoint?.watermark ?? null).toBeNull();
    }, 60_000);

    it('the weekly job imports every resource the tenant syncs, in full, and no other', async () => {
      const synced = RESOURCE_NAMES.filter((_, i) => i % 2 === 0);
      await connect('weekly', DATA, { resources: [...synced] }, 'weekly-registry.myshopify.com');
      expect(jobsOf('weekly').filter((j) => j.enabled).map((j) => j.type).sort()).toEqual([...synced, 'fullSync'].sort());
      await service.scheduler!.runJobNow(syncJobId('fullSync', 'weekly'));
      const runs = await runsOf('weekly');
      expect(runs.map((r) => r.resource).sort()).toEqual([...synced].sort());
      expect(runs.every((r) => r.mode === 'full' && r.status === 'succeeded')).toBe(true);
    }, 120_000);
  });

  describe('a tick that meets its resource\'s run lock is skipped, not failed', () => {
    beforeAll(async () => {
      await connect('locked', LOCKED);
      // Another process is importing every resource of the tenant: it holds their run locks.
      for (const name of RESOURCE_NAMES) {
        await db.query(`INSERT INTO shopify_run_locks (tenant_id, resource, run_id, acquired_at, expires_at) VALUES ('locked', $1, 'run-elsewhere', now(), now() + interval '10 minutes')`, [name]);
      }
      await connect('locked', LOCKED, { syncConfig: everySecond });
      try {
        await until(() => byType('locked', (j) => j.skippedOverlaps >= 1 || j.runCount > 0 || j.failureCount > 0), 'a tick of every job', 30_000);
      } finally {
        for (const job of jobsOf('locked')) service.scheduler!.disableJob(job.id);
      }
      await until(() => jobsOf('locked').every((j) => !j.running), 'the last ticks');
    }, 60_000);
    afterAll(async () => {
      await service.removeTenant('locked');
    });

    it.each(RESOURCE_NAMES)('%s', async (name) => {
      const id = syncJobId(name, 'locked');
      expect(jobOf('locked', name)).toMatchObject({ runCount: 0, failureCount: 0, lastError: null, lastErrorCode: null, lastResult: undefined, lastRunAt: null });
      expect(jobOf('locked', name).skippedOverlaps).toBeGreaterThanOrEqual(1);
      // runJobNow rejects with the importer's error
      const refused = await service.scheduler!.runJobNow(id).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: 'IMPORT_ALREADY_RUNNING', retryable: true, details: { runningRunId: 'run-elsewhere' } });
      expect(jobOf('locked', name)).toMatchObject({ runCount: 0, failureCount: 0, lastError: null });
      const skips = logLines.filter((l) => l.level === 'warn' && l.msg === 'scheduled run skipped: another run is importing this resource' && l.meta?.jobId === syncJobId(name, 'locked'));
      expect(skips.length).toBeGreaterThanOrEqual(1);
      expect(skips[0]!.meta).toMatchObject({ reason: 'resource-locked', runningRunId: 'run-elsewhere', tenantId: 'locked' });
      expect(logLines.filter((l) => l.msg === 'scheduled job failed' && l.meta?.jobId === syncJobId(name, 'locked'))).toEqual([]);
      expect((await runsOf('locked')).filter((r) => r.resource === name)).toEqual([]);
    });
  });

  describe('a failing tick is counted and shows in getStatus() with its error code', () => {
    const finalJobs = new Map<string, SchedulerJobStatus>();
    beforeAll(async () => {
      await connect('failing', FAILING);
      // Every request of this shop answers 5xx from now on (so addTenant's credential check would
      // fail too: the every-second jobs are given to the scheduler itself).
      sim.faults.configure({ shops: [FAILING], rates: { server_error: 1 } });
      service.scheduler!.addTenantJobs('failing', everySecond);
      try {
        await until(() => byType('failing', (j) => j.failureCount >= 1), 'a failed tick of every job', 90_000);
      } finally {
        for (const job of jobsOf('failing')) service.scheduler!.disableJob(job.id);
      }
      await until(() => jobsOf('failing').every((j) => !j.running), 'the last ticks', 30_000);
      for (const job of jobsOf('failing')) finalJobs.set(job.type, job);
      sim.faults.clear();
    }, 120_000);

    it.each(RESOURCE_NAMES)('%s', async (name) => {
      const job = finalJobs.get(name)!;
      expect(job.failureCount).toBeGreaterThanOrEqual(1);
      expect(job.runCount).toBeGreaterThanOrEqual(job.failureCount);
      expect(job.lastError).toEqual(expect.any(String));
      expect(job.lastResult).toBeUndefined();
      // The root cause's code, as docs/errors.md promises for every failure.
      expect(job.lastErrorCode).toMatch(/^SHOPIFY_HTTP_50[0234]$/);
      const failed = logLines.filter((l) => l.level === 'error' && l.msg === 'scheduled job failed' && l.meta?.jobId === job.id);
      expect(failed.length).toBeGreaterThanOrEqual(job.failureCount);
    });
  });

  describe('a tenant that needs re-authorisation is skipped', () => {
    beforeAll(async () => {
      await connect('reauth', REAUTH);
      // Another process found its refresh token revoked.
      await db.query(`UPDATE shopify_tenants SET auth_status = 'needs_reauth', auth_error = 'refresh token revoked' WHERE id = 'reauth'`);
    });

    it.each(RESOURCE_NAMES)('%s', async (name) => {
      const requests = sim.stats(REAUTH).requests;
      await expect(service.scheduler!.runJobNow(syncJobId(name, 'reauth'))).resolves.toEqual({ skipped: 'needs-reauth' });
      expect(jobOf('reauth', name)).toMatchObject({ runCount: 1, failureCount: 0, lastError: null, lastResult: { skipped: 'needs-reauth' } });
      expect(sim.stats(REAUTH).requests).toBe(requests);
      expect(await runsOf('reauth')).toEqual([]);
    });

    it('its scheduled ticks are skipped the same way: no request, no failure', async () => {
      const requests = sim.stats(REAUTH).requests;
      service.scheduler!.addTenantJobs('reauth', everySecond);
      try {
        await until(() => byType('reauth', (j) => j.lastTrigger === 'scheduled'), 'a tick of every job', 30_000);
      } finally {
        for (const job of jobsOf('reauth')) service.scheduler!.disableJob(job.id);
      }
      await until(() => jobsOf('reauth').every((j) => !j.running), 'the last ticks');
      for (const name of RESOURCE_NAMES) {
        expect(jobOf('reauth', name), name).toMatchObject({ failureCount: 0, lastError: null, lastTrigger: 'scheduled', lastResult: { skipped: 'needs-reauth' } });
      }
      expect(sim.stats(REAUTH).requests).toBe(requests);
      expect(await runsOf('reauth')).toEqual([]);
    }, 60_000);

    it('its jobs removed here (a renewal refused in this process), a restart of the scheduler does not bring them back', async () => {
      // 'weekly' syncs some resources only: its other jobs are disabled by its configuration.
      const configured = jobsOf('weekly').map((j) => [j.id, j.enabled, j.schedule, j.timezone]);
      expect(configured.some(([, enabled]) => enabled === false)).toBe(true);
      service.scheduler!.removeTenantJobs('reauth');
      await service.scheduler!.stopScheduler();
      await service.scheduler!.startScheduler();
      expect(jobsOf('reauth')).toEqual([]);
      // Other tenants keep the jobs their configuration gave them.
      expect(jobsOf('weekly').map((j) => [j.id, j.enabled, j.schedule, j.timezone])).toEqual(configured);
    });

    it('updateTenant with new credentials resumes it: every job back, on its configuration', async () => {
      await service.updateTenant('reauth', { shopDomain: REAUTH, accessToken: sim.shop(REAUTH).accessToken });
      expect(jobsOf('reauth').map((j) => [j.id, j.enabled, j.schedule, j.nextRunAt !== null])).toEqual(
        [...RESOURCE_NAMES, 'fullSync' as const].map((type) => [syncJobId(type, 'reauth'), true, QUIET[0], true]));
    });

    it.each(RESOURCE_NAMES)('%s: imports again after updateTenant', async (name) => {
      await expect(service.scheduler!.runJobNow(syncJobId(name, 'reauth'))).resolves.toMatchObject({ status: 'succeeded', resource: name, mode: 'full' });
      expect((await runsOf('reauth')).filter((r) => r.resource === name)).toEqual([{ resource: name, mode: 'full', status: 'succeeded', error_code: null }]);
    }, 30_000);
  });

  describe('a tenant another instance removed is skipped, and its jobs dropped here', () => {
    it.each(RESOURCE_NAMES)('%s', async (name) => {
      await connect('gone', GONE);
      const ids = jobsOf('gone').map((j) => j.id);
      expect(ids).toHaveLength(RESOURCE_NAMES.length + 1);
      await db.query(`UPDATE shopify_tenants SET is_active = false, deactivated_at = now() WHERE id = 'gone'`);
      const requests = sim.stats(GONE).requests;
      await expect(service.scheduler!.runJobNow(syncJobId(name, 'gone'))).resolves.toEqual({ skipped: 'tenant-inactive' });
      expect(jobsOf('gone')).toEqual([]);
      expect(sim.stats(GONE).requests).toBe(requests);
      expect(await runsOf('gone')).toEqual([]);
      // Added again: every job is back.
      await connect('gone', GONE);
      expect(jobsOf('gone').map((j) => j.id)).toEqual(ids);
    });
  });

  describe('addTenant, updateTenant and removeTenant leave exactly the configured jobs', () => {
    type Config = { resources?: ResourceName[]; syncConfig?: SyncConfigOverrides };
    const seed = Number(process.env.SCHEDULER_CONFIG_SEED ?? Math.floor(Math.random() * 2 ** 31));
    let state = seed;
    const random = () => { state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0; return state / 2 ** 32; };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    function randomConfig(): Config {
      const config: Config = {};
      if (random() < 0.5) config.resources = RESOURCE_NAMES.filter(() => random() < 0.5);
      if (random() < 0.7) {
        const syncConfig: SyncConfigOverrides = {};
        for (const type of [...RESOURCE_NAMES, 'fullSync'] as const) {
          const roll = random();
          if (roll < 0.15) syncConfig[type] = { enabled: false };
          else if (roll < 0.3) syncConfig[type] = { schedule: pick(QUIET) };
          else if (roll < 0.35) syncConfig[type] = { enabled: true, schedule: pick(QUIET) };
          else if (roll < 0.42) syncConfig[type] = { timezone: pick(['Europe/Paris', 'Asia/Tokyo', 'America/New_York']) };
        }
        config.syncConfig = syncConfig;
      }
      return config;
    }
    /** What the docs promise: tenant overrides over the service's over the defaults; resources the tenant does not sync are disabled. */
    function expectedJobs(tenant: string, config: Config) {
      return [...RESOURCE_NAMES, 'fullSync' as const].map((type) => {
        const own = config.syncConfig?.[type];
        const synced = type === 'fullSync' || !config.resources || config.resources.includes(type);
        const enabled = synced && (own?.enabled ?? (type === 'fullSync' ? DEFAULT_SYNC_CONFIG.fullSync.enabled : RESOURCES.find((r) => r.name === type)!.schedule.enabled));
        return { id: syncJobId(type, tenant), enabled, schedule: own?.schedule ?? QUIET[0], timezone: own?.timezone ?? 'UTC', active: enabled };
      });
    }
    const actual = (s: IngestionService, tenant: string, started = true) => s.scheduler!.getStatus().jobs.filter((j) => j.tenantId === tenant)
      .map((j) => ({ id: j.id, enabled: j.enabled, schedule: j.schedule, timezone: j.timezone, ...(started ? { active: j.nextRunAt !== null } : {}) }));

    it.each(RESOURCE_NAMES)('%s: addTenant with a bad schedule or time zone rejects with the scheduler\'s typed error naming the job', async (name) => {
      const jobId = syncJobId(name, 'configured');
      await expect(connect('configured', CONFIGURED, { syncConfig: { [name]: { schedule: 'at noon' } } })).rejects.toMatchObject({ code: 'SCHEDULER_INVALID_SCHEDULE', jobId });
      await expect(connect('configured', CONFIGURED, { syncConfig: { [name]: { timezone: 'Atlantis/Capital' } } })).rejects.toMatchObject({ code: 'SCHEDULER_INVALID_TIMEZONE', jobId });
    });

    it('a refused addTenant or updateTenant saves nothing: the stored config and the jobs stay as they were', async () => {
      await connect('configured', CONFIGURED, { syncConfig: { orders: { schedule: QUIET[0] } } });
      const config = (await service.getTenant('configured'))!.config;
      const jobs = actual(service, 'configured');
      expect(jobs.length).toBe(RESOURCE_NAMES.length + 1);
      await expect(connect('configured', CONFIGURED, { syncConfig: { orders: { schedule: 'at noon' } } })).rejects.toMatchObject({ code: 'SCHEDULER_INVALID_SCHEDULE' });
      await expect(service.updateTenant('configured', { shopDomain: CONFIGURED, accessToken: sim.shop(CONFIGURED).accessToken }, { syncConfig: { fullSync: { timezone: 'Atlantis/Capital' } } }))
        .rejects.toMatchObject({ code: 'SCHEDULER_INVALID_TIMEZONE' });
      expect((await service.getTenant('configured'))!.config).toEqual(config);
      expect(actual(service, 'configured')).toEqual(jobs);
    });

    it(`a random sequence of changes (seed ${seed}; replay with SCHEDULER_CONFIG_SEED=${seed}), then a restart`, async () => {
      console.log(`scheduler config sequence: SCHEDULER_CONFIG_SEED=${seed}`);
      await connect('bystander', CONFIGURED, {}, 'bystander-registry.myshopify.com');
      const bystander = actual(service, 'bystander');
      let stored = null as Config | null;
      let active = false;
      const steps: string[] = [];
      for (let step = 0; step < 12; step++) {
        const op = stored === null ? 'add' : pick(['add', 'add', 'update', 'update', 'remove'] as const);
        if (op === 'remove' && active) {
          await service.removeTenant('configured');
          active = false;
          steps.push('remove');
        } else if (op === 'update' && stored) {
          const change = randomConfig();
          await service.updateTenant('configured', { shopDomain: CONFIGURED, accessToken: sim.shop(CONFIGURED).accessToken }, change);
          // updateTenant keeps the stored syncConfig and resources unless it is given new ones
          stored = { ...stored, ...change };
          active = true;
          steps.push(`update ${JSON.stringify(change)}`);
        } else {
          const config = randomConfig();
          await connect('configured', CONFIGURED, config);
          stored = config;
          active = true;
          steps.push(`add ${JSON.stringify(config)}`);
        }
        const why = `seed ${seed}, after: ${steps.join(' ; ')}`;
        expect(actual(service, 'configured'), why).toEqual(active ? expectedJobs('configured', stored!) : []);
        expect(actual(service, 'bystander'), why).toEqual(bystander);
      }
      // A restarted instance restores the same jobs from shopify_tenants.config (its scheduler not started here).
      const restarted = createIngestionService(db.database, { env, logger, webhooks: { enabled: false }, healthCheckIntervalMs: 0, scheduler: { enabled: false, syncConfig: quietSyncConfig } });
      try {
        await restarted.initialize();
        const strip = (jobs: Array<{ id: string; enabled: boolean; schedule: string; timezone: string }>) => jobs.map(({ id, enabled, schedule, timezone }) => ({ id, enabled, schedule, timezone }));
        expect(actual(restarted, 'configured', false), `seed ${seed}`).toEqual(active ? strip(expectedJobs('configured', stored!)) : []);
        expect(actual(restarted, 'bystander', false)).toEqual(strip(bystander));
        // a removed tenant is not scheduled
        expect(actual(restarted, 'locked', false)).toEqual([]);
      } finally {
        await restarted.shutdown({ timeoutMs: 1_000 });
      }
    }, 60_000);
  });
});
