import type { Logger } from '../logger.js';
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

/** Options of {@link createWebhookHandler}. */
export interface WebhookHandlerOptions {
  /** App client secret(s) (`SHOPIFY_API_SECRET`); several during a rotation. */
  secrets: string | readonly string[];
  /**
   * Finds the tenant of a shop. Return null when the shop has no tenant that may receive this topic
   * (answered 404, nothing stored). Throwing means the database is unavailable (answered 503).
   */
  resolveTenant(shopDomain: string, topic: string): Promise<string | null>;
  /** Stores the delivery durably; throwing answers 503 so Shopify retries. */
  accept(delivery: VerifiedDelivery): Promise<{
    /** Inbox row id. */
    id: string;
    /** False for a duplicate (already stored). */
    inserted: boolean;
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
  /** Reads the whole body; rejects with {@link BodyTooLargeError} as soon as it passes `limit` bytes, reading no further. */
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

/** The framework-agnostic webhook endpoint: see {@link createWebhookHandler} for what each status means. */
export type WebhookCore = (input: WebhookRequestInput) => Promise<WebhookResult>;

const text = (status: number, body: string, headers: Record<string, string> = {}): WebhookResult =>
  ({ status, body, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });

const ACCEPTED = '{"ok":true,"duplicate":false}';
const DUPLICATE = '{"ok":true,"duplicate":true}';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The webhook endpoint without a transport: takes a {@link WebhookRequestInput}, answers a
 * {@link WebhookResult}. {@link createWebhookHandler} wraps it for Web `Request`s; Node adapters
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
  const secrets = typeof options.secrets === 'string' ? [options.secrets] : [...options.secrets];
  if (secrets.filter(Boolean).length === 0) throw new TypeError('[shopify-ingest] createWebhookHandler: at least one secret is required');

  return async function handleShopifyWebhook(input: WebhookRequestInput): Promise<WebhookResult> {
    if (input.method !== 'POST') {
      await input.discardBody();
      return text(405, 'Method Not Allowed', { allow: 'POST' });
    }
    const headers = readWebhookHeaders(input.header);
    if ('missing' in headers) {
      await input.discardBody();
      return text(400, `Missing header(s): ${headers.missing.join(', ')}`);
    }
    const declared = input.declaredLength;
    if (declared !== undefined && Number.isFinite(declared) && declared > maxBodyBytes) {
      await input.discardBody();
      return text(413, 'Payload Too Large');
    }
    let bytes: Uint8Array;
    try {
      bytes = await input.readBody(maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return text(413, 'Payload Too Large');
      throw error;
    }
    if (!verifyWebhookHmac(bytes, headers.hmac, secrets)) {
      logger.warn('webhook rejected: invalid HMAC', { topic: headers.topic, shopDomain: headers.shopDomain, webhookId: headers.webhookId });
      return text(401, 'Unauthorized');
    }
    let rawBody: string;
    try {
      rawBody = decoder.decode(bytes);
      // Validity only: the payload is parsed with exact ids when it is processed, not in Shopify's 5 s window.
      JSON.parse(rawBody);
    } catch {
      return text(400, 'Body is not JSON');
    }
    let tenantId: string | null;
    try {
      tenantId = await options.resolveTenant(headers.shopDomain, headers.topic);
    } catch (error) {
      logger.error('webhook not stored: tenant lookup failed', { topic: headers.topic, shopDomain: headers.shopDomain, error });
      return text(503, 'Service Unavailable', { 'retry-after': '5' });
    }
    if (!tenantId) {
      logger.warn('webhook rejected: no active tenant for shop', { topic: headers.topic, shopDomain: headers.shopDomain });
      return text(404, 'Unknown shop');
    }
    try {
      const stored = await options.accept({ ...headers, tenantId, rawBody });
      return { status: 200, headers: { 'content-type': 'application/json' }, body: stored.inserted ? ACCEPTED : DUPLICATE };
    } catch (error) {
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
 * | 400 | a required `X-Shopify-*` header is missing, or the body is not JSON |
 * | 413 | body larger than `maxBodyBytes` (read with a cap, never buffered whole) |
 * | 401 | HMAC does not verify (no side effect, no detail) |
 * | 404 | shop without an (active) tenant (no side effect) |
 * | 503 | the database is unavailable: Shopify retries, nothing is lost |
 * | 200 | stored durably (or already stored: a duplicate) |
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
export function webRequestHandler(core: WebhookCore): (request: Request) => Promise<Response> {
  return async (request) => {
    const length = request.headers.get('content-length');
    const result = await core({
      method: request.method,
      header: (name) => request.headers.get(name),
      declaredLength: length === null ? undefined : Number(length),
      readBody: (limit) => readBodyWithLimit(request.body, limit),
      discardBody: () => request.body?.cancel().catch(() => {}),
    });
    return new Response(result.body, { status: result.status, headers: result.headers });
  };
}
