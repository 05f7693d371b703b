import cron, { type ScheduledTask, type Logger as CronLogger } from 'node-cron';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { PrismaLike, SqlExecutor } from '../store/prisma-like.js';
import { resolveDatabase, type DatabaseHandle } from '../store/database-handle.js';
import { deleteExpiredLeases } from '../store/leases.js';
import { silentLogger, type Logger } from '../logger.js';
import { assertTenantId } from '../errors.js';
import { SchedulerError } from './errors.js';
import { createLeaseCoordinator, type LeaseCoordinator } from './lease-coordinator.js';
import { createImporterJobRunner, tenantIdsOf, type JobRunner, type SchedulerClientSource } from './job-runner.js';
import {
  DEFAULT_SYNC_CONFIG, SYNC_JOB_TYPES, assertJobConfigs, assertSchedule, assertTimezone, mergeSyncConfig, resourceOf, runOptionsFor, syncJobId,
  type SyncConfig, type SyncConfigOverrides, type SyncJobConfig, type SyncJobType, type SyncResource,
} from './sync-config.js';

/**
 * Options of {@link createSchedulerService}.
 *
 * @example
 * ```ts
 * createSchedulerService(prisma, clientManager, {
 *   timezone: 'Europe/Paris',
 *   syncConfig: { orders: { schedule: '*\/15 * * * *' } },
 *   logger,
 * });
 * ```
 */
export interface SchedulerOptions {
  /** Runs one job; defaults to the importer (`importResource`; `importAll` for `fullSync`). */
  runJob?: JobRunner;
  /** Options of the default runner's `createImportService` (e.g. `{ keyRing, logger }`). */
  importServiceOptions?: Record<string, unknown>;
  /** Service-wide overrides of {@link DEFAULT_SYNC_CONFIG}; tenants can override further. */
  syncConfig?: SyncConfigOverrides;
  /** IANA time zone the schedules are read in. Default `UTC`, whatever the host's zone. */
  timezone?: string;
  /**
   * Elect each tick through PostgreSQL so that only one instance of a multi-instance app runs it
   * (default: on). Turn off for a single process without the lease table.
   */
  distributed?: boolean;
  /**
   * Lease lifetime; the running instance renews it every third of this. Default 60 s. A crashed
   * instance blocks the job for at most this long. Lease times come from each instance's clock,
   * so hosts must agree on the time to well within it (NTP).
   */
  leaseTtlMs?: number;
  /** Finished or expired leases older than this are deleted. Default 24 h. */
  leaseRetentionMs?: number;
  /** How often old leases are cleaned up while the scheduler runs. Default 1 h. */
  cleanupIntervalMs?: number;
  /** This instance's id in the lease table. Default `<hostname>-<pid>-<random>`. */
  instanceId?: string;
  /**
   * Scheduler clock: run times, date windows, lease times. The ticks themselves come from node-cron,
   * which reads the global `Date` and waits with `setTimeout` (it takes no clock), so tests that
   * move time fake those globals (e.g. vitest's `vi.useFakeTimers({ toFake: ['Date', 'setTimeout',
   * 'clearTimeout', 'setInterval', 'clearInterval'] })`) and leave this option at its default.
   */
  clock?: () => Date;
  /** Where the scheduler logs. */
  logger?: Logger;
  /** Check each tenant's webhook subscriptions on `schedule` (job `webhookSubscriptions-<tenant>`; ingestion service only). */
  webhookSubscriptions?: {
    /** A node-cron expression. */
    schedule: string;
    /** Repair drift too (default false). */
    repair?: boolean;
  };
}

/** Status of one job, as {@link SchedulerService.getStatus} reports it. */
export interface SchedulerJobStatus {
  /** Job id (`<type>-sync-<tenant>`). */
  id: string;
  /** The tenant. */
  tenantId: string;
  /** Which job. */
  type: SyncJobType | 'webhookSubscriptions';
  /** What it imports. */
  resource: SyncResource;
  /** Its cron expression. */
  schedule: string;
  /** Time zone of the cron expression. */
  timezone: string;
  /** Whether the job is scheduled (it may be enabled while the scheduler is stopped). */
  enabled: boolean;
  /** Running on this instance right now. */
  running: boolean;
  /** When the running run started. */
  runningSince: Date | null;
  /** When it last started. */
  lastRunAt: Date | null;
  /** When it last finished. */
  lastFinishedAt: Date | null;
  /** How long the last run took. */
  lastDurationMs: number | null;
  /** What the last run returned. */
  lastResult: unknown;
  /** Why the last run failed. */
  lastError: string | null;
  /** The `code` of the last failure (docs/errors.md), or null. */
  lastErrorCode: string | null;
  /** Whether the last run was a tick or `runJobNow`. */
  lastTrigger: 'scheduled' | 'manual' | null;
  /** Next tick, or null when the job or the scheduler is stopped. */
  nextRunAt: Date | null;
  /** Runs on this instance. */
  runCount: number;
  /** Failed runs on this instance. */
  failureCount: number;
  /**
   * Ticks skipped because the previous run was still going (here or on another instance), or
   * because another run held the resource's import lock (`IMPORT_ALREADY_RUNNING`).
   */
  skippedOverlaps: number;
  /** When a tick was last skipped. */
  lastSkippedAt: Date | null;
  /** Ticks another instance was elected for. */
  ranElsewhere: number;
  /** Last lease-table failure (the tick was skipped, fail-closed). */
  lastLeaseError: string | null;
}

/** What {@link SchedulerService.getStatus} returns; `totalJobs` and `runningJobs` as in the seed. */
export interface SchedulerStatus {
  /** The scheduler is started. */
  enabled: boolean;
  /** This instance's id. */
  instanceId: string;
  /** Default time zone. */
  timezone: string;
  /** Whether ticks are elected across instances. */
  distributed: boolean;
  /** Jobs known to this instance. */
  totalJobs: number;
  /** Jobs enabled and scheduled. */
  activeJobs: number;
  /** Jobs running on this instance now. */
  runningJobs: number;
  /** Each job. */
  jobs: SchedulerJobStatus[];
}

interface JobState {
  id: string;
  tenantId: string;
  type: SyncJobType | 'webhookSubscriptions';
  config: SyncJobConfig;
  timezone: string;
  task?: ScheduledTask;
  coordinator?: LeaseCoordinator;
  running: boolean;
  runningSince: Date | null;
  lastRunAt: Date | null;
  lastFinishedAt: Date | null;
  lastDurationMs: number | null;
  lastResult: unknown;
  lastError: string | null;
  lastErrorCode: string | null;
  lastTrigger: 'scheduled' | 'manual' | null;
  runCount: number;
  failureCount: number;
  skippedOverlaps: number;
  lastSkippedAt: Date | null;
  ranElsewhere: number;
  lastLeaseError: string | null;
}

type RunOutcome = { ok: true; result: unknown } | { ok: false; error: unknown };

/**
 * node-cron jobs per tenant and resource, from the seed's `syncConfig`, with no overlapping runs
 * and, across several instances of the host app, each tick run by exactly one of them.
 *
 * @example
 * ```ts
 * const scheduler = createSchedulerService(prisma, clientManager);
 * await scheduler.startScheduler();
 * scheduler.enableJob('customers-sync-tenant123');
 * scheduler.disableJob('products-sync-tenant123');
 * const status = scheduler.getStatus();
 * console.log(`Running ${status.runningJobs} of ${status.totalJobs} jobs`);
 * ```
 */
export class SchedulerService {
  /** This instance's id (lease holder). */
  readonly instanceId: string;
  /** Default time zone of the cron expressions. */
  readonly timezone: string;
  /** Whether ticks are elected through PostgreSQL leases (one instance per tick). */
  readonly distributed: boolean;
  private readonly db: SqlExecutor | undefined;
  private readonly clientManager: SchedulerClientSource | undefined;
  private readonly runJob: JobRunner;
  private readonly baseConfig: SyncConfig;
  private readonly subscriptionsJob: SyncJobConfig | undefined;
  private readonly leaseTtlMs: number;
  private readonly leaseRetentionMs: number;
  private readonly cleanupIntervalMs: number;
  private readonly clock: () => Date;
  private readonly logger: Logger;
  private readonly cronLogger: CronLogger;
  private readonly jobs = new Map<string, JobState>();
  // Runs in progress, kept apart from `jobs`: a run whose job was removed meanwhile is still one that
  // stopScheduler({ abortRunning, waitMs }) aborts and waits for.
  private readonly runs = new Set<{ jobId: string; promise: Promise<unknown>; controller: AbortController }>();
  private started = false;
  private cleanupTimer: NodeJS.Timeout | undefined;

  constructor(database: PrismaLike | SqlExecutor | DatabaseHandle | undefined | null, clientManager?: SchedulerClientSource | null, options: SchedulerOptions = {}) {
    const handle = database ? resolveDatabase(database) : undefined;
    this.db = handle?.prisma;
    this.clientManager = clientManager ?? undefined;
    this.timezone = options.timezone ?? 'UTC';
    assertTimezone(this.timezone);
    this.baseConfig = mergeSyncConfig(DEFAULT_SYNC_CONFIG as SyncConfig, options.syncConfig);
    // Validated here, not only when a tenant is added: the ingestion service adds its tenants in
    // initialize() and logs one it cannot schedule, so a bad service-wide value would unschedule them all.
    assertJobConfigs(this.baseConfig, (type) => `${type} (syncConfig)`);
    if (options.webhookSubscriptions) {
      assertSchedule(options.webhookSubscriptions.schedule, 'webhookSubscriptions');
      if (!options.runJob) throw new SchedulerError('SCHEDULER_JOB_NOT_FOUND', 'webhookSubscriptions: only the ingestion service runs this job (pass runJob to handle it yourself)');
      this.subscriptionsJob = { enabled: true, schedule: options.webhookSubscriptions.schedule, options: { repair: options.webhookSubscriptions.repair === true } };
    }
    this.distributed = (options.distributed ?? true) && this.db !== undefined;
    this.leaseTtlMs = options.leaseTtlMs ?? 60_000;
    this.leaseRetentionMs = options.leaseRetentionMs ?? 24 * 60 * 60 * 1000;
    this.cleanupIntervalMs = options.cleanupIntervalMs ?? 60 * 60 * 1000;
    this.instanceId = options.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.clock = options.clock ?? (() => new Date());
    this.logger = options.logger ?? silentLogger;
    if (options.runJob) this.runJob = options.runJob;
    else if (handle && this.clientManager && '$transaction' in handle.prisma) this.runJob = createImporterJobRunner(handle, this.clientManager, options.importServiceOptions);
    else this.runJob = async () => { throw new SchedulerError('SCHEDULER_JOB_NOT_FOUND', 'no job runner: pass options.runJob, or a PrismaClient and a ClientManager'); };
    // node-cron's own messages (e.g. its overlap warning) are reported by us with job context instead.
    const logger = this.logger;
    this.cronLogger = {
      info: (m) => logger.debug(`node-cron: ${m}`),
      warn: (m) => logger.debug(`node-cron: ${m}`),
      debug: (m) => logger.debug(`node-cron: ${m instanceof Error ? m.message : m}`),
      error: (m, err) => logger.error(`node-cron: ${m instanceof Error ? m.message : m}`, err ? { error: err } : undefined),
    };
  }

  /**
   * Schedules the jobs of every tenant the client manager knows (and of tenants added earlier)
   * and starts the ticks.
   */
  async startScheduler(): Promise<void> {
    if (this.clientManager) {
      for (const tenantId of await tenantIdsOf(this.clientManager)) {
        if (!this.hasTenant(tenantId)) this.addTenantJobs(tenantId);
      }
    }
    this.started = true;
    for (const job of this.jobs.values()) if (job.config.enabled) this.arm(job);
    if (this.distributed && !this.cleanupTimer) {
      void this.cleanupLeases();
      this.cleanupTimer = setInterval(() => void this.cleanupLeases(), this.cleanupIntervalMs);
      this.cleanupTimer.unref?.();
    }
    this.logger.info('scheduler started', { instanceId: this.instanceId, jobs: this.jobs.size, timezone: this.timezone, distributed: this.distributed });
  }

  /**
   * Stops all ticks. Running jobs continue unless `abortRunning` (their `signal` is aborted);
   * `waitMs` waits up to that long for them to finish.
   */
  async stopScheduler(options: { waitMs?: number; abortRunning?: boolean } = {}): Promise<void> {
    this.started = false;
    for (const job of this.jobs.values()) this.disarm(job);
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.cleanupTimer = undefined;
    const running = [...this.runs];
    if (options.abortRunning) for (const run of running) run.controller.abort(new SchedulerError('SCHEDULER_STOPPED', `scheduler stopped while ${run.jobId} was running`, { jobId: run.jobId }));
    if (options.waitMs && running.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(running.map((r) => r.promise)),
        new Promise((resolve) => { timer = setTimeout(resolve, options.waitMs); }),
      ]);
      clearTimeout(timer);
    }
    this.logger.info('scheduler stopped', { instanceId: this.instanceId, stillRunning: this.runs.size });
  }

  /**
   * Adds (or replaces) a tenant's jobs (one per resource, and `fullSync`), with optional overrides.
   * A bad schedule or time zone throws a `SchedulerError` and changes nothing.
   * Returns the job ids. Jobs start ticking at once if the scheduler is started.
   *
   * @example
   * ```ts
   * scheduler.addTenantJobs('tenant123', { orders: { schedule: '*\/10 * * * *' }, fullSync: { enabled: false } });
   * ```
   */
  addTenantJobs(tenantId: string, overrides?: SyncConfigOverrides): string[] {
    assertTenantId(tenantId);
    const config = this.syncConfigFor(overrides);
    assertJobConfigs(config, (type) => syncJobId(type, tenantId));
    // Checked: from here nothing throws.
    const states: JobState[] = SYNC_JOB_TYPES.map((type) => this.jobStateFor(syncJobId(type, tenantId), tenantId, type, config[type], config[type].timezone!));
    if (this.subscriptionsJob) states.push(this.jobStateFor(`webhookSubscriptions-${tenantId}`, tenantId, 'webhookSubscriptions', this.subscriptionsJob, this.timezone));
    for (const job of [...this.jobs.values()]) {
      if (job.tenantId !== tenantId) continue;
      this.disarm(job);
      if (!states.includes(job)) this.jobs.delete(job.id);
    }
    for (const state of states) {
      this.jobs.set(state.id, state);
      if (this.started && state.config.enabled) this.arm(state);
    }
    return states.map((s) => s.id);
  }

  /**
   * The jobs a tenant with these overrides gets (service `syncConfig` plus the overrides), each with its `timezone`.
   * @internal
   */
  syncConfigFor(overrides?: SyncConfigOverrides): SyncConfig {
    const config = mergeSyncConfig(this.baseConfig, overrides);
    for (const type of SYNC_JOB_TYPES) config[type] = { ...config[type], timezone: config[type].timezone ?? this.timezone };
    return config;
  }

  /** Removes a tenant's jobs (a run in progress finishes). Returns how many were removed. */
  removeTenantJobs(tenantId: string): number {
    let removed = 0;
    for (const job of [...this.jobs.values()]) {
      if (job.tenantId !== tenantId) continue;
      this.disarm(job);
      this.jobs.delete(job.id);
      removed++;
    }
    return removed;
  }

  /** Whether the tenant has jobs (enabled or not). */
  hasTenant(tenantId: string): boolean {
    for (const job of this.jobs.values()) if (job.tenantId === tenantId) return true;
    return false;
  }

  /** Enables a job (it ticks while the scheduler is started). Returns false for an unknown id. */
  enableJob(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job) {
      this.logger.warn('enableJob: unknown job', { jobId });
      return false;
    }
    job.config = { ...job.config, enabled: true };
    if (this.started) this.arm(job);
    return true;
  }

  /** Disables a job: no more ticks (a run in progress finishes). Returns false for an unknown id. */
  disableJob(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job) {
      this.logger.warn('disableJob: unknown job', { jobId });
      return false;
    }
    job.config = { ...job.config, enabled: false };
    this.disarm(job);
    return true;
  }

  /**
   * Runs a job now, outside its schedule, and resolves with the runner's result.
   * Throws `SCHEDULER_JOB_BUSY` if it is running here or (distributed) on another instance.
   */
  async runJobNow(jobId: string): Promise<unknown> {
    const job = this.jobs.get(jobId);
    if (!job) throw new SchedulerError('SCHEDULER_JOB_NOT_FOUND', `no scheduled job ${jobId}`, { jobId });
    if (job.running) throw new SchedulerError('SCHEDULER_JOB_BUSY', `job ${jobId} is already running on this instance`, { jobId });
    let key: string | undefined;
    if (this.distributed) {
      const coordinator = job.coordinator ?? (job.coordinator = this.newCoordinator(job));
      key = `${job.id}:manual:${this.clock().toISOString()}:${this.instanceId}`;
      if (!(await coordinator.shouldRun(key))) throw new SchedulerError('SCHEDULER_JOB_BUSY', `job ${jobId} is running on another instance`, { jobId });
    }
    try {
      if (key) job.coordinator!.begin(key);
      const outcome = await this.execute(job, 'manual');
      if (!outcome.ok) throw outcome.error;
      return outcome.result;
    } finally {
      if (key) await job.coordinator!.onComplete(key).catch((error: unknown) => this.logger.warn('scheduler lease release failed', { jobId, error }));
    }
  }

  /** Status of the scheduler and every job (the seed's `{ totalJobs, runningJobs }` and more). */
  getStatus(): SchedulerStatus {
    const jobs = [...this.jobs.values()].map((j): SchedulerJobStatus => ({
      id: j.id,
      tenantId: j.tenantId,
      type: j.type,
      resource: resourceOfJob(j.type),
      schedule: j.config.schedule,
      timezone: j.timezone,
      enabled: j.config.enabled,
      running: j.running,
      runningSince: j.runningSince,
      lastRunAt: j.lastRunAt,
      lastFinishedAt: j.lastFinishedAt,
      lastDurationMs: j.lastDurationMs,
      lastResult: j.lastResult,
      lastError: j.lastError,
      lastErrorCode: j.lastErrorCode,
      lastTrigger: j.lastTrigger,
      nextRunAt: j.task ? j.task.getNextRun() : null,
      runCount: j.runCount,
      failureCount: j.failureCount,
      skippedOverlaps: j.skippedOverlaps,
      lastSkippedAt: j.lastSkippedAt,
      ranElsewhere: j.ranElsewhere,
      lastLeaseError: j.lastLeaseError,
    }));
    return {
      enabled: this.started,
      instanceId: this.instanceId,
      timezone: this.timezone,
      distributed: this.distributed,
      totalJobs: jobs.length,
      activeJobs: jobs.filter((j) => j.enabled && j.nextRunAt !== null).length,
      runningJobs: jobs.filter((j) => j.running).length,
      jobs,
    };
  }

  // The job of that id with this configuration. A job replaced (a tenant updated) keeps its history
  // and a run in progress, which ends in it: `getStatus()` shows it running and `runJobNow` is busy.
  private jobStateFor(id: string, tenantId: string, type: JobState['type'], config: SyncJobConfig, timezone: string): JobState {
    const existing = this.jobs.get(id);
    if (!existing) return this.newJobState(id, tenantId, type, config, timezone);
    existing.config = config;
    existing.timezone = timezone;
    return existing;
  }

  private newJobState(id: string, tenantId: string, type: JobState['type'], config: SyncJobConfig, timezone: string): JobState {
    return {
      id, tenantId, type, config, timezone,
      running: false, runningSince: null,
      lastRunAt: null, lastFinishedAt: null, lastDurationMs: null, lastResult: undefined, lastError: null, lastErrorCode: null, lastTrigger: null,
      runCount: 0, failureCount: 0, skippedOverlaps: 0, lastSkippedAt: null, ranElsewhere: 0, lastLeaseError: null,
    };
  }

  private newCoordinator(job: JobState): LeaseCoordinator {
    return createLeaseCoordinator(this.db!, {
      jobId: job.id,
      holder: this.instanceId,
      ttlMs: this.leaseTtlMs,
      clock: this.clock,
      logger: this.logger,
      onRefused: (refusal, runKey) => {
        if (runKey.startsWith('manual:')) return; // runJobNow reports it by throwing
        if (refusal.reason === 'busy') {
          this.recordSkip(job, { runningOn: refusal.holder, runKey });
        } else {
          job.ranElsewhere++;
          this.logger.debug('scheduled run taken by another instance', { jobId: job.id, runKey, holder: refusal.reason === 'taken' ? refusal.holder : undefined });
        }
      },
    });
  }

  private recordSkip(job: JobState, meta: Record<string, unknown> = {}, message = 'scheduled run skipped: the previous run is still going'): void {
    job.skippedOverlaps++;
    job.lastSkippedAt = this.clock();
    this.logger.warn(message, {
      jobId: job.id, tenantId: job.tenantId, skippedOverlaps: job.skippedOverlaps, runningSince: job.runningSince?.toISOString(), ...meta,
    });
  }

  private arm(job: JobState): void {
    if (job.task) return;
    if (this.distributed && !job.coordinator) job.coordinator = this.newCoordinator(job);
    const task = cron.createTask(job.config.schedule, async (ctx) => {
      // node-cron calls this as soon as the lease is won, even if the task was stopped (stopScheduler,
      // disableJob, removeTenantJobs, a replaced job) while it was being taken: such a tick does not
      // run, and its lease, whose run never began, is deleted in onComplete.
      if (!this.started || job.task !== task || this.jobs.get(job.id) !== job) {
        this.logger.debug('scheduled run not started: the job was stopped while its lease was taken', { jobId: job.id, tick: ctx.date.toISOString() });
        return;
      }
      // A manual run (runJobNow) is not seen by node-cron's own overlap check.
      if (job.running) return this.recordSkip(job);
      job.coordinator?.begin();
      await this.execute(job, 'scheduled', ctx.date);
    }, {
      name: job.id,
      timezone: job.timezone,
      noOverlap: true,
      distributed: this.distributed,
      runCoordinator: job.coordinator,
      distributedLease: this.leaseTtlMs,
      logger: this.cronLogger,
    });
    task.on('execution:overlap', () => this.recordSkip(job));
    task.on('execution:skipped', (ctx) => {
      if (ctx.reason === 'coordinator-error') {
        job.lastLeaseError = `lease table unreachable at ${this.clock().toISOString()}`;
        this.logger.error('scheduled run skipped: lease table unreachable', { jobId: job.id });
      }
    });
    task.on('execution:missed', (ctx) => this.logger.warn('scheduled run missed (event loop blocked?)', { jobId: job.id, at: ctx.date.toISOString() }));
    job.task = task;
    void task.start();
  }

  private disarm(job: JobState): void {
    if (!job.task) return;
    const task = job.task;
    job.task = undefined;
    void task.destroy();
  }

  private async execute(job: JobState, trigger: 'scheduled' | 'manual', scheduledFor?: Date): Promise<RunOutcome> {
    const startedAt = this.clock();
    const controller = new AbortController();
    const previous = { lastRunAt: job.lastRunAt, lastTrigger: job.lastTrigger };
    job.running = true;
    job.runningSince = startedAt;
    job.lastRunAt = startedAt;
    job.lastTrigger = trigger;
    job.runCount++;
    // The tick (`scheduledFor`) is the same on every instance: logs of several instances can be matched on it.
    const meta = { jobId: job.id, tenantId: job.tenantId, resource: resourceOfJob(job.type), trigger, ...(scheduledFor ? { tick: scheduledFor.toISOString() } : {}) };
    this.logger.info('scheduled job started', meta);
    const promise = Promise.resolve().then(() => this.runJob({
      jobId: job.id,
      jobType: job.type,
      tenantId: job.tenantId,
      resource: resourceOfJob(job.type),
      options: runOptionsFor(job.config, startedAt),
      trigger,
      startedAt,
      scheduledFor,
      signal: controller.signal,
    }));
    const run = { jobId: job.id, promise, controller };
    this.runs.add(run);
    let outcome: RunOutcome;
    try {
      outcome = { ok: true, result: await promise };
    } catch (error) {
      outcome = { ok: false, error };
    }
    this.runs.delete(run);
    job.running = false;
    job.runningSince = null;
    if (!outcome.ok && job.type !== 'fullSync' && isAlreadyRunning(outcome.error)) {
      // Another run of this resource (another job, a manual import, another instance) holds its run
      // lock: nothing ran, so this is a skipped tick, not a failure; the previous outcome stays.
      job.runCount--;
      job.lastRunAt = previous.lastRunAt;
      job.lastTrigger = previous.lastTrigger;
      this.recordSkip(job, { reason: 'resource-locked', ...(outcome.error as { details?: Record<string, unknown> }).details }, 'scheduled run skipped: another run is importing this resource');
      return outcome;
    }
    const finishedAt = this.clock();
    job.lastFinishedAt = finishedAt;
    job.lastDurationMs = finishedAt.getTime() - startedAt.getTime();
    if (outcome.ok) {
      job.lastResult = outcome.result;
      job.lastError = null;
      job.lastErrorCode = null;
      this.logger.info('scheduled job finished', { ...meta, durationMs: job.lastDurationMs });
    } else {
      job.failureCount++;
      job.lastResult = undefined;
      job.lastError = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      job.lastErrorCode = codeOf(outcome.error);
      this.logger.error('scheduled job failed', { ...meta, durationMs: job.lastDurationMs, error: outcome.error });
    }
    return outcome;
  }

  private async cleanupLeases(): Promise<void> {
    try {
      const deleted = await deleteExpiredLeases(this.db!, new Date(this.clock().getTime() - this.leaseRetentionMs));
      if (deleted > 0) this.logger.debug('old scheduler leases deleted', { deleted });
    } catch (error) {
      this.logger.warn('scheduler lease cleanup failed', { error });
    }
  }
}

/**
 * Creates the scheduler. Jobs are added per tenant with {@link SchedulerService.addTenantJobs}
 * (the ingestion service does this in `addTenant`) or, on `startScheduler()`, for every tenant
 * the client manager holds.
 *
 * @example
 * ```ts
 * const scheduler = createSchedulerService(prisma, clientManager);
 * scheduler.addTenantJobs('tenant123');
 * await scheduler.startScheduler();
 * scheduler.getStatus().jobs.map((j) => [j.id, j.nextRunAt]);
 * ```
 */
export function createSchedulerService(
  database: PrismaLike | SqlExecutor | DatabaseHandle | undefined | null,
  clientManager?: SchedulerClientSource | null,
  options?: SchedulerOptions,
): SchedulerService {
  return new SchedulerService(database, clientManager, options);
}

/** What a job imports (`all` for the subscription check, which imports nothing: its runner tells by `jobType`). */
function resourceOfJob(type: JobState['type']): SyncResource {
  return type === 'webhookSubscriptions' ? 'all' : resourceOf(type);
}

/** The stable `code` of an error (a `ShopifyIngestError`'s, or a runner's own), or null. */
function codeOf(error: unknown): string | null {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : null;
}

/** An import refused because another run of the same tenant and resource holds its run lock. */
function isAlreadyRunning(error: unknown): boolean {
  return codeOf(error) === 'IMPORT_ALREADY_RUNNING';
}
