/**
 * Shopify's REST rate limit: a leaky bucket per shop and app. Each request adds one; the bucket
 * leaks `leakPerSecond`; a request that would overflow gets 429 and is not counted.
 * https://shopify.dev/docs/api/usage/limits#rest-admin-api-rate-limits
 *
 * `timeScale` makes simulated time run faster than the clock: with timeScale 10 the bucket leaks
 * 20/s of wall time instead of 2/s, and Retry-After is reported in wall-clock seconds.
 */
import type { Clock } from './clock.js';

export interface LeakyBucketOptions {
  /** Bucket size (Shopify standard: 40; Plus: 400). */
  size?: number;
  /** Requests leaked per simulated second (standard: 2; Plus: 20). */
  leakPerSecond?: number;
  /** Simulated seconds per wall-clock second. */
  timeScale?: number;
  clock: Clock;
}

/** The outcome of one request against the bucket. */
export interface BucketDecision {
  allowed: boolean;
  /** Requests in the bucket after this one, as `X-Shopify-Shop-Api-Call-Limit` shows it (`used/size`). */
  used: number;
  size: number;
  /** Wall-clock seconds until one request fits (only when refused). */
  retryAfterSeconds?: number;
}

/**
 * Creates one bucket.
 *
 * @example
 * ```ts
 * const bucket = createLeakyBucket({ clock: Date.now });
 * bucket.take() // { allowed: true, used: 1, size: 40 }
 * ```
 */
export function createLeakyBucket(options: LeakyBucketOptions) {
  const size = options.size ?? 40;
  const leak = options.leakPerSecond ?? 2;
  const scale = options.timeScale ?? 1;
  const clock = options.clock;
  let level = 0;
  let last = clock();

  function drain(): void {
    const now = clock();
    if (now > last) level = Math.max(0, level - ((now - last) / 1000) * leak * scale);
    last = now;
  }

  // A level within 1e-9 of an integer counts as that integer: float drift must not refuse a
  // request that fits exactly.
  const EPS = 1e-9;

  return {
    /** Bucket size (requests). */
    size,
    /** Counts one request when it fits, otherwise refuses it. */
    take(cost = 1): BucketDecision {
      drain();
      if (level + cost > size + EPS) {
        const wait = (level + cost - size) / leak / scale;
        return { allowed: false, used: Math.min(size, Math.ceil(level - EPS)), size, retryAfterSeconds: wait };
      }
      level += cost;
      return { allowed: true, used: Math.ceil(level - EPS), size };
    },
    /** Fills the bucket as another app sharing the limit would (a "429 storm"). */
    fill(): void {
      drain();
      level = size;
    },
    /** Current level (fractional). */
    level(): number {
      drain();
      return level;
    },
    /** Empties the bucket. */
    reset(): void {
      level = 0;
      last = clock();
    },
  };
}

export type LeakyBucket = ReturnType<typeof createLeakyBucket>;

/** Shopify's GraphQL cost limit: a bucket of points restored at `restoreRate` per second.
 * https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits */
export interface CostBucketOptions {
  maximumAvailable?: number;
  restoreRate?: number;
  timeScale?: number;
  clock: Clock;
}

/**
 * Creates a GraphQL cost bucket.
 *
 * @example
 * ```ts
 * const points = createCostBucket({ clock: Date.now });
 * points.tryTake(52) // true; points.status().currentlyAvailable === 948
 * ```
 */
export function createCostBucket(options: CostBucketOptions) {
  const max = options.maximumAvailable ?? 1000;
  const rate = options.restoreRate ?? 50;
  const scale = options.timeScale ?? 1;
  const clock = options.clock;
  let available = max;
  let last = clock();

  function restore(): void {
    const now = clock();
    if (now > last) available = Math.min(max, available + ((now - last) / 1000) * rate * scale);
    last = now;
  }

  return {
    /** Takes `cost` points when available (the requested cost, as Shopify checks it up front). */
    tryTake(cost: number): boolean {
      restore();
      if (available < cost) return false;
      available -= cost;
      return true;
    },
    /** Gives back the difference when the actual cost is below the requested cost. */
    refund(points: number): void {
      restore();
      available = Math.min(max, available + points);
    },
    /** Uses every point (as another app sharing the limit would). */
    drainAll(): void {
      restore();
      available = 0;
    },
    /** The bucket as GraphQL's `throttleStatus` reports it. */
    status(): {
      /** Bucket size (points). */
      maximumAvailable: number;
      /** Points available now. */
      currentlyAvailable: number;
      /** Points restored per second. */
      restoreRate: number;
    } {
      restore();
      return { maximumAvailable: max, currentlyAvailable: Math.floor(available), restoreRate: rate };
    },
  };
}

export type CostBucket = ReturnType<typeof createCostBucket>;
