/**
 * Every resource's full sync stopped part-way through its bulk result file resumes from the
 * committed line on the next run (issue 16: "killed mid-download, the next run continues from the
 * committed line"), and ends with the same rows as a run that was never stopped: root records,
 * children (line items, variants, codes, members, metafields of six owner types) and ids alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportError } from '../../src/importer/index.js';
import { RESOURCES } from '../../src/resources/index.js';
import { tablesOf, type ResourceDefinition } from '../../src/resources/definition.js';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000, regroupLines: 10 };
beforeAll(async () => {
  h = await createHarness({ timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ customers: 30, products: 16, orders: 120 }] });
});
afterAll(async () => { await h?.close(); });

const BULK_RESOURCES = RESOURCES.filter((r) => !r.graphql.singleton).map((r) => r.name);

describe('a full sync stopped part-way through its bulk file, for every resource', { timeout: 240_000 }, () => {
  it.each(BULK_RESOURCES)('%s: the next run resumes it and stores the same rows as an unstopped run', async (name) => {
    const tenant = 'resume';
    const { client } = await connectTenant(h, tenant, 0);
    const definition = RESOURCES.find((r) => r.name === name) as unknown as ResourceDefinition;
    const tables = tablesOf(definition).map((t) => t.table);
    // Each table's row count and a digest of its primary keys.
    const keyOf = async (table: string) => (await h.db.query<{ a: string }>(
      `SELECT a.attname AS a FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY a.attnum`, [table])).map((r) => r.a);
    const image = async () => Promise.all(tables.map(async (table) => {
      const key = `concat_ws(':', ${(await keyOf(table)).join(', ')})`;
      return [table, (await h.db.query<{ n: number; keys: string }>(`SELECT count(*)::int AS n, md5(coalesce(string_agg(${key}, ',' ORDER BY ${key}), '')) AS keys FROM ${table} WHERE tenant_id = $1`, [tenant]))[0]];
    }));
    const clean = await importer(h, client, tenant, { bulk: BULK }).importResource(name, { mode: 'full' });
    expect(clean.status).toBe('succeeded');
    const expected = await image();
    const roots = (expected[0][1] as { n: number }).n;
    expect(roots, 'the shop has records of this resource').toBeGreaterThan(1);
    for (const table of [...tables].reverse()) await h.db.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenant]);
    await h.db.query(`DELETE FROM shopify_sync_checkpoints WHERE tenant_id = $1`, [tenant]);

    const controller = new AbortController();
    const stopAt = Math.max(1, Math.floor(roots / 3));
    const stopped = await importer(h, client, tenant, { bulk: BULK }).importResource(name, {
      mode: 'full', batchSize: 2, concurrency: 1, signal: controller.signal, onProgress: (p) => { if (p.imported >= stopAt) controller.abort(); },
    }).catch((e: ImportError) => e);
    expect(stopped, 'the first run was stopped').toMatchObject({ code: 'IMPORT_ABORTED' });

    const resumed = await importer(h, client, tenant, { bulk: BULK }).importResource(name);
    expect(resumed, JSON.stringify(resumed.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'full', resumed: true });
    expect(await image()).toEqual(expected);
  });
});
