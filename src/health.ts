/**
 * The service's health checks: what each one looks at, its thresholds, and how facts gathered from
 * the database and from this process become a status with a reason. Pure functions; the queries
 * live in store/health.ts, the wiring in service.ts.
 */
import cron from 'node-cron';
import type { InboxWorkerStatus } from './webhooks/inbox-worker.js';
import type { SchedulerStatus } from './scheduler/scheduler-service.js';
import { SYNC_JOB_TYPES, resourceOf, type SyncConfig } from './scheduler/sync-config.js';
import type { DeadLetterFacts, InboxBacklogFacts, ResourceSyncFacts, WaitingDelivery } from './store/health.js';

/** How a check (and the service as a whole) stands: working, working with a problem to look at, or not working. */
export type HealthLevel = 'healthy' | 'degraded' | 'unhealthy';

/**
 * One check's verdict: a status and a sentence saying why, for a dashboard or an alert.
 *
 * @example
 * ```ts
 * const { inbox } = (await shopifyService.checkHealth()).checks;
 * if (inbox.status !== 'healthy') alert(`webhook inbox: ${inbox.reason}`);
 * ```
 */
export interface HealthCheckResult {
  /** `unhealthy` only for the database; every other check is `healthy` or `degraded`. */
  status: HealthLevel;
  /** Why, in words: what was found, naming tenants, resources or deliveries. */
  reason: string;
  /**
   * When the facts were gathered (ISO-8601): the last database check for the database-backed
   * checks (null before the first), the moment of the call for the in-process ones.
   */
  checkedAt: string | null;
}

/** The `database` check: `SELECT 1`. */
export interface DatabaseCheck extends HealthCheckResult {
  /** How long the ping took (ms); null when it failed or before the first check. */
  latencyMs: number | null;
}

/** The `scheduler` check: runs in this process when the configuration says it should. */
export interface SchedulerCheck extends HealthCheckResult {
  /** The configuration asks for scheduled syncs in this process (`scheduler.enabled` is not false). */
  expected: boolean;
  /** The scheduler is started. */
  running: boolean;
}

/** The `webhookWorker` check: the in-process inbox worker, when webhooks are configured. */
export interface WebhookWorkerCheck extends HealthCheckResult {
  /** Webhooks are enabled in this process (a secret is configured). */
  configured: boolean;
  /** The worker loop runs. */
  running: boolean;
  /** How long its batch in flight has been processing (ms), or null when idle. */
  busyForMs: number | null;
  /** Why its last claim failed, or why its loop crashed. */
  lastError: string | null;
}

/** A delivery named by the inbox checks. */
export interface HealthDelivery {
  /** Inbox row id (what `replayWebhook` takes). */
  id: string;
  /** The tenant. */
  tenantId: string;
  /** The topic. */
  topic: string;
  /** When it was received (ISO-8601). */
  receivedAt: string;
  /** Processing attempts so far. */
  attempts: number;
  /** Why the last attempt failed. */
  lastError: string | null;
}

/** The `inbox` check: deliveries stored but not applied yet, all processes. */
export interface InboxCheck extends HealthCheckResult {
  /** Deliveries `pending` or `processing`. */
  waiting: number;
  /** The oldest of them, or null. */
  oldest: HealthDelivery | null;
  /** How long the oldest has waited (ms), or null. */
  oldestAgeMs: number | null;
}

/** The `deadLetters` check: deliveries out of attempts (`failed`), all processes. */
export interface DeadLettersCheck extends HealthCheckResult {
  /** How many. */
  count: number;
  /** The newest ten, to replay with `webhooks.replayWebhook(id)` once the cause is fixed. */
  newest: HealthDelivery[];
}

/** A tenant's resource whose last finished sync failed. */
export interface FailingSync {
  /** The tenant. */
  tenantId: string;
  /** The resource. */
  resource: string;
  /** The failed run (`shopify_sync_runs.id`). */
  runId: string;
  /** Its error. */
  error: string | null;
  /** When it ended (ISO-8601). */
  finishedAt: string | null;
}

/** A run still marked `running` that is not making progress. */
export interface StalledSync {
  /** The tenant. */
  tenantId: string;
  /** The resource. */
  resource: string;
  /** The run. */
  runId: string;
  /** When it started (ISO-8601). */
  startedAt: string;
  /**
   * `lock-lost`: its run lock is gone or expired, so the process running it stopped renewing it
   * (crashed or hung); `too-long`: it has run longer than `health.syncs.maxRunMs`.
   */
  why: 'lock-lost' | 'too-long';
}

/** A tenant's resource with no successful sync for several of its schedule's intervals. */
export interface OverdueSync {
  /** The tenant. */
  tenantId: string;
  /** The resource. */
  resource: string;
  /** When its last successful sync finished (ISO-8601), or null for never. */
  lastSuccessAt: string | null;
  /** The longest gap between two runs of the schedules that import it (ms). */
  intervalMs: number;
}

/** The `syncs` check: per active tenant and resource, failed, stalled or overdue syncs. */
export interface SyncsCheck extends HealthCheckResult {
  /** Tenants named by any of the lists below. */
  tenants: string[];
  /** Last finished sync failed. */
  failing: FailingSync[];
  /** Running but not progressing. */
  stalled: StalledSync[];
  /** No success for `staleAfterIntervals` x the schedule's interval. */
  overdue: OverdueSync[];
}

/** The `credentials` check: active tenants whose credentials can no longer be renewed. */
export interface CredentialsCheck extends HealthCheckResult {
  /** Their ids (first 100): each needs the merchant to authorise the app again (`updateTenant`). */
  needsReauth: string[];
}

/** Every check of {@link HealthStatus}. */
export interface HealthChecks {
  /** The database answers. */
  database: DatabaseCheck;
  /** Scheduled syncs run in this process when configured to. */
  scheduler: SchedulerCheck;
  /** The in-process webhook worker runs when webhooks are configured. */
  webhookWorker: WebhookWorkerCheck;
  /** The inbox backlog is small and young. */
  inbox: InboxCheck;
  /** No delivery is out of attempts. */
  deadLetters: DeadLettersCheck;
  /** No tenant's sync failed, stalled or is overdue. */
  syncs: SyncsCheck;
  /** No tenant needs re-authorisation. */
  credentials: CredentialsCheck;
}

/**
 * Thresholds of the health checks (the `health` option of `createIngestionService`).
 *
 * @example
 * ```ts
 * createIngestionService(prisma, { health: { inbox: { maxWaiting: 5_000 }, syncs: { maxRunMs: 12 * 3_600_000 } } });
 * ```
 */
export interface HealthOptions {
  /** The `syncs` check. */
  syncs?: {
    /**
     * A resource is overdue when no sync of it succeeded for this many intervals of its schedule
     * (the longest gap between runs of its enabled jobs, its own and `fullSync`). Default 3; 0 turns
     * the overdue test off. A tenant that never synced counts from when it was added.
     */
    staleAfterIntervals?: number;
    /** A run `running` for longer than this is stalled, even while it holds its lock (default 6 h). */
    maxRunMs?: number;
  };
  /** The `inbox` check. */
  inbox?: {
    /** More deliveries waiting than this is degraded (default 1000). */
    maxWaiting?: number;
    /** A delivery waiting longer than this is degraded (default 5 min: longer than the ackPriority deferral and the first retries). */
    maxAgeMs?: number;
  };
  /** The `webhookWorker` check. */
  webhookWorker?: {
    /** A batch processing for longer than this is degraded (default 5 min, the inbox lock timeout after which other workers take its rows over). */
    maxBatchMs?: number;
  };
}

/** {@link HealthOptions} with every default filled in. */
export interface HealthThresholds {
  staleAfterIntervals: number;
  maxRunMs: number;
  maxWaiting: number;
  maxAgeMs: number;
  maxBatchMs: number;
}

export const DEFAULT_HEALTH_THRESHOLDS: Readonly<HealthThresholds> = Object.freeze({
  staleAfterIntervals: 3,
  maxRunMs: 6 * 3_600_000,
  maxWaiting: 1000,
  maxAgeMs: 5 * 60_000,
  maxBatchMs: 5 * 60_000,
});

export function healthThresholds(options: HealthOptions = {}): HealthThresholds {
  const d = DEFAULT_HEALTH_THRESHOLDS;
  return {
    staleAfterIntervals: options.syncs?.staleAfterIntervals ?? d.staleAfterIntervals,
    maxRunMs: options.syncs?.maxRunMs ?? d.maxRunMs,
    maxWaiting: options.inbox?.maxWaiting ?? d.maxWaiting,
    maxAgeMs: options.inbox?.maxAgeMs ?? d.maxAgeMs,
    maxBatchMs: options.webhookWorker?.maxBatchMs ?? d.maxBatchMs,
  };
}

const LEVELS: readonly HealthLevel[] = ['healthy', 'degraded', 'unhealthy'];

/** The worst of the checks' statuses. */
export function overallLevel(checks: HealthChecks): HealthLevel {
  let worst = 0;
  for (const check of Object.values(checks) as HealthCheckResult[]) worst = Math.max(worst, LEVELS.indexOf(check.status));
  return LEVELS[worst]!;
}

/** A check that could not run (its query failed), or has not run yet. */
export function notChecked<T extends HealthCheckResult>(fields: Omit<T, keyof HealthCheckResult>, reason: string, checkedAt: string | null): T {
  return { status: 'degraded', reason, checkedAt, ...fields } as T;
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.round(m / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} days`;
}

function delivery(d: WaitingDelivery): HealthDelivery {
  return { id: d.id, tenantId: d.tenantId, topic: d.topic, receivedAt: d.receivedAt.toISOString(), attempts: d.attempts, lastError: d.lastError };
}

export function schedulerCheck(input: { expected: boolean; initialized: boolean; stopping: boolean; status: SchedulerStatus | undefined; now: Date }): SchedulerCheck {
  const { expected, status } = input;
  const running = Boolean(status?.enabled);
  const base = { expected, running, checkedAt: input.now.toISOString() };
  if (!expected) return { ...base, status: 'healthy', reason: 'off in this process (scheduler.enabled: false): scheduled syncs must run in another instance' };
  if (input.stopping) return { ...base, status: 'degraded', reason: 'stopped: the service is shutting down or was shut down' };
  if (!input.initialized) return { ...base, status: 'degraded', reason: 'not started: initialize() has not finished' };
  if (!running) return { ...base, status: 'degraded', reason: 'stopped (stopScheduler() was called): no scheduled sync runs in this process' };
  return { ...base, status: 'healthy', reason: `running ${status!.activeJobs} of ${status!.totalJobs} jobs, ${status!.runningJobs} running now` };
}

export function webhookWorkerCheck(input: { configured: boolean; initialized: boolean; stopping: boolean; worker: InboxWorkerStatus | undefined; maxBatchMs: number; now: Date }): WebhookWorkerCheck {
  const w = input.worker;
  const base = { configured: input.configured, running: Boolean(w?.running), busyForMs: w?.busyForMs ?? null, lastError: w?.crashed ?? w?.lastError ?? null, checkedAt: input.now.toISOString() };
  if (!input.configured || !w) return { ...base, status: 'healthy', reason: 'webhooks are not enabled in this process' };
  if (input.stopping) return { ...base, status: 'degraded', reason: 'stopped: the service is shutting down or was shut down' };
  if (!input.initialized) return { ...base, status: 'degraded', reason: 'not started: initialize() has not finished' };
  if (w.crashed) return { ...base, status: 'degraded', reason: `stopped: its loop crashed (${w.crashed}); deliveries are stored but not applied` };
  if (!w.running) return { ...base, status: 'degraded', reason: 'stopped (webhooks.stop() was called): deliveries are stored but not applied until webhooks.start()' };
  if (w.busyForMs !== null && w.busyForMs > input.maxBatchMs) {
    return { ...base, status: 'degraded', reason: `stuck: one batch has been processing for ${duration(w.busyForMs)} (more than ${duration(input.maxBatchMs)}); a handler may never return` };
  }
  if (w.lastError) return { ...base, status: 'degraded', reason: `claiming from the inbox fails (since ${w.lastErrorAt?.toISOString()}): ${w.lastError}` };
  return { ...base, status: 'healthy', reason: w.busyForMs !== null ? 'running, applying a batch' : 'running, idle' };
}

export function inboxCheck(facts: InboxBacklogFacts, thresholds: HealthThresholds, now: Date): InboxCheck {
  const oldestAgeMs = facts.oldest ? Math.max(0, now.getTime() - facts.oldest.receivedAt.getTime()) : null;
  const base = { waiting: facts.waiting, oldest: facts.oldest ? delivery(facts.oldest) : null, oldestAgeMs, checkedAt: now.toISOString() };
  const problems: string[] = [];
  if (facts.waiting > thresholds.maxWaiting) problems.push(`${facts.waiting} deliveries waiting (more than ${thresholds.maxWaiting})`);
  if (oldestAgeMs !== null && oldestAgeMs > thresholds.maxAgeMs) {
    const o = facts.oldest!;
    problems.push(`the oldest (${o.topic} for ${o.tenantId}, ${o.id}) has waited ${duration(oldestAgeMs)} (more than ${duration(thresholds.maxAgeMs)})` +
      (o.attempts > 0 ? ` after ${o.attempts} attempt${o.attempts === 1 ? '' : 's'}${o.lastError ? `: ${o.lastError}` : ''}` : ': is a webhook worker running?'));
  }
  if (problems.length > 0) return { ...base, status: 'degraded', reason: `backlog: ${problems.join('; ')}` };
  return { ...base, status: 'healthy', reason: facts.waiting === 0 ? 'nothing waiting' : `${facts.waiting} waiting, the oldest for ${duration(oldestAgeMs!)}` };
}

export function deadLettersCheck(facts: DeadLetterFacts, now: Date): DeadLettersCheck {
  const base = { count: facts.count, newest: facts.newest.map(delivery), checkedAt: now.toISOString() };
  if (facts.count === 0) return { ...base, status: 'healthy', reason: 'no delivery is out of attempts' };
  const topics = [...new Set(facts.newest.map((d) => d.topic))].join(', ');
  const last = facts.newest[0]!;
  return {
    ...base, status: 'degraded',
    reason: `${facts.count} deliver${facts.count === 1 ? 'y' : 'ies'} failed for good (${topics}${facts.count > facts.newest.length ? ', ...' : ''}); newest ${last.id}: ${last.lastError ?? 'no error recorded'}. Fix the cause, then webhooks.replayWebhook(id)`,
  };
}

export function credentialsCheck(needsReauth: string[], now: Date): CredentialsCheck {
  const base = { needsReauth: [...needsReauth], checkedAt: now.toISOString() };
  if (needsReauth.length === 0) return { ...base, status: 'healthy', reason: 'every active tenant\'s credentials work' };
  return { ...base, status: 'degraded', reason: `${needsReauth.length} tenant${needsReauth.length === 1 ? '' : 's'} must authorise the app again (updateTenant): ${needsReauth.join(', ')}` };
}

/**
 * The longest gap between consecutive runs of a cron schedule (over its next 8 runs), memoised per
 * expression and zone: 30 min for `*\/30 * * * *`, a week for `0 1 * * 0`, the longest gap for
 * irregular ones (`0 9,17 * * *`: 16 h).
 */
export function createScheduleIntervals(): (schedule: string, timezone: string) => number | null {
  const cache = new Map<string, number | null>();
  return (schedule, timezone) => {
    const key = `${timezone}\u0000${schedule}`;
    if (cache.has(key)) return cache.get(key)!;
    let interval: number | null = null;
    try {
      // A task that is never started: node-cron computes the runs, nothing ticks. Destroyed at once
      // so it leaves node-cron's registry.
      const task = cron.createTask(schedule, () => {}, { timezone });
      try {
        const runs = task.getNextRuns(8);
        for (let i = 1; i < runs.length; i++) interval = Math.max(interval ?? 0, runs[i]!.getTime() - runs[i - 1]!.getTime());
      } finally {
        void task.destroy();
      }
    } catch {
      interval = null;
    }
    cache.set(key, interval);
    return interval;
  };
}

/**
 * The `syncs` check from the per-(tenant, resource) facts. `configFor` gives a tenant's effective
 * schedule (service `syncConfig` plus the tenant's overrides); `intervalOf` the interval of a
 * schedule.
 */
export function syncsCheck(input: {
  facts: ResourceSyncFacts[];
  configFor: (tenantConfig: Record<string, unknown>) => SyncConfig | null;
  intervalOf: (schedule: string, timezone: string) => number | null;
  thresholds: HealthThresholds;
  now: Date;
}): SyncsCheck {
  const { facts, thresholds, now } = input;
  const failing: FailingSync[] = [];
  const stalled: StalledSync[] = [];
  const overdue: OverdueSync[] = [];
  const tenants = new Set<string>();
  let pairs = 0;
  const configs = new Map<string, SyncConfig | null>();
  for (const f of facts) {
    pairs++;
    if (f.finished?.status === 'failed') {
      failing.push({ tenantId: f.tenantId, resource: f.resource, runId: f.finished.id, error: f.finished.error, finishedAt: f.finished.finishedAt?.toISOString() ?? null });
    }
    const latest = f.latest;
    if (latest?.status === 'running') {
      const runningMs = now.getTime() - latest.startedAt.getTime();
      const why = !latest.lockHeld && !latest.lockless ? 'lock-lost' : runningMs > thresholds.maxRunMs ? 'too-long' : null;
      if (why) stalled.push({ tenantId: f.tenantId, resource: f.resource, runId: latest.id, startedAt: latest.startedAt.toISOString(), why });
    }
    if (thresholds.staleAfterIntervals > 0) {
      if (!configs.has(f.tenantId)) configs.set(f.tenantId, input.configFor(f.tenantConfig));
      const intervalMs = resourceInterval(configs.get(f.tenantId) ?? null, f.resource, input.intervalOf);
      const since = f.lastSuccessAt ?? f.tenantCreatedAt;
      if (intervalMs !== null && now.getTime() - since.getTime() > thresholds.staleAfterIntervals * intervalMs) {
        overdue.push({ tenantId: f.tenantId, resource: f.resource, lastSuccessAt: f.lastSuccessAt?.toISOString() ?? null, intervalMs });
      }
    }
  }
  for (const list of [failing, stalled, overdue]) for (const x of list) tenants.add(x.tenantId);
  const base = { tenants: [...tenants].sort(), failing, stalled, overdue, checkedAt: now.toISOString() };
  const parts: string[] = [];
  if (failing.length) parts.push(`failed: ${failing.map((x) => `${x.tenantId}/${x.resource} (${oneLine(x.error)})`).join(', ')}`);
  if (stalled.length) {
    parts.push(`stalled: ${stalled.map((x) => `${x.tenantId}/${x.resource} (run ${x.runId} started ${duration(now.getTime() - Date.parse(x.startedAt))} ago, ${x.why === 'lock-lost' ? 'its run lock expired: the process running it stopped' : `longer than ${duration(thresholds.maxRunMs)}`})`).join(', ')}`);
  }
  if (overdue.length) {
    parts.push(`overdue: ${overdue.map((x) => `${x.tenantId}/${x.resource} (${x.lastSuccessAt ? `last success ${duration(now.getTime() - Date.parse(x.lastSuccessAt))} ago` : 'never synced'}, scheduled every ${duration(x.intervalMs)})`).join(', ')}`);
  }
  if (parts.length) return { ...base, status: 'degraded', reason: parts.join('; ') };
  const tenantCount = new Set(facts.map((f) => f.tenantId)).size;
  return { ...base, status: 'healthy', reason: tenantCount === 0 ? 'no active tenant' : `${tenantCount} tenant${tenantCount === 1 ? '' : 's'}, ${pairs} resources: none failed, stalled or overdue` };
}

/** The shortest interval among the enabled jobs that import `resource` (its own job, and `fullSync`). */
function resourceInterval(config: SyncConfig | null, resource: string, intervalOf: (schedule: string, timezone: string) => number | null): number | null {
  if (!config) return null;
  let best: number | null = null;
  for (const type of SYNC_JOB_TYPES) {
    const job = config[type];
    const imports = resourceOf(type);
    if (!job?.enabled || (imports !== resource && imports !== 'all')) continue;
    const interval = intervalOf(job.schedule, job.timezone ?? 'UTC');
    if (interval !== null && (best === null || interval < best)) best = interval;
  }
  return best;
}

function oneLine(text: string | null): string {
  if (!text) return 'no error recorded';
  const line = text.replace(/\s+/g, ' ').replace(/^\[shopify-ingest\] /, '');
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
