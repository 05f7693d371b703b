/**
 * The stock and catalogue topics end to end: the simulator changes locations, inventory and
 * collections and delivers Shopify's REST-shaped webhooks to a real Express server; the webhook
 * service applies each through the registry (refetching the record over GraphQL from the
 * simulator, as the facade wires it), and the database follows: quantities, a disconnected level
 * removed, a deactivated location, a renamed shop, tombstones, collection membership kept.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createShopifyClient } from '../../src/client/index.js';
import { createKeyRing } from '../../src/crypto/index.js';
import { createImportService } from '../../src/importer/index.js';
import { createStore } from '../../src/store/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { INVENTORY_STATES } from '../../src/testing/stock.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, SECRET } from './helpers/deliveries.js';
import { startSimulatorReceiver, type SimulatorReceiver } from './helpers/simulator-receiver.js';

let db: TestDatabase;
let sim: ShopifySimulator;
let receiver: SimulatorReceiver;
const SHOP = 'stock-shop.myshopify.com';
const TENANT = 'tenant-stock';
let simTime = Date.parse('2026-11-01T00:00:00Z');
const TOPICS = [
  'shop/update', 'locations/create', 'locations/update', 'locations/activate', 'locations/deactivate', 'locations/delete',
  'inventory_items/create', 'inventory_items/update', 'inventory_items/delete', 'inventory_levels/connect', 'inventory_levels/update', 'inventory_levels/disconnect',
  'collections/create', 'collections/update', 'collections/delete',
];

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_wh_stock' });
  await createStore(db.database).upsertTenant({ id: TENANT, shopDomain: SHOP, accessTokenEnc: 'x' });
  sim = await createShopifySimulator({ seed: 11, apiSecret: SECRET, clock: () => (simTime += 1000), unthrottled: true, timeScale: 1000, shops: [{ domain: SHOP, customers: 3, products: 10, orders: 3, bigIds: true }] });
  const shop = sim.shops[0]!;
  const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: shop.baseUrl, retryOptions: { retries: 3, minTimeout: 5, maxTimeout: 20 } });
  const keyRing = createKeyRing({ key: ENCRYPTION_KEY });
  // The starting state, synced: webhooks then keep it current.
  await createImportService(db.database, client, TENANT, { keyRing, bulk: { minPollMs: 10, maxPollMs: 50 } }).importAll({ resources: ['shop', 'locations', 'inventory', 'collections'] });
  receiver = await startSimulatorReceiver({ db, sim, tenantId: TENANT, keyRing, client, topics: TOPICS });
});

afterAll(async () => {
  await receiver?.close();
  await sim?.stop();
  await db?.drop();
});

const q = <T extends Record<string, any> = Record<string, unknown>>(sql: string, params: unknown[] = []) => db.query<T>(sql, params);

const settle = () => receiver.settle();

it('inventory_levels/update|connect|disconnect and inventory_items/update|delete keep items and levels equal to the shop', async () => {
  const { stock } = sim.shops[0]!;
  const [a, b, c] = stock.itemIds();
  const [main, second] = stock.locationIds();
  stock.adjustQuantity(a, main, 'available', -4);
  stock.adjustQuantity(a, main, 'committed', 2);
  const unstocked = stock.locationIds().find((l) => !stock.levelsOf(b).includes(l))!;
  stock.connect(b, unstocked, 17);
  const stockedTwice = stock.itemIds().find((i) => stock.levelsOf(i).length > 1)!;
  const dropped = stock.levelsOf(stockedTwice).find((l) => l !== main)!;
  stock.disconnect(stockedTwice, dropped);
  stock.updateItem(c, { cost: '12.3456', sku: 'NEW-SKU' });
  const deleted = stock.itemIds()[4];
  stock.deleteItem(deleted);
  await settle();

  const rows = await q<Record<string, unknown>>(`SELECT inventory_item_id::text AS item, location_id::text AS loc, ${INVENTORY_STATES.join(', ')} FROM shopify_inventory_levels v
    WHERE tenant_id = $1 AND EXISTS (SELECT 1 FROM shopify_inventory_items i WHERE i.tenant_id = v.tenant_id AND i.id = v.inventory_item_id AND i.deleted_at IS NULL)`, [TENANT]);
  const stored = new Map(rows.map((r) => [`${r.item}:${r.loc}`, Object.fromEntries(INVENTORY_STATES.map((n) => [n, r[n]]))]));
  const expected = new Map(stock.itemIds().flatMap((i) => stock.levelsOf(i).map((l) => [`${i}:${l}`, { ...stock.quantities(i, l)! }] as const)));
  expect(stored).toEqual(expected);
  expect(stored.get(`${a}:${main}`)).toMatchObject({ available: stock.quantities(a, main)!.available, committed: stock.quantities(a, main)!.committed });
  expect(stored.get(`${b}:${unstocked}`)).toMatchObject({ available: 17 });
  expect(stored.has(`${stockedTwice}:${dropped}`)).toBe(false);
  expect(await q(`SELECT sku, unit_cost::text AS cost FROM shopify_inventory_items WHERE tenant_id = $1 AND id = $2`, [TENANT, String(c)])).toEqual([{ sku: 'NEW-SKU', cost: '12.3456' }]);
  expect((await q<{ gone: boolean }>(`SELECT deleted_at IS NOT NULL AS gone FROM shopify_inventory_items WHERE tenant_id = $1 AND id = $2`, [TENANT, String(deleted)]))[0].gone).toBe(true);
  expect(second).toBeDefined();
});

it('locations/create|update|deactivate|delete, collections/update|delete (membership kept) and shop/update', async () => {
  const { stock } = sim.shops[0]!;
  const created = stock.createLocation();
  const renamed = stock.locationIds()[1];
  stock.renameLocation(renamed, 'Renamed depot');
  stock.deactivateLocation(created);
  const doomed = stock.locationIds()[2];
  stock.deactivateLocation(doomed);
  stock.deleteLocation(doomed);
  const [col] = stock.collectionIds();
  const membersBefore = await q<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_collection_products WHERE tenant_id = $1 AND collection_id = $2`, [TENANT, String(col)]);
  stock.retitleCollection(col, 'Retitled');
  const gone = stock.collectionIds()[1];
  stock.deleteCollection(gone);
  stock.renameShop('Shop via webhook');
  await settle();

  expect(await q(`SELECT name, is_active FROM shopify_locations WHERE tenant_id = $1 AND id = $2`, [TENANT, String(created)])).toEqual([{ name: expect.any(String), is_active: false }]);
  expect(await q(`SELECT name FROM shopify_locations WHERE tenant_id = $1 AND id = $2`, [TENANT, String(renamed)])).toEqual([{ name: 'Renamed depot' }]);
  expect((await q<{ gone: boolean }>(`SELECT deleted_at IS NOT NULL AS gone FROM shopify_locations WHERE tenant_id = $1 AND id = $2`, [TENANT, String(doomed)]))[0].gone).toBe(true);
  expect(await q(`SELECT title FROM shopify_collections WHERE tenant_id = $1 AND id = $2`, [TENANT, String(col)])).toEqual([{ title: 'Retitled' }]);
  // The update body has no products: the refetched collection keeps its membership.
  const membersAfter = await q<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_collection_products WHERE tenant_id = $1 AND collection_id = $2`, [TENANT, String(col)]);
  expect(membersAfter).toEqual(membersBefore);
  expect(membersAfter[0].n).toBe(stock.productsOf(col).length);
  expect((await q<{ gone: boolean }>(`SELECT deleted_at IS NOT NULL AS gone FROM shopify_collections WHERE tenant_id = $1 AND id = $2`, [TENANT, String(gone)]))[0].gone).toBe(true);
  expect(await q(`SELECT name FROM shopify_shop WHERE tenant_id = $1`, [TENANT])).toEqual([{ name: 'Shop via webhook' }]);
});
