/**
 * The simulator's token endpoint, `POST /admin/oauth/access_token`, as Shopify runs it for apps
 * without a browser (https://shopify.dev/docs/apps/build/authentication-authorization):
 * - `grant_type=refresh_token`: a new access token and a new refresh token. The refresh token used
 *   stays valid until its replacement is used (Shopify since 2026-08-28); once a newer one was used,
 *   it answers 400 `invalid_grant`.
 * - token exchange (`urn:ietf:params:oauth:grant-type:token-exchange`): a session token signed with the
 *   app's secret, for an expiring offline token (`expiring=1`) or the shop's non-expiring one.
 * - `grant_type=client_credentials`: a short-lived token, no refresh token.
 * Expiring tokens last `accessTokenTtlSeconds` (simulated seconds); an expired one gets 401 like an
 * unknown one. `rejectNonExpiring` answers the shop's static token with 401, as Shopify does for
 * public apps from 2027-01-01. Faults for the endpoint: 5xx, a timeout, a malformed answer, a token
 * expired on arrival, and an answer lost after the tokens were rotated.
 */
import { randomBytes } from 'node:crypto';
import { verifySessionToken } from '../auth/session-token.js';
import type { Clock } from './clock.js';
import type { SimulatedShop } from './shop.js';

/** Token endpoint behaviour of the simulator. */
export interface OAuthOptions {
  /** The app's client id (default `simulator_client_id`). */
  clientId?: string;
  /** Secrets accepted as the client secret (default: the simulator's apiSecret); several during a rotation. */
  clientSecrets?: string[];
  /** Lifetime of expiring access tokens in simulated seconds (default 3600). */
  accessTokenTtlSeconds?: number;
  /** Lifetime of refresh tokens in simulated seconds (default 90 days). */
  refreshTokenTtlSeconds?: number;
  /** Lifetime of client-credentials tokens (default 86,400). */
  clientCredentialsTtlSeconds?: number;
  /** Refuse the shops' non-expiring tokens (public apps from 2027-01-01). */
  rejectNonExpiring?: boolean;
}

/** A fault of the token endpoint, for the next request(s). */
export type OAuthFault = 'server_error' | 'timeout' | 'malformed' | 'expired_on_arrival' | 'lost_response';

interface AccessGrant { shop: SimulatedShop; expiresAtMs: number }
interface RefreshGrant { shop: SimulatedShop; expiresAtMs: number; successor: string | null; used: boolean; revoked: boolean }

/** Counters of the token endpoint. */
export interface OAuthStats {
  /** Refresh-token grants answered. */
  refreshes: number;
  /** Token exchanges answered. */
  exchanges: number;
  /** Client credentials grants answered. */
  clientCredentials: number;
  /** Token requests refused (bad secret, revoked or reused refresh token, bad session token). */
  refused: number;
  /** Admin API requests refused because their expiring token had expired. */
  expiredTokenRequests: number;
}

export function createOAuthAuthority(init: { clock: Clock; timeScale: number; apiSecret: string; options?: OAuthOptions }) {
  const opts = init.options ?? {};
  const clientId = () => opts.clientId ?? 'simulator_client_id';
  const secrets = () => opts.clientSecrets ?? [init.apiSecret];
  const access = new Map<string, AccessGrant>();
  const refresh = new Map<string, RefreshGrant>();
  const faults: OAuthFault[] = [];
  const stats: OAuthStats = { refreshes: 0, exchanges: 0, clientCredentials: 0, refused: 0, expiredTokenRequests: 0 };
  const now = () => init.clock();
  /** Simulated seconds to wall-clock ms (the simulator's time scale). */
  const ttlMs = (seconds: number) => (seconds * 1000) / init.timeScale;

  const token = (prefix: string) => `${prefix}_${randomBytes(16).toString('hex')}`;

  function issue(shop: SimulatedShop, withRefresh: boolean, ttlSeconds: number, fault: OAuthFault | undefined): Record<string, unknown> {
    const accessToken = token('shpat');
    const seconds = fault === 'expired_on_arrival' ? 0 : ttlSeconds;
    access.set(accessToken, { shop, expiresAtMs: now() + ttlMs(seconds) });
    const out: Record<string, unknown> = { access_token: accessToken, scope: shop.scopes.join(','), expires_in: seconds };
    if (withRefresh) {
      const refreshToken = token('shprt');
      const refreshSeconds = opts.refreshTokenTtlSeconds ?? 90 * 86_400;
      refresh.set(refreshToken, { shop, expiresAtMs: now() + ttlMs(refreshSeconds), successor: null, used: false, revoked: false });
      out.refresh_token = refreshToken;
      out.refresh_token_expires_in = refreshSeconds;
    }
    return out;
  }

  const refuse = (status: number, error: string, description: string) => {
    stats.refused++;
    return { status, body: { error, error_description: description } };
  };

  return {
    /** Counters of the token endpoint. */
    stats,
    /** Queues faults for the next token requests. */
    fail(...next: OAuthFault[]): void {
      faults.push(...next);
    },
    /** Changes the endpoint's options (token lifetimes, rotation, rejectNonExpiring). */
    configure(next: OAuthOptions): void {
      Object.assign(opts, next);
    },
    /** Revokes every refresh token of a shop (the merchant uninstalled the app). */
    revokeRefreshTokens(shop: SimulatedShop): void {
      for (const grant of refresh.values()) if (grant.shop === shop) grant.revoked = true;
    },
    /** Ends every access token of a shop at once (a forced expiry, to test 401 handling). */
    expireAccessTokens(shop: SimulatedShop): void {
      for (const grant of access.values()) if (grant.shop === shop) grant.expiresAtMs = now() - 1;
    },

    /** Which shop an Admin API token is for; `expired` for an expiring token past its time; null when unknown or refused. */
    authenticate(tokenValue: string | undefined, byStatic: (t: string) => SimulatedShop | undefined): {
      /** The shop the token is for. */
      shop: SimulatedShop;
    } | {
      /** Why the token is refused. */
      refused: 'expired' | 'unknown' | 'non-expiring';
    } {
      if (!tokenValue) return { refused: 'unknown' };
      const grant = access.get(tokenValue);
      if (grant) {
        if (grant.expiresAtMs <= now()) { stats.expiredTokenRequests++; return { refused: 'expired' }; }
        return { shop: grant.shop };
      }
      const shop = byStatic(tokenValue);
      if (!shop) return { refused: 'unknown' };
      if (opts.rejectNonExpiring) return { refused: 'non-expiring' };
      return { shop };
    },

    /**
     * Answers `POST /admin/oauth/access_token` of `shop` (known from the URL or the host) or, when the
     * request names no shop, of the shop its refresh or session token belongs to.
     */
    async handle(shop: SimulatedShop | undefined, rawBody: string, findShop: (domain: string) => SimulatedShop | undefined): Promise<{
      /** HTTP status to answer. */
      status: number;
      /** JSON body to answer. */
      body: unknown;
      /** Never answer (a timeout fault). */
      hang?: boolean;
      /** Close the connection without answering. */
      drop?: boolean;
      /** A raw (non-JSON) body to answer instead. */
      raw?: string;
    }> {
      let body: Record<string, string>;
      try {
        body = rawBody.trim().startsWith('{') ? JSON.parse(rawBody) : Object.fromEntries(new URLSearchParams(rawBody));
      } catch {
        return refuse(400, 'invalid_request', 'The request body could not be parsed');
      }
      const fault = faults.shift();
      if (fault === 'server_error') return { status: 503, body: { errors: 'Service Unavailable' } };
      if (fault === 'timeout') return { status: 0, body: null, hang: true };
      if (body.client_id !== clientId() || !secrets().includes(body.client_secret)) {
        return refuse(401, 'invalid_client', 'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.');
      }
      let out: Record<string, unknown>;
      switch (body.grant_type) {
        case 'refresh_token': {
          const grant = refresh.get(body.refresh_token ?? '');
          if (!grant || grant.revoked || grant.expiresAtMs <= now() || (grant.successor !== null && refresh.get(grant.successor)?.used)) {
            return refuse(400, 'invalid_grant', 'The provided authorization grant is invalid, expired, revoked, or was issued to another client.');
          }
          if (shop && grant.shop !== shop) return refuse(400, 'invalid_grant', 'The refresh token was issued for another shop.');
          stats.refreshes++;
          grant.used = true;
          out = issue(grant.shop, true, opts.accessTokenTtlSeconds ?? 3600, fault);
          // The previous token stays valid until its replacement is used; a newer rotation supersedes it.
          grant.successor = String(out.refresh_token);
          break;
        }
        case 'urn:ietf:params:oauth:grant-type:token-exchange': {
          const verified = verifySessionToken(body.subject_token ?? '', { apiKey: clientId(), apiSecret: secrets(), now: () => new Date(now()) });
          const target = verified.ok ? findShop(verified.shop) : undefined;
          if (!verified.ok || !target || (shop && target !== shop)) return refuse(400, 'invalid_subject_token', `The session token is not valid${verified.ok ? ' for this shop' : ` (${verified.reason})`}.`);
          stats.exchanges++;
          out = body.expiring === '1' || body.expiring === (1 as unknown as string)
            ? issue(target, true, opts.accessTokenTtlSeconds ?? 3600, fault)
            : { access_token: target.accessToken, scope: target.scopes.join(',') };
          break;
        }
        case 'client_credentials': {
          if (!shop) return refuse(400, 'invalid_request', 'The shop is unknown.');
          stats.clientCredentials++;
          out = issue(shop, false, opts.clientCredentialsTtlSeconds ?? 86_400, fault);
          break;
        }
        default:
          return refuse(400, 'unsupported_grant_type', `The grant type ${String(body.grant_type)} is not supported.`);
      }
      if (fault === 'malformed') return { status: 200, body: null, raw: '{"access_token": ' };
      // The tokens were issued (and the refresh token rotated), but the answer never arrives.
      if (fault === 'lost_response') return { status: 0, body: null, drop: true };
      return { status: 200, body: out };
    },
  };
}

/** The simulator's token endpoint (`simulator.oauth`). */
export type OAuthAuthority = ReturnType<typeof createOAuthAuthority>;
