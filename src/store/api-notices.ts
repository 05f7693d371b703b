/**
 * What Shopify said about a tenant's API calls (`shopify_api_notices`): a version other than the
 * requested one answered (fall-forward, https://shopify.dev/docs/api/usage/versioning), or
 * `X-Shopify-API-Deprecated-Reason` named deprecations the calls use. Recorded by the facade from
 * its clients' reports; read by `shopify-ingest doctor`.
 */
import type { ApiNotice } from '../client/api-notice.js';
import type { SqlExecutor } from './prisma-like.js';

export type { ApiNotice } from '../client/api-notice.js';

/** A stored notice. */
export interface StoredApiNotice extends ApiNotice {
  tenantId: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
  /** How many times it was reported (each process reports a notice at most hourly). */
  sightings: number;
}

/** The row key of a notice: what makes two reports the same notice. */
export function apiNoticeKey(notice: ApiNotice): string {
  return notice.kind === 'version_mismatch' ? `${notice.requestedVersion}->${notice.servedVersion ?? '?'}` : notice.reason ?? '';
}

/** Records a notice (or one more sighting of it) for a tenant. */
export async function recordApiNotice(db: SqlExecutor, tenantId: string, notice: ApiNotice, at: Date): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO "shopify_api_notices" ("tenant_id", "kind", "key", "requested_version", "served_version", "reason", "request", "first_seen_at", "last_seen_at")
     SELECT $1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $8::timestamptz
     WHERE EXISTS (SELECT 1 FROM "shopify_tenants" WHERE "id" = $1)
     ON CONFLICT ("tenant_id", "kind", "key") DO UPDATE SET
       "last_seen_at" = GREATEST("shopify_api_notices"."last_seen_at", EXCLUDED."last_seen_at"),
       "served_version" = EXCLUDED."served_version", "request" = EXCLUDED."request",
       "sightings" = "shopify_api_notices"."sightings" + 1`,
    tenantId, notice.kind, apiNoticeKey(notice), notice.requestedVersion, notice.servedVersion, notice.reason, notice.request, at.toISOString(),
  );
}

/** Notices of one tenant (or all), newest first. */
export async function readApiNotices(db: SqlExecutor, tenantId?: string): Promise<StoredApiNotice[]> {
  const rows = await db.$queryRawUnsafe<Array<StoredApiNotice & { kind: ApiNotice['kind'] }>>(
    `SELECT "tenant_id" AS "tenantId", "kind", "requested_version" AS "requestedVersion", "served_version" AS "servedVersion", "reason", "request",
            "first_seen_at" AS "firstSeenAt", "last_seen_at" AS "lastSeenAt", "sightings"
       FROM "shopify_api_notices" WHERE $1::text IS NULL OR "tenant_id" = $1 ORDER BY "last_seen_at" DESC, "kind", "key"`,
    tenantId ?? null,
  );
  return rows.map((r) => ({ ...r, firstSeenAt: new Date(r.firstSeenAt), lastSeenAt: new Date(r.lastSeenAt), sightings: Number(r.sightings) }));
}
