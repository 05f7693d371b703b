/**
 * A tenant's access token, kept in the database and renewed there, shared by every process.
 *
 * - Renewed a few minutes before it expires (`renewBeforeMs`, default 5), and once after a 401.
 * - At most one renewal per tenant is in flight across all processes: the renewer holds a lease on
 *   the tenant row (`renewal_holder`, `renewal_until`); the others poll the row until the new token
 *   is there (its `token_version` moved) or the lease expired (then one of them takes it).
 * - The renewer reads the refresh token from the row after taking the lease, so no process ever
 *   uses a refresh token another has already rotated; the rotated refresh token and the new access
 *   token are stored in one statement before the access token is used. Shopify keeps the previous
 *   refresh token valid until its replacement is used, so a refresh whose answer was lost is simply
 *   tried again with the stored one.
 * - A renewal that cannot succeed (refresh token expired or revoked, app uninstalled, client secret
 *   rotated away) marks the tenant `needs_reauth`, calls `onReauthRequired`, and fails with
 *   `TENANT_NEEDS_REAUTH`; nothing is tried again until the tenant is authorised anew.
 * - A renewal that failed for a passing reason (5xx, timeout, malformed answer) fails retryably and
 *   leaves the stored credentials as they were.
 * - A tenant moved to another shop (addTenant/updateTenant with a new shop domain, maybe in another
 *   process) fails with `TENANT_SHOP_CHANGED`: the row's token is the new shop's, so it is never
 *   sent to the client's shop, renewed for it, or taken as refused there.
 */
import { randomBytes } from 'node:crypto';
import { untilAborted } from '../abort.js';
import type { KeyRing } from '../crypto/index.js';
import { ShopifyIngestError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { normalizeShopDomain } from '../client/config.js';
import type { IngestStore, TenantRecord } from '../store/types.js';
import { OAuthError, requestToken, type TokenGrant, type TokenSet } from './oauth.js';
import type { AccessTokenSource } from './token-source.js';
import { ATTR, type Telemetry } from '../telemetry/index.js';

/** An app's client id and its secrets (the current one first; older ones accepted during a rotation). */
export interface AppCredentials {
  clientId: string;
  clientSecrets: readonly string[];
}

/** A tenant whose credentials no longer work until it is authorised again. */
export class TenantAuthError extends ShopifyIngestError {
  readonly tenantId: string;
  constructor(code: 'TENANT_NEEDS_REAUTH' | 'TENANT_CREDENTIALS_MISSING' | 'TOKEN_RENEWAL_FAILED' | 'TENANT_SHOP_CHANGED', message: string, tenantId: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(code, message, { cause: options.cause, details: { tenantId }, retryable: options.retryable });
    this.tenantId = tenantId;
  }
}

/** Options of {@link createStoredTokenSource}. */
export interface StoredTokenSourceOptions {
  tenantId: string;
  /**
   * The shop of the client the tokens are for: a row naming another shop hands out nothing
   * (`TENANT_SHOP_CHANGED`). The service always passes it; without it the row's shop is not checked.
   */
  shopDomain?: string;
  store: IngestStore;
  keyRing: KeyRing;
  /** The app of a tenant (its `client_id`, null for the default app); throws when unknown. */
  resolveApp(clientId: string | null): AppCredentials;
  /** Token endpoint origin (the simulator's shop `baseUrl`); default `https://{shop}`. */
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
  logger?: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Renew this long before expiry (default 5 minutes, capped at half the token's life). */
  renewBeforeMs?: number;
  /** How long a renewer may hold the lease (default 30 s). */
  leaseTtlMs?: number;
  /** Timeout of one token request (default 15 s). */
  timeoutMs?: number;
  /** Called once when the tenant moves to `needs_reauth`. */
  onReauthRequired?: (tenant: { tenantId: string; shopDomain: string; reason: string }) => void | Promise<void>;
  /** Called once when the tenant turns out to be moved to another shop (the client is then stale). */
  onShopChanged?: (tenant: { tenantId: string; from: string; to: string }) => void;
  /** Counts renewals, ok or failed (bound to the tenant). */
  telemetry?: Telemetry;
}

interface Cached {
  token: string;
  expiresAt: number | null;
  version: number;
  /** When it was obtained (ms), null when not known: with `expiresAt`, its life. */
  issuedAt: number | null;
}

/**
 * The token source of one tenant, backed by its row in `shopify_tenants`.
 *
 * @example
 * ```ts
 * const source = createStoredTokenSource({ tenantId: 't1', shopDomain, store, keyRing, resolveApp: () => ({ clientId, clientSecrets: [secret] }) });
 * const client = createShopifyClient({ shopDomain, accessToken: source });
 * ```
 */
export function createStoredTokenSource(options: StoredTokenSourceOptions): AccessTokenSource & { readonly renewals: number } {
  const { tenantId, store, keyRing } = options;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const leaseTtlMs = options.leaseTtlMs ?? 30_000;
  const holder = `${process.pid}-${randomBytes(6).toString('hex')}`;
  let cached: Cached | null = null;
  let renewing: Promise<Cached> | null = null;
  let renewals = 0;
  let moved = false;

  // At most half the token's life, when its issue time is known (a row written before it was recorded: the margin alone).
  const renewBefore = (c: Cached) => Math.min(options.renewBeforeMs ?? 300_000, c.expiresAt === null || c.issuedAt === null ? Infinity : Math.max(0, (c.expiresAt - c.issuedAt) / 2));
  const fresh = (c: Cached | null, at = now()): boolean => c !== null && (c.expiresAt === null || c.expiresAt - renewBefore(c) > at);

  function fromRow(row: TenantRecord): Cached | null {
    if (!row.accessTokenEnc) return null;
    return { token: keyRing.decrypt(row.accessTokenEnc, tenantId), expiresAt: row.accessTokenExpiresAt ? row.accessTokenExpiresAt.getTime() : null, version: row.tokenVersion, issuedAt: row.accessTokenIssuedAt ? row.accessTokenIssuedAt.getTime() : null };
  }

  /**
   * Refuses a row of another shop than the client's: the tenant was moved (addTenant/updateTenant),
   * its token is the new shop's. Sent to the old shop it would leak there, and the 401 it gets would
   * renew the new shop's token or mark a valid tenant `needs_reauth`.
   */
  function ownShop(row: TenantRecord): TenantRecord {
    const shop = options.shopDomain;
    if (shop === undefined || sameShop(row.shopDomain, shop)) return row;
    cached = null;
    if (!moved) {
      moved = true;
      logger.warn('tenant moved to another shop: this client no longer sends its token', { tenantId, shop, movedTo: row.shopDomain });
      try { options.onShopChanged?.({ tenantId, from: shop, to: row.shopDomain }); } catch (error) { logger.warn('onShopChanged threw', { tenantId, error }); }
    }
    throw new TenantAuthError('TENANT_SHOP_CHANGED', `tenant ${tenantId} was moved from ${shop} to ${row.shopDomain}: its token is not sent to ${shop} (get the tenant's client again)`, tenantId, { retryable: true });
  }

  async function readRow(): Promise<TenantRecord> {
    const row = await store.getTenant(tenantId);
    if (!row) throw new TenantAuthError('TENANT_CREDENTIALS_MISSING', `tenant ${tenantId} no longer exists`, tenantId);
    ownShop(row);
    if (row.authStatus === 'needs_reauth') {
      throw new TenantAuthError('TENANT_NEEDS_REAUTH', `tenant ${tenantId} (${row.shopDomain}) must be authorised again: ${row.authError ?? 'its credentials no longer work'}`, tenantId);
    }
    return row;
  }

  /**
   * Marks the tenant `needs_reauth`, unless its credentials changed since `row` was read (the merchant
   * authorised again meanwhile, `updateTenant`): then the new ones are used instead.
   */
  async function needsReauth(row: TenantRecord, reason: string, cause: unknown): Promise<Cached> {
    const marked = await store.setTenantAuthStatus(tenantId, 'needs_reauth', reason, row.tokenVersion).catch((error) => {
      logger.error('could not record needs_reauth', { tenantId, error });
      return true;
    });
    if (!marked) {
      const latest = await readRow();
      const stored = fromRow(latest);
      if (stored && latest.tokenVersion !== row.tokenVersion) {
        logger.info('renewal with the previous credentials failed, but the tenant was authorised again meanwhile: using the new token', { tenantId, reason });
        return stored;
      }
    }
    logger.error('tenant credentials can no longer be renewed: the merchant must authorise the app again', { tenantId, shop: row.shopDomain, reason });
    try { await options.onReauthRequired?.({ tenantId, shopDomain: row.shopDomain, reason }); } catch (error) { logger.warn('onReauthRequired threw', { tenantId, error }); }
    throw new TenantAuthError('TENANT_NEEDS_REAUTH', `tenant ${tenantId} (${row.shopDomain}) must be authorised again: ${reason}`, tenantId, { cause });
  }

  /** Asks the token endpoint, trying the app's older secrets when the current one is refused (a rotation in progress). */
  async function exchange(row: TenantRecord, grant: TokenGrant): Promise<TokenSet> {
    // A tenant with its own app credentials (a custom app's client id and secret) needs no configured app.
    const own = row.clientSecretEnc ? [keyRing.decrypt(row.clientSecretEnc, tenantId)] : null;
    const app = own && row.clientId ? { clientId: row.clientId, clientSecrets: own } : options.resolveApp(row.clientId);
    const secrets = own ?? app.clientSecrets;
    let last: unknown;
    for (const clientSecret of secrets) {
      try {
        return await requestToken(grant, { shopDomain: row.shopDomain, clientId: app.clientId, clientSecret, baseUrl: options.baseUrl, fetch: options.fetch, now, timeoutMs: options.timeoutMs });
      } catch (error) {
        last = error;
        if (!(error instanceof OAuthError) || error.code !== 'OAUTH_INVALID_CLIENT') throw error;
      }
    }
    throw last;
  }

  /**
   * One renewal under the lease; null when the lease was lost before the new token was stored (then
   * another holder renews, and the caller waits for its token).
   */
  async function renewUnderLease(row: TenantRecord): Promise<Cached | null> {
    if (row.tokenKind === 'static') {
      // Nothing to renew: a static token Shopify refuses was revoked (or, from 2027, refused for a public app).
      return needsReauth(row, 'Shopify refused the static access token (revoked, app uninstalled, or a non-expiring token of a public app)', null);
    }
    let grant: TokenGrant;
    if (row.tokenKind === 'client_credentials') grant = { type: 'client_credentials' };
    else {
      if (!row.refreshTokenEnc) return needsReauth(row, 'no refresh token is stored', null);
      if (row.refreshTokenExpiresAt && row.refreshTokenExpiresAt.getTime() <= now()) return needsReauth(row, `the refresh token expired at ${row.refreshTokenExpiresAt.toISOString()}`, null);
      grant = { type: 'refresh_token', refreshToken: keyRing.decrypt(row.refreshTokenEnc, tenantId) };
    }
    for (let attempt = 0; ; attempt++) {
      let tokens: TokenSet;
      // Its expiry counts from when the request was sent (oauth.ts), so its life does too.
      const issuedAt = now();
      try {
        tokens = await exchange(row, grant);
      } catch (error) {
        if (error instanceof OAuthError && !error.retryable) return needsReauth(row, error.message.replace(/^\[shopify-ingest\] /, ''), error);
        throw new TenantAuthError('TOKEN_RENEWAL_FAILED', `renewing the token of tenant ${tenantId} failed (retryable): ${(error as Error).message.replace(/^\[shopify-ingest\] /, '')}`, tenantId, { cause: error, retryable: true });
      }
      const refreshTokenEnc = tokens.refreshToken ? keyRing.encrypt(tokens.refreshToken, tenantId) : row.tokenKind === 'client_credentials' ? null : row.refreshTokenEnc;
      const saved = await store.saveRenewedTokens(tenantId, holder, {
        accessTokenEnc: keyRing.encrypt(tokens.accessToken, tenantId),
        accessTokenExpiresAt: tokens.accessTokenExpiresAt,
        accessTokenIssuedAt: new Date(issuedAt),
        refreshTokenEnc,
        refreshTokenExpiresAt: tokens.refreshToken ? tokens.refreshTokenExpiresAt : row.refreshTokenExpiresAt,
      }, tokens.scope);
      if (!saved) {
        // The lease ran out while we waited for Shopify and another process took it: its tokens will be
        // the stored ones; ours (if Shopify rotated for us) are never used. The stored token may still be
        // the one Shopify refused, so the caller waits for the new holder's instead of taking it as is.
        logger.warn('token renewal lease lost before the new token was stored; waiting for the stored one', { tenantId });
        return null;
      }
      renewals++;
      const issued = { token: tokens.accessToken, expiresAt: tokens.accessTokenExpiresAt?.getTime() ?? null, version: row.tokenVersion + 1, issuedAt };
      if (issued.expiresAt === null || issued.expiresAt > now()) {
        logger.info('access token renewed', { tenantId, kind: row.tokenKind, expiresAt: tokens.accessTokenExpiresAt?.toISOString() ?? null });
        return issued;
      }
      // Already expired on arrival (a TTL of 0, or a clock far off): the rotated refresh token is
      // stored; try once more with it, then give up retryably.
      if (attempt >= 1) {
        throw new TenantAuthError('TOKEN_RENEWAL_FAILED', `Shopify issued tenant ${tenantId} a token that had already expired, twice`, tenantId, { retryable: true });
      }
      logger.warn('renewed access token expired on arrival; renewing once more', { tenantId });
      const again = await store.acquireTokenRenewal(tenantId, holder, new Date(now()), leaseTtlMs);
      if (!again) throw new TenantAuthError('TOKEN_RENEWAL_FAILED', `tenant ${tenantId}: another process took the renewal lease`, tenantId, { retryable: true });
      row = ownShop(again);
      if (grant.type === 'refresh_token') grant = { type: 'refresh_token', refreshToken: keyRing.decrypt(row.refreshTokenEnc!, tenantId) };
    }
  }

  /** Counts a renewal this process made (under the lease: one per renewal cluster-wide). */
  async function counted(renewal: Promise<Cached | null>): Promise<Cached | null> {
    try {
      const renewed = await renewal;
      if (renewed) options.telemetry?.add('tokenRenewals', 1, { [ATTR.outcome]: 'ok' });
      return renewed;
    } catch (error) {
      options.telemetry?.add('tokenRenewals', 1, { [ATTR.outcome]: 'failed', [ATTR.errorType]: (error as { code?: string })?.code ?? 'unknown' });
      throw error;
    }
  }

  /** Renews unless someone else already did (a row newer than `seenVersion` with a fresh token). */
  async function renew(seenVersion: number | null): Promise<Cached> {
    let deadline = now() + leaseTtlMs * 2;
    for (let wait = 50; ; wait = Math.min(wait * 2, 500)) {
      const row = await readRow();
      const stored = fromRow(row);
      if (stored && (seenVersion === null || stored.version > seenVersion) && fresh(stored)) return stored;
      const leased = await store.acquireTokenRenewal(tenantId, holder, new Date(now()), leaseTtlMs);
      if (leased) {
        try {
          // Moved between our read and our lease: nothing is renewed for the client's shop.
          const current = fromRow(ownShop(leased));
          // Renewed by another process between our read and our lease.
          if (current && (seenVersion === null || current.version > seenVersion) && fresh(current)) return current;
          const renewed = await counted(renewUnderLease(leased));
          if (renewed) return renewed;
          // Lost the lease: wait for the new holder as long as for any other.
          deadline = now() + leaseTtlMs * 2;
        } finally {
          await store.releaseTokenRenewal(tenantId, holder).catch(() => {});
        }
      }
      if (now() > deadline) throw new TenantAuthError('TOKEN_RENEWAL_FAILED', `tenant ${tenantId}: another process holds the token renewal for too long`, tenantId, { retryable: true });
      await sleep(wait);
    }
  }

  function renewOnce(seenVersion: number | null): Promise<Cached> {
    // Within one process, callers share one renewal.
    renewing ??= renew(seenVersion).finally(() => { renewing = null; });
    return renewing;
  }

  return {
    get renewals() { return renewals; },
    // A caller's signal ends its wait (a renewal held by another process can take a lease's length);
    // the renewal itself goes on for the tenant's other callers.
    async getToken(signal) {
      if (cached !== null && fresh(cached)) return cached.token;
      let seen = cached?.version ?? null;
      if (cached === null) {
        const row = await readRow();
        const stored = fromRow(row);
        if (stored !== null && fresh(stored)) { cached = stored; return stored.token; }
        if (!stored && row.tokenKind === 'static') throw new TenantAuthError('TENANT_CREDENTIALS_MISSING', `tenant ${tenantId} has no access token`, tenantId);
        seen = stored?.version ?? null;
      }
      cached = await untilAborted(renewOnce(seen), signal);
      return cached.token;
    },
    async onUnauthorized(rejected, signal) {
      // Another process (or an earlier call here) may already hold a newer token.
      const stored = fromRow(await readRow());
      if (stored && stored.token !== rejected && fresh(stored)) { cached = stored; return stored.token; }
      cached = await untilAborted(renewOnce(stored?.version ?? null), signal);
      return cached.token !== rejected ? cached.token : null;
    },
  };
}

/** Whether two shop domains name one shop (stored domains are normalised; the client's may differ in case or scheme). */
function sameShop(a: string, b: string): boolean {
  return normalizeShopDomain(a, true) === normalizeShopDomain(b, true);
}
