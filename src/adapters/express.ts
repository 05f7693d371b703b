/**
 * Express adapter: `app.post('/webhooks/shopify', shopifyWebhooks(service))`.
 *
 * Mount order: put the webhook route BEFORE `app.use(express.json())`; it answers the request, so the
 * JSON parser never touches it. If a JSON parser must run first, let it keep the raw bytes with
 * `express.json({ limit: '2mb', verify: captureRawBody })`, or use `express.raw({ type: 'application/json', limit: '2mb' })` on the
 * route (Express's own default limit is 100 kB, below large orders). Otherwise the route answers 500 with this advice instead of failing every HMAC check.
 * Only types are imported from Express: it stays an optional peer dependency.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request as ExpressRequest, RequestHandler, Response as ExpressResponse } from 'express';
import type { NodeWebhookEndpoint } from '../node/index.js';
import { mountWebhookHandler } from './mount.js';

/** What the adapter needs from a webhook service (a `createWebhookService()` result fits). */
export type WebhookEndpoint = NodeWebhookEndpoint;

const EXPRESS_HINT =
  "In Express, register the webhook route before app.use(express.json()), or keep the raw bytes with app.use(express.json({ limit: '2mb', verify: captureRawBody })) " +
  "(captureRawBody from 'shopify-ingest/express'), or use express.raw({ type: 'application/json', limit: '2mb' }) on this route.";

/**
 * Express middleware answering Shopify webhooks (mount it with `app.post(path, ...)` or `app.use(path, ...)`).
 *
 * @example
 * ```ts
 * import { shopifyWebhooks } from 'shopify-ingest/express';
 * app.post('/webhooks/shopify', shopifyWebhooks(webhooks)); // before app.use(express.json())
 * app.use(express.json());
 * ```
 */
export function shopifyWebhooks(service: WebhookEndpoint): RequestHandler {
  const handle = mountWebhookHandler('shopifyWebhooks (shopify-ingest/express)', service, { mountHint: EXPRESS_HINT });
  return (req: ExpressRequest, res: ExpressResponse, next: NextFunction) => {
    handle(req as unknown as IncomingMessage, res as unknown as ServerResponse).catch(next);
  };
}

/**
 * `verify` callback for `express.json()` / `express.raw()` that keeps the raw bytes on `req.rawBody`,
 * so the webhook route still verifies when a JSON parser runs before it.
 *
 * @example
 * ```ts
 * app.use(express.json({ limit: '2mb', verify: captureRawBody }));
 * app.post('/webhooks/shopify', shopifyWebhooks(webhooks));
 * ```
 */
export function captureRawBody(req: IncomingMessage, _res: ServerResponse, buf: Buffer): void {
  (req as IncomingMessage & { rawBody?: Buffer }).rawBody = buf;
}

export { shopifyWebhooks as createExpressWebhookHandler };
