import type { ApiNotice } from './api-notice.js';
import { createFetch, type $Fetch } from 'ofetch';
import { AbortError } from 'p-retry';
import { retrying } from '../retry.js';
import { parseShopifyJson } from '../json.js';
import { silentLogger, type Logger } from '../logger.js';
import { assertAccessToken, assertApiVersion, DEFAULT_API_VERSION, normalizeBaseUrl, normalizeShopDomain } from './config.js';
import { GraphqlError, ShopifyApiError, type GraphqlErrorEntry, type ShopifyApiErrorCode } from './errors.js';
import { GraphqlBucket, type GraphqlCost, type GraphqlRateLimitStatus } from './graphql-bucket.js';
import { LimiterRegistry, type RedisClusterOptions, type RestRateLimitStatus, type ShopLimiter } from './limiter.js';
import { parseLinkHeader, type PageLinks } from './link-header.js';
import { extractItems, inferListKey, nextPageQuery, serializeQuery, type Query } from './pagination.js';
import { parseCallLimit, type CallLimit } from './rest-bucket.js';
import { isTokenSource, type AccessTokenSource } from '../auth/token-source.js';
import { codeOf, ShopifyIngestError } from '../errors.js';
import { ATTR, NO_TELEMETRY, type Telemetry } from '../telemetry/index.js';
import { abortableSleep, eitherSignal } from '../abort.js';

/** The seed's retry settings: exponential backoff for 5xx and network errors. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  retries: number;
  /** Backoff multiplier (default 2). */
  factor: number;
  /** First delay in ms (default 1000). */
  minTimeout: number;
  /** Largest delay in ms (default 5000). */
  maxTimeout: number;
}

/** Default {@link RetryOptions}, as in the seed. */
export const DEFAULT_RETRY_OPTIONS: Readonly<RetryOptions> = Object.freeze({ retries: 3, factor: 2, minTimeout: 1000, maxTimeout: 5000 });

/** Options of {@link createShopifyClient}. */
export interface ShopifyClientOptions {
  /** `mystore.myshopify.com` (any hostname is accepted when `baseUrl` is given). */
  shopDomain: string;
  /**
   * Admin API access token (`shpat_...`), sent as `X-Shopify-Access-Token` and never logged; or a
   * source of renewable tokens (expiring offline tokens, client credentials): asked before each
   * request, and after a 401 for a new token to retry the request with once.
   */
  accessToken: string | AccessTokenSource;
  /** Admin API version `YYYY-MM` (default `'2026-10'`, the version this SDK release is built and tested against). */
  apiVersion?: string;
  /** Origin to call instead of `https://{shopDomain}`, e.g. the simulator's `url`. */
  baseUrl?: string;
  /** `fetch` implementation (default: the global one, looked up at call time so interceptors work). */
  fetch?: typeof globalThis.fetch;
  /** Where the client logs (requests, retries, throttling; never the token). */
  logger?: Logger;
  /** Backoff for 5xx and network errors (the seed's `retryOptions`). */
  retryOptions?: Partial<RetryOptions>;
  /** Per-attempt timeout in ms, body included (default 30 000). */
  timeoutMs?: number;
  /** How many 429 / THROTTLED responses one call waits out before failing (default 20). They do not use up `retries`. */
  maxThrottleRetries?: number;
  /** Initial REST bucket size until a header says otherwise (env `SHOPIFY_API_CALL_LIMIT` via the service; default 40). */
  bucketSize?: number;
  /** REST leak rate, requests/s. When set it is always used; otherwise derived from the bucket size. */
  leakRate?: number;
  /** REST slots kept free (default 5% of the bucket). */
  safetyMargin?: number;
  /**
   * A limiter registry shared with other clients: clients of the same shop in one registry share one budget.
   * Without it the client makes a private registry (closed by {@link ShopifyClient.close}).
   * @internal
   */
  limiters?: LimiterRegistry;
  /** Cluster mode (only when no `limiters` is given): share the shop's budget with other processes through Redis. */
  redis?: RedisClusterOptions;
  /** Extra request headers (e.g. a User-Agent naming your app). */
  headers?: Record<string, string>;
  /** Clock in ms (default `Date.now`); injected by tests. */
  now?: () => number;
  /** Sleep (default `setTimeout`); injected by tests. It is given the call's signal; one that ignores it is cut short anyway when the signal fires. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Told when an answer came from another API version than requested, or named deprecations the
   * call uses; each notice at most once an hour per client. The facade records them per tenant.
   * @internal
   */
  onApiNotice?: (notice: ApiNotice) => void;
  /**
   * Request metrics (the client manager binds the tenant).
   * @internal
   */
  telemetry?: Telemetry;
}

/** Per-call options. */
export interface RequestOptions {
  /** Query string parameters. */
  query?: Query;
  /** JSON body for POST/PUT. */
  body?: unknown;
  /** Aborts the call, its retries and any wait (throttling, the shop's queue, a backoff), rejecting with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Overrides `retryOptions.retries` for this call. A POST or PATCH is not retried after a failure
   * that leaves unknown whether Shopify applied it (5xx, timeout, lost connection, malformed answer),
   * whatever this says: a second attempt could apply it twice.
   */
  retries?: number;
}

/** A parsed REST response. */
export interface ShopifyResponse<T = unknown> {
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: Headers;
  /** Parsed body (ids beyond 2^53 as `bigint`). */
  body: T;
  /** `X-Shopify-Shop-Api-Call-Limit`, parsed. */
  callLimit: CallLimit | undefined;
  /** Cursor links of the `Link` header. */
  links: PageLinks;
  /** `X-Request-Id`. */
  requestId: string | undefined;
}

/** One page of a REST list. */
export interface Page<T> {
  /** The records of the page. */
  items: T[];
  /** Cursor links (`next` absent on the last page). */
  pageInfo: PageLinks;
  /** `X-Shopify-Shop-Api-Call-Limit` of the page's response. */
  callLimit: CallLimit | undefined;
}

/** Options of {@link ShopifyClient.pages} / {@link ShopifyClient.fetchAllPages}. */
export interface PageOptions {
  /** Key of the list in the body (default: inferred from the path, `/orders.json` -> `orders`). */
  key?: string;
  /** Stops the listing. */
  signal?: AbortSignal;
}

/** Rate-limit view returned by {@link ShopifyClient.getRateLimitStatus}. */
export interface RateLimitStatus extends RestRateLimitStatus {
  /** The GraphQL cost bucket. */
  graphql: GraphqlRateLimitStatus;
}

interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

const USER_AGENT = 'shopify-ingest';

/**
 * Shopify Admin API client (REST + GraphQL) with header-driven rate limiting, retries and cursor pagination.
 * Create it with {@link createShopifyClient}.
 *
 * @example
 * ```ts
 * const client = createShopifyClient({ shopDomain: 'mystore.myshopify.com', accessToken: 'shpat_xxx' });
 * for await (const orders of client.pages<Order>('/orders.json', { status: 'any', limit: 250 })) {
 *   await save(orders);
 * }
 * ```
 */
export class ShopifyClient {
  /** The shop this client talks to. */
  readonly shopDomain: string;
  /** The Admin API version it calls. */
  readonly apiVersion: string;
  /** Origin requests go to (`https://{shopDomain}` unless `baseUrl` was given). */
  readonly baseUrl: string;
  private readonly tokens: AccessTokenSource;
  private readonly $fetch: $Fetch;
  private readonly logger: Logger;
  private readonly retry: RetryOptions;
  private readonly timeoutMs: number;
  private readonly maxThrottleRetries: number;
  private readonly headers: Record<string, string>;
  private readonly registry: LimiterRegistry;
  private readonly ownsRegistry: boolean;
  private readonly limiter: ShopLimiter;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly deprecationsLogged = new Set<string>();
  private readonly onApiNotice: ((notice: ApiNotice) => void) | undefined;
  // When each notice was last reported (by kind and key), to report it at most hourly.
  private readonly noticesReported = new Map<string, number>();
  // ES private: adds nothing to the published declarations.
  readonly #telemetry: Telemetry;

  constructor(options: ShopifyClientOptions) {
    if (!options || typeof options !== 'object') throw new ShopifyIngestError('INVALID_ARGUMENT', 'createShopifyClient(options) needs an options object');
    this.baseUrl = options.baseUrl ? normalizeBaseUrl(options.baseUrl) : '';
    this.shopDomain = normalizeShopDomain(options.shopDomain, Boolean(options.baseUrl));
    if (!this.baseUrl) this.baseUrl = `https://${this.shopDomain}`;
    if (isTokenSource(options.accessToken)) this.tokens = options.accessToken;
    else {
      assertAccessToken(options.accessToken);
      const token = options.accessToken;
      this.tokens = { getToken: async () => token, onUnauthorized: async () => null };
    }
    this.apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
    assertApiVersion(this.apiVersion);
    this.logger = options.logger ?? silentLogger;
    this.onApiNotice = options.onApiNotice;
    this.retry = { ...DEFAULT_RETRY_OPTIONS, ...definedOnly(options.retryOptions ?? {}) };
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxThrottleRetries = options.maxThrottleRetries ?? 20;
    this.headers = { ...options.headers };
    this.#telemetry = options.telemetry ?? NO_TELEMETRY;
    const injected = options.fetch;
    // Resolve the global fetch per call, not at construction, so interceptors installed later still apply.
    this.$fetch = createFetch({ fetch: (input, init) => (injected ?? globalThis.fetch)(input, init) });
    this.ownsRegistry = !options.limiters;
    this.registry = options.limiters ?? new LimiterRegistry({ now: options.now, sleep: options.sleep, logger: options.logger, redis: options.redis });
    this.now = options.now ?? this.registry.timing.now;
    this.sleep = options.sleep ?? this.registry.timing.sleep;
    this.limiter = this.registry.forShop(this.shopDomain, {
      bucketSize: options.bucketSize,
      leakRate: options.leakRate,
      safetyMargin: options.safetyMargin,
    });
  }

  /**
   * GET a REST resource and return its parsed body (ids beyond 2^53 come back as `bigint`).
   *
   * @example
   * ```ts
   * const { shop } = await client.get<{ shop: { name: string } }>('/shop.json');
   * const { count } = await client.get<{ count: number }>('/orders/count.json', { status: 'any' });
   * ```
   */
  async get<T = any>(path: string, query?: Query, options: Omit<RequestOptions, 'query' | 'body'> = {}): Promise<T> {
    return (await this.request<T>('GET', path, { ...options, query })).body;
  }

  /**
   * Sends one REST request through the shop's limiter, with retries, and returns status, headers and body.
   *
   * @example
   * ```ts
   * const res = await client.request('GET', '/orders.json', { query: { limit: 250 } });
   * console.log(res.callLimit, res.links.next?.pageInfo);
   * ```
   */
  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ShopifyResponse<T>> {
    const verb = method.toUpperCase();
    const { path: cleanPath, query } = splitPath(path, options.query);
    const idempotent = !NON_IDEMPOTENT_METHODS.has(verb);
    return this.withRetries(verb, cleanPath, { ...options, idempotent }, () => this.restAttempt<T>(verb, cleanPath, query, options));
  }

  /**
   * Iterates over the pages of a REST list, following the `Link` header. Filters in `query` apply to the
   * first request; later requests carry only `page_info`, `limit` and `fields`, as Shopify requires.
   *
   * @example
   * ```ts
   * for await (const page of client.paginate('/customers.json', { limit: 250 })) console.log(page.items.length);
   * ```
   */
  async *paginate<T = any>(path: string, query?: Query, options: PageOptions = {}): AsyncGenerator<Page<T>, void, undefined> {
    const { path: cleanPath, query: firstQuery } = splitPath(path, query);
    const key = options.key ?? inferListKey(cleanPath);
    let pageQuery: Query | undefined = firstQuery;
    const seenPages = new Set<string>();
    for (;;) {
      // A body without the list is retried like a malformed one: it must never pass for an empty page.
      const query = pageQuery;
      const { response, items } = await this.withRetries('GET', cleanPath, { signal: options.signal, idempotent: true }, async () => {
        const response = await this.restAttempt<unknown>('GET', cleanPath, query, { signal: options.signal });
        return { response, items: extractItems<T>(response.body, key, cleanPath) };
      });
      yield { items, pageInfo: response.links, callLimit: response.callLimit };
      const next = response.links.next;
      if (!next) return;
      if (seenPages.has(next.pageInfo)) {
        throw new ShopifyIngestError('SHOPIFY_BAD_RESPONSE', `GET ${cleanPath} links back to a page it already returned (page_info ${next.pageInfo.slice(0, 24)}…): stopping instead of looping`, {
          details: { path: cleanPath, pages: seenPages.size + 1 },
        });
      }
      seenPages.add(next.pageInfo);
      pageQuery = nextPageQuery(next, firstQuery);
    }
  }

  /**
   * Item arrays of a REST list, one page at a time (memory-bounded).
   *
   * @example
   * ```ts
   * for await (const orders of client.pages<ShopifyOrder>('/orders.json', { status: 'any', limit: 250 })) {
   *   await store.upsertOrders(orders);
   * }
   * ```
   */
  async *pages<T = any>(path: string, query?: Query, options: PageOptions = {}): AsyncGenerator<T[], void, undefined> {
    for await (const page of this.paginate<T>(path, query, options)) yield page.items;
  }

  /**
   * Every item of a REST list, following pagination. Prefer {@link pages} for large lists.
   *
   * @example
   * ```ts
   * const customers = await client.fetchAllPages('/customers.json');
   * ```
   */
  async fetchAllPages<T = any>(path: string, query?: Query, options: PageOptions = {}): Promise<T[]> {
    const all: T[] = [];
    for await (const items of this.pages<T>(path, query, options)) all.push(...items);
    return all;
  }

  /**
   * Runs a GraphQL Admin API query and returns `data`. Waits (without counting a failure) when the query
   * would not fit the shop's cost bucket, or when Shopify answers THROTTLED (in a 200) or 429.
   * Throws {@link GraphqlError} when the response carries other errors, and a retryable
   * `SHOPIFY_BAD_RESPONSE` when it carries neither `data` nor `errors`. A query is retried after 5xx,
   * network errors, timeouts, malformed answers and `INTERNAL_SERVER_ERROR`; a mutation is not (a
   * second attempt could apply it twice), and the error is thrown after the first attempt.
   *
   * @example
   * ```ts
   * const data = await client.graphql<{ shop: { name: string } }>('{ shop { name } }');
   * const { orders } = await client.graphql(`query($n: Int!) { orders(first: $n) { nodes { id } } }`, { n: 50 });
   * ```
   */
  async graphql<T = any>(query: string, variables?: Record<string, unknown>, options: { signal?: AbortSignal } = {}): Promise<T> {
    return (await this.graphqlRaw<T>(query, variables, options)).data;
  }

  /** Like {@link graphql}, also returning `extensions` (query cost, throttle status). */
  async graphqlRaw<T = any>(query: string, variables?: Record<string, unknown>, options: { signal?: AbortSignal } = {}): Promise<{
    /** The `data` of the response. */
    data: T;
    /** The `extensions` of the response. */
    extensions: {
      /** Query cost and throttle status. */
      cost?: GraphqlCost;
    } & Record<string, unknown>;
  }> {
    const path = '/graphql.json';
    return this.withRetries('POST', path, { ...options, idempotent: !isMutation(query) }, () => this.graphqlAttempt<T>(query, variables, options.signal));
  }

  /**
   * True when the next REST request would have to wait for the bucket to leak.
   *
   * @example
   * ```ts
   * if (client.isRateLimited()) await new Promise((r) => setTimeout(r, client.getWaitTime()));
   * ```
   */
  isRateLimited(): boolean {
    return this.limiter.rest.waitTime() > 0;
  }

  /** Milliseconds until the next REST request may be sent (0 = now). */
  getWaitTime(): number {
    return this.limiter.rest.waitTime();
  }

  /**
   * The shop's rate-limit state as this process sees it.
   *
   * @example
   * ```ts
   * const { callsMade, bucketSize, isLimited } = client.getRateLimitStatus();
   * ```
   */
  getRateLimitStatus(): RateLimitStatus {
    return { ...this.limiter.rest.status(), graphql: this.limiter.graphql.status() };
  }

  /**
   * True when `GET /shop.json` succeeds (one attempt, no retries). Never throws.
   *
   * @example
   * ```ts
   * if (!(await client.healthCheck())) console.warn('token revoked or shop unreachable');
   * ```
   */
  async healthCheck(): Promise<boolean> {
    try {
      await this.request('GET', '/shop.json', { retries: 0 });
      return true;
    } catch (error) {
      this.logger.warn('shopify health check failed', { shop: this.shopDomain, error });
      return false;
    }
  }

  /** Releases the client's private limiter (a shared registry is left to its owner). */
  async close(): Promise<void> {
    if (this.ownsRegistry) await this.registry.stop();
  }

  // ---------------------------------------------------------------------------------------------

  private async restAttempt<T>(method: string, path: string, query: Query | undefined, options: RequestOptions): Promise<ShopifyResponse<T>> {
    for (let throttled = 0; ; throttled++) {
      const raw = await this.limiter.rest.schedule(async (report) => {
        const response = await this.sendAuthorized(method, path, query, options.body, options.signal);
        const limit = parseCallLimit(response.headers.get('x-shopify-shop-api-call-limit'));
        if (limit) report(limit);
        return response;
      }, options.signal);
      this.noteDeprecation(method, path, raw.headers);
      if (raw.status === 429) {
        // Shopify: wait Retry-After seconds (REST sends "2.0") and try again; this is pacing, not failure.
        // https://shopify.dev/docs/api/usage/limits#rest-admin-api-rate-limits
        const wait = throttleWaitMs(raw.headers, this.now());
        this.#telemetry.add('apiThrottles', 1, { [ATTR.kind]: 'rest', [ATTR.throttle]: 'http_429' });
        if (throttled >= this.maxThrottleRetries) throw this.httpError(method, path, raw, 'SHOPIFY_THROTTLED', true);
        this.logger.warn('shopify rate limit hit (429), waiting', { shop: this.shopDomain, method, path, waitMs: wait });
        this.limiter.rest.throttled(wait);
        continue;
      }
      if (raw.status >= 300) throw this.classify(method, path, raw);
      const body = this.parseBody<T>(method, path, raw);
      return {
        status: raw.status,
        headers: raw.headers,
        body,
        callLimit: parseCallLimit(raw.headers.get('x-shopify-shop-api-call-limit')),
        links: parseLinkHeader(raw.headers.get('link')),
        requestId: raw.headers.get('x-request-id') ?? undefined,
      };
    }
  }

  private async graphqlAttempt<T>(query: string, variables: Record<string, unknown> | undefined, signal: AbortSignal | undefined) {
    const path = '/graphql.json';
    const gql = this.limiter.graphql;
    for (let throttled = 0; ; throttled++) {
      const cost = gql.bucket.estimate(query, variables);
      type Body = { data?: T; errors?: unknown; extensions?: { cost?: GraphqlCost } & Record<string, unknown> };
      // The response's cost is recorded before the reservation is released, so a query waiting for the
      // points (in this process or, with Redis, another) sees the bucket after this one.
      const { raw, body } = await gql.schedule(cost, async (observe) => {
        const raw = await this.sendAuthorized('POST', path, undefined, variables ? { query, variables } : { query }, signal);
        if (raw.status === 429) {
          // A 429 may carry the usual THROTTLED body: its cost and bucket say how long to wait.
          const throttledBody = parseQuietly<Body>(raw.text);
          observe(query, throttledBody?.extensions?.cost, variables);
          return { raw, body: throttledBody };
        }
        if (raw.status >= 300) return { raw, body: undefined };
        const body = this.parseBody<Body>('POST', path, raw);
        observe(query, body?.extensions?.cost, variables);
        return { raw, body };
      }, signal, { text: query, variables });
      this.noteDeprecation('POST', path, raw.headers);
      if (raw.status === 429) {
        const retryAfter = retryAfterMs(raw.headers, this.now());
        const fromBody = body?.extensions?.cost?.throttleStatus ? GraphqlBucket.throttledWait(body.extensions.cost) : undefined;
        const wait = fromBody === undefined ? throttleWaitMs(raw.headers, this.now()) : Math.max(fromBody, retryAfter ?? 0);
        this.#telemetry.add('apiThrottles', 1, { [ATTR.kind]: 'graphql', [ATTR.throttle]: 'http_429' });
        if (throttled >= this.maxThrottleRetries) throw this.httpError('POST', path, raw, 'SHOPIFY_THROTTLED', true);
        this.logger.warn('shopify graphql 429, waiting', { shop: this.shopDomain, waitMs: wait });
        await abortableSleep(this.sleep, wait, signal);
        continue;
      }
      if (raw.status >= 300) throw this.classify('POST', path, raw);
      const extensions = body?.extensions ?? {};
      recordCost(this.#telemetry, extensions.cost);
      const errors = normalizeGraphqlErrors(body?.errors);
      if (errors.length > 0) {
        if (errors.some((e) => e.extensions?.code === 'THROTTLED')) {
          this.#telemetry.add('apiThrottles', 1, { [ATTR.kind]: 'graphql', [ATTR.throttle]: 'graphql_throttled' });
          // Throttled queries come back as 200 + THROTTLED; wait until the cost is restored.
          // https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits
          if (throttled >= this.maxThrottleRetries) {
            throw new GraphqlError({ shop: this.shopDomain, errors, data: body?.data, requestId: raw.headers.get('x-request-id') ?? undefined, code: 'SHOPIFY_THROTTLED', retryable: true });
          }
          const wait = GraphqlBucket.throttledWait(extensions.cost);
          this.logger.warn('shopify graphql throttled, waiting', { shop: this.shopDomain, waitMs: wait });
          await abortableSleep(this.sleep, wait, signal);
          continue;
        }
        // Shopify answers some transient failures with 200 + INTERNAL_SERVER_ERROR instead of a 500.
        const transient = errors.some((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR');
        throw new GraphqlError({ shop: this.shopDomain, errors, data: body?.data, requestId: raw.headers.get('x-request-id') ?? undefined, retryable: transient });
      }
      if (body?.data === undefined || body.data === null || typeof body.data !== 'object') {
        // Neither data nor errors: never pass an answer without the expected shape off as a result.
        throw new ShopifyApiError({
          code: 'SHOPIFY_BAD_RESPONSE', status: raw.status, shop: this.shopDomain, method: 'POST', path,
          requestId: raw.headers.get('x-request-id') ?? undefined, retryable: true, reason: 'GraphQL answer without data or errors',
        });
      }
      return { data: body.data as T, extensions };
    }
  }

  // One exchange with the current token; on a 401 the token source is asked for a new token and the
  // request is sent once more with it (an expiring token renewed early by another process, or one
  // Shopify revoked before its time).
  private async sendAuthorized(method: string, path: string, query: Query | undefined, body: unknown, signal: AbortSignal | undefined): Promise<RawResponse> {
    const token = await this.tokens.getToken(signal);
    const raw = await this.send(method, path, query, body, signal, token);
    if (raw.status !== 401) return raw;
    const renewed = await this.tokens.onUnauthorized(token, signal);
    if (renewed === null || renewed === token) return raw;
    this.logger.info('shopify answered 401; retrying once with a renewed token', { shop: this.shopDomain, method, path });
    return this.send(method, path, query, body, signal, renewed);
  }

  // One HTTP exchange; network failures become retryable {@link ShopifyApiError}s.
  private async send(method: string, path: string, query: Query | undefined, body: unknown, signal: AbortSignal | undefined, token: string): Promise<RawResponse> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new TimeoutAbort(this.timeoutMs)), this.timeoutMs);
    const combined = eitherSignal(signal, timeout.signal);
    const started = this.#telemetry.enabled ? performance.now() : 0;
    let statusClass = 'error';
    try {
      const response = await this.$fetch.raw<string, 'text'>(`${this.baseUrl}/admin/api/${this.apiVersion}${path}`, {
        method,
        query: serializeQuery(query),
        body: body === undefined ? undefined : (body as Record<string, unknown>),
        headers: {
          accept: 'application/json',
          'user-agent': USER_AGENT,
          ...this.headers,
          'x-shopify-access-token': token,
        },
        responseType: 'text',
        ignoreResponseError: true,
        retry: false,
        signal: combined,
      });
      statusClass = `${Math.floor(response.status / 100)}xx`;
      return { status: response.status, headers: response.headers, text: response._data ?? '' };
    } catch (error) {
      if (signal?.aborted) throw new AbortError(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      const timedOut = timeout.signal.aborted;
      throw new ShopifyApiError({
        code: timedOut ? 'SHOPIFY_TIMEOUT' : 'SHOPIFY_NETWORK_ERROR',
        shop: this.shopDomain,
        method,
        path,
        // Behind a `baseUrl` (a proxy, the simulator) the host that did not answer is not the shop's.
        ...(this.baseUrl !== `https://${this.shopDomain}` ? { origin: this.baseUrl } : {}),
        retryable: true,
        reason: timedOut ? `no response within ${this.timeoutMs} ms` : networkReason(error),
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      if (this.#telemetry.enabled) {
        const attributes = { [ATTR.kind]: path === '/graphql.json' ? 'graphql' : 'rest', [ATTR.statusClass]: statusClass };
        this.#telemetry.add('apiRequests', 1, attributes);
        this.#telemetry.record('apiDuration', (performance.now() - started) / 1000, attributes);
      }
    }
  }

  private parseBody<T>(method: string, path: string, raw: RawResponse): T {
    if (raw.text === '' && method !== 'GET') return {} as T;
    try {
      return parseShopifyJson<T>(raw.text);
    } catch (cause) {
      // A cut-off body (connection dropped mid-transfer, proxy error page) is transient: retry it.
      throw new ShopifyApiError({
        code: 'SHOPIFY_BAD_RESPONSE',
        status: raw.status,
        shop: this.shopDomain,
        method,
        path,
        requestId: raw.headers.get('x-request-id') ?? undefined,
        retryable: true,
        reason: `malformed JSON body (${raw.text.length} bytes)`,
        cause,
      });
    }
  }

  private classify(method: string, path: string, raw: RawResponse): ShopifyApiError {
    const s = raw.status;
    if (s === 402) return this.httpError(method, path, raw, 'SHOP_FROZEN', false);
    if (s === 423) return this.httpError(method, path, raw, 'SHOP_LOCKED', false);
    // 5xx are Shopify-side and transient; 408 is a proxy timeout.
    const retryable = s >= 500 || s === 408;
    return this.httpError(method, path, raw, `SHOPIFY_HTTP_${s}`, retryable);
  }

  private httpError(method: string, path: string, raw: RawResponse, code: ShopifyApiErrorCode, retryable: boolean): ShopifyApiError {
    return new ShopifyApiError({
      code,
      status: raw.status,
      shop: this.shopDomain,
      method,
      path,
      requestId: raw.headers.get('x-request-id') ?? undefined,
      retryAfter: retryAfterMs(raw.headers, this.now()),
      retryable,
      reason: errorText(raw.text),
    });
  }

  // What the answer's headers say about the call: a deprecation (logged once per request kind) and
  // an answering version other than the requested one (fall-forward: the version is no longer
  // supported); both reported to `onApiNotice`.
  private noteDeprecation(method: string, path: string, headers: Headers): void {
    const reason = headers.get('x-shopify-api-deprecated-reason');
    const served = headers.get('x-shopify-api-version');
    const request = `${method} ${path.split('?')[0]}`;
    if (reason) {
      const key = `${method} ${path}`;
      if (!this.deprecationsLogged.has(key)) {
        this.deprecationsLogged.add(key);
        this.logger.warn('shopify api deprecation', { shop: this.shopDomain, method, path, apiVersion: this.apiVersion, reason });
      }
      this.reportNotice({ kind: 'deprecated', requestedVersion: this.apiVersion, servedVersion: served, reason, request });
    }
    if (served && served !== this.apiVersion && this.apiVersion !== 'unstable') {
      this.reportNotice({ kind: 'version_mismatch', requestedVersion: this.apiVersion, servedVersion: served, reason: null, request });
    }
  }

  private reportNotice(notice: ApiNotice): void {
    if (!this.onApiNotice) return;
    const key = `${notice.kind}\u0000${notice.kind === 'deprecated' ? notice.reason : notice.servedVersion}`;
    const now = this.now();
    const last = this.noticesReported.get(key);
    if (last !== undefined && now - last < 3_600_000) return;
    if (last === undefined && notice.kind === 'version_mismatch') {
      this.logger.warn('shopify answered with another api version (the requested one is no longer supported)', { shop: this.shopDomain, requested: notice.requestedVersion, served: notice.servedVersion });
    }
    this.noticesReported.set(key, now);
    try {
      this.onApiNotice(notice);
    } catch (error) {
      this.logger.warn('onApiNotice failed', { error });
    }
  }

  // Runs `attempt` through the SDK's retry policy (src/retry.ts): retryable {@link ShopifyApiError}s (5xx,
  // network, timeout, malformed body) back off exponentially per `retryOptions`; anything else fails at
  // once. The delay goes through the injected `sleep` so tests stay in virtual time. Not retried here:
  // SHOPIFY_THROTTLED (the throttle waits are already spent), and for a request that is not idempotent
  // (POST, PATCH, a GraphQL mutation) a failure after which Shopify may have applied it.
  private async withRetries<T>(method: string, path: string, options: { signal?: AbortSignal; retries?: number; idempotent: boolean }, attempt: () => Promise<T>): Promise<T> {
    let attempts = 0;
    try {
      return await retrying(
        async (n) => {
          attempts = n;
          try {
            return await attempt();
          } catch (error) {
            if (codeOf(error) === 'SHOPIFY_THROTTLED') throw new AbortError(error as Error);
            if (!options.idempotent && mayHaveBeenApplied(error)) {
              this.logger.warn('shopify request failed and may have been applied: not retried', { shop: this.shopDomain, method, path, error });
              throw new AbortError(error as Error);
            }
            throw error;
          }
        },
        {
          kind: 'request',
          policy: { ...this.retry, retries: options.retries ?? this.retry.retries },
          sleep: this.sleep,
          signal: options.signal,
          // A Retry-After longer than the backoff is honoured, up to the policy's largest delay.
          delayFor: (error, backoff) => Math.max(backoff, Math.min(error instanceof ShopifyApiError ? error.retryAfter ?? 0 : 0, this.retry.maxTimeout)),
          onRetry: (error, retry, delayMs) => this.logger.warn('shopify request failed, retrying', {
            shop: this.shopDomain, method, path, attempt: retry, delayMs, error,
          }),
        },
      );
    } catch (error) {
      if (error instanceof ShopifyApiError) throw error.withAttempts(attempts);
      throw error;
    }
  }
}

/**
 * Creates a {@link ShopifyClient}. Throws a `ConfigError` at once for a bad domain, empty token or
 * malformed API version.
 *
 * @example
 * ```ts
 * const client = createShopifyClient({ shopDomain: 'mystore.myshopify.com', accessToken: 'shpat_xxxxx' });
 * const customers = await client.fetchAllPages('/customers.json');
 * ```
 */
export function createShopifyClient(options: ShopifyClientOptions): ShopifyClient {
  return new ShopifyClient(options);
}

class TimeoutAbort extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** HTTP methods a second attempt could apply twice. */
const NON_IDEMPOTENT_METHODS = new Set(['POST', 'PATCH']);

/** Network failures before anything reached Shopify (nothing can have been applied). */
const NOT_SENT = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH)$/;

/**
 * Whether Shopify may have applied a request that failed with `error`: anything retryable that
 * happened after the request left (5xx, timeout, lost connection, malformed or shapeless answer,
 * INTERNAL_SERVER_ERROR). Failures before sending (a token source's, a refused connection) and
 * refusals (4xx) are not ambiguous.
 */
function mayHaveBeenApplied(error: unknown): boolean {
  if (error instanceof GraphqlError) return error.retryable;
  if (!(error instanceof ShopifyApiError) || !error.retryable) return false;
  return !(error.code === 'SHOPIFY_NETWORK_ERROR' && NOT_SENT.test(error.reason ?? ''));
}

/**
 * Whether a GraphQL document's operation is a mutation (string literals and comments aside; a
 * document with several operations counts as one when any of them is).
 */
function isMutation(document: string): boolean {
  const code = document
    .replace(/"""[\s\S]*?"""/g, '""')
    .replace(/"(?:[^"\\\n]|\\.)*"/g, '""')
    .replace(/#[^\n]*/g, '');
  return /(^|\})\s*mutation\b/.test(code.trim());
}

/** `text` as JSON, or undefined when it is not. */
function parseQuietly<T>(text: string): T | undefined {
  try {
    return text ? parseShopifyJson<T>(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Splits `'/orders.json?status=any'` and strips an `/admin/api/{version}` prefix; explicit `query` wins. */
function splitPath(path: string, query: Query | undefined): { path: string; query: Query | undefined } {
  let p = path.trim();
  if (/^https?:\/\//i.test(p)) {
    const url = new URL(p);
    p = url.pathname + url.search;
  }
  const q = p.indexOf('?');
  let fromPath: Query | undefined;
  if (q >= 0) {
    fromPath = Object.fromEntries(new URLSearchParams(p.slice(q + 1)));
    p = p.slice(0, q);
  }
  p = p.replace(/^\/?admin\/api\/[^/]+/, '');
  if (!p.startsWith('/')) p = `/${p}`;
  const merged = fromPath || query ? { ...fromPath, ...query } : undefined;
  return { path: p, query: merged };
}

/** `Retry-After` in ms; Shopify sends seconds, possibly fractional ("2.0", "0.5"), or an HTTP date. */
function retryAfterMs(headers: Headers, now: number): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The least a 429 is waited out, whatever `Retry-After` says: REST's bucket leaks one request per
 * 500 ms, so an immediate retry of "Retry-After: 0" (or "0.0", or a date in the past) is throttled again.
 */
const MIN_THROTTLE_WAIT_MS = 500;
/** Without a usable `Retry-After`. */
const DEFAULT_THROTTLE_WAIT_MS = 1000;

function throttleWaitMs(headers: Headers, now: number): number {
  return Math.max(MIN_THROTTLE_WAIT_MS, retryAfterMs(headers, now) ?? DEFAULT_THROTTLE_WAIT_MS);
}

function errorText(text: string): string | undefined {
  if (!text) return undefined;
  try {
    const body = JSON.parse(text) as { errors?: unknown; error?: unknown; error_description?: unknown };
    const errors = body.errors ?? body.error_description ?? body.error;
    if (errors !== undefined) return typeof errors === 'string' ? errors : JSON.stringify(errors);
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 200);
}

function networkReason(error: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = error;
  let message = '';
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof e.code === 'string') return e.code;
    if (typeof e.message === 'string' && e.message) message = e.message;
    current = e.cause;
  }
  return message.replace(/^\[[A-Z]+\] "[^"]*": /, '') || 'network error';
}

/** Points spent and left, from a response's `extensions.cost`. */
function recordCost(telemetry: Telemetry, cost: GraphqlCost | undefined): void {
  if (!cost || !telemetry.enabled) return;
  // null: the query did not run (THROTTLED); absent: only the requested cost is known.
  const spent = cost.actualQueryCost === undefined ? cost.requestedQueryCost : cost.actualQueryCost;
  if (typeof spent === 'number') telemetry.add('pointsSpent', spent);
  const available = cost.throttleStatus?.currentlyAvailable;
  if (typeof available === 'number') telemetry.pointsAvailable(available);
}

function normalizeGraphqlErrors(errors: unknown): GraphqlErrorEntry[] {
  if (!errors) return [];
  if (typeof errors === 'string') return [{ message: errors }];
  if (Array.isArray(errors)) {
    return errors.map((e) => (e && typeof e === 'object' ? (e as GraphqlErrorEntry) : { message: String(e) }));
  }
  return [{ message: JSON.stringify(errors) }];
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
