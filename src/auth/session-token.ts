import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The claims of a Shopify session token (App Bridge `idToken()`). */
export interface SessionTokenClaims {
  /** `https://{shop}.myshopify.com/admin` */
  iss: string;
  /** `https://{shop}.myshopify.com` */
  dest: string;
  /** The app's API key (client id). */
  aud: string | string[];
  /** The Shopify user id. */
  sub?: string;
  /** Expiry (epoch seconds). */
  exp: number;
  /** Not before (epoch seconds). */
  nbf?: number;
  /** Issued at (epoch seconds). */
  iat?: number;
  /** Token id. */
  jti?: string;
  /** Session id. */
  sid?: string;
  [claim: string]: unknown;
}

/** Options of {@link verifySessionToken}. */
export interface SessionTokenOptions {
  /** SHOPIFY_API_KEY: the expected audience. */
  apiKey: string;
  /** SHOPIFY_API_SECRET; several during a secret rotation (the first that verifies wins). */
  apiSecret: string | readonly string[];
  /** Allowed clock difference for `exp`/`nbf`, in seconds (default 5). */
  clockToleranceSec?: number;
  /** The current time (tests inject one). */
  now?: () => Date;
}

/** Why a token was refused: for logs and tests, never for the HTTP response. */
export type SessionTokenFailure =
  | 'malformed' | 'unsupported-alg' | 'bad-signature' | 'expired' | 'not-yet-valid' | 'wrong-audience' | 'bad-shop';

/** What `verifySessionToken` answers: the shop and claims, or why not. */
export type SessionTokenResult =
  | {
    /** Valid. */
    ok: true;
    /** The shop it was issued for. */
    shop: string;
    /** Its claims. */
    claims: SessionTokenClaims;
  }
  | {
    /** Invalid. */
    ok: false;
    /** Why (never the token). */
    reason: SessionTokenFailure;
  };

const B64URL = /^[A-Za-z0-9_-]+$/;
/** A shop's permanent domain; session tokens are only ever issued for these. */
const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;
/** Far above a real session token (~600 bytes); bounds the work done on garbage input. */
const MAX_TOKEN_LENGTH = 8192;

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function shopOf(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    const parsed = new URL(url);
    const host = parsed.hostname.toLowerCase();
    return parsed.protocol === 'https:' && SHOP_DOMAIN.test(host) ? host : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies a Shopify session token: an HS256 JWT signed with the app's secret, following
 * https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens/set-up-session-tokens
 * (signature with the shared secret, `exp` in the future, `nbf` in the past, `aud` = the API key,
 * `iss` and `dest` on the same shop). Only HS256 is accepted (no `none`, no algorithm confusion);
 * the signature is compared in constant time.
 *
 * @example
 * ```ts
 * const result = verifySessionToken(bearer, { apiKey: process.env.SHOPIFY_API_KEY!, apiSecret: process.env.SHOPIFY_API_SECRET! });
 * if (result.ok) console.log(result.shop); // 'acme.myshopify.com'
 * ```
 */
export function verifySessionToken(token: string, options: SessionTokenOptions): SessionTokenResult {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return { ok: false, reason: 'malformed' };
  const [headerSegment, payloadSegment, signatureSegment] = parts as [string, string, string];
  const header = decodeJson(headerSegment);
  const payload = decodeJson(payloadSegment);
  if (!header || !payload) return { ok: false, reason: 'malformed' };
  if (header.alg !== 'HS256' || (header.typ !== undefined && header.typ !== 'JWT')) return { ok: false, reason: 'unsupported-alg' };

  const signature = Buffer.from(signatureSegment, 'base64url');
  const secrets = typeof options.apiSecret === 'string' ? [options.apiSecret] : options.apiSecret;
  let verified = false;
  for (const secret of secrets) {
    if (!secret) continue;
    const expected = createHmac('sha256', secret).update(`${headerSegment}.${payloadSegment}`).digest();
    // timingSafeEqual needs equal lengths; a wrong length is not secret information.
    if (signature.length === expected.length && timingSafeEqual(signature, expected)) verified = true;
  }
  if (!verified) return { ok: false, reason: 'bad-signature' };

  const now = (options.now?.() ?? new Date()).getTime() / 1000;
  const tolerance = options.clockToleranceSec ?? 5;
  if (typeof payload.exp !== 'number' || now >= payload.exp + tolerance) return { ok: false, reason: 'expired' };
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now + tolerance)) return { ok: false, reason: 'not-yet-valid' };
  const aud = payload.aud;
  if (!(aud === options.apiKey || (Array.isArray(aud) && aud.includes(options.apiKey)))) return { ok: false, reason: 'wrong-audience' };
  const shop = shopOf(payload.dest);
  if (!shop || shopOf(payload.iss) !== shop) return { ok: false, reason: 'bad-shop' };
  return { ok: true, shop, claims: payload as SessionTokenClaims };
}

/**
 * Signs a session token the way Shopify does (HS256). For tests and local tools: real session
 * tokens come from App Bridge.
 *
 * @example
 * ```ts
 * const token = signSessionToken({ shop: 'acme.myshopify.com', apiKey, apiSecret });
 * await fetch(url, { headers: { authorization: `Bearer ${token}` } });
 * ```
 */
export function signSessionToken(input: {
  shop: string;
  apiKey: string;
  apiSecret: string;
  /** Lifetime in seconds (Shopify's tokens live one minute). */
  expiresInSec?: number;
  now?: Date;
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
}): string {
  const iat = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const header = input.header ?? { alg: 'HS256', typ: 'JWT' };
  const payload = {
    iss: `https://${input.shop}/admin`,
    dest: `https://${input.shop}`,
    aud: input.apiKey,
    sub: '1',
    exp: iat + (input.expiresInSec ?? 60),
    nbf: iat,
    iat,
    jti: randomBytes(8).toString('hex'),
    sid: 'session',
    ...input.claims,
  };
  const body = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${body}.${createHmac('sha256', input.apiSecret).update(body).digest('base64url')}`;
}
