/**
 * Records a sync could not import (`shopify_sync_failures`), across runs.
 *
 * A failure is outstanding until a later write of the same record: every write stamps the row's
 * `synced_at`, so a record whose row was synced after its newest failure is fixed, whether by
 * `retry-failures`, the next sync or a webhook. No extra bookkeeping column is needed for that.
 */
import type { PrismaLike } from './prisma-like.js';
import { storeFailure } from './store-errors.js';
import { RESOURCES } from '../resources/registry.js';

/** One outstanding failure: the newest one recorded for its record. */
export interface OutstandingFailure {
  /** Row id in `shopify_sync_failures`. */
  id: bigint;
  /** The run that recorded it. */
  runId: string;
  /** The tenant. */
  tenantId: string;
  /** The resource. */
  resource: string;
  /** Null when the record's id could not be read. */
  shopifyId: bigint | null;
  /** Why it failed. */
  reason: string;
  /** When it was recorded. */
  createdAt: Date;
}

/** Which failures to list. */
export interface FailureFilter {
  /** Only this tenant. */
  tenantId?: string;
  /** Only this resource. */
  resource?: string;
  /** At most this many, oldest first (default 100, max 10,000). */
  limit?: number;
}

// A later write of the record fixes its failure: a root row of it synced after the failure. Records
// listed through another resource's (refunds through orders) are recorded under the carrier's id, so
// their rows are found by the column holding it. Every resource of the registry, not a list here:
// a resource left out kept its failures outstanding for good, retried by every `retry-failures`.
const fixedLater = RESOURCES.filter((resource) => resource.root.syncedAt).map((resource) =>
  `(f."resource" = '${resource.name}' AND EXISTS (SELECT 1 FROM "${resource.root.table}" r WHERE r."tenant_id" = f."tenant_id" AND r."${resource.ridesOn?.column ?? 'id'}" = f."shopify_id" AND r."synced_at" > f."created_at"))`,
).join(' OR ');

/**
 * Failures no later write fixed, oldest first; per record only the newest failure.
 *
 * @example
 * ```ts
 * const open = await listOutstandingFailures(prisma, { tenantId: 'acme', resource: 'orders' });
 * ```
 */
export async function listOutstandingFailures(prisma: PrismaLike, filter: FailureFilter = {}): Promise<OutstandingFailure[]> {
  const limit = Math.max(1, Math.min(10_000, Math.trunc(filter.limit ?? 100)));
  try {
    const rows = await prisma.$queryRawUnsafe<Array<Omit<OutstandingFailure, 'id' | 'shopifyId'> & { id: string; shopifyId: string | null }>>(
      `SELECT f."id"::text AS "id", f."run_id" AS "runId", f."tenant_id" AS "tenantId", f."resource", f."shopify_id"::text AS "shopifyId",
              f."reason", f."created_at" AS "createdAt"
         FROM "shopify_sync_failures" f
        WHERE ($1::text IS NULL OR f."tenant_id" = $1) AND ($2::text IS NULL OR f."resource" = $2)
          AND (f."shopify_id" IS NULL OR NOT EXISTS (
                SELECT 1 FROM "shopify_sync_failures" g
                 WHERE g."tenant_id" = f."tenant_id" AND g."resource" = f."resource" AND g."shopify_id" = f."shopify_id" AND g."id" > f."id"))
          AND NOT (f."shopify_id" IS NOT NULL AND (${fixedLater}))
        ORDER BY f."id"
        LIMIT ${limit}`,
      filter.tenantId ?? null,
      filter.resource ?? null,
    );
    return rows.map((r) => ({ ...r, id: BigInt(r.id), shopifyId: r.shopifyId === null ? null : BigInt(r.shopifyId) }));
  } catch (error) {
    throw storeFailure('listOutstandingFailures', filter.tenantId, error, { resource: filter.resource });
  }
}

/**
 * Deletes every failure of these records (e.g. records Shopify no longer has: there is nothing
 * left to import). Returns how many rows went.
 *
 * @example
 * ```ts
 * await forgetFailures(prisma, 'acme', 'orders', [450789469n]);
 * ```
 */
export async function forgetFailures(prisma: PrismaLike, tenantId: string, resource: string, shopifyIds: readonly bigint[]): Promise<number> {
  if (shopifyIds.length === 0) return 0;
  try {
    return await prisma.$executeRawUnsafe(
      `DELETE FROM "shopify_sync_failures" WHERE "tenant_id" = $1 AND "resource" = $2 AND "shopify_id" = ANY($3::text[]::bigint[])`,
      tenantId,
      resource,
      shopifyIds.map(String),
    );
  } catch (error) {
    throw storeFailure('forgetFailures', tenantId, error, { resource });
  }
}
