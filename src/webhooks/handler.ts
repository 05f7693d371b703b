import { codeOf } from '../errors.js';
import { jsonDeeperThan } from '../json.js';
import type { Logger } from '../logger.js';
import { MAX_RECORD_DEPTH } from '../transform/pii.js';
import { silentLogger } from '../logger.js';
import { readWebhookHeaders, type ShopifyWebhookHeaders } from './headers.js';
import { BodyTooLargeError, readBodyWithLimit } from './read-body.js';
import { verifyWebhookHmac } from './verify.js';

/** Default body limit. Shopify's largest payloads (orders with hundreds of lines) stay well below it. */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

/** A verified delivery, handed to `accept` for durable storage. */
export interface VerifiedDelivery extends ShopifyWebhookHeaders {
  /** The tenant of the shop. */
  tenantId: string;
  /** The body exactly as received (UTF-8), already checked to be JSON. */
  rawBody: string;
}

/** The webhook secrets of one app: they verify deliveries for that app's tenants only. */
export interface AppWebhookSecrets {
  /** The app's client id (API key), as recorded on its tenants (`clientId`). */
  clientId: string;
  /** Its client secret, then older ones still accepted during a rotation. */
  secrets: readonly string[];
}

/** A tenant found for a delivery, with the app its installation belongs to (null: the default app). */
export interface ResolvedTenant {
  /** The tenant. */
  tenantId: string;
  /** The app (client id) it installed, or null for the default app. */
  clientId: string | null;
}

/** Options of `createWebhookHandler`. */
export interface WebhookHandlerOptions {
  /**
   * Secret(s) of the default app (`SHOPIFY_API_SECRET`; several during a rotation). They verify
   * deliveries for every tenant that does not belong to one of `apps`.
   */
  secrets: string | readonly string[];
  /**
   * Further apps served by the same endpoint. An app's secret verifies deliveries only for tenants
   * of that app: a body signed by app A is refused (401) for a shop whose tenant belongs to app B.
   */
  apps?: readonly AppWebhookSecrets[];
  /**
   * Finds the tenant of a shop. Return null when the shop has no tenant that may receive this topic
   * (answered 404, nothing stored). Throwing means the database is unavailable (answered 503).
   * A plain tenant id means the default app.
   */
  resolveTenant(shopDomain: string, topic: string): Promise<string | ResolvedTenant | null>;
  /**
   * Stores the delivery durably; throwing answers 503 so Shopify retries, except an error with code
   * `TENANT_NOT_FOUND` (the tenant was removed since `resolveTenant`), answered 404.
   */
  accept(delivery: VerifiedDelivery): Promise<{
    /** Inbox row id. */
    id: string;
    /** False for a duplicate (already stored). */
    inserted: boolean;
    /** True when it was acknowledged without being stored (a topic the tenant does not sync). */
    dropped?: boolean;
  }>;
  /** Largest accepted body in bytes (default 2 MiB); larger ones are answered 413 without being buffered. */
  maxBodyBytes?: number;
  /** Where it logs. */
  logger?: Logger;
}

/**
 * One request as the core sees it: three small I/O functions, so the Web `Request` and Node's
 * `(req, res)` each convert in one place and share everything else (octokit's middleware shape).
 */
export interface WebhookRequestInput {
  /** HTTP method. */
  method: string;
  /** Reads a header by its lower-case name. */
  header(name: string): string | null | undefined;
  /** The declared `content-length` of a body not read yet (an early 413 without reading it). */
  declaredLength?: number;
  /** Reads the whole body; rejects with a `BodyTooLargeError` as soon as it passes `limit` bytes, reading no further. */
  readBody(limit: number): Promise<Uint8Array>;
  /** Drops a body that will not be read (answers sent before reading it). */
  discardBody(): void | Promise<void>;
}

/** The answer of the core, written back by the transport. */
export interface WebhookResult {
  /** HTTP status to answer. */
  status: number;
  /** Headers to answer with. */
  headers: Record<string, string>;
  /** Body to answer with. */
  body: string;
}

/** The framework-agnostic webhook endpoint: see `createWebhookHandler` for what each status means. */
export type WebhookCore = (input: WebhookRequestInput) => Promise<WebhookResult>;

const text = (status: number, body: string, headers: Record<string, string> = {}): WebhookResult =>
  ({ status, body, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });

const ACCEPTED = '{"ok":true,"duplicate":false}';
const DUPLICATE = '{"ok":true,"duplicate":true}';
const DROPPED = '{"ok":true,"dropped":true}';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Topics that act on the whole shop or a customer: their body must name the shop (Shopify's always do). */
const SHOP_NAMING_TOPICS = new Set(['shop/redact', 'customers/redact', 'customers/data_request', 'app/uninstalled']);
const NO_SHOP = '(none)';

/**
 * The shop a delivery's body names (`shop_domain` of privacy topics, `myshopify_domain` of shop
 * bodies, or `domain` when it is a myshopify domain), lower-cased; null when it names none. For the
 * topics that must name it, a body that does not is answered as naming another shop.
 */
function shopNamedBy(body: unknown, topic: string): string | null {
  const required = SHOP_NAMING_TOPICS.has(topic);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return required ? NO_SHOP : null;
  const record = body as Record<string, unknown>;
  for (const key of ['shop_domain', 'myshopify_domain'] as const) {
    if (typeof record[key] === 'string') return (record[key] as string).toLowerCase();
  }
  if (typeof record.domain === 'string' && /\.myshopify\.com$/i.test(record.domain)) return record.domain.toLowerCase();
  return required ? NO_SHOP : null;
}

/**
 * The webhook endpoint without a transport: takes a {@link WebhookRequestInput}, answers a
 * {@link WebhookResult}. `createWebhookHandler` wraps it for Web `Request`s; Node adapters
 * call it straight from `(req, res)` (`createNodeWebhookHandler`), skipping the conversion to Web
 * objects and streams, which in Node 20 took about a third of an acknowledgement's CPU (bench/webhooks.ts).
 *
 * @example
 * ```ts
 * const core = createWebhookCore({ secrets, resolveTenant, accept });
 * const answer = await core({
 *   method: 'POST', header: (name) => incoming[name], readBody: async () => bytes, discardBody: () => {},
 * });
 * // answer: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true,"duplicate":false}' }
 * ```
 */
export function createWebhookCore(options: WebhookHandlerOptions): WebhookCore {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const logger = options.logger ?? silentLogger;
  const secrets = (typeof options.secrets === 'string' ? [options.secrets] : [...options.secrets]).filter(Boolean);
  const apps = (options.apps ?? []).map((a) => ({ clientId: a.clientId, secrets: a.secrets.filter(Boolean) }));
  if (secrets.length === 0 && apps.every((a) => a.secrets.length === 0)) throw new TypeError('[shopify-ingest] createWebhookHandler: at least one secret is required');
  const appIds = new Set(apps.map((a) => a.clientId));

  return async function handleShopifyWebhook(input: WebhookRequestInput): Promise<WebhookResult> {
    if (input.method !== 'POST') {
      await input.discardBody();
      return text(405, 'Method Not Allowed', { allow: 'POST' });
    }
    const headers = readWebhookHeaders(input.header);
    if ('missing' in headers) {
      await input.discardBody();
      if (headers.missing.length === 0) {
        logger.warn('webhook rejected: malformed header(s)', { invalid: headers.invalid });
        return text(400, `Invalid header(s): ${(headers.invalid ?? []).join(', ')}`);
      }
      logger.warn('webhook rejected: missing header(s)', { missing: headers.missing });
      return text(400, `Missing header(s): ${headers.missing.join(', ')}`);
    }
    const declared = input.declaredLength;
    if (declared !== undefined && Number.isFinite(declared) && declared > maxBodyBytes) {
      await input.discardBody();
      logger.warn('webhook rejected: body larger than maxBodyBytes', { topic: headers.topic, shopDomain: headers.shopDomain, webhookId: headers.webhookId, bytes: declared, maxBodyBytes });
      return text(413, 'Payload Too Large');
    }
    let bytes: Uint8Array;
    try {
      bytes = await input.readBody(maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        logger.warn('webhook rejected: body larger than maxBodyBytes', { topic: headers.topic, shopDomain: headers.shopDomain, webhookId: headers.webhookId, maxBodyBytes });
        return text(413, 'Payload Too Large');
      }
      throw error;
    }
    // Every secret is tried (constant work whichever matches); which ones matched decides below
    // which tenants this signature may speak for.
    const byDefault = secrets.length > 0 && verifyWebhookHmac(bytes, headers.hmac, secrets);
    const byApps = new Set(apps.filter((a) => a.secrets.length > 0 && verifyWebhookHmac(bytes, headers.hmac, a.secrets)).map((a) => a.clientId));
    if (!byDefault && byApps.size === 0) {
      logger.warn('webhook rejected: invalid HMAC', { topic: headers.topic, shopDomain: headers.shopDomain, webhookId: headers.webhookId });
      return text(401, 'Unauthorized');
    }
    let rawBody: string;
    let body: unknown;
    try {
      rawBody = decoder.decode(bytes);
      // Validity and the shop check only: the payload is parsed with exact ids when it is processed.
      body = JSON.parse(rawBody);
    } catch {
      logger.warn('webhook rejected: body is not JSON (UTF-8)', { topic: headers.topic, shopDomain: headers.shopDomain, webhookId: headers.webhookId });
      return text(400, 'Body is not JSON');
    }
    if (jsonDeeperThan(rawBody, MAX_RECORD_DEPTH)) {
      logger.warn('webhook rejected: body nested deeper than a Shopify record can be', { topic: headers.topic, shopDomain: headers.shopDomain, webhookId: headers.webhookId, maxDepth: MAX_RECORD_DEPTH });
      return text(400, `Body nested deeper than ${MAX_RECORD_DEPTH} levels`);
    }
    // The HMAC covers the body, not X-Shopify-Shop-Domain: a body that names its shop must name this one,
    // or a captured delivery of shop A could be replayed against shop B.
    const named = shopNamedBy(body, headers.topic);
    if (named !== null && named !== headers.shopDomain.toLowerCase()) {
      logger.warn('webhook rejected: the body names another shop than its X-Shopify-Shop-Domain header', { topic: headers.topic, shopDomain: headers.shopDomain, bodyShop: named, webhookId: headers.webhookId });
      return text(400, 'Body names another shop');
    }
    let resolved: string | ResolvedTenant | null;
    try {
      resolved = await options.resolveTenant(headers.shopDomain, headers.topic);
    } catch (error) {
      logger.error('webhook not stored: tenant lookup failed', { topic: headers.topic, shopDomain: headers.shopDomain, error });
      return text(503, 'Service Unavailable', { 'retry-after': '5' });
    }
    if (!resolved) {
      logger.warn('webhook rejected: no active tenant for shop', { topic: headers.topic, shopDomain: headers.shopDomain });
      return text(404, 'Unknown shop');
    }
    const { tenantId, clientId } = typeof resolved === 'string' ? { tenantId: resolved, clientId: null } : resolved;
    const signedByItsApp = clientId !== null && appIds.has(clientId) ? byApps.has(clientId) : byDefault;
    if (!signedByItsApp) {
      logger.warn('webhook rejected: signed by another app than the one the shop installed', { topic: headers.topic, shopDomain: headers.shopDomain, webhookId: headers.webhookId });
      return text(401, 'Unauthorized');
    }
    try {
      const stored = await options.accept({ ...headers, tenantId, rawBody });
      return { status: 200, headers: { 'content-type': 'application/json' }, body: stored.dropped ? DROPPED : stored.inserted ? ACCEPTED : DUPLICATE };
    } catch (error) {
      // Its webhook id was received for another shop: a captured delivery replayed under this shop's name.
      if (codeOf(error) === 'WEBHOOK_REPLAYED') {
        logger.warn('webhook rejected: its webhook id was already received for another shop (a replayed delivery)', { topic: headers.topic, shopDomain: headers.shopDomain, tenantId, webhookId: headers.webhookId });
        return text(400, 'Webhook id already received for another shop');
      }
      // The tenant was deleted after its shop was looked up (a purge in this or another process):
      // the same answer as an unknown shop, not a 503 Shopify would retry for 4 hours.
      if (codeOf(error) === 'TENANT_NOT_FOUND') {
        logger.warn('webhook rejected: the shop has no tenant now (removed, or moved to another shop)', { topic: headers.topic, shopDomain: headers.shopDomain, tenantId, webhookId: headers.webhookId });
        return text(404, 'Unknown shop');
      }
      logger.error('webhook not stored: inbox insert failed', { topic: headers.topic, shopDomain: headers.shopDomain, webhookId: headers.webhookId, error });
      return text(503, 'Service Unavailable', { 'retry-after': '5' });
    }
  };
}

/**
 * The framework-agnostic webhook endpoint: a Web `Request -> Response` function (Next App Router,
 * fetch-style servers; Node adapters reach the same core without building a `Request`).
 *
 * | status | when |
 * |---|---|
 * | 405 | not a POST |
 * | 400 | a required `X-Shopify-*` header is missing, `X-Shopify-Webhook-Id` is over 255 characters or not printable ASCII, or the body is not JSON |
 * | 413 | body larger than `maxBodyBytes` (read with a cap, never buffered whole) |
 * | 400 | the body nests deeper than 64 levels (no Shopify record does; it would overflow the worker's stack) |
 * | 400 | the body names another shop than `X-Shopify-Shop-Domain`, or its `X-Shopify-Webhook-Id` was already received for another shop (a replayed delivery; no side effect) |
 * | 401 | HMAC does not verify, or verifies only with another app's secret than the shop's (no side effect, no detail) |
 * | 404 | shop without an (active) tenant, or whose tenant was removed or moved to another shop while the delivery was stored (no side effect) |
 * | 503 | the database is unavailable: Shopify retries, nothing is lost |
 * | 200 | stored durably (or already stored: a duplicate; or dropped: a topic the tenant does not sync) |
 *
 * Processing happens later, outside Shopify's 5-second window (https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-4-respond-to-the-webhook).
 *
 * @example
 * ```ts
 * const handler = createWebhookHandler({
 *   secrets: process.env.SHOPIFY_API_SECRET!,
 *   resolveTenant: async (shop) => (await store.getTenantByShop(shop))?.id ?? null,
 *   accept: async (delivery) => inbox.insert(...),
 * });
 * const response = await handler(request);
 * ```
 */
export function createWebhookHandler(options: WebhookHandlerOptions): (request: Request) => Promise<Response> {
  return webRequestHandler(createWebhookCore(options));
}

/**
 * Serves a {@link WebhookCore} as a Web `Request -> Response` function.
 *
 * @example
 * ```ts
 * export const POST = webRequestHandler(createWebhookCore(options));
 * ```
 */
export function webRequestHandler(core: WebhookCore, onError?: (error: unknown) => void): (request: Request) => Promise<Response> {
  return async (request) => {
    const length = request.headers.get('content-length');
    let result: WebhookResult;
    try {
      result = await core({
        method: request.method,
        header: (name) => request.headers.get(name),
        declaredLength: length === null ? undefined : Number(length),
        readBody: (limit) => readBodyWithLimit(request.body, limit),
        discardBody: () => request.body?.cancel().catch(() => {}),
      });
    } catch (error) {
      // Logged here, once; the answer carries no detail.
      if (!onError) throw error;
      onError(error);
      result = text(500, 'Internal Server Error');
    }
    return new Response(result.body, { status: result.status, headers: result.headers });
  };
}
