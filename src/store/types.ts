import type { CustomerRow, OrderBundle, ProductBundle, ResourceType, UpsertResult } from './rows.js';

/** A tenant as the SDK reads it (the access token stays encrypted here). */
export interface TenantRecord {
  /** Your tenant id. */
  id: string;
  /** Display name (the shop's name unless you set one). */
  name: string | null;
  /** The shop, `*.myshopify.com`, lower case; unique across tenants. */
  shopDomain: string;
  /** The Admin API access token, encrypted by the key ring (bound to the tenant id). */
  accessTokenEnc: string;
  /** Granted access scopes, comma-separated, when known. */
  scopes: string | null;
  /** False once removed (`removeTenant`): no client, no scheduled jobs; data kept unless purged. */
  isActive: boolean;
  /** `running` during a sync, `error` after a failed one, else `idle`. */
  syncStatus: 'idle' | 'running' | 'error';
  /** When the last successful sync finished. */
  lastSyncAt: Date | null;
  /** Message of the last failed sync; null after a success. */
  lastError: string | null;
  /** Per-tenant settings (`TenantConfig`: name, sync schedule, client options). */
  config: Record<string, unknown>;
  /** When the tenant was first added. */
  createdAt: Date;
  /** When the row last changed. */
  updatedAt: Date;
}

/** What `upsertTenant` writes. */
export interface TenantInput {
  /** Your tenant id. */
  id: string;
  /** Display name. */
  name?: string | null;
  /** The shop, `*.myshopify.com`. */
  shopDomain: string;
  /** The access token, already encrypted by the key ring. */
  accessTokenEnc: string;
  /** Granted access scopes, comma-separated. */
  scopes?: string | null;
  /** Per-tenant settings. */
  config?: Record<string, unknown>;
}

/** Where a tenant's resource sync stands (`shopify_sync_checkpoints`). */
export interface Checkpoint {
  /** The tenant. */
  tenantId: string;
  /** The resource. */
  resource: ResourceType;
  /** Highest Shopify updated_at fully committed. */
  watermark: Date | null;
  /** Resume position of an unfinished run (opaque to the store). */
  cursor: string | null;
  /** The run that wrote it last (a running or interrupted run names itself here first). */
  runId: string | null;
  /** When a full sync last completed; `auto` mode is incremental from then on. */
  fullSyncCompletedAt: Date | null;
  /** When the row last changed. */
  updatedAt: Date;
}

/** One sync run (`shopify_sync_runs`). */
export interface SyncRunRecord {
  /** Run id (a ksuid: sortable by start time). */
  id: string;
  /** The tenant. */
  tenantId: string;
  /** `customers`, `products` or `orders`. */
  resource: string;
  /** Full (everything) or incremental (changed since the watermark). */
  mode: 'full' | 'incremental';
  /** `running` until it ends; `cancelled` when aborted or found interrupted. */
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  /** Records received from Shopify. */
  fetched: number;
  /** Records written. */
  imported: number;
  /** Records not written: already stored (`skipExisting`) or older than the stored version. */
  skipped: number;
  /** Records that could not be imported (see `shopify_sync_failures`). */
  failed: number;
  /** Why the run failed or was cancelled. */
  error: string | null;
  /** The options it ran with (and where it resumed from). */
  options: Record<string, unknown>;
  /** When it started. */
  startedAt: Date;
  /** When it ended; null while running. */
  finishedAt: Date | null;
}

/** A record a run could not import, as `recordFailures` takes it. */
export interface SyncFailureInput {
  /** Its Shopify id; null when the id itself could not be read. */
  shopifyId: bigint | null;
  /** Why (the error message, at most 2,000 characters). */
  reason: string;
}

/** A recorded failure (`shopify_sync_failures`). */
export interface SyncFailureRecord {
  /** The resource. */
  resource: string;
  /** Its Shopify id; null when it could not be read. */
  shopifyId: bigint | null;
  /** Why it failed. */
  reason: string;
  /** When it was recorded. */
  createdAt: Date;
}

/** One page of `listStoredIds`. */
export interface StoredIdRange {
  /** Exclusive lower bound; null for the start. */
  afterId: bigint | null;
  /** Inclusive upper bound; null for no bound. */
  upToId: bigint | null;
  /** Only rows last changed before this instant. */
  changedBefore: Date;
  /** Page size. */
  limit: number;
}

/** Rows of a tenant per table. */
export interface RecordCounts {
  /** Customers. */
  customers: number;
  /** Products. */
  products: number;
  /** Product variants. */
  variants: number;
  /** Orders. */
  orders: number;
  /** Order line items. */
  lineItems: number;
}

/**
 * Everything the SDK writes and reads, tenant-scoped in every statement.
 * Synced-data writes are one set-based statement per table per batch and idempotent:
 * an incoming row replaces the stored one only when its shopifyUpdatedAt is newer or equal,
 * and a tombstone (deletedAt) is never overwritten by an older version.
 */
export interface IngestStore {
  // synced data
  /** Customers, newest version wins. */
  upsertCustomers(tenantId: string, rows: CustomerRow[]): Promise<UpsertResult>;
  /** Products and their variants in one transaction. */
  upsertProducts(tenantId: string, bundle: ProductBundle): Promise<UpsertResult>;
  /** Orders, their line items and events in one transaction (all or nothing). */
  upsertOrders(tenantId: string, bundle: OrderBundle): Promise<UpsertResult>;
  /**
   * Tombstones: sets deletedAt (and shopifyUpdatedAt = deletedAt) unless a newer version exists.
   * Ids not stored yet get a tombstone row, so a late, older create cannot resurrect them.
   */
  markDeleted(tenantId: string, resource: ResourceType, ids: bigint[], deletedAt: Date): Promise<number>;
  /** Which of `ids` are stored (deleted or not) — for skipExisting. */
  existingIds(tenantId: string, resource: ResourceType, ids: bigint[]): Promise<Set<bigint>>;
  /**
   * Stored, not deleted ids in (afterId, upToId], ascending, at most `limit`, last changed before
   * `changedBefore` (rows a webhook wrote meanwhile are left out). Keyset pagination, for id
   * reconciliation with memory flat whatever the table size.
   */
  listStoredIds(tenantId: string, resource: ResourceType, range: StoredIdRange): Promise<bigint[]>;
  /** Rows of the tenant per table; deleted ones only with `includeDeleted`. */
  countRecords(tenantId: string, options?: { includeDeleted?: boolean }): Promise<RecordCounts>;

  // privacy
  /** customers/redact: erase that customer's PII columns and payload, and their orders' PII. */
  redactCustomer(tenantId: string, customerId: bigint, orderIds?: bigint[]): Promise<void>;
  /** shop/redact: delete every row of the tenant (the tenant row itself too when `includeTenant`). */
  purgeTenant(tenantId: string, options?: { includeTenant?: boolean }): Promise<void>;

  // tenants
  /** Creates or updates a tenant (by id). */
  upsertTenant(input: TenantInput): Promise<TenantRecord>;
  /** A tenant by id, or null. */
  getTenant(tenantId: string): Promise<TenantRecord | null>;
  /** The tenant connected to a shop, or null. */
  getTenantByShop(shopDomain: string): Promise<TenantRecord | null>;
  /** Every tenant (only active ones with `activeOnly`). */
  listTenants(options?: { activeOnly?: boolean }): Promise<TenantRecord[]>;
  /** Activates or deactivates a tenant. */
  setTenantActive(tenantId: string, active: boolean): Promise<void>;
  /** Records the tenant's sync status (and last sync / last error). */
  setTenantSyncStatus(tenantId: string, status: TenantRecord['syncStatus'], options?: { lastSyncAt?: Date; error?: string | null }): Promise<void>;

  // sync state
  /** The checkpoint of a tenant's resource, or null before its first run. */
  getCheckpoint(tenantId: string, resource: ResourceType): Promise<Checkpoint | null>;
  /** Updates the checkpoint (creates it when missing). */
  saveCheckpoint(tenantId: string, resource: ResourceType, patch: Partial<Pick<Checkpoint, 'watermark' | 'cursor' | 'runId' | 'fullSyncCompletedAt'>>): Promise<void>;
  /** Records a run as `running`. */
  startRun(input: { id: string; tenantId: string; resource: string; mode: SyncRunRecord['mode']; options?: Record<string, unknown> }): Promise<void>;
  /** Updates a running run's counts (progress for other processes). */
  updateRunCounts(runId: string, tenantId: string, counts: Partial<Pick<SyncRunRecord, 'fetched' | 'imported' | 'skipped' | 'failed'>>): Promise<void>;
  /** Records how a run ended. */
  finishRun(runId: string, tenantId: string, result: { status: SyncRunRecord['status']; error?: string | null; counts?: Partial<Pick<SyncRunRecord, 'fetched' | 'imported' | 'skipped' | 'failed'>> }): Promise<void>;
  /**
   * Marks every run of this tenant and resource that is still `running`, other than `currentRunId`,
   * `cancelled` with `reason`; returns how many. Call it only while holding the resource's run lock
   * ({@link IngestStore.acquireRunLock}): a run then still marked `running` is one whose process died.
   */
  closeInterruptedRuns(tenantId: string, resource: ResourceType, currentRunId: string, reason: string): Promise<number>;
  /**
   * Takes the run lock of a tenant's resource for `runId` until `now + ttlMs`: one sync run per tenant
   * and resource at a time, across processes. Refused while another run holds an unexpired lock (the
   * answer names it); granted again to the same run id. Stored in `shopify_scheduler_leases`.
   */
  acquireRunLock(lock: RunLockInput & { ttlMs: number }): Promise<RunLockResult>;
  /** Extends a held run lock to `now + ttlMs`; false when the lock is no longer this run's (it expired and another run took it). */
  renewRunLock(lock: RunLockInput & { ttlMs: number }): Promise<boolean>;
  /** Releases the run lock if `runId` still holds it. */
  releaseRunLock(lock: Omit<RunLockInput, 'now'>): Promise<void>;
  /** Records records a run could not import. */
  recordFailures(runId: string, tenantId: string, resource: string, failures: SyncFailureInput[]): Promise<void>;
  /** Runs of a tenant, newest first. */
  listRuns(tenantId: string, options?: { limit?: number; resource?: string }): Promise<SyncRunRecord[]>;
  /** Failures recorded for one run, oldest first. */
  listFailures(tenantId: string, runId: string): Promise<SyncFailureRecord[]>;
}

/** Which run lock, for which run, at what time (see {@link IngestStore.acquireRunLock}). */
export interface RunLockInput {
  /** The tenant. */
  tenantId: string;
  /** The resource. */
  resource: ResourceType;
  /** The run asking. */
  runId: string;
  /** The current time (the store compares it with the lock's expiry). */
  now: Date;
}

/** The answer of {@link IngestStore.acquireRunLock}: granted, or refused with the run holding the lock (null fields: it was released meanwhile). */
export type RunLockResult =
  | {
    /** Granted. */
    acquired: true;
  }
  | {
    /** Refused: another run holds the lock. */
    acquired: false;
    /** The run holding it. */
    runId: string | null;
    /** Since when it holds it. */
    acquiredAt: Date | null;
    /** When its lock expires unless renewed. */
    expiresAt: Date | null;
  };
