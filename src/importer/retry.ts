import { retrying } from '../retry.js';
import type { RetryOptions } from './types.js';

/**
 * Runs a batch write (or a failure record) through the SDK's retry policy: exponential backoff
 * (`minTimeout * factor^n`, capped at `maxTimeout`), on any error but those the SDK marks as not
 * retryable. A batch write is idempotent (the store upserts by id and never lets an older version
 * win), so retrying one that may have committed is safe.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: Required<RetryOptions>,
  sleep: (ms: number) => Promise<void>,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
): Promise<T> {
  return retrying((attempt) => fn(attempt - 1), { policy: options, kind: 'write', sleep, onRetry });
}
