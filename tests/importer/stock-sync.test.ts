/**
 * Shop, locations, inventory (items + levels) and collections (+ membership) end to end: the
 * simulator (Shopify 2026-10) into PostgreSQL, a full sync by bulk operation (the shop: one query)
 * and incremental syncs that must see what `updated_at` filters cannot (level quantities, smart
 * collections' products, locations), the REST source's typed refusal, and `importAll` picking
 * the resources up from the registry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVENTORY_STATES } from '../../src/testing/stock.js';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
beforeAll(async () => {
  h = await createHarness({
    timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 },
    shops: [
      { customers: 5, products: 24, orders: 5, name: 'Stock Shop' },
      { customers: 5, products: 12, orders: 5, bigIds: true },
      { customers: 5, products: 12, orders: 5, bigIds: true },
      { customers: 5, products: 5, orders: 5 },
    ],
  });
});
afterAll(async () => { await h?.close(); });

const q = <T extends Record<string, any> = Record<string, unknown>>(sql: string, params: unknown[] = []) => h.db.query<T>(sql, params);
const STOCK = ['shop', 'locations', 'inventory', 'collections'] as const;

/** The stored levels of a tenant, `item:location` -> quantities. */
async function storedLevels(tenant: string): Promise<Map<string, Record<string, number>>> {
  const rows = await q<Record<string, unknown>>(`SELECT inventory_item_id::text AS item, location_id::text AS loc, ${INVENTORY_STATES.join(', ')} FROM shopify_inventory_levels WHERE tenant_id = $1`, [tenant]);
  return new Map(rows.map((r) => [`${r.item}:${r.loc}`, Object.fromEntries(INVENTORY_STATES.map((n) => [n, r[n] as number]))]));
}

/** What the simulator holds, in the same shape. */
function simLevels(shop: Harness['sim']['shops'][number]): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const item of shop.stock.itemIds()) for (const loc of shop.stock.levelsOf(item)) out.set(`${item}:${loc}`, { ...shop.stock.quantities(item, loc)! });
  return out;
}

async function membership(tenant: string): Promise<string[]> {
  return (await q<{ m: string }>(`SELECT collection_id::text || ':' || product_id::text AS m FROM shopify_collection_products WHERE tenant_id = $1 ORDER BY 1`, [tenant])).map((r) => r.m);
}
function simMembership(shop: Harness['sim']['shops'][number]): string[] {
  return shop.stock.collectionIds().flatMap((c) => shop.stock.productsOf(c).map((p) => `${c}:${p}`)).sort();
}

describe('stock and catalogue resources against the simulator', { timeout: 240_000 }, () => {
  it('full sync by bulk operation, then incremental syncs that see level, membership and location changes', async () => {
    const { client, shop } = await connectTenant(h, 's1', 0);
    const service = importer(h, client, 's1', { bulk: BULK });
    const full = await service.importAll({ resources: [...STOCK] });
    expect(Object.keys(full).sort()).toEqual([...STOCK].sort());
    for (const name of ['locations', 'inventory', 'collections'] as const) expect(full[name]).toMatchObject({ status: 'succeeded', mode: 'full', method: 'bulk', failed: 0 });
    expect(full.shop).toMatchObject({ status: 'succeeded', method: 'pages', fetched: 1, imported: 1 });

    // The shop: one row.
    expect(await q(`SELECT name, myshopify_domain, primary_domain, currency, iana_timezone, plan_name, shopify_plus FROM shopify_shop WHERE tenant_id = 's1'`)).toEqual([{
      name: 'Stock Shop', myshopify_domain: shop.domain, primary_domain: shop.domain, currency: 'USD', iana_timezone: 'America/New_York', plan_name: 'Basic', shopify_plus: false,
    }]);
    // Locations, with encrypted street addresses.
    const locs = await q<{ id: string; name: string; is_active: boolean; address1_enc: string; city: string }>(`SELECT id::text AS id, name, is_active, address1_enc, city FROM shopify_locations WHERE tenant_id = 's1' ORDER BY id`);
    expect(locs.map((l) => l.id)).toEqual(shop.stock.locationIds().map(String));
    expect(h.keyRing.decrypt(locs[0].address1_enc, 's1')).toBe('10 Commerce Way');
    // Inventory items with exact unit costs and their variant; levels with all eight quantities.
    const items = await q<{ id: string; unit_cost: string | null; variant_id: string; sku: string }>(`SELECT id::text AS id, unit_cost::text AS unit_cost, variant_id::text AS variant_id, sku FROM shopify_inventory_items WHERE tenant_id = 's1' AND deleted_at IS NULL ORDER BY id`);
    expect(items.map((i) => i.id)).toEqual(shop.stock.itemIds().map(String));
    const variants = await q<{ inventory_item_id: string; id: string }>(`SELECT inventory_item_id::text AS inventory_item_id, id::text AS id FROM shopify_product_variants WHERE tenant_id = 's1'`);
    expect(variants.length).toBe(0); // products were not synced: the variant link is the item's own column
    const itemOfVariant = new Map(shop.tables.products.get(0) ? (shop.tables.products.get(0)!.variants as Array<{ id: number; inventory_item_id: number }>).map((v) => [String(v.inventory_item_id), String(v.id)]) : []);
    for (const [itemId, variantId] of itemOfVariant) expect(items.find((i) => i.id === itemId)?.variant_id).toBe(variantId);
    expect(items.some((i) => i.unit_cost !== null && /^\d+\.\d{4}$/.test(i.unit_cost))).toBe(true);
    expect(await storedLevels('s1')).toEqual(simLevels(shop));
    // Collections: custom and smart (with rules), membership rows.
    const cols = await q<{ collection_type: string; rules: unknown }>(`SELECT collection_type, rules FROM shopify_collections WHERE tenant_id = 's1' ORDER BY id`);
    expect(cols.map((c) => c.collection_type)).toEqual(['custom', 'custom', 'custom', 'custom', 'smart', 'smart']);
    expect(cols[4].rules).toEqual([{ column: 'tag', relation: 'equals', condition: expect.any(String) }]);
    expect(await membership('s1')).toEqual(simMembership(shop));
    expect((await membership('s1')).length).toBeGreaterThan(0);

    // Changes no `updated_at` filter can see: quantities (item updatedAt unchanged), a disconnected
    // level, a product added to a custom collection and a product tagged into a smart one
    // (collections' updatedAt unchanged), a location deactivated, the shop renamed.
    const [item0, item1] = shop.stock.itemIds();
    const [loc0] = shop.stock.locationIds();
    shop.stock.adjustQuantity(item0, loc0, 'available', -3);
    shop.stock.adjustQuantity(item1, loc0, 'damaged', 2);
    const disconnected = shop.stock.itemIds().find((i) => shop.stock.levelsOf(i).length > 1)!;
    const goneLoc = shop.stock.levelsOf(disconnected).find((l) => l !== loc0)!;
    shop.stock.disconnect(disconnected, goneLoc);
    const [custom] = shop.stock.collectionIds();
    const outsider = BigInt(shop.idOf('products', 23)); // not yet in the first custom collection?
    shop.stock.addProduct(custom, outsider);
    const smart = shop.stock.collectionIds()[4];
    const smartTag = (cols[4].rules as Array<{ condition: string }>)[0].condition;
    const untagged = Array.from({ length: 24 }, (_, i) => shop.find('products', shop.idOf('products', i))!).find((p) => !String(p.tags).includes(smartTag))!;
    shop.update('products', untagged.id as number, { tags: `${untagged.tags}, ${smartTag}` });
    expect(shop.stock.productsOf(smart).map(String)).toContain(String(untagged.id));
    const deactivated = shop.stock.locationIds()[2];
    shop.stock.deactivateLocation(deactivated);
    shop.stock.renameShop('Renamed Shop');

    const inc = await service.importAll({ resources: [...STOCK] });
    for (const name of STOCK) expect(inc[name]).toMatchObject({ status: 'succeeded', mode: 'incremental', failed: 0 });
    expect(await storedLevels('s1')).toEqual(simLevels(shop));
    expect((await storedLevels('s1')).has(`${disconnected}:${goneLoc}`)).toBe(false);
    expect(await membership('s1')).toEqual(simMembership(shop));
    expect(await membership('s1')).toContain(`${smart}:${untagged.id}`);
    expect(await q(`SELECT is_active, deleted_at FROM shopify_locations WHERE tenant_id = 's1' AND id = $1`, [String(deactivated)])).toEqual([{ is_active: false, deleted_at: null }]);
    expect(await q(`SELECT name FROM shopify_shop WHERE tenant_id = 's1'`)).toEqual([{ name: 'Renamed Shop' }]);
    expect((await q(`SELECT count(*)::int AS n FROM shopify_shop WHERE tenant_id = 's1'`))[0]).toEqual({ n: 1 });

    // Deletions: a collection by destroy events (incremental), an inventory item by reconciliation (full).
    const doomed = shop.stock.collectionIds()[1];
    shop.stock.deleteCollection(doomed);
    const doomedItem = shop.stock.itemIds()[3];
    shop.stock.deleteItem(doomedItem);
    expect(await service.importResource('collections')).toMatchObject({ status: 'succeeded', deleted: 1 });
    expect(await service.importResource('inventory', { mode: 'full' })).toMatchObject({ status: 'succeeded', deleted: 1 });
    expect((await q<{ gone: boolean }>(`SELECT deleted_at IS NOT NULL AS gone FROM shopify_collections WHERE tenant_id = 's1' AND id = $1`, [String(doomed)]))[0].gone).toBe(true);
    expect((await q<{ gone: boolean }>(`SELECT deleted_at IS NOT NULL AS gone FROM shopify_inventory_items WHERE tenant_id = 's1' AND id = $1`, [String(doomedItem)]))[0].gone).toBe(true);
  });

  it('paged listings (below bulkThreshold) store what the simulator holds, like the bulk operation; ids above 2^53 exact', async () => {
    const { client, shop } = await connectTenant(h, 's2', 1);
    const { client: client2, shop: shop2 } = await connectTenant(h, 's3', 2);
    await importer(h, client, 's2', { bulk: BULK }).importAll({ resources: [...STOCK] });
    // dateRange: a windowed run lists by pages whatever the size.
    const paged = await importer(h, client2, 's3', { bulk: BULK }).importAll({ resources: [...STOCK], dateRange: { from: '1970-01-01T00:00:00Z' }, bulkThreshold: 1_000_000 });
    for (const name of ['locations', 'collections'] as const) expect(paged[name]).toMatchObject({ status: 'succeeded', method: 'pages' });
    expect(await storedLevels('s2')).toEqual(simLevels(shop));
    expect(await storedLevels('s3')).toEqual(simLevels(shop2));
    expect(await membership('s2')).toEqual(simMembership(shop));
    expect(await membership('s3')).toEqual(simMembership(shop2));
    expect(shop2.stock.itemIds()[0] > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    const ids = await q<{ id: string }>(`SELECT id::text AS id FROM shopify_inventory_items WHERE tenant_id = 's3' ORDER BY id`);
    expect(ids.map((r) => r.id)).toEqual(shop2.stock.itemIds().map(String));
  });

  it('the REST source: importAll skips what REST cannot list; naming one fails with SOURCE_UNAVAILABLE', async () => {
    const { client } = await connectTenant(h, 's4', 3);
    const service = importer(h, client, 's4', { defaults: { source: 'rest' } });
    const error = await service.importResource('inventory').then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'SOURCE_UNAVAILABLE', retryable: false });
    const all = await service.importAll({ pageSize: 50 });
    expect(Object.keys(all).sort()).toEqual(['customers', 'orders', 'products']);
  });
});
