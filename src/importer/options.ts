import { ConfigError } from '../errors.js';
import type { ImportMode, ImportOptions, ImportSource, RetryOptions } from './types.js';

/** Import options with defaults applied and values checked. */
export interface ResolvedImportOptions {
  /** Rows per database write. */
  batchSize: number;
  /** Batch writes in flight. */
  concurrency: number;
  /** Skip records already stored. */
  skipExisting: boolean;
  /** Fetch and transform, write nothing. */
  dryRun: boolean;
  /** Only records changed in this window (a windowed run leaves the checkpoint alone). */
  dateRange: {
    /** Changed at or after. */
    from: Date | null;
    /** Changed at or before. */
    to: Date | null;
  } | null;
  /** Retries of failed batch writes. */
  retry: Required<RetryOptions>;
  /** `full`, `incremental` or `auto`. */
  mode: ImportMode;
  /** Records per Shopify page (at most 250). */
  pageSize: number;
  /** How far before the watermark an incremental sync starts, for clock skew and late writes. */
  overlapMs: number;
  /** How long to wait for another run of the same resource to finish. */
  waitForLockMs: number;
  /** Aborts the run (it ends `cancelled`, checkpoint kept). */
  signal: AbortSignal | undefined;
  /** Where records come from (`ImportOptions.source`). */
  source: ImportSource;
  /** Changes above which an incremental sync runs as a bulk operation (`ImportOptions.bulkThreshold`). */
  bulkThreshold: number;
  /** How far behind now the watermark stays (`ImportOptions.safetyMarginMs`). */
  safetyMarginMs: number;
}

/**
 * Records per database write by default: one Shopify page. Every write is a transaction with a COPY
 * per table: a bulk file in batches of 500 went 25-35 % faster than in batches of 100, with less CPU
 * per order in the importer and in PostgreSQL, and 250 about as fast as 500 (docs/benchmarks.md,
 * "Fewer, larger writes").
 */
export const DEFAULT_BATCH_SIZE = 250;
/** Shopify's REST maximum `limit` (https://shopify.dev/docs/api/usage/pagination-rest). */
export const SHOPIFY_MAX_PAGE_SIZE = 250;
/** Default overlap of incremental syncs: 5 minutes before the watermark. */
export const DEFAULT_OVERLAP_MS = 5 * 60_000;
/** Changes above which an incremental sync runs as a bulk operation (see `ImportOptions.bulkThreshold`). */
export const DEFAULT_BULK_THRESHOLD = 2500;
/** How far behind now a watermark stays (see `ImportOptions.safetyMarginMs`). */
export const DEFAULT_SAFETY_MARGIN_MS = 60_000;
const MAX_CONCURRENCY = 32;

function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`import option ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function date(name: string, value: unknown): Date | null {
  if (value === undefined || value === null || value === '') return null;
  const d = value instanceof Date ? new Date(value.getTime()) : typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw new ConfigError(`import option ${name} must be an ISO 8601 date, got ${JSON.stringify(value)}`);
  return d;
}

/**
 * Applies defaults (batchSize 250, concurrency 3, page 250, retries 3 x2 from 1s to 5s, overlap 5 min)
 * and rejects nonsense early, with a message naming the option.
 *
 * @example
 * ```ts
 * resolveImportOptions({ batchSize: 50 }).concurrency // 3
 * resolveImportOptions({ batchSize: 0 })              // throws ConfigError: import option batchSize must be ...
 * ```
 */
export function resolveImportOptions(options: ImportOptions = {}): ResolvedImportOptions {
  if (options === null || typeof options !== 'object') throw new ConfigError('import options must be an object');
  const mode = options.mode ?? 'auto';
  if (mode !== 'full' && mode !== 'incremental' && mode !== 'auto') {
    throw new ConfigError(`import option mode must be 'full', 'incremental' or 'auto', got ${JSON.stringify(mode)}`);
  }
  let dateRange: ResolvedImportOptions['dateRange'] = null;
  if (options.dateRange !== undefined && options.dateRange !== null) {
    const from = date('dateRange.from', options.dateRange.from);
    const to = date('dateRange.to', options.dateRange.to);
    if (from && to && from.getTime() > to.getTime()) throw new ConfigError('import option dateRange.from is after dateRange.to');
    if (from || to) dateRange = { from, to };
  }
  const r = options.retryOptions ?? {};
  const retry: Required<RetryOptions> = {
    retries: integer('retryOptions.retries', r.retries, 3, 0, 100),
    factor: r.factor ?? 2,
    minTimeout: integer('retryOptions.minTimeout', r.minTimeout, 1000, 0, 3_600_000),
    maxTimeout: integer('retryOptions.maxTimeout', r.maxTimeout, 5000, 0, 3_600_000),
  };
  if (typeof retry.factor !== 'number' || !(retry.factor >= 1)) throw new ConfigError('import option retryOptions.factor must be a number >= 1');
  if (retry.maxTimeout < retry.minTimeout) retry.maxTimeout = retry.minTimeout;
  const source = options.source ?? 'graphql';
  if (source !== 'graphql' && source !== 'rest') throw new ConfigError(`import option source must be 'graphql' or 'rest', got ${JSON.stringify(source)}`);
  return {
    batchSize: integer('batchSize', options.batchSize, DEFAULT_BATCH_SIZE, 1, 10_000),
    concurrency: integer('concurrency', options.concurrency, 3, 1, MAX_CONCURRENCY),
    skipExisting: options.skipExisting === true,
    dryRun: options.dryRun === true,
    dateRange,
    retry,
    mode,
    pageSize: integer('pageSize', options.pageSize, SHOPIFY_MAX_PAGE_SIZE, 1, SHOPIFY_MAX_PAGE_SIZE),
    overlapMs: integer('overlapMs', options.overlapMs, DEFAULT_OVERLAP_MS, 0, 7 * 24 * 3_600_000),
    waitForLockMs: integer('waitForLockMs', options.waitForLockMs, 0, 0, 24 * 3_600_000),
    signal: options.signal,
    source,
    bulkThreshold: integer('bulkThreshold', options.bulkThreshold, DEFAULT_BULK_THRESHOLD, 0, 1_000_000_000),
    safetyMarginMs: integer('safetyMarginMs', options.safetyMarginMs, DEFAULT_SAFETY_MARGIN_MS, 0, 24 * 3_600_000),
  };
}

/** The options a run row records (JSON-safe, no functions or signals). */
export function describeOptions(o: ResolvedImportOptions): Record<string, unknown> {
  return {
    batchSize: o.batchSize,
    concurrency: o.concurrency,
    skipExisting: o.skipExisting,
    dateRange: o.dateRange ? { from: o.dateRange.from?.toISOString() ?? null, to: o.dateRange.to?.toISOString() ?? null } : null,
    requestedMode: o.mode,
    pageSize: o.pageSize,
    source: o.source,
  };
}
