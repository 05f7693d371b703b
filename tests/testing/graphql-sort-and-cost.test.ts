import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { API } from './helpers.js';

/**
 * `sortKey: UPDATED_AT | CREATED_AT` on the simulator's customers, products and orders: Shopify
 * serves a time-sorted listing in that order (ties by id), its cursor marks a place in that order
 * (a record updated after its page was served comes again later), and a cursor of another sort is
 * refused. https://shopify.dev/docs/api/admin-graphql/latest/queries/orders#arguments-sortKey
 * And the actual cost: what the answer holds, nested connections included, the rest refunded.
 * https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits
 */
async function gql(sim: ShopifySimulator, query: string, variables?: Record<string, unknown>) {
  const res = await fetch(`${sim.url}${API}/graphql.json`, {
    method: 'POST', headers: { 'X-Shopify-Access-Token': sim.shops[0].accessToken, 'Content-Type': 'application/json' }, body: JSON.stringify({ query, variables }),
  });
  expect(res.status).toBe(200);
  return res.json() as Promise<{ data?: any; errors?: any[]; extensions?: any }>;
}

const ORDERS = `query Orders($first: Int!, $after: String, $q: String, $sort: OrderSortKeys, $reverse: Boolean) {
  orders(first: $first, after: $after, query: $q, sortKey: $sort, reverse: $reverse) {
    edges { cursor node { id legacyResourceId createdAt updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Row { id: string; legacyResourceId: string; createdAt: string; updatedAt: string }

describe('simulator: time-sorted listings', () => {
  let sim: ShopifySimulator;
  let now = Date.UTC(2026, 11, 1);
  beforeAll(async () => {
    sim = await createShopifySimulator({ seed: 11, clock: () => now, shops: [{ orders: 40, customers: 5, products: 3 }] });
  });
  afterAll(() => sim.stop());

  const page = async (variables: Record<string, unknown>) => (await gql(sim, ORDERS, { first: 7, ...variables })).data.orders as { edges: Array<{ cursor: string; node: Row }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
  const all = async (variables: Record<string, unknown>, between?: (served: Row[]) => void) => {
    const rows: Row[] = [];
    let after: string | null = null;
    do {
      const p = await page({ ...variables, after });
      rows.push(...p.edges.map((e) => e.node));
      between?.(rows);
      after = p.pageInfo.hasNextPage ? p.pageInfo.endCursor : null;
    } while (after);
    return rows;
  };
  const key = (r: Row, field: 'updatedAt' | 'createdAt') => [Date.parse(r[field]), BigInt(r.legacyResourceId)] as const;
  const inOrder = (rows: Row[], field: 'updatedAt' | 'createdAt') => rows.every((r, k) => {
    if (k === 0) return true;
    const [a, ia] = key(rows[k - 1], field);
    const [b, ib] = key(r, field);
    return a < b || (a === b && ia < ib);
  });

  it('serves UPDATED_AT in update order, ties by id, changed records after the untouched ones', async () => {
    const shop = sim.shops[0];
    // Two older orders changed: they move to the end, the later change last.
    now += 60_000;
    shop.update('orders', shop.idOf('orders', 3), { note: 'first change' });
    now += 60_000;
    shop.update('orders', shop.idOf('orders', 1), { note: 'second change' });
    const rows = await all({ sort: 'UPDATED_AT' });
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.id)).size).toBe(40);
    expect(inOrder(rows, 'updatedAt')).toBe(true);
    expect(rows.slice(-2).map((r) => r.legacyResourceId)).toEqual([String(shop.idOf('orders', 3)), String(shop.idOf('orders', 1))]);
    // The id order is not this one (the test could not tell them apart otherwise).
    const byId = await all({});
    expect(byId.map((r) => r.id)).not.toEqual(rows.map((r) => r.id));
    expect(byId.map((r) => BigInt(r.legacyResourceId))).toEqual(byId.map((r) => BigInt(r.legacyResourceId)).sort((a, b) => (a < b ? -1 : 1)));
  });

  it('serves a record updated after its page again on a later page; one not yet served once', async () => {
    const shop = sim.shops[0];
    let served: bigint | undefined;
    let ahead: bigint | undefined;
    const rows = await all({ sort: 'UPDATED_AT' }, (sofar) => {
      if (served !== undefined) return;
      // After the first page: one order it served and one it did not yet serve are changed.
      served = BigInt(sofar[2].legacyResourceId);
      const seen = new Set(sofar.map((r) => r.legacyResourceId));
      ahead = BigInt([...Array(40).keys()].map((i) => String(shop.idOf('orders', i))).find((id) => !seen.has(id))!);
      now += 60_000;
      shop.update('orders', served, { note: 'changed while listed' });
      shop.update('orders', ahead, { note: 'changed before its page' });
    });
    const count = (id: bigint) => rows.filter((r) => r.legacyResourceId === String(id)).length;
    expect(count(served!)).toBe(2);
    expect(count(ahead!)).toBe(1);
    expect(rows).toHaveLength(41);
    expect(rows.slice(-2).map((r) => BigInt(r.legacyResourceId)).sort()).toEqual([served!, ahead!].sort());
  });

  it('walks backwards with reverse, filters with the updated_at query, and sorts by CREATED_AT', async () => {
    const forward = await all({ sort: 'UPDATED_AT' });
    const backward = await all({ sort: 'UPDATED_AT', reverse: true });
    expect(backward.map((r) => r.id)).toEqual([...forward].reverse().map((r) => r.id));

    const since = forward[30].updatedAt;
    const recent = await all({ sort: 'UPDATED_AT', q: `updated_at:>='${since}'` });
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.every((r) => Date.parse(r.updatedAt) >= Date.parse(since))).toBe(true);
    expect(recent.map((r) => r.id)).toEqual(forward.filter((r) => Date.parse(r.updatedAt) >= Date.parse(since)).map((r) => r.id));

    const one = await all({ sort: 'UPDATED_AT', q: `id:${forward[5].legacyResourceId}` });
    expect(one.map((r) => r.id)).toEqual([forward[5].id]);

    const created = await all({ sort: 'CREATED_AT' });
    expect(created).toHaveLength(40);
    expect(inOrder(created, 'createdAt')).toBe(true);
  });

  it('refuses a cursor of another sort, as Shopify does', async () => {
    const byId = await page({});
    const sorted = await gql(sim, ORDERS, { first: 7, after: byId.pageInfo.endCursor, sort: 'UPDATED_AT' });
    expect(sorted.errors?.[0]?.message).toBe('Invalid cursor for current pagination sort.');
    const byUpdate = await page({ sort: 'UPDATED_AT' });
    const plain = await gql(sim, ORDERS, { first: 7, after: byUpdate.pageInfo.endCursor });
    expect(plain.errors?.[0]?.message).toBe('Invalid cursor for current pagination sort.');
  });

  it('sorts customers and products the same way', async () => {
    const shop = sim.shops[0];
    now += 60_000;
    shop.update('customers', shop.idOf('customers', 0), { note: 'moved' });
    shop.update('products', shop.idOf('products', 0), { title: 'moved' });
    const customers = await gql(sim, '{ customers(first: 10, sortKey: UPDATED_AT) { nodes { legacyResourceId } } }');
    const products = await gql(sim, '{ products(first: 10, sortKey: UPDATED_AT) { nodes { legacyResourceId } } }');
    expect(customers.data.customers.nodes.at(-1).legacyResourceId).toBe(String(shop.idOf('customers', 0)));
    expect(products.data.products.nodes.at(-1).legacyResourceId).toBe(String(shop.idOf('products', 0)));
    expect(customers.data.customers.nodes).toHaveLength(5);
    expect(products.data.products.nodes).toHaveLength(3);
  });

  it('charges the nodes every connection returned, nested ones included, and refunds the rest', async () => {
    const query = `{ orders(first: 6) { pageInfo { hasNextPage } edges { node { id lineItems(first: 10) { nodes { id quantity } } } } } }`;
    const before = (await gql(sim, '{ shop { id } }')).extensions.cost.throttleStatus.currentlyAvailable as number;
    const res = await gql(sim, query);
    const orders = res.data.orders.edges.map((e: any) => e.node) as Array<{ lineItems: { nodes: unknown[] } }>;
    expect(orders).toHaveLength(6);
    // Requested: 2 + 6 x (order 1 + lineItems (2 + 10 x 1)).
    expect(res.extensions.cost.requestedQueryCost).toBe(2 + 6 * 13);
    // Actual: 2 + each order (1 + 2 + the line items it has); no order has 10.
    const lines = orders.map((o) => o.lineItems.nodes.length);
    expect(Math.max(...lines)).toBeLessThan(10);
    const actual = 2 + lines.reduce((sum, n) => sum + 1 + 2 + n, 0);
    expect(res.extensions.cost.actualQueryCost).toBe(actual);
    // The clock stands still (nothing restored): the bucket lost exactly the actual cost.
    expect(res.extensions.cost.throttleStatus.currentlyAvailable).toBe(before - actual);
    // A page shorter than asked for refunds its missing nodes with their nested selections.
    const last = await gql(sim, '{ orders(first: 10, query: "id:>0", reverse: true, sortKey: UPDATED_AT) { nodes { id lineItems(first: 10) { nodes { id } } } } }');
    const items = (last.data.orders.nodes as Array<{ lineItems: { nodes: unknown[] } }>).reduce((sum, o) => sum + 1 + 2 + o.lineItems.nodes.length, 0);
    expect(last.extensions.cost.actualQueryCost).toBe(2 + items);
    // Edges without their nodes: 2 + 1 per edge asked for, 2 + 1 per edge returned.
    const one = String(sim.shops[0].idOf('orders', 5));
    const cursors = await gql(sim, `{ orders(first: 10, query: "id:${one}") { edges { cursor } } }`);
    expect(cursors.data.orders.edges).toHaveLength(1);
    expect(cursors.extensions.cost).toMatchObject({ requestedQueryCost: 12, actualQueryCost: 3 });
  });
});
