/**
 * The service's health checks: what each one looks at, its thresholds, and how facts gathered from
 * the database and from this process become a status with a reason. Pure functions; the queries
 * live in store/health.ts, the wiring in service.ts.
 */
import cron from 'node-cron';
import type { InboxWorkerStatus } from './webhooks/inbox-worker.js';
import type { SchedulerStatus } from './scheduler/scheduler-service.js';
import { SYNC_JOB_TYPES, resourceOf, type SyncConfig } from './scheduler/sync-config.js';
import { enabledResources } from './resources/tenant-resources.js';
import type { DeadLetterFacts, InboxBacklogFacts, ResourceSyncFacts, WaitingDelivery } from './store/health.js';

/** How a check (and the service as a whole) stands: working, working with a problem to look at, or not working. */
export type HealthLevel = 'healthy' | 'degraded' | 'unhealthy';

/** One check's verdict. */
export interface HealthCheckResult {
  /** `unhealthy` only for the database; every other check is `healthy` or `degraded`. */
  status: HealthLevel;
  /** Why, in words, naming tenants, resources or deliveries. */
  reason: string;
  /** When its facts were gathered (ISO-8601; null before the first database check). */
  checkedAt: string | null;
}

/** A delivery named by the inbox checks (`id` is what `replayWebhook` takes). */
export interface HealthDelivery { id: string; tenantId: string; topic: string; receivedAt: string; attempts: number; lastError: string | null }

/**
 * Every check of `HealthStatus`, with the facts its reason is built from. What each looks at and
 * its thresholds: docs/health.md.
 */
export interface HealthChecks {
  /** `SELECT 1` (ms it took). */
  database: HealthCheckResult & { latencyMs: number | null };
  /** Runs in this process when `scheduler.enabled` is not false. */
  scheduler: HealthCheckResult & { expected: boolean; running: boolean };
  /** The in-process inbox worker runs, claims and finishes its batches (when webhooks are configured). */
  webhookWorker: HealthCheckResult & { configured: boolean; running: boolean; busyForMs: number | null; lastError: string | null };
  /** Deliveries stored but not applied yet (all processes): how many, the oldest. */
  inbox: HealthCheckResult & { waiting: number; oldest: HealthDelivery | null; oldestAgeMs: number | null };
  /** Deliveries out of attempts: how many, the newest ten. */
  deadLetters: HealthCheckResult & { count: number; newest: HealthDelivery[] };
  /** Per active tenant and resource: last finished run failed, a run stalled (`lock-lost`, `too-long`), or no success for too long. */
  syncs: HealthCheckResult & {
    tenants: string[];
    failing: Array<{ tenantId: string; resource: string; runId: string; error: string | null; code: string | null; finishedAt: string | null }>;
    stalled: Array<{ tenantId: string; resource: string; runId: string; startedAt: string; why: 'lock-lost' | 'too-long' }>;
    overdue: Array<{ tenantId: string; resource: string; lastSuccessAt: string | null; intervalMs: number }>;
  };
  /** Active tenants that must authorise the app again (first 100). */
  credentials: HealthCheckResult & { needsReauth: string[] };
}

/** The `database` check. */
export type DatabaseCheck = HealthChecks['database'];
/** The `scheduler` check. */
export type SchedulerCheck = HealthChecks['scheduler'];
/** The `webhookWorker` check. */
export type WebhookWorkerCheck = HealthChecks['webhookWorker'];
/** The `inbox` check. */
export type InboxCheck = HealthChecks['inbox'];
/** The `deadLetters` check. */
export type DeadLettersCheck = HealthChecks['deadLetters'];
/** The `syncs` check. */
export type SyncsCheck = HealthChecks['syncs'];
/** The `credentials` check. */
export type CredentialsCheck = HealthChecks['credentials'];
/** A failed sync named by the `syncs` check. */
export type FailingSync = SyncsCheck['failing'][number];
/** A stalled run named by the `syncs` check. */
export type StalledSync = SyncsCheck['stalled'][number];
/** An overdue resource named by the `syncs` check. */
export type OverdueSync = SyncsCheck['overdue'][number];

/**
 * Thresholds of the health checks (defaults in docs/health.md).
 *
 * @example
 * ```ts
 * createIngestionService(prisma, { health: { inbox: { maxWaiting: 5_000 }, syncs: { maxRunMs: 12 * 3_600_000 } } });
 * ```
 */
export interface HealthOptions {
  /** Overdue after `staleAfterIntervals` schedule intervals without success (default 3; 0 = off); stalled after `maxRunMs` running (default 6 h). */
  syncs?: { staleAfterIntervals?: number; maxRunMs?: number };
  /** Degraded above `maxWaiting` deliveries waiting (default 1000) or when one waited `maxAgeMs` (default 5 min). */
  inbox?: { maxWaiting?: number; maxAgeMs?: number };
  /** Degraded when one batch runs longer than `maxBatchMs` (default 5 min, the inbox lock timeout). */
  webhookWorker?: { maxBatchMs?: number };
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
  const enabled = new Map<string, readonly string[]>();
  for (const f of facts) {
    if (!enabled.has(f.tenantId)) enabled.set(f.tenantId, enabledResources(f.tenantConfig));
    // A resource the tenant does not sync (`resources` in its config) is neither failing nor overdue:
    // no job runs it, so nothing would ever clear it. A run of it that stalls is still named.
    const syncs = enabled.get(f.tenantId)!.includes(f.resource);
    if (syncs) pairs++;
    if (syncs && f.finished?.status === 'failed') {
      failing.push({ tenantId: f.tenantId, resource: f.resource, runId: f.finished.id, error: f.finished.error, code: f.finished.errorCode, finishedAt: f.finished.finishedAt?.toISOString() ?? null });
    }
    const latest = f.latest;
    if (latest?.status === 'running') {
      const runningMs = now.getTime() - latest.startedAt.getTime();
      const why = !latest.lockHeld && !latest.lockless ? 'lock-lost' : runningMs > thresholds.maxRunMs ? 'too-long' : null;
      if (why) stalled.push({ tenantId: f.tenantId, resource: f.resource, runId: latest.id, startedAt: latest.startedAt.toISOString(), why });
    }
    if (syncs && thresholds.staleAfterIntervals > 0) {
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
