import type { RowSet } from '../resources/definition.js';
import type { CustomerRow, OrderBundle, ProductBundle, ResourceType, UpsertResult } from './rows.js';
import type { ResourceWriteCounts } from './resource-writer.js';
import type { RowEncoder } from './encoded-rows.js';

/** How a tenant authenticates: a static token, an expiring offline token with its refresh token, or the client credentials grant. */
export type TokenKind = 'static' | 'expiring' | 'client_credentials';

/** A tenant's credentials as stored (every secret encrypted with the key ring, the tenant id bound in). */
export interface TenantTokens {
  /** How the tenant authenticates (decides how its token is renewed). */
  tokenKind: TokenKind;
  /**
   * The access token, encrypted (null after shop/redact erased it, or before a first client credentials grant).
   * @internal
   */
  accessTokenEnc: string | null;
  /** When the access token expires (null: it does not). */
  accessTokenExpiresAt: Date | null;
  /** When the access token was obtained (null: not known); with its expiry, the token's life. */
  accessTokenIssuedAt: Date | null;
  /**
   * The refresh token of an expiring offline token, encrypted.
   * @internal
   */
  refreshTokenEnc: string | null;
  /** When the refresh token expires (Shopify: 90 days, renewed with each use). */
  refreshTokenExpiresAt: Date | null;
  /** The app (client id) the credentials belong to; null = the configured default app. */
  clientId: string | null;
  /**
   * A Dev Dashboard custom app's client secret (client credentials); null = the app's configured one.
   * @internal
   */
  clientSecretEnc: string | null;
}

/** A tenant as the SDK reads it (every secret stays encrypted here). */
export interface TenantRecord extends TenantTokens {
  /** Your tenant id. */
  id: string;
  /** Display name (the shop's name unless you set one). */
  name: string | null;
  /** The shop, `*.myshopify.com`, lower case; unique across tenants. */
  shopDomain: string;
  /** Granted access scopes, comma-separated, when known. */
  scopes: string | null;
  /** `needs_reauth` once renewal is impossible (refresh token revoked, app uninstalled, secret rotated away). */
  authStatus: 'ok' | 'needs_reauth';
  /** Why the tenant needs re-authorisation (null when `ok`). */
  authError: string | null;
  /**
   * Incremented by every stored renewal: a process holding an older token knows it is stale.
   * @internal
   */
  tokenVersion: number;
  /**
   * The process renewing the token right now (its lease), if any.
   * @internal
   */
  renewalHolder: string | null;
  /**
   * Until when that renewal lease holds.
   * @internal
   */
  renewalUntil: Date | null;
  /** False once removed (`removeTenant`), uninstalled or redacted: no client, no scheduled jobs, no deliveries stored. */
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
export interface TenantInput extends Partial<Omit<TenantTokens, 'accessTokenEnc'>> {
  /** Your tenant id. */
  id: string;
  /** Display name. */
  name?: string | null;
  /** The shop, `*.myshopify.com`. */
  shopDomain: string;
  /** The access token, already encrypted by the key ring (null: none yet). */
  accessTokenEnc: string | null;
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
  /** Deletion probes have covered everything up to here (null: none has run yet; after a failed first one, where it began). */
  deletionsCheckedAt: Date | null;
  /** Why the last deletion probe failed (null once one succeeds). */
  deletionError: string | null;
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
  /** The stable code of that error (`SHOPIFY_HTTP_503`, `IMPORT_ABORTED`...), when the run recorded one. */
  errorCode: string | null;
  /** What to know about a run that succeeded (see `ImportResult.warnings`). */
  warnings: string[];
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

/** Stored rows per table key of every resource (`customers`, `variants`, `lineItems`, ...): live rows of live parents unless deleted ones are asked for. */
export type RecordCounts = Record<string, number>;

/** How `IngestStore.finalizeBulk` walks an operation's parents. */
export interface FinalizeBulkOptions {
  /** Parents per statement (default 2,000). */
  chunkSize?: number;
  /**
   * Every parent row the operation wrote was new (all its batches were copied straight into the
   * tables): no stored child of theirs can be gone, so the walk is skipped and only the count
   * columns of `recount` (parents some of whose children were written after them) are recounted.
   */
  newParents?: { recount: readonly bigint[] };
}

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
  /** Encodes rows into COPY text as they are read, for {@link IngestStore.writeRows} (null: this database cannot take them). */
  rowEncoder?(resource: string, counted?: readonly string[]): RowEncoder | null;
  /** After a bulk operation's output is written: children its tagged parents no longer have go, count columns are recounted. */
  finalizeBulk(tenantId: string, resource: string, syncTag: string, options?: FinalizeBulkOptions): Promise<{
    /** Child rows removed per table key. */
    removed: Record<string, number>;
    /** Per child table key with a count column: parents whose stored count was wrong and was rewritten. */
    recounted: Record<string, number>;
  }>;
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
  purgeTenant(tenantId: string, options?: { includeTenant?: boolean; keepInbox?: boolean }): Promise<void>;

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
  /**
   * Deactivates a tenant for an `app/uninstalled` triggered at `uninstalledAt`, unless the tenant was
   * activated after it (the shop installed the app again, and this delivery is a late one from the
   * earlier installation). Returns whether it deactivated the tenant.
   */
  deactivateTenantUninstalledAt(tenantId: string, uninstalledAt: Date): Promise<boolean>;
  /** Records the tenant's sync status (and last sync / last error). */
  setTenantSyncStatus(tenantId: string, status: TenantRecord['syncStatus'], options?: { lastSyncAt?: Date; error?: string | null }): Promise<void>;
  /** Takes the tenant's token-renewal lease for `holder` (null when another holder has it); returns the current row. */
  acquireTokenRenewal(tenantId: string, holder: string, now: Date, ttlMs: number): Promise<TenantRecord | null>;
  /** Stores renewed tokens and releases the lease, only while `holder` holds it. */
  saveRenewedTokens(tenantId: string, holder: string, tokens: Pick<TenantTokens, 'accessTokenEnc' | 'accessTokenExpiresAt' | 'accessTokenIssuedAt' | 'refreshTokenEnc' | 'refreshTokenExpiresAt'>, scopes?: string | null): Promise<boolean>;
  /** Gives the renewal lease back (a renewal that failed), only while `holder` holds it. */
  releaseTokenRenewal(tenantId: string, holder: string): Promise<void>;
  /** Marks the tenant `ok` again, or `needs_reauth` with the reason; with `tokenVersion`, only while the credentials are that version. Returns whether it wrote. */
  setTenantAuthStatus(tenantId: string, status: TenantRecord['authStatus'], error?: string | null, tokenVersion?: number): Promise<boolean>;
  /** Erases every credential of the tenant. */
  eraseTenantCredentials(tenantId: string): Promise<void>;

  // sync state
  /** The checkpoint of a tenant's resource, or null before its first run. */
  getCheckpoint(tenantId: string, resource: ResourceType): Promise<Checkpoint | null>;
  /**
   * Updates the checkpoint (creates it when missing). With `fence`, only while the run `heldBy`
   * holds the resource's run lock and the tenant is active: false, and nothing written, when it does
   * not (another run took the lock, or the tenant was deactivated, by this process or another).
   */
  saveCheckpoint(tenantId: string, resource: ResourceType, patch: Partial<Pick<Checkpoint, 'watermark' | 'cursor' | 'runId' | 'fullSyncCompletedAt' | 'deletionsCheckedAt' | 'deletionError'>>, fence?: { heldBy: string }): Promise<boolean>;
  /** Records a run as `running`. */
  startRun(input: { id: string; tenantId: string; resource: string; mode: SyncRunRecord['mode']; options?: Record<string, unknown> }): Promise<void>;
  /** Updates a running run's counts (progress for other processes). */
  updateRunCounts(runId: string, tenantId: string, counts: Partial<Pick<SyncRunRecord, 'fetched' | 'imported' | 'skipped' | 'failed'>>): Promise<void>;
  /** Records how a run ended. */
  finishRun(runId: string, tenantId: string, result: { status: SyncRunRecord['status']; error?: string | null; errorCode?: string | null; counts?: Partial<Pick<SyncRunRecord, 'fetched' | 'imported' | 'skipped' | 'failed'>>; warnings?: string[] }): Promise<void>;
  /**
   * Marks every run of this tenant and resource that is still `running`, other than `currentRunId`,
   * `cancelled` with `reason`; returns how many. Call it only while holding the resource's run lock
   * ({@link IngestStore.acquireRunLock}): a run then still marked `running` is one whose process died.
   */
  closeInterruptedRuns(tenantId: string, resource: ResourceType, currentRunId: string, reason: string): Promise<number>;
  /**
   * Takes the run lock of a tenant's resource for `runId` until `now + ttlMs`: one sync run per tenant
   * and resource at a time, across processes. Refused while another run holds an unexpired lock (the
   * answer names it); granted again to the same run id. Stored in `shopify_run_locks`, one row per tenant
   * and resource.
   */
  acquireRunLock(lock: RunLockInput & { ttlMs: number }): Promise<RunLockResult>;
  /** Extends a held run lock to `now + ttlMs`; false when the lock is no longer this run's (it expired and another run took it) or its tenant was deactivated. */
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

/** Options of {@link IngestStore.writeRows}. */
export interface WriteRowsOptions {
  /**
   * `bulk`: rows of a bulk operation's output. Children with a `bulkType` are written only when their
   * parent was written by the same operation (same `syncTag` on the rows); stored children a parent no
   * longer has are removed by `finalizeBulk` once the whole file is in. A `bulk` batch commits with
   * `synchronous_commit = off`: the importer's checkpoint, committed after it, makes it durable.
   * Default `complete`.
   */
  mode?: 'complete' | 'bulk';
  /** Name of the operation in errors (default `write <resource>`). */
  op?: string;
  /**
   * `bulk` only, on a database handle with a pool: first try to COPY the rows straight into their
   * tables (a first backfill: no staging, no upsert). When a row is already stored or a child's
   * parent is not this operation's, nothing is written that way and the batch is upserted as usual.
   */
  direct?: boolean;
}

/** What {@link IngestStore.writeRows} did: root rows written and stale (as `UpsertResult`), and per table. */
export interface WriteRowsResult extends UpsertResult {
  /** Per table key: rows written, removed, and (bulk children) skipped or orphaned. */
  tables: ResourceWriteCounts;
  /** With `direct`: true when the rows were copied straight in, false when they were upserted. */
  direct?: boolean;
}
