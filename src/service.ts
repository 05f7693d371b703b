/**
 * The facade: one object that wires the client manager, importer, webhook service and scheduler
 * for every tenant, as the seed's `createIngestionService(prisma)` promises.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError, ShopifyIngestError, TenantError, assertTenantId } from './errors.js';
import { createJsonLogger, type Logger } from './logger.js';
import { createKeyRing, DecryptError, EncryptionKeyMismatchError, type KeyRing } from './crypto/index.js';
import { ClientManager, ShopifyApiError, type ClientDefaults, type ShopifyClient } from './client/index.js';
import { createImportService, type ImportAllResult, type ImportOptions, type ImportProgress, type ImportResult, type ImportService } from './importer/index.js';
import { createWebhookService, type WebhookService, type WebhookServiceOptions, type WebhookStats } from './webhooks/index.js';
import { createSchedulerService, type ScheduledRun, type SchedulerOptions, type SchedulerService, type SchedulerStatus, type SyncConfigOverrides } from './scheduler/index.js';
import { createAuthMiddleware as createAuth, type AuthMiddleware } from './auth/index.js';
import { authOptionsOf, loadConfig, requireFor, webhookSecretsOf, type IngestionConfig } from './config/index.js';
import { createStore, explainDatabaseError, migrate, type IngestStore, type PrismaLike, type RecordCounts, type TenantRecord } from './store/index.js';
import { createNodeWebhookHandler } from './node/index.js';

/** What `importData` accepts as its data type. */
export type DataType = 'customers' | 'products' | 'orders' | 'all';

/** Credentials of a store, as `addTenant` takes them. */
export interface TenantCredentials {
  /** The shop, `acme.myshopify.com` (`acme` and `https://acme.myshopify.com/` are normalised). */
  shopDomain: string;
  /** Admin API access token of the store (`shpat_...`); stored encrypted. */
  accessToken: string;
  /** Admin API version for this store (default SHOPIFY_API_VERSION). */
  apiVersion?: string;
}

/** Per-tenant settings kept in the tenant record (`shopify_tenants.config`). */
export interface TenantConfig {
  /** Display name; defaults to the shop's name from Shopify. */
  name?: string;
  /** Overrides of the service's sync schedule for this tenant. */
  syncConfig?: SyncConfigOverrides;
  /** Client options for this tenant (e.g. `baseUrl` to point it at the simulator). */
  client?: Pick<ClientDefaults, 'baseUrl' | 'apiVersion' | 'timeoutMs'>;
}

/**
 * Options of {@link createIngestionService}: every {@link IngestionConfig} setting (overriding its
 * environment variable) plus the parts to inject.
 */
export interface IngestionServiceOptions extends Partial<IngestionConfig> {
  /** Environment read for the seed's variables (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Where the service logs (default: JSON lines on stdout at LOG_LEVEL). */
  logger?: Logger;
  /** Encrypts PII and access tokens; default built from ENCRYPTION_KEY. */
  keyRing?: KeyRing;
  /** The current time (default `new Date()`); tests inject a fake clock. */
  clock?: () => Date;
  /** Default `createStore(prisma)`. */
  store?: IngestStore;
  /** Options applied to every tenant's client (timeouts, retries, `baseUrl` for tests). */
  clientDefaults?: ClientDefaults;
  /** Use this client manager instead of creating one. */
  clientManager?: ClientManager;
  /** Scheduler settings; `enabled: false` keeps jobs from running in this process. */
  scheduler?: SchedulerOptions & {
    /** Run scheduled jobs in this process (default true). */
    enabled?: boolean;
  };
  /** Webhook settings; `enabled: false` skips the webhook service. Enabled by default when a secret is configured. */
  webhooks?: Omit<WebhookServiceOptions, 'keyRing' | 'store' | 'logger'> & {
    /** Set false to skip the webhook service even with a secret configured. */
    enabled?: boolean;
    /** Path `setupWebhookEndpoints` mounts (default `/api/webhooks/shopify`). */
    path?: string;
  };
  /** Apply pending migrations in `initialize()` (default true). */
  autoMigrate?: boolean;
  /** How long `shutdown()` waits for running imports and webhook processing (default 30 s). */
  shutdownTimeoutMs?: number;
  /** How often the database is pinged for `getHealthStatus()` (default 30 s; 0 = never). */
  healthCheckIntervalMs?: number;
  /** Called with the progress of every import run (CLI progress bars, dashboards). */
  onProgress?: (event: ImportProgress) => void;
  /**
   * `initialize()` checks that the key ring decrypts every stored tenant's token and fails with
   * {@link EncryptionKeyMismatchError} otherwise (default true). Off only for tools that never
   * read a token, e.g. removing tenants whose key was lost.
   */
  checkEncryptionKey?: boolean;
}

/** The seed's tenant sync status entry. */
export interface TenantSyncStatus {
  /** Your tenant id. */
  tenantId: string;
  /** Display name. */
  tenantName: string | null;
  /** The shop. */
  shopDomain: string;
  /** False once removed. */
  isActive: boolean;
  /** When the last successful sync finished (ISO-8601), or null. */
  lastSync: string | null;
  /** `idle`, `running` or `error`. */
  syncStatus: TenantRecord['syncStatus'];
  /** Message of the last failed sync. */
  lastError: string | null;
  /** Rows stored for the tenant. */
  stats: {
    /** Customers. */
    customers: number;
    /** Products. */
    products: number;
    /** Orders. */
    orders: number;
  };
  /** Active, with a client in this process, and its last sync did not fail. */
  healthStatus: boolean;
  /** The client's REST bucket as last seen, or null without a client in this process. */
  rateLimitStatus: {
    /** Calls in the bucket. */
    callsMade: number;
    /** Bucket size. */
    bucketSize: number;
    /** Whether requests are being held back. */
    isLimited: boolean;
  } | null;
}

/** What {@link IngestionService.getHealthStatus} reports. */
export interface HealthStatus {
  /** `unhealthy` when the database is unreachable, `degraded` when a part is not running. */
  status: 'healthy' | 'degraded' | 'unhealthy';
  /** Each part. */
  services: {
    /** The last database check. */
    database: {
      /** Whether `SELECT 1` succeeded. */
      reachable: boolean;
      /** When it was checked (ISO-8601); null before the first check. */
      checkedAt: string | null;
      /** Why it failed. */
      error?: string;
    };
    /** Tenants with a client in this process. */
    clients: number;
    /** The scheduler. */
    scheduler: {
      /** Whether it runs jobs in this process. */
      enabled: boolean;
      /** Scheduled jobs. */
      totalJobs: number;
      /** Jobs running now. */
      runningJobs: number;
    };
    /** The webhook service. */
    webhooks: {
      /** Whether it runs (a secret is configured). */
      enabled: boolean;
    };
  };
  /** Seconds since the service was created. */
  uptime: number;
}

/** What {@link IngestionService.getStatistics} reports. */
export interface IngestionStatistics {
  /** Tenants, active or not. */
  totalTenants: number;
  /** Active tenants. */
  activeTenants: number;
  /** Rows across tenants. */
  totalRecords: {
    /** Customers. */
    customers: number;
    /** Products. */
    products: number;
    /** Orders. */
    orders: number;
    /** Product variants. */
    variants: number;
    /** Order line items. */
    lineItems: number;
  };
  /** The scheduler's jobs. */
  syncJobs: {
    /** Whether the scheduler runs jobs in this process. */
    enabled: boolean;
    /** Scheduled jobs. */
    totalJobs: number;
    /** Jobs whose schedule is active. */
    activeJobs: number;
    /** Jobs running now. */
    runningJobs: number;
  };
  /** Webhook counters, or null without the webhook service. */
  webhookStats: WebhookStats | null;
}

const DATA_TYPES: readonly DataType[] = ['customers', 'products', 'orders', 'all'];
const DEFAULT_WEBHOOK_PATH = '/api/webhooks/shopify';

/**
 * Shopify ingestion for many tenants: clients, imports, webhooks and scheduled syncs behind one object.
 *
 * @example
 * ```ts
 * const shopifyService = createIngestionService(prisma);
 * await shopifyService.initialize();
 * await shopifyService.addTenant('tenant-123', { shopDomain: 'newstore.myshopify.com', accessToken: 'shpat_xxxxx' });
 * const result = await shopifyService.importData('tenant-123', 'all', { batchSize: 50 });
 * ```
 */
export class IngestionService {
  /** The configuration in force (options over environment variables). */
  readonly config: IngestionConfig;
  /** The SDK's data access (tenants, synced rows, runs, failures). */
  readonly store: IngestStore;
  /** One Shopify client per tenant. */
  readonly clientManager: ClientManager;
  /** The service's logger. */
  readonly logger: Logger;
  private readonly prisma: PrismaLike;
  private readonly options: IngestionServiceOptions;
  private readonly clock: () => Date;
  private readonly startedAt: Date;
  private keyRingValue: KeyRing | undefined;
  private schedulerValue: SchedulerService | undefined;
  private webhooksValue: WebhookService | undefined;
  private readonly importers = new Map<string, ImportService>();
  private readonly running = new Set<Promise<unknown>>();
  private initialized = false;
  private stopping = false;
  private healthTimer: ReturnType<typeof setInterval> | undefined;
  private database: HealthStatus['services']['database'] = { reachable: true, checkedAt: null };

  constructor(prisma: PrismaLike, options: IngestionServiceOptions = {}) {
    if (!prisma || typeof prisma.$queryRawUnsafe !== 'function') {
      throw new ConfigError('createIngestionService(prisma): pass a PrismaClient (with a driver adapter) whose schema includes the shopify_* models');
    }
    const { env = process.env, logger, keyRing, clock, store, clientDefaults, clientManager, scheduler, webhooks, autoMigrate, shutdownTimeoutMs, healthCheckIntervalMs, onProgress, checkEncryptionKey, ...overrides } = options;
    void [scheduler, webhooks, autoMigrate, shutdownTimeoutMs, healthCheckIntervalMs, onProgress, checkEncryptionKey];
    this.prisma = prisma;
    this.options = options;
    this.config = loadConfig(overrides, env, { require: [] });
    this.logger = logger ?? createJsonLogger({ level: this.config.logLevel });
    this.clock = clock ?? (() => new Date());
    this.startedAt = this.clock();
    this.keyRingValue = keyRing;
    this.store = store ?? createStore(prisma);
    // SHOPIFY_LEAK_RATE / SHOPIFY_API_CALL_LIMIT only when set: otherwise the limiter learns the
    // bucket from Shopify's headers and derives the leak rate from it (Plus stores leak 20/s, not 2/s).
    const explicit = (option: unknown, variable: string) => option !== undefined || (env[variable] ?? '') !== '';
    this.clientManager = clientManager ?? new ClientManager({
      logger: this.logger,
      apiVersion: this.config.apiVersion,
      limiter: {
        ...(explicit(overrides.apiCallLimit, 'SHOPIFY_API_CALL_LIMIT') ? { bucketSize: this.config.apiCallLimit } : {}),
        ...(explicit(overrides.leakRate, 'SHOPIFY_LEAK_RATE') ? { leakRate: this.config.leakRate } : {}),
      },
      ...clientDefaults,
    } as ConstructorParameters<typeof ClientManager>[0]);
  }

  /** The key ring that encrypts PII and access tokens (ENCRYPTION_KEY unless one was passed). */
  get keyRing(): KeyRing {
    if (!this.keyRingValue) {
      requireFor(this.config, ['encryption']);
      this.keyRingValue = createKeyRing({
        key: this.config.encryptionKey!,
        previousKeys: this.config.encryptionPreviousKeys,
        blindIndexKey: this.config.blindIndexKey,
      });
    }
    return this.keyRingValue;
  }

  /** The scheduler (available after `initialize()`). */
  get scheduler(): SchedulerService | undefined {
    return this.schedulerValue;
  }

  /** The webhook service (available after `initialize()` when a webhook secret is configured). */
  get webhooks(): WebhookService | undefined {
    return this.webhooksValue;
  }

  /**
   * Migrates the database, restores a client for every active tenant, starts the webhook worker
   * and the scheduler. Fails fast on missing configuration (e.g. ENCRYPTION_KEY).
   */
  async initialize(): Promise<void> {
    if (this.initialized) return;
    void this.keyRing;
    try {
      if (this.options.autoMigrate !== false) await migrate(this.prisma, { logger: this.logger });
      if (this.options.checkEncryptionKey !== false) await this.assertKeyRingOpensTenants();
    } catch (error) {
      throw explainDatabaseError(error, 'initialize');
    }
    await this.pingDatabase();

    const webhookOptions = this.options.webhooks ?? {};
    const secrets = webhookOptions.secrets ?? (webhookSecretsOf(this.config).length ? webhookSecretsOf(this.config) : undefined);
    if (webhookOptions.enabled !== false && secrets) {
      const { enabled: _enabled, path: _path, ...rest } = webhookOptions;
      this.webhooksValue = createWebhookService(this.prisma, { ...rest, secrets, keyRing: this.keyRing, store: this.store, logger: this.logger });
      this.webhooksValue.start();
    } else if (webhookOptions.enabled === true) {
      throw new ConfigError('webhooks are enabled but no secret is configured: set SHOPIFY_API_SECRET');
    }

    const { enabled: schedulerEnabled = true, ...schedulerOptions } = this.options.scheduler ?? {};
    this.schedulerValue = createSchedulerService(this.prisma, this.clientManager, {
      logger: this.logger,
      ...schedulerOptions,
      runJob: schedulerOptions.runJob ?? ((run) => this.runScheduledImport(run)),
    });

    for (const tenant of await this.store.listTenants({ activeOnly: true })) {
      try {
        this.restoreClient(tenant);
        this.schedulerValue.addTenantJobs(tenant.id, tenantConfigOf(tenant).syncConfig);
      } catch (error) {
        this.logger.error('could not restore tenant', { tenantId: tenant.id, shop: tenant.shopDomain, error });
      }
    }
    if (schedulerEnabled) await this.schedulerValue.startScheduler();

    const interval = this.options.healthCheckIntervalMs ?? 30_000;
    if (interval > 0) {
      this.healthTimer = setInterval(() => void this.pingDatabase(), interval);
      this.healthTimer.unref?.();
    }
    this.initialized = true;
    this.logger.info('shopify-ingest initialized', { tenants: this.clientManager.size, webhooks: Boolean(this.webhooksValue), scheduler: schedulerEnabled });
  }

  /**
   * Connects a store: checks the credentials against Shopify (a rejected token throws and saves
   * nothing), stores the token encrypted, creates the client and schedules the tenant's jobs.
   */
  async addTenant(tenantId: string, credentials: TenantCredentials, config: TenantConfig = {}): Promise<TenantRecord> {
    assertTenantId(tenantId);
    if (!credentials || typeof credentials.accessToken !== 'string' || credentials.accessToken.trim() === '') {
      throw new ConfigError(`addTenant(${tenantId}): an access token is required`);
    }
    const existing = await this.store.getTenantByShop(credentials.shopDomain.trim().toLowerCase());
    if (existing && existing.id !== tenantId) {
      throw new ShopifyIngestError('TENANT_SHOP_IN_USE', `addTenant(${tenantId}): shop ${existing.shopDomain} is already connected to tenant ${existing.id}`, { details: { tenantId, shop: existing.shopDomain, connectedTo: existing.id } });
    }
    const client = this.clientManager.addClient(tenantId, credentials, { ...config.client });
    let shopName: string | null = null;
    try {
      const body = await client.get<{ shop?: { name?: string } }>('/shop.json');
      shopName = body?.shop?.name ?? null;
    } catch (error) {
      await this.clientManager.removeClient(tenantId);
      if (existing) this.restoreClient(existing);
      const status = error instanceof ShopifyApiError ? ` (HTTP ${error.status})` : '';
      throw new ShopifyIngestError('TENANT_CREDENTIALS_INVALID', `addTenant(${tenantId}): Shopify rejected the credentials for ${client.shopDomain}${status}`, { cause: error, details: { tenantId, shop: client.shopDomain } });
    }
    const record = await this.store.upsertTenant({
      id: tenantId,
      name: config.name ?? shopName,
      shopDomain: client.shopDomain,
      accessTokenEnc: this.keyRing.encrypt(credentials.accessToken, tenantId),
      config: { ...(config.syncConfig ? { syncConfig: config.syncConfig } : {}), ...(config.client ? { client: config.client } : {}), ...(credentials.apiVersion ? { apiVersion: credentials.apiVersion } : {}) },
    });
    await this.store.setTenantActive(tenantId, true);
    if (this.schedulerValue) {
      this.schedulerValue.removeTenantJobs(tenantId);
      this.schedulerValue.addTenantJobs(tenantId, config.syncConfig);
    }
    this.importers.delete(tenantId);
    this.logger.info('tenant added', { tenantId, shop: client.shopDomain });
    return { ...record, isActive: true };
  }

  /** Disconnects a store: removes the client, disables its jobs, marks it inactive. Data is kept unless `purge`. */
  async removeTenant(tenantId: string, options: { purge?: boolean } = {}): Promise<void> {
    assertTenantId(tenantId);
    const tenant = await this.store.getTenant(tenantId);
    if (!tenant) throw new TenantError('TENANT_NOT_FOUND', `removeTenant: no tenant ${tenantId}`, tenantId);
    this.schedulerValue?.removeTenantJobs(tenantId);
    await this.clientManager.removeClient(tenantId);
    this.importers.delete(tenantId);
    if (options.purge) await this.store.purgeTenant(tenantId, { includeTenant: true });
    else await this.store.setTenantActive(tenantId, false);
    this.logger.info('tenant removed', { tenantId, purged: Boolean(options.purge) });
  }

  /** The tenant's client (restored from the database when this process has not created it yet). */
  async getClient(tenantId: string): Promise<ShopifyClient> {
    assertTenantId(tenantId);
    if (this.clientManager.hasClient(tenantId)) return this.clientManager.getClient(tenantId);
    const tenant = await this.store.getTenant(tenantId);
    if (!tenant) throw new TenantError('TENANT_NOT_FOUND', `no tenant ${tenantId}: call addTenant first`, tenantId);
    if (!tenant.isActive) throw new TenantError('TENANT_INACTIVE', `tenant ${tenantId} is inactive`, tenantId);
    return this.restoreClient(tenant);
  }

  /** The importer of one tenant (one per tenant, so its stats accumulate). */
  async getImportService(tenantId: string): Promise<ImportService> {
    const cached = this.importers.get(tenantId);
    if (cached) return cached;
    const client = await this.getClient(tenantId);
    const importer = createImportService(this.prisma, client, tenantId, {
      keyRing: this.keyRing,
      store: this.store,
      logger: this.logger,
      clock: this.clock,
      defaults: { batchSize: this.config.defaultBatchSize, concurrency: this.config.defaultConcurrency },
      onProgress: this.options.onProgress,
    });
    this.importers.set(tenantId, importer);
    return importer;
  }

  /**
   * Runs an import now: `customers`, `products`, `orders` or `all`.
   *
   * @example
   * ```ts
   * await shopifyService.importData('tenant-123', 'orders', { dateRange: { from: '2024-01-01T00:00:00Z' } });
   * ```
   */
  async importData(tenantId: string, dataType: DataType = 'all', options: ImportOptions = {}): Promise<ImportResult | ImportAllResult> {
    if (!DATA_TYPES.includes(dataType)) {
      throw new ConfigError(`importData: dataType must be one of ${DATA_TYPES.join(', ')} (got ${JSON.stringify(dataType)})`);
    }
    if (this.stopping) throw new ShopifyIngestError('SERVICE_STOPPING', 'importData: the service is shutting down');
    const importer = await this.getImportService(tenantId);
    const run = dataType === 'customers' ? importer.importCustomers(options)
      : dataType === 'products' ? importer.importProducts(options)
      : dataType === 'orders' ? importer.importOrders(options)
      : importer.importAll(options);
    this.running.add(run);
    try {
      return await run;
    } finally {
      this.running.delete(run);
    }
  }

  /** Sync status of every tenant: counts from the database, rate-limit status from the live client. */
  async getSyncStatus(): Promise<TenantSyncStatus[]> {
    const tenants = await this.store.listTenants();
    return Promise.all(tenants.map(async (tenant) => {
      const counts = await this.store.countRecords(tenant.id);
      const client = this.clientManager.hasClient(tenant.id) ? this.clientManager.getClient(tenant.id) : undefined;
      const rate = client?.getRateLimitStatus();
      return {
        tenantId: tenant.id,
        tenantName: tenant.name,
        shopDomain: tenant.shopDomain,
        isActive: tenant.isActive,
        lastSync: tenant.lastSyncAt ? tenant.lastSyncAt.toISOString() : null,
        syncStatus: tenant.syncStatus,
        lastError: tenant.lastError,
        stats: { customers: counts.customers, products: counts.products, orders: counts.orders },
        healthStatus: tenant.isActive && Boolean(client) && tenant.syncStatus !== 'error',
        rateLimitStatus: rate ? { callsMade: rate.callsMade, bucketSize: rate.bucketSize, isLimited: rate.isLimited } : null,
      };
    }));
  }

  /**
   * Health from the last database check (run every `healthCheckIntervalMs` and on `checkHealth()`):
   * `unhealthy` when the database is unreachable, `degraded` when a tenant's last sync failed or
   * webhooks are configured but not running.
   */
  getHealthStatus(): HealthStatus {
    const scheduler = this.schedulerValue?.getStatus();
    let status: HealthStatus['status'] = 'healthy';
    if (!this.database.reachable) status = 'unhealthy';
    else if (this.stopping || (this.initialized && !scheduler?.enabled && this.options.scheduler?.enabled !== false)) status = 'degraded';
    return {
      status,
      services: {
        database: { ...this.database },
        clients: this.clientManager.size,
        scheduler: { enabled: Boolean(scheduler?.enabled), totalJobs: scheduler?.totalJobs ?? 0, runningJobs: scheduler?.runningJobs ?? 0 },
        webhooks: { enabled: Boolean(this.webhooksValue) },
      },
      uptime: Math.floor((this.clock().getTime() - this.startedAt.getTime()) / 1000),
    };
  }

  /** Pings the database now, then returns {@link getHealthStatus}. */
  async checkHealth(): Promise<HealthStatus> {
    await this.pingDatabase();
    return this.getHealthStatus();
  }

  /** Totals across tenants, scheduler job counts and webhook counters. */
  async getStatistics(): Promise<IngestionStatistics> {
    const tenants = await this.store.listTenants();
    const totals: RecordCounts = { customers: 0, products: 0, variants: 0, orders: 0, lineItems: 0 };
    for (const tenant of tenants) {
      const counts = await this.store.countRecords(tenant.id);
      for (const key of Object.keys(totals) as (keyof RecordCounts)[]) totals[key] += counts[key];
    }
    const scheduler: SchedulerStatus | undefined = this.schedulerValue?.getStatus();
    return {
      totalTenants: tenants.length,
      activeTenants: tenants.filter((t) => t.isActive).length,
      totalRecords: { customers: totals.customers, products: totals.products, orders: totals.orders, variants: totals.variants, lineItems: totals.lineItems },
      syncJobs: { enabled: Boolean(scheduler?.enabled), totalJobs: scheduler?.totalJobs ?? 0, activeJobs: scheduler?.activeJobs ?? 0, runningJobs: scheduler?.runningJobs ?? 0 },
      webhookStats: this.webhooksValue ? await this.webhooksValue.getStats() : null,
    };
  }

  /**
   * Mounts the webhook endpoint (default `POST /api/webhooks/shopify`) on an Express-style app,
   * reading the raw body itself. Routes registered after it get their JSON body parsed (as the
   * seed's sync route expects `req.body`), unless `parseJson: false`.
   */
  setupWebhookEndpoints(app: ExpressLikeApp, options: { path?: string; parseJson?: boolean } = {}): void {
    const webhooks = this.requireWebhooks('setupWebhookEndpoints');
    const path = options.path ?? this.options.webhooks?.path ?? DEFAULT_WEBHOOK_PATH;
    const handle = createNodeWebhookHandler(webhooks.handleDelivery, {
      mountHint: "mount setupWebhookEndpoints(app) before app.use(express.json()), or use shopify-ingest/express's captureRawBody",
      onError: (error) => this.logger.error('webhook endpoint failed', { error }),
    });
    app.post(path, (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => {
      handle(req, res).catch(next);
    });
    if (options.parseJson !== false && typeof app.use === 'function') app.use(jsonBodyParser());
  }

  /** Express-style middleware protecting the host's sync endpoints (Shopify session tokens and/or INGEST_API_KEYS). */
  createAuthMiddleware(): AuthMiddleware {
    const auth = authOptionsOf(this.config);
    if (!auth.apiKeys.length && !(auth.apiKey && auth.apiSecret)) {
      throw new ConfigError('createAuthMiddleware: nothing to authenticate with: set INGEST_API_KEYS, or SHOPIFY_API_KEY and SHOPIFY_API_SECRET for session tokens');
    }
    return createAuth({ ...auth, logger: this.logger, now: this.clock });
  }

  /**
   * Stops the scheduler, lets running imports finish and checkpoint (bounded by `timeoutMs`),
   * drains the webhook worker and stops the clients' limiters. The Prisma client is yours to disconnect.
   */
  async shutdown(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const timeoutMs = options.timeoutMs ?? this.options.shutdownTimeoutMs ?? 30_000;
    if (this.healthTimer) clearInterval(this.healthTimer);
    const deadline = Date.now() + timeoutMs;
    await this.schedulerValue?.stopScheduler({ waitMs: timeoutMs });
    const remaining = Math.max(0, deadline - Date.now());
    if (this.running.size > 0) {
      this.logger.info('waiting for running imports', { count: this.running.size, timeoutMs: remaining });
      await withTimeout(Promise.allSettled([...this.running]), remaining);
    }
    await this.webhooksValue?.stop();
    await this.clientManager.close();
    this.logger.info('shopify-ingest stopped');
  }

  /**
   * A scheduled run. Another instance may have removed (or purged) the tenant since this one
   * scheduled it: the database decides, and a tenant no longer active loses its jobs and client
   * here too instead of being synced with a revoked token.
   */
  private async runScheduledImport(run: ScheduledRun): Promise<ImportResult | ImportAllResult | { skipped: 'tenant-inactive' }> {
    const tenant = await this.store.getTenant(run.tenantId);
    if (!tenant?.isActive) {
      this.schedulerValue?.removeTenantJobs(run.tenantId);
      await this.clientManager.removeClient(run.tenantId);
      this.importers.delete(run.tenantId);
      this.logger.info('scheduled run skipped: tenant was removed', { tenantId: run.tenantId, jobId: run.jobId });
      return { skipped: 'tenant-inactive' };
    }
    return this.importData(run.tenantId, run.resource, { ...(run.options as ImportOptions), signal: run.signal } as ImportOptions);
  }

  private requireWebhooks(caller: string): WebhookService {
    if (!this.webhooksValue) {
      throw new ConfigError(`${caller}: webhooks are not enabled: set SHOPIFY_API_SECRET (and call initialize() first)`);
    }
    return this.webhooksValue;
  }

  private restoreClient(tenant: TenantRecord): ShopifyClient {
    const accessToken = this.keyRing.decrypt(tenant.accessTokenEnc, tenant.id);
    const config = tenantConfigOf(tenant);
    return this.clientManager.addClient(tenant.id, { shopDomain: tenant.shopDomain, accessToken, apiVersion: config.apiVersion }, { ...config.client });
  }

  /**
   * Fails before anything is written when ENCRYPTION_KEY cannot open the stored tokens: starting
   * anyway would leave those tenants unusable, and the next addTenant would silently re-encrypt a
   * token under the new key while their PII stays under the old one.
   */
  private async assertKeyRingOpensTenants(): Promise<void> {
    const unreadable: Array<{ tenantId: string; keyId: string | undefined }> = [];
    for (const tenant of await this.store.listTenants()) {
      try {
        this.keyRing.decrypt(tenant.accessTokenEnc, tenant.id);
      } catch (error) {
        // A malformed value is not a key problem (restoring that tenant logs it); a foreign key or a failed tag is.
        if (error instanceof DecryptError && error.reason !== 'malformed') unreadable.push({ tenantId: tenant.id, keyId: error.keyId });
      }
    }
    if (unreadable.length > 0) {
      throw new EncryptionKeyMismatchError({
        tenantIds: unreadable.map((u) => u.tenantId),
        storedKeyIds: [...new Set(unreadable.map((u) => u.keyId).filter((k): k is string => Boolean(k)))],
        ringKeyIds: [...this.keyRing.keyIds],
      });
    }
  }

  private async pingDatabase(): Promise<void> {
    try {
      await this.prisma.$queryRawUnsafe('SELECT 1');
      this.database = { reachable: true, checkedAt: this.clock().toISOString() };
    } catch (error) {
      this.database = { reachable: false, checkedAt: this.clock().toISOString(), error: (error as Error).message };
      this.logger.error('database unreachable', { error });
    }
  }
}

/** The part of an Express (or Connect-style) app `setupWebhookEndpoints` uses. */
export interface ExpressLikeApp {
  /** Registers a POST route. */
  post(path: string, handler: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void): unknown;
  /** Registers a middleware for the routes after it. */
  use?(handler: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void): unknown;
}

function tenantConfigOf(tenant: TenantRecord): TenantConfig & { apiVersion?: string } {
  return (tenant.config ?? {}) as TenantConfig & { apiVersion?: string };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

const JSON_BODY_LIMIT = 1024 * 1024;

/**
 * A small JSON body parser for the routes after the webhook endpoint (the seed's sync route reads
 * `req.body`). It leaves a body another parser set alone and never touches the webhook route,
 * which was answered before it.
 */
function jsonBodyParser() {
  return (req: IncomingMessage & { body?: unknown }, res: ServerResponse, next: (error?: unknown) => void): void => {
    if (req.body !== undefined || req.method === 'GET' || req.method === 'HEAD') {
      if (req.body === undefined) req.body = {};
      next();
      return;
    }
    const type = String(req.headers['content-type'] ?? '');
    if (!/\bjson\b/i.test(type)) {
      req.body = {};
      next();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > JSON_BODY_LIMIT && !failed) {
        failed = true;
        res.statusCode = 413;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ error: 'body too large' }));
        return;
      }
      if (!failed) chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        req.body = text.trim() === '' ? {} : JSON.parse(text);
      } catch {
        res.statusCode = 400;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ error: 'invalid JSON body' }));
        return;
      }
      next();
    });
    req.on('error', next);
  };
}

/**
 * Creates the ingestion service. Configuration comes from the seed's environment variables unless
 * given as options; call `initialize()` before use.
 *
 * @example
 * ```ts
 * import { PrismaClient } from './generated/prisma/client.js'; // your Prisma 7 client
 * import { createIngestionService } from 'shopify-ingest';
 *
 * const shopifyService = createIngestionService(prisma);
 * await shopifyService.initialize();
 * ```
 */
export function createIngestionService(prisma: PrismaLike, options: IngestionServiceOptions = {}): IngestionService {
  return new IngestionService(prisma, options);
}
