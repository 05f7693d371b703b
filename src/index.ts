/**
 * shopify-ingest: sync Shopify stores into your PostgreSQL through Prisma.
 *
 * Five composable parts (client, transformers, importer, webhooks, scheduler) and a facade,
 * {@link createIngestionService}, that ties them together. Framework adapters live in the
 * `shopify-ingest/express`, `/fastify` and `/next` entry points; a Prisma client for the SDK's own
 * schema and the embedded database in `shopify-ingest/prisma`; the Shopify simulator in
 * `shopify-ingest/testing`.
 *
 * This entry exports what an application uses and nothing else: every name here is covered by
 * semver, and `api/shopify-ingest.api.md` records them (CI fails when they change without it).
 *
 * @packageDocumentation
 */

// Errors: one base class with a stable `code`; subclasses by part.
export { ShopifyIngestError, ConfigError, StoreError, TenantError } from './errors.js';
export { ERROR_CODES, type ErrorCode, type ErrorCodeEntry, type ErrorCodeInfo } from './error-codes.js';
export { ShopifyApiError, GraphqlError } from './client/errors.js';
export type { ShopifyApiErrorCode, GraphqlErrorEntry } from './client/errors.js';
export { TransformError } from './transform/errors.js';
export type { TransformFailure } from './transform/errors.js';
export { ImportError } from './importer/errors.js';
export { WebhookError } from './webhooks/errors.js';
export { WebhookHandlerAggregateError } from './webhooks/dispatcher.js';
export { SchedulerError } from './scheduler/errors.js';
export { DecryptError, EncryptionKeyMismatchError } from './crypto/errors.js';
export { DatabaseSetupError, type DatabaseSetupCode } from './store/database-errors.js';
export { MigrationError } from './store/migrate.js';

// The facade.
export { createIngestionService, IngestionService } from './service.js';
export type {
  AppConfig, DataType, ExpressLikeApp, HealthStatus, IngestionServiceOptions, IngestionStatistics, TenantConfig,
  ResourceSyncStatus, TenantCredentials, TenantSyncStatus,
} from './service.js';

// Client.
export { ShopifyClient, createShopifyClient } from './client/client.js';
export type { ShopifyClientOptions, RequestOptions, ShopifyResponse, Page, PageOptions, RateLimitStatus } from './client/client.js';
export { ClientManager, createClientManager } from './client/client-manager.js';
export type { ShopifyCredentials, ClientManagerOptions, ClientDefaults } from './client/client-manager.js';
export type { RedisClusterOptions } from './client/limiter.js';
export type { GraphqlCost, GraphqlRateLimitStatus } from './client/graphql-bucket.js';
export type { Query, QueryValue } from './client/pagination.js';

// Transformers.
export { ShopifyTransformer } from './transform/transformer.js';
export type { ShopifyTransformerOptions, TransformBatchOptions, CustomersBatchResult, ProductsBatchResult, OrdersBatchResult } from './transform/transformer.js';

// Importer.
export { createImportService, ImportService } from './importer/service.js';
export type { ImportStats, ResourceImportStats } from './importer/service.js';
export type {
  ImportOptions, ImportMode, ImportProgress, ImportResult, ImportAllResult, ImportClient, ImportTransformer,
  ImportServiceOptions, RetryOptions,
} from './importer/types.js';

// Webhooks.
export { createWebhookService } from './webhooks/service.js';
export type { WebhookService, WebhookServiceOptions, WebhookStats, WebhookWorkerOptions } from './webhooks/service.js';
export { verifyWebhookHmac, signWebhookBody } from './webhooks/verify.js';
export { WEBHOOK_TOPICS } from './webhooks/topics.js';
export type {
  ShopifyId, CustomerPayload, ProductPayload, OrderPayload, OrderEditedPayload, DeletePayload, AppUninstalledPayload,
  BulkOperationFinishPayload, CustomersRedactPayload, ShopRedactPayload, CustomersDataRequestPayload, WebhookPayloads, WebhookTopic, WebhookEvent,
} from './webhooks/topics.js';
export type { AppWebhookSecrets, WebhookCore, WebhookRequestInput, WebhookResult } from './webhooks/handler.js';
export type { WebhookDispatcher, WebhookEmitter, WebhookHandlerFn } from './webhooks/dispatcher.js';
export type { ApplyHooks, CustomerDataExport } from './webhooks/apply.js';
export type { InboxStatus } from './store/inbox.js';

// Scheduler.
export { SchedulerService, createSchedulerService } from './scheduler/scheduler-service.js';
export type { SchedulerOptions, SchedulerStatus, SchedulerJobStatus } from './scheduler/scheduler-service.js';
export { DEFAULT_SYNC_CONFIG } from './scheduler/sync-config.js';
export type { SyncConfig, SyncConfigOverrides, SyncJobConfig, SyncJobOptions, SyncJobType, SyncResource } from './scheduler/sync-config.js';

// Database and store.
export { migrate, type MigrateOptions, type MigrateResult } from './store/migrate.js';
export { createDatabaseHandle, type DatabaseHandle, type DatabaseHandleOptions } from './store/database-handle.js';
export type { PgQueryable } from './store/direct-pg.js';
export type { PrismaLike, SqlExecutor } from './store/prisma-like.js';
export type { OrdersWriteResult, ProductsWriteResult } from './store/synced-data.js';
export type * from './store/rows.js';
export type { TokenKind, TenantTokens, TenantRecord, RecordCounts } from './store/types.js';

// Encryption.
export { createKeyRing, keyRingFromEnv, decrypt, decryptJson } from './crypto/key-ring.js';
export type { KeyRing, KeyRingOptions, KeyRingEnv } from './crypto/key-ring.js';
export type { KeyInput } from './crypto/key-material.js';
export { revealPayload, rotatePayload } from './transform/pii.js';

// Authentication of the host app's own routes.
export { createAuthMiddleware, createWebAuthGuard } from './auth/middleware.js';
export type { AuthMiddleware, AuthRequestLike, AuthResponseLike, WebAuthGuard } from './auth/middleware.js';
export { createAuthenticator } from './auth/authenticate.js';
export type { AuthOptions, AuthPrincipal, AuthResult, Authenticator, HeaderSource } from './auth/authenticate.js';
export { verifySessionToken, signSessionToken } from './auth/session-token.js';
export type { SessionTokenClaims, SessionTokenOptions, SessionTokenResult, SessionTokenFailure } from './auth/session-token.js';
export { createApiKeySet } from './auth/api-keys.js';
export type { ApiKeySet } from './auth/api-keys.js';

// Configuration from the environment.
export { loadConfig, requireFor, authOptionsOf } from './config/load-config.js';
export type { IngestionConfig, ConfigFeature, LoadConfigOptions } from './config/load-config.js';

// Exact JSON and logging.
export { parseShopifyJson, stringifyShopifyJson } from './json.js';
export { createJsonLogger, silentLogger, redact } from './logger.js';
export type { Logger, LogLevel, JsonLoggerOptions } from './logger.js';

// Plain Node HTTP servers (the framework adapters have their own entry points).
export { createNodeHandler, createNodeWebhookHandler } from './node/index.js';
export type { NodeHandler, NodeHandlerOptions, NodeRequestLike } from './node/index.js';
