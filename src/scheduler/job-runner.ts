import type { PrismaLike } from '../store/prisma-like.js';
import type { DatabaseHandle } from '../store/database-handle.js';
import type { SyncJobOptions, SyncJobType, SyncResource } from './sync-config.js';

/** What the scheduler asks a runner to do for one run of a job. */
export interface ScheduledRun {
  /** The job. */
  jobId: string;
  /** Which job. */
  jobType: SyncJobType | 'webhookSubscriptions';
  /** The tenant. */
  tenantId: string;
  /** What to import. */
  resource: SyncResource;
  /** The job's options for this run (windowed jobs carry a fresh `dateRange`). */
  options: SyncJobOptions;
  /** `scheduled` for a cron tick, `manual` for {@link SchedulerService.runJobNow}. */
  trigger: 'scheduled' | 'manual';
  /** When the run started (scheduler clock). */
  startedAt: Date;
  /** The cron tick this run is for (`scheduled` runs only): the same on every instance. */
  scheduledFor?: Date;
  /** Aborted by `stopScheduler({ abortRunning: true })`; pass it on to the import. */
  signal: AbortSignal;
}

/** Runs one scheduled import; its resolved value becomes the job's `lastResult`. */
export type JobRunner = (run: ScheduledRun) => Promise<unknown>;

/** The part of a ClientManager the scheduler uses. */
export interface SchedulerClientSource {
  /** The tenant's client. */
  getClient(tenantId: string): unknown;
  /** Tenants with a client; `startScheduler()` schedules jobs for each of them. */
  tenantIds?(): Iterable<string>;
  /** Used when `tenantIds` is absent: items `id`, `[id, client]` or `{ tenantId }`. */
  clients?(): Iterable<unknown> | AsyncIterable<unknown>;
}

interface ImporterModule {
  createImportService(database: PrismaLike | DatabaseHandle, client: unknown, tenantId: string, options?: Record<string, unknown>): {
    importResource(resource: string, options?: unknown): Promise<unknown>;
    importAll(options?: unknown): Promise<unknown>;
  };
}

/**
 * The default runner: imports through `createImportService(prisma, clientManager.getClient(tenantId), tenantId)`.
 * The importer is loaded on the first run, so a scheduler given its own runner never loads it.
 *
 * @example
 * ```ts
 * const scheduler = createSchedulerService(prisma, clientManager, { runJob: createImporterJobRunner(prisma, clientManager) });
 * ```
 */
export function createImporterJobRunner(
  database: PrismaLike | DatabaseHandle,
  clientManager: SchedulerClientSource,
  /** Passed to `createImportService` (e.g. `{ keyRing, logger }`); default: the key ring from ENCRYPTION_KEY. */
  importServiceOptions?: Record<string, unknown>,
): JobRunner {
  return async (run) => {
    const { createImportService } = (await import('../importer/index.js')) as unknown as ImporterModule;
    const importer = createImportService(database, clientManager.getClient(run.tenantId), run.tenantId, importServiceOptions);
    const options = { ...run.options, signal: run.signal };
    // Every resource of the registry by name (the seed's importCustomers/-Products/-Orders are the same runs).
    return run.resource === 'all' ? importer.importAll(options) : importer.importResource(run.resource, options);
  };
}

/** Tenant ids from `clientManager.tenantIds()` or `clients()`, whatever its item shape (`id`, `[id, client]` or `{ tenantId }`). */
export async function tenantIdsOf(source: SchedulerClientSource): Promise<string[]> {
  if (typeof source.tenantIds === 'function') return [...source.tenantIds()];
  if (typeof source.clients !== 'function') return [];
  const ids: string[] = [];
  for await (const item of source.clients() as AsyncIterable<unknown>) {
    if (typeof item === 'string') ids.push(item);
    else if (Array.isArray(item) && typeof item[0] === 'string') ids.push(item[0]);
    else if (item && typeof (item as { tenantId?: unknown }).tenantId === 'string') ids.push((item as { tenantId: string }).tenantId);
  }
  return ids;
}
