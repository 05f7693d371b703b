import Bottleneck from 'bottleneck';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { ClusterGraphqlLimiter, type RedisEval } from './cluster-graphql-limiter.js';
import { GraphqlBucket, type GraphqlCost, type GraphqlObserve, type GraphqlRateLimitStatus, type ScheduledQuery } from './graphql-bucket.js';
import { RestBucket, type CallLimit } from './rest-bucket.js';
import { abortableSleep, eitherSignal, timerSleep, untilAborted, type Sleep } from '../abort.js';

/** Milliseconds clock and sleep, injectable so tests run in virtual time. */
export interface Timing {
  /** Current time in ms. */
  now: () => number;
  /** Waits `ms` milliseconds (ending early, rejected with its reason, when a given signal fires). */
  sleep: Sleep;
}

/** The REST rate-limit view of one shop, as {@link ShopifyClient.getRateLimitStatus} reports it. */
export interface RestRateLimitStatus {
  /** Estimated requests in the bucket now (the `used` of the call-limit header, leaked since). */
  callsMade: number;
  /** Bucket size (40 standard, 80 Advanced, 400 Plus). */
  bucketSize: number;
  /** True when the next request would have to wait. */
  isLimited: boolean;
  /** Requests per second the bucket drains. */
  leakRate: number;
  /** Requests sent and not yet answered. */
  inFlight: number;
  /** Milliseconds until the next request may go. */
  waitTimeMs: number;
  /** `local` (one process) or `cluster` (budget shared through Redis). */
  mode: 'local' | 'cluster';
}

/** Paces REST requests of one shop. */
export interface RestLimiter {
  /**
   * Runs `task` once the bucket has room. The task passes the response's `X-Shopify-Shop-Api-Call-Limit`
   * to `report` (when it has one) before returning. When `signal` fires while the request waits for
   * its turn, the wait ends with the signal's reason and the task never runs.
   */
  schedule<T>(task: (report: (limit: CallLimit) => void) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** A 429 arrived: hold every request of this shop for `retryAfterMs`. */
  throttled(retryAfterMs: number): void;
  /** Milliseconds until the next request may go. */
  waitTime(): number;
  /** The bucket as this limiter sees it. */
  status(): RestRateLimitStatus;
}

/** Cost-based pacing of GraphQL queries of one shop. */
export interface GraphqlLimiter {
  /** The cost bucket. */
  readonly bucket: GraphqlBucket;
  /**
   * Waits until `cost` points fit, reserves them, runs `task`, then releases the reservation. The task
   * reports the response's `extensions.cost` through the `observe` it is given before it returns (that
   * one knows when its query was sent, so an answer overtaken by a newer one cannot raise the estimate).
   * When `signal` fires while the query waits for points, the wait ends with the signal's reason and
   * nothing is reserved.
   */
  schedule<T>(cost: number, task: (observe: GraphqlObserve) => Promise<T>, signal?: AbortSignal, query?: ScheduledQuery): Promise<T>;
  /** Folds in the `extensions.cost` of a response to `query` (sent with `variables`) whose sending was not scheduled here: taken as the newest news. */
  observe(query: string, cost: GraphqlCost | undefined, variables?: Record<string, unknown>): void;
  /** The cost bucket as last reported. */
  status(): GraphqlRateLimitStatus;
}

/** Both limiters of one shop. */
export interface ShopLimiter {
  /** The shop. */
  readonly shop: string;
  /** REST pacing. */
  readonly rest: RestLimiter;
  /** GraphQL pacing. */
  readonly graphql: GraphqlLimiter;
}

/** Redis settings for cluster mode. */
export interface RedisClusterOptions {
  /** An ioredis client to share (it is not closed by the SDK; a duplicate is made for pub/sub). */
  client?: unknown;
  /** ioredis connection options, used when no client is given (the SDK then owns and closes it). */
  clientOptions?: Record<string, unknown>;
  /** Key namespace; processes that should share a budget must use the same prefix. Default `shopify-ingest`. */
  prefix?: string;
  /** Milliseconds after which GraphQL points reserved by a crashed process stop counting (a running query extends it). Default 60 000. */
  jobExpiration?: number;
}

/** Options of {@link createLimiterRegistry}; per-shop settings apply to limiters the registry creates. */
export interface LimiterRegistryOptions {
  /** Initial REST bucket size until a response header says otherwise (Shopify standard: 40). */
  bucketSize?: number;
  /** REST leak rate in requests/s. When set it is always used; otherwise derived from the bucket size (40->2, 80->4, 400->20). */
  leakRate?: number;
  /** REST slots kept free (default 5% of the bucket, 1..4). */
  safetyMargin?: number;
  /** Cost assumed for a GraphQL query never seen before (default 50). */
  graphqlDefaultCost?: number;
  /**
   * Share each shop's budgets between processes through Redis: REST's leaky bucket (Bottleneck
   * clustering) and GraphQL's cost bucket (the last reported `throttleStatus` and the points reserved
   * by queries in flight).
   */
  redis?: RedisClusterOptions;
  /** Clock in ms (tests inject one). */
  now?: () => number;
  /** Sleep (tests inject one; it may take the signal of the call that waits, to end early). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Where the limiters log. */
  logger?: Logger;
}

/**
 * Holds one {@link ShopLimiter} per shop domain. Shopify's limits are per app and store, so every client
 * of the same shop must draw from the same limiter: give them the same registry (a {@link ClientManager}
 * does this for you). Registries are plain objects: there is no module-level state.
 *
 * @example
 * ```ts
 * const limiters = createLimiterRegistry({ leakRate: 2 });
 * const a = createShopifyClient({ shopDomain: 's.myshopify.com', accessToken: t, limiters });
 * const b = createShopifyClient({ shopDomain: 's.myshopify.com', accessToken: t, limiters }); // shares a's budget
 * await limiters.stop();
 * ```
 */
export class LimiterRegistry {
  private readonly shops = new Map<string, ShopLimiter & { stop(): Promise<void> }>();
  private readonly options: LimiterRegistryOptions;
  private connection: Bottleneck.IORedisConnection | undefined;
  private stopped = false;
  /** The clock and sleep every limiter of the registry uses. */
  readonly timing: Timing;

  constructor(options: LimiterRegistryOptions = {}) {
    this.options = options;
    this.timing = { now: options.now ?? Date.now, sleep: options.sleep ?? timerSleep };
  }

  /** The limiter of `shop`, created on first use with the registry's settings (or `overrides`). */
  forShop(shop: string, overrides: Partial<Pick<LimiterRegistryOptions, 'bucketSize' | 'leakRate' | 'safetyMargin'>> = {}): ShopLimiter {
    let limiter = this.shops.get(shop);
    if (!limiter) {
      const settings = { ...this.options, ...definedOnly(overrides) };
      const rest = this.options.redis
        ? new ClusterRestLimiter(shop, settings, this.timing, this.redisConnection(), this.options.redis)
        : new LocalRestLimiter(settings, this.timing);
      const redis = this.options.redis;
      const graphql = redis
        ? new ClusterGraphqlLimiter(() => (this.redisConnection() as unknown as { client: RedisEval }).client, {
          shop,
          prefix: redis.prefix ?? 'shopify-ingest',
          expiration: redis.jobExpiration ?? 60_000,
          defaultCost: settings.graphqlDefaultCost,
          logger: settings.logger ?? silentLogger,
        }, this.timing)
        : new LocalGraphqlLimiter(settings, this.timing);
      limiter = { shop, rest, graphql, stop: async () => void (await Promise.all([rest.stop(), graphql.stop()])) };
      this.shops.set(shop, limiter);
    }
    return limiter;
  }

  /** Whether the registry holds limiters for a shop. */
  has(shop: string): boolean {
    return this.shops.has(shop);
  }

  /** Forgets (and stops) the limiter of `shop`. */
  async delete(shop: string): Promise<void> {
    const limiter = this.shops.get(shop);
    this.shops.delete(shop);
    await limiter?.stop();
  }

  /** Stops every limiter and closes the Redis connections the registry opened. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const all = [...this.shops.values()];
    this.shops.clear();
    await Promise.allSettled(all.map((l) => l.stop()));
    const connection = this.connection;
    this.connection = undefined;
    if (connection) {
      const owned = !this.options.redis?.client;
      const raw = connection as unknown as { client: { quit(): Promise<unknown> }; subscriber: { quit(): Promise<unknown> } };
      // A caller's client stays open; only the pub/sub duplicate Bottleneck made is ours to close.
      await Promise.allSettled(owned ? [connection.disconnect(true)] : [raw.subscriber.quit()]);
    }
  }

  private redisConnection(): Bottleneck.IORedisConnection {
    if (!this.connection) {
      const redis = this.options.redis ?? {};
      this.connection = new Bottleneck.IORedisConnection(
        redis.client ? { client: redis.client as never } : { clientOptions: redis.clientOptions ?? {} },
      );
      this.connection.on('error', (error: unknown) => (this.options.logger ?? silentLogger).error('redis limiter connection error', { error }));
    }
    return this.connection;
  }
}

/**
 * Creates a {@link LimiterRegistry}.
 *
 * @example
 * ```ts
 * const limiters = createLimiterRegistry({ redis: { clientOptions: { host: '127.0.0.1' } } }); // cluster mode
 * ```
 */
export function createLimiterRegistry(options: LimiterRegistryOptions = {}): LimiterRegistry {
  return new LimiterRegistry(options);
}

/**
 * One process: the bucket estimate decides when a request may go; a Bottleneck queue with one slot
 * hands out permits to waiting requests in arrival order, so they are served FIFO and never stampede.
 */
class LocalRestLimiter implements RestLimiter {
  private readonly bucket: RestBucket;
  private readonly gate = new Bottleneck({ maxConcurrent: 1 });
  /**
   * Fires on {@link stop}; a turn waits in the gate with it and its caller's signal. Bottleneck's
   * `stop()` waits for the job executing in the gate, and a turn waiting for room (a sleep until the
   * bucket drains, or the answers of requests in flight) would hold it, and with it `removeClient` and
   * the `app/uninstalled` hook behind it, for as long as the bucket needs (a 429's `Retry-After`), or
   * for good when it waits for answers and its caller is gone without a signal
   * (tests/client/limiter-stop.test.ts).
   */
  private readonly stopping = new AbortController();

  constructor(settings: LimiterRegistryOptions, private readonly timing: Timing) {
    this.bucket = new RestBucket({ now: timing.now(), size: settings.bucketSize, leakRate: settings.leakRate, safetyMargin: settings.safetyMargin });
  }

  private waiting = 0;

  async schedule<T>(task: (report: (limit: CallLimit) => void) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    // Fast path: nobody queued and room now. Bottleneck costs a few ms per job (it yields through timers),
    // which only matters when no waiting is due anyway.
    let seq: number;
    if (this.waiting === 0 && this.bucket.waitTime(this.timing.now()) === 0) {
      seq = this.bucket.take(this.timing.now());
    } else {
      this.waiting++;
      try {
        // An aborted caller leaves the queue at once; a slot its turn took just before is settled unsent
        // (counted as used, the safe side).
        const turn = this.gate.schedule(() => this.waitForRoom(eitherSignal(signal, this.stopping.signal)));
        try {
          seq = await untilAborted(turn, signal);
        } catch (error) {
          void turn.then((taken) => this.bucket.settle(this.timing.now(), false, taken), () => undefined);
          throw error;
        }
      } finally {
        this.waiting--;
      }
    }
    let observed = false;
    const report = (limit: CallLimit) => {
      observed = true;
      this.bucket.observe(limit, this.timing.now(), seq);
    };
    try {
      return await task(report);
    } finally {
      this.bucket.settle(this.timing.now(), observed, seq);
      if (this.onSettle.length) for (const wake of this.onSettle.splice(0)) wake();
    }
  }

  private async waitForRoom(signal: AbortSignal | undefined): Promise<number> {
    // Loop: a 429 seen by another request while we slept may push the bucket up again.
    for (let wait = this.bucket.waitTime(this.timing.now()); wait > 0; wait = this.bucket.waitTime(this.timing.now())) {
      signal?.throwIfAborted();
      if (this.bucket.needsResponses(this.timing.now())) await untilAborted(new Promise<void>((resolve) => this.onSettle.push(resolve)), signal);
      else await abortableSleep(this.timing.sleep, wait, signal);
    }
    signal?.throwIfAborted();
    return this.bucket.take(this.timing.now());
  }

  /** Waiters woken by the next answered request. */
  private onSettle: Array<() => void> = [];

  throttled(retryAfterMs: number): void {
    this.bucket.markFull(this.timing.now(), retryAfterMs);
  }

  waitTime(): number {
    return this.bucket.waitTime(this.timing.now());
  }

  status(): RestRateLimitStatus {
    return bucketStatus(this.bucket, this.timing.now(), 'local');
  }

  async stop(): Promise<void> {
    this.stopping.abort(limiterStopped());
    await this.gate.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }
}

/**
 * Several processes: Bottleneck's Redis datastore holds a reservoir of `size - margin` tokens that grows by
 * one every `1000 / leakRate` ms (Redis time), i.e. the leaky bucket itself lives in Redis. A job takes its
 * token when it starts and never gives it back, so a crashed process holds nothing (no concurrency slot,
 * hence no job expiration). Headers still correct the shared reservoir when
 * something outside the cluster (another app) drains the same bucket.
 */
class ClusterRestLimiter implements RestLimiter {
  private readonly bucket: RestBucket;
  private readonly limiter: Bottleneck;
  private readonly logger: Logger;

  constructor(shop: string, settings: LimiterRegistryOptions, private readonly timing: Timing, connection: Bottleneck.IORedisConnection, redis: RedisClusterOptions) {
    this.bucket = new RestBucket({ now: timing.now(), size: settings.bucketSize, leakRate: settings.leakRate, safetyMargin: settings.safetyMargin });
    this.logger = settings.logger ?? silentLogger;
    const interval = Math.max(1, Math.round(1000 / this.bucket.leakRate));
    this.limiter = new Bottleneck({
      id: `${redis.prefix ?? 'shopify-ingest'}:rest:${shop}`,
      datastore: 'ioredis',
      connection,
      // Never wipe the shared state: other processes are using it.
      clearDatastore: false,
      reservoir: this.bucket.capacity,
      reservoirIncreaseAmount: 1,
      reservoirIncreaseInterval: interval,
      reservoirIncreaseMaximum: this.bucket.capacity,
      // Waiting jobs are re-checked on each heartbeat; keep it close to the refill interval.
      heartbeatInterval: Math.min(250, interval),
      // Idle shops' keys expire from Redis after 10 minutes.
      timeout: 600_000,
    });
    this.limiter.on('error', (error: unknown) => this.logger.error('cluster limiter error', { shop, error }));
  }

  async schedule<T>(task: (report: (limit: CallLimit) => void) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const blocked = this.bucket.blockedFor(this.timing.now());
    if (blocked > 0) await abortableSleep(this.timing.sleep, blocked, signal);
    // No job expiration: Bottleneck fails a job that outlives it while its request still runs, and the
    // reservoir, the only shared budget here, is spent when a job starts whatever becomes of it.
    return untilAborted(this.limiter.schedule(async () => {
      // Aborted while queued: send nothing (the reservoir's token is spent; the bucket errs on the safe side).
      signal?.throwIfAborted();
      const seq = this.bucket.take(this.timing.now());
      try {
        return await task((limit) => this.observe(limit, seq));
      } finally {
        // The shared reservoir is the budget in cluster mode; the local bucket only feeds status().
        this.bucket.settle(this.timing.now(), true, seq);
      }
    }), signal);
  }

  private observe(limit: CallLimit, seq: number): void {
    const previousSize = this.bucket.size;
    this.bucket.observe(limit, this.timing.now(), seq);
    if (this.bucket.size !== previousSize) {
      const interval = Math.max(1, Math.round(1000 / this.bucket.leakRate));
      void this.update({ reservoirIncreaseInterval: interval, reservoirIncreaseMaximum: this.bucket.capacity, heartbeatInterval: Math.min(250, interval) })
        .catch((error: unknown) => this.logger.warn('cluster limiter update failed', { error }));
    }
    // Another app (or a process outside the cluster) used the bucket: take its share out of the reservoir.
    if (limit.used >= this.bucket.capacity) void this.drainTo(limit.used);
  }

  private async drainTo(used: number): Promise<void> {
    try {
      const current = (await this.limiter.currentReservoir()) ?? 0;
      const implied = this.bucket.capacity - current;
      if (used > implied + 1) await this.limiter.incrementReservoir(-(used - implied));
    } catch (error) {
      this.logger.warn('cluster limiter correction failed', { error });
    }
  }

  throttled(retryAfterMs: number): void {
    this.bucket.markFull(this.timing.now(), retryAfterMs);
    void this.update({ reservoir: 0 }).catch((error: unknown) => this.logger.warn('cluster limiter update failed', { error }));
  }

  /** Bottleneck's typings say `updateSettings` is synchronous; with a Redis datastore it returns a promise. */
  private async update(settings: Bottleneck.ConstructorOptions): Promise<void> {
    await (this.limiter.updateSettings(settings) as unknown as Promise<unknown>);
  }

  waitTime(): number {
    return this.bucket.waitTime(this.timing.now());
  }

  status(): RestRateLimitStatus {
    return bucketStatus(this.bucket, this.timing.now(), 'cluster');
  }

  async stop(): Promise<void> {
    await this.limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
    await this.limiter.disconnect(false);
  }
}

class LocalGraphqlLimiter implements GraphqlLimiter {
  readonly bucket: GraphqlBucket;
  private readonly gate = new Bottleneck({ maxConcurrent: 1 });
  /** Fires on {@link stop}: the turn waiting for points in the gate ends (as in LocalRestLimiter). */
  private readonly stopping = new AbortController();

  constructor(settings: LimiterRegistryOptions, private readonly timing: Timing) {
    this.bucket = new GraphqlBucket({ defaultCost: settings.graphqlDefaultCost });
  }

  private waiting = 0;

  async schedule<T>(cost: number, task: (observe: GraphqlObserve) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.waiting === 0 && this.bucket.waitTime(cost, this.timing.now()) === 0) {
      this.bucket.reserve(cost);
    } else {
      this.waiting++;
      try {
        // An aborted caller leaves the queue at once; points its turn reserved just before are given back.
        const turn = this.gate.schedule(async () => {
          const waiting = eitherSignal(signal, this.stopping.signal);
          for (let wait = this.bucket.waitTime(cost, this.timing.now()); wait > 0; wait = this.bucket.waitTime(cost, this.timing.now())) {
            await abortableSleep(this.timing.sleep, wait, waiting);
          }
          waiting.throwIfAborted();
          this.bucket.reserve(cost);
        });
        try {
          await untilAborted(turn, signal);
        } catch (error) {
          void turn.then(() => this.bucket.release(cost), () => undefined);
          throw error;
        }
      } finally {
        this.waiting--;
      }
    }
    const seq = this.bucket.sent();
    try {
      return await task((query, answer, variables) => this.bucket.observe(query, answer, this.timing.now(), variables, seq));
    } finally {
      this.bucket.release(cost);
    }
  }

  observe(query: string, cost: GraphqlCost | undefined, variables?: Record<string, unknown>): void {
    this.bucket.observe(query, cost, this.timing.now(), variables);
  }

  status(): GraphqlRateLimitStatus {
    return this.bucket.status(this.timing.now());
  }

  async stop(): Promise<void> {
    this.stopping.abort(limiterStopped());
    await this.gate.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }
}

/** Why a turn waiting in a stopped limiter's gate ended: as Bottleneck rejects the jobs it drops. */
function limiterStopped(): Error {
  return new Bottleneck.BottleneckError('This limiter has been stopped.');
}

function bucketStatus(bucket: RestBucket, now: number, mode: 'local' | 'cluster'): RestRateLimitStatus {
  const waitTimeMs = bucket.waitTime(now);
  return {
    callsMade: Math.round(bucket.levelAt(now)),
    bucketSize: bucket.size,
    isLimited: waitTimeMs > 0,
    leakRate: bucket.leakRate,
    inFlight: bucket.inFlight,
    waitTimeMs,
    mode,
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
