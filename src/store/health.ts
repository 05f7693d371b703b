/**
 * The queries behind the service's health checks: one statement per check, index-driven, whatever
 * the number of tenants (no query per tenant).
 */
import type { SqlExecutor } from './prisma-like.js';
import { notMigratedError } from './database-errors.js';
import { runLockHeldSql } from './run-locks.js';
import { syncingRunSql } from './sync-state.js';

/** The oldest delivery still waiting to be applied. */
export interface WaitingDelivery {
  id: string;
  tenantId: string;
  topic: string;
  receivedAt: Date;
  attempts: number;
  lastError: string | null;
}

/** Deliveries waiting in the inbox (`pending`, or `processing` by a worker). */
export interface InboxBacklogFacts {
  waiting: number;
  oldest: WaitingDelivery | null;
}

/** Deliveries out of attempts (`failed`): how many, and the newest few. */
export interface DeadLetterFacts {
  count: number;
  newest: WaitingDelivery[];
}

/** One (tenant, resource): its latest run, latest finished run and latest success. */
export interface ResourceSyncFacts {
  tenantId: string;
  resource: string;
  /** The tenant's `config` (parsed JSON), for its schedule. */
  tenantConfig: Record<string, unknown>;
  tenantCreatedAt: Date;
  /** The latest run of any status. */
  latest: { id: string; status: string; startedAt: Date; lockHeld: boolean; lockless: boolean } | null;
  /** The latest run that succeeded or failed (cancelled and running ones skipped), of those that sync the resource (`syncingRunSql`). */
  finished: { id: string; status: string; error: string | null; errorCode: string | null; finishedAt: Date | null } | null;
  /** When the latest successful run that syncs the resource finished. */
  lastSuccessAt: Date | null;
}

const DELIVERY_COLUMNS = `"id", "tenant_id" AS "tenantId", "topic", "received_at" AS "receivedAt", "attempts", "last_error" AS "lastError"`;

/**
 * Resolves when the database answers and holds the SDK's tables. A database that answers without
 * them stores nothing, so it fails the check with `DATABASE_NOT_MIGRATED` rather than passing as
 * "reachable" (`to_regclass` follows the search_path, as the store's unqualified queries do).
 */
export async function pingDatabase(db: SqlExecutor): Promise<void> {
  const rows = await db.$queryRawUnsafe<Array<{ tenants: string | null }>>(`SELECT to_regclass('shopify_tenants')::text AS "tenants"`);
  if (rows[0]?.tenants == null) throw notMigratedError('health check', new Error('relation "shopify_tenants" does not exist'));
}

/** Active tenants whose credentials can no longer be renewed (`auth_status = 'needs_reauth'`), first 100 by id. */
export async function readNeedsReauth(db: SqlExecutor): Promise<string[]> {
  const rows = await db.$queryRawUnsafe<Array<{ id: string }>>(
    `SELECT "id" FROM "shopify_tenants" WHERE "is_active" AND "auth_status" = 'needs_reauth' ORDER BY "id" LIMIT 100`,
  );
  return rows.map((r) => r.id);
}

/** Waiting deliveries (through the `(status, next_attempt_at)` index) and the oldest of them. */
export async function readInboxBacklog(db: SqlExecutor): Promise<InboxBacklogFacts> {
  const rows = await db.$queryRawUnsafe<Array<{ waiting: number } & { [K in keyof WaitingDelivery]: WaitingDelivery[K] | null }>>(
    `SELECT (SELECT count(*)::int FROM "shopify_webhook_inbox" WHERE "status" IN ('pending', 'processing')) AS "waiting", o.*
       FROM (SELECT 1) AS one
       LEFT JOIN LATERAL (SELECT ${DELIVERY_COLUMNS} FROM "shopify_webhook_inbox"
                           WHERE "status" IN ('pending', 'processing') ORDER BY "received_at" LIMIT 1) AS o ON true`,
  );
  const row = rows[0]!;
  return {
    waiting: Number(row.waiting),
    oldest: row.id === null ? null : { id: row.id, tenantId: row.tenantId!, topic: row.topic!, receivedAt: new Date(row.receivedAt!), attempts: Number(row.attempts), lastError: row.lastError },
  };
}

/** Dead letters: how many, and the newest ten. */
export async function readDeadLetters(db: SqlExecutor, limit = 10): Promise<DeadLetterFacts> {
  const rows = await db.$queryRawUnsafe<Array<WaitingDelivery & { total: number }>>(
    `SELECT ${DELIVERY_COLUMNS}, count(*) OVER ()::int AS "total" FROM "shopify_webhook_inbox"
      WHERE "status" = 'failed' ORDER BY "received_at" DESC LIMIT $1`,
    limit,
  );
  return {
    count: rows.length ? Number(rows[0]!.total) : 0,
    newest: rows.map(({ total: _total, ...d }) => ({ ...d, receivedAt: new Date(d.receivedAt), attempts: Number(d.attempts) })),
  };
}

/**
 * Per active tenant (not waiting for re-authorisation) and resource: the latest run, the latest
 * finished one and the latest success. Each is one backward scan of the
 * `(tenant_id, resource, started_at)` index, so the cost follows tenants x resources, not the run
 * history. `now` decides whether a running run's lock is still held.
 */
export async function readSyncFacts(db: SqlExecutor, resources: readonly string[], now: Date): Promise<ResourceSyncFacts[]> {
  const rows = await db.$queryRawUnsafe<Array<{
    tenantId: string; resource: string; config: string | null; createdAt: Date;
    latestId: string | null; latestStatus: string | null; latestStartedAt: Date | null; lockHeld: boolean | null; lockless: boolean | null;
    finishedId: string | null; finishedStatus: string | null; finishedError: string | null; finishedErrorCode: string | null; finishedAt: Date | null;
    lastSuccessAt: Date | null;
  }>>(
    `SELECT t."id" AS "tenantId", r.resource, t."config"::text AS "config", t."created_at" AS "createdAt",
            cur."id" AS "latestId", cur."status" AS "latestStatus", cur."started_at" AS "latestStartedAt",
            CASE WHEN cur."id" IS NULL THEN NULL ELSE ${runLockHeldSql('cur', '$2::timestamptz')} END AS "lockHeld",
            -- retry-failures runs write without the run lock
            (cur."options"->>'retryFailures') IS NOT DISTINCT FROM 'true' AS "lockless",
            fin."id" AS "finishedId", fin."status" AS "finishedStatus", fin."error" AS "finishedError", fin."error_code" AS "finishedErrorCode", fin."finished_at" AS "finishedAt",
            ok."finished_at" AS "lastSuccessAt"
       FROM "shopify_tenants" t
      CROSS JOIN unnest($1::text[]) AS r(resource)
       LEFT JOIN LATERAL (SELECT s."id", s."tenant_id", s."resource", s."status", s."started_at", s."options" FROM "shopify_sync_runs" s
                           WHERE s."tenant_id" = t."id" AND s."resource" = r.resource
                           ORDER BY s."started_at" DESC, s."id" DESC LIMIT 1) AS cur ON true
       LEFT JOIN LATERAL (SELECT s."id", s."status", s."error", s."error_code", s."finished_at" FROM "shopify_sync_runs" s
                           WHERE s."tenant_id" = t."id" AND s."resource" = r.resource AND s."status" IN ('succeeded', 'failed') AND ${syncingRunSql('s')}
                           ORDER BY s."started_at" DESC, s."id" DESC LIMIT 1) AS fin ON true
       LEFT JOIN LATERAL (SELECT s."finished_at" FROM "shopify_sync_runs" s
                           WHERE s."tenant_id" = t."id" AND s."resource" = r.resource AND s."status" = 'succeeded' AND ${syncingRunSql('s')}
                           ORDER BY s."started_at" DESC, s."id" DESC LIMIT 1) AS ok ON true
      WHERE t."is_active" AND t."auth_status" <> 'needs_reauth'
      ORDER BY t."id", r.resource`,
    [...resources], now.toISOString(),
  );
  return rows.map((r) => ({
    tenantId: r.tenantId,
    resource: r.resource,
    tenantConfig: parseTenantConfig(r.config),
    tenantCreatedAt: new Date(r.createdAt),
    latest: r.latestId === null ? null : { id: r.latestId, status: r.latestStatus!, startedAt: new Date(r.latestStartedAt!), lockHeld: Boolean(r.lockHeld), lockless: Boolean(r.lockless) },
    finished: r.finishedId === null ? null : { id: r.finishedId, status: r.finishedStatus!, error: r.finishedError, errorCode: r.finishedErrorCode, finishedAt: r.finishedAt ? new Date(r.finishedAt) : null },
    lastSuccessAt: r.lastSuccessAt ? new Date(r.lastSuccessAt) : null,
  }));
}

/** A tenant's `config` column (JSON text) as an object; `{}` when empty or not an object. */
export function parseTenantConfig(text: string | null): Record<string, unknown> {
  if (!text) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? value as Record<string, unknown> : {};
  } catch {
    return {};
  }
}
