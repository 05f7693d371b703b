/**
 * Shopify Admin API client: REST + GraphQL, header-driven rate limiting (optionally shared through Redis),
 * retries and cursor pagination.
 * @module
 */
export { ShopifyClient, createShopifyClient, DEFAULT_RETRY_OPTIONS } from './client.js';
export type { ShopifyClientOptions, RetryOptions, RequestOptions, ShopifyResponse, Page, PageOptions, RateLimitStatus } from './client.js';
export { ClientManager, createClientManager } from './client-manager.js';
export type { ShopifyCredentials, ClientManagerOptions, ClientDefaults } from './client-manager.js';
export { ShopifyApiError, GraphqlError } from './errors.js';
export type { ShopifyApiErrorCode, ShopifyApiErrorInit, GraphqlErrorEntry } from './errors.js';
export { LimiterRegistry, createLimiterRegistry } from './limiter.js';
export type { LimiterRegistryOptions, RedisClusterOptions, RestRateLimitStatus, ShopLimiter, RestLimiter, GraphqlLimiter, Timing } from './limiter.js';
export { RestBucket, parseCallLimit, leakRateForBucketSize } from './rest-bucket.js';
export type { CallLimit, RestBucketOptions } from './rest-bucket.js';
export { GraphqlBucket } from './graphql-bucket.js';
export type { GraphqlCost, GraphqlRateLimitStatus } from './graphql-bucket.js';
export { parseLinkHeader } from './link-header.js';
export type { PageLink, PageLinks } from './link-header.js';
export { inferListKey } from './pagination.js';
export type { Query, QueryValue } from './pagination.js';
export { DEFAULT_API_VERSION, normalizeShopDomain, assertApiVersion } from './config.js';
