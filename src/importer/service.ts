import KSUID from 'ksuid';
import { assertTenantId } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { createStore } from '../store/index.js';
import type { PrismaLike } from '../store/prisma-like.js';
import type { DatabaseHandle } from '../store/database-handle.js';
import type { RecordCounts, SyncRunRecord, Checkpoint, IngestStore } from '../store/types.js';
import type { ResourceType } from '../store/rows.js';
import { keyRingFromEnv } from '../crypto/index.js';
import { ShopifyTransformer } from '../transform/index.js';
import { getResource, RESOURCES, RESOURCE_NAMES } from '../resources/registry.js';
import { ImportError } from './errors.js';
import { resolveImportOptions } from './options.js';
import { runResourceSync, type RunContext } from './run.js';
import type { ImportAllResult, ImportClient, ImportOptions, ImportProgress, ImportResult, ImportServiceOptions, ImportTransformer } from './types.js';

/** Default TTL of a run's lock: a process that died blocks the next run of its resource for at most this long. */
export const DEFAULT_RUN_LOCK_TTL_MS = 30_000;

/** Per-resource figures of {@link ImportService.getImportStats}. */
export interface ResourceImportStats {
  /** Latest recorded run of the resource (any status), or null. */
  lastRun: SyncRunRecord | null;
  /** Latest run that succeeded, or null. */
  lastSuccessfulRun: SyncRunRecord | null;
  /** Stored, not deleted records. */
  stored: number;
  /** Highest Shopify `updated_at` fully committed (incremental syncs start from it, minus the overlap). */
  watermark: Date | null;
  /** When a full sync last completed. */
  fullSyncCompletedAt: Date | null;
  /** An interrupted run will be resumed by the next import. */
  resumePending: boolean;
}

/** What {@link ImportService.getImportStats} returns: one entry per resource of the registry, plus these. */
export type ImportStats = { [K in ResourceType]: ResourceImportStats } & {
  /** The tenant. */
  tenantId: string;
  /** Row counts from the database (not deleted), by table key (variants, line items, ...). */
  records: RecordCounts;
  /** Sums over the runs this service instance made. */
  session: {
    /** Runs. */
    runs: number;
    /** Records received. */
    fetched: number;
    /** Records written. */
    imported: number;
    /** Records not written (stored already, or older). */
    skipped: number;
    /** Records that could not be imported. */
    failed: number;
    /** Records found deleted at Shopify. */
    deleted: number;
  };
};

type ProgressListener = (event: ImportProgress) => void;

/**
 * Full and incremental syncs of one tenant's store into PostgreSQL, resource by resource (the
 * registry in `src/resources/`): a GraphQL bulk operation or pages (REST with `source: 'rest'`) ->
 * transform (PII encrypted) -> batched, idempotent upserts, resumable from a checkpoint; one run per
 * tenant and resource at a time across processes. Modes, resume, failures, deletions, `dryRun` and
 * the run lock: docs/importing.md.
 *
 * @example
 * ```ts
 * const importer = createImportService(prisma, client, 'tenant-1', { keyRing });
 * importer.on('progress', (p) => console.log(`${p.resource}: ${p.imported} (${p.ratePerSecond}/s)`));
 * const result = await importer.importCustomers({ batchSize: 100, concurrency: 3 });
 * console.log(`Imported: ${result.imported}, Errors: ${result.errors}`);
 * ```
 */
export class ImportService {
  /** The tenant this importer syncs. */
  readonly tenantId: string;
  private readonly client: ImportClient;
  private readonly store: IngestStore;
  private readonly logger: Logger;
  private readonly options: ImportServiceOptions;
  private readonly listeners = new Set<ProgressListener>();
  private transformer: ImportTransformer | undefined;
  private readonly session = { runs: 0, fetched: 0, imported: 0, skipped: 0, failed: 0, deleted: 0 };

  constructor(database: PrismaLike | DatabaseHandle, client: ImportClient, tenantId: string, options: ImportServiceOptions = {}) {
    assertTenantId(tenantId);
    if (!client || typeof (client as { pages?: unknown }).pages !== 'function') {
      throw new ImportError('createImportService needs a Shopify client with pages() (see createShopifyClient)', { code: 'CONFIG_INVALID' });
    }
    const ttl = options.runLockTtlMs;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 100)) {
      throw new ImportError(`runLockTtlMs must be an integer of at least 100 (ms), got ${String(ttl)}`, { code: 'CONFIG_INVALID' });
    }
    this.tenantId = tenantId;
    this.client = client;
    this.store = options.store ?? createStore(database);
    this.logger = options.logger ?? silentLogger;
    this.options = options;
    this.transformer = options.transformer;
    if (options.onProgress) this.listeners.add(options.onProgress);
  }

  /**
   * Subscribes to progress events (after every committed batch, and once with `done: true`).
   * Returns a function that unsubscribes.
   */
  on(event: 'progress', listener: ProgressListener): () => void {
    if (event !== 'progress') throw new ImportError(`unknown event ${String(event)}; ImportService emits 'progress'`, { code: 'CONFIG_INVALID' });
    this.listeners.add(listener);
    return () => this.off(event, listener);
  }

  /** Removes a progress listener added with `on`. */
  off(_event: 'progress', listener: ProgressListener): void {
    this.listeners.delete(listener);
  }

  /** Imports customers (full or incremental, see the class notes). */
  importCustomers(options?: ImportOptions): Promise<ImportResult> {
    return this.run('customers', options);
  }

  /** Imports products with their variants. */
  importProducts(options?: ImportOptions): Promise<ImportResult> {
    return this.run('products', options);
  }

  /** Imports orders of every status (`status=any`) with their line items and lifecycle events. */
  importOrders(options?: ImportOptions): Promise<ImportResult> {
    return this.run('orders', options);
  }

  /**
   * Imports one resource of the registry by name (`customers`, `products`, `orders`, ...).
   *
   * @example
   * ```ts
   * await importer.importResource('orders', { mode: 'incremental' });
   * ```
   */
  importResource(resource: ResourceType, options?: ImportOptions): Promise<ImportResult> {
    getResource(resource);
    return this.run(resource, options);
  }

  /**
   * Imports every resource of the registry, dependencies first (customers, products, then orders, ...).
   * Each runs even when an earlier one failed; if any failed, an {@link ImportError} is thrown
   * afterwards whose `details.results` holds them all. `resources` limits the run to some. With
   * `source: 'rest'`, resources the REST API cannot list (refunds, transactions, fulfillments ride
   * on GraphQL orders) are left out unless named in `resources`.
   */
  async importAll(options?: ImportOptions & {
    resources?: readonly ResourceType[];
    /**
     * `resources` are what "all" means for the tenant (its enabled ones), not a list asked for by
     * name: over REST, those REST cannot list are skipped as for `all`.
     * @internal
     */
    allOf?: boolean;
    /**
     * Once aborted, no further resource starts (the service is shutting down).
     * @internal
     */
    stopBefore?: AbortSignal;
  }): Promise<ImportAllResult> {
    const results: Partial<ImportAllResult> = {};
    const errors: ImportError[] = [];
    const failed: ResourceType[] = [];
    // Over REST, `all` means every resource REST can list; one named in `resources` fails with SOURCE_UNAVAILABLE instead.
    const rest = resolveImportOptions({ ...this.options.defaults, ...options }).source === 'rest';
    const listable = (name: ResourceType) => !rest || getResource(name).rest !== null;
    const wanted = options?.resources
      ? RESOURCE_NAMES.filter((name) => options.resources!.includes(name) && (!options.allOf || listable(name)))
      : RESOURCE_NAMES.filter(listable);
    const { stopBefore, ...runOptions } = options ?? {};
    for (const [index, resource] of wanted.entries()) {
      if (stopBefore?.aborted) {
        for (const unstarted of wanted.slice(index)) {
          errors.push(new ImportError(`${unstarted}: not started, the service is shutting down`, { code: 'SERVICE_STOPPING' }));
          failed.push(unstarted);
        }
        break;
      }
      try {
        results[resource] = await this.run(resource, runOptions);
      } catch (error) {
        const e = error instanceof ImportError ? error : new ImportError(String((error as Error)?.message ?? error), { cause: error });
        errors.push(e);
        failed.push(resource);
        if (e.result) results[resource] = e.result;
        if (e.code === 'IMPORT_ABORTED' || e.code === 'CONFIG_INVALID') break;
      }
    }
    if (errors.length > 0) {
      throw new ImportError(`importAll of tenant ${this.tenantId}: ${errors.length} resource(s) failed: ${errors.map((e) => e.message.replace(/^\[shopify-ingest\] /, '')).join('; ')}`, {
        // The first failure's code (and cause) at the top; every failure in details.errors.
        cause: errors[0],
        code: errors[0].code,
        retryable: errors.every((e) => e.retryable),
        details: { tenantId: this.tenantId, results, errors: errors.map((e, i) => ({ resource: failed[i], code: e.code, retryable: e.retryable, message: e.message })) },
      });
    }
    return results as ImportAllResult;
  }

  /** Latest runs, checkpoints and database counts of this tenant, plus this instance's totals. */
  async getImportStats(): Promise<ImportStats> {
    const per = async (resource: ResourceType, stored: number): Promise<ResourceImportStats> => {
      const [runs, checkpoint] = await Promise.all([
        this.store.listRuns(this.tenantId, { resource, limit: 20 }),
        this.store.getCheckpoint(this.tenantId, resource) as Promise<Checkpoint | null>,
      ]);
      return {
        lastRun: runs[0] ?? null,
        lastSuccessfulRun: runs.find((r) => r.status === 'succeeded') ?? null,
        stored,
        watermark: checkpoint?.watermark ?? null,
        fullSyncCompletedAt: checkpoint?.fullSyncCompletedAt ?? null,
        resumePending: Boolean(checkpoint?.cursor),
      };
    };
    const records = await this.store.countRecords(this.tenantId);
    const entries = await Promise.all(RESOURCES.map(async (r) => [r.name, await per(r.name, records[r.root.key] ?? 0)] as const));
    return { ...Object.fromEntries(entries), tenantId: this.tenantId, records, session: { ...this.session } } as ImportStats;
  }

  private resolveTransformer(): ImportTransformer {
    if (!this.transformer) {
      // Resolved on first use so a missing ENCRYPTION_KEY fails the first import with a clear
      // ConfigError, not the constructor of a service that may only read stats.
      const keyRing = this.options.keyRing ?? keyRingFromEnv();
      this.transformer = new ShopifyTransformer({ keyRing });
    }
    return this.transformer;
  }

  private async run(resource: ResourceType, options?: ImportOptions): Promise<ImportResult> {
    const resolved = resolveImportOptions({ ...this.options.defaults, ...options });
    const ctx: RunContext = {
      tenantId: this.tenantId,
      client: this.client,
      store: this.store,
      transformer: this.resolveTransformer(),
      logger: this.logger,
      clock: this.options.clock ?? (() => new Date()),
      sleep: this.options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      newRunId: this.options.newRunId ?? (() => KSUID.randomSync().string),
      emitProgress: (event) => { for (const listener of this.listeners) listener(event); },
      runLockTtlMs: this.options.runLockTtlMs ?? DEFAULT_RUN_LOCK_TTL_MS,
      bulk: this.options.bulk,
      telemetry: this.options.telemetry?.forTenant(this.tenantId),
    };
    const tally = (r: ImportResult) => {
      this.session.runs++;
      this.session.fetched += r.fetched;
      this.session.imported += r.imported;
      this.session.skipped += r.skipped;
      this.session.failed += r.failed;
      this.session.deleted += r.deleted;
    };
    try {
      if (!resolved.dryRun) await checkClientShop(this.client, this.store, this.tenantId);
      const result = await runResourceSync(ctx, resource, resolved, options?.onProgress);
      tally(result);
      return result;
    } catch (error) {
      if (error instanceof ImportError && error.result) tally(error.result);
      throw error;
    }
  }
}

/**
 * A client of one shop must not write into a tenant of another: when the client is a
 * `ShopifyClient` talking to the shop itself (behind a `baseUrl`, a proxy or the simulator, the
 * host does not name the shop) and the tenant is registered, their shops must agree.
 */
async function checkClientShop(client: ImportClient, store: IngestStore, tenantId: string): Promise<void> {
  const { shopDomain, baseUrl } = client as { shopDomain?: unknown; baseUrl?: unknown };
  if (typeof shopDomain !== 'string' || baseUrl !== `https://${shopDomain}`) return;
  const tenant = await store.getTenant(tenantId);
  if (tenant && tenant.shopDomain.toLowerCase() !== shopDomain.toLowerCase()) {
    throw new ImportError(`the client given for tenant ${tenantId} is for ${shopDomain}, but the tenant's shop is ${tenant.shopDomain}: nothing was imported`, { code: 'CONFIG_INVALID', details: { tenantId, shop: shopDomain, tenantShop: tenant.shopDomain } });
  }
}

/**
 * Creates an {@link ImportService} for one tenant (the seed's factory).
 *
 * @param database  your PrismaClient (its schema includes the shopify_* models), or a handle from createDatabaseHandle
 * @param client  a Shopify client for this tenant's shop (`createShopifyClient`)
 * @param tenantId your tenant's id; every row written carries it
 *
 * @example
 * ```ts
 * const importer = createImportService(prisma, shopifyClient, tenantId);
 * const result = await importer.importCustomers({ batchSize: 100, concurrency: 3, skipExisting: false });
 * const stats = await importer.getImportStats();
 * ```
 */
export function createImportService(database: PrismaLike | DatabaseHandle, client: ImportClient, tenantId: string, options?: ImportServiceOptions): ImportService {
  return new ImportService(database, client, tenantId, options);
}
