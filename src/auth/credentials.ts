/**
 * What `addTenant` accepts as a store's credentials, and how each kind becomes stored tokens.
 *
 * | kind | fits | what the SDK stores and does |
 * |---|---|---|
 * | static token `{ accessToken }` | legacy admin-created custom apps | the token, as is |
 * | expiring offline token `{ accessToken, refreshToken, expiresIn/expiresAt, ... }` | public apps after OAuth (authorization code grant with `expiring=1`) | both tokens and expiries (an expired access token renewed first); renews itself |
 * | session token `{ sessionToken }` | embedded apps (App Bridge's `idToken()`) | exchanges it for an expiring offline token; renews itself |
 * | client credentials `{ clientCredentials: true }` | Dev Dashboard custom apps installed on your own stores | requests its own short-lived tokens, again when they expire |
 *
 * https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
 */
import { ConfigError } from '../errors.js';
import { verifySessionToken } from './session-token.js';
import { requestToken, type TokenSet } from './oauth.js';
import type { AppCredentials } from './stored-token-source.js';
import type { TokenKind } from '../store/types.js';

/**
 * A store's credentials, one of four kinds (see the module comment): exactly one of `accessToken`,
 * `sessionToken` or `clientCredentials`.
 *
 * @example
 * ```ts
 * await service.addTenant('t1', { shopDomain: 'acme.myshopify.com', accessToken: 'shpat_...' });              // static
 * await service.addTenant('t2', { shopDomain, accessToken, refreshToken, expiresIn: 3600, refreshTokenExpiresIn: 7776000 }); // expiring
 * await service.addTenant('t3', { shopDomain, sessionToken: idToken });                                        // token exchange
 * await service.addTenant('t4', { shopDomain, clientCredentials: true });                                      // client credentials
 * ```
 */
export interface TenantCredentials {
  /** The shop, `acme.myshopify.com` (`acme` and `https://acme.myshopify.com/` are normalised). */
  shopDomain: string;
  /** A static token, or the access token of an expiring offline token (with `refreshToken`). */
  accessToken?: string;
  /** The refresh token of an expiring offline token. */
  refreshToken?: string;
  /** When the access token expires (or `expiresIn`, seconds from now). */
  expiresAt?: Date | string;
  /** Seconds until the access token expires (Shopify's `expires_in`). */
  expiresIn?: number;
  /** When the refresh token expires (or `refreshTokenExpiresIn`, seconds from now). */
  refreshTokenExpiresAt?: Date | string;
  /** Seconds until the refresh token expires (Shopify's `refresh_token_expires_in`). */
  refreshTokenExpiresIn?: number;
  /** An embedded app's session token (App Bridge `idToken()`), exchanged for an expiring offline token. */
  sessionToken?: string;
  /** Request tokens with the client credentials grant: with the configured app (`true`) or this custom app's own id and secret. */
  clientCredentials?: true | {
    /** The custom app's client id. */
    clientId: string;
    /** The custom app's client secret (stored encrypted). */
    clientSecret: string;
  };
  /** The app (client id) these credentials belong to, when the service serves several apps; default the configured app. */
  clientId?: string;
  /** Admin API version for this store (default SHOPIFY_API_VERSION). */
  apiVersion?: string;
  /** Scopes granted, when the host knows them (comma-separated). */
  scope?: string;
}

/** What to store for a tenant, from its credentials (secrets still in plain text: the caller encrypts). */
export interface ObtainedCredentials {
  kind: TokenKind;
  tokens: TokenSet;
  /** The app the credentials belong to (null: the default app). */
  clientId: string | null;
  /** A custom app's own client secret (client credentials with explicit id and secret). */
  clientSecret: string | null;
}

function dateOf(names: [at: string, inSeconds: string], at: Date | string | undefined, inSeconds: number | undefined, now: number): Date | null {
  if (at !== undefined) {
    const d = at instanceof Date ? new Date(at.getTime()) : new Date(at);
    if (Number.isNaN(d.getTime())) throw new ConfigError(`credentials: ${names[0]} is not a date`);
    return d;
  }
  if (inSeconds !== undefined) {
    if (typeof inSeconds !== 'number' || !Number.isFinite(inSeconds)) throw new ConfigError(`credentials: ${names[1]} must be a number of seconds`);
    return new Date(now + inSeconds * 1000);
  }
  return null;
}

/** Which kind of credentials these are; throws a `ConfigError` naming the problem for anything else. */
export function credentialKind(c: TenantCredentials, label: string): 'static' | 'expiring' | 'session_token' | 'client_credentials' {
  if (!c || typeof c !== 'object') throw new ConfigError(`${label}: credentials are required`);
  if (typeof c.shopDomain !== 'string' || c.shopDomain.trim() === '') throw new ConfigError(`${label}: shopDomain is required`);
  const given = [c.accessToken !== undefined, c.sessionToken !== undefined, c.clientCredentials !== undefined].filter(Boolean).length;
  if (given !== 1) throw new ConfigError(`${label}: give exactly one of accessToken, sessionToken or clientCredentials (an access token is required for a static token)`);
  if (c.accessToken !== undefined) {
    if (typeof c.accessToken !== 'string' || c.accessToken.trim() === '') throw new ConfigError(`${label}: an access token is required`);
    if (c.refreshToken !== undefined) {
      if (typeof c.refreshToken !== 'string' || c.refreshToken.trim() === '') throw new ConfigError(`${label}: refreshToken must be a non-empty string`);
      if (c.expiresAt === undefined && c.expiresIn === undefined) throw new ConfigError(`${label}: an expiring token needs expiresAt or expiresIn`);
      return 'expiring';
    }
    return 'static';
  }
  if (c.sessionToken !== undefined) {
    if (typeof c.sessionToken !== 'string' || c.sessionToken.trim() === '') throw new ConfigError(`${label}: sessionToken must be a non-empty string`);
    return 'session_token';
  }
  const cc = c.clientCredentials;
  if (cc !== true && (!cc || typeof cc.clientId !== 'string' || typeof cc.clientSecret !== 'string' || !cc.clientId || !cc.clientSecret)) {
    throw new ConfigError(`${label}: clientCredentials must be true or { clientId, clientSecret }`);
  }
  return 'client_credentials';
}

/**
 * Turns credentials into tokens to store: expiring and static ones as given, a session token by
 * token exchange, client credentials by the client credentials grant.
 */
export async function obtainCredentials(c: TenantCredentials, shopDomain: string, input: {
  label: string;
  resolveApp(clientId: string | null): AppCredentials;
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
}): Promise<ObtainedCredentials> {
  const now = input.now ?? Date.now;
  const kind = credentialKind(c, input.label);
  const clientId = c.clientId ?? null;
  if (kind === 'static') {
    return { kind: 'static', clientId, clientSecret: null, tokens: { accessToken: c.accessToken!, accessTokenExpiresAt: null, refreshToken: null, refreshTokenExpiresAt: null, scope: c.scope ?? null } };
  }
  if (kind === 'expiring') {
    const given: TokenSet = {
      accessToken: c.accessToken!, accessTokenExpiresAt: dateOf(['expiresAt', 'expiresIn'], c.expiresAt, c.expiresIn, now()),
      refreshToken: c.refreshToken!, refreshTokenExpiresAt: dateOf(['refreshTokenExpiresAt', 'refreshTokenExpiresIn'], c.refreshTokenExpiresAt, c.refreshTokenExpiresIn, now()), scope: c.scope ?? null,
    };
    // An access token that has expired is renewed first rather than checked and refused: tokens
    // handed over from another store (a session storage being migrated) are often past their hour
    // while their refresh token is good for weeks. Shopify keeps the given refresh token valid until
    // the rotated one is used, so nothing is lost if adding the tenant fails afterwards.
    if (given.accessTokenExpiresAt !== null && given.accessTokenExpiresAt.getTime() <= now()) {
      const app = input.resolveApp(clientId);
      const renewed = await withSecrets(app.clientSecrets, (clientSecret) => requestToken({ type: 'refresh_token', refreshToken: given.refreshToken! }, { shopDomain, clientId: app.clientId, clientSecret, baseUrl: input.baseUrl, fetch: input.fetch, now }));
      const tokens = renewed.refreshToken ? renewed : { ...renewed, refreshToken: given.refreshToken, refreshTokenExpiresAt: given.refreshTokenExpiresAt };
      return { kind: 'expiring', clientId, clientSecret: null, tokens: { ...tokens, scope: tokens.scope ?? given.scope } };
    }
    return { kind: 'expiring', clientId, clientSecret: null, tokens: given };
  }
  if (kind === 'session_token') {
    const app = input.resolveApp(clientId);
    // Checked here first, for a clear error: Shopify would refuse it too.
    const verified = verifySessionToken(c.sessionToken!, { apiKey: app.clientId, apiSecret: app.clientSecrets, now: () => new Date(now()) });
    if (!verified.ok) throw new ConfigError(`${input.label}: the session token is not valid for this app (${verified.reason})`);
    if (verified.shop !== shopDomain) throw new ConfigError(`${input.label}: the session token is for ${verified.shop}, not ${shopDomain}`);
    const tokens = await withSecrets(app.clientSecrets, (clientSecret) => requestToken({ type: 'token_exchange', sessionToken: c.sessionToken!, expiring: true }, { shopDomain, clientId: app.clientId, clientSecret, baseUrl: input.baseUrl, fetch: input.fetch, now }));
    return { kind: tokens.refreshToken ? 'expiring' : 'static', clientId, clientSecret: null, tokens };
  }
  const explicit = c.clientCredentials === true ? null : c.clientCredentials!;
  const app = explicit ? { clientId: explicit.clientId, clientSecrets: [explicit.clientSecret] } : input.resolveApp(clientId);
  const tokens = await withSecrets(app.clientSecrets, (clientSecret) => requestToken({ type: 'client_credentials' }, { shopDomain, clientId: app.clientId, clientSecret, baseUrl: input.baseUrl, fetch: input.fetch, now }));
  return { kind: 'client_credentials', clientId: explicit ? explicit.clientId : clientId, clientSecret: explicit ? explicit.clientSecret : null, tokens };
}

/** Tries the app's secrets in order while the token endpoint says the client is invalid (a secret rotation). */
async function withSecrets<T>(secrets: readonly string[], request: (secret: string) => Promise<T>): Promise<T> {
  let last: unknown = new ConfigError('no client secret is configured for this app');
  for (const secret of secrets) {
    try {
      return await request(secret);
    } catch (error) {
      last = error;
      if ((error as { code?: string }).code !== 'OAUTH_INVALID_CLIENT') throw error;
    }
  }
  throw last;
}
