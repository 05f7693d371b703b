import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { API, manualClock, startReceiver } from './helpers.js';

async function gql(sim: ShopifySimulator, token: string, query: string, variables?: Record<string, unknown>) {
  const res = await fetch(`${sim.url}${API}/graphql.json`, {
    method: 'POST', headers: { 'X-Shopify-Access-Token': token, 'Content-Type': 'application/json' }, body: JSON.stringify({ query, variables }),
  });
  expect(res.status).toBe(200);
  return res.json() as Promise<{ data?: any; errors?: any[]; extensions?: any }>;
}

describe('simulator GraphQL', () => {
  let sim: ShopifySimulator;
  beforeAll(async () => {
    sim = await createShopifySimulator({ seed: 9, shops: [{ name: 'Graph Shop', orders: 60, customers: 20, products: 8 }], timeScale: 100, bulk: { startDelayMs: 1000, rowsPerSecond: 1000 } });
  });
  afterAll(() => sim.stop());
  const token = () => sim.shops[0].accessToken;

  it('answers shop { name } with a cost block', async () => {
    const res = await gql(sim, token(), '{ shop { name myshopifyDomain } }');
    expect(res.data.shop).toEqual({ name: 'Graph Shop', myshopifyDomain: sim.shops[0].domain });
    expect(res.extensions.cost).toMatchObject({ requestedQueryCost: 1, actualQueryCost: 1, throttleStatus: { maximumAvailable: 1000, restoreRate: 50 } });
  });

  it('pages a connection with variables, cursors and the updated_at query', async () => {
    const query = `query Orders($first: Int!, $after: String, $q: String) {
      orders(first: $first, after: $after, query: $q) {
        edges { cursor node { id legacyResourceId updatedAt totalPriceSet { shopMoney { amount currencyCode } } lineItems(first: 5) { nodes { id quantity } } } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    const ids: string[] = [];
    let after: string | null = null;
    let cost = 0;
    do {
      const res = await gql(sim, token(), query, { first: 25, after, q: null });
      const conn = res.data.orders;
      ids.push(...conn.edges.map((e: any) => e.node.id));
      expect(conn.edges[0].node.id).toMatch(/^gid:\/\/shopify\/Order\/\d+$/);
      expect(conn.edges[0].node.totalPriceSet.shopMoney.amount).toMatch(/^\d+\.\d{2}$/);
      cost = res.extensions.cost.requestedQueryCost;
      after = conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null;
    } while (after);
    expect(ids).toHaveLength(60);
    expect(new Set(ids).size).toBe(60);
    // 2 + 25 x (node 1 + totalPriceSet 2 + lineItems (2 + 5 x 1))
    expect(cost).toBe(2 + 25 * (1 + 2 + 7));

    const order = sim.shops[0].update('orders', sim.shops[0].idOf('orders', 10), { note: 'recent' });
    const since = new Date(Date.parse(String(order.updated_at))).toISOString();
    const recent = await gql(sim, token(), `{ orders(first: 10, query: "updated_at:>='${since}'") { nodes { id note } } }`);
    expect(recent.data.orders.nodes).toEqual([{ id: order.admin_graphql_api_id, note: 'recent' }]);
  });

  it('resolves aliases, fragments and node(id:)', async () => {
    const gid = `gid://shopify/Customer/${sim.shops[0].idOf('customers', 3)}`;
    const res = await gql(sim, token(), `query { c: customer(id: "${gid}") { ...F } n: node(id: "${gid}") { __typename ... on Customer { id } } }
      fragment F on Customer { id email defaultAddress { city } }`);
    expect(res.data.c.id).toBe(gid);
    expect(res.data.c.email).toMatch(/@example\.com$/);
    expect(res.data.n).toEqual({ __typename: 'Customer', id: gid });
  });

  it('rejects a query above the single-query cost cap', async () => {
    const res = await gql(sim, token(), '{ orders(first: 250) { nodes { id lineItems(first: 50) { nodes { id } } } } }');
    expect(res.errors?.[0].extensions.code).toBe('MAX_COST_EXCEEDED');
    expect(res.data).toBeUndefined();
  });

  it('prices a union at its costliest possible selection, not the sum of its fragments (Shopify\'s documented rule)', async () => {
    // Per node: 1 + codeDiscount (1 + max(Basic: 2 + 5, Bxgy: 2 + 2, FreeShipping: 0)) = 9; the page: 2 + 10 x 9.
    const union = '{ codeDiscountNodes(first: 10) { nodes { id codeDiscount { ... on DiscountCodeBasic { title codes(first: 5) { nodes { code } } } ... on DiscountCodeBxgy { title codes(first: 2) { nodes { code } } } ... on DiscountCodeFreeShipping { title } } } } }';
    expect((await gql(sim, token(), union)).extensions.cost.requestedQueryCost).toBe(92);
    // The costliest fragment alone costs the same; a fragment spread on a concrete type counts the same way.
    const basicOnly = '{ codeDiscountNodes(first: 10) { nodes { id codeDiscount { ...B } } } } fragment B on DiscountCodeBasic { title codes(first: 5) { nodes { code } } }';
    expect((await gql(sim, token(), basicOnly)).extensions.cost.requestedQueryCost).toBe(92);
  });

  it('leaves out the fields of a fragment on another type than the object\'s, as GraphQL does (not null)', async () => {
    const res = await gql(sim, token(), '{ discountNodes(first: 50) { nodes { discount { __typename ... on DiscountCodeBasic { title } ... on DiscountCodeFreeShipping { t: title appliesOncePerCustomer } } } } }');
    const discounts = (res.data.discountNodes.nodes as Array<{ discount: Record<string, unknown> }>).map((n) => n.discount);
    const basic = discounts.filter((d) => d.__typename === 'DiscountCodeBasic');
    const other = discounts.filter((d) => d.__typename !== 'DiscountCodeBasic' && d.__typename !== 'DiscountCodeFreeShipping');
    const free = discounts.filter((d) => d.__typename === 'DiscountCodeFreeShipping');
    expect(basic.length).toBeGreaterThan(0);
    expect(other.length + free.length).toBeGreaterThan(0);
    for (const d of basic) expect(Object.keys(d).sort()).toEqual(['__typename', 'title']);
    for (const d of free) expect(Object.keys(d).sort()).toEqual(['__typename', 'appliesOncePerCustomer', 't']);
    for (const d of other) expect(Object.keys(d)).toEqual(['__typename']);
  });

  it('answers THROTTLED in a 200 when the point bucket is short, and restores over time', async () => {
    const clock = manualClock();
    const small = await createShopifySimulator({ shops: [{ products: 50 }], graphql: { maximumAvailable: 100, restoreRate: 10 }, clock: clock.now });
    const q = '{ products(first: 30) { nodes { id title } } }';
    const first = await gql(small, small.shops[0].accessToken, q);
    expect(first.extensions.cost.requestedQueryCost).toBe(32);
    expect(first.extensions.cost.throttleStatus.currentlyAvailable).toBe(68);
    await gql(small, small.shops[0].accessToken, q);
    await gql(small, small.shops[0].accessToken, q);
    const throttled = await gql(small, small.shops[0].accessToken, q);
    expect(throttled.errors?.[0].extensions.code).toBe('THROTTLED');
    expect(throttled.extensions.cost.throttleStatus.currentlyAvailable).toBe(4);
    clock.advance(2800);
    expect((await gql(small, small.shops[0].accessToken, q)).data.products.nodes).toHaveLength(30);
    expect(small.stats(0).graphqlThrottled).toBe(1);
    await small.stop();
  });

  it('runs a bulk operation to a JSONL file with __parentId lines and the finish webhook', async () => {
    const receiver = await startReceiver();
    sim.shops[0].subscribe('bulk_operations/finish', receiver.url);
    sim.graphql.configureBulk({ startDelayMs: 30_000 });
    const run = await gql(sim, token(), `mutation { bulkOperationRunQuery(query: """
      { orders { edges { node { id name lineItems { edges { node { id quantity } } } } } } }
    """) { bulkOperation { id status } userErrors { field message } } }`);
    expect(run.data.bulkOperationRunQuery.userErrors).toEqual([]);
    const id = run.data.bulkOperationRunQuery.bulkOperation.id;
    expect(run.data.bulkOperationRunQuery.bulkOperation.status).toBe('CREATED');
    // Since API 2026-01 (older requested versions fall forward to it) a shop runs up to 5 bulk queries at once.
    const again = await gql(sim, token(), 'mutation { bulkOperationRunQuery(query: "{ products { edges { node { id } } } }") { bulkOperation { id } userErrors { message } } }');
    expect(again.data.bulkOperationRunQuery.userErrors).toEqual([]);
    sim.graphql.configureBulk({ startDelayMs: 1000 });
    const statuses = new Set<string>();
    let op: any;
    for (let i = 0; i < 100; i++) {
      op = (await gql(sim, token(), `{ bulkOperation(id: "${id}") { status objectCount url partialDataUrl } }`)).data.bulkOperation;
      statuses.add(op.status);
      if (op.status === 'COMPLETED') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(op.status).toBe('COMPLETED');
    expect(statuses.has('RUNNING') || statuses.has('CREATED')).toBe(true);
    const text = await (await fetch(op.url)).text();
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    const roots = lines.filter((l) => !l.__parentId);
    expect(roots).toHaveLength(60);
    const children = lines.filter((l) => l.__parentId);
    expect(children.length).toBeGreaterThanOrEqual(60);
    expect(children.every((c) => roots.some((r) => r.id === c.__parentId))).toBe(true);
    expect(Object.keys(roots[0]).sort()).toEqual(['id', 'name']);
    const listed = (await gql(sim, token(), '{ bulkOperations(first: 10) { nodes { id status } } }')).data.bulkOperations.nodes;
    expect(listed.map((o: { id: string }) => o.id)).toContain(id);
    await sim.webhooks.waitForDeliveries();
    const hook = receiver.received.find((r) => r.headers['x-shopify-topic'] === 'bulk_operations/finish')!;
    expect(JSON.parse(hook.body)).toMatchObject({ admin_graphql_api_id: id, status: 'completed', error_code: null });
    await receiver.close();
  });

  it('fails a bulk operation with a partialDataUrl', async () => {
    sim.graphql.failNextBulkOperation('INTERNAL_SERVER_ERROR', 0.5);
    const run = await gql(sim, token(), 'mutation { bulkOperationRunQuery(query: "{ customers { edges { node { id email } } } }") { bulkOperation { id } userErrors { message } } }');
    const id = run.data.bulkOperationRunQuery.bulkOperation.id;
    let op: any;
    for (let i = 0; i < 100; i++) {
      op = (await gql(sim, token(), `{ bulkOperation(id: "${id}") { status errorCode url partialDataUrl } }`)).data.bulkOperation;
      if (op.status === 'FAILED') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(op).toMatchObject({ status: 'FAILED', errorCode: 'INTERNAL_SERVER_ERROR', url: null });
    const lines = (await (await fetch(op.partialDataUrl)).text()).trim().split('\n');
    expect(lines).toHaveLength(10);
  });
});
