import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { readWebhookHeaders, type ShopifyWebhookHeaders } from './headers.js';
import { BodyTooLargeError, readBodyWithLimit } from './read-body.js';
import { verifyWebhookHmac } from './verify.js';

/** Default body limit. Shopify's largest payloads (orders with hundreds of lines) stay well below it. */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

/** A verified delivery, handed to `accept` for durable storage. */
export interface VerifiedDelivery extends ShopifyWebhookHeaders {
  tenantId: string;
  /** The body exactly as received (UTF-8), already checked to be JSON. */
  rawBody: string;
}

export interface WebhookHandlerOptions {
  /** App client secret(s) (`SHOPIFY_API_SECRET`); several during a rotation. */
  secrets: string | readonly string[];
  /**
   * Finds the tenant of a shop. Return null when the shop has no tenant that may receive this topic
   * (answered 404, nothing stored). Throwing means the database is unavailable (answered 503).
   */
  resolveTenant(shopDomain: string, topic: string): Promise<string | null>;
  /** Stores the delivery durably; throwing answers 503 so Shopify retries. */
  accept(delivery: VerifiedDelivery): Promise<{ id: string; inserted: boolean }>;
  /** Largest accepted body in bytes (default 2 MiB); larger ones are answered 413 without being buffered. */
  maxBodyBytes?: number;
  logger?: Logger;
}

const text = (status: number, body: string, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The framework-agnostic webhook endpoint: a Web `Request -> Response` function. Every adapter
 * (Node, Express, Fastify, Next) ends here.
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
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const logger = options.logger ?? silentLogger;
  const secrets = typeof options.secrets === 'string' ? [options.secrets] : [...options.secrets];
  if (secrets.filter(Boolean).length === 0) throw new TypeError('[shopify-ingest] createWebhookHandler: at least one secret is required');

  return async function handleShopifyWebhook(request: Request): Promise<Response> {
    if (request.method !== 'POST') {
      await request.body?.cancel().catch(() => {});
      return text(405, 'Method Not Allowed', { allow: 'POST' });
    }
    const headers = readWebhookHeaders((name) => request.headers.get(name));
    if ('missing' in headers) {
      await request.body?.cancel().catch(() => {});
      return text(400, `Missing header(s): ${headers.missing.join(', ')}`);
    }
    const declared = Number(request.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      await request.body?.cancel().catch(() => {});
      return text(413, 'Payload Too Large');
    }
    let bytes: Uint8Array;
    try {
      bytes = await readBodyWithLimit(request.body, maxBodyBytes);
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
      return new Response(JSON.stringify({ ok: true, duplicate: !stored.inserted }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    } catch (error) {
      logger.error('webhook not stored: inbox insert failed', { topic: headers.topic, shopDomain: headers.shopDomain, webhookId: headers.webhookId, error });
      return text(503, 'Service Unavailable', { 'retry-after': '5' });
    }
  };
}
