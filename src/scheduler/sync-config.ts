import cron from 'node-cron';
import { RESOURCES, RESOURCE_NAMES, type ResourceName } from '../resources/registry.js';
import { SchedulerError } from './errors.js';
import { ConfigError } from '../errors.js';

/** The kinds of scheduled job: one per resource of the registry plus the weekly full sync. */
export type SyncJobType = ResourceName | 'fullSync';

/** What a job imports; `fullSync` imports `all`. */
export type SyncResource = ResourceName | 'all';

/**
 * All job types, in the order jobs are listed in the status.
 *
 * @example
 * ```ts
 * SYNC_JOB_TYPES.map((type) => syncJobId(type, 't1'));
 * ```
 */
export const SYNC_JOB_TYPES: readonly SyncJobType[] = Object.freeze([...RESOURCE_NAMES, 'fullSync'] as SyncJobType[]);

/** Options handed to the import of a scheduled run (the seed's Import Options). */
export interface SyncJobOptions {
  /** Rows per database write. */
  batchSize?: number;
  /** Batch writes in flight. */
  concurrency?: number;
  /** Skip records already stored. */
  skipExisting?: boolean;
  /** Write nothing. */
  dryRun?: boolean;
  /** A fixed window. Usually left out in favour of {@link SyncJobConfig.dateWindowDays}. */
  dateRange?: {
    /** Changed at or after (ISO-8601). */
    from?: string;
    /** Changed at or before (ISO-8601). */
    to?: string;
  };
  [option: string]: unknown;
}

/**
 * One job of the seed's `syncConfig`.
 *
 * @example
 * ```ts
 * const orders: SyncJobConfig = { enabled: true, schedule: '*\/30 * * * *', dateWindowDays: 7, options: { batchSize: 50 } };
 * ```
 */
export interface SyncJobConfig {
  /** Whether the job runs. */
  enabled: boolean;
  /** A node-cron expression (5 fields, or 6 with seconds first). */
  schedule: string;
  /** Import options of its runs. */
  options?: SyncJobOptions;
  /**
   * Import only records updated in the last N days, computed when each run starts
   * (`dateRange: { from: now - N days, to: now }`). The seed's README computes this window once,
   * when the config object is built, which would freeze it at process start; computing it per run
   * keeps "the last 7 days" true for a process that runs for weeks.
   */
  dateWindowDays?: number;
  /** IANA time zone of the schedule; defaults to the scheduler's (UTC unless configured). */
  timezone?: string;
}

/** The seed's `syncConfig`: one entry per job type. */
export type SyncConfig = Record<SyncJobType, SyncJobConfig>;

/** Per-tenant or per-service overrides: any job, any field; `options` are merged key by key. */
export type SyncConfigOverrides = { [K in SyncJobType]?: Partial<SyncJobConfig> };

/**
 * The default schedule: each resource's incremental job as its registry entry describes it (the
 * seed's: customers every 6 hours, products daily at 2 AM, orders every 30 minutes), and the weekly
 * full sync. Times are in the scheduler's time zone (UTC by default).
 *
 * The seed's orders job re-lists a 7-day `dateRange` every run; the default job is incremental
 * instead (from the watermark, with the overlap), which lists only what changed: pass
 * `dateWindowDays` (or `options.dateRange`) to get the seed's windowed runs.
 *
 * @example
 * ```ts
 * DEFAULT_SYNC_CONFIG.orders.schedule; // '*\/30 * * * *'
 * ```
 */
export const DEFAULT_SYNC_CONFIG: Readonly<SyncConfig> = Object.freeze({
  ...Object.fromEntries(RESOURCES.map((r) => [r.name, { enabled: r.schedule.enabled, schedule: r.schedule.schedule, options: { ...r.schedule.options } }])),
  // mode 'full': the weekly run re-lists everything, which is also when customers deleted at Shopify
  // (no destroy events exist for them) are found by id reconciliation. It waits up to 30 minutes for
  // a resource another run is importing (the other jobs skip their tick instead), so the weekly run
  // is not lost to a short incremental one. Batches of 250 (the seed's example has 100), the
  // importer's default: its bulk files write faster in batches of a page (docs/benchmarks.md).
  fullSync: { enabled: true, schedule: '0 1 * * 0', options: { batchSize: 250, concurrency: 2, mode: 'full', waitForLockMs: 30 * 60_000 } },
}) as unknown as Readonly<SyncConfig>;

/**
 * Layers overrides on a config (later wins); `options` objects are merged, not replaced. A field
 * given as `undefined` overrides nothing: a tenant's overrides are stored as JSON, which drops such
 * fields, so counting them would give the tenant other jobs after a restart (`enabled: undefined`
 * would disable a job in the process that added the tenant only).
 *
 * @example
 * ```ts
 * mergeSyncConfig(DEFAULT_SYNC_CONFIG, { orders: { options: { batchSize: 25 } } }).orders.options;
 * // { batchSize: 25, concurrency: 3 }
 * ```
 */
export function mergeSyncConfig(base: SyncConfig, ...layers: Array<SyncConfigOverrides | undefined>): SyncConfig {
  for (const layer of layers) assertOverrides(layer);
  const out = {} as SyncConfig;
  for (const type of SYNC_JOB_TYPES) {
    let job: SyncJobConfig = { ...base[type], options: { ...base[type].options } };
    for (const layer of layers) {
      const patch = layer?.[type];
      if (!patch) continue;
      job = { ...job, ...definedFields(patch), options: { ...job.options, ...definedFields(patch.options) } };
    }
    out[type] = job;
  }
  return out;
}

/**
 * A `ConfigError` for a job the SDK does not have (a misspelt `order` would otherwise leave the
 * `orders` job on its defaults without a word) or a `dateWindowDays` that is not a positive number
 * (it failed each run with a `RangeError`).
 */
function assertOverrides(layer: SyncConfigOverrides | undefined): void {
  for (const [type, patch] of Object.entries(layer ?? {})) {
    if (!(SYNC_JOB_TYPES as readonly string[]).includes(type)) {
      throw new ConfigError(`syncConfig: no job "${type}" (the jobs are ${SYNC_JOB_TYPES.join(', ')})`, { details: { job: type } });
    }
    const days = (patch as SyncJobConfig | undefined)?.dateWindowDays;
    if (days !== undefined && !(typeof days === 'number' && Number.isFinite(days) && days > 0)) {
      throw new ConfigError(`syncConfig.${type}.dateWindowDays must be a positive number of days, not ${JSON.stringify(days)}`, { details: { job: type } });
    }
  }
}

/** The fields of `value` that are not `undefined`. */
function definedFields<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The seed's job id.
 *
 * @example
 * ```ts
 * syncJobId('customers', 'tenant123'); // 'customers-sync-tenant123'
 * ```
 */
export function syncJobId(type: SyncJobType, tenantId: string): string {
  return `${type}-sync-${tenantId}`;
}

export function resourceOf(type: SyncJobType): SyncResource {
  return type === 'fullSync' ? 'all' : type;
}

/** Throws a {@link SchedulerError} unless `timezone` is an IANA zone this runtime knows. */
export function assertTimezone(timezone: string, jobId?: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch (cause) {
    throw new SchedulerError('SCHEDULER_INVALID_TIMEZONE', `unknown time zone "${timezone}"${jobId ? ` for job ${jobId}` : ''}`, { jobId, cause });
  }
}

/** Throws a {@link SchedulerError} naming the job unless `schedule` is a valid node-cron expression. */
export function assertSchedule(schedule: string, jobId?: string): void {
  if (typeof schedule !== 'string' || !cron.validate(schedule)) {
    throw new SchedulerError('SCHEDULER_INVALID_SCHEDULE', `invalid cron expression "${String(schedule)}"${jobId ? ` for job ${jobId}` : ''}`, { jobId });
  }
}

/**
 * Throws the {@link SchedulerError} a tenant's jobs would be refused with (every job's schedule and
 * time zone, with these overrides on the defaults), so a caller can refuse them before it saves
 * anything. The service-wide layer is checked when the scheduler is created.
 */
export function assertTenantSyncConfig(tenantId: string, overrides: SyncConfigOverrides | undefined): void {
  assertJobConfigs(mergeSyncConfig(DEFAULT_SYNC_CONFIG as SyncConfig, overrides), (type) => syncJobId(type, tenantId));
}

/** Throws a {@link SchedulerError} naming the job (`nameOf(type)`) for the first job whose schedule or time zone is invalid. */
export function assertJobConfigs(config: SyncConfig, nameOf: (type: SyncJobType) => string): void {
  for (const type of SYNC_JOB_TYPES) {
    assertSchedule(config[type].schedule, nameOf(type));
    if (config[type].timezone !== undefined) assertTimezone(config[type].timezone!, nameOf(type));
  }
}

/**
 * The options of one run: the job's options plus, for windowed jobs, a `dateRange` ending now.
 * An explicit `options.dateRange` wins over `dateWindowDays`.
 *
 * @example
 * ```ts
 * runOptionsFor(DEFAULT_SYNC_CONFIG.orders, new Date('2025-03-10T12:00:00Z')).dateRange;
 * // { from: '2025-03-03T12:00:00.000Z', to: '2025-03-10T12:00:00.000Z' }
 * ```
 */
export function runOptionsFor(job: SyncJobConfig, now: Date): SyncJobOptions {
  const options: SyncJobOptions = { ...job.options };
  if (job.dateWindowDays !== undefined && options.dateRange === undefined) {
    const from = new Date(now.getTime() - job.dateWindowDays * 24 * 60 * 60 * 1000);
    options.dateRange = { from: from.toISOString(), to: now.toISOString() };
  }
  return options;
}
