/**
 * Where a client gets its access token: a fixed string, or a source that renews expiring tokens.
 * The client asks before every request and, on a 401, once more after telling the source which
 * token Shopify refused (then retries the request once).
 */

/**
 * A renewable access token.
 *
 * @example
 * ```ts
 * const client = createShopifyClient({ shopDomain, accessToken: service.tokenSource('tenant-123') });
 * ```
 */
export interface AccessTokenSource {
  /** A token to send now; renewed first when it expires within the renewal margin. */
  getToken(signal?: AbortSignal): Promise<string>;
  /**
   * Shopify refused `rejected` (HTTP 401): a different token to retry the request with once, or null
   * when there is none (the request then fails with its 401).
   */
  onUnauthorized(rejected: string, signal?: AbortSignal): Promise<string | null>;
}

/** True for an {@link AccessTokenSource} (as opposed to a plain token string). */
export function isTokenSource(value: unknown): value is AccessTokenSource {
  return typeof value === 'object' && value !== null && typeof (value as AccessTokenSource).getToken === 'function' && typeof (value as AccessTokenSource).onUnauthorized === 'function';
}
