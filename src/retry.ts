/**
 * The SDK's one retry policy: exponential backoff on p-retry, with which errors are worth another
 * attempt decided here and nowhere else. The client (HTTP requests), the importer (batch writes,
 * failure records) and the store (deadlocked or serialisation-failed statements) all retry through
 * {@link retrying}.
 */
import pRetry, { AbortError } from 'p-retry';
import { ShopifyIngestError } from './errors.js';
import { pgCodeOf } from './store/store-errors.js';
import { abortableSleep } from './abort.js';

/** Backoff: `minTimeout * factor^n`, capped at `maxTimeout`, for at most `retries` retries. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** Multiplier of the delay per retry. */
  factor: number;
  /** First delay in ms. */
  minTimeout: number;
  /** Largest delay in ms. */
  maxTimeout: number;
}

/** What is retried: `request` (a Shopify call), `write` (an idempotent batch write), `conflict` (a statement PostgreSQL aborted to break a deadlock or a serialisation conflict). */
export type RetryKind = 'request' | 'write' | 'conflict';

/** Deadlock victims and serialisation failures: nothing of the statement was committed. */
const CONFLICT_SQLSTATE = /^(40001|40P01)$/;

/**
 * Whether another attempt can succeed, by kind:
 * - `request`: only SDK errors that say so (`retryable`: 5xx, 408, 429, network, timeout, malformed
 *   2xx body); anything else is a bug or a refusal and fails at once.
 * - `write`: a batch write is idempotent, so anything is retried except an SDK error that says it
 *   is not retryable (bad input, another tenant's rows, a missing parent).
 * - `conflict`: PostgreSQL's deadlock (40P01) and serialisation (40001) aborts only.
 * Programming errors (`TypeError` other than fetch's network failure, `RangeError`,
 * `ReferenceError`) are never retried: the same code fails the same way (p-retry agrees).
 */
export function isRetryable(error: unknown, kind: RetryKind): boolean {
  if (kind === 'conflict') return CONFLICT_SQLSTATE.test(pgCodeOf(error) ?? '');
  if (error instanceof ShopifyIngestError) return error.retryable;
  if (isProgrammingError(error)) return false;
  return kind === 'write';
}

function isProgrammingError(error: unknown): boolean {
  if (error instanceof TypeError) return !/fetch failed|network|ECONN|socket/i.test(error.message);
  return error instanceof RangeError || error instanceof ReferenceError;
}

/** The backoff before retry number `retriesConsumed + 1`. */
export function backoffDelay(policy: RetryPolicy, retriesConsumed: number): number {
  return Math.min(policy.maxTimeout, policy.minTimeout * policy.factor ** retriesConsumed);
}

/** How {@link retrying} runs. */
export interface RetryingOptions {
  /** The backoff. */
  policy: RetryPolicy;
  /** Which errors are retried ({@link isRetryable}). */
  kind: RetryKind;
  /** How a delay is waited (injected, so tests run in virtual time). */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stops retrying (and ends a backoff in progress, rejecting with its reason) when it fires. */
  signal?: AbortSignal;
  /** The delay for this error given the policy's backoff, e.g. honouring a `Retry-After` (default: the backoff). */
  delayFor?: (error: unknown, backoffMs: number) => number;
  /** Called before each retry's delay (logging). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `fn` (given the attempt number, 1-based) until it succeeds, the error is not retryable for
 * `kind`, or the policy's retries are spent; the last error is thrown as it was.
 */
export async function retrying<T>(fn: (attempt: number) => Promise<T>, options: RetryingOptions): Promise<T> {
  const { policy, kind, sleep } = options;
  return pRetry(
    async (attempt) => {
      try {
        return await fn(attempt);
      } catch (error) {
        if (error instanceof AbortError || isRetryable(error, kind)) throw error;
        throw new AbortError(error instanceof Error ? error : new Error(String(error)));
      }
    },
    {
      retries: policy.retries,
      minTimeout: 0,
      maxTimeout: 0,
      signal: options.signal,
      shouldRetry: async ({ error, retriesConsumed }) => {
        const backoff = backoffDelay(policy, retriesConsumed);
        const delay = options.delayFor ? options.delayFor(error, backoff) : backoff;
        options.onRetry?.(error, retriesConsumed + 1, delay);
        if (delay > 0) await abortableSleep(sleep, delay, options.signal);
        return true;
      },
    },
  );
}
