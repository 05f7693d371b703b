/**
 * The simulator behaves as Shopify's documented 2026-10 Admin GraphQL API: validation against
 * Shopify's own schema, version fall-forward, bulk-operation limits and rules, scattered children,
 * expiry, Range, counts, destroy events, scopes, protected customer data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';

const V = '2026-10';

async function gql(sim: ShopifySimulator, shop: number, query: string, variables?: Record<string, unknown>, version = V) {
  const res = await fetch(`${sim.url}/admin/api/${version}/graphql.json`, {
    method: 'POST', headers: { 'X-Shopify-Access-Token': sim.shops[shop].accessToken, 'Content-Type': 'application/json' }, body: JSON.stringify({ query, variables }),
  });
  expect(res.status).toBe(200);
  return { version: res.headers.get('x-shopify-api-version'), ...(await res.json()) as { data?: any; errors?: any[]; extensions?: any } };
}

const RUN = (query: string, groupObjects = false) => `mutation { bulkOperationRunQuery(query: ${JSON.stringify(query)}, groupObjects: ${groupObjects}) { bulkOperation { id status } userErrors { field message code } } }`;

async function finished(sim: ShopifySimulator, shop: number, id: string) {
  for (let i = 0; i < 400; i++) {
    const op = (await gql(sim, shop, `{ bulkOperation(id: "${id}") { id status errorCode url partialDataUrl rootObjectCount objectCount } }`)).data.bulkOperation;
    if (['COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED'].includes(op.status)) return op;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('bulk operation did not finish');
}

let now = Date.UTC(2026, 10, 1);
let sim: ShopifySimulator;
beforeAll(async () => {
  sim = await createShopifySimulator({
    seed: 4, clock: () => now, timeScale: 1000, bulk: { startDelayMs: 100, rowsPerSecond: 100_000 },
    shops: [
      { customers: 30, products: 10, orders: 50 },
      { customers: 10, orders: 20, protectedCustomerData: false },
      { orders: 40, scopes: ['read_orders', 'read_customers'] },
    ],
  });
});
afterAll(() => sim.stop());

describe('the simulator as Shopify 2026-10', () => {
  it("rejects a query Shopify's schema rejects, in graphql-ruby's words, before running it", async () => {
    const res = await gql(sim, 0, '{ orders(first: 1) { nodes { id notAField } } }');
    expect(res.data).toBeUndefined();
    expect(res.errors![0]).toMatchObject({ message: "Field 'notAField' doesn't exist on type 'Order'", extensions: { code: 'undefinedField' } });
    const arg = await gql(sim, 0, '{ orders(first: 1, color: RED) { nodes { id } } }');
    expect(arg.errors![0].message).toMatch(/doesn't accept argument 'color'/);
  });

  it('answers an unsupported old version with the oldest supported one, and says so', async () => {
    expect((await gql(sim, 0, '{ shop { name } }', undefined, '2024-04')).version).toBe('2026-01');
    expect((await gql(sim, 0, '{ shop { name } }', undefined, '2026-07')).version).toBe('2026-07');
  });

  it('runs up to 5 bulk queries per shop at once (LIMIT_REACHED beyond); 1 before 2026-01 (OPERATION_IN_PROGRESS)', async () => {
    sim.graphql.configureBulk({ startDelayMs: 1_000_000 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = (await gql(sim, 0, RUN('{ customers { edges { node { id } } } }'))).data.bulkOperationRunQuery;
      expect(r.userErrors).toEqual([]);
      ids.push(r.bulkOperation.id);
    }
    const sixth = (await gql(sim, 0, RUN('{ customers { edges { node { id } } } }'))).data.bulkOperationRunQuery;
    expect(sixth.userErrors[0]).toMatchObject({ code: 'LIMIT_REACHED' });
    const running = (await gql(sim, 0, '{ bulkOperations(first: 10, query: "status:created operation_type:query") { nodes { id } } }')).data.bulkOperations.nodes;
    expect(running.map((n: { id: string }) => n.id).sort()).toEqual([...ids].sort());
    for (const id of ids) await gql(sim, 0, `mutation { bulkOperationCancel(id: "${id}") { userErrors { message } } }`);
    sim.graphql.configureBulk({ startDelayMs: 100 });
    await new Promise((r) => setTimeout(r, 20));

    const old = await createShopifySimulator({ seed: 4, timeScale: 1000, supportedVersions: ['2025-10', '2026-01'], bulk: { startDelayMs: 1_000_000 }, shops: [{ customers: 5 }] });
    try {
      const run = () => fetch(`${old.url}/admin/api/2025-10/graphql.json`, { method: 'POST', headers: { 'X-Shopify-Access-Token': old.shops[0].accessToken, 'content-type': 'application/json' }, body: JSON.stringify({ query: RUN('{ customers { edges { node { id } } } }') }) }).then((r) => r.json() as Promise<any>);
      expect((await run()).data.bulkOperationRunQuery.userErrors).toEqual([]);
      expect((await run()).data.bulkOperationRunQuery.userErrors[0]).toMatchObject({ code: 'OPERATION_IN_PROGRESS' });
    } finally {
      await old.stop();
    }
  });

  it('groupObjects false (the default): children after their parents but not next to them; true: next to them', async () => {
    const query = '{ orders { edges { node { id lineItems { edges { node { id } } } } } } }';
    for (const group of [false, true]) {
      const op = await finished(sim, 0, (await gql(sim, 0, RUN(query, group))).data.bulkOperationRunQuery.bulkOperation.id);
      const lines = (await (await fetch(op.url)).text()).trim().split('\n').map((l) => JSON.parse(l));
      const position = new Map(lines.map((l, i) => [l.id, i]));
      const children = lines.filter((l) => l.__parentId);
      expect(children.every((c) => position.get(c.__parentId)! < position.get(c.id)!)).toBe(true);
      const adjacent = children.filter((c) => {
        const i = position.get(c.id)!;
        return lines[i - 1].id === c.__parentId || lines[i - 1].__parentId === c.__parentId;
      }).length;
      if (group) expect(adjacent).toBe(children.length);
      else expect(adjacent / children.length).toBeLessThan(0.9);
      expect(op.rootObjectCount).toBe('50');
    }
  });

  it('COMPLETED with url null when nothing matches; EXPIRED and a refused link after 7 days', async () => {
    const empty = await finished(sim, 0, (await gql(sim, 0, RUN(`{ orders(query: "created_at:>='2099-01-01T00:00:00Z'") { edges { node { id } } } }`))).data.bulkOperationRunQuery.bulkOperation.id);
    expect(empty).toMatchObject({ status: 'COMPLETED', url: null, rootObjectCount: '0' });
    const op = await finished(sim, 0, (await gql(sim, 0, RUN('{ customers { edges { node { id } } } }'))).data.bulkOperationRunQuery.bulkOperation.id);
    expect((await fetch(op.url)).status).toBe(200);
    now += 8 * 24 * 3_600_000;
    expect((await fetch(op.url)).status).toBe(403);
    expect((await gql(sim, 0, `{ bulkOperation(id: "${op.id}") { status } }`)).data.bulkOperation.status).toBe('EXPIRED');
  });

  it('serves a result file from a byte offset (Range, 206), or whole when told to ignore Range', async () => {
    const op = await finished(sim, 0, (await gql(sim, 0, RUN('{ orders { edges { node { id name } } } }'))).data.bulkOperationRunQuery.bulkOperation.id);
    const whole = await (await fetch(op.url)).text();
    const from = Buffer.byteLength(whole.split('\n').slice(0, 7).join('\n') + '\n');
    const part = await fetch(op.url, { headers: { range: `bytes=${from}-` } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe(whole.slice(Buffer.from(whole).subarray(0, from).toString().length));
    sim.graphql.configureBulk({ ignoreRange: true });
    const ignored = await fetch(op.url, { headers: { range: `bytes=${from}-` } });
    expect(ignored.status).toBe(200);
    expect(await ignored.text()).toBe(whole);
    sim.graphql.configureBulk({ ignoreRange: false });
  });

  it("rejects bulk queries Shopify's rules forbid", async () => {
    const problems = [
      ['{ orders { edges { node { id refunds { refundLineItems { edges { node { id } } } } } } } }', /within a list field/],
      ['{ products { edges { node { title variants { edges { node { id } } } } } } }', /must select the 'id' field/],
      ['{ orders { edges { node { id lineItems { edges { node { id variant { id media { edges { node { id } } } } } } } } } } }', /more than 2 levels/],
      ['{ shop { name } }', /at least one connection/],
    ] as const;
    for (const [query, message] of problems) {
      const r = (await gql(sim, 0, RUN(query))).data.bulkOperationRunQuery;
      expect(r.bulkOperation, query).toBeNull();
      expect(r.userErrors[0].message, query).toMatch(message);
    }
  });

  it('Shopify can cancel an operation on its own', async () => {
    sim.graphql.failNextBulkOperation('CANCELED', 0.3);
    const op = await finished(sim, 0, (await gql(sim, 0, RUN('{ customers { edges { node { id } } } }'))).data.bulkOperationRunQuery.bulkOperation.id);
    expect(op).toMatchObject({ status: 'CANCELED', url: null });
  });

  it('counts records (exact, or AT_LEAST above the limit)', async () => {
    expect((await gql(sim, 0, '{ ordersCount(limit: null) { count precision } }')).data.ordersCount).toEqual({ count: 50, precision: 'EXACT' });
    expect((await gql(sim, 0, '{ customersCount(limit: 10) { count precision } }')).data.customersCount).toEqual({ count: 10, precision: 'AT_LEAST' });
  });

  it('lists destroy events by subject type', async () => {
    const shop = sim.shops[0];
    const id = shop.idOf('orders', 3);
    shop.delete('orders', id);
    const events = (await gql(sim, 0, `{ events(first: 10, query: "action:destroy AND subject_type:ORDER") { nodes { ... on BasicEvent { action subjectId subjectType } } } }`)).data.events.nodes;
    expect(events).toContainEqual({ action: 'destroy', subjectId: `gid://shopify/Order/${id}`, subjectType: 'ORDER' });
    const products = (await gql(sim, 0, `{ events(first: 10, query: "action:destroy AND subject_type:PRODUCT") { nodes { id } } }`)).data.events.nodes;
    expect(products).toEqual([]);
  });

  it('reports granted scopes; without read_all_orders, orders older than 60 days are not listed', async () => {
    const scopes = (await gql(sim, 2, '{ currentAppInstallation { accessScopes { handle } } }')).data.currentAppInstallation.accessScopes.map((s: { handle: string }) => s.handle);
    expect(scopes).toEqual(['read_orders', 'read_customers']);
    const visible = (await gql(sim, 2, '{ ordersCount(limit: null) { count } }')).data.ordersCount.count;
    const all = sim.shops[2].counts.orders;
    expect(visible).toBeLessThan(all);
  });

  it('protected customer data: fields null with an ACCESS_DENIED error each, data kept; a bulk operation over them fails ACCESS_DENIED', async () => {
    const res = await gql(sim, 1, '{ customers(first: 3) { nodes { id defaultEmailAddress { emailAddress } firstName } } }');
    expect(res.data.customers.nodes).toHaveLength(3);
    expect(res.data.customers.nodes.every((n: any) => n.id && n.defaultEmailAddress === null && n.firstName === null)).toBe(true);
    expect(res.errors).toHaveLength(6);
    expect(res.errors![0]).toMatchObject({ path: ['customers', 'nodes', 0, 'defaultEmailAddress'], extensions: { code: 'ACCESS_DENIED' } });
    const op = await finished(sim, 1, (await gql(sim, 1, RUN('{ customers { edges { node { id firstName } } } }'))).data.bulkOperationRunQuery.bulkOperation.id);
    expect(op).toMatchObject({ status: 'FAILED', errorCode: 'ACCESS_DENIED' });
    const fine = await finished(sim, 1, (await gql(sim, 1, RUN('{ customers { edges { node { id updatedAt } } } }'))).data.bulkOperationRunQuery.bulkOperation.id);
    expect(fine.status).toBe('COMPLETED');
  });

  it('honours only the date of an unquoted timestamp in a search', async () => {
    const count = async (q: string) => (await gql(sim, 0, `query($q: String) { ordersCount(query: $q, limit: null) { count } }`, { q })).data.ordersCount.count;
    const quoted = await count("updated_at:>='2026-01-01T23:59:59Z'");
    const unquoted = await count('updated_at:>=2026-01-01T23:59:59Z');
    expect(unquoted).toBe(await count("updated_at:>='2026-01-01T00:00:00Z'"));
    expect(unquoted).toBeGreaterThanOrEqual(quoted);
  });
});

describe('result files written while the operation runs (bulk.resultDir)', () => {
  it('the same bytes as a file generated on reading, with fileSize; data as it ran; Range 206, 416 past the end; a partial file; deleted on stop', async () => {
    const { mkdtemp, readdir, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'si-sim-files-'));
    const options = { seed: 4, clock: () => now, timeScale: 1000, shops: [{ customers: 30, products: 10, orders: 50 }] };
    const live = await createShopifySimulator({ ...options, bulk: { startDelayMs: 100, rowsPerSecond: 100_000 } });
    const disk = await createShopifySimulator({ ...options, bulk: { startDelayMs: 100, rowsPerSecond: 100_000, resultDir: dir } });
    try {
      const query = '{ orders { edges { node { id name lineItems { edges { node { id title } } } } } } }';
      const run = async (s: ShopifySimulator) => {
        const op = await finished(s, 0, (await gql(s, 0, RUN(query))).data.bulkOperationRunQuery.bulkOperation.id);
        return { op, fileSize: (await gql(s, 0, `{ bulkOperation(id: "${op.id}") { fileSize } }`)).data.bulkOperation.fileSize };
      };
      const [a, b] = [await run(live), await run(disk)];
      expect(b.op.status).toBe('COMPLETED');
      const text = await (await fetch(b.op.url)).text();
      expect(text).toBe(await (await fetch(a.op.url)).text());
      expect(text.split('\n').length).toBeGreaterThan(51);
      expect(a.fileSize).toBeNull();
      expect(b.fileSize).toBe(String(Buffer.byteLength(text)));
      // objectCount: every object of the written file, line items included (Shopify's); its roots
      // when the file is generated as it is read.
      expect(b.op.objectCount).toBe(String(text.split('\n').filter(Boolean).length));
      expect(Number(b.op.objectCount)).toBeGreaterThan(50);
      expect(b.op.rootObjectCount).toBe('50');
      expect(a.op.objectCount).toBe('50');
      expect(disk.graphql.resultFiles()).toMatchObject({ files: 1, bytes: Buffer.byteLength(text) });
      // The file holds the data as the operation ran; a file generated on reading shows later changes.
      disk.shops[0].update('orders', disk.shops[0].idOf('orders', 0), { name: '#changed' });
      live.shops[0].update('orders', live.shops[0].idOf('orders', 0), { name: '#changed' });
      expect(await (await fetch(b.op.url)).text()).toBe(text);
      expect(await (await fetch(a.op.url)).text()).toContain('#changed');
      // Range: the rest of the file from a byte offset (206), nothing past its end (416).
      const from = Buffer.byteLength(text.split('\n').slice(0, 7).join('\n') + '\n');
      const part = await fetch(b.op.url, { headers: { range: `bytes=${from}-` } });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes ${from}-${Buffer.byteLength(text) - 1}/${Buffer.byteLength(text)}`);
      expect(Buffer.from(await part.arrayBuffer()).equals(Buffer.from(text).subarray(from))).toBe(true);
      const past = await fetch(b.op.url, { headers: { range: `bytes=${Buffer.byteLength(text)}-` } });
      expect(past.status).toBe(416);
      await past.arrayBuffer();
      // A failed operation's partial data is a file too.
      disk.graphql.failNextBulkOperation('TIMEOUT', 0.4);
      const failed = (await run(disk)).op;
      expect(failed).toMatchObject({ status: 'FAILED', url: null, rootObjectCount: '20' });
      const partial = (await (await fetch(failed.partialDataUrl)).text()).split('\n').filter(Boolean);
      expect(partial.filter((l) => !l.includes('__parentId'))).toHaveLength(20);
      expect(failed.objectCount).toBe(String(partial.length));
      expect(await readdir(dir)).toHaveLength(2);
    } finally {
      await live.stop();
      await disk.stop();
    }
    expect(await readdir(dir)).toHaveLength(0);
    await rm(dir, { recursive: true, force: true });
  });
});
