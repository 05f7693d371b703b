/**
 * How each resource's records are changed at the simulated Shopify, for registry-wide tests
 * (tests/importer/incremental-registry.test.ts, tests/service/registry-facade.test.ts). A new
 * resource needs an entry here: those tests check that every resource of the registry has one.
 */
import { expect } from 'vitest';
import type { JsonObject } from '../../src/testing/generator.js';
import type { ShopifySimulator } from '../../src/testing/index.js';

export type Shop = ShopifySimulator['shops'][number];

/** What a change did: the ids of records deleted at Shopify (their rows may be all that differs, see `reconcileOnly`). */
export interface Changed { deleted: string[] }

/** `change` updates, creates and deletes records of the resource; `touch(k)` updates one record (the k-th of a few). */
export interface RegistryChange { change(shop: Shop): Changed; touch(shop: Shop, k: number): void }

/**
 * The changes of every resource, by name. `now()` is the simulated Shopify's clock (epoch ms): what
 * the changes stamp as written by the test (REST `created_at`/`updated_at` of new children).
 */
export function createRegistryChanges(now: () => number = Date.now): Record<string, RegistryChange> {
  /** Test-only ids (numbers, as the shop has no big ids), above the generator's children of order i (base + 16 i + k). */
  let nextId = 0;
  const testId = (base: number) => base + 500_000 + ++nextId;

  const live = (shop: Shop, resource: 'customers' | 'products' | 'orders', from: number, n: number, where: (r: JsonObject) => boolean = () => true): JsonObject[] => {
    const out: JsonObject[] = [];
    for (let i = from; i < shop.tables[resource].size && out.length < n; i++) {
      const r = shop.find(resource, shop.idOf(resource, i));
      if (r && where(r)) out.push(r);
    }
    expect(out.length, `${resource} to change`).toBe(n);
    return out;
  };
  /** Now at the simulated Shopify, as its REST records write times. */
  const later = () => new Date(Math.floor(now() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const list = (o: JsonObject, field: string) => (o[field] as JsonObject[] | undefined) ?? [];

  function newTransaction(o: JsonObject, kind: string, amount: string): JsonObject {
    const id = testId(6_800_000_000_000);
    return {
      id, admin_graphql_api_id: `gid://shopify/OrderTransaction/${id}`, order_id: o.id, amount, kind, status: 'success', gateway: 'manual',
      created_at: later(), processed_at: later(), parent_id: null, test: false, error_code: null,
    };
  }
  function newRefund(o: JsonObject): JsonObject {
    const id = testId(9_100_000_000_000);
    const li = list(o, 'line_items')[0];
    const money = (a: string) => ({ shop_money: { amount: a, currency_code: 'USD' }, presentment_money: { amount: a, currency_code: 'USD' } });
    return {
      id, admin_graphql_api_id: `gid://shopify/Refund/${id}`, created_at: later(), processed_at: later(), note: 'changed', order_id: o.id,
      order_adjustments: [], transactions: [newTransaction(o, 'refund', '0.01')],
      refund_line_items: li ? [{ id: testId(3_300_000_000_000), line_item_id: li.id, quantity: 1, restock_type: 'cancel', subtotal_set: money('0.01'), total_tax_set: money('0.00') }] : [],
    };
  }
  function newFulfillment(o: JsonObject): JsonObject {
    const id = testId(5_100_000_000_000);
    return {
      id, admin_graphql_api_id: `gid://shopify/Fulfillment/${id}`, created_at: later(), updated_at: later(), status: 'success', location_id: null,
      name: `${String(o.name)}.7`, tracking_company: 'UPS', tracking_number: `1Z${id}`, tracking_numbers: [`1Z${id}`], tracking_url: null, tracking_urls: [],
      shipment_status: null, line_items: list(o, 'line_items').slice(0, 1),
    };
  }

  /**
   * How each resource's records are changed at the simulated Shopify. `change` updates, creates and
   * deletes (enough records for several pages of `PAGE_SIZE`); `touch(k)` updates one record (the k-th
   * of a few), for the watermark check.
   */
  const changes: Record<string, RegistryChange> = {
    customers: {
      change(shop) {
        const [a, b, c, gone] = live(shop, 'customers', 1, 4);
        for (const r of [a, b, c]) shop.update('customers', r.id as number, { note: 'changed', first_name: 'Changed' });
        shop.create('customers', { first_name: 'New' });
        shop.create('customers', { first_name: 'Newer' });
        shop.delete('customers', gone.id as number);
        return { deleted: [String(gone.id)] };
      },
      touch(shop, k) { shop.update('customers', live(shop, 'customers', 10 + k, 1)[0].id as number, { note: `touched ${k}` }); },
    },
    products: {
      change(shop) {
        const [a, b, c, gone] = live(shop, 'products', 1, 4, (p) => list(p, 'variants').length > 1);
        shop.update('products', a.id as number, { title: 'Changed title', tags: 'vip, sale' });
        // A variant repriced, one removed (tombstoned), on another product.
        shop.update('products', b.id as number, (p) => ({ ...p, variants: list(p, 'variants').slice(0, -1).map((v, k) => (k === 0 ? { ...v, price: '12.34', updated_at: later() } : v)) }));
        shop.update('products', c.id as number, { vendor: 'Changed vendor' });
        shop.create('products', { title: 'New product' });
        shop.delete('products', gone.id as number);
        return { deleted: [String(gone.id)] };
      },
      touch(shop, k) { shop.update('products', live(shop, 'products', 8 + k, 1)[0].id as number, { title: `Touched ${k}` }); },
    },
    orders: {
      change(shop) {
        const [a, b, c, d, gone] = live(shop, 'orders', 1, 5, (o) => list(o, 'line_items').length > 1);
        shop.update('orders', a.id as number, { note: 'changed' });
        shop.update('orders', b.id as number, (o) => ({ ...o, line_items: list(o, 'line_items').slice(0, -1) }));
        shop.cancelOrder(c.id as number);
        shop.update('orders', d.id as number, { tags: 'changed' });
        shop.create('orders', { note: 'new' });
        shop.delete('orders', gone.id as number);
        return { deleted: [String(gone.id)] };
      },
      touch(shop, k) { shop.update('orders', live(shop, 'orders', 30 + k, 1)[0].id as number, { note: `touched ${k}` }); },
    },
    refunds: {
      change(shop) {
        const [a, b, c] = live(shop, 'orders', 10, 3);
        const [gone] = live(shop, 'orders', 13, 1, (o) => list(o, 'refunds').length > 0);
        const [cut] = live(shop, 'orders', 13, 1, (o) => o.id !== gone.id && list(o, 'refunds').length > 0 && list(list(o, 'refunds')[0], 'refund_line_items').length > 0);
        for (const o of [a, b, c]) shop.update('orders', o.id as number, (x) => ({ ...x, refunds: [...list(x, 'refunds'), newRefund(x)] }));
        // A refund's note changed and its line items emptied (Shopify does not, but the rows must follow the record).
        shop.update('orders', cut.id as number, (x) => ({ ...x, refunds: list(x, 'refunds').map((r, k) => (k === 0 ? { ...r, note: 'changed', refund_line_items: [] } : r)) }));
        shop.delete('orders', gone.id as number);
        return { deleted: [String(gone.id)] };
      },
      touch(shop, k) { shop.update('orders', live(shop, 'orders', 40 + k, 1)[0].id as number, (x) => ({ ...x, refunds: [...list(x, 'refunds'), newRefund(x)] })); },
    },
    transactions: {
      change(shop) {
        const [a, b, c] = live(shop, 'orders', 20, 3);
        const [gone] = live(shop, 'orders', 23, 1, (o) => list(o, 'transactions').length > 0);
        for (const o of [a, b, c]) shop.update('orders', o.id as number, (x) => ({ ...x, transactions: [...list(x, 'transactions'), newTransaction(x, 'capture', '1.00')] }));
        shop.delete('orders', gone.id as number);
        return { deleted: [String(gone.id)] };
      },
      touch(shop, k) { shop.update('orders', live(shop, 'orders', 45 + k, 1)[0].id as number, (x) => ({ ...x, transactions: [...list(x, 'transactions'), newTransaction(x, 'capture', '2.00')] })); },
    },
    fulfillments: {
      change(shop) {
        const [a, b] = live(shop, 'orders', 26, 2);
        const [moved] = live(shop, 'orders', 28, 1, (o) => list(o, 'fulfillments').length > 0);
        const [gone] = live(shop, 'orders', 28, 1, (o) => o.id !== moved.id && list(o, 'fulfillments').length > 0);
        for (const o of [a, b]) shop.update('orders', o.id as number, (x) => ({ ...x, fulfillments: [...list(x, 'fulfillments'), newFulfillment(x)] }));
        shop.update('orders', moved.id as number, (x) => ({ ...x, fulfillments: list(x, 'fulfillments').map((f) => ({ ...f, tracking_company: 'FedEx', updated_at: later() })) }));
        shop.delete('orders', gone.id as number);
        return { deleted: [String(gone.id)] };
      },
      touch(shop, k) { shop.update('orders', live(shop, 'orders', 50 + k, 1)[0].id as number, (x) => ({ ...x, fulfillments: [...list(x, 'fulfillments'), newFulfillment(x)] })); },
    },
    shop: {
      change(shop) { shop.stock.renameShop('Renamed shop'); return { deleted: [] }; },
      touch(shop, k) { shop.stock.renameShop(`Touched shop ${k}`); },
    },
    locations: {
      change(shop) {
        const [first, second, third] = shop.stock.locationIds();
        shop.stock.renameLocation(first, 'Renamed warehouse');
        shop.stock.deactivateLocation(second);
        shop.stock.createLocation();
        shop.stock.createLocation();
        shop.stock.deactivateLocation(third);
        shop.stock.deleteLocation(third);
        return { deleted: [String(third)] };
      },
      touch(shop, k) { shop.stock.renameLocation(shop.stock.locationIds()[k], `Touched ${k}`); },
    },
    inventory: {
      change(shop) {
        const items = shop.stock.itemIds();
        const locations = shop.stock.locationIds();
        // Quantities change without the item's updatedAt (the reason inventory is listed whole).
        shop.stock.adjustQuantity(items[0], shop.stock.levelsOf(items[0])[0], 'available', -2);
        const unstocked = items.find((i) => locations.some((l) => !shop.stock.levelsOf(i).includes(l)))!;
        shop.stock.connect(unstocked, locations.find((l) => !shop.stock.levelsOf(unstocked).includes(l))!, 5);
        const multi = items.find((i) => i !== unstocked && shop.stock.levelsOf(i).length > 1)!;
        shop.stock.disconnect(multi, shop.stock.levelsOf(multi).at(-1)!);
        shop.stock.updateItem(items[3], { cost: '9.99', sku: 'CHANGED' });
        shop.stock.deleteItem(items[4]);
        return { deleted: [String(items[4])] };
      },
      touch(shop, k) { shop.stock.updateItem(shop.stock.itemIds()[6 + k], { sku: `TOUCHED-${k}` }); },
    },
    collections: {
      // The simulator has no helper to create a collection: creations are not covered here.
      change(shop) {
        const [first, second, third] = shop.stock.collectionIds();
        shop.stock.retitleCollection(first, 'Retitled');
        const product = live(shop, 'products', 0, 1, (p) => !shop.stock.productsOf(second).includes(BigInt(p.id as number)))[0];
        shop.stock.addProduct(second, BigInt(product.id as number));
        // A smart collection's members follow the products' tags, its updatedAt stays.
        const smart = shop.stock.collectionIds().at(-1)!;
        const tag = /Tagged (\w+)/.exec(JSON.stringify(shop.stock.node(`gid://shopify/Collection/${smart}`)))?.[1] ?? 'eco';
        shop.update('products', live(shop, 'products', 2, 1)[0].id as number, (p) => ({ ...p, tags: `${String(p.tags ?? '')}, ${tag}` }));
        shop.stock.deleteCollection(third);
        return { deleted: [String(third)] };
      },
      touch(shop, k) { shop.stock.retitleCollection(shop.stock.collectionIds()[k], `Touched ${k}`); },
    },
    metafields: {
      change(shop) {
        const products = live(shop, 'products', 0, 6);
        const withOne = products.find((p) => shop.metafields.list('Product', BigInt(p.id as number)).length > 0)!;
        const [m] = shop.metafields.list('Product', BigInt(withOne.id as number));
        shop.metafields.remove('Product', BigInt(withOne.id as number), m.namespace, m.key);
        for (const p of products.slice(0, 3)) shop.metafields.set('Product', BigInt(p.id as number), 'custom', 'changed', 'single_line_text_field', 'yes');
        const [customer] = live(shop, 'customers', 0, 1);
        shop.metafields.set('Customer', BigInt(customer.id as number), 'custom', 'tier', 'single_line_text_field', 'gold');
        const [order] = live(shop, 'orders', 0, 1);
        shop.metafields.set('Order', BigInt(order.id as number), 'custom', 'gift', 'boolean', 'true');
        shop.metafields.set('Shop', `gid://shopify/Shop/${548_380_009 + shop.shopNumber}`, 'custom', 'motto', 'single_line_text_field', 'changed');
        // Metafield ids are not their owners': nothing deleted at the owner level.
        return { deleted: [] };
      },
      touch(shop, k) { shop.metafields.set('Product', BigInt(live(shop, 'products', k, 1)[0].id as number), 'custom', 'touched', 'single_line_text_field', `t${k}`); },
    },
    discounts: {
      change(shop) {
        const ids = shop.discounts.ids();
        const code = ids.find((id) => shop.discounts.typeOf(id).startsWith('DiscountCode') && shop.discounts.codesOf(id).length > 1)!;
        shop.discounts.retitle(ids.find((id) => id !== code)!, 'Retitled');
        shop.discounts.addCodes(code, 3);
        shop.discounts.removeCodes(code, shop.discounts.codesOf(code).slice(0, 1));
        shop.discounts.create(shop.discounts.typeOf(code), 2);
        shop.discounts.create('DiscountAutomaticBasic', 0);
        const gone = ids.filter((id) => id !== code).at(-1)!;
        shop.discounts.remove(gone);
        return { deleted: [String(gone)] };
      },
      touch(shop, k) { shop.discounts.retitle(shop.discounts.ids()[k], `Touched ${k}`); },
    },
    draftOrders: {
      change(shop) {
        const [a, b, c, gone] = shop.drafts.draftIds();
        shop.drafts.updateDraft(a, { note: 'changed', addLine: true });
        shop.drafts.updateDraft(b, { removeLine: true, quantity: 3 });
        shop.drafts.sendInvoice(c);
        shop.drafts.createDraft();
        // With a destroy event (Shopify's documentation does not say it records one; reconciliation covers full syncs).
        shop.drafts.deleteDraft(gone, { event: true });
        return { deleted: [String(gone)] };
      },
      touch(shop, k) { shop.drafts.updateDraft(shop.drafts.draftIds()[k], { note: `touched ${k}` }); },
    },
    abandonedCheckouts: {
      change(shop) {
        const [a, b, c, gone] = shop.drafts.checkoutIds();
        shop.drafts.updateCheckout(a, { quantity: 4 });
        shop.drafts.updateCheckout(b, { removeLine: true });
        shop.drafts.recoverCheckout(c);
        shop.drafts.createCheckout();
        shop.drafts.abandon(shop.drafts.createCheckout({ abandoned: false }));
        shop.drafts.deleteCheckout(gone);
        return { deleted: [String(gone)] };
      },
      touch(shop, k) { shop.drafts.updateCheckout(shop.drafts.checkoutIds()[k], { quantity: 10 + k }); },
    },
  };
  return changes;
}
