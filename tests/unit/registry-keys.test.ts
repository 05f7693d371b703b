/**
 * Table keys name rows across the whole registry (`countRecords`, stats, run counts are keyed by
 * them), and tables are one resource's each: both must be unique, or one resource's counts
 * silently overwrite another's (two resources with a `lineItems` table did).
 */
import { expect, it } from 'vitest';
import { RESOURCES, tablesOf } from '../../src/resources/index.js';
import type { ResourceDefinition } from '../../src/resources/definition.js';

const tables = (RESOURCES as readonly ResourceDefinition[]).flatMap((r) => tablesOf(r).map((t) => ({ resource: r.name, key: t.key, table: t.table })));
const duplicates = (values: string[]) => values.filter((v, i) => values.indexOf(v) !== i);

it('every table key and every table belongs to one resource', () => {
  expect(duplicates(tables.map((t) => t.key))).toEqual([]);
  expect(duplicates(tables.map((t) => t.table))).toEqual([]);
  expect(tables.length).toBeGreaterThan(RESOURCES.length);
});
