/**
 * Incremental GraphQL pages while the shop changes under the listing, with stops (abort after a
 * committed page) and resumes, overlap 0 and safety margin 0 (no search-index lag in the simulator):
 * after a final quiet run, every stored order has Shopify's current updated_at and note.
 * Seed printed; replay with PAGES_SEED=<n>.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTenant, createHarness, importer, seededRandom, type Harness } from './harness.js';

const SEED = process.env.PAGES_SEED ? Number(process.env.PAGES_SEED) : Date.now() % 100_000;
let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
beforeAll(async () => {
  h = await createHarness({ timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ customers: 10, products: 5, orders: 150 }] });
});
afterAll(async () => { await h?.close(); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`incremental pages under concurrent changes (seed ${SEED})`, { timeout: 240_000 }, () => {
  it('ends with every order at its current version', async () => {
    console.log(`PAGES_SEED=${SEED}`);
    const random = seededRandom(SEED);
    const { client, shop } = await connectTenant(h, 'pc1', 0);
    const ids = Array.from({ length: 150 }, (_, i) => String(shop.idOf('orders', i)));
    let stopAfter = -1; let pages = 0; let controller = new AbortController(); let mutate = false; let n = 0;
    const wrapped = Object.create(client) as typeof client;
    wrapped.graphql = (async (query: string, variables?: Record<string, unknown>, options?: { signal?: AbortSignal }) => {
      const data = await client.graphql<any>(query, variables, options);
      if (/ShopifyIngestPage/.test(query) && mutate) {
        pages++;
        // Changes while the listing runs: some records already listed, some ahead.
        const k = Math.floor(random() * 4);
        for (let i = 0; i < k; i++) shop.update('orders', ids[Math.floor(random() * ids.length)], { note: `c${n++}` });
        if (random() < 0.3) await sleep(1000); // let whole seconds pass, so updated_at values differ
        if (pages === stopAfter) controller.abort(new Error('stopped'));
      }
      return data;
    }) as typeof client.graphql;
    const opts = () => ({ bulk: BULK, defaults: { overlapMs: 0, safetyMarginMs: 0, pageSize: 7, batchSize: 3, concurrency: 3, signal: controller.signal } });
    expect(await importer(h, wrapped, 'pc1', opts() as any).importOrders()).toMatchObject({ status: 'succeeded', mode: 'full' });
    mutate = true;
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 10; i++) shop.update('orders', ids[Math.floor(random() * ids.length)], { note: `r${round}-${i}` });
      await sleep(1100);
      pages = 0; controller = new AbortController(); stopAfter = random() < 0.5 ? 1 + Math.floor(random() * 3) : -1;
      const svc = importer(h, wrapped, 'pc1', opts() as any);
      const r = await svc.importOrders().catch((e) => e.result);
      console.log(JSON.stringify({ round, status: r?.status, mode: r?.mode, method: r?.method, resumed: r?.resumed, fetched: r?.fetched, stopAfter }));
    }
    mutate = false;
    await sleep(1100);
    controller = new AbortController();
    // Quiet runs until a fresh one completes: a stopped run left a cursor, and the run that resumes
    // it finishes that run's window only; changes made after that run began are the next run's.
    for (let i = 0; i < 4; i++) { const r = await importer(h, wrapped, 'pc1', opts() as any).importOrders().catch((e) => e.result); if (r?.status === 'succeeded' && !r.resumed) break; }
    const rows = await h.db.query<{ id: string; at: Date; gone: boolean }>(`SELECT id::text AS id, shopify_updated_at AS at, deleted_at IS NOT NULL AS gone FROM shopify_orders WHERE tenant_id = 'pc1'`);
    const stored = new Map(rows.map((r) => [r.id, r]));
    const wrong: string[] = [];
    for (const id of ids) {
      const s = shop.find('orders', id)!;
      const got = stored.get(id);
      const want = Date.parse(String(s.updated_at));
      if (!got || got.gone || new Date(got.at).getTime() !== want) wrong.push(`${id}: shop updated_at ${String(s.updated_at)} stored ${got ? new Date(got.at).toISOString() : 'none'}`);
    }
    expect(wrong).toEqual([]);
  });
});
