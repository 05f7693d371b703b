/**
 * The facts `shopify-ingest doctor` reports, per tenant: credentials, scopes, the latest runs per
 * resource, the inbox, and what Shopify said about the API calls. One statement per kind of fact.
 */
import { readApiNotices, type StoredApiNotice } from './api-notices.js';
import { parseTenantConfig } from './health.js';
import type { SqlExecutor } from './prisma-like.js';

/** One tenant as doctor sees it. */
export interface DoctorTenantFacts {
  id: string;
  shopDomain: string;
  isActive: boolean;
  authStatus: string;
  authError: string | null;
  tokenKind: string;
  hasToken: boolean;
  accessTokenExpiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  /** Granted scopes as stored (comma-separated), or null when unknown. */
  scopes: string | null;
  config: Record<string, unknown>;
  /** Per resource: the latest run that ended (succeeded or failed) and the latest success. */
  runs: Array<{ resource: string; lastStatus: string | null; lastError: string | null; lastFinishedAt: Date | null; lastSuccessAt: Date | null }>;
  inbox: { waiting: number; oldestWaitingAt: Date | null; deadLetters: number };
  notices: StoredApiNotice[];
}

/** Everything doctor needs for one tenant (or every tenant). */
export async function readDoctorFacts(db: SqlExecutor, resources: readonly string[], tenantId?: string): Promise<DoctorTenantFacts[]> {
  const tenants = await db.$queryRawUnsafe<Array<{
    id: string; shopDomain: string; isActive: boolean; authStatus: string; authError: string | null; tokenKind: string; hasToken: boolean;
    accessTokenExpiresAt: Date | null; refreshTokenExpiresAt: Date | null; scopes: string | null; config: string | null;
  }>>(
    `SELECT "id", "shop_domain" AS "shopDomain", "is_active" AS "isActive", "auth_status" AS "authStatus", "auth_error" AS "authError",
            "token_kind" AS "tokenKind", "access_token_enc" IS NOT NULL AS "hasToken",
            "access_token_expires_at" AS "accessTokenExpiresAt", "refresh_token_expires_at" AS "refreshTokenExpiresAt",
            "scopes", "config"::text AS "config"
       FROM "shopify_tenants" WHERE $1::text IS NULL OR "id" = $1 ORDER BY "id"`,
    tenantId ?? null,
  );
  if (tenants.length === 0) return [];
  const ids = tenants.map((t) => t.id);
  const runs = await db.$queryRawUnsafe<Array<{ tenantId: string; resource: string; lastStatus: string | null; lastError: string | null; lastFinishedAt: Date | null; lastSuccessAt: Date | null }>>(
    `SELECT t.id AS "tenantId", r.resource, fin."status" AS "lastStatus", fin."error" AS "lastError", fin."finished_at" AS "lastFinishedAt", ok."finished_at" AS "lastSuccessAt"
       FROM unnest($1::text[]) AS t(id)
      CROSS JOIN unnest($2::text[]) AS r(resource)
       LEFT JOIN LATERAL (SELECT s."status", s."error", s."finished_at" FROM "shopify_sync_runs" s
                           WHERE s."tenant_id" = t.id AND s."resource" = r.resource AND s."status" IN ('succeeded', 'failed')
                           ORDER BY s."started_at" DESC LIMIT 1) AS fin ON true
       LEFT JOIN LATERAL (SELECT s."finished_at" FROM "shopify_sync_runs" s
                           WHERE s."tenant_id" = t.id AND s."resource" = r.resource AND s."status" = 'succeeded'
                           ORDER BY s."started_at" DESC LIMIT 1) AS ok ON true`,
    ids, [...resources],
  );
  const inbox = await db.$queryRawUnsafe<Array<{ tenantId: string; waiting: number; oldestWaitingAt: Date | null; deadLetters: number }>>(
    `SELECT "tenant_id" AS "tenantId",
            count(*) FILTER (WHERE "status" IN ('pending', 'processing'))::int AS "waiting",
            min("received_at") FILTER (WHERE "status" IN ('pending', 'processing')) AS "oldestWaitingAt",
            count(*) FILTER (WHERE "status" = 'failed')::int AS "deadLetters"
       FROM "shopify_webhook_inbox" WHERE "tenant_id" = ANY($1::text[]) GROUP BY "tenant_id"`,
    ids,
  );
  const notices = await readApiNotices(db, tenantId);
  const date = (value: Date | null) => (value ? new Date(value) : null);
  return tenants.map((t) => {
    const box = inbox.find((i) => i.tenantId === t.id);
    return {
      ...t,
      accessTokenExpiresAt: date(t.accessTokenExpiresAt),
      refreshTokenExpiresAt: date(t.refreshTokenExpiresAt),
      config: parseTenantConfig(t.config),
      runs: runs.filter((r) => r.tenantId === t.id).map(({ tenantId: _t, ...r }) => ({ ...r, lastFinishedAt: date(r.lastFinishedAt), lastSuccessAt: date(r.lastSuccessAt) })),
      inbox: { waiting: Number(box?.waiting ?? 0), oldestWaitingAt: date(box?.oldestWaitingAt ?? null), deadLetters: Number(box?.deadLetters ?? 0) },
      notices: notices.filter((n) => n.tenantId === t.id),
    };
  });
}
