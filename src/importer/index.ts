/**
 * The importer: full and incremental syncs of one tenant, fetch -> transform -> store,
 * with checkpoints, progress and deletion detection.
 */
export { createImportService, ImportService, DEFAULT_RUN_LOCK_TTL_MS } from './service.js';
export type { ImportStats, ResourceImportStats } from './service.js';
export { ImportError } from './errors.js';
export { resolveImportOptions, SHOPIFY_MAX_PAGE_SIZE, DEFAULT_OVERLAP_MS } from './options.js';
export type { ResolvedImportOptions } from './options.js';
export type {
  ImportOptions,
  ImportMode,
  ImportProgress,
  ImportResult,
  ImportAllResult,
  ImportClient,
  ImportTransformer,
  ImportServiceOptions,
  RetryOptions,
} from './types.js';
