/**
 * Client benchmark: how close does each Shopify client get to the allowed REST rate, and how many 429s
 * does it cause? Runs against the project's simulator (src/testing) on 127.0.0.1.
 *
 *   npx tsx bench/client.ts
 *
 * Env knobs (defaults in brackets):
 *   BENCH_JOBS [orders,saturation,shops]
 *   BENCH_ORDERS [50000]       orders in the shop for the pagination job (250 per page)
 *   BENCH_ORDERS_TIME_SCALE [5] time scale of the orders job: a standard 40/2 bucket then leaks 10/s
 *   BENCH_TIME_SCALE [10]      time scale of the saturation job: the bucket leaks 20/s
 *   BENCH_FIELDS [id,updated_at,total_price]   `fields` of the orders job ('' = full orders)
 *   BENCH_REQUESTS [400]       requests of the saturation job
 *   BENCH_SHOPS [20]           shops of the many-shops job
 *   BENCH_SHOPS_TIME_SCALE [2.5] time scale of the many-shops job (5 requests/s per shop, 100/s in all)
 *   BENCH_SHOP_REQUESTS [150]  requests per shop in the many-shops job
 *
 * Jobs:
 * 1. orders: page through all orders serially (cursor pagination cannot be parallelised), one run per
 *    client: shopify-ingest, shopify-api-node (autoLimit, over the simulator's HTTPS mode) and
 *    @shopify/admin-api-client (custom fetch, retries 3).
 * 2. saturation: the same number of cheap GETs (/shop.json) through each client with 8 concurrent
 *    workers: here only the rate limiter can be the bottleneck.
 * 3. many shops: shopify-ingest alone, one client per shop, all shops at once from this process.
 *
 * "Share of allowed" = requests served / (bucket size + leak rate x elapsed seconds): the most that can
 * pass from an empty bucket without a 429. 100% is the physical limit.
 *
 * The simulator runs in a child process (bench/client-simulator-process.ts) so its CPU does not compete
 * with the clients' event loop.
 */
import Shopify from 'shopify-api-node';
import { createAdminRestApiClient } from '@shopify/admin-api-client';
import { createSimulatorAgent } from '../src/testing/index.js';
import { startSimulator, type RemoteSimulator } from './remote-simulator.js';
import { ClientManager, createShopifyClient, parseLinkHeader } from '../src/client/index.js';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 50_000);
const ORDERS_TIME_SCALE = Number(process.env.BENCH_ORDERS_TIME_SCALE ?? 5);
const TIME_SCALE = Number(process.env.BENCH_TIME_SCALE ?? 10);
const FIELDS = process.env.BENCH_FIELDS ?? 'id,updated_at,total_price';
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
const SHOPS = Number(process.env.BENCH_SHOPS ?? 20);
const SHOPS_TIME_SCALE = Number(process.env.BENCH_SHOPS_TIME_SCALE ?? 2.5);
const SHOP_REQUESTS = Number(process.env.BENCH_SHOP_REQUESTS ?? 150);
const BUCKET = 40;
const API_VERSION = '2026-10';
const WORKERS = 8;

interface Row {
  leak: number;
  client: string;
  job: string;
  requests: number;
  throttled: number;
  seconds: number;
  items?: number;
  error?: string;
}

const rows: Row[] = [];

function share(requests: number, seconds: number, leak: number, bucket = BUCKET): number {
  return requests / (bucket + leak * seconds);
}

function report(row: Row): void {
  rows.push(row);
  const served = row.requests - row.throttled;
  console.log(
    `${row.job.padEnd(11)} ${row.client.padEnd(26)} ${String(row.requests).padStart(5)} req ` +
      `${row.seconds.toFixed(1).padStart(6)} s ${(served / row.seconds).toFixed(1).padStart(6)} req/s ` +
      `${(share(served, row.seconds, row.leak) * 100).toFixed(1).padStart(5)}% of allowed ${String(row.throttled).padStart(4)} x 429` +
      (row.items !== undefined ? `  ${row.items} items` : '') +
      (row.error ? `  ERROR ${row.error}` : ''),
  );
}

async function timed<T>(sim: RemoteSimulator, fn: () => Promise<T>): Promise<{ seconds: number; requests: number; throttled: number; result?: T; error?: string }> {
  await sim.resetStats();
  const start = performance.now();
  let result: T | undefined;
  let error: string | undefined;
  try {
    result = await fn();
  } catch (e) {
    error = (e as Error).message.slice(0, 160);
  }
  const seconds = (performance.now() - start) / 1000;
  const stats = await sim.stats(0);
  return { seconds, requests: stats.restRequests, throttled: stats.throttled, result, error };
}

async function pool(n: number, workers: number, task: () => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next++ < n) await task();
  }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const jobs = (process.env.BENCH_JOBS ?? 'orders,saturation,shops').split(',');
  if (jobs.includes('orders')) await ordersAndSaturation(ORDERS_TIME_SCALE, 'orders');
  if (jobs.includes('saturation')) await ordersAndSaturation(TIME_SCALE, 'saturation');
  if (jobs.includes('shops')) await manyShops();
}

async function ordersAndSaturation(timeScale: number, job: 'orders' | 'saturation'): Promise<void> {
  const LEAK = 2 * timeScale;
  const simOptions = { seed: 7, shops: [{ orders: job === 'orders' ? ORDERS : 10, customers: 10, products: 10 }], timeScale, bucket: { size: BUCKET, leakPerSecond: 2 } };
  const http = await startSimulator(simOptions);
  // shopify-api-node only calls https://{shop}: same shop, same seed, HTTPS mode.
  const tls = await startSimulator({ ...simOptions, https: true });
  const shop = http.shops[0];
  const agent = createSimulatorAgent(tls);
  console.log(`${job}: bucket ${BUCKET} leaking ${LEAK}/s (2/s at time scale ${timeScale})${job === 'orders' ? `, ${ORDERS} orders, fields=${FIELDS || '(full)'}` : `, ${REQUESTS} GET /shop.json, ${WORKERS} workers`}`);

  // How fast the server answers a page bounds any serial pagination, whatever the client.
  if (job === 'orders') {
    const t = performance.now();
    const res = await fetch(`${http.url}/admin/api/${API_VERSION}/orders.json?status=any&limit=250${FIELDS ? `&fields=${FIELDS}` : ''}`, { headers: { 'x-shopify-access-token': shop.accessToken } });
    await res.text();
    const ms = performance.now() - t;
    console.log(`one page of 250 orders takes ${ms.toFixed(0)} ms to serve: serial pagination tops out near ${(1000 / ms).toFixed(1)} pages/s on this machine\n`);
  }
  const query = { status: 'any', limit: 250, ...(FIELDS ? { fields: FIELDS } : {}) };

  // ---- Job 1: orders ------------------------------------------------------------------------------
  if (job === 'orders') {
    const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: http.url, apiVersion: API_VERSION, leakRate: LEAK });
    const r = await timed(http, async () => {
      let n = 0;
      for await (const items of client.pages('/orders.json', query)) n += items.length;
      return n;
    });
    report({ leak: LEAK, client: 'shopify-ingest', job: 'orders', ...r, items: r.result });
    await client.close();
  }
  if (job === 'orders') {
    const shopify = new Shopify({ shopName: shop.domain, accessToken: shop.accessToken, apiVersion: API_VERSION, autoLimit: { calls: LEAK, interval: 1000, bucketSize: 35 }, agent: { https: agent } } as never);
    const r = await timed(tls, async () => {
      let n = 0;
      let params: Record<string, unknown> | undefined = { ...query };
      while (params) {
        // autoLimit excludes maxRetries in shopify-api-node; wait out a 429 by hand as a user would.
        const page: unknown[] & { nextPageParameters?: Record<string, unknown> } = await retry429(() => shopify.order.list(params as never) as never);
        n += page.length;
        params = page.nextPageParameters;
      }
      return n;
    });
    report({ leak: LEAK, client: 'shopify-api-node (autoLimit)', job: 'orders', ...r, items: r.result });
  }
  if (job === 'orders') {
    const api = adminApiClient(http, shop.domain, shop.accessToken);
    const r = await timed(http, async () => {
      let n = 0;
      let searchParams: Record<string, string | number> | undefined = { ...query };
      while (searchParams) {
        const res = await api.get('orders', { searchParams, retries: 3 });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = (await res.json()) as { orders: unknown[] };
        n += body.orders.length;
        const next = parseLinkHeader(res.headers.get('link')).next;
        searchParams = next ? { page_info: next.pageInfo, limit: 250, ...(FIELDS ? { fields: FIELDS } : {}) } : undefined;
      }
      return n;
    });
    report({ leak: LEAK, client: '@shopify/admin-api-client', job: 'orders', ...r, items: r.result });
  }

  // ---- Job 2: saturation -----------------------------------------------------------------------
  if (job === 'saturation') {
    const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: http.url, apiVersion: API_VERSION, leakRate: LEAK });
    const r = await timed(http, () => pool(REQUESTS, WORKERS, () => client.get('/shop.json')));
    report({ leak: LEAK, client: 'shopify-ingest', job: 'saturation', ...r });
    await client.close();
  }
  if (job === 'saturation') {
    const shopify = new Shopify({ shopName: shop.domain, accessToken: shop.accessToken, apiVersion: API_VERSION, autoLimit: { calls: LEAK, interval: 1000, bucketSize: 35 }, agent: { https: agent } } as never);
    const r = await timed(tls, () => pool(REQUESTS, WORKERS, () => retry429(() => shopify.shop.get())));
    report({ leak: LEAK, client: 'shopify-api-node (autoLimit)', job: 'saturation', ...r });
  }
  if (job === 'saturation') {
    const api = adminApiClient(http, shop.domain, shop.accessToken);
    let failed = 0;
    const r = await timed(http, () => pool(REQUESTS, WORKERS, async () => {
      const res = await api.get('shop', { retries: 3 });
      await res.text();
      if (!res.ok) failed++;
    }));
    report({ leak: LEAK, client: '@shopify/admin-api-client', job: 'saturation', ...r, error: failed ? `${failed} requests failed after 3 retries` : r.error });
  }
  await http.stop();
  await tls.stop();
  console.log();
}

// ---- Job 3: many shops -----------------------------------------------------------------------
async function manyShops(): Promise<void> {
  {
    const leak = 2 * SHOPS_TIME_SCALE;
    const sim = await startSimulator({ seed: 9, shops: SHOPS, shopDefaults: { orders: 10, customers: 10, products: 10 }, timeScale: SHOPS_TIME_SCALE, bucket: { size: BUCKET, leakPerSecond: 2 } });
    const manager = new ClientManager({ leakRate: leak, apiVersion: API_VERSION });
    sim.shops.forEach((s, i) => manager.addClient(`tenant-${i}`, { shopDomain: s.domain, accessToken: s.accessToken }, { baseUrl: sim.url }));
    await sleep(100);
    await sim.resetStats();
    const perShop = await Promise.all(manager.clients().map(async ([, client]) => {
      const start = performance.now();
      const done: number[] = [];
      await pool(SHOP_REQUESTS, WORKERS, async () => {
        await client.get('/shop.json');
        done.push(performance.now());
      });
      // Steady state: the rate over the second half of the run, when the bucket is long full.
      const half = Math.floor(done.length / 2);
      const steady = (done.length - 1 - half) / ((done.at(-1)! - done[half]) / 1000) / leak;
      return { seconds: (performance.now() - start) / 1000, steady };
    }));
    const shares = (await Promise.all(perShop.map(async ({ seconds, steady }, i) => {
      const stats = await sim.stats(i);
      return { share: share(stats.restRequests - stats.throttled, seconds, leak), steady, throttled: stats.throttled };
    }))).sort((a, b) => a.share - b.share);
    const total = await sim.stats();
    const steady = shares.map((s) => s.steady).sort((a, b) => a - b);
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    console.log(
      `many-shops  shopify-ingest: ${SHOPS} shops x ${SHOP_REQUESTS} req at ${leak}/s each, ${WORKERS} workers per shop, ${total.throttled} x 429 in total\n` +
        `            share of allowed (from an empty bucket): min ${pct(shares[0].share)} median ${pct(shares[Math.floor(shares.length / 2)].share)} max ${pct(shares.at(-1)!.share)}\n` +
        `            second-half rate / leak rate:             min ${pct(steady[0])} median ${pct(steady[Math.floor(steady.length / 2)])} max ${pct(steady.at(-1)!)}`,
    );
    await manager.close();
    await sim.stop();
  }
}

async function retry429<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const err = e as { response?: { statusCode?: number; headers?: Record<string, string> } };
      if (err.response?.statusCode !== 429 || i >= 20) throw e;
      await sleep(Number(err.response.headers?.['retry-after'] ?? 1) * 1000);
    }
  }
}

function adminApiClient(sim: RemoteSimulator, domain: string, accessToken: string) {
  return createAdminRestApiClient({
    storeDomain: domain,
    apiVersion: API_VERSION,
    accessToken,
    // The REST client's per-request `retries` defaults to 0 and overrides this one, so calls pass it too.
    retries: 3,
    scheme: 'http',
    // Same shop on the simulator: route http://{shop} to it.
    customFetchApi: (url: string, init?: RequestInit) => fetch(url.replace(`http://${domain}`, sim.url), init),
  } as never);
}

await main();
