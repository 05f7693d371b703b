import type { RetryOptions } from './types.js';

/**
 * Runs `fn`, retrying on any error with exponential backoff (`minTimeout * factor^n`, capped at
 * `maxTimeout`). A batch write is idempotent (the store upserts by id and never lets an older
 * version win), so retrying one that may have committed is safe.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: Required<RetryOptions>,
  sleep: (ms: number) => Promise<void>,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= options.retries) throw error;
      const delay = Math.min(options.maxTimeout, options.minTimeout * options.factor ** attempt);
      onRetry?.(error, attempt + 1, delay);
      if (delay > 0) await sleep(delay);
    }
  }
}
