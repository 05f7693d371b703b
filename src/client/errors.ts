import { ShopifyIngestError } from '../errors.js';
import type { ErrorCode } from '../error-codes.js';

/**
 * Stable codes of {@link ShopifyApiError}. Switch on `code` rather than parsing messages.
 *
 * - `SHOPIFY_HTTP_401` / `_403` / `_404` / `_422`: not retried (bad token, missing scope, gone, invalid input).
 * - `SHOP_FROZEN` (402) and `SHOP_LOCKED` (423): the shop cannot be served until its owner acts; not retried.
 * - `SHOPIFY_THROTTLED`: 429s kept coming after the configured number of waits (retryable later; the
 *   client does not retry it itself).
 * - `SHOPIFY_HTTP_5xx`, `SHOPIFY_NETWORK_ERROR`, `SHOPIFY_TIMEOUT`, `SHOPIFY_BAD_RESPONSE`: retried; the code
 *   surfaces once the retries are exhausted (at once for a POST, PATCH or GraphQL mutation, which
 *   Shopify may have applied).
 */
export type ShopifyApiErrorCode =
  | 'SHOPIFY_HTTP_401'
  | 'SHOPIFY_HTTP_403'
  | 'SHOPIFY_HTTP_404'
  | 'SHOPIFY_HTTP_422'
  | 'SHOP_FROZEN'
  | 'SHOP_LOCKED'
  | 'SHOPIFY_THROTTLED'
  | 'SHOPIFY_NETWORK_ERROR'
  | 'SHOPIFY_TIMEOUT'
  | 'SHOPIFY_BAD_RESPONSE'
  | `SHOPIFY_HTTP_${number}`;

/** What {@link ShopifyApiError} knows about the failed call. */
export interface ShopifyApiErrorInit {
  /** Stable error code. */
  code: ShopifyApiErrorCode;
  /** HTTP status, or `undefined` when no response arrived (network error, timeout). */
  status?: number;
  /** The shop. */
  shop: string;
  /** HTTP method. */
  method: string;
  /** URL path (no host, no query string, never the token). */
  path: string;
  /** Where an unanswered request went, when not the shop itself (a `baseUrl`): named in the message. */
  origin?: string;
  /** Shopify's `X-Request-Id`: quote it to Shopify support. */
  requestId?: string;
  /** Milliseconds Shopify asked to wait (`Retry-After`), when it did. */
  retryAfter?: number;
  /** Attempts made, retries included. */
  attempts?: number;
  /** Whether the client treats this failure as transient. */
  retryable: boolean;
  /** Short reason, e.g. Shopify's `errors` text or the network error message. */
  reason?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A call to the Shopify Admin API failed. Carries what a caller needs to decide what to do next.
 * The message names the method and URL path, never the access token.
 *
 * @example
 * ```ts
 * try {
 *   await client.get('/orders/1.json');
 * } catch (e) {
 *   if (e instanceof ShopifyApiError && e.code === 'SHOPIFY_HTTP_404') console.log('gone', e.requestId);
 *   else throw e;
 * }
 * ```
 */
export class ShopifyApiError extends ShopifyIngestError {
  /** HTTP status; undefined for network errors and timeouts. */
  readonly status: number | undefined;
  /** The shop. */
  readonly shop: string;
  /** HTTP method. */
  readonly method: string;
  /** Request path (without the API prefix and query secrets). */
  readonly path: string;
  /** Shopify's `X-Request-Id`, for support tickets. */
  readonly requestId: string | undefined;
  /** Milliseconds from `Retry-After`, when the response had one. */
  readonly retryAfter: number | undefined;
  /** Attempts made before giving up (1 when not retried). */
  readonly attempts: number;
  /** Whether retrying can succeed (429, 5xx, network errors) or not (4xx). */
  override readonly retryable: boolean;
  /** Short reason (Shopify's `errors` text or the network error message), without the prefix. */
  readonly reason: string | undefined;

  /**
   * The SDK raises these; applications catch them.
   * @internal
   */
  constructor(init: ShopifyApiErrorInit) {
    const attempts = init.attempts ?? 1;
    const what = init.status !== undefined ? `HTTP ${init.status}` : init.code === 'SHOPIFY_TIMEOUT' ? 'timed out' : 'network error';
    const tail = attempts > 1 ? ` after ${attempts} attempts` : '';
    const reason = init.reason ? `: ${truncate(init.reason, 300)}` : '';
    const rid = init.requestId ? ` (request id ${init.requestId})` : '';
    super(init.code, `${init.method} ${init.path} on ${init.shop}${init.origin ? ` (at ${init.origin})` : ''} failed with ${what}${tail}${reason}${rid}`, {
      cause: init.cause,
      details: {
        status: init.status,
        shop: init.shop,
        method: init.method,
        path: init.path,
        requestId: init.requestId,
        retryAfter: init.retryAfter,
        attempts,
      },
    });
    this.status = init.status;
    this.shop = init.shop;
    this.method = init.method;
    this.path = init.path;
    this.requestId = init.requestId;
    this.retryAfter = init.retryAfter;
    this.attempts = attempts;
    this.retryable = init.retryable;
    this.reason = init.reason;
  }

  /** The same error, recording how many attempts were made in total. */
  withAttempts(attempts: number): ShopifyApiError {
    if (attempts === this.attempts) return this;
    return new ShopifyApiError({
      code: this.code as ShopifyApiErrorCode,
      status: this.status,
      shop: this.shop,
      method: this.method,
      path: this.path,
      requestId: this.requestId,
      retryAfter: this.retryAfter,
      attempts,
      retryable: this.retryable,
      reason: this.reason,
      cause: this.cause,
    });
  }
}

/** One entry of a GraphQL `errors` array. */
export interface GraphqlErrorEntry {
  /** What went wrong. */
  message: string;
  /** Machine-readable details. */
  extensions?: {
    /** Error code (`THROTTLED`, `MAX_COST_EXCEEDED`, ...). */
    code?: string;
    [key: string]: unknown;
  };
  /** Where in the response. */
  path?: Array<string | number>;
  /** Where in the query. */
  locations?: Array<{
    /** Line (1-based). */
    line: number;
    /** Column (1-based). */
    column: number;
  }>;
}

/**
 * A GraphQL Admin API response carried `errors` (other than throttling, which the client waits out).
 * `data` holds whatever partial data came back.
 *
 * @example
 * ```ts
 * try { await client.graphql('{ shop { nme } }') }
 * catch (e) { if (e instanceof GraphqlError) console.log(e.errors[0].message) }
 * ```
 */
export class GraphqlError extends ShopifyIngestError {
  /** The `errors` array as returned. */
  readonly errors: GraphqlErrorEntry[];
  /** Partial data returned with the errors, if any. */
  readonly data: unknown;
  /** The shop. */
  readonly shop: string;
  /** Shopify's `X-Request-Id`. */
  readonly requestId: string | undefined;

  /**
   * The SDK raises these; applications catch them.
   * @internal
   */
  constructor(init: { shop: string; errors: GraphqlErrorEntry[]; data?: unknown; requestId?: string; code?: ErrorCode; retryable?: boolean }) {
    const first = init.errors[0];
    const summary = init.errors.map((e) => e.message).join('; ');
    super(init.code ?? (first?.extensions?.code === 'MAX_COST_EXCEEDED' ? 'GRAPHQL_MAX_COST_EXCEEDED' : 'GRAPHQL_ERROR'),
      `POST graphql.json on ${init.shop} returned errors: ${truncate(summary, 500)}${init.requestId ? ` (request id ${init.requestId})` : ''}`,
      { retryable: init.retryable, details: { shop: init.shop, requestId: init.requestId, codes: init.errors.map((e) => e.extensions?.code).filter(Boolean) } });
    this.errors = init.errors;
    this.data = init.data;
    this.shop = init.shop;
    this.requestId = init.requestId;
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
