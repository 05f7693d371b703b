import type { KeyRing } from '../crypto/index.js';
import type { Logger } from '../logger.js';
import type { IngestStore } from '../store/types.js';
import type { ResourceType } from '../store/rows.js';
import type { RowSet } from '../resources/definition.js';
import type { Telemetry } from '../telemetry/telemetry.js';

/** Retry of a failed batch write (same shape as the seed's `retryOptions`; times in ms). */
export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** Multiplier of the delay per retry (default 2). */
  factor?: number;
  /** First delay (default 1000). */
  minTimeout?: number;
  /** Largest delay (default 5000). */
  maxTimeout?: number;
}

/** Which sync to run. `auto` (default): incremental once a full sync of the resource completed, else full. */
export type ImportMode = 'full' | 'incremental' | 'auto';

/**
 * Options of one import (the seed's Import Options plus `mode`, `pageSize`, `overlapMs` and `waitForLockMs`).
 *
 * @example
 * ```ts
 * await importer.importOrders({ batchSize: 100, concurrency: 3, dateRange: { from: '2024-01-01T00:00:00Z' } });
 * ```
 */
export interface ImportOptions {
  /** Records per database write (default 250; a bulk file's may hold up to 31 more: docs/importing.md). */
  batchSize?: number;
  /** Batch writes in flight at once (default 3, at most 32). Fetching pauses while all are busy. */
  concurrency?: number;
  /** Skip records whose id is already stored (deleted or not); they are counted as skipped. */
  skipExisting?: boolean;
  /**
   * Fetch and transform only: no rows, no checkpoints, no run records, no tenant status
   * (the returned result still carries counts and a run id). Existing ids are read for `skipExisting`.
   */
  dryRun?: boolean;
  /**
   * Only records whose Shopify `updated_at` is in this window (`updated_at_min`/`updated_at_max`).
   * `updated_at`, not `created_at`, so a window also catches old orders that changed in it
   * (paid, fulfilled, refunded). A windowed run is a one-off: it neither reads nor moves the
   * watermark and the resume cursor, and never counts as a full sync.
   */
  dateRange?: {
    /** Changed at or after (ISO-8601 or Date). */
    from?: string | Date;
    /** Changed at or before. */
    to?: string | Date;
  };
  /** Retries of a failed batch write. */
  retryOptions?: RetryOptions;
  /** `full`, `incremental` or `auto` (default). */
  mode?: ImportMode;
  /** Records per Shopify page (default 250, Shopify's maximum). */
  pageSize?: number;
  /**
   * How far before the watermark an incremental sync starts (default 5 minutes), so records
   * updated while the previous sync ran, or stamped by a clock slightly behind ours, are not missed.
   */
  overlapMs?: number;
  /**
   * How long to wait for another run of the same tenant and resource (in any process) to finish
   * before failing with `IMPORT_ALREADY_RUNNING` (ms, default 0: fail at once). The scheduler's
   * full-sync job waits, so a weekly full sync is not lost to a short incremental run.
   */
  waitForLockMs?: number;
  /** Abort the run (the checkpoint keeps what was committed). */
  signal?: AbortSignal;
  /** Progress callback for this call only (in addition to the service's). */
  onProgress?: (event: ImportProgress) => void;
  /**
   * Where records come from: `graphql` (default; full syncs by bulk operation, incremental ones by
   * pages sorted by `updated_at`) or the legacy REST Admin API (`rest`), for custom apps that still use it.
   */
  source?: ImportSource;
  /**
   * An incremental (or windowed) sync of more records than this (by Shopify's count) runs as a bulk
   * operation instead of pages (default 2,500: paging costs query points, bulk operations do not).
   */
  bulkThreshold?: number;
  /**
   * How far behind now the watermark stays (ms, default 60 s): Shopify's search index lags writes
   * by seconds, so a record changed just before a listing may not be found by it yet.
   */
  safetyMarginMs?: number;
}

/** Where a sync reads records from. */
export type ImportSource = 'graphql' | 'rest';

/** Progress of a run, emitted after every committed batch and once at the end (`done: true`). */
export interface ImportProgress {
  /** The tenant. */
  tenantId: string;
  /** The resource. */
  resource: ResourceType;
  /** The run. */
  runId: string;
  /** Full or incremental. */
  mode: 'full' | 'incremental';
  /** Records received from Shopify so far. */
  fetched: number;
  /** Records written so far. */
  imported: number;
  /** Records not written (already stored, or older than the stored version). */
  skipped: number;
  /** Records that could not be imported. */
  failed: number;
  /** Records Shopify holds for this run (count query or bulk count), when known; for metafields, the parts done plus the current part's. */
  total?: number;
  /** Records fetched per second since the run started. */
  ratePerSecond: number;
  /** Time since the run started. */
  elapsedMs: number;
  /** True on the last event of the run. */
  done: boolean;
}

/** What one run did. */
export interface ImportResult {
  /** Run id (`shopify_sync_runs.id`). */
  runId: string;
  /** The tenant. */
  tenantId: string;
  /** The resource. */
  resource: ResourceType;
  /** Full or incremental. */
  mode: 'full' | 'incremental';
  /** How it ended (`cancelled`: aborted; its checkpoint is kept). */
  status: 'succeeded' | 'failed' | 'cancelled';
  /** Nothing was written. */
  dryRun: boolean;
  /** The run continued an interrupted one from its checkpoint. */
  resumed: boolean;
  /** Records received from Shopify. */
  fetched: number;
  /** Records written (inserted or updated; child rows are not counted). */
  imported: number;
  /** Records not written: already stored (`skipExisting`) or the stored version is newer. */
  skipped: number;
  /** Records that could not be transformed (recorded in shopify_sync_failures). */
  failed: number;
  /** The seed's name for `failed`. */
  errors: number;
  /** Tombstones written for records deleted at Shopify. */
  deleted: number;
  /** Shopify requests made for the listing (pages), useful to see an incremental sync's saving. */
  pages: number;
  /** When it started. */
  startedAt: Date;
  /** When it ended. */
  finishedAt: Date;
  /** How long it took. */
  durationMs: number;
  /** Why it failed or was cancelled. */
  error?: string;
  /** Where the records came from, and how: `bulk` (operation files), `pages` (GraphQL) or `rest`. */
  method: 'bulk' | 'pages' | 'rest';
  /** Things to know about a run that succeeded: protected fields Shopify withheld, history limited to 60 days, a deletion probe that failed (retried next run). */
  warnings: string[];
}

/** Result of `importAll`. */
export type ImportAllResult = { [K in ResourceType]: ImportResult };

/**
 * The part of a Shopify client the importer uses (see `createShopifyClient`): REST pages for
 * `source: 'rest'`, GraphQL for the default source.
 */
export interface ImportClient {
  /** The shop, `*.myshopify.com` (the GraphQL engine needs it). */
  readonly shopDomain?: string;
  /** Runs a GraphQL query (the GraphQL engine needs it; `source: 'rest'` does not). */
  graphql?<T = any>(query: string, variables?: Record<string, unknown>, options?: { signal?: AbortSignal }): Promise<T>;
  /** Pages of a REST listing; the first request carries `query`, the next follow the Link header. */
  pages<T = unknown>(path: string, query?: Record<string, string | number | boolean | undefined>, options?: { signal?: AbortSignal }): AsyncGenerator<T[]> | AsyncIterable<T[]>;
  /** One REST GET (counts for REST reconciliation). */
  get?<T = any>(path: string, query?: Record<string, unknown>): Promise<T>;
}

/** The part of a ShopifyTransformer instance the importer uses. */
export interface ImportTransformer {
  /** One record of `resource` (REST/webhook body or GraphQL node) to its rows by table key. */
  toRows(resource: string, data: unknown, tenantId: string): RowSet;
  /** One bulk child line to one row of `table`; `options.text` is the line's JSON text without `__parentId`. */
  childRow(resource: string, table: string, data: unknown, parentId: bigint, tenantId: string, options?: { text?: string }): unknown;
}

/** The part of a Shopify client the GraphQL engine uses (a `ShopifyClient` fits). */
export interface GraphqlImportClient {
  /** The shop, `*.myshopify.com`. */
  readonly shopDomain: string;
  /** Runs a query; throws `GraphqlError` (with whatever `data` came back) when the response has errors. */
  graphql<T = any>(query: string, variables?: Record<string, unknown>, options?: { signal?: AbortSignal }): Promise<T>;
}

/** Service-level options of `createImportService`. */
export interface ImportServiceOptions {
  /** Encrypts PII; defaults to `keyRingFromEnv()` (ENCRYPTION_KEY), resolved on first import. */
  keyRing?: KeyRing;
  /** Overrides the transformer built from `keyRing`. */
  transformer?: ImportTransformer;
  /** Where the importer logs (default: silent). */
  logger?: Logger;
  /** Current time (runs, watermarks, rates). */
  clock?: () => Date;
  /** Delay used between batch-write retries. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Defaults to `createStore(prisma)`.
   * @internal
   */
  store?: IngestStore;
  /** Called with every progress event of every run. */
  onProgress?: (event: ImportProgress) => void;
  /** Defaults for every import of this service. */
  defaults?: ImportOptions;
  /** Run id factory (default: ksuid). */
  newRunId?: () => string;
  /**
   * How long a run's lock outlives its last renewal (ms, default 30,000; renewed every third of it).
   * A run whose process died blocks the next run of its tenant and resource for at most this long.
   */
  runLockTtlMs?: number;
  /**
   * Bulk operations: `fetch` for their result files (default the global one), `wake` to end a poll
   * early when a `bulk_operations/finish` webhook arrived (the facade wires its webhook endpoint), poll
   * timing, and the smallest window a failing operation is split into.
   * @internal
   */
  bulk?: BulkDeps;
  /**
   * Metrics and spans of runs (the facade passes its own).
   * @internal
   */
  telemetry?: Telemetry;
}

/** What bulk operations need besides the client (fetch, webhook wake-ups, poll timing). */
export interface BulkDeps {
  fetch?: typeof globalThis.fetch;
  /** Resolves when a `bulk_operations/finish` webhook for this operation arrived in this process. */
  wake?: (operationId: string, signal: AbortSignal) => Promise<void>;
  /** Poll delays (tests shorten them). */
  minPollMs?: number;
  maxPollMs?: number;
  /** Smallest window a failing operation is split into (default 1 hour). */
  minWindowMs?: number;
  /** Reruns of one window after a cancel, expiry or failure at the minimum span (default 3). */
  maxAttempts?: number;
  /**
   * How many lines of a bulk file a record with a child count (orders' `line_item_count`) waits for
   * its children, so it is written once with its count (default 4,000; 0: written at once and
   * recounted after the file). Memory: the records and children of that many lines.
   */
  regroupLines?: number;
  /**
   * Reads bulk files in a worker thread where it can (default true; docs/importing.md, "In a
   * worker thread"): memory stays small and flat. `false` reads them in the calling thread.
   */
  worker?: boolean;
  /**
   * The worker script (tests and benchmarks run the sources, which have none beside them).
   * @internal
   */
  workerFile?: string;
  /**
   * Files with fewer lines left to read are read in the calling thread (default 10,000).
   * @internal
   */
  workerMinLines?: number;
}
