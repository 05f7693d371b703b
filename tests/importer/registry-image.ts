import type { KeyRing } from '../../src/crypto/index.js';
import { parseShopifyJson } from '../../src/json.js';
import { tablesOf, type ChildTableDefinition, type ResourceDefinition } from '../../src/resources/definition.js';
import { revealPayload } from '../../src/transform/index.js';
import type { TestDatabase } from '../helpers/db.js';
import { BOOKKEEPING_COLUMNS } from '../helpers/bookkeeping.js';

/**
 * A tenant's rows of a resource, comparable across tenants and runs: every column but the
 * bookkeeping ones (tests/helpers/bookkeeping.ts) and the tombstone (tombstoned rows are left out); PII
 * decrypted, the tenant-keyed email blind index left out, payloads revealed.
 */
export async function registryImage(db: TestDatabase, keyRing: KeyRing, tenant: string, definition: ResourceDefinition): Promise<Record<string, Record<string, Record<string, unknown>>>> {
  const out: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const { table, conflict } of tablesOf(definition)) {
    const columns = (await db.query<{ c: string }>(`SELECT column_name AS c FROM information_schema.columns WHERE table_name = $1`, [table])).map((r) => r.c);
    const tombstoned = columns.includes('deleted_at') ? 'AND deleted_at IS NULL' : '';
    const payload = columns.includes('payload') ? ', payload::text AS payload' : '';
    const rows = await db.query<Record<string, unknown>>(`SELECT *${payload} FROM ${table} WHERE tenant_id = $1 ${tombstoned}`, [tenant]);
    const byKey: Array<[string, Record<string, unknown>]> = rows.map((row) => {
      const clean: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) {
        if (BOOKKEEPING_COLUMNS.includes(k) || k === 'deleted_at' || k.endsWith('_hash')) continue;
        if (k.endsWith('_enc')) clean[k] = v === null ? null : keyRing.decrypt(String(v), tenant);
        else if (k === 'payload' && typeof v === 'string') {
          // The payload is the record as it was listed, and listings differ in two ways that are not
          // data: a bulk query selects `__typename` on every node (to tell a file's lines apart), a
          // page query does not; a paged record carries its nested connections (`variants { nodes }`),
          // a bulk file's record does not (its children are lines of their own). Both are left out:
          // the children are compared as rows of their tables.
          const { __typename: _type, ...rest } = revealPayload(parseShopifyJson(v), tenant, keyRing) as Record<string, unknown>;
          for (const c of definition.graphql.connections) delete rest[c.field];
          clean[k] = rest;
        } else clean[k] = typeof v === 'bigint' ? v.toString() : v;
      }
      return [conflict.map((c) => String(row[c])).join(':'), clean];
    });
    out[table] = Object.fromEntries(byKey.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  // Rows of a tombstoned record's children (an order's line items and events) stay as they were; a
  // full sync of a shop without the record has none: only children of live parents are compared.
  for (const table of tablesOf(definition)) {
    if (!('parent' in table)) continue;
    const child = table as ChildTableDefinition;
    const parent = tablesOf(definition).find((t) => t.key === child.parent)!;
    const by = child.parentKey ?? [];
    const live = new Set(Object.values(out[parent.table]).map((row) => JSON.stringify([...by.map((k) => row[k]), row.id])));
    out[child.table] = Object.fromEntries(Object.entries(out[child.table]).filter(([, row]) => live.has(JSON.stringify([...by.map((k) => row[k]), row[child.parentColumn]]))));
  }
  return out;
}
