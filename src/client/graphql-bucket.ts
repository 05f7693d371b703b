/**
 * A local estimate of Shopify's GraphQL cost bucket for one shop.
 *
 * Every GraphQL response reports `extensions.cost.throttleStatus` = `{ maximumAvailable,
 * currentlyAvailable, restoreRate }` (https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits).
 * The bucket is read from those responses, never hard-coded (plans differ: 100/200/1000/2000 points/s).
 * Before a query is sent its cost is estimated (the last `requestedQueryCost` seen for the same query text
 * and numeric variables, such as `first`) and reserved; if the estimate exceeds what is available the
 * caller waits `(cost - available) / restoreRate`.
 *
 * @example
 * ```ts
 * const points = new GraphqlBucket();
 * points.observe(query, { requestedQueryCost: 200, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 10, restoreRate: 100 } }, Date.now());
 * points.waitTime(points.estimate(query), Date.now()); // 1900 ms
 * ```
 */
export class GraphqlBucket {
  /** Bucket size in points, once a response reported it. */
  maximumAvailable: number | undefined;
  /** Points restored per second, once reported. */
  restoreRate: number | undefined;
  private available = 0;
  private at = 0;
  private reserved = 0;
  private readonly costs = new Map<string, number>();
  private readonly defaultCost: number;
  /** Queries sent so far: each one's number orders the answers ({@link GraphqlBucket.sent}). */
  private sequence = 0;
  /** The number of the newest query whose answer set the estimate. */
  private lastObserved = 0;

  constructor(options: { defaultCost?: number } = {}) {
    this.defaultCost = options.defaultCost ?? 50;
  }

  /** Points available at `now` (undefined until a response reported the bucket). */
  availableAt(now: number): number | undefined {
    if (this.maximumAvailable === undefined || this.restoreRate === undefined) return undefined;
    const restored = (Math.max(0, now - this.at) * this.restoreRate) / 1000;
    return Math.min(this.maximumAvailable, this.available + restored);
  }

  /**
   * The cost to reserve for `query` with `variables`: the last requested cost seen for the same text
   * and numeric variables (`first: $n` changes the cost; a cursor or a search string does not), else
   * for the same text, else the default.
   */
  estimate(query: string, variables?: Record<string, unknown>): number {
    return this.costs.get(costKey(query, variables)) ?? this.costs.get(query) ?? this.defaultCost;
  }

  /** Milliseconds to wait before a query costing `cost` fits (0 when the bucket is still unknown). */
  waitTime(cost: number, now: number): number {
    const available = this.availableAt(now);
    if (available === undefined || !this.restoreRate) return 0;
    // A query can never cost more than the bucket; cap so a bad estimate cannot wait forever.
    const need = Math.min(cost, this.maximumAvailable ?? cost) + this.reserved - available;
    return need <= 0 ? 0 : Math.ceil((need * 1000) / this.restoreRate);
  }

  /** Sets `cost` points aside for a query in flight. */
  reserve(cost: number): void {
    this.reserved += cost;
  }

  /** Gives back the points of a query that finished. */
  release(cost: number): void {
    this.reserved = Math.max(0, this.reserved - cost);
  }

  /** Records a query being sent; returns its number for {@link GraphqlBucket.observe}. */
  sent(): number {
    return ++this.sequence;
  }

  /**
   * Folds in `extensions.cost` of a response to `query` (sent with `variables`; `seq` from
   * {@link GraphqlBucket.sent}). Answers of overlapping queries can arrive in another order than
   * Shopify ran them, and each reports the bucket after its own query: an answer to a query sent
   * before the one whose answer set the estimate is older news, and may only lower it.
   */
  observe(query: string, cost: GraphqlCost | undefined, now: number, variables?: Record<string, unknown>, seq?: number): void {
    if (!cost) return;
    if (typeof cost.requestedQueryCost === 'number') {
      this.costs.set(query, cost.requestedQueryCost);
      const key = costKey(query, variables);
      if (key !== query) this.costs.set(key, cost.requestedQueryCost);
    }
    const status = cost.throttleStatus;
    if (!status) return;
    const current = this.availableAt(now);
    this.maximumAvailable = status.maximumAvailable;
    this.restoreRate = status.restoreRate;
    const older = seq !== undefined && seq < this.lastObserved;
    if (seq !== undefined) this.lastObserved = Math.max(this.lastObserved, seq);
    if (older && current !== undefined && status.currentlyAvailable >= current) return;
    this.available = status.currentlyAvailable;
    this.at = now;
  }

  /**
   * Milliseconds a THROTTLED response asks to wait: `(requestedQueryCost - currentlyAvailable) / restoreRate`.
   * When the reported bucket says the query should have fitted (the report is older than the refusal:
   * another query or app took the points meanwhile), the wait is the time to restore the whole
   * requested cost, never 0: a THROTTLED query is not sent again at once.
   */
  static throttledWait(cost: GraphqlCost | undefined, fallbackMs = 1000): number {
    const status = cost?.throttleStatus;
    const requested = cost?.requestedQueryCost;
    if (!status || typeof requested !== 'number' || !status.restoreRate) return fallbackMs;
    const missing = requested - status.currentlyAvailable;
    const points = missing > 0 ? missing : Math.max(1, requested);
    return Math.ceil((points * 1000) / status.restoreRate);
  }

  /** The bucket at `now`. */
  status(now: number): GraphqlRateLimitStatus {
    return {
      maximumAvailable: this.maximumAvailable,
      currentlyAvailable: this.availableAt(now),
      restoreRate: this.restoreRate,
      reserved: this.reserved,
    };
  }
}

/** Folds in the `extensions.cost` of the answer to one scheduled query (see `GraphqlLimiter.schedule`). */
/** The query a reservation is for (limiters that share what queries cost across processes key it by this). */
export interface ScheduledQuery { text: string; variables?: Record<string, unknown> }

export type GraphqlObserve = (query: string, cost: GraphqlCost | undefined, variables?: Record<string, unknown>) => void;

/** `extensions.cost` of a GraphQL Admin API response. */
export interface GraphqlCost {
  /** Cost Shopify reserved before running the query. */
  requestedQueryCost?: number;
  /** What it cost (null when it was not run). */
  actualQueryCost?: number | null;
  /** The bucket after the query. */
  throttleStatus?: {
    /** Bucket size in points. */
    maximumAvailable: number;
    /** Points available now. */
    currentlyAvailable: number;
    /** Points restored per second. */
    restoreRate: number;
  };
}

/** What the client knows about a shop's GraphQL bucket. */
export interface GraphqlRateLimitStatus {
  /** Bucket size in points; undefined until a response reported it. */
  maximumAvailable: number | undefined;
  /** Points available now (estimated from the last report). */
  currentlyAvailable: number | undefined;
  /** Points restored per second. */
  restoreRate: number | undefined;
  /** Points reserved by queries in flight. */
  reserved: number;
}

/** A query's text and its numeric variables: what its requested cost depends on. */
function costKey(query: string, variables: Record<string, unknown> | undefined): string {
  if (!variables) return query;
  const numbers = Object.entries(variables).filter(([, v]) => typeof v === 'number').sort(([a], [b]) => (a < b ? -1 : 1));
  return numbers.length === 0 ? query : `${query}\u0000${numbers.map(([k, v]) => `${k}=${String(v)}`).join('&')}`;
}
