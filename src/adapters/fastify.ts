/**
 * Fastify adapter: a plugin whose raw-body content parser only applies inside its own encapsulated
 * context, so the rest of the app keeps Fastify's JSON parser. Only types are imported from Fastify.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { NodeWebhookEndpoint } from '../node/index.js';
import { mountWebhookHandler } from './mount.js';

/** What the adapter needs from a webhook service (a `createWebhookService()` result fits). */
export interface WebhookEndpoint extends NodeWebhookEndpoint {
  /** Largest accepted body; the route's body limit. */
  maxBodyBytes?: number;
}

/** Options of {@link shopifyWebhooksPlugin}. */
export interface FastifyWebhookOptions {
  /** The webhook service (`createWebhookService()`, or `shopifyService.webhooks` after `initialize()`). */
  service: WebhookEndpoint;
  /** Route path inside the plugin's prefix (default `/webhooks/shopify`). */
  path?: string;
}

/**
 * Registers `POST <path>` answering Shopify webhooks. Register it directly (not through
 * `fastify-plugin`): the buffer parser must stay scoped to this route.
 *
 * @example
 * ```ts
 * import { shopifyWebhooksPlugin } from 'shopify-ingest/fastify';
 * await app.register(shopifyWebhooksPlugin, { service: webhooks, path: '/webhooks/shopify' });
 * ```
 */
export const shopifyWebhooksPlugin: FastifyPluginAsync<FastifyWebhookOptions> = async (instance, options) => {
  const handle = mountWebhookHandler('shopifyWebhooksPlugin (shopify-ingest/fastify)', options?.service);
  // Any parser inherited from the parent (the built-in JSON one, or a host's) would consume the bytes.
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.service?.maxBodyBytes ?? 2 * 1024 * 1024 }, (_req, body, done) => done(null, body));
  instance.post(options.path ?? '/webhooks/shopify', async (request, reply) => {
    reply.hijack();
    await handle(request.raw, reply.raw, (request.body as Buffer | undefined) ?? '');
  });
};
