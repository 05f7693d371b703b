/**
 * Next.js adapter. App Router handlers are Web-standard already; the Pages Router needs Next's body
 * parser off so the raw bytes reach the HMAC check. Only types are imported from Next.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeWebhookEndpoint } from '../node/index.js';
import { assertWebhookEndpoint, mountWebhookHandler, reportMountedFailure } from './mount.js';

/** What the adapter needs from a webhook service (a `createWebhookService()` result fits). */
export type WebhookEndpoint = NodeWebhookEndpoint;

/**
 * App Router route handler (`app/api/webhooks/shopify/route.ts`).
 *
 * @example
 * ```ts
 * import { createNextWebhookHandler } from 'shopify-ingest/next';
 * export const runtime = 'nodejs';
 * export const { POST } = createNextWebhookHandler(webhooks);
 * ```
 */
export function createNextWebhookHandler(service: WebhookEndpoint): {
  /** The route's POST handler. */
  POST: (request: Request) => Promise<Response>;
} {
  assertWebhookEndpoint('createNextWebhookHandler (shopify-ingest/next)', service);
  return {
    POST: (request: Request) => service.handler(request).catch((error: unknown) => {
      reportMountedFailure('createNextWebhookHandler (shopify-ingest/next)', service, error);
      return new Response('Internal Server Error', { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    }),
  };
}

// Next reads a route's `config` statically: it must be written as a literal in the route file (an
// imported or computed value makes Next refuse the route), so the package exports no config object.
const PAGES_HINT = 'In the Next.js Pages Router, write export const config = { api: { bodyParser: false } }; as a literal in this API route file.';

/**
 * Pages Router API route (`pages/api/webhooks/shopify.ts`). Write the `config` literal in the
 * route file, as below: Next refuses an imported one.
 *
 * @example
 * ```ts
 * import { createNextPagesWebhookHandler } from 'shopify-ingest/next';
 * export const config = { api: { bodyParser: false } };
 * export default createNextPagesWebhookHandler(webhooks);
 * ```
 */
export function createNextPagesWebhookHandler(service: WebhookEndpoint): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return mountWebhookHandler('createNextPagesWebhookHandler (shopify-ingest/next)', service, { mountHint: PAGES_HINT });
}
