/**
 * Metafields (listed through their six owner types) and discounts (+ codes) end to end: the
 * simulator (Shopify 2026-10) into PostgreSQL. Full syncs by bulk operation, where the simulator
 * truncates a discount's codes at 100 lines as Shopify is reported to: the 250-code discount must
 * arrive whole. Incremental syncs by pages and by bulk operation; metafields set and deleted
 * without their owner's `updatedAt` moving must still be seen, and a deleted one tombstoned.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportTransformer } from '../../src/importer/index.js';
import { listOutstandingFailures } from '../../src/store/failures.js';
import { BULK_CODES_LIMIT } from '../../src/testing/discounts.js';
import { ShopifyTransformer } from '../../src/transform/index.js';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';

let h: Harness;
const DOC = readFileSync(new URL('../../docs/schema.md', import.meta.url), 'utf8');
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
beforeAll(async () => {
  h = await createHarness({
    timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 },
    shops: [
      { customers: 5, products: 5, orders: 5, name: 'Discount Shop' },
      { customers: 20, products: 60, orders: 30, name: 'Meta Shop' },
      { customers: 10, products: 20, orders: 10, bigIds: true },
      { customers: 5, products: 5, orders: 5, name: 'Discount Shop Two' },
      { customers: 5, products: 5, orders: 5, name: 'Discount Shop Three' },
      { customers: 5, products: 5, orders: 5, name: 'Discount Shop Four' },
    ],
  });
});
afterAll(async () => { await h?.close(); });

const q = <T extends Record<string, any> = Record<string, unknown>>(sql: string, params: unknown[] = []) => h.db.query<T>(sql, params);
type Shop = Harness['sim']['shops'][number];

async function storedCodes(tenant: string): Promise<Map<string, string[]>> {
  const rows = await q<{ d: string; code: string }>(`SELECT discount_id::text AS d, code FROM shopify_discount_codes WHERE tenant_id = $1 ORDER BY code`, [tenant]);
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.d, [...(out.get(r.d) ?? []), r.code]);
  return out;
}
function simCodes(shop: Shop): Map<string, string[]> {
  return new Map(shop.discounts.ids().map((id) => [String(id), [...shop.discounts.codesOf(id)].sort()] as [string, string[]]).filter(([, c]) => c.length > 0));
}

/** Live metafields stored, `TYPE:owner:namespace.key=value`, sorted. */
async function storedMetafields(tenant: string): Promise<string[]> {
  const rows = await q<{ m: string }>(`SELECT owner_type || ':' || owner_id::text || ':' || namespace || '.' || key || '=' || value AS m FROM shopify_metafields WHERE tenant_id = $1 AND deleted_at IS NULL`, [tenant]);
  return rows.map((r) => r.m).sort();
}
/** The simulator's metafields of every owner, same shape (owners read by the sync have theirs made). */
function simMetafields(shop: Shop, owners: Array<[string, string, bigint]>): string[] {
  return owners.flatMap(([gqlType, type, id]) => shop.metafields.list(gqlType, id).map((m) => `${type}:${id}:${m.namespace}.${m.key}=${m.value}`)).sort();
}
async function storedOwners(tenant: string): Promise<Array<[string, string, bigint]>> {
  const names: Record<string, string> = { PRODUCT: 'Product', PRODUCTVARIANT: 'ProductVariant', CUSTOMER: 'Customer', ORDER: 'Order', COLLECTION: 'Collection', SHOP: 'Shop' };
  return (await q<{ t: string; id: string }>(`SELECT owner_type AS t, id::text AS id FROM shopify_metafield_owners WHERE tenant_id = $1`, [tenant])).map((r) => [names[r.t], r.t, BigInt(r.id)]);
}

describe('metafields and discounts against the simulator', { timeout: 240_000 }, () => {
  it('discounts: a full bulk sync completes codes the output truncated, incremental syncs (pages and bulk) follow added and removed codes', async () => {
    const { client, shop } = await connectTenant(h, 'd1', 0);
    const service = importer(h, client, 'd1', { bulk: BULK });
    const full = await service.importResource('discounts');
    expect(full).toMatchObject({ status: 'succeeded', mode: 'full', method: 'bulk', failed: 0 });
    const discounts = await q<{ id: string; method: string; discount_type: string; codes_count: number | null; value_type: string | null }>(
      `SELECT id::text AS id, method, discount_type, codes_count, value_type FROM shopify_discounts WHERE tenant_id = 'd1' AND deleted_at IS NULL ORDER BY id`);
    expect(discounts.map((d) => d.id)).toEqual(shop.discounts.ids().map(String));
    expect(new Set(discounts.map((d) => d.discount_type)).size).toBe(8);
    expect(discounts.filter((d) => d.method === 'automatic').length).toBe(4);
    const big = shop.discounts.ids().find((id) => shop.discounts.codesOf(id).length === 250)!;
    expect(discounts.find((d) => d.id === String(big))?.codes_count).toBe(250);
    expect(BULK_CODES_LIMIT).toBeLessThan(250);
    // None of the 250 codes is missing, though the bulk file held 100 of them.
    expect((await storedCodes('d1')).get(String(big))?.length).toBe(250);
    expect(await storedCodes('d1')).toEqual(simCodes(shop));

    // Incremental by pages: 30 codes added to the big discount (more than a page of 100 codes), 2 removed from another.
    shop.discounts.addCodes(big, 30);
    const small = shop.discounts.ids().find((id) => shop.discounts.codesOf(id).length === 3)!;
    shop.discounts.removeCodes(small, shop.discounts.codesOf(small).slice(0, 2));
    const created = shop.discounts.create('DiscountCodeFreeShipping', 5);
    const inc = await service.importResource('discounts');
    expect(inc).toMatchObject({ status: 'succeeded', mode: 'incremental', method: 'pages', failed: 0 });
    expect((await storedCodes('d1')).get(String(big))?.length).toBe(280);
    expect(await storedCodes('d1')).toEqual(simCodes(shop));
    expect((await q(`SELECT codes_count FROM shopify_discounts WHERE tenant_id = 'd1' AND id = $1`, [String(created)]))).toEqual([{ codes_count: 5 }]);

    // Incremental by bulk operation (threshold 0): the truncated codes are completed there too.
    shop.discounts.addCodes(big, 20);
    const viaBulk = await service.importResource('discounts', { bulkThreshold: 0 });
    expect(viaBulk).toMatchObject({ status: 'succeeded', mode: 'incremental', method: 'bulk', failed: 0 });
    expect((await storedCodes('d1')).get(String(big))?.length).toBe(300);
    expect(await storedCodes('d1')).toEqual(simCodes(shop));

    // docs/schema.md's discount example runs on these tables.
    const usage = /Discount usage[^\n]*\n([\s\S]*?;)/.exec(DOC)![1];
    const used = await q<{ codes: string; title: string }>(usage, ['d1']);
    expect(used.length).toBe(shop.discounts.ids().length);
    expect(used.some((d) => Number(d.codes) === 300)).toBe(true);
  });

  it('discounts: a bulk sync resumed past the discount lines still completes the codes the output truncated', async () => {
    // Found by review: only lines read by the resuming process were checked against their count.
    const { client, shop } = await connectTenant(h, 'd2', 3);
    const ids = shop.discounts.ids();
    const big = ids.find((id) => shop.discounts.codesOf(id).length === 250)!;
    const controller = new AbortController();
    const first = await importer(h, client, 'd2', { bulk: BULK }).importResource('discounts', {
      mode: 'full', batchSize: 2, concurrency: 1, signal: controller.signal,
      // Every discount line committed; the code lines (after them in the file) not all read yet.
      onProgress: (p) => { if (p.imported >= ids.length) controller.abort(); },
    }).catch((e: { code?: string }) => e);
    expect(first).toMatchObject({ code: 'IMPORT_ABORTED' });
    const again = await importer(h, client, 'd2', { bulk: BULK }).importResource('discounts');
    expect(again).toMatchObject({ status: 'succeeded', resumed: true });
    // The big discount, committed by the first run, is written by this one when read again whole:
    // a record of this run (found by review: it was taken off this run's fetched count).
    expect(again.imported).toBeGreaterThanOrEqual(1);
    expect(again.fetched).toBe(again.imported + again.failed + again.skipped);
    expect((await storedCodes('d2')).get(String(big))?.length).toBe(250);
    expect(await storedCodes('d2')).toEqual(simCodes(shop));
  });

  it('discounts: a truncated discount whose file line could not be transformed is a record written when read again whole', async () => {
    // Found by the telemetry test: it was stored by the re-read but not counted imported.
    const { client, shop } = await connectTenant(h, 'd3', 4);
    const big = shop.discounts.ids().find((id) => shop.discounts.codesOf(id).length === 250)!;
    const inner = new ShopifyTransformer({ keyRing: h.keyRing });
    let refused = 0;
    const transformer: ImportTransformer = {
      toRows(resource, data, tenantId) {
        const id = String((data as { id?: unknown }).id ?? '');
        if (refused === 0 && id.endsWith(`/${big}`)) {
          refused++;
          throw new Error('refused by the test');
        }
        return inner.toRows(resource, data, tenantId);
      },
      childRow: (...args) => inner.childRow(...args),
    };
    const run = await importer(h, client, 'd3', { bulk: BULK, transformer }).importResource('discounts', { mode: 'full', batchSize: 3 });
    expect(refused).toBe(1);
    expect(run).toMatchObject({ status: 'succeeded', method: 'bulk', failed: 1, skipped: 0 });
    const [{ n }] = await q<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_discounts WHERE tenant_id = 'd3'`);
    expect(run.imported).toBe(n);
    expect(n).toBe(shop.discounts.ids().length);
    // Fetched twice (its line, then whole): every fetch is written, skipped or failed.
    expect(run.fetched).toBe(run.imported + run.failed + run.skipped);
    expect((await storedCodes('d3')).get(String(big))?.length).toBe(250);
    expect(await storedCodes('d3')).toEqual(simCodes(shop));
    // The failure stays in the run's record, fixed by the later write.
    const [{ failures }] = await q<{ failures: number }>(`SELECT count(*)::int AS failures FROM shopify_sync_failures WHERE run_id = $1`, [run.runId]);
    expect(failures).toBe(1);
    expect(await listOutstandingFailures(h.db.prisma, { tenantId: 'd3' })).toEqual([]);
  });

  it('discounts: a truncated discount written from its file line whose whole re-read fails is counted fetched twice, failed once', async () => {
    const { client, shop } = await connectTenant(h, 'd4', 5);
    const big = shop.discounts.ids().find((id) => shop.discounts.codesOf(id).length === 250)!;
    const inner = new ShopifyTransformer({ keyRing: h.keyRing });
    const transformer: ImportTransformer = {
      toRows(resource, data, tenantId) {
        // The re-read carries its codes; the file's line does not (they are lines of their own).
        const codes = (data as { codes?: { nodes?: unknown[] } }).codes?.nodes;
        if (Array.isArray(codes) && codes.length > 100) throw new Error('refused by the test');
        return inner.toRows(resource, data, tenantId);
      },
      childRow: (...args) => inner.childRow(...args),
    };
    const run = await importer(h, client, 'd4', { bulk: BULK, transformer }).importResource('discounts', { mode: 'full', batchSize: 3 });
    expect(run).toMatchObject({ status: 'succeeded', method: 'bulk', failed: 1, skipped: 0 });
    const [{ n }] = await q<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_discounts WHERE tenant_id = 'd4'`);
    expect(run.imported).toBe(n);
    expect(n).toBe(shop.discounts.ids().length);
    expect(run.fetched).toBe(run.imported + run.failed + run.skipped);
    // Stored from its file line (the codes the file held); the failure stays outstanding.
    expect((await storedCodes('d4')).get(String(big))?.length).toBe(BULK_CODES_LIMIT);
    expect((await listOutstandingFailures(h.db.prisma, { tenantId: 'd4' })).map((f) => f.shopifyId)).toEqual([big]);
  });

  it('metafields: full sync through six owner types, incremental syncs see set and deleted metafields whose owners did not change', async () => {
    const { client, shop } = await connectTenant(h, 'm1', 1);
    const events: Array<{ fetched: number; total?: number }> = [];
    const service = importer(h, client, 'm1', { bulk: BULK, onProgress: (p) => events.push({ fetched: p.fetched, total: p.total }) });
    const full = await service.importResource('metafields');
    expect(full).toMatchObject({ status: 'succeeded', mode: 'full', failed: 0 });
    const owners = await storedOwners('m1');
    // Progress over the six listings: never more done than the total, which ends at every owner listed
    // (it was the first listing's count alone: the demo printed "2421/67").
    expect(events.filter((e) => e.total !== undefined && e.fetched > e.total)).toEqual([]);
    expect(events.at(-1)).toEqual({ fetched: owners.length, total: owners.length });
    const types = new Set(owners.map(([, t]) => t));
    expect([...types].sort()).toEqual(['COLLECTION', 'CUSTOMER', 'ORDER', 'PRODUCT', 'PRODUCTVARIANT', 'SHOP']);
    // Every product was listed as an owner (those without metafields too); about half have some.
    expect(owners.filter(([, t]) => t === 'PRODUCT').length).toBe(60);
    const stored = await storedMetafields('m1');
    expect(stored).toEqual(simMetafields(shop, owners));
    const productsWith = new Set(stored.filter((m) => m.startsWith('PRODUCT:')).map((m) => m.split(':')[1]));
    expect(productsWith.size).toBeGreaterThan(15);
    expect(productsWith.size).toBeLessThan(45);
    // Types and values as Shopify sends them.
    const json = await q<{ value: string; type: string }>(`SELECT value, type FROM shopify_metafields WHERE tenant_id = 'm1' AND type IN ('json', 'list.single_line_text_field') LIMIT 5`);
    for (const row of json) expect(() => JSON.parse(row.value)).not.toThrow();

    // Changes that leave the owners' updatedAt alone.
    const product = owners.find(([g, , id]) => g === 'Product' && shop.metafields.list('Product', id).length >= 2)!;
    const [first, second] = shop.metafields.list('Product', product[2]);
    shop.metafields.set('Product', product[2], first.namespace, first.key, first.type, first.type === 'json' ? '{"changed":true}' : 'changed');
    shop.metafields.remove('Product', product[2], second.namespace, second.key);
    const customer = owners.find(([g]) => g === 'Customer')!;
    const added = shop.metafields.set('Customer', customer[2], 'crm', 'segment', 'single_line_text_field', 'gold');
    const [shopOwner] = owners.filter(([g]) => g === 'Shop');
    shop.metafields.set('Shop', shopOwner[2], 'settings', 'theme', 'single_line_text_field', 'dawn');

    const inc = await service.importResource('metafields');
    expect(inc).toMatchObject({ status: 'succeeded', mode: 'incremental', failed: 0 });
    expect(await storedMetafields('m1')).toEqual(simMetafields(shop, owners));
    expect(await q(`SELECT deleted_at IS NOT NULL AS gone FROM shopify_metafields WHERE tenant_id = 'm1' AND id = $1`, [String(second.id)])).toEqual([{ gone: true }]);
    expect(await q(`SELECT owner_type, owner_id::text AS owner, value FROM shopify_metafields WHERE tenant_id = 'm1' AND id = $1`, [String(added)])).toEqual([{ owner_type: 'CUSTOMER', owner: String(customer[2]), value: 'gold' }]);

    // The same by bulk operations (threshold 0): a metafield removed is tombstoned by the operation's finalization.
    const [third] = shop.metafields.list('Product', product[2]);
    shop.metafields.remove('Product', product[2], third.namespace, third.key);
    const viaBulk = await service.importResource('metafields', { bulkThreshold: 0 });
    expect(viaBulk).toMatchObject({ status: 'succeeded', failed: 0 });
    expect(await storedMetafields('m1')).toEqual(simMetafields(shop, owners));

    // docs/schema.md's metafield example runs on these tables (products synced first).
    await service.importResource('products');
    const perProduct = /Metafield values per product[^\n]*\n([\s\S]*?;)/.exec(DOC)![1];
    const values = await q<{ metafield: string }>(perProduct, ['m1']);
    expect(values.length).toBe((await storedMetafields('m1')).filter((m) => m.startsWith('PRODUCT:')).length);
  });

  it('metafields of a shop with 64-bit ids', async () => {
    const { client, shop } = await connectTenant(h, 'm2', 2);
    const res = await importer(h, client, 'm2', { bulk: BULK }).importResource('metafields');
    expect(res).toMatchObject({ status: 'succeeded', failed: 0 });
    const owners = await storedOwners('m2');
    expect(owners.some(([, , id]) => id > 2n ** 53n)).toBe(true);
    expect(await storedMetafields('m2')).toEqual(simMetafields(shop, owners));
  });
});
