import { assertTenantId } from '../errors.js';
import { recordsetFrom, recordsetJson, type ColumnSpec } from './columns.js';
import type { PrismaLike, SqlExecutor } from './prisma-like.js';
import type { ResourceType } from './rows.js';
import { runLockHeldSql } from './run-locks.js';
import { storeFailure } from './store-errors.js';
import type { Checkpoint, SyncFailureInput, SyncFailureRecord, SyncRunRecord } from './types.js';

type Counts = Partial<Pick<SyncRunRecord, 'fetched' | 'imported' | 'skipped' | 'failed'>>;
const COUNT_COLUMNS = ['fetched', 'imported', 'skipped', 'failed'] as const;

const CHECKPOINT_SELECT = `SELECT "tenant_id" AS "tenantId", "resource", "watermark", "cursor", "run_id" AS "runId",
  "full_sync_completed_at" AS "fullSyncCompletedAt", "deletions_checked_at" AS "deletionsCheckedAt", "deletion_error" AS "deletionError",
  "updated_at" AS "updatedAt" FROM "shopify_sync_checkpoints"`;

const RUN_SELECT = `SELECT "id", "tenant_id" AS "tenantId", "resource", "mode", "status", "fetched", "imported", "skipped", "failed",
  "error", "error_code" AS "errorCode", "warnings"::text AS "warnings", "options"::text AS "options", "started_at" AS "startedAt", "finished_at" AS "finishedAt" FROM "shopify_sync_runs"`;

const failureColumns: readonly ColumnSpec<SyncFailureInput>[] = [
  { column: 'shopify_id', type: 'bigint', value: (f) => f.shopifyId },
  { column: 'reason', type: 'text', value: (f) => f.reason },
];

/** `"fetched" = $n, ...` for the counts given (absolute values: the importer reports its running totals). */
function countAssignments(counts: Counts | undefined, firstParam: number): { sql: string[]; values: number[] } {
  const sql: string[] = [];
  const values: number[] = [];
  for (const key of COUNT_COLUMNS) {
    const v = counts?.[key];
    if (v === undefined) continue;
    values.push(Math.trunc(v));
    sql.push(`"${key}" = $${firstParam + values.length - 1}::int`);
  }
  return { sql, values };
}

/** Checkpoints, run history and failures of syncs. */
export function createSyncStateStore(prisma: PrismaLike) {
  return {
    async getCheckpoint(tenantId: string, resource: ResourceType): Promise<Checkpoint | null> {
      assertTenantId(tenantId);
      try {
        const rows = await prisma.$queryRawUnsafe<Checkpoint[]>(`${CHECKPOINT_SELECT} WHERE "tenant_id" = $1 AND "resource" = $2`, tenantId, resource);
        return rows[0] ?? null;
      } catch (error) {
        throw storeFailure('getCheckpoint', tenantId, error, { resource });
      }
    },

    /**
     * Creates or updates the checkpoint; only the fields present in `patch` change (`null` clears one).
     * With `fence`, the write happens only while `fence.heldBy` holds the run lock (the row of
     * `shopify_run_locks`, expired or not, as `renewRunLock` sees it) and the tenant is active (an
     * app/uninstalled applied by any process stops a run at its next committed page, not only at its
     * next lock renewal); returns whether it was written.
     */
    async saveCheckpoint(tenantId: string, resource: ResourceType, patch: Partial<Pick<Checkpoint, 'watermark' | 'cursor' | 'runId' | 'fullSyncCompletedAt' | 'deletionsCheckedAt' | 'deletionError'>>, fence?: { heldBy: string }): Promise<boolean> {
      assertTenantId(tenantId);
      const fields = [
        ['watermark', 'watermark', 'timestamptz'],
        ['cursor', 'cursor', 'text'],
        ['runId', 'run_id', 'text'],
        ['fullSyncCompletedAt', 'full_sync_completed_at', 'timestamptz'],
        ['deletionsCheckedAt', 'deletions_checked_at', 'timestamptz'],
        ['deletionError', 'deletion_error', 'text'],
      ] as const;
      const values = fields.map(([key]) => {
        const v = patch[key];
        return v instanceof Date ? v.toISOString() : (v ?? null);
      });
      const sets = fields.filter(([key]) => key in patch && patch[key] !== undefined).map(([, column]) => `"${column}" = excluded."${column}"`);
      sets.push('"updated_at" = now()');
      const held = `EXISTS (SELECT 1 FROM "shopify_run_locks" WHERE "tenant_id" = $1 AND "resource" = $2 AND "run_id" = $9)`
        + ` AND EXISTS (SELECT 1 FROM "shopify_tenants" WHERE "id" = $1 AND "is_active")`;
      try {
        const n = await prisma.$executeRawUnsafe(
          `INSERT INTO "shopify_sync_checkpoints" ("tenant_id", "resource", "watermark", "cursor", "run_id", "full_sync_completed_at", "deletions_checked_at", "deletion_error", "updated_at")
           SELECT $1::text, $2::text, $3::timestamptz, $4::text, $5::text, $6::timestamptz, $7::timestamptz, $8::text, now()${fence ? ` WHERE ${held}` : ''}
           ON CONFLICT ("tenant_id", "resource") DO UPDATE SET ${sets.join(', ')}${fence ? ` WHERE ${held}` : ''}`,
          tenantId,
          resource,
          ...values,
          ...(fence ? [fence.heldBy] : []),
        );
        return n === 1;
      } catch (error) {
        throw storeFailure('saveCheckpoint', tenantId, error, { resource });
      }
    },

    async startRun(input: { id: string; tenantId: string; resource: string; mode: SyncRunRecord['mode']; options?: Record<string, unknown> }): Promise<void> {
      assertTenantId(input.tenantId);
      try {
        await prisma.$executeRawUnsafe(
          `INSERT INTO "shopify_sync_runs" ("id", "tenant_id", "resource", "mode", "status", "options") VALUES ($1, $2, $3, $4, 'running', $5::jsonb)`,
          input.id,
          input.tenantId,
          input.resource,
          input.mode,
          JSON.stringify(input.options ?? {}),
        );
      } catch (error) {
        throw storeFailure('startRun', input.tenantId, error, { runId: input.id });
      }
    },

    async updateRunCounts(runId: string, tenantId: string, counts: Counts): Promise<void> {
      assertTenantId(tenantId);
      const { sql, values } = countAssignments(counts, 3);
      if (sql.length === 0) return;
      try {
        await prisma.$executeRawUnsafe(`UPDATE "shopify_sync_runs" SET ${sql.join(', ')} WHERE "id" = $1 AND "tenant_id" = $2`, runId, tenantId, ...values);
      } catch (error) {
        throw storeFailure('updateRunCounts', tenantId, error, { runId });
      }
    },

    async finishRun(runId: string, tenantId: string, result: { status: SyncRunRecord['status']; error?: string | null; errorCode?: string | null; counts?: Counts; warnings?: string[] }): Promise<void> {
      assertTenantId(tenantId);
      const { sql, values } = countAssignments(result.counts, 7);
      try {
        await prisma.$executeRawUnsafe(
          `UPDATE "shopify_sync_runs" SET "status" = $3, "error" = $4, "warnings" = $5::jsonb, "error_code" = $6, "finished_at" = now()${sql.length ? ', ' + sql.join(', ') : ''}
           WHERE "id" = $1 AND "tenant_id" = $2`,
          runId,
          tenantId,
          result.status,
          result.error ?? null,
          JSON.stringify(result.warnings ?? []),
          result.errorCode ?? null,
          ...values,
        );
      } catch (error) {
        throw storeFailure('finishRun', tenantId, error, { runId });
      }
    },

    async closeInterruptedRuns(tenantId: string, resource: ResourceType, currentRunId: string, reason: string): Promise<number> {
      assertTenantId(tenantId);
      try {
        const closed = await prisma.$executeRawUnsafe(
          `UPDATE "shopify_sync_runs" SET "status" = 'cancelled', "error" = $4, "finished_at" = now()
           WHERE "tenant_id" = $1 AND "resource" = $2 AND "status" = 'running' AND "id" <> $3`,
          tenantId,
          resource,
          currentRunId,
          reason,
        );
        return Number(closed);
      } catch (error) {
        throw storeFailure('closeInterruptedRuns', tenantId, error, { resource, runId: currentRunId });
      }
    },

    async recordFailures(runId: string, tenantId: string, resource: string, failures: SyncFailureInput[]): Promise<void> {
      assertTenantId(tenantId);
      if (failures.length === 0) return;
      try {
        await prisma.$executeRawUnsafe(
          `INSERT INTO "shopify_sync_failures" ("run_id", "tenant_id", "resource", "shopify_id", "reason")
           SELECT $1, $2, $3, f."shopify_id", f."reason" FROM ${recordsetFrom(failureColumns, 4, 'f')}`,
          runId,
          tenantId,
          resource,
          recordsetJson(failureColumns, failures),
        );
      } catch (error) {
        throw storeFailure('recordFailures', tenantId, error, { runId, failures: failures.length });
      }
    },

    async listRuns(tenantId: string, options: { limit?: number; resource?: string } = {}): Promise<SyncRunRecord[]> {
      assertTenantId(tenantId);
      const limit = Math.max(1, Math.min(1000, Math.trunc(options.limit ?? 50)));
      try {
        const rows = await prisma.$queryRawUnsafe<(Omit<SyncRunRecord, 'options' | 'warnings'> & { options: string; warnings: string })[]>(
          `${RUN_SELECT} WHERE "tenant_id" = $1 AND ($2::text IS NULL OR "resource" = $2) ORDER BY "started_at" DESC, "id" DESC LIMIT ${limit}`,
          tenantId,
          options.resource ?? null,
        );
        return rows.map((r) => ({ ...r, options: JSON.parse(r.options) as Record<string, unknown>, warnings: JSON.parse(r.warnings) as string[] }));
      } catch (error) {
        throw storeFailure('listRuns', tenantId, error);
      }
    },

    /** Failures recorded for a run (newest last). */
    async listFailures(tenantId: string, runId: string): Promise<SyncFailureRecord[]> {
      assertTenantId(tenantId);
      try {
        const rows = await prisma.$queryRawUnsafe<{ resource: string; shopifyId: string | null; reason: string; createdAt: Date }[]>(
          `SELECT "resource", "shopify_id"::text AS "shopifyId", "reason", "created_at" AS "createdAt" FROM "shopify_sync_failures"
            WHERE "tenant_id" = $1 AND "run_id" = $2 ORDER BY "id"`,
          tenantId,
          runId,
        );
        return rows.map((r) => ({ ...r, shopifyId: r.shopifyId === null ? null : BigInt(r.shopifyId) }));
      } catch (error) {
        throw storeFailure('listFailures', tenantId, error, { runId });
      }
    },
  };
}

/**
 * SQL true when run `s` syncs its resource: not a `retry-failures` run (a few failed records fetched
 * again, the checkpoint untouched). Only such runs decide whether a resource's sync failed and when it
 * last succeeded: records retried with success do not fix a failing sync, nor make it less overdue.
 * Windowed runs (`dateRange`) count: a job with `dateWindowDays` syncs its resource that way.
 */
export function syncingRunSql(alias: string): string {
  return `(${alias}."options"->>'retryFailures') IS DISTINCT FROM 'true'`;
}

/** One (tenant, resource) as `getSyncStatus()` shows it: its latest run, latest finished run, latest success and checkpoint. */
export interface ResourceSyncState {
  tenantId: string;
  resource: string;
  /** The latest run of any status. */
  latest: Pick<SyncRunRecord, 'id' | 'status' | 'mode' | 'error' | 'errorCode' | 'startedAt' | 'finishedAt' | 'warnings'> | null;
  /** The latest run is running now: marked `running` and holding its run lock (`retry-failures` runs take none). */
  running: boolean;
  /** The latest run that succeeded or failed, of those that sync the resource ({@link syncingRunSql}; as the health check does). */
  finished: Pick<SyncRunRecord, 'id' | 'status' | 'error' | 'errorCode' | 'finishedAt'> | null;
  /** When the latest successful run that syncs the resource finished. */
  lastSuccessAt: Date | null;
  checkpoint: Pick<Checkpoint, 'watermark' | 'fullSyncCompletedAt'> & { resumePending: boolean } | null;
}

/**
 * Every tenant's state per resource, in one statement: each run lookup is one backward scan of the
 * `(tenant_id, resource, started_at)` index, so the cost follows tenants x resources, not the run history.
 */
// jsonb comes back parsed from pg, as text from some adapters.
function warningsOf(value: unknown): string[] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.map(String) : [];
}

export async function readResourceSyncStates(db: SqlExecutor, resources: readonly string[], now: Date): Promise<ResourceSyncState[]> {
  // Wrapped like every store call, so a database without the tables says DATABASE_NOT_MIGRATED here too.
  const rows = await db.$queryRawUnsafe<Array<{
    tenantId: string; resource: string;
    latestId: string | null; latestStatus: SyncRunRecord['status'] | null; latestMode: SyncRunRecord['mode'] | null; latestError: string | null; latestErrorCode: string | null; latestStartedAt: Date | null; latestFinishedAt: Date | null; latestWarnings: string[] | null;
    finishedId: string | null; finishedStatus: SyncRunRecord['status'] | null; finishedError: string | null; finishedErrorCode: string | null; finishedAt: Date | null;
    lastSuccessAt: Date | null; running: boolean | null;
    checkpointResource: string | null; watermark: Date | null; fullSyncCompletedAt: Date | null; resumePending: boolean | null;
  }>>(
    `SELECT t."id" AS "tenantId", r.resource,
            cur."id" AS "latestId", cur."status" AS "latestStatus", cur."mode" AS "latestMode", cur."error" AS "latestError", cur."error_code" AS "latestErrorCode",
            cur."started_at" AS "latestStartedAt", cur."finished_at" AS "latestFinishedAt", cur."warnings"::text AS "latestWarnings",
            fin."id" AS "finishedId", fin."status" AS "finishedStatus", fin."error" AS "finishedError", fin."error_code" AS "finishedErrorCode", fin."finished_at" AS "finishedAt",
            ok."finished_at" AS "lastSuccessAt",
            -- A run whose process died stays 'running' until the next run closes it: only a held lock says it runs.
            cur."status" = 'running' AND (${runLockHeldSql('cur', '$2::timestamptz')} OR (cur."options"->>'retryFailures') IS NOT DISTINCT FROM 'true') AS "running",
            c."resource" AS "checkpointResource", c."watermark", c."full_sync_completed_at" AS "fullSyncCompletedAt", c."cursor" IS NOT NULL AS "resumePending"
       FROM "shopify_tenants" t
      CROSS JOIN unnest($1::text[]) AS r(resource)
       LEFT JOIN LATERAL (SELECT s."id", s."tenant_id", s."resource", s."status", s."mode", s."error", s."error_code", s."options", s."warnings", s."started_at", s."finished_at" FROM "shopify_sync_runs" s
                           WHERE s."tenant_id" = t."id" AND s."resource" = r.resource
                           ORDER BY s."started_at" DESC, s."id" DESC LIMIT 1) AS cur ON true
       LEFT JOIN LATERAL (SELECT s."id", s."status", s."error", s."error_code", s."finished_at" FROM "shopify_sync_runs" s
                           WHERE s."tenant_id" = t."id" AND s."resource" = r.resource AND s."status" IN ('succeeded', 'failed') AND ${syncingRunSql('s')}
                           ORDER BY s."started_at" DESC, s."id" DESC LIMIT 1) AS fin ON true
       LEFT JOIN LATERAL (SELECT s."finished_at" FROM "shopify_sync_runs" s
                           WHERE s."tenant_id" = t."id" AND s."resource" = r.resource AND s."status" = 'succeeded' AND ${syncingRunSql('s')}
                           ORDER BY s."started_at" DESC, s."id" DESC LIMIT 1) AS ok ON true
       LEFT JOIN "shopify_sync_checkpoints" c ON c."tenant_id" = t."id" AND c."resource" = r.resource
      ORDER BY t."id", r.resource`,
    [...resources], now.toISOString(),
  ).catch((error: unknown) => { throw storeFailure('readResourceSyncStates', undefined, error); });
  const date = (v: Date | null) => (v === null ? null : new Date(v));
  return rows.map((r) => ({
    tenantId: r.tenantId,
    resource: r.resource,
    latest: r.latestId === null ? null : {
      id: r.latestId, status: r.latestStatus!, mode: r.latestMode!, error: r.latestError, errorCode: r.latestErrorCode, startedAt: new Date(r.latestStartedAt!), finishedAt: date(r.latestFinishedAt),
      warnings: warningsOf(r.latestWarnings),
    },
    finished: r.finishedId === null ? null : { id: r.finishedId, status: r.finishedStatus!, error: r.finishedError, errorCode: r.finishedErrorCode, finishedAt: date(r.finishedAt) },
    lastSuccessAt: date(r.lastSuccessAt),
    running: Boolean(r.running),
    checkpoint: r.checkpointResource === null ? null : { watermark: date(r.watermark), fullSyncCompletedAt: date(r.fullSyncCompletedAt), resumePending: Boolean(r.resumePending) },
  }));
}
