import type { ErrorCode } from './error-codes.js';

/**
 * One error family for the whole SDK. Every error has a stable `code` a caller can switch on,
 * an optional `cause`, and a message that starts with `[shopify-ingest]`.
 *
 * @example
 * ```ts
 * try { await client.get('/orders.json') }
 * catch (e) { if (e instanceof ShopifyApiError && e.status === 401) reconnect(e.shop) }
 * ```
 */
export class ShopifyIngestError extends Error {
  /** Stable, machine-readable code, e.g. `CONFIG_INVALID`, `SHOPIFY_HTTP_401` (docs/errors.md lists them all). */
  readonly code: ErrorCode;
  /** Extra context (never secrets or PII). */
  readonly details: Record<string, unknown>;
  /** Trying the same thing again later may succeed (a transient condition, not a bad input or a missing right). */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown>; retryable?: boolean } = {}) {
    super(message.startsWith('[shopify-ingest]') ? message : `[shopify-ingest] ${message}`, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
    this.retryable = options.retryable ?? false;
  }
}

/** Invalid or missing configuration, raised at start-up rather than on first use. */
export class ConfigError extends ShopifyIngestError {
  /**
   * Raised by the SDK; applications catch it.
   * @internal
   */
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('CONFIG_INVALID', message, options);
  }
}

/** An operation that needs a tenant id was called without one, or for a tenant that does not exist. */
export class TenantError extends ShopifyIngestError {
  /** The tenant concerned, when there is one. */
  readonly tenantId: string | undefined;
  /**
   * Raised by the SDK; applications catch it.
   * @internal
   */
  constructor(code: 'TENANT_REQUIRED' | 'TENANT_NOT_FOUND' | 'TENANT_INACTIVE', message: string, tenantId?: string) {
    super(code, message, { details: { tenantId } });
    this.tenantId = tenantId;
  }
}

/** A database operation of the SDK failed (wraps the driver's error as `cause`). */
export class StoreError extends ShopifyIngestError {
  /**
   * Raised by the SDK; applications catch it.
   * @internal
   */
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown>; code?: ErrorCode; retryable?: boolean } = {}) {
    super(options.code ?? 'STORE_FAILED', message, options);
  }
}

/** Throws a {@link TenantError} unless `tenantId` is a non-empty string. */
export function assertTenantId(tenantId: unknown): asserts tenantId is string {
  if (typeof tenantId !== 'string' || tenantId.trim() === '') {
    throw new TenantError('TENANT_REQUIRED', 'a tenant id (non-empty string) is required for every read and write');
  }
}

/** The code of an SDK error, or undefined for anything else (a driver's or the runtime's error). */
export function codeOf(error: unknown): ErrorCode | undefined {
  return error instanceof ShopifyIngestError ? error.code : undefined;
}
