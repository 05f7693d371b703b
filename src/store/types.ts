import type { RowSet } from '../resources/definition.js';
import type { CustomerRow, OrderBundle, ProductBundle, ResourceType, UpsertResult } from './rows.js';
import type { WriteRowsOptions, WriteRowsResult } from './synced-data.js';

/** How a tenant authenticates: a static token, an expiring offline token with its refresh token, or the client credentials grant. */
export type TokenKind = 'static' | 'expiring' | 'client_credentials';

/** A tenant's credentials as stored (every secret encrypted with the key ring, the tenant id bound in). */
export interface TenantTokens {
  tokenKind: TokenKind;
  /** The access token (null after shop/redact erased it). */
  accessTokenEnc: string | null;
  accessTokenExpiresAt: Date | null;
  refreshTokenEnc: string | null;
  refreshTokenExpiresAt: Date | null;
  /** The app (client id) the credentials belong to; null = the configured default app. */
  clientId: string | null;
  /** A Dev Dashboard custom app's client secret (client credentials); null = the app's configured one. */
  clientSecretEnc: string | null;
}

/** A tenant as the SDK reads it (every secret stays encrypted here). */
export interface TenantRecord extends TenantTokens {
  id: string;
  name: string | null;
  shopDomain: string;
  scopes: string | null;
  /** `needs_reauth` once renewal is impossible (refresh token revoked, app uninstalled, secret rotated away). */
  authStatus: 'ok' | 'needs_reauth';
  authError: string | null;
  tokenVersion: number;
  renewalHolder: string | null;
  renewalUntil: Date | null;
  isActive: boolean;
  syncStatus: 'idle' | 'running' | 'error';
  lastSyncAt: Date | null;
  lastError: string | null;
  config: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export interface TenantInput extends Partial<Omit<TenantTokens, 'accessTokenEnc'>> {
  id: string;
  name?: string | null;
  shopDomain: string;
  accessTokenEnc: string | null;
  scopes?: string | null;
  config?: Record<string, unknown>;
}

export interface Checkpoint {
  tenantId: string;
  resource: ResourceType;
  /** Highest Shopify updated_at fully committed. */
  watermark: Date | null;
  /** Resume position of an unfinished run (opaque to the store). */
  cursor: string | null;
  runId: string | null;
  fullSyncCompletedAt: Date | null;
  /** Deletion probes have covered everything up to here (null: none has run yet). */
  deletionsCheckedAt: Date | null;
  /** Why the last deletion probe failed (null once one succeeds). */
  deletionError: string | null;
  updatedAt: Date;
}

export interface SyncRunRecord {
  id: string;
  tenantId: string;
  resource: string;
  mode: 'full' | 'incremental';
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  fetched: number;
  imported: number;
  skipped: number;
  failed: number;
  error: string | null;
  /** What to know about a run that succeeded (see `ImportResult.warnings`). */
  warnings: string[];
  options: Record<string, unknown>;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface SyncFailureInput {
  shopifyId: bigint | null;
  reason: string;
}

export interface SyncFailureRecord {
  resource: string;
  shopifyId: bigint | null;
  reason: string;
  createdAt: Date;
}

export interface StoredIdRange {
  afterId: bigint | null;
  upToId: bigint | null;
  changedBefore: Date;
  limit: number;
}

/** Stored rows per table key of every resource (`customers`, `variants`, `lineItems`, ...): live rows of live parents unless deleted ones are asked for. */
export type RecordCounts = Record<string, number>;

/**
 * Everything the SDK writes and reads, tenant-scoped in every statement.
 * Synced-data writes are one set-based statement per table per batch and idempotent:
 * an incoming row replaces the stored one only when its shopifyUpdatedAt is newer or equal,
 * and a tombstone (deletedAt) is never overwritten by an older version.
 */
export interface IngestStore {
  // synced data
  /** One batch of a resource's rows, every table in one statement (see `WriteRowsOptions.mode`). */
  writeRows(tenantId: string, resource: string, rows: RowSet, options?: WriteRowsOptions): Promise<WriteRowsResult>;
  /** After a bulk operation's output is written: children its tagged parents no longer have go, count columns are recounted. */
  finalizeBulk(tenantId: string, resource: string, syncTag: string, options?: { chunkSize?: number }): Promise<{ removed: Record<string, number> }>;
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
  countRecords(tenantId: string, options?: { includeDeleted?: boolean }): Promise<RecordCounts>;
  /** Adds ids of a complete listing (deletion reconciliation). */
  addListedIds(tenantId: string, resource: string, listingId: string, ids: bigint[]): Promise<void>;
  /** Tombstones (revocably) the stored live records the listing lacks that did not change since `changedBefore`; returns how many. */
  tombstoneUnlisted(tenantId: string, resource: string, listingId: string, changedBefore: Date): Promise<number>;
  /** Forgets a listing's ids. */
  clearListedIds(tenantId: string, resource: string, listingId: string): Promise<void>;

  // privacy
  /** customers/redact: erase that customer's PII columns and payload, and their orders' PII. */
  redactCustomer(tenantId: string, customerId: bigint, orderIds?: bigint[]): Promise<void>;
  /** shop/redact: delete every row of the tenant (the tenant row itself too when `includeTenant`). */
  purgeTenant(tenantId: string, options?: { includeTenant?: boolean }): Promise<void>;

  // tenants
  upsertTenant(input: TenantInput): Promise<TenantRecord>;
  getTenant(tenantId: string): Promise<TenantRecord | null>;
  getTenantByShop(shopDomain: string): Promise<TenantRecord | null>;
  listTenants(options?: { activeOnly?: boolean }): Promise<TenantRecord[]>;
  setTenantActive(tenantId: string, active: boolean): Promise<void>;
  setTenantSyncStatus(tenantId: string, status: TenantRecord['syncStatus'], options?: { lastSyncAt?: Date; error?: string | null }): Promise<void>;
  /** Takes the tenant's token-renewal lease for `holder` (null when another holder has it); returns the current row. */
  acquireTokenRenewal(tenantId: string, holder: string, now: Date, ttlMs: number): Promise<TenantRecord | null>;
  /** Stores renewed tokens and releases the lease, only while `holder` holds it. */
  saveRenewedTokens(tenantId: string, holder: string, tokens: Pick<TenantTokens, 'accessTokenEnc' | 'accessTokenExpiresAt' | 'refreshTokenEnc' | 'refreshTokenExpiresAt'>, scopes?: string | null): Promise<boolean>;
  releaseTokenRenewal(tenantId: string, holder: string): Promise<void>;
  setTenantAuthStatus(tenantId: string, status: TenantRecord['authStatus'], error?: string | null): Promise<void>;
  /** Erases every credential of the tenant. */
  eraseTenantCredentials(tenantId: string): Promise<void>;

  // sync state
  getCheckpoint(tenantId: string, resource: ResourceType): Promise<Checkpoint | null>;
  saveCheckpoint(tenantId: string, resource: ResourceType, patch: Partial<Pick<Checkpoint, 'watermark' | 'cursor' | 'runId' | 'fullSyncCompletedAt' | 'deletionsCheckedAt' | 'deletionError'>>): Promise<void>;
  startRun(input: { id: string; tenantId: string; resource: string; mode: SyncRunRecord['mode']; options?: Record<string, unknown> }): Promise<void>;
  updateRunCounts(runId: string, tenantId: string, counts: Partial<Pick<SyncRunRecord, 'fetched' | 'imported' | 'skipped' | 'failed'>>): Promise<void>;
  finishRun(runId: string, tenantId: string, result: { status: SyncRunRecord['status']; error?: string | null; counts?: Partial<Pick<SyncRunRecord, 'fetched' | 'imported' | 'skipped' | 'failed'>>; warnings?: string[] }): Promise<void>;
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
  recordFailures(runId: string, tenantId: string, resource: string, failures: SyncFailureInput[]): Promise<void>;
  listRuns(tenantId: string, options?: { limit?: number; resource?: string }): Promise<SyncRunRecord[]>;
  /** Failures recorded for one run, oldest first. */
  listFailures(tenantId: string, runId: string): Promise<SyncFailureRecord[]>;
}

/** Which run lock, for which run, at what time (see {@link IngestStore.acquireRunLock}). */
export interface RunLockInput {
  tenantId: string;
  resource: ResourceType;
  runId: string;
  now: Date;
}

/** The answer of {@link IngestStore.acquireRunLock}: granted, or refused with the run holding the lock (null fields: it was released meanwhile). */
export type RunLockResult =
  | { acquired: true }
  | { acquired: false; runId: string | null; acquiredAt: Date | null; expiresAt: Date | null };
