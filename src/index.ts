/**
 * shopify-ingest: sync Shopify stores into your PostgreSQL through Prisma.
 *
 * Five composable parts (client, transformers, importer, webhooks, scheduler) and a facade,
 * {@link createIngestionService}, that ties them together. Framework adapters live in the
 * `shopify-ingest/express`, `/fastify` and `/next` entry points; the Shopify simulator in
 * `shopify-ingest/testing`.
 *
 * @packageDocumentation
 */
export * from './errors.js';
export { createJsonLogger, silentLogger, redact } from './logger.js';
export type { Logger, LogLevel, JsonLoggerOptions } from './logger.js';
export { parseShopifyJson, stringifyShopifyJson } from './json.js';

export * from './service.js';
export * from './client/index.js';
export * from './crypto/index.js';
export * from './transform/index.js';
export * from './store/index.js';
export * from './importer/index.js';
export type { RetryOptions } from './client/index.js';
export * from './webhooks/index.js';
export * from './scheduler/index.js';
export * from './auth/index.js';
export * from './config/index.js';
export { toWebRequest, sendWebResponse, createNodeHandler, createNodeWebhookHandler } from './node/index.js';
export type { NodeHandler, NodeHandlerOptions, NodeRequestLike, NodeWebhookEndpoint } from './node/index.js';
export { PrismaClient } from './prisma-client.js';
