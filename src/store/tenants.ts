import { assertTenantId, TenantError } from '../errors.js';
import type { PrismaLike } from './prisma-like.js';
import { storeFailure } from './store-errors.js';
import type { TenantInput, TenantRecord, TenantTokens } from './types.js';

const TENANT_SELECT = `SELECT "id", "name", "shop_domain" AS "shopDomain", "access_token_enc" AS "accessTokenEnc", "scopes",
  "token_kind" AS "tokenKind", "access_token_expires_at" AS "accessTokenExpiresAt", "access_token_issued_at" AS "accessTokenIssuedAt", "refresh_token_enc" AS "refreshTokenEnc",
  "refresh_token_expires_at" AS "refreshTokenExpiresAt", "client_id" AS "clientId", "client_secret_enc" AS "clientSecretEnc",
  "auth_status" AS "authStatus", "auth_error" AS "authError", "token_version" AS "tokenVersion",
  "renewal_holder" AS "renewalHolder", "renewal_until" AS "renewalUntil",
  "is_active" AS "isActive", "sync_status" AS "syncStatus", "last_sync_at" AS "lastSyncAt", "last_error" AS "lastError",
  "config"::text AS "config", "created_at" AS "createdAt", "updated_at" AS "updatedAt" FROM "shopify_tenants"`;

/** The credential columns a token write sets (see {@link TenantTokens}). */
const TOKEN_COLUMNS: Array<[keyof TenantTokens, string, string]> = [
  ['accessTokenEnc', 'access_token_enc', 'text'],
  ['tokenKind', 'token_kind', 'text'],
  ['accessTokenExpiresAt', 'access_token_expires_at', 'timestamptz'],
  ['accessTokenIssuedAt', 'access_token_issued_at', 'timestamptz'],
  ['refreshTokenEnc', 'refresh_token_enc', 'text'],
  ['refreshTokenExpiresAt', 'refresh_token_expires_at', 'timestamptz'],
  ['clientId', 'client_id', 'text'],
  ['clientSecretEnc', 'client_secret_enc', 'text'],
];

const toParam = (v: unknown) => (v instanceof Date ? v.toISOString() : v ?? null);

type TenantRow = Omit<TenantRecord, 'config'> & { config: string };

const toRecord = (row: TenantRow): TenantRecord => ({ ...row, config: JSON.parse(row.config) as Record<string, unknown> });

/** Tenants: one row per connected shop. */
export function createTenantStore(prisma: PrismaLike) {
  async function getTenant(tenantId: string): Promise<TenantRecord | null> {
    assertTenantId(tenantId);
    try {
      const rows = await prisma.$queryRawUnsafe<TenantRow[]>(`${TENANT_SELECT} WHERE "id" = $1`, tenantId);
      return rows[0] ? toRecord(rows[0]) : null;
    } catch (error) {
      throw storeFailure('getTenant', tenantId, error);
    }
  }

  return {
    getTenant,

    /**
     * Creates the tenant, or updates the fields given (`name`, `scopes`, `config` keep their stored
     * value when omitted). The active flag is left as it is on update: use `setTenantActive`.
     */
    /**
     * Creates the tenant, or updates it. The credentials given replace the stored ones as a whole
     * (a new authorisation: token kind, tokens, expiries, app), `token_version` moves on, and a
     * tenant that needed re-authorisation is `ok` again.
     */
    async upsertTenant(input: TenantInput): Promise<TenantRecord> {
      assertTenantId(input.id);
      const sets = ['"shop_domain" = excluded."shop_domain"', '"updated_at" = now()',
        ...TOKEN_COLUMNS.map(([, column]) => `"${column}" = excluded."${column}"`),
        '"token_version" = t."token_version" + 1', '"auth_status" = \'ok\'', '"auth_error" = NULL', '"renewal_holder" = NULL', '"renewal_until" = NULL'];
      if (input.name !== undefined) sets.push('"name" = excluded."name"');
      if (input.scopes !== undefined) sets.push('"scopes" = excluded."scopes"');
      if (input.config !== undefined) sets.push('"config" = excluded."config"');
      try {
        const rows = await prisma.$queryRawUnsafe<TenantRow[]>(
          `WITH up AS (
            INSERT INTO "shopify_tenants" AS t ("id", "name", "shop_domain", "scopes", "config", ${TOKEN_COLUMNS.map(([, c]) => `"${c}"`).join(', ')})
            VALUES ($1, $2, $3, $4, COALESCE($5::jsonb, '{}'::jsonb), ${TOKEN_COLUMNS.map(([, , type], i) => `$${i + 6}::${type}`).join(', ')})
            ON CONFLICT ("id") DO UPDATE SET ${sets.join(', ')}
            RETURNING *
          ) ${TENANT_SELECT.replace('FROM "shopify_tenants"', 'FROM up')}`,
          input.id,
          input.name ?? null,
          input.shopDomain,
          input.scopes ?? null,
          input.config === undefined ? null : JSON.stringify(input.config),
          ...TOKEN_COLUMNS.map(([key]) => toParam(key === 'tokenKind' ? input.tokenKind ?? 'static' : input[key])),
        );
        return toRecord(rows[0]);
      } catch (error) {
        const failure = storeFailure('upsertTenant', input.id, error, { shopDomain: input.shopDomain });
        if (failure.details.pgCode === '23505') {
          throw storeFailure('upsertTenant', input.id, error, { shopDomain: input.shopDomain }, 'TENANT_SHOP_IN_USE');
        }
        throw failure;
      }
    },

    /**
     * Takes the tenant's renewal lease for `holder` until `now + ttlMs` unless another holder has an
     * unexpired one; returns the row as it stands (tokens included) when taken, else null. One
     * process renews a tenant's token at a time; the others wait for the new token.
     */
    async acquireTokenRenewal(tenantId: string, holder: string, now: Date, ttlMs: number): Promise<TenantRecord | null> {
      assertTenantId(tenantId);
      try {
        const rows = await prisma.$queryRawUnsafe<TenantRow[]>(
          `WITH up AS (UPDATE "shopify_tenants" SET "renewal_holder" = $2, "renewal_until" = $3::timestamptz + make_interval(secs => $4::double precision / 1000)
             WHERE "id" = $1 AND ("renewal_holder" IS NULL OR "renewal_holder" = $2 OR "renewal_until" < $3::timestamptz) RETURNING *)
           ${TENANT_SELECT.replace('FROM "shopify_tenants"', 'FROM up')}`,
          tenantId, holder, now.toISOString(), ttlMs,
        );
        return rows[0] ? toRecord(rows[0]) : null;
      } catch (error) {
        throw storeFailure('acquireTokenRenewal', tenantId, error);
      }
    },

    /**
     * Stores renewed tokens and releases the lease, only while `holder` still holds it (a holder that
     * stalled past its lease writes nothing: the next holder's tokens win). Returns whether it wrote.
     */
    async saveRenewedTokens(tenantId: string, holder: string, tokens: Pick<TenantTokens, 'accessTokenEnc' | 'accessTokenExpiresAt' | 'accessTokenIssuedAt' | 'refreshTokenEnc' | 'refreshTokenExpiresAt'>, scopes?: string | null): Promise<boolean> {
      assertTenantId(tenantId);
      try {
        const n = await prisma.$executeRawUnsafe(
          `UPDATE "shopify_tenants" SET "access_token_enc" = $3, "access_token_expires_at" = $4::timestamptz, "refresh_token_enc" = $5,
             "refresh_token_expires_at" = $6::timestamptz, "scopes" = COALESCE($7, "scopes"), "access_token_issued_at" = $8::timestamptz, "token_version" = "token_version" + 1,
             "renewal_holder" = NULL, "renewal_until" = NULL, "auth_status" = 'ok', "auth_error" = NULL, "updated_at" = now()
           WHERE "id" = $1 AND "renewal_holder" = $2`,
          tenantId, holder, tokens.accessTokenEnc, toParam(tokens.accessTokenExpiresAt), tokens.refreshTokenEnc, toParam(tokens.refreshTokenExpiresAt), scopes ?? null, toParam(tokens.accessTokenIssuedAt),
        );
        return Number(n) === 1;
      } catch (error) {
        throw storeFailure('saveRenewedTokens', tenantId, error);
      }
    },

    /** Releases the renewal lease if `holder` holds it. */
    async releaseTokenRenewal(tenantId: string, holder: string): Promise<void> {
      assertTenantId(tenantId);
      try {
        await prisma.$executeRawUnsafe(`UPDATE "shopify_tenants" SET "renewal_holder" = NULL, "renewal_until" = NULL WHERE "id" = $1 AND "renewal_holder" = $2`, tenantId, holder);
      } catch (error) {
        throw storeFailure('releaseTokenRenewal', tenantId, error);
      }
    },

    /**
     * Marks whether the tenant's credentials work (`needs_reauth`: renewal is impossible until the
     * merchant authorises again). With `tokenVersion`, only while the stored credentials are still
     * that version (a verdict on old credentials never lands on new ones). Returns whether it wrote.
     */
    async setTenantAuthStatus(tenantId: string, status: TenantRecord['authStatus'], error: string | null = null, tokenVersion?: number): Promise<boolean> {
      assertTenantId(tenantId);
      try {
        const n = tokenVersion === undefined
          ? await prisma.$executeRawUnsafe(`UPDATE "shopify_tenants" SET "auth_status" = $2, "auth_error" = $3, "updated_at" = now() WHERE "id" = $1`, tenantId, status, error)
          : await prisma.$executeRawUnsafe(`UPDATE "shopify_tenants" SET "auth_status" = $2, "auth_error" = $3, "updated_at" = now() WHERE "id" = $1 AND "token_version" = $4`, tenantId, status, error, tokenVersion);
        return Number(n) === 1;
      } catch (e) {
        throw storeFailure('setTenantAuthStatus', tenantId, e);
      }
    },

    /** Erases every credential of the tenant (shop/redact, removal): tokens, client secret, renewal state. */
    async eraseTenantCredentials(tenantId: string): Promise<void> {
      assertTenantId(tenantId);
      try {
        await prisma.$executeRawUnsafe(
          `UPDATE "shopify_tenants" SET "access_token_enc" = NULL, "refresh_token_enc" = NULL, "client_secret_enc" = NULL, "access_token_expires_at" = NULL, "access_token_issued_at" = NULL,
             "refresh_token_expires_at" = NULL, "renewal_holder" = NULL, "renewal_until" = NULL, "token_version" = "token_version" + 1, "updated_at" = now()
           WHERE "id" = $1`, tenantId);
      } catch (error) {
        throw storeFailure('eraseTenantCredentials', tenantId, error);
      }
    },

    async getTenantByShop(shopDomain: string): Promise<TenantRecord | null> {
      try {
        const rows = await prisma.$queryRawUnsafe<TenantRow[]>(`${TENANT_SELECT} WHERE lower("shop_domain") = lower($1)`, shopDomain);
        return rows[0] ? toRecord(rows[0]) : null;
      } catch (error) {
        throw storeFailure('getTenantByShop', undefined, error, { shopDomain });
      }
    },

    async listTenants(options: { activeOnly?: boolean } = {}): Promise<TenantRecord[]> {
      try {
        const rows = await prisma.$queryRawUnsafe<TenantRow[]>(`${TENANT_SELECT}${options.activeOnly ? ' WHERE "is_active"' : ''} ORDER BY "id"`);
        return rows.map(toRecord);
      } catch (error) {
        throw storeFailure('listTenants', undefined, error);
      }
    },

    async setTenantActive(tenantId: string, active: boolean): Promise<void> {
      assertTenantId(tenantId);
      let count: number;
      try {
        count = await prisma.$executeRawUnsafe(
          `UPDATE "shopify_tenants" SET "is_active" = $2, "deactivated_at" = CASE WHEN $2 THEN NULL ELSE COALESCE("deactivated_at", now()) END,
             "activated_at" = CASE WHEN $2 THEN now() ELSE "activated_at" END, "updated_at" = now() WHERE "id" = $1`,
          tenantId,
          active,
        );
      } catch (error) {
        throw storeFailure('setTenantActive', tenantId, error);
      }
      if (count === 0) throw new TenantError('TENANT_NOT_FOUND', `tenant ${tenantId} does not exist`, tenantId);
    },

    async deactivateTenantUninstalledAt(tenantId: string, uninstalledAt: Date): Promise<boolean> {
      assertTenantId(tenantId);
      let rows: Array<{ deactivated: boolean }>;
      try {
        // One statement: a concurrent addTenant either commits before (and wins) or after (and reactivates).
        rows = await prisma.$queryRawUnsafe<Array<{ deactivated: boolean }>>(
          `WITH off AS (
             UPDATE "shopify_tenants" SET "is_active" = false, "deactivated_at" = COALESCE("deactivated_at", now()), "updated_at" = now()
             WHERE "id" = $1 AND ("activated_at" IS NULL OR "activated_at" <= $2::timestamptz)
             RETURNING "id")
           SELECT EXISTS (SELECT 1 FROM off) AS "deactivated" FROM "shopify_tenants" WHERE "id" = $1`,
          tenantId,
          uninstalledAt.toISOString(),
        );
      } catch (error) {
        throw storeFailure('deactivateTenantUninstalledAt', tenantId, error);
      }
      if (rows.length === 0) throw new TenantError('TENANT_NOT_FOUND', `tenant ${tenantId} does not exist`, tenantId);
      return rows[0]!.deactivated;
    },

    async setTenantSyncStatus(tenantId: string, status: TenantRecord['syncStatus'], options: { lastSyncAt?: Date; error?: string | null } = {}): Promise<void> {
      assertTenantId(tenantId);
      let count: number;
      try {
        count = await prisma.$executeRawUnsafe(
          `UPDATE "shopify_tenants" SET "sync_status" = $2,
             "last_sync_at" = COALESCE($3::timestamptz, "last_sync_at"),
             "last_error" = CASE WHEN $4 THEN $5 ELSE "last_error" END,
             "updated_at" = now()
           WHERE "id" = $1`,
          tenantId,
          status,
          options.lastSyncAt ? options.lastSyncAt.toISOString() : null,
          options.error !== undefined,
          options.error ?? null,
        );
      } catch (error) {
        throw storeFailure('setTenantSyncStatus', tenantId, error);
      }
      if (count === 0) throw new TenantError('TENANT_NOT_FOUND', `tenant ${tenantId} does not exist`, tenantId);
    },
  };
}
