/**
 * The one rule every synced-data write follows (SQL guards and in-batch dedupe alike).
 *
 * A stored row and an incoming row are two versions of a Shopify record; each has Shopify's
 * `updated_at` and maybe a tombstone (`deletedAt`). The incoming version replaces the stored one when
 *
 *   1. it is not older: `incoming.updated_at >= stored.updated_at`. Shopify's `updated_at` has whole
 *      seconds, so two versions can share it (an order created and changed within a second): then
 *      the one observed later wins, by `observed_at` (when Shopify reported the version: a webhook's
 *      `X-Shopify-Triggered-At`, or when the read that returned it began). A version observed at the
 *      same time, or either without an `observed_at`, wins the tie, so replaying the same version
 *      is a harmless rewrite and the same batch twice leaves the same rows; and
 *   2. it does not resurrect a tombstone: if the stored row is deleted, only another tombstone may
 *      replace it. Shopify never restores a deleted customer, product or order and never reuses
 *      an id, so a live version that arrives after a delete (an `orders/updated` webhook retried
 *      late, an import page fetched before the delete) is stale whatever its `updated_at`.
 *
 * A delete itself (`markDeleted`) is a version at `deletedAt`: it tombstones a live row unless
 * that row's `updated_at` is newer than `deletedAt`, and creates a tombstone row for an id never
 * seen, so the create that arrives later (older than the delete) loses by rule 2.
 *
 * Rule 2 has one exception: a tombstone *inferred* from a complete id listing that lacked the record
 * (`deletion_inferred`, customers' reconciliation) is an inference, not Shopify's word. It keeps the
 * record's own `updated_at`, so any version Shopify returns again (the same or newer) makes the
 * record live again: a wrong inference is undone by the next sync.
 */
export const VERSION_GUARD = (stored: string) =>
  `(excluded."shopify_updated_at" > ${stored}."shopify_updated_at" OR (excluded."shopify_updated_at" = ${stored}."shopify_updated_at"
    AND (excluded."${OBSERVED_AT}" IS NULL OR ${stored}."${OBSERVED_AT}" IS NULL OR excluded."${OBSERVED_AT}" >= ${stored}."${OBSERVED_AT}")))
    AND (${stored}."deleted_at" IS NULL OR excluded."deleted_at" IS NOT NULL OR ${stored}."deletion_inferred")`;

/** The column of every versioned table holding when its version was observed (rule 1's tie-break). */
export const OBSERVED_AT = 'observed_at';

/** A row of a versioned table may say when its version was observed (see the module comment). */
export interface Observed {
  observedAt?: Date | null;
}

interface Versioned extends Observed {
  id: bigint;
  shopifyUpdatedAt: Date;
  deletedAt: Date | null;
  deletionInferred?: boolean;
}

/** {@link VERSION_GUARD} in JavaScript: does `incoming` replace `stored`? */
export function incomingWins(incoming: Versioned, stored: Versioned): boolean {
  const a = incoming.shopifyUpdatedAt.getTime();
  const b = stored.shopifyUpdatedAt.getTime();
  if (a < b) return false;
  if (a === b && incoming.observedAt && stored.observedAt && incoming.observedAt.getTime() < stored.observedAt.getTime()) return false;
  return stored.deletedAt === null || incoming.deletedAt !== null || stored.deletionInferred === true;
}

/**
 * One row per id, in id order (see {@link sortById}): the one that would win by
 * {@link VERSION_GUARD} (the later one on a tie). PostgreSQL refuses an `INSERT ... ON CONFLICT DO
 * UPDATE` that touches the same row twice ("command cannot affect row a second time"), and a
 * Shopify page can repeat a record that changed while it was being paged.
 */
export function newestSortedById<R extends Versioned>(rows: readonly R[]): R[] {
  return uniqueSortedById(rows, incomingWins);
}

/** One row per id, in id order: the last of each id (rows without a version of their own). */
export function lastSortedById<R extends { id: bigint }>(rows: readonly R[]): R[] {
  return uniqueSortedById(rows, () => true);
}

/**
 * Sorts a copy of `rows` by id (a stable sort: rows of one id stay in their order) and keeps one row
 * of each id, folding its rows in order with `wins(incoming, kept)`. No map and no key per row: a
 * batch's rows wait for their write long enough that whatever is allocated per row for the write
 * may be promoted to V8's old generation (docs/benchmarks.md, "Where the peak goes").
 */
function uniqueSortedById<R extends { id: bigint }>(rows: readonly R[], wins: (incoming: R, kept: R) => boolean): R[] {
  const sorted = sortById(rows.slice());
  let kept = 0;
  for (let k = 0; k < sorted.length; k++) {
    const row = sorted[k];
    if (kept > 0 && sorted[kept - 1].id === row.id) {
      if (wins(row, sorted[kept - 1])) sorted[kept - 1] = row;
    } else sorted[kept++] = row;
  }
  sorted.length = kept;
  return sorted;
}

/** Keeps the last row per key (rows without a version of their own whose key is not their id alone: events). */
export function lastByKey<R>(rows: readonly R[], key: (row: R) => string | bigint): R[] {
  const byKey = new Map<string | bigint, R>();
  for (const row of rows) byKey.set(key(row), row);
  return byKey.size === rows.length ? rows.slice() : [...byKey.values()];
}

/**
 * Orders rows by id. Two writers upserting overlapping batches (an import page and a webhook) lock
 * the same rows; taking the locks in the same (id) order turns a possible deadlock into a short wait.
 */
export function sortById<R extends { id: bigint }>(rows: R[]): R[] {
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
