import { assertTenantId } from '../errors.js';
import {
  customerColumns,
  lineItemColumns,
  orderColumns,
  orderEventColumns,
  productColumns,
  quoteColumns,
  setExcluded,
  variantColumns,
  type ColumnSpec,
} from './columns.js';
import { batchStatement, type BatchSource } from './batch-statement.js';
import { batchRunnerFor } from './direct-pg.js';
import type { PrismaLike } from './prisma-like.js';
import type { CustomerRow, OrderBundle, ProductBundle, ResourceType, UpsertResult } from './rows.js';
import { checkTenantOfRows, retryOnConflict, storeFailure } from './store-errors.js';
import type { RecordCounts, StoredIdRange } from './types.js';
import { lastByKey, newestById, sortById, VERSION_GUARD } from './versioning.js';

export const RESOURCE_TABLES: Record<ResourceType, string> = {
  customers: 'shopify_customers',
  products: 'shopify_products',
  orders: 'shopify_orders',
};

/**
 * `INSERT INTO table SELECT $1, i.* FROM <source> ON CONFLICT (tenant_id, <key>) DO UPDATE ...`:
 * one statement writes a whole batch ($1 tenant; the source is the batch's JSON parameter or its
 * staging table, see {@link batchStatement}).
 */
function upsertStatement<R>(input: {
  table: string;
  columns: readonly ColumnSpec<R>[];
  from: BatchSource;
  conflict: string[];
  /** WHERE of the DO UPDATE (stored row alias `t`); none = always update. */
  guard?: string;
  syncedAt?: boolean;
  returning?: string;
}): string {
  const { table, columns, from, conflict } = input;
  const updatable = columns.filter((c) => !conflict.includes(c.column));
  const synced = input.syncedAt !== false;
  return `INSERT INTO "${table}" AS t ("tenant_id", ${quoteColumns(columns)}${synced ? ', "synced_at"' : ''})
    SELECT $1, ${quoteColumns(columns, 'i.')}${synced ? ', now()' : ''} FROM ${from('i')}
    ON CONFLICT ("tenant_id", ${conflict.map((c) => `"${c}"`).join(', ')}) DO UPDATE SET ${setExcluded(updatable)}${synced ? ', "synced_at" = excluded."synced_at"' : ''}
    ${input.guard ? `WHERE ${input.guard}` : ''}
    ${input.returning ? `RETURNING ${input.returning}` : ''}`;
}

/** Customers have no children: the statement's own row count (inserted + updated, not the rows the guard skipped) is `written`. */
const CUSTOMERS_SQL = batchStatement([{ name: 'si_stage_customers', columns: customerColumns }], 'count', (customers) => upsertStatement({
  table: 'shopify_customers',
  columns: customerColumns,
  from: customers,
  conflict: ['id'],
  guard: VERSION_GUARD('t'),
}));

/**
 * Orders, line items and events in ONE statement (atomic without an interactive transaction, one
 * round-trip). Inputs: orders, line items, events ($1 tenant).
 *
 * `won` holds the orders whose incoming version won the version guard; only their children are
 * touched: children no longer in the order are deleted, the rest upserted. Children of orders that
 * lost (stale versions) are left as they are. Only orders that were already stored (`updated`:
 * `xmax <> 0` tells an ON CONFLICT update from an insert) can have stored children to delete, so a
 * first import, where every order is new, skips the delete scans entirely; otherwise the stored
 * children are found through the (tenant_id, order_id) index, bounded by the batch.
 */
function ordersSql(orders: BatchSource, lineItems: BatchSource, events: BatchSource): string {
  return `WITH won AS (${upsertStatement({
    table: 'shopify_orders',
    columns: orderColumns,
    from: orders,
    conflict: ['id'],
    guard: VERSION_GUARD('t'),
    returning: 't."id", (t.xmax <> 0) AS "updated"',
  })}),
  updated AS MATERIALIZED (SELECT array_agg("id") AS "ids" FROM won WHERE "updated"),
  li_in AS MATERIALIZED (SELECT * FROM ${lineItems('l')}),
  li_del AS (
    DELETE FROM "shopify_order_line_items" d
    WHERE d."tenant_id" = $1 AND d."order_id" = ANY((SELECT "ids" FROM updated)::bigint[])
      AND NOT EXISTS (SELECT 1 FROM li_in WHERE li_in."id" = d."id")
    RETURNING 1
  ),
  li_up AS (
    INSERT INTO "shopify_order_line_items" AS t ("tenant_id", ${quoteColumns(lineItemColumns)})
    SELECT $1, ${quoteColumns(lineItemColumns, 'i.')} FROM li_in i JOIN won ON won."id" = i."order_id"
    ON CONFLICT ("tenant_id", "id") DO UPDATE SET ${setExcluded(lineItemColumns.filter((c) => c.column !== 'id'))}
    RETURNING 1
  ),
  ev_in AS MATERIALIZED (SELECT * FROM ${events('e')}),
  ev_del AS (
    DELETE FROM "shopify_order_events" d
    WHERE d."tenant_id" = $1 AND d."order_id" = ANY((SELECT "ids" FROM updated)::bigint[])
      AND NOT EXISTS (SELECT 1 FROM ev_in e WHERE e."order_id" = d."order_id" AND e."type" = d."type" AND e."source_id" = d."source_id")
    RETURNING 1
  ),
  ev_up AS (
    INSERT INTO "shopify_order_events" AS t ("tenant_id", ${quoteColumns(orderEventColumns)})
    SELECT $1, ${quoteColumns(orderEventColumns, 'i.')} FROM ev_in i JOIN won ON won."id" = i."order_id"
    ON CONFLICT ("tenant_id", "order_id", "type", "source_id") DO UPDATE SET "occurred_at" = excluded."occurred_at", "amount" = excluded."amount"
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM won)::int AS "written",
         (SELECT count(*) FROM li_up)::int AS "lineItems",
         (SELECT count(*) FROM li_del)::int AS "lineItemsRemoved",
         (SELECT count(*) FROM ev_up)::int AS "events",
         (SELECT count(*) FROM ev_del)::int AS "eventsRemoved"`;
}
const ORDERS_SQL = batchStatement([
  { name: 'si_stage_orders', columns: orderColumns },
  { name: 'si_stage_order_line_items', columns: lineItemColumns },
  { name: 'si_stage_order_events', columns: orderEventColumns },
], 'rows', ordersSql);

/**
 * Products and variants in one statement (inputs: products, variants; $1 tenant). Variants of a winning product that are no longer in
 * it were deleted at Shopify: they get a tombstone (a product payload always lists all its variants:
 * https://shopify.dev/docs/api/admin-rest/latest/resources/product). Variants follow the version rule
 * themselves, and only those of winning products are written.
 */
function productsSql(products: BatchSource, variants: BatchSource): string {
  return `WITH won AS (${upsertStatement({
    table: 'shopify_products',
    columns: productColumns,
    from: products,
    conflict: ['id'],
    guard: VERSION_GUARD('t'),
    returning: 't."id", t."shopify_updated_at", (t.xmax <> 0) AS "updated"',
  })}),
  v_in AS MATERIALIZED (SELECT * FROM ${variants('v')}),
  v_gone AS (
    UPDATE "shopify_product_variants" d
       SET "deleted_at" = won."shopify_updated_at", "shopify_updated_at" = GREATEST(d."shopify_updated_at", won."shopify_updated_at"), "synced_at" = now()
      FROM won
     WHERE won."updated" AND d."tenant_id" = $1 AND d."product_id" = won."id" AND d."deleted_at" IS NULL
       AND NOT EXISTS (SELECT 1 FROM v_in WHERE v_in."id" = d."id")
    RETURNING 1
  ),
  v_up AS (
    INSERT INTO "shopify_product_variants" AS t ("tenant_id", ${quoteColumns(variantColumns)}, "synced_at")
    SELECT $1, ${quoteColumns(variantColumns, 'i.')}, now() FROM v_in i JOIN won ON won."id" = i."product_id"
    ON CONFLICT ("tenant_id", "id") DO UPDATE SET ${setExcluded(variantColumns.filter((c) => c.column !== 'id'))}, "synced_at" = excluded."synced_at"
    WHERE ${VERSION_GUARD('t')}
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM won)::int AS "written",
         (SELECT count(*) FROM v_up)::int AS "variants",
         (SELECT count(*) FROM v_gone)::int AS "variantsRemoved"`;
}
const PRODUCTS_SQL = batchStatement([
  { name: 'si_stage_products', columns: productColumns },
  { name: 'si_stage_product_variants', columns: variantColumns },
], 'rows', productsSql);

function markDeletedSql(resource: ResourceType): string {
  const table = RESOURCE_TABLES[resource];
  const tomb = `INSERT INTO "${table}" AS t ("tenant_id", "id", "shopify_updated_at", "deleted_at", "payload")
    SELECT $1, x."id", $3::timestamptz, $3::timestamptz, jsonb_build_object('id', x."id") FROM unnest($2::bigint[]) AS x("id")
    ON CONFLICT ("tenant_id", "id") DO UPDATE SET "deleted_at" = excluded."deleted_at", "shopify_updated_at" = excluded."shopify_updated_at", "synced_at" = now()
    WHERE t."deleted_at" IS NULL AND t."shopify_updated_at" <= excluded."shopify_updated_at"
    RETURNING t."id"`;
  // A deleted product takes its variants with it.
  const variants = resource === 'products'
    ? `, v AS (UPDATE "shopify_product_variants" d SET "deleted_at" = $3::timestamptz, "shopify_updated_at" = GREATEST(d."shopify_updated_at", $3::timestamptz), "synced_at" = now()
         FROM tomb WHERE d."tenant_id" = $1 AND d."product_id" = tomb."id" AND d."deleted_at" IS NULL RETURNING 1)`
    : '';
  return `WITH tomb AS (${tomb})${variants} SELECT count(*)::int AS "written" FROM tomb`;
}
const MARK_DELETED_SQL: Record<ResourceType, string> = {
  customers: markDeletedSql('customers'),
  products: markDeletedSql('products'),
  orders: markDeletedSql('orders'),
};

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

/** The synced-data half of the store: set-based upserts, tombstones, lookups. */
export function createSyncedDataStore(prisma: PrismaLike) {
  const batches = batchRunnerFor(prisma);
  return {
    async upsertCustomers(tenantId: string, rows: CustomerRow[]): Promise<UpsertResult> {
      assertTenantId(tenantId);
      if (rows.length === 0) return { written: 0, stale: 0 };
      checkTenantOfRows(tenantId, 'customers', rows);
      const batch = sortById(newestById(rows));
      try {
        const { count: written } = await retryOnConflict(() => batches.write(CUSTOMERS_SQL, tenantId, [batch]));
        return { written, stale: rows.length - written };
      } catch (error) {
        throw storeFailure('upsertCustomers', tenantId, error, { rows: rows.length });
      }
    },

    async upsertProducts(tenantId: string, bundle: ProductBundle): Promise<ProductsWriteResult> {
      assertTenantId(tenantId);
      if (bundle.products.length === 0) {
        if (bundle.variants.length) throw storeFailure('upsertProducts', tenantId, new Error('variants without their products'), {}, 'ORPHAN_ROWS');
        return { written: 0, stale: 0, variants: 0, variantsRemoved: 0 };
      }
      checkTenantOfRows(tenantId, 'products', bundle.products);
      checkTenantOfRows(tenantId, 'variants', bundle.variants);
      const products = sortById(newestById(bundle.products));
      checkParents('upsertProducts', tenantId, products, bundle.variants, (v) => v.productId);
      const variants = sortById(newestById(bundle.variants));
      try {
        const { rows: [r] } = await retryOnConflict(() => batches.write<{ written: number; variants: number; variantsRemoved: number }>(PRODUCTS_SQL, tenantId, [products, variants]));
        return { written: r.written, stale: bundle.products.length - r.written, variants: r.variants, variantsRemoved: r.variantsRemoved };
      } catch (error) {
        throw storeFailure('upsertProducts', tenantId, error, { products: bundle.products.length, variants: bundle.variants.length });
      }
    },

    async upsertOrders(tenantId: string, bundle: OrderBundle): Promise<OrdersWriteResult> {
      assertTenantId(tenantId);
      if (bundle.orders.length === 0) {
        if (bundle.lineItems.length || bundle.events.length) throw storeFailure('upsertOrders', tenantId, new Error('line items or events without their orders'), {}, 'ORPHAN_ROWS');
        return { written: 0, stale: 0, lineItems: 0, lineItemsRemoved: 0, events: 0, eventsRemoved: 0 };
      }
      checkTenantOfRows(tenantId, 'orders', bundle.orders);
      checkTenantOfRows(tenantId, 'lineItems', bundle.lineItems);
      checkTenantOfRows(tenantId, 'events', bundle.events);
      const orders = sortById(newestById(bundle.orders));
      checkParents('upsertOrders', tenantId, orders, bundle.lineItems, (l) => l.orderId);
      checkParents('upsertOrders', tenantId, orders, bundle.events, (e) => e.orderId);
      const lineItems = sortById(lastByKey(bundle.lineItems, (l) => l.id));
      const events = lastByKey(bundle.events, (e) => `${e.orderId}:${e.type}:${e.sourceId}`);
      try {
        const { rows: [r] } = await retryOnConflict(() => batches.write<Omit<OrdersWriteResult, 'stale'>>(ORDERS_SQL, tenantId, [orders, lineItems, events]));
        return { ...r, stale: bundle.orders.length - r.written };
      } catch (error) {
        throw storeFailure('upsertOrders', tenantId, error, { orders: bundle.orders.length, lineItems: bundle.lineItems.length });
      }
    },

    async markDeleted(tenantId: string, resource: ResourceType, ids: bigint[], deletedAt: Date): Promise<number> {
      assertTenantId(tenantId);
      const sql = MARK_DELETED_SQL[resource];
      if (!sql) throw storeFailure('markDeleted', tenantId, new Error(`unknown resource ${String(resource)}`), {}, 'STORE_INVALID_INPUT');
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
      const table = RESOURCE_TABLES[resource];
      if (!table) throw storeFailure('listStoredIds', tenantId, new Error(`unknown resource ${String(resource)}`), {}, 'STORE_INVALID_INPUT');
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
      const table = RESOURCE_TABLES[resource];
      if (!table) throw storeFailure('existingIds', tenantId, new Error(`unknown resource ${String(resource)}`), {}, 'STORE_INVALID_INPUT');
      if (ids.length === 0) return new Set();
      try {
        const rows = await prisma.$queryRawUnsafe<{ id: string }[]>(
          `SELECT "id"::text AS "id" FROM "${table}" WHERE "tenant_id" = $1 AND "id" = ANY($2::bigint[])`,
          tenantId,
          uniqueIds(ids),
        );
        return new Set(rows.map((r) => BigInt(r.id)));
      } catch (error) {
        throw storeFailure('existingIds', tenantId, error, { resource });
      }
    },

    async countRecords(tenantId: string, options: { includeDeleted?: boolean } = {}): Promise<RecordCounts> {
      assertTenantId(tenantId);
      const live = options.includeDeleted ? '' : ' AND "deleted_at" IS NULL';
      const liveOrder = options.includeDeleted ? '' : ' AND o."deleted_at" IS NULL';
      try {
        const [r] = await prisma.$queryRawUnsafe<RecordCounts[]>(
          `SELECT
            (SELECT count(*) FROM "shopify_customers" WHERE "tenant_id" = $1${live})::int AS "customers",
            (SELECT count(*) FROM "shopify_products" WHERE "tenant_id" = $1${live})::int AS "products",
            (SELECT count(*) FROM "shopify_product_variants" WHERE "tenant_id" = $1${live})::int AS "variants",
            (SELECT count(*) FROM "shopify_orders" WHERE "tenant_id" = $1${live})::int AS "orders",
            (SELECT count(*) FROM "shopify_order_line_items" l JOIN "shopify_orders" o ON o."tenant_id" = l."tenant_id" AND o."id" = l."order_id"
              WHERE l."tenant_id" = $1${liveOrder})::int AS "lineItems"`,
          tenantId,
        );
        return r;
      } catch (error) {
        throw storeFailure('countRecords', tenantId, error);
      }
    },
  };
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
