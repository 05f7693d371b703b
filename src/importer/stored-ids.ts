import type { SqlExecutor } from '../store/prisma-like.js';
import type { ResourceType } from '../store/rows.js';

/**
 * Lists stored, not deleted ids of a tenant in (afterId, upToId], ascending, at most `limit`,
 * only rows last changed before `changedBefore` (rows a webhook wrote during the reconciliation
 * must not be tombstoned). Keyset pagination, so memory stays flat whatever the table size.
 */
export type StoredIdLister = (query: {
  tenantId: string;
  resource: ResourceType;
  afterId: bigint | null;
  upToId: bigint | null;
  changedBefore: Date;
  limit: number;
}) => Promise<bigint[]>;

const TABLES: Record<ResourceType, string> = {
  customers: 'shopify_customers',
  products: 'shopify_products',
  orders: 'shopify_orders',
};

/**
 * The one query the importer needs that IngestStore does not offer (it reads only; every write
 * goes through the store). Plain SQL on our table, so any PrismaClient with our models fits.
 */
export function createStoredIdLister(db: SqlExecutor): StoredIdLister {
  return async ({ tenantId, resource, afterId, upToId, changedBefore, limit }) => {
    const rows = await db.$queryRawUnsafe<Array<{ id: bigint | string | number }>>(
      `SELECT id FROM ${TABLES[resource]}
        WHERE tenant_id = $1 AND deleted_at IS NULL
          AND ($2::text IS NULL OR id > $2::bigint)
          AND ($3::text IS NULL OR id <= $3::bigint)
          AND shopify_updated_at < $4::timestamptz
        ORDER BY id LIMIT ${Math.max(1, Math.floor(limit))}`,
      tenantId,
      afterId === null ? null : afterId.toString(),
      upToId === null ? null : upToId.toString(),
      changedBefore.toISOString(),
    );
    return rows.map((r) => BigInt(r.id));
  };
}
