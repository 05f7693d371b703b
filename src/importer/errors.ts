import { ShopifyIngestError } from '../errors.js';
import type { ImportResult } from './types.js';
import type { ErrorCode } from '../error-codes.js';

/**
 * A sync run that stopped: a batch write still failed after its retries, the listing failed,
 * or the run was aborted. The checkpoint was NOT advanced past the rows that are not committed,
 * so the next run resumes from there. `result` holds the counts reached before the failure.
 *
 * Codes: `IMPORT_FAILED` (a write or the listing failed), `IMPORT_ABORTED` (its `signal` fired),
 * `IMPORT_ALREADY_RUNNING` (another run of the same tenant and resource holds the run lock; this
 * one did not start, `details.runningRunId` names the other), `IMPORT_LOCK_LOST` (this run stopped
 * renewing its lock for longer than its TTL and another run took it, so it stopped), and
 * `CONFIG_INVALID`.
 *
 * @example
 * ```ts
 * try { await importer.importOrders() }
 * catch (e) { if (e instanceof ImportError) log.error(e.message, { runId: e.result?.runId }) }
 * ```
 */
export class ImportError extends ShopifyIngestError {
  /** Counts of the run up to the failure (absent when the run did not start). */
  readonly result: ImportResult | undefined;

  /**
   * Raised by the SDK; applications catch it.
   * @internal
   */
  constructor(message: string, options: { cause?: unknown; result?: ImportResult; code?: ErrorCode; details?: Record<string, unknown>; retryable?: boolean } = {}) {
    super(options.code ?? 'IMPORT_FAILED', message, { cause: options.cause, details: options.details, retryable: options.retryable ?? (options.code === undefined || options.code === 'IMPORT_ABORTED' || options.code === 'IMPORT_ALREADY_RUNNING' || options.code === 'IMPORT_LOCK_LOST') });
    this.result = options.result;
  }
}
