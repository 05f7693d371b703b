/**
 * The SQL of every resource, generated from its registry description (src/resources): one statement
 * writes a batch of a resource's rows in all its tables, so a record and its children commit together.
 *
 * Two forms:
 * - `complete`: each record brings all its children (REST pages, webhook bodies, GraphQL pages). The
 *   root rows are upserted under the version rule (versioning.ts); the children of the records that
 *   won are upserted, and stored children those records no longer list are deleted or tombstoned
 *   (`whenMissing`). This is the statement the store used for orders and products before the registry.
 * - `bulk`: a bulk operation's output, where the children of nested connections arrive as their own
 *   lines (`__parentId`), after their parent but not next to it (`groupObjects: false`, the default
 *   since 2026-01). Such a child is written only when its parent was written by the same operation:
 *   rows of a bulk operation carry its tag (`sync_tag`), and a child is upserted when its parent is in
 *   the same batch and won, or is stored with the same tag. A parent that lost (a webhook stored a newer
 *   version, with its own children) keeps its children untouched. The children a parent no longer has are
 *   found once the whole file is in ({@link bulkFinalizeSql}): every child of a tagged parent that does
 *   not carry the tag. Correctness thus never depends on where a child line sits in the file.
 */
import { parentOf, type ChildTableDefinition, type ResourceDefinition, type RowSet, type TableDefinition } from '../resources/definition.js';
import { batchStatement, type BatchSource, type BatchStatement } from './batch-statement.js';
import { col, quoteColumns, setExcluded, SYNC_TAG, type ColumnSpec } from './columns.js';
import type { StageSpec } from './copy-stage.js';
import { parentIdOfRow } from './encoded-rows.js';
import { OBSERVED_AT, VERSION_GUARD, type Observed } from './versioning.js';

/** A row a bulk operation wrote carries its tag. */
export interface Tagged {
  syncTag?: string | null;
}

/** True when rows of `table` carry a sync tag: bulk child tables and the parents of bulk children. */
export function isTagged(resource: ResourceDefinition, table: TableDefinition): boolean {
  if ((table as ChildTableDefinition).bulkType) return true;
  return resource.children.some((c) => c.bulkType !== null && c.parent === table.key);
}

const observedColumn = col<Observed>(OBSERVED_AT, 'timestamptz', (r) => r.observedAt ?? null) as ColumnSpec<unknown>;
const tagColumn = col<Tagged>(SYNC_TAG, 'text', (r) => r.syncTag ?? null) as ColumnSpec<unknown>;

/** The columns staged and written for `table` (its own, plus when its version was observed and the sync tag, where it has them). */
export function writtenColumns(resource: ResourceDefinition, table: TableDefinition): readonly ColumnSpec<unknown>[] {
  const extra = [...table.versioned ? [observedColumn] : [], ...isTagged(resource, table) ? [tagColumn] : []];
  return extra.length === 0 ? table.columns as readonly ColumnSpec<unknown>[] : [...(table.columns as readonly ColumnSpec<unknown>[]), ...extra];
}

/** Stamps the rows of `resource`'s versioned tables with when their version was observed (versioning.ts). */
export function stampObserved(resource: ResourceDefinition, rows: RowSet, at: Date | null): RowSet {
  if (at === null) return rows;
  for (const table of [resource.root, ...resource.children]) {
    if (!table.versioned) continue;
    for (const row of rows[table.key] ?? []) (row as Observed).observedAt = at;
  }
  return rows;
}

/** What one resource write statement returns: per table key, rows written; per bulk child table, rows skipped and orphans. */
export interface ResourceWriteCounts {
  written: Record<string, number>;
  removed: Record<string, number>;
  /** Bulk children not written because their parent is stored in a newer version (or as a tombstone). */
  skipped: Record<string, number>;
  /** Bulk children whose parent is not stored at all (its line failed, or the file is inconsistent). */
  orphans: Record<string, number>;
}

const alias = (key: string) => `t_${key.replace(/[^A-Za-z0-9]/g, '_')}`;

function versionedUpsert(input: {
  table: TableDefinition;
  columns: readonly ColumnSpec<unknown>[];
  from: string;
  join?: string;
  guard: string | null;
  returning: string;
}): string {
  const { table, columns } = input;
  const updatable = columns.filter((c) => !table.conflict.includes(c.column));
  const synced = table.syncedAt;
  // A version that wins over an inferred tombstone makes the record live again (versioning.ts).
  const revive = table.versioned ? ', "deletion_inferred" = false' : '';
  return `INSERT INTO "${table.table}" AS t ("tenant_id", ${quoteColumns(columns)}${synced ? ', "synced_at"' : ''})
    SELECT $1, ${quoteColumns(columns, 'i.')}${synced ? ', now()' : ''} FROM ${input.from}${input.join ? ` ${input.join}` : ''}
    ON CONFLICT ("tenant_id", ${table.conflict.map((c) => `"${c}"`).join(', ')}) DO UPDATE SET ${setExcluded(updatable)}${synced ? ', "synced_at" = excluded."synced_at"' : ''}${revive}
    ${input.guard ? `WHERE ${input.guard}` : ''}
    RETURNING ${input.returning}`;
}

/**
 * The write statement of a resource. `bulk`: children with a `bulkType` are matched to their
 * parents by tag (see the module comment); otherwise every child comes with its parent.
 */
function resourceSql(resource: ResourceDefinition, bulk: boolean): (...sources: BatchSource[]) => string {
  return (...sources) => {
    const ctes: string[] = [];
    const results: string[] = [];
    const root = resource.root;
    const rootAlias = alias(root.key);
    const keyed = [...new Set(resource.children.flatMap((c) => c.parentKey ?? []))].map((k) => `, t."${k}"`).join('');
    const rootReturning = root.versioned ? `t."id"${keyed}, t."shopify_updated_at", (t.xmax <> 0) AS "updated"` : `t."id"${keyed}, (t.xmax <> 0) AS "updated"`;
    ctes.push(`${rootAlias} AS (${versionedUpsert({
      table: root,
      columns: writtenColumns(resource, root),
      from: sources[0]('i'),
      guard: root.versioned ? VERSION_GUARD('t') : null,
      returning: rootReturning,
    })})`);
    results.push(`(SELECT count(*) FROM ${rootAlias})::int AS "w_${root.key}"`);

    resource.children.forEach((child, k) => {
      const source = sources[k + 1];
      const a = alias(child.key);
      const parentTable = parentOf(resource, child);
      const parentAlias = alias(child.parent);
      const columns = writtenColumns(resource, child);
      const matchKey = child.conflict.map((c) => `x."${c}" = d."${c}"`).join(' AND ');
      // Parent ids unique only with these columns (metafield owners): matched on them too.
      const sameKey = (parent: string, row: string) => (child.parentKey ?? []).map((k) => ` AND ${parent}."${k}" = ${row}."${k}"`).join('');
      const idReturning = child.conflict.includes('id') ? 't."id"' : '1 AS "id"';
      const returning = child.versioned ? `${idReturning}, t."shopify_updated_at", (t.xmax <> 0) AS "updated"` : `${idReturning}, (t.xmax <> 0) AS "updated"`;
      ctes.push(`${a}_in AS MATERIALIZED (SELECT * FROM ${source('s')})`);

      if (bulk && child.bulkType) {
        // Written when the parent won in this statement, or is stored (live) with the same tag.
        // `OFFSET 0` keeps both lookups of stored parents per-row probes of the primary key. Tables a
        // bulk operation is filling have statistics from when they were small: the planner then
        // hashed every stored parent of the tenant once per batch, a scan of the whole table per batch
        // (measured: 2.2 s of a batch's 2.3 s at 210,000 orders; the import slowed from ~1,500 to
        // ~250 orders/s as the table grew).
        const parentStored = `EXISTS (SELECT 1 FROM "${parentTable.table}" p WHERE p."tenant_id" = $1 AND p."id" = i."${child.parentColumn}"${sameKey('p', 'i')} AND p."${SYNC_TAG}" = i."${SYNC_TAG}"${parentTable.versioned ? ' AND p."deleted_at" IS NULL' : ''} OFFSET 0)`;
        const inBatch = `EXISTS (SELECT 1 FROM ${parentAlias} w WHERE w."id" = i."${child.parentColumn}"${sameKey('w', 'i')})`;
        ctes.push(`${a}_ok AS MATERIALIZED (SELECT i.* FROM ${a}_in i WHERE ${inBatch} OR ${parentStored})`);
        ctes.push(`${a} AS (${versionedUpsert({
          table: child, columns, from: `${a}_ok i`, guard: child.versioned ? VERSION_GUARD('t') : null, returning,
        })})`);
        results.push(`(SELECT count(*) FROM ${a})::int AS "w_${child.key}"`);
        results.push(`((SELECT count(*) FROM ${a}_in) - (SELECT count(*) FROM ${a}_ok))::int AS "s_${child.key}"`);
        results.push(`(SELECT count(*) FROM ${a}_in i WHERE NOT EXISTS (SELECT 1 FROM ${parentAlias} w WHERE w."id" = i."${child.parentColumn}"${sameKey('w', 'i')})
          AND NOT EXISTS (SELECT 1 FROM "${parentTable.table}" p WHERE p."tenant_id" = $1 AND p."id" = i."${child.parentColumn}"${sameKey('p', 'i')} OFFSET 0))::int AS "o_${child.key}"`);
        return;
      }

      // Children of the parents that won and were already stored: those they no longer list go.
      const updatedParents = `(SELECT "id" FROM ${parentAlias} WHERE "updated")`;
      if (child.whenMissing === 'delete') {
        const ofUpdated = child.parentKey?.length
          ? `EXISTS (SELECT 1 FROM ${parentAlias} w WHERE w."updated" AND w."id" = d."${child.parentColumn}"${sameKey('w', 'd')})`
          : `d."${child.parentColumn}" = ANY(ARRAY${updatedParents}::bigint[])`;
        ctes.push(`${a}_gone AS (DELETE FROM "${child.table}" d
          WHERE d."tenant_id" = $1 AND ${ofUpdated}
            AND NOT EXISTS (SELECT 1 FROM ${a}_in x WHERE ${matchKey})
          RETURNING 1)`);
      } else {
        const parentTime = parentTable.versioned ? `${parentAlias}."shopify_updated_at"` : 'now()';
        ctes.push(`${a}_gone AS (UPDATE "${child.table}" d
          SET "deleted_at" = ${parentTime}, "shopify_updated_at" = GREATEST(d."shopify_updated_at", ${parentTime})${child.syncedAt ? ', "synced_at" = now()' : ''}
          FROM ${parentAlias}
          WHERE ${parentAlias}."updated" AND d."tenant_id" = $1 AND d."${child.parentColumn}" = ${parentAlias}."id"${sameKey(parentAlias, 'd')} AND d."deleted_at" IS NULL
            AND NOT EXISTS (SELECT 1 FROM ${a}_in x WHERE ${matchKey})
          RETURNING 1)`);
      }
      ctes.push(`${a} AS (${versionedUpsert({
        table: child, columns, from: `${a}_in i`, join: `JOIN ${parentAlias} ON ${parentAlias}."id" = i."${child.parentColumn}"${sameKey(parentAlias, 'i')}`,
        guard: child.versioned ? VERSION_GUARD('t') : null, returning,
      })})`);
      results.push(`(SELECT count(*) FROM ${a})::int AS "w_${child.key}"`);
      results.push(`(SELECT count(*) FROM ${a}_gone)::int AS "r_${child.key}"`);
    });
    return `WITH ${ctes.join(',\n  ')}\n  SELECT ${results.join(',\n    ')}`;
  };
}

/** A resource's staging tables, one per table (`si_stage_<table>`), columns as written. */
export function stagesOf(resource: ResourceDefinition): StageSpec[] {
  return [resource.root, ...resource.children].map((t): StageSpec => ({
    name: `si_stage_${t.table.replace(/^shopify_/, '')}`,
    columns: writtenColumns(resource, t) as unknown as readonly ColumnSpec<never>[],
  }));
}

/**
 * The direct form of a bulk write, for a tenant whose tables do not hold the operation's rows yet
 * (a first backfill): each table's rows are streamed with `COPY` straight into the table, with no
 * staging and no upsert. It does what the `bulk` statement would do only when every row is new and
 * every bulk child's parent is stored live with the child's tag; otherwise PostgreSQL refuses the
 * COPY (a key already stored: unique violation; a parent not stored: foreign key) or
 * {@link DirectWrite.parentCheck} counts the children it would have skipped, and the caller rolls
 * back and runs the `bulk` statement instead. Nothing of a refused attempt is written.
 */
export interface DirectWrite {
  /** Per input (stage order): the table and the columns it is copied into (`tenant_id` first). */
  tables: ReadonlyArray<{ name: string; columns: readonly ColumnSpec<unknown>[] }>;
  /**
   * Counts (`bad`) the bulk children whose parent is not stored live with the child's tag: `$1` the
   * tenant, then per entry of `inputs` two arrays, the parent ids and the tags. Null: no bulk children.
   * Per entry, `parentInput` is the input holding the parent table's rows: a child whose parent is
   * among them needs no probe, as in the `bulk` statement (a parent written by the same statement
   * takes its children whatever its tag), so it is left out.
   */
  parentCheck: { sql: string; inputs: ReadonlyArray<ParentCheckInput> } | null;
}

/** One bulk child table of a {@link DirectWrite.parentCheck}. */
export interface ParentCheckInput {
  /** The child table's input. */
  input: number;
  parentId: (row: unknown) => bigint;
  /**
   * The parent table's input (0: the root); null when children must be probed even with their
   * parent in the batch (parent ids unique only with more columns, `parentKey`).
   */
  parentInput: number | null;
}

function directWriteOf(resource: ResourceDefinition): DirectWrite {
  const tables = [resource.root, ...resource.children].map((t) => ({
    name: t.table,
    columns: writtenColumns(resource, t),
  }));
  const checks: string[] = [];
  const inputs: ParentCheckInput[] = [];
  resource.children.forEach((child, k) => {
    if (!child.bulkType) return;
    const parent = parentOf(resource, child);
    const n = 2 + 2 * inputs.length;
    const parentInput = child.parentKey?.length ? null : parent === resource.root ? 0 : resource.children.indexOf(parent as ChildTableDefinition) + 1;
    inputs.push({ input: k + 1, parentId: (row) => parentIdOfRow(child, row), parentInput });
    // As in the bulk statement's parent lookup: a probe of the parent's primary key per parent.
    checks.push(`(SELECT count(*) FROM unnest($${n}::bigint[], $${n + 1}::text[]) AS c("id", "tag")
      WHERE NOT EXISTS (SELECT 1 FROM "${parent.table}" p WHERE p."tenant_id" = $1 AND p."id" = c."id" AND p."${SYNC_TAG}" = c."tag"${parent.versioned ? ' AND p."deleted_at" IS NULL' : ''} OFFSET 0))`);
  });
  return { tables, parentCheck: checks.length ? { sql: `SELECT (${checks.join(' + ')})::int AS "bad"`, inputs } : null };
}

/** What a direct write reports: the counts the `bulk` statement returns when every row is new. */
export function directCounts(resource: ResourceDefinition, inputs: readonly (readonly unknown[])[]): ResourceWriteCounts {
  const row: Record<string, number> = { [`w_${resource.root.key}`]: inputs[0].length };
  resource.children.forEach((child, k) => {
    row[`w_${child.key}`] = inputs[k + 1].length;
    if (child.bulkType) { row[`s_${child.key}`] = 0; row[`o_${child.key}`] = 0; } else row[`r_${child.key}`] = 0;
  });
  return countsOf(row);
}

interface ResourceStatements {
  complete: BatchStatement;
  bulk: BatchStatement | null;
  /** The direct form of a bulk operation's writes (see {@link DirectWrite}). */
  direct: DirectWrite;
}

const cache = new WeakMap<ResourceDefinition, ResourceStatements>();

/** The statements of a resource (built once per definition). */
export function resourceStatements(resource: ResourceDefinition): ResourceStatements {
  let statements = cache.get(resource);
  if (!statements) {
    const stages = stagesOf(resource);
    statements = {
      complete: batchStatement(stages, 'rows', resourceSql(resource, false)),
      bulk: resource.children.some((c) => c.bulkType) ? batchStatement(stages, 'rows', resourceSql(resource, true)) : null,
      direct: directWriteOf(resource),
    };
    cache.set(resource, statements);
  }
  return statements;
}

/** Reads a statement's single result row into counts by table key. */
export function countsOf(row: Record<string, number>): ResourceWriteCounts {
  const out: ResourceWriteCounts = { written: {}, removed: {}, skipped: {}, orphans: {} };
  const buckets: Record<string, Record<string, number>> = { w: out.written, r: out.removed, s: out.skipped, o: out.orphans };
  for (const [name, value] of Object.entries(row)) {
    const bucket = buckets[name[0]];
    if (bucket && name[1] === '_') bucket[name.slice(2)] = Number(value);
  }
  return out;
}

/**
 * Two CTEs (`n`, `recount`): the count column of the parents in `parents` (a FROM item with an `"id"`
 * column, aliased `p`), recounted from their children tagged `$2` and rewritten only where wrong
 * (each rewrite costs a new row version and its index entries; a bulk file's reader writes most
 * parents with their count already, regroup.ts).
 */
function recountCtes(resource: ResourceDefinition, child: ChildTableDefinition, parents: string): string {
  return `n AS (SELECT p."id", (SELECT count(*) FROM "${child.table}" c
        WHERE c."tenant_id" = $1 AND c."${child.parentColumn}" = p."id" AND c."${SYNC_TAG}" = $2${child.versioned ? ' AND c."deleted_at" IS NULL' : ''})::int AS "n"
        FROM ${parents}),
      recount AS (UPDATE "${parentOf(resource, child).table}" r SET "${child.countColumn}" = n."n"
        FROM n WHERE r."tenant_id" = $1 AND r."id" = n."id" AND r."${SYNC_TAG}" = $2 AND r."${child.countColumn}" IS DISTINCT FROM n."n" RETURNING 1)`;
}

/**
 * The count column of listed parents `$3` (ids, comma-separated) of `child` ({@link recountCtes}):
 * what `finalizeBulk` still has to do when the operation's parents were all new (no stored child
 * of theirs can be gone). Returns how many were rewritten (`recounted`).
 */
export function bulkRecountSql(resource: ResourceDefinition, child: ChildTableDefinition): string {
  return `WITH ${recountCtes(resource, child, `unnest(string_to_array($3, ',')::bigint[]) AS p("id")`)}
    SELECT (SELECT count(*) FROM recount)::int AS "recounted"`;
}

/**
 * After a bulk operation's whole file is written, one chunk of parents of `child` tagged `$2` with id
 * above `$3` (at most `$4`): their children without the tag are gone at Shopify (deleted, or
 * tombstoned per `whenMissing`), and the parent's `countColumn` is recounted. Returns the chunk's last
 * parent id (`last`, null when there were none), how many children went (`removed`) and how many
 * parents' counts were wrong and rewritten (`recounted`).
 */
export function bulkFinalizeSql(resource: ResourceDefinition, child: ChildTableDefinition): string {
  const parent = parentOf(resource, child);
  const keys = child.parentKey ?? [];
  const sameKey = keys.map((k) => ` AND c."${k}" = p."${k}"`).join('');
  const chunk = `p AS MATERIALIZED (SELECT "id"${keys.map((k) => `, "${k}"`).join('')}${parent.versioned ? ', "shopify_updated_at"' : ''} FROM "${parent.table}"
      WHERE "tenant_id" = $1 AND "${SYNC_TAG}" = $2 AND "id" > $3::bigint ORDER BY "id" LIMIT $4)`;
  const gone = child.whenMissing === 'delete'
    ? `gone AS (DELETE FROM "${child.table}" c USING p WHERE c."tenant_id" = $1 AND c."${child.parentColumn}" = p."id"${sameKey} AND c."${SYNC_TAG}" IS DISTINCT FROM $2 RETURNING 1)`
    : `gone AS (UPDATE "${child.table}" c SET "deleted_at" = ${parent.versioned ? 'p."shopify_updated_at"' : 'now()'},
          "shopify_updated_at" = GREATEST(c."shopify_updated_at", ${parent.versioned ? 'p."shopify_updated_at"' : 'now()'})${child.syncedAt ? ', "synced_at" = now()' : ''}
        FROM p WHERE c."tenant_id" = $1 AND c."${child.parentColumn}" = p."id"${sameKey} AND c."deleted_at" IS NULL AND c."${SYNC_TAG}" IS DISTINCT FROM $2 RETURNING 1)`;
  const recount = child.countColumn ? `, ${recountCtes(resource, child, 'p')}` : '';
  return `WITH ${chunk}, ${gone}${recount}
    SELECT (SELECT max("id") FROM p)::text AS "last", (SELECT count(*) FROM gone)::int AS "removed",
      ${recount ? '(SELECT count(*) FROM recount)' : '0'}::int AS "recounted"`;
}
