import { assertTenantId, TenantError } from '../errors.js';
import type { PrismaLike } from './prisma-like.js';
import { storeFailure } from './store-errors.js';
import type { TenantInput, TenantRecord } from './types.js';

const TENANT_SELECT = `SELECT "id", "name", "shop_domain" AS "shopDomain", "access_token_enc" AS "accessTokenEnc", "scopes",
  "is_active" AS "isActive", "sync_status" AS "syncStatus", "last_sync_at" AS "lastSyncAt", "last_error" AS "lastError",
  "config"::text AS "config", "created_at" AS "createdAt", "updated_at" AS "updatedAt" FROM "shopify_tenants"`;

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
    async upsertTenant(input: TenantInput): Promise<TenantRecord> {
      assertTenantId(input.id);
      const sets = ['"shop_domain" = excluded."shop_domain"', '"access_token_enc" = excluded."access_token_enc"', '"updated_at" = now()'];
      if (input.name !== undefined) sets.push('"name" = excluded."name"');
      if (input.scopes !== undefined) sets.push('"scopes" = excluded."scopes"');
      if (input.config !== undefined) sets.push('"config" = excluded."config"');
      try {
        const rows = await prisma.$queryRawUnsafe<TenantRow[]>(
          `WITH up AS (
            INSERT INTO "shopify_tenants" AS t ("id", "name", "shop_domain", "access_token_enc", "scopes", "config")
            VALUES ($1, $2, $3, $4, $5, COALESCE($6::jsonb, '{}'::jsonb))
            ON CONFLICT ("id") DO UPDATE SET ${sets.join(', ')}
            RETURNING *
          ) ${TENANT_SELECT.replace('FROM "shopify_tenants"', 'FROM up')}`,
          input.id,
          input.name ?? null,
          input.shopDomain,
          input.accessTokenEnc,
          input.scopes ?? null,
          input.config === undefined ? null : JSON.stringify(input.config),
        );
        return toRecord(rows[0]);
      } catch (error) {
        const failure = storeFailure('upsertTenant', input.id, error, { shopDomain: input.shopDomain });
        if (failure.details.pgCode === '23505') {
          throw storeFailure('upsertTenant', input.id, error, { shopDomain: input.shopDomain }, 'TENANT_SHOP_TAKEN');
        }
        throw failure;
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
          `UPDATE "shopify_tenants" SET "is_active" = $2, "deactivated_at" = CASE WHEN $2 THEN NULL ELSE COALESCE("deactivated_at", now()) END, "updated_at" = now() WHERE "id" = $1`,
          tenantId,
          active,
        );
      } catch (error) {
        throw storeFailure('setTenantActive', tenantId, error);
      }
      if (count === 0) throw new TenantError('TENANT_NOT_FOUND', `tenant ${tenantId} does not exist`, tenantId);
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
