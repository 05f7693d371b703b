/**
 * GraphQL cost pacing shared by several processes through Redis. Shopify's cost bucket is per app
 * and store (https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits): processes
 * that each pace from their own view of `throttleStatus` can together reserve the same points twice.
 * Here the bucket as last reported and the points reserved by queries in flight live in Redis, and
 * one Lua script decides atomically (on Redis's clock) whether a query's cost fits; a reservation
 * carries an expiry so a crashed process cannot hold points. What each query text was last charged
 * lives there too: a process that never sent a query reserves what another learnt it costs, and a
 * query no process has sent reserves the most a query may cost, not a default guess (a 1,000-point
 * query let go on a 50-point guess into a bucket another process drained is THROTTLED).
 */
import { createHash, randomUUID } from 'node:crypto';
import Bottleneck from 'bottleneck';
import type { Logger } from '../logger.js';
import { GraphqlBucket, type GraphqlCost, type GraphqlObserve, type GraphqlRateLimitStatus, type ScheduledQuery } from './graphql-bucket.js';
import { abortableSleep, untilAborted, type Sleep } from '../abort.js';

/** Milliseconds clock and sleep (the registry's `Timing`; declared here so this module does not import the registry's). */
interface Timing {
  now: () => number;
  sleep: Sleep;
}

/** The subset of an ioredis client the limiter uses. */
export interface RedisEval {
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

// KEYS: state hash, reservation expiries (zset), reservation costs (hash), requested cost per query (hash).
// ARGV: id, cost, expiration ms, key ttl ms, the query's keys in KEYS[4] (with its numeric variables, and its
// text alone; '' when unknown), the cost of a query nobody was charged for yet (0: the caller's estimate
// is from an answer). The cost reserved is at least what the query was last charged.
// Returns the milliseconds to wait before asking again, or, when the points were reserved, minus the
// query's ticket: queries are numbered in the order they were let go, across processes (OBSERVE).
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, id in ipairs(expired) do redis.call('HDEL', KEYS[3], id) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local cost = tonumber(ARGV[2])
if ARGV[5] ~= '' then
  local learnt = tonumber(redis.call('HGET', KEYS[4], ARGV[5]) or redis.call('HGET', KEYS[4], ARGV[6]) or ARGV[7])
  if learnt > cost then cost = learnt end
end
local max = tonumber(redis.call('HGET', KEYS[1], 'max'))
if max then
  local rate = tonumber(redis.call('HGET', KEYS[1], 'rate'))
  local available = tonumber(redis.call('HGET', KEYS[1], 'available'))
  local at = tonumber(redis.call('HGET', KEYS[1], 'at'))
  if rate and rate > 0 then
    available = math.min(max, available + math.max(0, now - at) * rate / 1000)
    local reserved = 0
    for _, c in ipairs(redis.call('HVALS', KEYS[3])) do reserved = reserved + tonumber(c) end
    local need = math.min(cost, max) + reserved - available
    if need > 0 then return math.max(1, math.ceil(need * 1000 / rate)) end
  end
end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], cost)
local ticket = redis.call('HINCRBY', KEYS[1], 'sent', 1)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[4])) end
return -ticket
`;

// KEYS: state hash, requested cost per query (hash). ARGV: currently available, maximum, restore rate,
// key ttl ms, the query's ticket (0: unknown), the query's keys (as RESERVE's), its requested cost ('' when not reported).
// An answer to a query let go before the one whose answer was recorded last is older news: it may only
// lower the estimate (answers of overlapping queries arrive in any order, each reporting the bucket
// after its own query). What a query costs is no news of the bucket: recorded whatever its order.
const OBSERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[6] ~= '' and ARGV[8] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[6], ARGV[8], ARGV[7], ARGV[8])
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
end
local ticket = tonumber(ARGV[5])
local last = tonumber(redis.call('HGET', KEYS[1], 'observed') or '0')
if ticket > 0 and ticket < last then
  local available = tonumber(redis.call('HGET', KEYS[1], 'available'))
  local max = tonumber(redis.call('HGET', KEYS[1], 'max'))
  local rate = tonumber(redis.call('HGET', KEYS[1], 'rate'))
  local at = tonumber(redis.call('HGET', KEYS[1], 'at'))
  if available and max and rate and at and tonumber(ARGV[1]) >= math.min(max, available + math.max(0, now - at) * rate / 1000) then
    redis.call('HSET', KEYS[1], 'max', ARGV[2], 'rate', ARGV[3])
    redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
    return 0
  end
elseif ticket > last then
  redis.call('HSET', KEYS[1], 'observed', ticket)
end
redis.call('HSET', KEYS[1], 'available', ARGV[1], 'max', ARGV[2], 'rate', ARGV[3], 'at', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return 0
`;

// KEYS: reservation expiries. ARGV: id, expiration ms. A query still running keeps its reservation.
const EXTEND = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
return 0
`;

// KEYS: reservation expiries, reservation costs. ARGV: id.
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 0
`;

/** Idle shops' keys leave Redis after 10 minutes. */
const KEY_TTL_MS = 600_000;
/** A process asks again at least this often while it waits (another may release points sooner). */
const MAX_POLL_MS = 500;

/** Options of {@link ClusterGraphqlLimiter}. */
export interface ClusterGraphqlLimiterOptions {
  shop: string;
  prefix: string;
  /** Milliseconds after which a crashed process's reservation stops counting. */
  expiration: number;
  defaultCost?: number;
  logger: Logger;
}

/**
 * Keys of a query in the requested-cost hash, as the local estimate keys its costs (graphql-bucket.ts):
 * the text with its numeric variables (`first: $n` changes the cost), and the text alone. Digests:
 * query texts run to kilobytes.
 */
function queryKeysOf(query: string, variables: Record<string, unknown> | undefined): [withVariables: string, text: string] {
  const digest = (text: string) => createHash('sha1').update(text).digest('base64');
  const numbers = Object.entries(variables ?? {}).filter(([, v]) => typeof v === 'number').sort(([a], [b]) => (a < b ? -1 : 1));
  const text = digest(query);
  return [numbers.length === 0 ? text : digest(`${query}\u0000${numbers.map(([k, v]) => `${k}=${String(v)}`).join('&')}`), text];
}

/**
 * The most a single query may request (https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits):
 * what a query reserves before any process was charged for it.
 */
const MAX_QUERY_COST = 1000;

/** The local estimate, knowing which query texts an answer here reported the cost of. */
class SharedCostBucket extends GraphqlBucket {
  // Digests of the query texts whose cost an answer reported here.
  private readonly charged = new Set<string>();

  knows(textKey: string): boolean {
    return this.charged.has(textKey);
  }

  override observe(query: string, cost: GraphqlCost | undefined, now: number, variables?: Record<string, unknown>, seq?: number): void {
    if (typeof cost?.requestedQueryCost === 'number') this.charged.add(queryKeysOf(query, undefined)[1]);
    super.observe(query, cost, now, variables, seq);
  }
}

/**
 * A `GraphqlLimiter` (see limiter.ts) whose bucket and reservations live in Redis. Within a process, waiting
 * queries go through a one-slot queue (FIFO); across processes the script decides. When Redis fails
 * the limiter falls back to the process's own estimate rather than stop syncing (and logs it).
 */
export class ClusterGraphqlLimiter {
  readonly bucket: SharedCostBucket;
  private readonly gate = new Bottleneck({ maxConcurrent: 1 });
  private readonly keys: { state: string; expiries: string; costs: string; learnt: string };
  /** Aborted by {@link ClusterGraphqlLimiter.stop}: ends the extension of reservations. */
  private readonly stopped = new AbortController();

  constructor(private readonly redis: () => RedisEval, private readonly options: ClusterGraphqlLimiterOptions, private readonly timing: Timing) {
    this.bucket = new SharedCostBucket({ defaultCost: options.defaultCost });
    const base = `${options.prefix}:graphql:${options.shop}`;
    this.keys = { state: `${base}:bucket`, expiries: `${base}:reserved-until`, costs: `${base}:reserved-cost`, learnt: `${base}:query-cost` };
  }

  async schedule<T>(cost: number, task: (observe: GraphqlObserve) => Promise<T>, signal?: AbortSignal, query?: ScheduledQuery): Promise<T> {
    signal?.throwIfAborted();
    const id = randomUUID();
    // The query's keys, and what it reserves when no process was charged for it yet: the most a
    // query may cost unless an answer here already reported its cost.
    const keys = query ? queryKeysOf(query.text, query.variables) : null;
    const queryKeys: [string, string, number] = keys ? [...keys, this.bucket.knows(keys[1]) ? 0 : MAX_QUERY_COST] : ['', '', 0];
    // An aborted caller leaves the queue at once; points its turn reserved just before are given back.
    const turn = this.gate.schedule(() => this.reserve(id, cost, queryKeys, signal));
    let ticket: number | false;
    try {
      ticket = await untilAborted(turn, signal);
    } catch (error) {
      void turn.then((inRedis) => { if (inRedis !== false) void this.release(id); }, () => undefined);
      throw error;
    }
    this.bucket.reserve(cost);
    const seq = this.bucket.sent();
    // A query slower than the expiration (a 401, a renewed token and a second send can take two
    // timeouts) keeps its points reserved: the expiry is pushed back while it runs.
    const running = new AbortController();
    const stop = () => running.abort();
    this.stopped.signal.addEventListener('abort', stop, { once: true });
    if (ticket !== false) void this.keepReserved(id, running.signal);
    try {
      return await task((query, answer, variables) => this.observeAnswer(query, answer, variables, seq, ticket === false ? 0 : ticket));
    } finally {
      running.abort();
      this.stopped.signal.removeEventListener('abort', stop);
      this.bucket.release(cost);
      if (ticket !== false) void this.release(id);
    }
  }

  /** Pushes the expiry of reservation `id` back every third of the expiration until `running` ends. */
  private async keepReserved(id: string, running: AbortSignal): Promise<void> {
    const every = Math.max(1, Math.floor(this.options.expiration / 3));
    for (;;) {
      try {
        await abortableSleep(this.timing.sleep, every, running);
      } catch {
        return;
      }
      try {
        await this.redis().eval(EXTEND, 1, this.keys.expiries, id, this.options.expiration);
      } catch (error) {
        this.options.logger.warn('cluster graphql limiter: extending a reservation failed', { shop: this.options.shop, error });
      }
    }
  }

  /**
   * Waits until Redis grants `cost` points; resolves to the query's ticket (its place in the order
   * queries were let go), or false when Redis failed and the local estimate decided.
   */
  private async reserve(id: string, cost: number, queryKeys: [string, string, number], signal: AbortSignal | undefined): Promise<number | false> {
    for (;;) {
      signal?.throwIfAborted();
      let wait: number;
      try {
        wait = Number(await this.redis().eval(RESERVE, 4, this.keys.state, this.keys.expiries, this.keys.costs, this.keys.learnt, id, cost, this.options.expiration, KEY_TTL_MS, ...queryKeys));
      } catch (error) {
        this.options.logger.warn('cluster graphql limiter: redis failed, pacing from this process alone', { shop: this.options.shop, error });
        for (let local = this.bucket.waitTime(cost, this.timing.now()); local > 0; local = this.bucket.waitTime(cost, this.timing.now())) {
          await abortableSleep(this.timing.sleep, local, signal);
        }
        return false;
      }
      if (wait <= 0) return -wait;
      await abortableSleep(this.timing.sleep, Math.min(wait, MAX_POLL_MS), signal);
    }
  }

  private async release(id: string): Promise<void> {
    try {
      await this.redis().eval(RELEASE, 2, this.keys.expiries, this.keys.costs, id);
    } catch (error) {
      // The reservation expires on its own.
      this.options.logger.warn('cluster graphql limiter: releasing a reservation failed', { shop: this.options.shop, error });
    }
  }

  observe(query: string, cost: GraphqlCost | undefined, variables?: Record<string, unknown>): void {
    this.observeAnswer(query, cost, variables, undefined, 0);
  }

  /** Records an answer in this process's estimate (`seq`: its number here) and in Redis (`ticket`: its number there, 0 when unknown). */
  private observeAnswer(query: string, cost: GraphqlCost | undefined, variables: Record<string, unknown> | undefined, seq: number | undefined, ticket: number): void {
    this.bucket.observe(query, cost, this.timing.now(), variables, seq);
    const status = cost?.throttleStatus;
    if (!status) return;
    const requested = typeof cost.requestedQueryCost === 'number' ? String(cost.requestedQueryCost) : '';
    this.redis().eval(OBSERVE, 2, this.keys.state, this.keys.learnt, status.currentlyAvailable, status.maximumAvailable, status.restoreRate, KEY_TTL_MS, ticket, ...queryKeysOf(query, variables), requested)
      .catch((error: unknown) => this.options.logger.warn('cluster graphql limiter: recording the bucket failed', { shop: this.options.shop, error }));
  }

  status(): GraphqlRateLimitStatus {
    return this.bucket.status(this.timing.now());
  }

  /** Stops: queued queries are dropped, and reservations of queries still running are no longer extended (they expire). */
  async stop(): Promise<void> {
    this.stopped.abort();
    await this.gate.stop({ dropWaitingJobs: true }).catch(() => undefined);
  }
}
