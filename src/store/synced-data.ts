import { assertTenantId } from '../errors.js';
import { getResource, RESOURCES } from '../resources/registry.js';
import { parentOf, type ChildTableDefinition, type ResourceDefinition, type RowSet } from '../resources/definition.js';
import { batchRunnerFor, type DatabaseHandle } from './database-handle.js';
import { EncodedRow, parentIdOfRow, RowEncoder, SlabPool } from './encoded-rows.js';
import { bulkFinalizeSql, bulkRecountSql, countsOf, directCounts, resourceStatements, writtenColumns } from './resource-writer.js';
import type { CustomerRow, OrderBundle, ProductBundle, ResourceType, UpsertResult } from './rows.js';
import { checkTenantOfRows, storeFailure } from './store-errors.js';
import { retrying } from '../retry.js';

/**
 * Runs a single-statement batch write, again (at once, up to twice) when PostgreSQL aborted it as a
 * deadlock victim or a serialisation failure. Safe because every batch write is one idempotent
 * statement: nothing of the failed attempt was committed. Rows are sorted by id to make deadlocks
 * rare; this covers the rest (e.g. a line item moved between two orders written concurrently).
 */
function retryOnConflict<T>(run: () => Promise<T>): Promise<T> {
  return retrying(run, { kind: 'conflict', policy: { retries: 2, factor: 1, minTimeout: 0, maxTimeout: 0 }, sleep: async () => {} });
}
import type { FinalizeBulkOptions, RecordCounts, StoredIdRange, WriteRowsOptions, WriteRowsResult } from './types.js';
export type { WriteRowsOptions, WriteRowsResult } from './types.js';
import { lastByKey, lastSortedById, newestSortedById, sortById } from './versioning.js';

/**
 * Tombstones for ids of a resource's root table (a tombstone row for ids never stored), and for the
 * children a tombstoned parent takes with it (`whenMissing: 'tombstone'`: a deleted product's variants).
 */
function markDeletedSql(resource: ResourceDefinition): string {
  const table = resource.root.table;
  const tomb = `INSERT INTO "${table}" AS t ("tenant_id", "id", "shopify_updated_at", "deleted_at", "payload")
    SELECT $1, x."id", $3::timestamptz, $3::timestamptz, jsonb_build_object('id', x."id") FROM unnest($2::bigint[]) AS x("id")
    ON CONFLICT ("tenant_id", "id") DO UPDATE SET "deleted_at" = excluded."deleted_at", "shopify_updated_at" = excluded."shopify_updated_at", "synced_at" = now(), "deletion_inferred" = false
    WHERE (t."deleted_at" IS NULL OR t."deletion_inferred") AND t."shopify_updated_at" <= excluded."shopify_updated_at"
    RETURNING t."id"`;
  const cascades = resource.children
    .filter((c) => c.parent === resource.root.key && c.whenMissing === 'tombstone' && c.versioned)
    .map((c, k) => `, c${k} AS (UPDATE "${c.table}" d SET "deleted_at" = $3::timestamptz, "shopify_updated_at" = GREATEST(d."shopify_updated_at", $3::timestamptz)${c.syncedAt ? ', "synced_at" = now()' : ''}
         FROM tomb WHERE d."tenant_id" = $1 AND d."${c.parentColumn}" = tomb."id" AND d."deleted_at" IS NULL RETURNING 1)`)
    .join('');
  // Records listed through this resource's (an order's refunds, transactions, fulfillments) go with it.
  const riders = (RESOURCES as readonly ResourceDefinition[])
    .filter((r) => r.ridesOn?.resource === resource.name)
    .map((r, k) => `, r${k} AS (UPDATE "${r.root.table}" d SET "deleted_at" = $3::timestamptz, "shopify_updated_at" = GREATEST(d."shopify_updated_at", $3::timestamptz)${r.root.syncedAt ? ', "synced_at" = now()' : ''}
         FROM tomb WHERE d."tenant_id" = $1 AND d."${r.ridesOn!.column}" = tomb."id" AND d."deleted_at" IS NULL RETURNING 1)`)
    .join('');
  return `WITH tomb AS (${tomb})${cascades}${riders} SELECT count(*)::int AS "written" FROM tomb`;
}

/** `SELECT count(*) ...` of every table of every resource, by table key: live rows of live parents. */
function countSql(includeDeleted: boolean): string {
  const parts: string[] = [];
  for (const resource of RESOURCES as readonly ResourceDefinition[]) {
    const root = resource.root;
    parts.push(`(SELECT count(*) FROM "${root.table}" WHERE "tenant_id" = $1${includeDeleted || !root.versioned ? '' : ' AND "deleted_at" IS NULL'})::int AS "${root.key}"`);
    for (const child of resource.children) {
      const parent = parentOf(resource, child);
      const live = includeDeleted ? '' : `${child.versioned ? ' AND c."deleted_at" IS NULL' : ''}${parent.versioned ? ' AND p."deleted_at" IS NULL' : ''}`;
      parts.push(`(SELECT count(*) FROM "${child.table}" c JOIN "${parent.table}" p ON p."tenant_id" = c."tenant_id" AND p."id" = c."${child.parentColumn}"
        WHERE c."tenant_id" = $1${live})::int AS "${child.key}"`);
    }
  }
  return `SELECT ${parts.join(',\n  ')}`;
}

function uniqueIds(ids: readonly bigint[]): string[] {
  return [...new Set(ids.map((id) => BigInt(id).toString()))];
}

export interface OrdersWriteResult extends UpsertResult {
  /** Line items written. */
  lineItems: number;
  /** Line items no longer on their order, deleted. */
  lineItemsRemoved: number;
  /** Order events written. */
  events: number;
  /** Order events removed. */
  eventsRemoved: number;
}

export interface ProductsWriteResult extends UpsertResult {
  /** Variants written. */
  variants: number;
  /** Variants no longer on their product, deleted. */
  variantsRemoved: number;
}

/** Prepares a row set for one statement: tenant check, one version per key, id order (lock order). */
function prepareRows(op: string, tenantId: string, resource: ResourceDefinition, rows: RowSet, mode: 'complete' | 'bulk'): unknown[][] {
  const root = (rows[resource.root.key] ?? []) as Array<{ id: bigint; shopifyUpdatedAt: Date; deletedAt: Date | null }>;
  checkTenantOfRows(tenantId, resource.root.key, root as { tenantId?: string }[]);
  const out: unknown[][] = [resource.root.versioned ? newestSortedById(root) : lastSortedById(root)];
  for (const child of resource.children) {
    const list = (rows[child.key] ?? []) as Array<Record<string, unknown>>;
    checkTenantOfRows(tenantId, child.key, list as { tenantId?: string }[]);
    if (mode === 'complete' || !child.bulkType) {
      const parentRows = (child.parent === resource.root.key ? root : rows[child.parent] ?? []) as { id: bigint }[];
      checkParents(op, tenantId, parentRows, list, (c) => parentIdOfRow(child, c));
    }
    out.push(dedupeChild(child, list));
  }
  return out;
}

function dedupeChild(child: ChildTableDefinition, list: Array<Record<string, unknown>>): unknown[] {
  if (child.versioned) return newestSortedById(list as unknown as Array<{ id: bigint; shopifyUpdatedAt: Date; deletedAt: Date | null }>);
  if (child.conflict.length === 1 && child.conflict[0] === 'id') return lastSortedById(list as unknown as Array<{ id: bigint }>);
  const keyOf = (row: Record<string, unknown>) => row instanceof EncodedRow ? row.key : child.columns.filter((c) => child.conflict.includes(c.column)).map((c) => String(c.value(row))).join(':');
  const unique = lastByKey(list, keyOf);
  return child.conflict.includes('id') ? sortById(unique as unknown as { id: bigint }[]) : unique;
}

/** The synced-data half of the store: set-based upserts, tombstones, lookups. */
export function createSyncedDataStore(db: DatabaseHandle) {
  const { prisma } = db;
  const batches = batchRunnerFor(db);
  const markDeletedSqls = new Map<string, string>();
  const api = {
    /**
     * An encoder of `resource`'s rows into COPY text as they are read (encoded-rows.ts), whose rows
     * {@link writeRows} takes in place of row objects; null when this database's writes do not stream
     * COPY (no pool that checks out connections). `counted`: count columns set after encoding.
     */
    rowEncoder(resourceName: string, counted: readonly string[] = []): RowEncoder | null {
      if (!batches.direct) return null;
      const resource = getResource(resourceName);
      return new RowEncoder(resource, new SlabPool(), { columnsOf: (t) => writtenColumns(resource, t), counted });
    },
    /**
     * Writes one batch of a resource's rows (every table) in one statement. See resource-writer.ts
     * for the two modes.
     */
    async writeRows(tenantId: string, resourceName: string, rows: RowSet, options: WriteRowsOptions = {}): Promise<WriteRowsResult> {
      assertTenantId(tenantId);
      const resource = getResource(resourceName);
      const mode = options.mode ?? 'complete';
      const op = options.op ?? `write ${resource.name}`;
      const inputs = prepareRows(op, tenantId, resource, rows, mode);
      const total = inputs.reduce((n, list) => n + list.length, 0);
      const rootCount = (rows[resource.root.key] ?? []).length;
      if (total === 0) return { written: 0, stale: 0, tables: countsOf({}) };
      const statements = resourceStatements(resource);
      const statement = mode === 'bulk' && statements.bulk ? statements.bulk : statements.complete;
      // A bulk file's batches: a checkpoint written after them always vouches for them (see asyncCommit).
      const commit = { asyncCommit: mode === 'bulk' };
      try {
        // Children matched to their parent by more than its id (metafields: owner type too) always take
        // the bulk statement: the direct form's parent check compares ids and tags only.
        if (mode === 'bulk' && options.direct && batches.direct && !resource.children.some((c) => c.parentKey?.length)) {
          const direct = batches.direct;
          if (await retryOnConflict(() => direct(statements.direct, tenantId, inputs, commit))) {
            const written = inputs[0].length;
            return { written, stale: rootCount - written, tables: directCounts(resource, inputs), direct: true };
          }
        }
        const { rows: [r] } = await retryOnConflict(() => batches.write<Record<string, number>>(statement, tenantId, inputs, commit));
        const tables = countsOf(r);
        const written = tables.written[resource.root.key] ?? 0;
        return { written, stale: rootCount - written, tables, ...(mode === 'bulk' && options.direct ? { direct: false } : {}) };
      } catch (error) {
        throw storeFailure(op, tenantId, error, Object.fromEntries(inputs.map((list, k) => [k === 0 ? resource.root.key : resource.children[k - 1].key, list.length])));
      }
    },

    /**
     * After a bulk operation's output is written: removes (or tombstones) the children of the rows
     * tagged `syncTag` that the operation did not list, and recounts count columns, in chunks of
     * `chunkSize` parents so a store of any size is done in bounded statements.
     */
    async finalizeBulk(tenantId: string, resourceName: string, syncTag: string, options: FinalizeBulkOptions = {}): Promise<{ removed: Record<string, number>; recounted: Record<string, number> }> {
      assertTenantId(tenantId);
      const resource = getResource(resourceName);
      const removed: Record<string, number> = {};
      const recounted: Record<string, number> = {};
      const chunk = Math.max(1, options.chunkSize ?? 2000);
      if (options.newParents) {
        // Every parent was new: nothing of theirs can be gone; only late children's parents are recounted.
        const ids = [...new Set(options.newParents.recount)].map(String);
        for (const child of resource.children) {
          if (!child.bulkType) continue;
          removed[child.key] = 0;
          if (!child.countColumn) continue;
          recounted[child.key] = 0;
          const sql = bulkRecountSql(resource, child);
          for (let at = 0; at < ids.length; at += chunk) {
            try {
              const [row] = await retryOnConflict(() => batches.all<{ recounted: number }>(sql, [tenantId, syncTag, ids.slice(at, at + chunk).join(',')]));
              recounted[child.key] += Number(row.recounted);
            } catch (error) {
              throw storeFailure('finalizeBulk', tenantId, error, { resource: resource.name, table: child.key });
            }
          }
        }
        return { removed, recounted };
      }
      // Statistics first: the operation just filled these tables. With the statistics of the smaller
      // table they were, the planner fetched every remaining row of the tenant for each chunk of
      // parents instead of walking the primary key (1,000,000 orders: up to ~2 s per chunk of 2,000,
      // 500 chunks). ANALYZE samples a bounded number of rows. Best effort: a role that does
      // not own the tables gets a warning from PostgreSQL, and any failure only costs speed.
      const tables = [...new Set(resource.children.filter((c) => c.bulkType).flatMap((c) => [c.table, parentOf(resource, c).table]))];
      if (tables.length > 0) await prisma.$executeRawUnsafe(`ANALYZE ${tables.map((t) => `"${t}"`).join(', ')}`).catch(() => {});
      for (const child of resource.children) {
        if (!child.bulkType) continue;
        const sql = bulkFinalizeSql(resource, child);
        removed[child.key] = 0;
        if (child.countColumn) recounted[child.key] = 0;
        let after = '-9223372036854775808';
        for (;;) {
          let row: { last: string | null; removed: number; recounted: number };
          try {
            [row] = await retryOnConflict(() => batches.all<{ last: string | null; removed: number; recounted: number }>(sql, [tenantId, syncTag, after, chunk]));
          } catch (error) {
            throw storeFailure('finalizeBulk', tenantId, error, { resource: resource.name, table: child.key });
          }
          removed[child.key] += Number(row.removed);
          if (child.countColumn) recounted[child.key] += Number(row.recounted);
          if (row.last === null) break;
          after = row.last;
        }
      }
      return { removed, recounted };
    },

    async upsertCustomers(tenantId: string, rows: CustomerRow[]): Promise<UpsertResult> {
      const { written, stale } = await api.writeRows(tenantId, 'customers', { customers: rows }, { op: 'upsertCustomers' });
      return { written, stale };
    },

    async upsertProducts(tenantId: string, bundle: ProductBundle): Promise<ProductsWriteResult> {
      if (bundle.products.length === 0 && bundle.variants.length) {
        throw storeFailure('upsertProducts', tenantId, new Error('variants without their products'), {}, 'ORPHAN_ROWS');
      }
      const r = await api.writeRows(tenantId, 'products', bundle as unknown as RowSet, { op: 'upsertProducts' });
      return { written: r.written, stale: r.stale, variants: r.tables.written.variants ?? 0, variantsRemoved: r.tables.removed.variants ?? 0 };
    },

    async upsertOrders(tenantId: string, bundle: OrderBundle): Promise<OrdersWriteResult> {
      if (bundle.orders.length === 0 && (bundle.lineItems.length || bundle.events.length)) {
        throw storeFailure('upsertOrders', tenantId, new Error('line items or events without their orders'), {}, 'ORPHAN_ROWS');
      }
      const r = await api.writeRows(tenantId, 'orders', bundle as unknown as RowSet, { op: 'upsertOrders' });
      return { written: r.written, stale: r.stale, lineItems: r.tables.written.lineItems ?? 0, lineItemsRemoved: r.tables.removed.lineItems ?? 0, events: r.tables.written.events ?? 0, eventsRemoved: r.tables.removed.events ?? 0 };
    },

    async markDeleted(tenantId: string, resource: ResourceType, ids: bigint[], deletedAt: Date): Promise<number> {
      assertTenantId(tenantId);
      const definition = definitionOf('markDeleted', tenantId, resource);
      let sql = markDeletedSqls.get(definition.name);
      if (!sql) markDeletedSqls.set(definition.name, sql = markDeletedSql(definition));
      if (ids.length === 0) return 0;
      if (!(deletedAt instanceof Date) || Number.isNaN(deletedAt.getTime())) {
        throw storeFailure('markDeleted', tenantId, new Error('deletedAt must be a valid Date'), {}, 'STORE_INVALID_INPUT');
      }
      try {
        const unique = uniqueIds(ids).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
        const [{ written }] = await retryOnConflict(() => prisma.$queryRawUnsafe<{ written: number }[]>(sql, tenantId, unique, deletedAt.toISOString()));
        return written;
      } catch (error) {
        throw storeFailure('markDeleted', tenantId, error, { resource, ids: ids.length });
      }
    },

    async listStoredIds(tenantId: string, resource: ResourceType, range: StoredIdRange): Promise<bigint[]> {
      assertTenantId(tenantId);
      const table = definitionOf('listStoredIds', tenantId, resource).root.table;
      try {
        const rows = await prisma.$queryRawUnsafe<{ id: string }[]>(
          `SELECT "id"::text AS "id" FROM "${table}"
            WHERE "tenant_id" = $1 AND "deleted_at" IS NULL
              AND ($2::text IS NULL OR "id" > $2::bigint)
              AND ($3::text IS NULL OR "id" <= $3::bigint)
              AND "shopify_updated_at" < $4::timestamptz
            ORDER BY "id" LIMIT ${Math.max(1, Math.floor(range.limit))}`,
          tenantId,
          range.afterId === null ? null : range.afterId.toString(),
          range.upToId === null ? null : range.upToId.toString(),
          range.changedBefore.toISOString(),
        );
        return rows.map((r) => BigInt(r.id));
      } catch (error) {
        throw storeFailure('listStoredIds', tenantId, error, { resource });
      }
    },

    async existingIds(tenantId: string, resource: ResourceType, ids: bigint[]): Promise<Set<bigint>> {
      assertTenantId(tenantId);
      const root = definitionOf('existingIds', tenantId, resource).root;
      const table = root.table;
      if (ids.length === 0) return new Set();
      // A tombstone inferred by reconciliation is not final (Shopify listing the record again revives it): not "existing".
      const live = root.versioned ? ' AND ("deleted_at" IS NULL OR NOT "deletion_inferred")' : '';
      try {
        const rows = await prisma.$queryRawUnsafe<{ id: string }[]>(
          `SELECT "id"::text AS "id" FROM "${table}" WHERE "tenant_id" = $1 AND "id" = ANY($2::bigint[])${live}`,
          tenantId,
          uniqueIds(ids),
        );
        return new Set(rows.map((r) => BigInt(r.id)));
      } catch (error) {
        throw storeFailure('existingIds', tenantId, error, { resource });
      }
    },

    /** Adds ids of a complete listing (deletion reconciliation) under `listingId`. */
    async addListedIds(tenantId: string, resource: string, listingId: string, ids: bigint[]): Promise<void> {
      assertTenantId(tenantId);
      if (ids.length === 0) return;
      try {
        await prisma.$executeRawUnsafe(
          `INSERT INTO "shopify_listed_ids" ("tenant_id", "resource", "listing_id", "id") SELECT $1, $2, $3, x FROM unnest($4::bigint[]) AS x ON CONFLICT DO NOTHING`,
          tenantId, resource, listingId, uniqueIds(ids),
        );
      } catch (error) {
        throw storeFailure('addListedIds', tenantId, error, { resource });
      }
    },

    /**
     * Tombstones (inferred: revocable by a later listing) the stored live records of `resource` that
     * the listing `listingId` lacks and that have not changed since `changedBefore` (a webhook may have
     * written them meanwhile), in chunks of the id range. Returns how many.
     */
    async tombstoneUnlisted(tenantId: string, resource: string, listingId: string, changedBefore: Date): Promise<number> {
      assertTenantId(tenantId);
      const definition = definitionOf('tombstoneUnlisted', tenantId, resource);
      const root = definition.root.table;
      const cascades = definition.children
        .filter((c) => c.parent === definition.root.key && c.whenMissing === 'tombstone' && c.versioned)
        .map((c, k) => `, c${k} AS (UPDATE "${c.table}" d SET "deleted_at" = $4::timestamptz, "deletion_inferred" = true${c.syncedAt ? ', "synced_at" = now()' : ''}
            FROM gone WHERE d."tenant_id" = $1 AND d."${c.parentColumn}" = gone."id" AND d."deleted_at" IS NULL RETURNING 1)`).join('');
      // `OFFSET 0` keeps the NOT EXISTS a per-row probe of the primary key. The listing was just
      // written, so its table has no statistics yet: as an anti-join the planner expected one listed
      // id and scanned the whole listing once per stored row (50,000 customers: 20-30 s per chunk of
      // 5,000, quadratic in the shop's size; with the probe ~50 ms).
      const sql = `WITH chunk AS MATERIALIZED (SELECT "id" FROM "${root}" WHERE "tenant_id" = $1 AND "id" > $5::bigint ORDER BY "id" LIMIT 5000),
        gone AS (UPDATE "${root}" t SET "deleted_at" = $4::timestamptz, "deletion_inferred" = true, "synced_at" = now()
          FROM chunk WHERE t."tenant_id" = $1 AND t."id" = chunk."id" AND t."deleted_at" IS NULL AND t."shopify_updated_at" < $4::timestamptz
            AND NOT EXISTS (SELECT 1 FROM "shopify_listed_ids" l WHERE l."tenant_id" = $1 AND l."resource" = $2 AND l."listing_id" = $3 AND l."id" = t."id" OFFSET 0)
          RETURNING t."id")${cascades}
        SELECT (SELECT max("id") FROM chunk)::text AS "last", (SELECT count(*) FROM gone)::int AS "gone"`;
      let after = '-9223372036854775808';
      let total = 0;
      try {
        for (;;) {
          const [row] = await retryOnConflict(() => prisma.$queryRawUnsafe<{ last: string | null; gone: number }[]>(sql, tenantId, resource, listingId, changedBefore.toISOString(), after));
          total += Number(row.gone);
          if (row.last === null) return total;
          after = row.last;
        }
      } catch (error) {
        throw storeFailure('tombstoneUnlisted', tenantId, error, { resource });
      }
    },

    /** Forgets a listing's ids. */
    async clearListedIds(tenantId: string, resource: string, listingId: string): Promise<void> {
      assertTenantId(tenantId);
      try {
        await prisma.$executeRawUnsafe(`DELETE FROM "shopify_listed_ids" WHERE "tenant_id" = $1 AND "resource" = $2 AND "listing_id" = $3`, tenantId, resource, listingId);
      } catch (error) {
        throw storeFailure('clearListedIds', tenantId, error, { resource });
      }
    },

    async countRecords(tenantId: string, options: { includeDeleted?: boolean } = {}): Promise<RecordCounts> {
      assertTenantId(tenantId);
      try {
        const [r] = await prisma.$queryRawUnsafe<RecordCounts[]>(options.includeDeleted ? countAll : countLive, tenantId);
        return r;
      } catch (error) {
        throw storeFailure('countRecords', tenantId, error);
      }
    },
  };
  return api;
}

const countLive = countSql(false);
const countAll = countSql(true);

/** The resource named `name`, or a STORE_INVALID_INPUT failure. */
function definitionOf(op: string, tenantId: string, name: string): ResourceDefinition {
  try {
    return getResource(name);
  } catch (error) {
    throw storeFailure(op, tenantId, error, {}, 'STORE_INVALID_INPUT');
  }
}

/** Children (line items, events, variants) must come with their parent in the same batch. */
function checkParents<C>(op: string, tenantId: string, parents: readonly { id: bigint }[], children: readonly C[], parentId: (c: C) => bigint): void {
  if (children.length === 0) return;
  const ids = new Set(parents.map((p) => p.id));
  const orphan = children.find((c) => !ids.has(parentId(c)));
  if (orphan !== undefined) {
    throw storeFailure(op, tenantId, new Error(`a child row references ${parentId(orphan)}, which is not in the batch`), { parentId: String(parentId(orphan)) }, 'ORPHAN_ROWS');
  }
}
