/**
 * A local estimate of Shopify's REST leaky bucket for one shop.
 *
 * Shopify counts every request into a bucket of `size` (40 standard, 80 Advanced, 400 Plus) that leaks at
 * 2/4/20 requests per second; a request that finds the bucket full gets a 429
 * (https://shopify.dev/docs/api/usage/limits#rest-admin-api-rate-limits). The estimate counts a request
 * the moment it is sent (so requests in flight are included), leaks with the injected clock, and is
 * corrected by every `X-Shopify-Shop-Api-Call-Limit: used/size` header: the header is a lower bound
 * (the server had counted that many) and `used + requests still in flight` an upper bound.
 */
export class RestBucket {
  size: number;
  leakRate: number;
  /** Slots kept free for other apps / clock drift. */
  readonly safetyMargin: number;
  /** Requests sent and not yet answered. */
  inFlight = 0;
  private level = 0;
  private at: number;
  private blockedUntil = 0;
  private readonly leakRateFixed: boolean;

  constructor(options: RestBucketOptions) {
    this.size = options.size ?? 40;
    this.leakRateFixed = options.leakRate !== undefined;
    this.leakRate = options.leakRate ?? leakRateForBucketSize(this.size);
    this.safetyMargin = options.safetyMargin ?? Math.max(1, Math.min(4, Math.round(this.size * 0.05)));
    this.at = options.now;
  }

  /** Estimated fill at `now`, in requests. */
  levelAt(now: number): number {
    const leaked = (Math.max(0, now - this.at) * this.leakRate) / 1000;
    return Math.max(0, this.level - leaked);
  }

  /** Requests the bucket holds while still leaving the safety margin free. */
  get capacity(): number {
    return Math.max(1, this.size - this.safetyMargin);
  }

  /** Milliseconds until one more request fits (0 = now). */
  waitTime(now: number): number {
    if (this.blockedUntil > now) return this.blockedUntil - now;
    const excess = this.levelAt(now) + 1 - this.capacity;
    // Tolerance: float leftovers must not turn "fits now" into a 1 ms wait.
    return excess <= 1e-6 ? 0 : Math.ceil((excess * 1000) / this.leakRate);
  }

  /** Milliseconds left of a hold imposed by a 429's `Retry-After` (0 when none). */
  blockedFor(now: number): number {
    return Math.max(0, this.blockedUntil - now);
  }

  /** Records a request being sent. */
  take(now: number): void {
    this.level = this.levelAt(now) + 1;
    this.at = now;
    this.inFlight++;
  }

  /** Records that a request finished (after {@link observe}, when it had a header). */
  settle(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  /**
   * Folds in a call-limit header seen on a response. `inFlight` still counts the request that carried it.
   */
  observe(limit: CallLimit, now: number): void {
    if (limit.size > 0 && limit.size !== this.size) {
      this.size = limit.size;
      if (!this.leakRateFixed) this.leakRate = leakRateForBucketSize(limit.size);
    }
    const others = Math.max(0, this.inFlight - 1);
    const estimate = this.levelAt(now);
    this.level = Math.min(Math.max(estimate, limit.used), limit.used + others);
    this.at = now;
  }

  /** After a 429: nothing fits until `retryAfterMs` has passed, then one request does. */
  markFull(now: number, retryAfterMs: number): void {
    // Retry-After is Shopify's own statement of when a request fits again: trust it over our estimate.
    const drainedByThen = (retryAfterMs * this.leakRate) / 1000;
    this.level = this.capacity - 1 + drainedByThen;
    this.at = now;
    this.blockedUntil = Math.max(this.blockedUntil, now + retryAfterMs);
  }
}

export interface RestBucketOptions {
  now: number;
  /** Initial bucket size until a response header tells the real one (default 40). */
  size?: number;
  /** Leak rate in requests/second; when set it is used as is, otherwise derived from the bucket size. */
  leakRate?: number;
  /** Slots kept free (default 5% of the bucket, 1..4). */
  safetyMargin?: number;
}

/** A parsed `X-Shopify-Shop-Api-Call-Limit` header. */
export interface CallLimit {
  used: number;
  size: number;
}

/**
 * Parses `X-Shopify-Shop-Api-Call-Limit` (`"32/40"`).
 *
 * @example
 * ```ts
 * parseCallLimit('39/40') // { used: 39, size: 40 }
 * ```
 */
export function parseCallLimit(header: string | null | undefined): CallLimit | undefined {
  if (!header) return undefined;
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(header);
  if (!m) return undefined;
  return { used: Number(m[1]), size: Number(m[2]) };
}

/**
 * Shopify's documented leak rate for a bucket size: 40 -> 2/s (standard), 80 -> 4/s (Advanced),
 * 400 -> 20/s (Plus); other sizes scale as size/20.
 */
export function leakRateForBucketSize(size: number): number {
  return Math.max(1, size / 20);
}
