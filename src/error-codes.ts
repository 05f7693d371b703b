/**
 * Every `code` an error of the SDK can carry, what it means and whether trying again later can
 * succeed. {@link ShopifyIngestError}'s constructor accepts only these, so a new condition is added
 * here first; docs/errors.md lists the same table (a test keeps them equal).
 *
 * `retryable`: `true` when the condition passes by itself (network, Shopify or database busy),
 * `false` when something must change first (configuration, credentials, input), `'varies'` when
 * the error's own `retryable` says (e.g. HTTP statuses: 5xx and 408 are, other 4xx are not).
 */
const CODES = {
  // Configuration and arguments
  CONFIG_INVALID: { retryable: false, meaning: 'Invalid or missing configuration or option; the message names it.' },
  SOURCE_UNAVAILABLE: { retryable: false, meaning: 'The resource cannot be listed from the requested source (Shopify\'s REST Admin API has no listing for it): use source \'graphql\'.' },
  INVALID_ARGUMENT: { retryable: false, meaning: 'A function was called with an argument of the wrong kind (a programming error).' },
  SERVICE_STOPPING: { retryable: false, meaning: 'The ingestion service is shutting down and takes no new work.' },
  CLI_USAGE: { retryable: false, meaning: 'The command line was not understood (unknown command or option, missing argument); nothing ran. CLI exit code 2.' },
  CLI_INTERRUPTED: { retryable: true, meaning: 'The CLI was interrupted (Ctrl-C, SIGTERM); the sync stopped cleanly and resumes next time.' },
  SECRETS_IN_LOGS: { retryable: false, meaning: 'A log-safety check found a configured secret in log output.' },

  // Tenants and credentials
  TENANT_REQUIRED: { retryable: false, meaning: 'A tenant id was missing or empty.' },
  TENANT_NOT_FOUND: { retryable: false, meaning: 'No tenant with this id (add it with addTenant).' },
  TENANT_INACTIVE: { retryable: false, meaning: 'The tenant is inactive (uninstalled or redacted); add it again to resume.' },
  TENANT_MISMATCH: { retryable: false, meaning: 'A row or request named another tenant than the one it was made for (nothing was written).' },
  TENANT_SHOP_IN_USE: { retryable: false, meaning: 'The shop is already connected to another tenant id.' },
  TENANT_CREDENTIALS_MISSING: { retryable: false, meaning: 'The tenant has no stored credentials (removed, or erased by shop/redact).' },
  TENANT_CREDENTIALS_INVALID: { retryable: false, meaning: 'Shopify refused the credentials given to addTenant/updateTenant.' },
  TENANT_CREDENTIALS_UNVERIFIED: { retryable: true, meaning: 'addTenant could not check the credentials: Shopify was unreachable or failed.' },
  TENANT_NEEDS_REAUTH: { retryable: false, meaning: 'The tenant\'s token cannot be renewed (refresh token expired or revoked, app uninstalled, secret rotated); the merchant must re-authorise (updateTenant).' },
  TENANT_SHOP_CHANGED: { retryable: true, meaning: 'The tenant was moved to another shop (addTenant/updateTenant with a new shopDomain) after this client was made for the old one; nothing was sent. The service\'s next client of the tenant (getClient, the next run) is the new shop\'s.' },
  TOKEN_RENEWAL_FAILED: { retryable: true, meaning: 'Renewing an expiring token failed for a passing reason (network, Shopify, another process holding the renewal).' },
  OAUTH_INVALID_CLIENT: { retryable: false, meaning: 'Shopify\'s token endpoint refused the app\'s client id or secret.' },
  OAUTH_INVALID_GRANT: { retryable: false, meaning: 'Shopify\'s token endpoint refused the grant (refresh token, session token or client credentials).' },
  OAUTH_RESPONSE_INVALID: { retryable: true, meaning: 'The token endpoint answered something that is not a usable token.' },
  OAUTH_UNAVAILABLE: { retryable: true, meaning: 'The token endpoint was unreachable, timed out or answered 5xx.' },

  // Shopify API
  SHOPIFY_NETWORK_ERROR: { retryable: true, meaning: 'The request did not reach Shopify or its answer was cut (after the client\'s own retries).' },
  SHOPIFY_TIMEOUT: { retryable: true, meaning: 'Shopify did not answer within the client\'s timeout (after its retries).' },
  SHOPIFY_THROTTLED: { retryable: true, meaning: 'Shopify kept throttling (HTTP 429 or GraphQL THROTTLED) beyond the client\'s retry budget.' },
  SHOPIFY_BAD_RESPONSE: { retryable: true, meaning: 'Shopify answered 2xx with a body that is not what the request returns (not JSON, no list key, no pageInfo, a GraphQL answer without data or errors); never read as an empty page.' },
  SHOP_FROZEN: { retryable: false, meaning: 'Shopify answered 402: the shop is frozen (unpaid) until its owner acts.' },
  SHOP_LOCKED: { retryable: false, meaning: 'Shopify answered 423: the shop is locked until its owner acts.' },
  SHOPIFY_ACCESS_DENIED: { retryable: false, meaning: 'Shopify denied access: the app lacks a scope (details.missingScopes) or protected-customer-data approval.' },
  'SHOPIFY_HTTP_<status>': { retryable: 'varies', meaning: 'Shopify answered this HTTP status (e.g. SHOPIFY_HTTP_401, SHOPIFY_HTTP_404); 5xx and 408 are retryable, other 4xx are not.' },
  GRAPHQL_ERROR: { retryable: 'varies', meaning: 'A GraphQL response carried errors (details hold Shopify\'s errors and any partial data). Retryable when Shopify reported INTERNAL_SERVER_ERROR (queries are retried by the client; mutations are not).' },
  GRAPHQL_MAX_COST_EXCEEDED: { retryable: false, meaning: 'A GraphQL query costs more than Shopify\'s single-query limit (the importer halves its page and retries).' },
  BULK_OPERATION_INVALID: { retryable: false, meaning: 'Shopify refused a bulk query, or its mutation returned no operation.' },
  BULK_OPERATION_LIMIT: { retryable: true, meaning: 'The shop stayed at Shopify\'s limit of concurrent bulk operations for longer than the wait allowed.' },
  BULK_OPERATION_NOT_FOUND: { retryable: false, meaning: 'Shopify does not know the bulk operation being polled.' },
  BULK_OPERATION_FAILED: { retryable: true, meaning: 'A bulk operation failed on every attempt, down to the smallest window; the next run starts that window with a new operation.' },
  BULK_FILE_EXPIRED: { retryable: true, meaning: 'A bulk operation\'s result file is no longer available; the next run starts a new operation.' },
  BULK_FILE_UNREADABLE: { retryable: true, meaning: 'A bulk operation\'s result file could not be downloaded after retries.' },
  BULK_FILE_MALFORMED: { retryable: false, meaning: 'A line of a bulk result file is not JSON or not the object it should be.' },
  BULK_FILE_INCOMPLETE: { retryable: true, meaning: 'A bulk result file held fewer records than the operation counted; nothing was deleted.' },

  // Import
  IMPORT_FAILED: { retryable: true, meaning: 'A sync run failed for a reason without its own code; `cause` holds it. The checkpoint keeps the last committed position.' },
  IMPORT_ABORTED: { retryable: true, meaning: 'The run\'s signal fired; it stopped at the last committed batch and resumes next time.' },
  IMPORT_ALREADY_RUNNING: { retryable: true, meaning: 'Another run of this tenant and resource holds the run lock (details.runningRunId).' },
  IMPORT_LOCK_LOST: { retryable: true, meaning: 'The run could not renew its lock within its TTL and another run took it, or its tenant was deactivated by another process (app/uninstalled); this one stopped.' },
  LISTING_INCOMPLETE: { retryable: true, meaning: 'A listing ended with fewer records than Shopify counts, or before records Shopify still lists; the run failed and deleted nothing.' },
  RECONCILE_INCOMPLETE: { retryable: true, meaning: 'An id reconciliation could not prove its listing complete; nothing was marked deleted.' },
  TRANSFORM_FAILED: { retryable: false, meaning: 'A record could not be turned into rows (malformed field, too deep); it is recorded in shopify_sync_failures.' },

  // Database
  STORE_FAILED: { retryable: 'varies', meaning: 'A database operation failed; `cause` holds the driver\'s error. Retryable unless PostgreSQL reported a condition that does not pass by itself (a constraint violation, a missing table).' },
  STORE_INVALID_INPUT: { retryable: false, meaning: 'The store was given a value it cannot write (e.g. an invalid date).' },
  STORE_LEASE_FAILED: { retryable: true, meaning: 'A scheduler lease could not be read or written.' },
  ORPHAN_ROWS: { retryable: false, meaning: 'Child rows (variants, line items, events) came without their parent in the batch.' },
  DATABASE_UNREACHABLE: { retryable: true, meaning: 'The database could not be reached at start-up (DATABASE_URL, network, credentials).' },
  DATABASE_NOT_MIGRATED: { retryable: false, meaning: 'The SDK\'s tables are missing: run `npx shopify-ingest migrate` or `initialize()` with autoMigrate.' },
  DATABASE_SCHEMA_MISMATCH: { retryable: false, meaning: 'The SDK\'s tables differ from what this version expects (a migration is missing or was changed).' },
  DATABASE_IN_USE: { retryable: true, meaning: 'The embedded database\'s folder is open in another process (one process at a time); use PostgreSQL to share it.' },
  DATABASE_ERROR: { retryable: false, meaning: 'Another database error at start-up; `cause` holds it.' },
  MIGRATION_FAILED: { retryable: false, meaning: 'A migration could not be applied; nothing of it was kept.' },
  MIGRATION_CHECKSUM_MISMATCH: { retryable: false, meaning: 'An applied migration\'s file changed since it ran.' },

  // Encryption
  DECRYPT_FAILED: { retryable: false, meaning: 'A value could not be decrypted (unknown key id, tampered or truncated ciphertext).' },
  ENCRYPTION_KEY_MISMATCH: { retryable: false, meaning: 'The configured key ring cannot open the stored tenants\' secrets (wrong ENCRYPTION_KEY); nothing was re-keyed.' },

  // Webhooks
  WEBHOOK_CONFIG: { retryable: false, meaning: 'The webhook service is not configured (no secret, no store).' },
  WEBHOOK_RAW_BODY_UNAVAILABLE: { retryable: false, meaning: 'The route got a parsed body instead of the raw bytes (a JSON parser runs before it): the HMAC cannot be checked.' },
  WEBHOOK_BODY_TOO_LARGE: { retryable: false, meaning: 'A delivery\'s body passed the body limit (2 MiB by default); answered 413.' },
  WEBHOOK_REQUEST_ABORTED: { retryable: true, meaning: 'The request closed before its body was complete.' },
  WEBHOOK_REPLAYED: { retryable: false, meaning: 'A delivery\'s X-Shopify-Webhook-Id was already received for another shop: a captured delivery replayed under another shop\'s X-Shopify-Shop-Domain (the HMAC does not cover headers); answered 400, nothing stored.' },
  WEBHOOK_PAYLOAD_INVALID: { retryable: false, meaning: 'A verified delivery\'s body lacks what its topic needs (e.g. the record id).' },
  WEBHOOK_REFETCH_UNAVAILABLE: { retryable: false, meaning: 'A topic needs the record fetched from Shopify, but no client was given to do it.' },
  WEBHOOK_PROCESSING_FAILED: { retryable: true, meaning: 'Applying a stored delivery failed; it stays in the inbox and is retried, then dead-lettered.' },
  WEBHOOK_HANDLER_FAILED: { retryable: false, meaning: 'One or more of the app\'s own webhook handlers threw (`errors` holds them, `event` the delivery).' },
  WEBHOOK_NOT_FOUND: { retryable: false, meaning: 'replayWebhook: no inbox row with this id.' },
  WEBHOOK_BUSY: { retryable: true, meaning: 'replayWebhook: the delivery is being processed right now.' },
  WEBHOOK_BODY_NOT_RETAINED: { retryable: false, meaning: 'replayWebhook: the delivery was processed and its body dropped (keepProcessedBodies keeps them).' },

  // Scheduler
  SCHEDULER_INVALID_SCHEDULE: { retryable: false, meaning: 'A job\'s cron expression is invalid.' },
  SCHEDULER_INVALID_TIMEZONE: { retryable: false, meaning: 'A job\'s time zone is not an IANA zone.' },
  SCHEDULER_JOB_NOT_FOUND: { retryable: false, meaning: 'No scheduled job with this id.' },
  SCHEDULER_JOB_BUSY: { retryable: true, meaning: 'The job is running already, here or on another instance.' },
  SCHEDULER_STOPPED: { retryable: false, meaning: 'The scheduler is stopped.' },

  // Simulator (shopify-ingest/testing)
  SIMULATOR_ERROR: { retryable: false, meaning: 'The simulator was misused (unknown shop, bad fault specification).' },
} as const satisfies Record<string, ErrorCodeInfo>;

/** What {@link ERROR_CODES} says about one code. */
export interface ErrorCodeInfo {
  /** Whether trying again later can succeed without a change; `'varies'`: the error's own `retryable` says. */
  readonly retryable: boolean | 'varies';
  /** What happened, in one sentence. */
  readonly meaning: string;
}

/** An entry of {@link ERROR_CODES}: the codes, with `SHOPIFY_HTTP_<status>` standing for every HTTP status. */
export type ErrorCodeEntry = keyof typeof CODES;

/** Every code with its meaning and retryability (docs/errors.md is the same table). */
export const ERROR_CODES: Readonly<Record<ErrorCodeEntry, ErrorCodeInfo>> = CODES;

/** A code of {@link ERROR_CODES}; HTTP statuses are `SHOPIFY_HTTP_<status>`. */
export type ErrorCode = Exclude<ErrorCodeEntry, 'SHOPIFY_HTTP_<status>'> | `SHOPIFY_HTTP_${number}`;
