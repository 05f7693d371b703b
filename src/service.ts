/*
 * The facade: one object that wires the client manager, importer, webhook service and scheduler
 * for every tenant, as the seed's `createIngestionService(prisma)` promises.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { ConfigError, ShopifyIngestError, TenantError, assertTenantId } from './errors.js';
import { createJsonLogger, type Logger } from './logger.js';
import { eitherSignal } from './abort.js';
import { createKeyRing, DecryptError, EncryptionKeyMismatchError, type KeyRing } from './crypto/index.js';
import { ClientManager, ShopifyApiError, createShopifyClient, normalizeShopDomain, type ClientDefaults, type ShopifyClient } from './client/index.js';
import { createImportService, type ImportAllResult, type ImportOptions, type ImportProgress, type ImportResult, type ImportService } from './importer/index.js';
import { createWebhookService, type WebhookService, type WebhookServiceOptions, type WebhookStats } from './webhooks/index.js';
import { createSchedulerService, type ScheduledRun, type SchedulerOptions, type SchedulerService, type SchedulerStatus, type SyncConfigOverrides } from './scheduler/index.js';
import { assertTenantSyncConfig } from './scheduler/sync-config.js';
import { createAuthMiddleware as createAuth, type AuthMiddleware } from './auth/index.js';
import { writeRefusal } from './auth/middleware.js';
import { authOptionsOf, loadConfig, requireFor, webhookSecretsOf, type IngestionConfig } from './config/index.js';
import { createStore, explainDatabaseError, migrate, type IngestStore, type PrismaLike, type RecordCounts, type TenantRecord } from './store/index.js';
import { isDatabaseHandle, resolveDatabase, type DatabaseHandle } from './store/database-handle.js';
import { recordApiNotice, type ApiNotice } from './store/api-notices.js';
import { shopifyWebhooks } from './adapters/express.js';
import { credentialKind, obtainCredentials, type TenantCredentials } from './auth/credentials.js';
import { createStoredTokenSource, TenantAuthError, type AppCredentials } from './auth/stored-token-source.js';
import { OAuthError } from './auth/oauth.js';
import { RESOURCE_NAMES, RESOURCES, getResource, type ResourceName } from './resources/registry.js';
import { fetchRecord } from './importer/pages-listing.js';
import { SHOP_IDENTITY_QUERY } from './importer/queries.js';
import type { BulkDeps } from './importer/bulk-listing.js';
import { createBulkWaiters, type BulkWaiters } from './importer/bulk-waiters.js';
import { assertResourceList, enabledResources } from './resources/tenant-resources.js';
import { syncWebhookSubscriptions, type WebhookSubscriptionReport } from './webhooks/subscriptions.js';
import {
  createScheduleIntervals, credentialsCheck, deadLettersCheck, healthThresholds, inboxCheck, notChecked, overallLevel, schedulerCheck, syncsCheck, webhookWorkerCheck,
  type CredentialsCheck, type DatabaseCheck, type DeadLettersCheck, type HealthChecks, type HealthLevel, type HealthOptions, type HealthThresholds, type InboxCheck, type SyncsCheck,
} from './health.js';
import { pingDatabase, readDeadLetters, readInboxBacklog, readNeedsReauth, readSyncFacts } from './store/health.js';
import { readResourceSyncStates, type ResourceSyncState } from './store/sync-state.js';
import { createTelemetry, type InboxSample, type Telemetry, type TelemetryOptions } from './telemetry/index.js';

/** What `importData` accepts as its data type: a resource of the registry, or `all`. */
export type DataType = ResourceName | 'all';

export type { TenantCredentials } from './auth/credentials.js';
export type {
  CredentialsCheck, DatabaseCheck, DeadLettersCheck, FailingSync, HealthCheckResult, HealthChecks, HealthDelivery, HealthLevel, HealthOptions,
  InboxCheck, OverdueSync, SchedulerCheck, StalledSync, SyncsCheck, WebhookWorkerCheck,
} from './health.js';

/** An app the service serves: its client id (API key) and client secret, with older secrets accepted during a rotation. */
export interface AppConfig {
  /** The app's client id (API key), as tenants record it. */
  clientId: string;
  /** The app's client secret: renews tokens, exchanges session tokens, verifies its tenants' webhooks. */
  clientSecret: string;
  /** Secrets still accepted while a rotation rolls out (tried after `clientSecret`). */
  previousClientSecrets?: string[];
}

/** Per-tenant settings kept in the tenant record (`shopify_tenants.config`). */
export interface TenantConfig {
  /** Display name; defaults to the shop's name from Shopify. */
  name?: string;
  /** Overrides of the service's sync schedule for this tenant. */
  syncConfig?: SyncConfigOverrides;
  /** Client options for this tenant (e.g. `baseUrl` to point it at the simulator). */
  client?: Pick<ClientDefaults, 'baseUrl' | 'apiVersion' | 'timeoutMs'>;
  /** Resources synced (default all): others are not scheduled, subscribed or taken from webhooks. */
  resources?: ResourceName[];
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
  /**
   * Default `createStore(prisma)`.
   * @internal
   */
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
    /** Where shop-specific subscriptions deliver (default `https://<HOST_NAME><path>`). */
    callbackUrl?: string;
  };
  /** Apply pending migrations in `initialize()` (default true). */
  autoMigrate?: boolean;
  /** How long a sync run's lock outlives its last renewal (ms, default 30,000): a killed process's run is taken over after at most this. */
  runLockTtlMs?: number;
  /** How long `shutdown()` waits for running imports and webhook processing (default 30 s). */
  shutdownTimeoutMs?: number;
  /** How often the database-backed health checks run for `getHealthStatus()` (default 30 s; 0 = only in `initialize()` and `checkHealth()`). */
  healthCheckIntervalMs?: number;
  /** Thresholds of the health checks. */
  health?: HealthOptions;
  /** Called with the progress of every import run (CLI progress bars, dashboards). */
  onProgress?: (event: ImportProgress) => void;
  /**
   * Apps whose tenants this service serves, besides the one of SHOPIFY_API_KEY / SHOPIFY_API_SECRET
   * (and SHOPIFY_API_SECRET_PREVIOUS). A tenant's credentials belong to one app (`clientId` when it is
   * added); renewals and token exchange use that app's secret.
   */
  apps?: AppConfig[];
  /** Called once when a tenant's credentials can no longer be renewed (it is then `needs_reauth`): prompt the merchant to open the app again. */
  onReauthRequired?: (tenant: { tenantId: string; shopDomain: string; reason: string }) => void | Promise<void>;
  /** Token renewal: how long before expiry (default 5 min), how long a process may hold a tenant's renewal lease (default 30 s), token request timeout (default 15 s). */
  tokenRenewal?: {
    /** Renew this long before the token expires (default 5 min; at most half its lifetime). */
    renewBeforeMs?: number;
    /** How long one process may hold a tenant's renewal lease (default 30 s). */
    leaseTtlMs?: number;
    /** Token request timeout (default 15 s). */
    timeoutMs?: number;
  };
  /**
   * Bulk operations: result-file `fetch`, poll timing, smallest window of a failing operation (tests shorten them).
   * @internal
   */
  bulk?: Omit<BulkDeps, 'wake'>;
  /**
   * `initialize()` checks that the key ring decrypts every stored tenant's token and fails with
   * {@link EncryptionKeyMismatchError} otherwise (default true). Off only for tools that never
   * read a token, e.g. removing tenants whose key was lost.
   */
  checkEncryptionKey?: boolean;
  /** OpenTelemetry metrics and traces (docs/observability.md); `false`: off. */
  telemetry?: TelemetryOptions | false;
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
  /** Stored live records per resource (`customers`, `products`, `orders`, ...). */
  stats: Record<ResourceName, number>;
  /** Every resource of the registry: its last run and checkpoint (what `importer.getImportStats()` tells per resource). */
  resources: Record<ResourceName, ResourceSyncStatus>;
  /** Active, with a client in this process, and no resource's last finished sync failed. */
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

/** One resource of a tenant in {@link TenantSyncStatus.resources}; times are ISO-8601. */
export interface ResourceSyncStatus {
  /** The latest run of any status (`shopify_sync_runs`), or null. */
  lastRun: {
    /** `shopify_sync_runs.id`. */ runId: string;
    /** Its status. */ status: 'running' | 'succeeded' | 'failed' | 'cancelled';
    /** Full or incremental. */ mode: 'full' | 'incremental';
    /** Why it failed. */ error: string | null;
    /** That error's stable code. */ errorCode: string | null;
    /** Start. */ startedAt: string;
    /** End, null while it runs. */ finishedAt: string | null;
    /** E.g. withheld fields, a missing scope, a failed deletion probe. */ warnings: string[];
  } | null;
  /** When its latest successful run finished. */
  lastSuccessAt: string | null;
  /** Why its latest finished run failed, until a run succeeds (cancelled runs do not count). */
  lastError: string | null;
  /** Its checkpoint, or null before the first run. */
  checkpoint: {
    /** Incremental runs list changes from here. */ watermark: string | null;
    /** When a full sync last completed. */ fullSyncCompletedAt: string | null;
    /** An interrupted run resumes next. */ resumePending: boolean;
  } | null;
}

/** What {@link IngestionService.getHealthStatus} reports: the seed's `{ status, services, uptime }` plus a verdict and a reason per check. */
export interface HealthStatus {
  /** The worst check: `unhealthy` when the database is unreachable, `degraded` when another check found a problem. */
  status: HealthLevel;
  /** Each check's status and reason. */
  checks: HealthChecks;
  /** `name: reason` of every check not healthy. */
  reasons: string[];
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
    /** Active tenants whose credentials can no longer be renewed (from the last database check; see `checks.credentials`). */
    tenants: {
      /** Their ids. */
      needsReauth: string[];
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
  /** Stored live rows per table key of every resource (`customers`, `variants`, `lineItems`, ...). */
  totalRecords: RecordCounts;
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

const DATA_TYPES: readonly DataType[] = [...RESOURCE_NAMES, 'all'];
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
  /**
   * The SDK's data access (tenants, synced rows, runs, failures): internal, its shape may change in
   * any release. Applications use the methods below ({@link getTenant}, {@link getSyncStatus}, ...).
   * @internal
   */
  readonly store: IngestStore;
  /** One Shopify client per tenant. */
  readonly clientManager: ClientManager;
  /** The service's logger. */
  readonly logger: Logger;
  private readonly prisma: PrismaLike;
  // The one database handle every part of the service shares.
  private readonly db: DatabaseHandle;
  private readonly options: IngestionServiceOptions;
  private readonly clock: () => Date;
  private readonly startedAt: Date;
  private keyRingValue: KeyRing | undefined;
  private schedulerValue: SchedulerService | undefined;
  private webhooksValue: WebhookService | undefined;
  private readonly importers = new Map<string, ImportService>();
  private readonly bulkWaiters: BulkWaiters = createBulkWaiters();
  // The database-backed checks, as of the last gathering.
  private gathered: Pick<HealthChecks, 'database' | 'inbox' | 'deadLetters' | 'syncs' | 'credentials'>;
  private gathering: Promise<void> | null = null;
  private readonly healthLimits: HealthThresholds;
  private readonly scheduleInterval = createScheduleIntervals();
  private readonly running = new Set<Promise<unknown>>();
  // Aborted when a tenant is deactivated (app/uninstalled, shop/redact, removeTenant) or moved to another shop: its running imports stop at the next batch.
  private readonly tenantAborts = new Map<string, AbortController>();
  private initialized = false;
  private stopping = false;
  // Aborted when shutdown() begins: an importData('all') starts no further resource.
  private readonly draining = new AbortController();
  private healthTimer: ReturnType<typeof setInterval> | undefined;
  // ES private: adds nothing to the published declarations but one `#private`.
  readonly #telemetry: Telemetry;
  #stopObserving: () => void = () => {};

  constructor(database: PrismaLike | DatabaseHandle, options: IngestionServiceOptions = {}) {
    if (!isDatabaseHandle(database) && (!database || typeof database.$queryRawUnsafe !== 'function')) {
      throw new ConfigError('createIngestionService(prisma): pass a PrismaClient (with a driver adapter) whose schema includes the shopify_* models, or a handle from createDatabaseHandle');
    }
    const { env = process.env, logger, keyRing, clock, store, clientDefaults, clientManager, scheduler, webhooks, autoMigrate, shutdownTimeoutMs, healthCheckIntervalMs, health, onProgress, checkEncryptionKey, telemetry, runLockTtlMs, ...overrides } = options;
    void [scheduler, webhooks, autoMigrate, shutdownTimeoutMs, healthCheckIntervalMs, onProgress, checkEncryptionKey];
    if (runLockTtlMs !== undefined && (!Number.isInteger(runLockTtlMs) || runLockTtlMs < 100)) {
      throw new ConfigError(`runLockTtlMs must be an integer of at least 100 (ms), got ${String(runLockTtlMs)}`);
    }
    this.healthLimits = healthThresholds(health);
    this.db = resolveDatabase(database);
    this.prisma = this.db.prisma;
    this.options = options;
    this.config = loadConfig(overrides, env, { require: [] });
    this.logger = logger ?? createJsonLogger({ level: this.config.logLevel });
    this.clock = clock ?? (() => new Date());
    this.#telemetry = createTelemetry(telemetry, this.logger);
    this.startedAt = this.clock();
    const notYet = 'not checked yet: initialize(), checkHealth() and the periodic check (healthCheckIntervalMs) run it';
    this.gathered = {
      database: notChecked<DatabaseCheck>({ latencyMs: null }, notYet, null),
      inbox: notChecked<InboxCheck>({ waiting: 0, oldest: null, oldestAgeMs: null }, notYet, null),
      deadLetters: notChecked<DeadLettersCheck>({ count: 0, newest: [] }, notYet, null),
      syncs: notChecked<SyncsCheck>({ tenants: [], failing: [], stalled: [], overdue: [] }, notYet, null),
      credentials: notChecked<CredentialsCheck>({ needsReauth: [] }, notYet, null),
    };
    this.keyRingValue = keyRing;
    this.store = store ?? createStore(this.db);
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
      // What Shopify says about the calls (another version answered, deprecations), kept per tenant for `doctor`.
      onTenantApiNotice: (tenantId: string, notice: ApiNotice) => {
        recordApiNotice(this.prisma, tenantId, notice, this.clock()).catch((error: unknown) => this.logger.warn('could not record an api notice', { tenantId, kind: notice.kind, error }));
      },
      ...clientDefaults,
      telemetry: this.#telemetry,
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
    const webhookOptions = this.options.webhooks ?? {};
    const secrets = webhookOptions.secrets ?? (webhookSecretsOf(this.config).length ? webhookSecretsOf(this.config) : undefined);
    if (webhookOptions.enabled !== false && secrets) {
      const { enabled: _enabled, path: _path, ...rest } = webhookOptions;
      this.webhooksValue = createWebhookService(this.db, {
        ...rest, secrets, keyRing: this.keyRing, store: this.store, logger: this.logger, telemetry: this.#telemetry,
        // Each app's secrets verify its own tenants' deliveries only.
        apps: rest.apps ?? (this.options.apps ?? []).map((app) => ({ clientId: app.clientId, secrets: [app.clientSecret, ...(app.previousClientSecrets ?? [])] })),
        fetchRecord: rest.fetchRecord ?? (async (tenantId, resource, id, gid) => fetchRecord(await this.getClient(tenantId), getResource(resource), gid ?? id)),
        // app/uninstalled, shop/redact: no more scheduled runs or cached client for the tenant.
        onTenantDeactivated: async (tenantId) => {
          this.abortTenantRuns(tenantId, 'the app was uninstalled (or the shop redacted)');
          this.schedulerValue?.removeTenantJobs(tenantId);
          await this.clientManager.removeClient(tenantId);
          this.importers.delete(tenantId);
          await rest.onTenantDeactivated?.(tenantId);
        },
      });
      // A running bulk operation's poll ends as soon as its finish webhook arrives here.
      this.webhooksValue.on('bulk_operations/finish', (event) => { this.bulkWaiters.notify(String(event.payload.admin_graphql_api_id)); });
      // `worker.autoStart: false`: this instance acknowledges deliveries; others (or `start()` later) apply them.
      if (webhookOptions.worker?.autoStart !== false) this.webhooksValue.start();
    } else if (webhookOptions.enabled === true) {
      throw new ConfigError('webhooks are enabled but no secret is configured: set SHOPIFY_API_SECRET');
    }

    const { enabled: schedulerEnabled = true, ...schedulerOptions } = this.options.scheduler ?? {};
    // No client manager: the scheduler would give every client without jobs the default ones when it
    // (re)starts, whatever the tenant's config (a tenant whose jobs a re-auth removed, say). The
    // service adds each tenant's jobs itself, from its config, and runs them itself (runJob).
    this.schedulerValue = createSchedulerService(this.db, null, {
      logger: this.logger,
      clock: this.clock,
      ...schedulerOptions,
      runJob: schedulerOptions.runJob ?? ((run) => (run.jobType === 'webhookSubscriptions' ? this.verifyWebhookSubscriptions(run.tenantId, run.options as { repair?: boolean }) : this.runScheduledImport(run))),
    });

    const active = await this.store.listTenants({ activeOnly: true });
    // Fail fast: tenants whose tokens renew themselves need their app's secret from the start.
    const missing = new Set<string>();
    for (const tenant of active) {
      if (tenant.tokenKind === 'static' || tenant.clientSecretEnc) continue;
      try { this.resolveApp(tenant.clientId); } catch (error) { missing.add((error as Error).message.replace(/^\[shopify-ingest\] /, '')); }
    }
    if (missing.size > 0) throw new ConfigError(`initialize: tenants with expiring tokens or client credentials cannot be renewed: ${[...missing].join('; ')}`);
    for (const tenant of active) {
      if (tenant.authStatus === 'needs_reauth') {
        this.logger.warn('tenant needs re-authorisation: not scheduled until updateTenant', { tenantId: tenant.id, shop: tenant.shopDomain, reason: tenant.authError });
        continue;
      }
      try {
        this.restoreClient(tenant);
        this.schedulerValue.addTenantJobs(tenant.id, jobOverridesOf(tenantConfigOf(tenant)));
      } catch (error) {
        this.logger.error('could not restore tenant', { tenantId: tenant.id, shop: tenant.shopDomain, error });
      }
    }
    if (schedulerEnabled) await this.schedulerValue.startScheduler();

    const interval = this.options.healthCheckIntervalMs ?? 30_000;
    if (interval > 0) {
      this.healthTimer = setInterval(() => void this.gatherHealth(), interval);
      this.healthTimer.unref?.();
    }
    this.initialized = true;
    this.#stopObserving = this.#telemetry.observeInbox(async () => (this.stopping ? null : sampleInbox(this.prisma, this.clock())));
    // After the scheduler exists: the syncs check reads each tenant's schedule through it.
    await this.gatherHealth();
    this.logger.info('shopify-ingest initialized', { tenants: this.clientManager.size, webhooks: Boolean(this.webhooksValue), scheduler: schedulerEnabled });
  }

  /**
   * Connects a store: obtains its tokens (as given, by token exchange from a session token, or by the
   * client credentials grant; see `TenantCredentials`), checks them against Shopify, stores every
   * secret encrypted, creates the client and schedules the tenant's jobs. Nothing is saved when a step
   * fails: `TENANT_CREDENTIALS_INVALID` when Shopify refuses the credentials (401/403, a refused grant),
   * `TENANT_CREDENTIALS_UNVERIFIED` (retryable) when Shopify could not be reached or failed (network,
   * timeout, 5xx). Calling it again for an existing tenant re-authorises it (see {@link updateTenant}).
   */
  async addTenant(tenantId: string, credentials: TenantCredentials, config: TenantConfig = {}): Promise<TenantRecord> {
    assertTenantId(tenantId);
    credentialKind(credentials, `addTenant(${tenantId})`);
    assertResourceList(config.resources, `addTenant(${tenantId})`);
    // Refused before anything is saved: a tenant stored with jobs it cannot have stays unscheduled.
    assertTenantSyncConfig(tenantId, jobOverridesOf(config));
    const shopDomain = normalizeShopDomain(credentials.shopDomain, Boolean(config.client?.baseUrl ?? this.options.clientDefaults?.baseUrl));
    const existing = await this.store.getTenantByShop(shopDomain);
    const previousShop = existing ? shopDomain : (await this.store.getTenant(tenantId))?.shopDomain;
    if (existing && existing.id !== tenantId) {
      throw new ShopifyIngestError('TENANT_SHOP_IN_USE', `addTenant(${tenantId}): shop ${existing.shopDomain} is already connected to tenant ${existing.id}`, { details: { tenantId, shop: existing.shopDomain, connectedTo: existing.id } });
    }
    // The token endpoint lives on the shop's origin (`baseUrl` for the simulator's shops).
    const tokenOrigin = config.client?.baseUrl ?? this.options.clientDefaults?.baseUrl;
    let obtained;
    // A token obtained here (or handed over) counts its life from now: the renewal margin is at most half of it.
    const obtainedAt = this.clock();
    try {
      obtained = await obtainCredentials(credentials, shopDomain, {
        label: `addTenant(${tenantId})`, resolveApp: (id) => this.resolveApp(id), baseUrl: tokenOrigin, fetch: this.options.clientDefaults?.fetch,
        now: () => this.clock().getTime(),
      });
    } catch (error) {
      if (error instanceof OAuthError) throw credentialsError(tenantId, shopDomain, error);
      throw error;
    }
    // The check runs with the obtained token, outside the manager, so a refused token leaves the stored client alone.
    const probe = createShopifyClient({
      ...this.options.clientDefaults, ...config.client, shopDomain, accessToken: obtained.tokens.accessToken,
      apiVersion: credentials.apiVersion ?? config.client?.apiVersion ?? this.config.apiVersion, retryOptions: { retries: 1 },
      // An exchange with the Admin API like any other: counted in api.requests (docs/observability.md).
      telemetry: this.#telemetry.forTenant(tenantId),
    });
    let shopName: string | null = null;
    let answeredFor: string | null = null;
    try {
      const data = await probe.graphql<{ shop?: { name?: string; myshopifyDomain?: string } }>(SHOP_IDENTITY_QUERY);
      shopName = data?.shop?.name ?? null;
      answeredFor = data?.shop?.myshopifyDomain ?? null;
    } catch (error) {
      throw credentialsError(tenantId, shopDomain, error);
    } finally {
      await probe.close();
    }
    // Behind a `baseUrl` (the simulator, a proxy) the host does not name the shop, so a mistyped
    // domain would be stored, its syncs would work, and its webhooks (named by the real domain) be
    // refused. A domain that is no shop's at all is refused; another *.myshopify.com name may be
    // meant (a second tenant reading a simulator's shop under a name of its own), so it is logged.
    if (answeredFor !== null && answeredFor.toLowerCase() !== shopDomain) {
      const message = `addTenant(${tenantId}): the credentials are for shop ${answeredFor}, not ${shopDomain}`;
      if (!shopDomain.endsWith('.myshopify.com')) throw new ConfigError(`${message} (a typo in shopDomain?)`, { details: { tenantId, shop: shopDomain, answeredFor } });
      this.logger.warn(`${message}: webhooks from ${answeredFor} will not reach this tenant`, { tenantId, shop: shopDomain, answeredFor });
    }
    const { tokens } = obtained;
    const record = await this.store.upsertTenant({
      id: tenantId,
      name: config.name ?? shopName,
      shopDomain,
      tokenKind: obtained.kind,
      accessTokenEnc: this.keyRing.encrypt(tokens.accessToken, tenantId),
      accessTokenExpiresAt: tokens.accessTokenExpiresAt,
      accessTokenIssuedAt: tokens.accessTokenExpiresAt ? obtainedAt : null,
      refreshTokenEnc: tokens.refreshToken ? this.keyRing.encrypt(tokens.refreshToken, tenantId) : null,
      refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
      clientId: obtained.clientId,
      clientSecretEnc: obtained.clientSecret ? this.keyRing.encrypt(obtained.clientSecret, tenantId) : null,
      scopes: tokens.scope ?? undefined,
      config: { ...(config.syncConfig ? { syncConfig: config.syncConfig } : {}), ...(config.client ? { client: config.client } : {}), ...(config.resources ? { resources: config.resources } : {}), ...(credentials.apiVersion ? { apiVersion: credentials.apiVersion } : {}) },
    });
    await this.store.setTenantActive(tenantId, true);
    // Its shop (maybe cached as unknown or inactive) and the one it left (cached as its own) are looked up again.
    this.webhooksValue?.forgetShops(shopDomain, ...(previousShop !== undefined ? [previousShop] : []));
    if (previousShop !== undefined && previousShop !== shopDomain) await this.forgetMovedTenant(tenantId, previousShop, shopDomain);
    this.restoreClient(record);
    // Replaces the tenant's jobs (their schedules were checked above).
    this.schedulerValue?.addTenantJobs(tenantId, jobOverridesOf(config));
    this.importers.delete(tenantId);
    this.tenantAborts.delete(tenantId);
    this.logger.info(previousShop !== undefined ? 'tenant authorised again' : 'tenant added', { tenantId, shop: shopDomain, previousShop, tokenKind: obtained.kind });
    return { ...record, isActive: true };
  }

  /**
   * Re-authorises a tenant with new credentials (after `needs_reauth`, or to switch a static token to
   * an expiring one): same as {@link addTenant} for a tenant that exists. Checkpoints are kept, so
   * syncing resumes where it stopped.
   *
   * @example
   * ```ts
   * await shopifyService.updateTenant('tenant-123', { shopDomain: 'acme.myshopify.com', sessionToken });
   * ```
   */
  async updateTenant(tenantId: string, credentials: TenantCredentials, config: TenantConfig = {}): Promise<TenantRecord> {
    assertTenantId(tenantId);
    const tenant = await this.store.getTenant(tenantId);
    if (!tenant) throw new TenantError('TENANT_NOT_FOUND', `updateTenant: no tenant ${tenantId}`, tenantId);
    const stored = tenantConfigOf(tenant);
    return this.addTenant(tenantId, credentials, { ...(stored.syncConfig ? { syncConfig: stored.syncConfig } : {}), ...(stored.client ? { client: stored.client } : {}), ...(stored.resources ? { resources: stored.resources } : {}), ...config });
  }

  /**
   * The app of a tenant's credentials (`clientId`, or the default app for null). Throws a `ConfigError` when it is not configured.
   * @internal
   */
  resolveApp(clientId: string | null): AppCredentials {
    const fromEnv = this.config.shopifyApiKey && this.config.shopifyApiSecret
      ? { clientId: this.config.shopifyApiKey, clientSecrets: [this.config.shopifyApiSecret, this.config.shopifyApiSecretPrevious].filter((x): x is string => Boolean(x)) }
      : null;
    if (clientId === null || clientId === fromEnv?.clientId) {
      if (fromEnv) return fromEnv;
      throw new ConfigError('renewing tokens needs the app: set SHOPIFY_API_KEY and SHOPIFY_API_SECRET (or pass apps)');
    }
    const app = (this.options.apps ?? []).find((a) => a.clientId === clientId);
    if (!app) throw new ConfigError(`no app with client id ${clientId} is configured: add it to the service's apps option`);
    return { clientId: app.clientId, clientSecrets: [app.clientSecret, ...(app.previousClientSecrets ?? [])] };
  }

  /**
   * A tenant as stored (shop domain, status, token kind and expiry; secrets stay encrypted), or
   * null when there is none. Inactive tenants (uninstalled, redacted) are returned too.
   */
  async getTenant(tenantId: string): Promise<TenantRecord | null> {
    return this.store.getTenant(tenantId);
  }

  /** Disconnects a store: removes the client, disables its jobs, marks it inactive. Data is kept unless `purge`. */
  async removeTenant(tenantId: string, options: { purge?: boolean } = {}): Promise<void> {
    assertTenantId(tenantId);
    const tenant = await this.store.getTenant(tenantId);
    if (!tenant) throw new TenantError('TENANT_NOT_FOUND', `removeTenant: no tenant ${tenantId}`, tenantId);
    this.abortTenantRuns(tenantId, 'the tenant was removed');
    this.schedulerValue?.removeTenantJobs(tenantId);
    await this.clientManager.removeClient(tenantId);
    this.importers.delete(tenantId);
    if (options.purge) await this.store.purgeTenant(tenantId, { includeTenant: true });
    else await this.store.setTenantActive(tenantId, false);
    this.webhooksValue?.forgetShops(tenant.shopDomain);
    this.logger.info('tenant removed', { tenantId, purged: Boolean(options.purge) });
  }

  /** The tenant's client (restored from the database when this process has not created it yet). */
  async getClient(tenantId: string): Promise<ShopifyClient> {
    assertTenantId(tenantId);
    if (this.clientManager.hasClient(tenantId)) return this.clientManager.getClient(tenantId);
    const tenant = await this.store.getTenant(tenantId);
    if (!tenant) throw new TenantError('TENANT_NOT_FOUND', `no tenant ${tenantId}: call addTenant first`, tenantId);
    if (!tenant.isActive) throw new TenantError('TENANT_INACTIVE', `tenant ${tenantId} is inactive`, tenantId);
    if (tenant.authStatus === 'needs_reauth') {
      throw new TenantAuthError('TENANT_NEEDS_REAUTH', `tenant ${tenantId} (${tenant.shopDomain}) must be authorised again: ${tenant.authError ?? 'its credentials no longer work'}`, tenantId);
    }
    return this.restoreClient(tenant);
  }

  /** The importer of one tenant (one per tenant, so its stats accumulate). */
  async getImportService(tenantId: string): Promise<ImportService> {
    const cached = this.importers.get(tenantId);
    if (cached) return cached;
    const client = await this.getClient(tenantId);
    const importer = createImportService(this.db, client, tenantId, {
      keyRing: this.keyRing,
      store: this.store,
      logger: this.logger,
      clock: this.clock,
      defaults: { batchSize: this.config.defaultBatchSize, concurrency: this.config.defaultConcurrency },
      onProgress: this.options.onProgress,
      runLockTtlMs: this.options.runLockTtlMs,
      bulk: { fetch: this.options.clientDefaults?.fetch, ...this.options.bulk, wake: this.bulkWaiters.wait },
      telemetry: this.#telemetry,
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
    let controller = this.tenantAborts.get(tenantId);
    if (!controller) this.tenantAborts.set(tenantId, (controller = new AbortController()));
    const signal = eitherSignal(options.signal, controller.signal);
    const run = dataType === 'all'
      ? importer.importAll({ resources: enabledResources(tenantConfigOf((await this.store.getTenant(tenantId))!)), allOf: true, ...options, signal, stopBefore: this.draining.signal } as ImportOptions)
      : importer.importResource(dataType, { ...options, signal });
    this.running.add(run);
    try {
      return await run;
    } finally {
      this.running.delete(run);
    }
  }

  /**
   * Reports how the tenant's shop-specific webhook subscriptions differ from what it handles and,
   * with `repair`, fixes the SDK's own (docs/webhooks.md).
   *
   * @example
   * ```ts
   * const { inSync } = await shopifyService.verifyWebhookSubscriptions('tenant-123', { repair: true });
   * ```
   */
  async verifyWebhookSubscriptions(tenantId: string, options: { repair?: boolean } = {}): Promise<WebhookSubscriptionReport> {
    const client = await this.getClient(tenantId);
    const config = tenantConfigOf((await this.store.getTenant(tenantId))!);
    const path = this.options.webhooks?.path ?? DEFAULT_WEBHOOK_PATH;
    const uri = this.options.webhooks?.callbackUrl ?? (this.config.hostName ? `https://${this.config.hostName}${path}` : undefined);
    if (!uri) throw new ConfigError('verifyWebhookSubscriptions: no callback URL: set HOST_NAME or pass webhooks.callbackUrl');
    const apiVersion = config.client?.apiVersion ?? config.apiVersion ?? this.config.apiVersion;
    const report = await syncWebhookSubscriptions(client, { tenantId, uri, resources: enabledResources(config), apiVersion }, options);
    if (!report.inSync) this.logger.warn('webhook subscriptions drift', { tenantId, missing: report.missing, mismatched: report.mismatched.map((s) => s.topic), extra: report.extra.map((s) => s.topic), repaired: report.repaired });
    return report;
  }

  /**
   * Sync status of every tenant: counts, last run and checkpoint per resource from the database,
   * rate-limit status from the live client. `syncStatus` and `lastError` follow the resources: `error`
   * while any resource's latest finished run failed (another resource's success does not hide it).
   */
  async getSyncStatus(): Promise<TenantSyncStatus[]> {
    const [tenants, states] = await Promise.all([this.store.listTenants(), readResourceSyncStates(this.prisma, RESOURCE_NAMES, this.clock())]);
    const byTenant = new Map<string, ResourceSyncState[]>();
    for (const state of states) byTenant.set(state.tenantId, [...(byTenant.get(state.tenantId) ?? []), state]);
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    return Promise.all(tenants.map(async (tenant) => {
      const counts = await this.store.countRecords(tenant.id);
      const client = this.clientManager.hasClient(tenant.id) ? this.clientManager.getClient(tenant.id) : undefined;
      const rate = client?.getRateLimitStatus();
      const own = byTenant.get(tenant.id) ?? [];
      const resources = Object.fromEntries(own.map((r): [string, ResourceSyncStatus] => [r.resource, {
        lastRun: r.latest && { runId: r.latest.id, status: r.latest.status, mode: r.latest.mode, error: r.latest.error, errorCode: r.latest.errorCode, startedAt: r.latest.startedAt.toISOString(), finishedAt: iso(r.latest.finishedAt), warnings: r.latest.warnings },
        lastSuccessAt: iso(r.lastSuccessAt),
        lastError: r.finished?.status === 'failed' ? r.finished.error ?? 'failed' : null,
        checkpoint: r.checkpoint && { watermark: iso(r.checkpoint.watermark), fullSyncCompletedAt: iso(r.checkpoint.fullSyncCompletedAt), resumePending: r.checkpoint.resumePending },
      }])) as Record<ResourceName, ResourceSyncStatus>;
      // The tenant row says whatever run started or ended last (idle when one resource's run ends while
      // another's goes on; running after its process died): the resources' runs and locks decide, and a
      // resource still failing outranks a success (one the tenant no longer syncs does not: nothing would clear it).
      const synced = enabledResources(tenantConfigOf(tenant));
      const failing = own.filter((r) => r.finished?.status === 'failed' && synced.includes(r.resource as ResourceName)).sort((x, y) => (y.finished!.finishedAt?.getTime() ?? 0) - (x.finished!.finishedAt?.getTime() ?? 0));
      const syncStatus: TenantRecord['syncStatus'] = own.some((r) => r.running) ? 'running' : failing.length ? 'error' : 'idle';
      return {
        tenantId: tenant.id,
        tenantName: tenant.name,
        shopDomain: tenant.shopDomain,
        isActive: tenant.isActive,
        lastSync: tenant.lastSyncAt ? tenant.lastSyncAt.toISOString() : null,
        syncStatus,
        lastError: failing.length ? failing[0]!.finished!.error ?? 'failed' : null,
        authStatus: tenant.authStatus,
        authError: tenant.authError,
        tokenKind: tenant.tokenKind,
        tokenExpiresAt: tenant.accessTokenExpiresAt?.toISOString() ?? null,
        stats: Object.fromEntries(RESOURCES.map((r) => [r.name, counts[r.root.key] ?? 0])) as Record<ResourceName, number>,
        resources,
        healthStatus: tenant.isActive && Boolean(client) && failing.length === 0 && tenant.authStatus === 'ok',
        rateLimitStatus: rate ? { callsMade: rate.callsMade, bucketSize: rate.bucketSize, isLimited: rate.isLimited } : null,
      };
    }));
  }

  /**
   * Health without waiting: the database-backed checks (`database`, `inbox`, `deadLetters`, `syncs`,
   * `credentials`) as of the last gathering (`initialize()`, every `healthCheckIntervalMs`,
   * {@link checkHealth}), `scheduler` and `webhookWorker` as of now. See docs/health.md.
   *
   * @example
   * ```ts
   * const { status, reasons } = shopifyService.getHealthStatus(); // 'degraded', ['syncs: failed: t1/orders (...)']
   * ```
   */
  getHealthStatus(): HealthStatus {
    const now = this.clock();
    const scheduler = this.schedulerValue?.getStatus();
    const checks: HealthChecks = {
      database: { ...this.gathered.database },
      scheduler: schedulerCheck({ expected: this.options.scheduler?.enabled !== false, initialized: this.initialized, stopping: this.stopping, status: scheduler, now }),
      webhookWorker: webhookWorkerCheck({
        configured: Boolean(this.webhooksValue), initialized: this.initialized, stopping: this.stopping,
        worker: this.webhooksValue?.getWorkerStatus(), maxBatchMs: this.healthLimits.maxBatchMs, now,
      }),
      inbox: { ...this.gathered.inbox },
      deadLetters: { ...this.gathered.deadLetters },
      syncs: { ...this.gathered.syncs },
      credentials: { ...this.gathered.credentials },
    };
    const database = this.gathered.database;
    return {
      status: overallLevel(checks),
      checks,
      reasons: Object.entries(checks).filter(([, c]) => c.status !== 'healthy').map(([name, c]) => `${name}: ${c.reason}`),
      services: {
        database: {
          reachable: database.status !== 'unhealthy',
          checkedAt: database.checkedAt,
          ...(database.status === 'unhealthy' ? { error: database.reason } : {}),
        },
        clients: this.clientManager.size,
        scheduler: { enabled: Boolean(scheduler?.enabled), totalJobs: scheduler?.totalJobs ?? 0, runningJobs: scheduler?.runningJobs ?? 0 },
        webhooks: { enabled: Boolean(this.webhooksValue) },
        tenants: { needsReauth: [...this.gathered.credentials.needsReauth] },
      },
      uptime: Math.floor((now.getTime() - this.startedAt.getTime()) / 1000),
    };
  }

  /**
   * Runs the database-backed checks now (one query each), then returns {@link getHealthStatus}.
   *
   * @example
   * ```ts
   * const health = await shopifyService.checkHealth();
   * res.status(health.status === 'unhealthy' ? 503 : 200).json(health);
   * ```
   */
  async checkHealth(): Promise<HealthStatus> {
    // A periodic gathering under way may have read before the caller's change: wait, then read again.
    if (this.gathering) await this.gathering;
    await this.gatherHealth();
    return this.getHealthStatus();
  }

  /** Totals across tenants, scheduler job counts and webhook counters. */
  async getStatistics(): Promise<IngestionStatistics> {
    const tenants = await this.store.listTenants();
    const totals: RecordCounts = {};
    for (const tenant of tenants) {
      const counts = await this.store.countRecords(tenant.id);
      for (const [key, n] of Object.entries(counts)) totals[key] = (totals[key] ?? 0) + n;
    }
    const scheduler: SchedulerStatus | undefined = this.schedulerValue?.getStatus();
    return {
      totalTenants: tenants.length,
      activeTenants: tenants.filter((t) => t.isActive).length,
      totalRecords: totals,
      syncJobs: { enabled: Boolean(scheduler?.enabled), totalJobs: scheduler?.totalJobs ?? 0, activeJobs: scheduler?.activeJobs ?? 0, runningJobs: scheduler?.runningJobs ?? 0 },
      webhookStats: this.webhooksValue ? await this.webhooksValue.getStats() : null,
    };
  }

  /**
   * Mounts the webhook endpoint (default `POST /api/webhooks/shopify`) on an Express app with the
   * Express adapter (`shopify-ingest/express`), which reads the raw body itself. Routes registered
   * after it get their JSON body parsed by the app's own `express.json()` (as the seed's sync route
   * expects `req.body`), unless `parseJson: false`.
   */
  setupWebhookEndpoints(app: ExpressLikeApp, options: { path?: string; parseJson?: boolean } = {}): void {
    const webhooks = this.requireWebhooks('setupWebhookEndpoints');
    const path = options.path ?? this.options.webhooks?.path ?? DEFAULT_WEBHOOK_PATH;
    // The Express adapter's handler, as `app.post(path, shopifyWebhooks(service.webhooks))` would mount it.
    app.post(path, shopifyWebhooks(webhooks) as unknown as Parameters<ExpressLikeApp['post']>[1]);
    if (options.parseJson !== false && typeof app.use === 'function') app.use(hostExpressJson() as Parameters<NonNullable<ExpressLikeApp['use']>>[0]);
  }

  /** Middleware guarding sync routes (session tokens, INGEST_API_KEYS); a token reaches only its shop's `:tenantId`. */
  createAuthMiddleware(): AuthMiddleware {
    const auth = authOptionsOf(this.config);
    if (!auth.apiKeys.length && !(auth.apiKey && auth.apiSecret)) {
      throw new ConfigError('createAuthMiddleware: nothing to authenticate with: set INGEST_API_KEYS, or SHOPIFY_API_KEY and SHOPIFY_API_SECRET for session tokens');
    }
    const authenticated = createAuth({ ...auth, logger: this.logger, now: this.clock });
    return (req, res, next) => authenticated(req, res, () => {
      const principal = req.shopifyIngestAuth;
      const tenantId = (req as { params?: Record<string, unknown> }).params?.tenantId;
      if (principal?.type !== 'session-token' || typeof tenantId !== 'string') return next();
      // Express and Fastify take an error as next's argument (their error handlers answer it).
      this.store.getTenant(tenantId).then(
        (tenant) => (tenant !== null && tenant.shopDomain.toLowerCase() === principal.shop.toLowerCase() ? next() : writeRefusal(res, 403)),
        (error: unknown) => (next as (error?: unknown) => void)(error),
      );
    });
  }

  /**
   * Stops the scheduler, lets running imports finish and checkpoint (bounded by `timeoutMs`),
   * drains the webhook worker and stops the clients' limiters. The Prisma client is yours to disconnect.
   */
  async shutdown(options: { timeoutMs?: number } = {}): Promise<void> {
    // A second call (SIGINT then SIGTERM) waits for the first: resolving at once would let the
    // caller disconnect the database while runs are still recording how they ended.
    this.#shutdown ??= this.#stop(options);
    return this.#shutdown;
  }

  #shutdown: Promise<void> | undefined;

  async #stop(options: { timeoutMs?: number }): Promise<void> {
    this.stopping = true;
    this.draining.abort();
    const timeoutMs = options.timeoutMs ?? this.options.shutdownTimeoutMs ?? 30_000;
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.#stopObserving();
    const deadline = Date.now() + timeoutMs;
    // Imports still going near the deadline are aborted, with time left to stop at their next batch
    // and record themselves cancelled (checkpoint kept): left alone, they would stay `running` in
    // the database when the process exits.
    const abortAt = deadline - Math.min(2_000, Math.floor(timeoutMs / 5));
    await this.schedulerValue?.stopScheduler({ waitMs: Math.max(0, abortAt - Date.now()) });
    if (this.running.size > 0) {
      this.logger.info('waiting for running imports', { count: this.running.size, timeoutMs: Math.max(0, abortAt - Date.now()) });
      await withTimeout(Promise.allSettled([...this.running]), Math.max(0, abortAt - Date.now()));
    }
    const stopJobs = (this.schedulerValue?.getStatus().runningJobs ?? 0) > 0;
    if (this.running.size > 0 || stopJobs) {
      this.logger.warn('stopping running imports at their next batch', { count: this.running.size });
      for (const controller of this.tenantAborts.values()) controller.abort(new ShopifyIngestError('SERVICE_STOPPING', 'the service is shutting down'));
      // Scheduled jobs that are not imports (the host's own runJob, the subscriptions check) get their run.signal aborted.
      await Promise.all([
        withTimeout(Promise.allSettled([...this.running]), Math.max(0, deadline - Date.now())),
        stopJobs ? this.schedulerValue?.stopScheduler({ abortRunning: true, waitMs: Math.max(0, deadline - Date.now()) }) : undefined,
      ]);
    }
    await this.webhooksValue?.stop();
    await this.clientManager.close();
    this.logger.info('shopify-ingest stopped');
  }

  // A scheduled run. Another instance may have removed (or purged) the tenant since this one
  // scheduled it: the database decides, and a tenant no longer active loses its jobs and client
  // here too instead of being synced with a revoked token.
  private async runScheduledImport(run: ScheduledRun): Promise<ImportResult | ImportAllResult | { skipped: 'tenant-inactive' | 'needs-reauth' | 'service-stopping' }> {
    const tenant = await this.store.getTenant(run.tenantId);
    if (!tenant?.isActive) {
      this.schedulerValue?.removeTenantJobs(run.tenantId);
      await this.clientManager.removeClient(run.tenantId);
      this.importers.delete(run.tenantId);
      this.logger.info('scheduled run skipped: tenant was removed', { tenantId: run.tenantId, jobId: run.jobId });
      return { skipped: 'tenant-inactive' };
    }
    if (tenant.authStatus === 'needs_reauth') {
      // No retry storm: nothing can work until the merchant authorises the app again (updateTenant).
      this.logger.info('scheduled run skipped: tenant needs re-authorisation', { tenantId: run.tenantId, jobId: run.jobId });
      return { skipped: 'needs-reauth' };
    }
    // A run that had not reached its import when shutdown() began takes no new work, and is no
    // failure either: shutting down is not an error of the sync (nothing awaits between here and
    // importData's own check).
    if (this.stopping) {
      this.logger.info('scheduled run skipped: the service is shutting down', { tenantId: run.tenantId, jobId: run.jobId });
      return { skipped: 'service-stopping' };
    }
    return this.importData(run.tenantId, run.resource, { ...(run.options as ImportOptions), signal: run.signal } as ImportOptions);
  }

  // Stops the tenant's running imports at their next batch (no further request with its token).
  private abortTenantRuns(tenantId: string, why: string | ShopifyIngestError): void {
    const controller = this.tenantAborts.get(tenantId);
    this.tenantAborts.delete(tenantId);
    controller?.abort(typeof why === 'string' ? new TenantError('TENANT_INACTIVE', `tenant ${tenantId}: ${why}`, tenantId) : why);
  }

  // A tenant now on another shop: its runs of the old shop stop, and its client (fixed to the old
  // shop, as is its importer's) goes, so the next use restores one for the new shop.
  private async forgetMovedTenant(tenantId: string, from: string, to: string): Promise<void> {
    this.abortTenantRuns(tenantId, new TenantAuthError('TENANT_SHOP_CHANGED', `tenant ${tenantId} was moved from ${from} to ${to}`, tenantId, { retryable: true }));
    await this.clientManager.removeClient(tenantId);
    this.importers.delete(tenantId);
    this.logger.info('tenant moved to another shop: its runs of the old shop stopped, its client dropped', { tenantId, shop: to, previousShop: from });
  }

  private requireWebhooks(caller: string): WebhookService {
    if (!this.webhooksValue) {
      throw new ConfigError(`${caller}: webhooks are not enabled: set SHOPIFY_API_SECRET (and call initialize() first)`);
    }
    return this.webhooksValue;
  }

  // The tenant's client, its token read from (and renewed in) the database: every process shares one renewal.
  private restoreClient(tenant: TenantRecord): ShopifyClient {
    const config = tenantConfigOf(tenant);
    const baseUrl = config.client?.baseUrl ?? this.options.clientDefaults?.baseUrl;
    const accessToken = createStoredTokenSource({
      tenantId: tenant.id, shopDomain: tenant.shopDomain, store: this.store, keyRing: this.keyRing, resolveApp: (id) => this.resolveApp(id),
      baseUrl, fetch: this.options.clientDefaults?.fetch, logger: this.logger, now: () => this.clock().getTime(),
      renewBeforeMs: this.options.tokenRenewal?.renewBeforeMs, leaseTtlMs: this.options.tokenRenewal?.leaseTtlMs, timeoutMs: this.options.tokenRenewal?.timeoutMs,
      telemetry: this.#telemetry.forTenant(tenant.id),
      onReauthRequired: async (info) => {
        this.schedulerValue?.removeTenantJobs(info.tenantId);
        await this.options.onReauthRequired?.(info);
      },
      // Moved by another process: this client only fails now; unless a newer one replaced it already, it goes.
      onShopChanged: ({ from, to }) => {
        if (this.clientManager.hasClient(tenant.id) && this.clientManager.getClient(tenant.id) === client) {
          void this.forgetMovedTenant(tenant.id, from, to).catch((error: unknown) => this.logger.warn('could not drop the client of a moved tenant', { tenantId: tenant.id, error }));
        }
      },
    });
    const client = this.clientManager.addClient(tenant.id, { shopDomain: tenant.shopDomain, accessToken, apiVersion: config.apiVersion }, { ...config.client });
    return client;
  }

  // Fails before anything is written when ENCRYPTION_KEY cannot open the stored tokens: starting
  // anyway would leave those tenants unusable, and the next addTenant would silently re-encrypt a
  // token under the new key while their PII stays under the old one.
  private async assertKeyRingOpensTenants(): Promise<void> {
    const unreadable: Array<{ tenantId: string; keyId: string | undefined }> = [];
    for (const tenant of await this.store.listTenants()) {
      // No token to open: erased by shop/redact, or not obtained yet (client credentials).
      if (!tenant.accessTokenEnc) continue;
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

  // Runs the database-backed checks; a gathering already under way is shared, not repeated.
  private gatherHealth(): Promise<void> {
    this.gathering ??= this.gatherHealthNow().finally(() => { this.gathering = null; });
    return this.gathering;
  }

  private async gatherHealthNow(): Promise<void> {
    const now = this.clock();
    const at = now.toISOString();
    const started = performance.now();
    try {
      await pingDatabase(this.prisma);
      this.gathered.database = { status: 'healthy', reason: 'reachable', checkedAt: at, latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      // Reachable but without the SDK's tables (pingDatabase checks for them): say that, not "unreachable".
      const state = (error as { code?: unknown } | null)?.code === 'DATABASE_NOT_MIGRATED' ? 'not migrated' : 'unreachable';
      this.gathered.database = { status: 'unhealthy', reason: `${state}: ${message}`, checkedAt: at, latencyMs: null };
      this.logger.error(`database ${state}`, { error });
      // The other checks would only time out too: they keep their facts, marked unknown.
      const why = `not checked: the database is ${state} (last checked ${this.gathered.credentials.checkedAt ?? 'never'})`;
      for (const name of ['inbox', 'deadLetters', 'syncs', 'credentials'] as const) {
        this.gathered[name] = { ...this.gathered[name], status: 'degraded', reason: why } as never;
      }
      return;
    }
    const run = async <K extends 'inbox' | 'deadLetters' | 'syncs' | 'credentials'>(name: K, check: () => Promise<HealthChecks[K]>): Promise<void> => {
      try {
        this.gathered[name] = await check();
      } catch (error) {
        this.logger.warn('health check failed', { check: name, error });
        this.gathered[name] = { ...this.gathered[name], status: 'degraded', reason: `not checked: its query failed: ${(error as Error)?.message ?? String(error)}`, checkedAt: at };
      }
    };
    await run('credentials', async () => credentialsCheck(await readNeedsReauth(this.prisma), now));
    await run('inbox', async () => inboxCheck(await readInboxBacklog(this.prisma), this.healthLimits, now));
    await run('deadLetters', async () => deadLettersCheck(await readDeadLetters(this.prisma), now));
    await run('syncs', async () => syncsCheck({
      facts: await readSyncFacts(this.prisma, RESOURCE_NAMES, now),
      configFor: (config) => this.schedulerValue?.syncConfigFor((config as TenantConfig).syncConfig) ?? null,
      intervalOf: this.scheduleInterval,
      thresholds: this.healthLimits,
      now,
    }));
  }
}

/** The inbox gauges' values: one indexed query each, at every metrics collection. */
async function sampleInbox(db: PrismaLike, now: Date): Promise<InboxSample> {
  const [backlog, dead] = await Promise.all([readInboxBacklog(db), readDeadLetters(db, 1)]);
  const oldest = backlog.oldest ? now.getTime() - backlog.oldest.receivedAt.getTime() : 0;
  return { waiting: backlog.waiting, oldestAgeSeconds: Math.max(0, oldest) / 1000, deadLetters: dead.count };
}

/** The part of an Express (or Connect-style) app `setupWebhookEndpoints` uses. */
export interface ExpressLikeApp {
  /** Registers a POST route. */
  post(path: string, handler: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void): unknown;
  /** Registers a middleware for the routes after it. */
  use?(handler: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void): unknown;
}

/** addTenant's error for credentials that failed: refused (not retryable), or unverified because Shopify was unreachable (retryable). */
function credentialsError(tenantId: string, shop: string, error: unknown): ShopifyIngestError {
  const status = error instanceof ShopifyApiError ? error.status : (error as { details?: { status?: number } })?.details?.status;
  const refused = status === 401 || status === 403 || (error instanceof OAuthError && !error.retryable) || (error instanceof ShopifyApiError && !error.retryable && status !== undefined && status < 500);
  if (refused) {
    return new ShopifyIngestError('TENANT_CREDENTIALS_INVALID', `addTenant(${tenantId}): Shopify rejected the credentials for ${shop}${status ? ` (HTTP ${status})` : ''}`, { cause: error, details: { tenantId, shop, status } });
  }
  return new ShopifyIngestError('TENANT_CREDENTIALS_UNVERIFIED', `addTenant(${tenantId}): could not check the credentials for ${shop}: Shopify was unreachable or failed${status ? ` (HTTP ${status})` : ''}; nothing was saved, try again`, { cause: error, retryable: true, details: { tenantId, shop, status } });
}

/** The scheduler overrides of a tenant: its syncConfig, with the jobs of resources it does not sync disabled. */
function jobOverridesOf(config: TenantConfig): SyncConfigOverrides {
  const enabled = enabledResources(config);
  const overrides: SyncConfigOverrides = { ...config.syncConfig };
  for (const name of RESOURCE_NAMES) if (!enabled.includes(name)) overrides[name] = { ...overrides[name], enabled: false };
  return overrides;
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

/**
 * Express's own JSON parser (`express.json`) for the routes after the webhook endpoint (the seed's
 * sync route reads `req.body`), from the host's Express: the facade carries no parser of its own.
 */
function hostExpressJson(): unknown {
  let express: { json?: (options: { limit: string }) => unknown };
  try {
    express = createRequire(import.meta.url)('express') as typeof express;
  } catch (error) {
    throw new ConfigError('setupWebhookEndpoints(app) parses the JSON of your other routes with express.json(), but express is not installed where shopify-ingest can load it: install express, or pass { parseJson: false } and add your own parser', { cause: error });
  }
  if (typeof express.json !== 'function') throw new ConfigError('setupWebhookEndpoints(app): the installed express has no express.json(); pass { parseJson: false } and add your own parser');
  return express.json({ limit: '1mb' });
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
export function createIngestionService(database: PrismaLike | DatabaseHandle, options: IngestionServiceOptions = {}): IngestionService {
  return new IngestionService(database, options);
}
