import { ConfigError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { parseList } from '../config/parse.js';
import { createApiKeySet } from './api-keys.js';
import { verifySessionToken, type SessionTokenClaims } from './session-token.js';

/**
 * How requests to the host's sync endpoints are authenticated. Give a Shopify app's key and
 * secret to accept session tokens, static keys to accept `x-api-key`, or both.
 * Fields left out are read from `SHOPIFY_API_KEY`, `SHOPIFY_API_SECRET` and `INGEST_API_KEYS`.
 *
 * @example
 * ```ts
 * const options: AuthOptions = { apiKey: 'app-client-id', apiSecret: 'app-secret', apiKeys: ['k_ops_1'] };
 * ```
 */
export interface AuthOptions {
  /** SHOPIFY_API_KEY: the audience of session tokens. */
  apiKey?: string;
  /** SHOPIFY_API_SECRET: signs session tokens (several while rotating). */
  apiSecret?: string | readonly string[];
  /** Static API keys (INGEST_API_KEYS), accepted in `x-api-key` or `Authorization: Bearer`. */
  apiKeys?: readonly string[];
  /** Accept Shopify session tokens (default: when apiKey and apiSecret are known). */
  sessionTokens?: boolean;
  /** Clock tolerance for token expiry, seconds (default 5). */
  clockToleranceSec?: number;
  /** The current time, for token expiry (tests inject one). */
  now?: () => Date;
  /** Failures are logged at debug level with the reason (never the token or key). */
  logger?: Logger;
  /** Where missing fields are read from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

/** Who made an authenticated request. */
export type AuthPrincipal =
  | {
    /** A Shopify session token (an embedded app's admin user). */
    type: 'session-token';
    /** The shop, from the token's `dest`. */
    shop: string;
    /** The admin user (`sub`). */
    userId?: string;
    /** The session (`sid`). */
    sessionId?: string;
    /** When the token expires. */
    expiresAt: Date;
    /** Every claim of the token. */
    claims: SessionTokenClaims;
  }
  | {
    /** One of INGEST_API_KEYS. */
    type: 'api-key';
    /** Which one (its position in the list; never the key). */
    keyIndex: number;
  };

/** What `authenticate` answers: who, or no. */
export type AuthResult =
  | {
    /** Authenticated. */
    ok: true;
    /** Who. */
    principal: AuthPrincipal;
  }
  | {
    /** Not authenticated. */
    ok: false;
  };

/** Request headers as Node (`req.headers`) or the Fetch API (`request.headers`) give them. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const value = record[name] ?? Object.entries(record).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
}

/** A configured authenticator: headers in, result out. */
export type Authenticator = (headers: HeaderSource) => AuthResult;

/**
 * Builds an authenticator from options (and the environment for what they leave out).
 * Throws a {@link ConfigError} when no method is configured: an endpoint that can never be
 * reached is a configuration mistake worth seeing at start-up.
 *
 * @example
 * ```ts
 * const authenticate = createAuthenticator({ apiKeys: ['k_ops_1'] });
 * authenticate({ 'x-api-key': 'k_ops_1' }); // { ok: true, principal: { type: 'api-key', keyIndex: 0 } }
 * ```
 */
export function createAuthenticator(options: AuthOptions = {}): Authenticator {
  const env = options.env ?? (typeof process !== 'undefined' ? process.env : {});
  const apiKey = options.apiKey ?? env.SHOPIFY_API_KEY;
  const rawSecret = options.apiSecret ?? env.SHOPIFY_API_SECRET;
  const apiSecret = (typeof rawSecret === 'string' ? [rawSecret] : [...(rawSecret ?? [])]).filter(Boolean);
  const keys = createApiKeySet(options.apiKeys ?? parseList(env.INGEST_API_KEYS));
  const sessionTokens = options.sessionTokens ?? (Boolean(apiKey) && apiSecret.length > 0);
  if (sessionTokens && (!apiKey || apiSecret.length === 0)) {
    throw new ConfigError('session-token auth needs SHOPIFY_API_KEY and SHOPIFY_API_SECRET (or the apiKey/apiSecret options)');
  }
  if (!sessionTokens && keys.size === 0) {
    throw new ConfigError('auth middleware has nothing to accept: set SHOPIFY_API_KEY and SHOPIFY_API_SECRET (session tokens) and/or INGEST_API_KEYS (static keys)');
  }
  const logger = options.logger ?? silentLogger;
  const refuse = (reason: string): AuthResult => {
    logger.debug('request not authenticated', { reason });
    return { ok: false };
  };

  return (headers) => {
    const xApiKey = header(headers, 'x-api-key');
    const authorization = header(headers, 'authorization');
    const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    if (xApiKey !== undefined) {
      const index = keys.match(xApiKey);
      return index >= 0 ? { ok: true, principal: { type: 'api-key', keyIndex: index } } : refuse('unknown api key');
    }
    if (bearer === undefined) return refuse(authorization ? 'unsupported authorization scheme' : 'no credentials');
    if (keys.size > 0) {
      const index = keys.match(bearer);
      if (index >= 0) return { ok: true, principal: { type: 'api-key', keyIndex: index } };
    }
    if (!sessionTokens) return refuse('unknown api key');
    const result = verifySessionToken(bearer, { apiKey: apiKey!, apiSecret, clockToleranceSec: options.clockToleranceSec, now: options.now });
    if (!result.ok) return refuse(`session token ${result.reason}`);
    const { claims } = result;
    return {
      ok: true,
      principal: {
        type: 'session-token',
        shop: result.shop,
        userId: typeof claims.sub === 'string' ? claims.sub : undefined,
        sessionId: typeof claims.sid === 'string' ? claims.sid : undefined,
        expiresAt: new Date(claims.exp * 1000),
        claims,
      },
    };
  };
}

/**
 * Authenticates one request from its headers: the framework-agnostic core of the middlewares.
 * Prefer {@link createAuthenticator} for repeated use (it prepares the keys once).
 *
 * @example
 * ```ts
 * const result = authenticateRequest(req.headers, { apiKey, apiSecret });
 * if (!result.ok) return res.status(401).json({ error: 'unauthorized' });
 * ```
 */
export function authenticateRequest(headers: HeaderSource, options: AuthOptions = {}): AuthResult {
  return createAuthenticator(options)(headers);
}
