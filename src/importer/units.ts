/**
 * Records and bulk child lines turned into rows, the same wherever it runs: in a run frame
 * (run-frame.ts) or in the worker thread that reads a bulk file (bulk-worker.ts).
 */
import { redactText } from '../logger.js';
import type { ResourceDefinition, RowSet } from '../resources/definition.js';
import { isTagged, stampObserved, type Tagged } from '../store/resource-writer.js';
import { isObject, resolveId } from '../transform/values.js';
import type { ImportTransformer } from './types.js';

/** A failure's reason as stored: masked like log lines (tokens, emails), at most 2,000 characters. */
export function reasonOf(error: unknown): string {
  const message = redactText(error instanceof Error ? error.message : String(error));
  return message.length > 2000 ? message.slice(0, 2000) : message;
}

/**
 * A record's rows (throws when it cannot be transformed) and the id later lines may require: its
 * root row's, except for a record riding on another (an order's refunds: any number of root rows,
 * none of them the record; skipExisting never drops an order's new refunds for an old one).
 */
export function recordRows(
  resource: ResourceDefinition, transformer: ImportTransformer, tenantId: string, raw: unknown, observedAt: Date | null, syncTag: string | null,
): { rows: RowSet; provides: bigint | undefined } {
  const rows = stampObserved(resource, transformer.toRows(resource.name, raw, tenantId), observedAt);
  if (syncTag) {
    for (const table of [resource.root, ...resource.children]) {
      if (!isTagged(resource, table)) continue;
      for (const row of rows[table.key] ?? []) (row as Tagged).syncTag = syncTag;
    }
  }
  const provides = resource.ridesOn ? undefined : (rows[resource.root.key]?.[0] as { id?: bigint } | undefined)?.id;
  return { rows, provides };
}

/**
 * A bulk child line's row of `table` (throws when it cannot be transformed) and its id when rows of
 * other tables hang under it; `text` is the line's JSON text without `__parentId`, when known.
 */
export function childRows(
  resource: ResourceDefinition, transformer: ImportTransformer, tenantId: string, table: string, raw: unknown, parentId: bigint,
  observedAt: Date | null, syncTag: string, text: string | undefined,
): { rows: RowSet; provides: bigint | undefined } {
  const row = transformer.childRow(resource.name, table, raw, parentId, tenantId, text === undefined ? undefined : { text }) as Tagged & { id?: bigint };
  row.syncTag = syncTag;
  const rows = stampObserved(resource, { [table]: [row] }, observedAt);
  return { rows, provides: resource.children.some((c) => c.parent === table) ? row.id : undefined };
}

/** Shopify id of a raw record, or null. */
export function shopifyIdOf(raw: unknown): bigint | null {
  if (!isObject(raw)) return null;
  try { return resolveId(raw); } catch { return null; }
}
