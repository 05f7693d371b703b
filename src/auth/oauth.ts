/**
 * Shopify's token endpoint, `POST https://{shop}/admin/oauth/access_token`, for the three grants an
 * app uses without a browser:
 * - `refresh_token`: an expiring offline token's refresh token for a new pair (Shopify replaces the
 *   refresh token on every use and, since 2026-08-28, keeps the previous one valid until the new
 *   one is used). https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
 * - token exchange: an embedded app's session token for an (expiring) offline token.
 *   https://shopify.dev/docs/apps/build/authentication-authorization/get-access-tokens/exchange-tokens
 * - `client_credentials`: a Dev Dashboard custom app's own short-lived token (no refresh token).
 *   https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/client-credentials
 */
import { ShopifyIngestError } from '../errors.js';

/** A token set as the endpoint returns it, with absolute expiry times (computed from this process's clock). */
export interface TokenSet {
  accessToken: string;
  /** When the access token stops working; null for a non-expiring token. */
  accessTokenExpiresAt: Date | null;
  refreshToken: string | null;
  refreshTokenExpiresAt: Date | null;
  /** Granted scopes, comma-separated, as Shopify lists them. */
  scope: string | null;
}

/** The grant to ask for. */
export type TokenGrant =
  | { type: 'refresh_token'; refreshToken: string }
  | { type: 'token_exchange'; sessionToken: string; expiring?: boolean }
  | { type: 'client_credentials' };

/** Codes of {@link OAuthError}. */
export type OAuthErrorCode =
  /** The refresh token (or session token) is expired, revoked or already rotated away: the merchant must authorise again. */
  | 'OAUTH_INVALID_GRANT'
  /** The client id or secret is wrong (a secret rotated away, an uninstalled app): authorise again or fix the configuration. */
  | 'OAUTH_INVALID_CLIENT'
  /** The endpoint answered something that is not a token (malformed, or already expired): retryable. */
  | 'OAUTH_RESPONSE_INVALID'
  /** The endpoint is unreachable, timed out or answered 5xx: retryable. */
  | 'OAUTH_UNAVAILABLE';

/** A token request that failed. `retryable` tells a passing condition from one that needs the merchant. */
export class OAuthError extends ShopifyIngestError {
  constructor(code: OAuthErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown>; status?: number } = {}) {
    super(code, message, { cause: options.cause, details: { ...options.details, status: options.status }, retryable: code === 'OAUTH_RESPONSE_INVALID' || code === 'OAUTH_UNAVAILABLE' });
  }
}

/** Options of {@link requestToken}. */
export interface TokenRequestOptions {
  shopDomain: string;
  clientId: string;
  clientSecret: string;
  /** Origin instead of `https://{shopDomain}` (the simulator's shop `baseUrl`). */
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
  now?: () => number;
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
const OFFLINE_TOKEN = 'urn:shopify:params:oauth:token-type:offline-access-token';

function bodyOf(grant: TokenGrant, clientId: string, clientSecret: string): Record<string, string> {
  const base = { client_id: clientId, client_secret: clientSecret };
  switch (grant.type) {
    case 'refresh_token':
      return { ...base, grant_type: 'refresh_token', refresh_token: grant.refreshToken };
    case 'token_exchange':
      return {
        ...base, grant_type: TOKEN_EXCHANGE, subject_token: grant.sessionToken, subject_token_type: ID_TOKEN,
        requested_token_type: OFFLINE_TOKEN, ...(grant.expiring === false ? {} : { expiring: '1' }),
      };
    case 'client_credentials':
      return { ...base, grant_type: 'client_credentials' };
  }
}

/**
 * Asks the token endpoint for a token. Never logs or returns secrets in errors.
 *
 * @example
 * ```ts
 * const tokens = await requestToken({ type: 'refresh_token', refreshToken }, { shopDomain, clientId, clientSecret });
 * tokens.accessTokenExpiresAt; // about an hour from now
 * ```
 */
export async function requestToken(grant: TokenGrant, options: TokenRequestOptions): Promise<TokenSet> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const origin = (options.baseUrl ?? `https://${options.shopDomain}`).replace(/\/+$/, '');
  const url = `${origin}/admin/oauth/access_token`;
  const details = { shop: options.shopDomain, grant: grant.type };
  const sentAt = now();
  let response: Response;
  let text: string;
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(bodyOf(grant, options.clientId, options.clientSecret)),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    text = await response.text();
  } catch (cause) {
    throw new OAuthError('OAUTH_UNAVAILABLE', `token request (${grant.type}) to ${options.shopDomain} got no answer: ${(cause as Error)?.message ?? cause}`, { cause, details });
  }
  let body: Record<string, unknown> | null = null;
  try { body = JSON.parse(text) as Record<string, unknown>; } catch { /* not JSON */ }
  if (response.status >= 500 || response.status === 429 || response.status === 408) {
    throw new OAuthError('OAUTH_UNAVAILABLE', `token request (${grant.type}) to ${options.shopDomain} failed with HTTP ${response.status}`, { details, status: response.status });
  }
  if (response.status >= 400) {
    const error = typeof body?.error === 'string' ? body.error : '';
    const description = typeof body?.error_description === 'string' ? `: ${body.error_description}` : typeof body?.errors === 'string' ? `: ${body.errors}` : '';
    // https://www.rfc-editor.org/rfc/rfc6749#section-5.2: invalid_client is the client's credentials, the rest the grant's.
    const code: OAuthErrorCode = error === 'invalid_client' || response.status === 401 ? 'OAUTH_INVALID_CLIENT' : 'OAUTH_INVALID_GRANT';
    throw new OAuthError(code, `Shopify refused the token request (${grant.type}) for ${options.shopDomain} with HTTP ${response.status}${error ? ` ${error}` : ''}${description}`, { details: { ...details, error }, status: response.status });
  }
  const accessToken = body?.access_token;
  if (!body || typeof accessToken !== 'string' || accessToken.length === 0) {
    throw new OAuthError('OAUTH_RESPONSE_INVALID', `the token response (${grant.type}) for ${options.shopDomain} has no access_token`, { details, status: response.status });
  }
  const seconds = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : null);
  const expiresIn = seconds(body.expires_in);
  const refreshExpiresIn = seconds(body.refresh_token_expires_in);
  const refreshToken = typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : null;
  if (body.expires_in !== undefined && expiresIn === null) {
    throw new OAuthError('OAUTH_RESPONSE_INVALID', `the token response (${grant.type}) for ${options.shopDomain} has an unreadable expires_in`, { details });
  }
  // Expiry from the moment the request was sent: Shopify counts from when it answered, so the local
  // figure errs on the early side, whatever the two clocks say.
  return {
    accessToken,
    accessTokenExpiresAt: expiresIn === null ? null : new Date(sentAt + expiresIn * 1000),
    refreshToken,
    refreshTokenExpiresAt: refreshExpiresIn === null ? null : new Date(sentAt + refreshExpiresIn * 1000),
    scope: typeof body.scope === 'string' ? body.scope : null,
  };
}
