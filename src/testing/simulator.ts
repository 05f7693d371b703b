/**
 * `createShopifySimulator`: a real HTTP(S) server hosting simulated Shopify shops, so SDK tests,
 * demos and benchmarks run without a store.
 *
 * Which shop a request is for, in order:
 * 1. a path prefix `/shops/{domain}/admin/api/...` (each shop's `baseUrl`);
 * 2. the `Host` header, when it is a hosted shop domain (peers that call `https://{shop}` routed to us);
 * 3. the `X-Shopify-Access-Token` (tokens are unique per shop), so a client given `baseUrl: simulator.url` works.
 * Then the token must be the shop's, otherwise 401 as Shopify answers.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createShop, type ShopConfig, type SimulatedShop, type ShopStats } from './shop.js';
import { handleRest, type RestResponse } from './rest-api.js';
import { createFaultInjector, type FaultInjector, type FaultKind, type FaultOptions } from './faults.js';
import { createWebhookDispatcher, type WebhookDeliveryOptions, type WebhookDispatcher } from './webhooks.js';
import { createGraphqlApi, type BulkOptions, type GraphqlApi } from './graphql.js';
import { createOAuthAuthority, type OAuthAuthority, type OAuthOptions } from './oauth.js';
import { createRandom, hashString, uuidFrom } from './prng.js';
import type { Clock } from './clock.js';
import { stringifyShopifyJson } from '../json.js';
import { silentLogger, type Logger } from '../logger.js';
import { ConfigError } from '../errors.js';
import { DEFAULT_API_VERSION } from '../client/config.js';

/** Options of {@link createShopifySimulator}. */
export interface ShopifySimulatorOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Seed of all generated data and random behaviour (default 1). */
  seed?: number;
  /** Shops to host: a list of configs, or a number of shops built from `shopDefaults`. Default 1. */
  shops?: number | ShopConfig[];
  /** Defaults applied to every shop (e.g. `{ orders: 1_000_000 }`). */
  shopDefaults?: ShopConfig;
  /** API version announced in webhook headers and given to subscriptions (requests may use any `YYYY-MM`). Default the client's `DEFAULT_API_VERSION`, so the SDK's subscription check finds them in sync. */
  apiVersion?: string;
  /** App secret used to sign webhooks (X-Shopify-Hmac-Sha256). Default `simulator_secret`. */
  apiSecret?: string;
  /** REST leaky bucket per shop: size 40, leak 2/s by default (Shopify standard plan). */
  bucket?: {
    /** Requests the bucket holds (default 40). */
    size?: number;
    /** Requests per second it drains (default 2). */
    leakPerSecond?: number;
  };
  /** GraphQL cost bucket per shop: 1000 points, restore 50/s by default. */
  graphql?: {
    /** Points the bucket holds (default 1000). */
    maximumAvailable?: number;
    /** Points restored per second (default 50). */
    restoreRate?: number;
  };
  /**
   * Simulated seconds per wall-clock second for rate limits, bulk operations and webhook retries.
   * 10 means buckets leak/restore 10x faster, Retry-After is 10x shorter and webhook backoff
   * 10x shorter. Default 1.
   */
  timeScale?: number;
  /** Disable rate limiting (for throughput benchmarks); headers still show `0/size`. */
  unthrottled?: boolean;
  /** Faults to inject (5xx, resets, slow or malformed answers...). */
  faults?: FaultOptions;
  /** How webhooks are delivered (duplicates, shuffling, retries). */
  webhooks?: WebhookDeliveryOptions;
  /** The token endpoint (`POST /admin/oauth/access_token`): client id, token lifetimes, refusing non-expiring tokens. */
  oauth?: OAuthOptions;
  /** Bulk operation timing (simulated ms, scaled by timeScale). */
  bulk?: BulkOptions;
  /**
   * API versions the simulated Shopify supports, oldest first, the last one the release candidate
   * (default 2026-01 to 2026-10 plus 2027-01). Older versions fall forward to the oldest.
   */
  supportedVersions?: string[];
  /** Serve HTTPS with a self-signed certificate generated at start (see `certificate`). */
  https?: boolean;
  /** Injectable clock (epoch ms); default Date.now. */
  clock?: Clock;
  /** Injectable `fetch` used to deliver webhooks; default global fetch. */
  fetch?: typeof fetch;
  /** Where the simulator logs. */
  logger?: Logger;
}

/** A running simulator. */
export interface ShopifySimulator {
  /** Base url, e.g. `http://127.0.0.1:53121` (no trailing slash). */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The hosted shops, each with `domain`, `accessToken`, `baseUrl` and the mutation API. */
  readonly shops: Array<SimulatedShop & {
    /** Origin to pass as the client's `baseUrl`. */
    baseUrl: string;
  }>;
  /** PEM certificate of HTTPS mode (trust it, or use `createSimulatorAgent`). */
  readonly certificate?: string;
  /** Looks up a shop by domain or 0-based number; throws when unknown. */
  shop(which: string | number): SimulatedShop & {
    /** Origin to pass as the client's `baseUrl`. */
    baseUrl: string;
  };
  /** Request counters of a shop (by domain or number), or the sum of all shops. */
  stats(which?: string | number): ShopStats;
  /** Zeroes all counters and empties the rate-limit buckets. */
  resetStats(): void;
  /** Fault injection, changeable while running. */
  readonly faults: FaultInjector;
  /** The webhook dispatcher (deliveries sent so far, `waitForDeliveries`). */
  readonly webhooks: WebhookDispatcher;
  /** The GraphQL Admin API it serves. */
  readonly graphql: GraphqlApi;
  /** The token endpoint: faults, revocations, counters. */
  readonly oauth: OAuthAuthority;
  /** Stops the server, aborts pending webhook retries. */
  stop(): Promise<void>;
}

const VERSION_RE = /^(\d{4}-\d{2}|unstable)$/;

function emptyStats(): ShopStats {
  return { requests: 0, restRequests: 0, graphqlRequests: 0, throttled: 0, graphqlThrottled: 0, byStatus: {}, faults: {} };
}

function addStats(into: ShopStats, from: ShopStats): void {
  into.requests += from.requests;
  into.restRequests += from.restRequests;
  into.graphqlRequests += from.graphqlRequests;
  into.throttled += from.throttled;
  into.graphqlThrottled += from.graphqlThrottled;
  for (const [k, v] of Object.entries(from.byStatus)) into.byStatus[Number(k)] = (into.byStatus[Number(k)] ?? 0) + v;
  for (const [k, v] of Object.entries(from.faults)) into.faults[k] = (into.faults[k] ?? 0) + v;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts a simulator.
 *
 * @example
 * ```ts
 * import { createShopifySimulator } from 'shopify-ingest/testing';
 * const sim = await createShopifySimulator({ seed: 42, shops: [{ orders: 1000 }], timeScale: 10 });
 * const shop = sim.shops[0];
 * const res = await fetch(`${sim.url}/admin/api/2025-01/orders.json?status=any&limit=250`, {
 *   headers: { 'X-Shopify-Access-Token': shop.accessToken },
 * });
 * // res.headers.get('link') -> <...page_info=...>; rel="next"
 * await sim.stop();
 * ```
 */
export async function createShopifySimulator(options: ShopifySimulatorOptions = {}): Promise<ShopifySimulator> {
  const seed = options.seed ?? 1;
  const clock = options.clock ?? Date.now;
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new ConfigError('simulator timeScale must be > 0', { details: { timeScale } });
  const apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
  const logger = options.logger ?? silentLogger;
  const configs: ShopConfig[] = typeof options.shops === 'number' || options.shops === undefined
    ? Array.from({ length: typeof options.shops === 'number' ? options.shops : 1 }, () => ({ ...options.shopDefaults }))
    : options.shops.map((c) => ({ ...options.shopDefaults, ...c }));
  const limits = { bucket: options.bucket ?? {}, graphql: options.graphql ?? {}, timeScale };
  const shops = configs.map((config, shopNumber) => createShop({ seed, shopNumber, config, limits, clock, apiVersion }));
  const byDomain = new Map<string, SimulatedShop>();
  const byToken = new Map<string, SimulatedShop>();
  for (const shop of shops) {
    if (byDomain.has(shop.domain)) throw new ConfigError(`duplicate simulated shop domain ${shop.domain}`);
    if (byToken.has(shop.accessToken)) throw new ConfigError(`duplicate simulated shop access token for ${shop.domain}`);
    byDomain.set(shop.domain, shop);
    byToken.set(shop.accessToken, shop);
  }
  const faults = createFaultInjector(seed, options.faults);
  const requestIds = createRandom(hashString(`request-ids:${seed}`));
  const sockets = new Set<Socket>();
  let baseUrl = '';

  const webhooks = createWebhookDispatcher({
    seed, apiSecret: options.apiSecret ?? 'simulator_secret', apiVersion, timeScale, clock, fetch: options.fetch, logger, ...options.webhooks,
  });
  for (const shop of shops) shop.onChange = (change) => webhooks.dispatchChange(shop, change);
  for (const shop of shops) shop.stock.deliver = (topic, payload) => webhooks.deliver(shop, topic, payload);
  for (const shop of shops) shop.discounts.deliver = (topic, payload) => webhooks.deliver(shop, topic, payload);
  for (const shop of shops) shop.drafts.deliver = (topic, payload) => webhooks.deliver(shop, topic, payload);

  const graphql = createGraphqlApi({ clock, timeScale, webhooks, bulk: options.bulk, logger, fileUrl: (path) => `${baseUrl}${path}` });
  const supportedVersions = options.supportedVersions ?? ['2026-01', '2026-04', '2026-07', '2026-10', '2027-01'];
  const oauth = createOAuthAuthority({ clock, timeScale, apiSecret: options.apiSecret ?? 'simulator_secret', options: options.oauth });
  const hanging = new Set<http.ServerResponse>();

  function findShop(which: string | number): SimulatedShop {
    const shop = typeof which === 'number' ? shops[which] : byDomain.get(which.toLowerCase());
    if (!shop) throw new ConfigError(`no simulated shop ${String(which)}`);
    return shop;
  }

  function send(res: http.ServerResponse, status: number, headers: Record<string, string>, text: string, fault: FaultKind | undefined): void {
    let body = text;
    if (fault === 'malformed') body = '<html><body><h1>502 Bad Gateway</h1></body></html>';
    if (fault === 'truncated') body = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    const buffer = Buffer.from(body, 'utf8');
    if (fault === 'reset') {
      // Announce the full length, send part of it, then drop the connection mid-body.
      res.writeHead(status, { ...headers, 'Content-Length': String(buffer.length) });
      res.write(buffer.subarray(0, Math.max(1, Math.floor(buffer.length / 3))), () => res.socket?.destroy());
      return;
    }
    res.writeHead(status, { ...headers, 'Content-Length': String(buffer.length) });
    res.end(buffer);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator.local');
    let path = url.pathname;
    let prefix = '';
    let prefixShop: SimulatedShop | undefined;
    const prefixed = /^\/shops\/([^/]+)(\/.*)$/.exec(path);
    if (prefixed) {
      prefixShop = byDomain.get(decodeURIComponent(prefixed[1]).toLowerCase());
      if (!prefixShop) return send(res, 404, { 'Content-Type': 'application/json; charset=utf-8' }, '{"errors":"Not Found"}', undefined);
      prefix = `/shops/${prefixed[1]}`;
      path = prefixed[2];
    }
    if (path.startsWith('/bulk/')) {
      const served = graphql.serveFile(path, res, req.headers.range);
      if (served) return;
      return send(res, 404, { 'Content-Type': 'text/plain' }, 'Not Found', undefined);
    }
    if (path === '/' || path === '/health') {
      const info = { simulator: 'shopify-ingest', shops: shops.map((s) => ({ domain: s.domain, baseUrl: `${baseUrl}/shops/${s.domain}` })) };
      return send(res, 200, { 'Content-Type': 'application/json; charset=utf-8' }, JSON.stringify(info), undefined);
    }
    const json = { 'Content-Type': 'application/json; charset=utf-8' };
    if (path === '/admin/oauth/access_token' && req.method === 'POST') {
      const hostShop = prefixShop ?? byDomain.get((req.headers.host ?? '').split(':')[0].toLowerCase());
      const answer = await oauth.handle(hostShop, await readBody(req), (domain) => byDomain.get(domain));
      // A lost answer drops the connection after the tokens were issued; a timeout keeps the request open.
      if (answer.drop) { res.destroy(); return; }
      if (answer.hang) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      return send(res, answer.status, json, answer.raw ?? JSON.stringify(answer.body), undefined);
    }
    const api = /^\/admin\/api\/([^/]+)\/(.+)$/.exec(path);
    if (!api || !VERSION_RE.test(api[1])) return send(res, 404, json, '{"errors":"Not Found"}', undefined);
    const version = api[1];
    // A version Shopify no longer supports is answered by the oldest supported one ("fall forward"),
    // and X-Shopify-API-Version says which answered (https://shopify.dev/docs/api/usage/versioning).
    const answering = version === 'unstable' || supportedVersions.includes(version) ? version
      : version < supportedVersions[0] ? supportedVersions[0] : supportedVersions[supportedVersions.length - 2] ?? supportedVersions[0];
    const rest = api[2];

    const hostName = (req.headers.host ?? '').split(':')[0].toLowerCase();
    const token = req.headers['x-shopify-access-token'];
    const tokenValue = Array.isArray(token) ? token[0] : token;
    const rawBody = await readBody(req);
    const auth = oauth.authenticate(tokenValue, (t) => byToken.get(t));
    const shop = 'shop' in auth ? auth.shop : undefined;
    const addressed = prefixShop ?? byDomain.get(hostName);
    if (!shop || (addressed && addressed !== shop)) {
      // https://shopify.dev/docs/api/usage/response-codes
      const message = 'refused' in auth && auth.refused === 'non-expiring'
        ? '[API] Non-expiring access tokens are no longer accepted for public apps. Use expiring offline access tokens.'
        : '[API] Invalid API key or access token (unrecognized login or wrong password)';
      return send(res, 401, json, JSON.stringify({ errors: message }), undefined);
    }
    const isGraphql = rest === 'graphql.json';
    const stats = shop.stats;
    stats.requests++;
    if (isGraphql) stats.graphqlRequests++;
    else stats.restRequests++;
    const headers: Record<string, string> = { ...json, 'X-Request-Id': uuidFrom(requestIds), 'X-Shopify-API-Version': answering };
    const finish = (status: number, text: string, fault: FaultKind | undefined) => {
      stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
      send(res, status, headers, text, fault);
    };

    const fault = faults.draw(shop.domain, rest);
    if (fault) stats.faults[fault] = (stats.faults[fault] ?? 0) + 1;
    if (fault === 'storm') {
      shop.bucket.fill();
      shop.costBucket.drainAll();
    }
    if (fault === 'slow') await new Promise((r) => setTimeout(r, faults.slowMs));

    if (!isGraphql) {
      if (!options.unthrottled) {
        const decision = shop.bucket.take();
        headers['X-Shopify-Shop-Api-Call-Limit'] = `${decision.used}/${decision.size}`;
        if (!decision.allowed) {
          stats.throttled++;
          // Retry-After in (wall-clock) seconds, as a decimal like Shopify's "2.0".
          headers['Retry-After'] = formatSeconds(decision.retryAfterSeconds!);
          return finish(429, '{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}', undefined);
        }
      } else headers['X-Shopify-Shop-Api-Call-Limit'] = `0/${shop.bucket.size}`;
    }
    if (fault === 'server_error') {
      const status = faults.nextServerErrorStatus();
      return finish(status, status === 503 ? '{"errors":"Unavailable Shop"}' : '{"errors":"Internal Server Error"}', undefined);
    }

    let response: RestResponse;
    if (isGraphql) {
      if (req.method !== 'POST') response = { status: 405, body: { errors: 'Method Not Allowed' } };
      else response = graphql.handle(shop, rawBody, { unthrottled: options.unthrottled ?? false, version: answering });
      if (response.status === 200 && (response.body as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.some((e) => e.extensions?.code === 'THROTTLED')) stats.graphqlThrottled++;
    } else {
      const apiBase = `${baseUrl.split('://')[0]}://${req.headers.host ?? '127.0.0.1'}${prefix}/admin/api/${version}`;
      try {
        response = handleRest({ shop, method: req.method ?? 'GET', path: rest, query: url.searchParams, apiBase, rawBody });
      } catch (error) {
        logger.error('simulator route failed', { error: (error as Error).message, path });
        response = { status: 500, body: { errors: 'Internal Server Error' } };
      }
    }
    Object.assign(headers, response.headers ?? {});
    // Plain JSON.stringify is 2-3x faster; only big-id shops hold bigints that need the exact writer.
    let text: string;
    try {
      text = shop.gen.bigIds ? stringifyShopifyJson(response.body) : JSON.stringify(response.body);
    } catch {
      text = stringifyShopifyJson(response.body);
    }
    return finish(response.status, text, fault === 'slow' || fault === 'storm' ? undefined : fault);
  }

  let certificate: string | undefined;
  let server: http.Server | https.Server;
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((error) => {
      logger.error('simulator request failed', { error: (error as Error).message });
      if (!res.headersSent) send(res, 500, { 'Content-Type': 'application/json' }, '{"errors":"Internal Server Error"}', undefined);
      else res.destroy();
    });
  };
  if (options.https) {
    const { createSelfSignedCertificate } = await import('./https.js');
    const pems = await createSelfSignedCertificate(shops.map((s) => s.domain));
    certificate = pems.cert;
    server = https.createServer({ key: pems.key, cert: pems.cert }, listener);
  } else server = http.createServer(listener);
  // Node closes idle keep-alive sockets after 5 s by default, racing clients that reuse them (undici
  // keeps them 4 s, others longer) into ECONNRESETs no real Shopify front end causes. Keep them
  // longer; injected resets stay the only resets.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `${options.https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const hosted = shops.map((shop) => Object.assign(shop, { baseUrl: `${baseUrl}/shops/${shop.domain}` }));

  return {
    url: baseUrl,
    port,
    oauth,
    shops: hosted,
    certificate,
    shop: (which) => findShop(which) as SimulatedShop & { baseUrl: string },
    stats(which) {
      if (which !== undefined) return structuredClone(findShop(which).stats);
      const total = emptyStats();
      for (const s of shops) addStats(total, s.stats);
      return total;
    },
    resetStats() {
      for (const s of shops) {
        Object.assign(s.stats, emptyStats());
        s.bucket.reset();
      }
    },
    faults,
    webhooks,
    graphql,
    async stop() {
      webhooks.stop();
      graphql.stop();
      for (const res of hanging) res.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

function formatSeconds(seconds: number): string {
  const rounded = Math.ceil(seconds * 1000) / 1000;
  return Number.isInteger(rounded) ? rounded.toFixed(1) : String(rounded);
}
