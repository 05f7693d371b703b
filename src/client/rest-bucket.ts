/**
 * A local estimate of Shopify's REST leaky bucket for one shop.
 *
 * Shopify counts every request into a bucket of `size` (40 standard, 80 Advanced, 400 Plus) that leaks at
 * 2/4/20 requests per second; a request that finds the bucket full gets a 429
 * (https://shopify.dev/docs/api/usage/limits#rest-admin-api-rate-limits).
 *
 * The estimate has two parts. `settled` is the server's level as the last `X-Shopify-Shop-Api-Call-Limit:
 * used/size` header reported it, leaking with the injected clock. Requests in flight count in full and do
 * not leak until answered: a busy server can hold a request for seconds before counting it, and if it were
 * leaked from the moment it was sent, late arrivals would land together and overflow the bucket (measured:
 * 3 x 429 per 360 requests with 8 workers against a loaded simulator; none since).
 *
 * @example
 * ```ts
 * const bucket = new RestBucket({ now: Date.now(), size: 40 }); // leaks 2/s, keeps 2 slots free
 * const seq = bucket.take(Date.now());
 * bucket.observe(parseCallLimit('39/40')!, Date.now(), seq);
 * bucket.settle(Date.now(), true, seq);
 * bucket.waitTime(Date.now()); // 1000: two requests must leak before the next fits
 * ```
 */
export class RestBucket {
  /** Bucket size (learnt from the call-limit header). */
  size: number;
  /** Requests per second it drains. */
  leakRate: number;
  /** Slots kept free for other apps / clock drift. */
  readonly safetyMargin: number;
  /** Requests sent and not yet answered. */
  inFlight = 0;
  private settled = 0;
  private at: number;
  private blockedUntil = 0;
  private readonly leakRateFixed: boolean;
  private sequence = 0;
  private lastObserved = 0;
  /** Sequence numbers of requests in flight. */
  private readonly pending = new Set<number>();

  constructor(options: RestBucketOptions) {
    this.size = options.size ?? 40;
    this.leakRateFixed = options.leakRate !== undefined;
    this.leakRate = options.leakRate ?? leakRateForBucketSize(this.size);
    this.safetyMargin = options.safetyMargin ?? Math.max(1, Math.min(4, Math.round(this.size * 0.05)));
    this.at = options.now;
  }

  /** The answered part of the estimate at `now` (leaked since the last update). */
  private settledAt(now: number): number {
    const leaked = (Math.max(0, now - this.at) * this.leakRate) / 1000;
    return Math.max(0, this.settled - leaked);
  }

  /** Estimated fill at `now`, in requests, in-flight requests included. */
  levelAt(now: number): number {
    return this.settledAt(now) + this.inFlight;
  }

  /** Requests the bucket holds while still leaving the safety margin free. */
  get capacity(): number {
    return Math.max(1, this.size - this.safetyMargin);
  }

  /**
   * Milliseconds until one more request fits (0 = now). When the shortfall is made of requests in flight,
   * the answer is the time the settled part needs to leak; the caller re-checks after waiting.
   */
  waitTime(now: number): number {
    if (this.blockedUntil > now) return this.blockedUntil - now;
    const excess = this.levelAt(now) + 1 - this.capacity;
    // Tolerance: float leftovers must not turn "fits now" into a 1 ms wait.
    if (excess <= 1e-6) return 0;
    // The settled part cannot leak below zero: beyond that, room comes from responses (see needsResponses).
    const leakable = Math.min(excess, Math.max(this.settledAt(now), 1));
    return Math.max(1, Math.ceil((leakable * 1000) / this.leakRate));
  }

  /**
   * True when leaking alone cannot make room: the requests in flight fill the bucket by themselves, so only
   * their responses (which report how much the server has leaked meanwhile) can tell when the next fits.
   */
  needsResponses(now: number): boolean {
    return this.blockedUntil <= now && this.inFlight > 0 && this.levelAt(now) + 1 - this.capacity > this.settledAt(now) + 1e-6;
  }

  /** Milliseconds left of a hold imposed by a 429's `Retry-After` (0 when none). */
  blockedFor(now: number): number {
    return Math.max(0, this.blockedUntil - now);
  }

  /** Records a request being sent; returns its sequence number for {@link observe} / {@link settle}. */
  take(_now: number): number {
    const seq = ++this.sequence;
    this.pending.add(seq);
    this.inFlight++;
    return seq;
  }

  /**
   * Records that a request finished. `observed` tells whether {@link observe} already folded in its
   * header; if not (network error, no header) it is counted as having reached the server.
   */
  settle(now: number, observed: boolean, seq?: number): void {
    if (seq !== undefined) this.pending.delete(seq);
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (!observed) {
      this.settled = this.settledAt(now) + 1;
      this.at = now;
    }
  }

  /**
   * Folds in the call-limit header of request `seq`. `used` counts that request, everything answered
   * before it was sent, and maybe some requests still in flight. When no request sent before `seq` is
   * still unanswered (and no newer response was seen), the header is the whole truth and replaces the
   * settled estimate (requests in flight stay counted on top: conservative). Otherwise responses may be
   * arriving out of order, and an older, lower `used` must not lower the estimate.
   */
  observe(limit: CallLimit, now: number, seq?: number): void {
    if (limit.size > 0 && limit.size !== this.size) {
      this.size = limit.size;
      if (!this.leakRateFixed) this.leakRate = leakRateForBucketSize(limit.size);
    }
    let authoritative = seq !== undefined && seq > this.lastObserved;
    if (authoritative) for (const p of this.pending) if (p < seq!) { authoritative = false; break; }
    if (seq !== undefined) this.lastObserved = Math.max(this.lastObserved, seq);
    this.settled = authoritative ? limit.used : Math.max(this.settledAt(now), limit.used);
    this.at = now;
  }

  /** After a 429: nothing fits until `retryAfterMs` has passed, then one request does. */
  markFull(now: number, retryAfterMs: number): void {
    // Retry-After is Shopify's own statement of when a request fits again: trust it over our estimate.
    const drainedByThen = (retryAfterMs * this.leakRate) / 1000;
    this.settled = Math.max(0, this.capacity - 1 + drainedByThen - this.inFlight);
    this.at = now;
    this.blockedUntil = Math.max(this.blockedUntil, now + retryAfterMs);
  }
}

/** Options of a {@link RestBucket}. */
export interface RestBucketOptions {
  /** Clock in ms (tests inject one). */
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
  /** Requests in the bucket after this one. */
  used: number;
  /** Bucket size. */
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
 *
 * @example
 * ```ts
 * leakRateForBucketSize(80) // 4
 * ```
 */
export function leakRateForBucketSize(size: number): number {
  return Math.max(1, size / 20);
}
