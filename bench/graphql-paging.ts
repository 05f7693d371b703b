/**
 * Incremental GraphQL paging against Shopify's cost limit: how much of a shop's point budget the
 * importer's paged listing uses, and how many `THROTTLED` answers it causes.
 *
 *   npx tsx bench/graphql-paging.ts
 *
 * Env knobs (defaults in brackets):
 *   BENCH_JOBS [standard,plus,shops]
 *   BENCH_STANDARD_ORDERS [440]   orders of a standard shop (100 points/s, bucket 2,000): a run of ~3 minutes
 *   BENCH_PLUS_ORDERS [2800]      orders of a Plus shop (1,000 points/s, bucket 20,000): ~2 minutes
 *   BENCH_SHOPS [20]              shops of the many-shops job (standard shops, all synced at once from one process)
 *   BENCH_SHOPS_ORDERS [320]      orders per shop of the many-shops job: ~2 minutes
 *   BENCH_TIMEOUT_SECONDS [900]   a run still going after this is stopped (its `signal`) and reported as such
 *
 * What runs is the SDK's own incremental sync: `createImportService(...).importOrders({ dateRange })`
 * (a windowed incremental run: the ordersCount query, then pages-listing.ts, one page at a time,
 * paced by the client's GraphQL bucket estimate, src/client/graphql-bucket.ts), writing into
 * PostgreSQL as a real run does, every order of the shop (1-4 line items each). Shopify's
 * plans (../shared/SHOPIFY-API.md): restore 100 points/s standard, 1,000 Plus, bucket 20x the
 * restore rate; the simulator (own process, bench/client-simulator-process.ts) charges the requested
 * cost up front, refunds what the answer did not hold (nested connections included, as Shopify: an
 * order's 2.5 line items of the 10 asked for) and answers `THROTTLED` when the bucket cannot pay.
 *
 * Share of the budget = points spent (sum of `actualQueryCost`) / (bucket + restore rate x elapsed),
 * elapsed from the first request sent to the last answer received: what could be spent from a full
 * bucket. What it counts as waste: points restored while the bucket sat full or while the client
 * waited longer than needed, and what is left in the bucket at the end (at least a page's requested
 * cost less its actual one: a page is sent only when its requested cost is available). The shops are
 * sized so a run spends its initial bucket several times over (~9x for one shop), so the burst at the
 * start and what is left at the end weigh little. "Steady" = points spent per second over the second
 * half of the run / restore rate (the bucket's level at the two ends of that half is not corrected
 * for: a page requests ~930 points).
 *
 * No time scale: the simulator's `timeScale` restores its buckets faster but reports
 * `throttleStatus.restoreRate` in simulated seconds, so a client pacing itself from the reported rate
 * (as the SDK does, and as Shopify intends) would wait timeScale times too long. The runs are real
 * time instead.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { startSimulator, type RemoteSimulator } from './remote-simulator.js';
import { createShopifyClient } from '../src/client/index.js';
import { createKeyRing } from '../src/crypto/index.js';
import { createImportService } from '../src/importer/index.js';
import { createStore } from '../src/store/index.js';
import { createTestDatabase } from '../tests/helpers/test-database.js';

const env = process.env;
const num = (name: string, fallback: number) => (env[name] !== undefined && env[name] !== '' ? Number(env[name]) : fallback);
const TIMEOUT_SECONDS = num('BENCH_TIMEOUT_SECONDS', 900);
const API_VERSION = '2026-10';

/** One GraphQL answer as the client received it. */
interface Answer { at: number; actual: number; requested: number; available: number | null; throttled: boolean }

/**
 * A `fetch` that records every GraphQL answer's cost (the client is given it; it reads the body the
 * same way whatever the recording does).
 */
function recordingFetch(answers: Answer[], sent: { first: number | null }): typeof globalThis.fetch {
  return async (input, init) => {
    if (sent.first === null) sent.first = performance.now();
    const res = await globalThis.fetch(input, init);
    if (!String(typeof input === 'string' || input instanceof URL ? input : input.url).endsWith('/graphql.json')) return res;
    const text = await res.text();
    const at = performance.now();
    const cost = /"requestedQueryCost":(\d+),"actualQueryCost":(\d+|null),"throttleStatus":\{"maximumAvailable":\d+,"currentlyAvailable":(\d+)/.exec(text.slice(text.lastIndexOf('"extensions"')));
    answers.push({
      at, requested: cost ? Number(cost[1]) : 0, actual: cost && cost[2] !== 'null' ? Number(cost[2]) : 0,
      available: cost ? Number(cost[3]) : null, throttled: text.includes('"THROTTLED"'),
    });
    return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

interface ShopResult { orders: number; requests: number; spent: number; seconds: number; share: number; steady: number; throttled: number; meanAvailable: number; error?: string }

/** Runs one incremental paged sync of every order of shop `which`; the result per the formula above. */
async function runShop(db: Awaited<ReturnType<typeof createTestDatabase>>, sim: RemoteSimulator, which: number, bucket: number, rate: number): Promise<ShopResult> {
  const shop = sim.shops[which];
  const tenantId = `bench-${which}`;
  await createStore(db.database).upsertTenant({ id: tenantId, shopDomain: shop.domain, accessTokenEnc: 'x' });
  const answers: Answer[] = [];
  const sent = { first: null as number | null };
  const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: sim.url, apiVersion: API_VERSION, fetch: recordingFetch(answers, sent) });
  const service = createImportService(db.database, client, tenantId, { keyRing: createKeyRing({ key: randomBytes(32) }) });
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), TIMEOUT_SECONDS * 1000);
  let error: string | undefined;
  let imported = 0;
  try {
    // A windowed incremental run over every order: paged by updated_at, never a bulk operation.
    const result = await service.importOrders({ dateRange: { from: '2000-01-01T00:00:00Z', to: new Date().toISOString() }, bulkThreshold: 1_000_000_000, signal: stop.signal });
    imported = result.imported;
    if (result.method !== 'pages') error = `listed with ${result.method}, not pages`;
  } catch (e) {
    error = (e as Error).message;
  } finally {
    clearTimeout(timer);
    await client.close();
  }
  const elapsed = (answers.at(-1)!.at - sent.first!) / 1000;
  const spent = answers.reduce((n, a) => n + a.actual, 0);
  const half = sent.first! + (answers.at(-1)!.at - sent.first!) / 2;
  const late = answers.filter((a) => a.at > half);
  const lateSpent = late.reduce((n, a) => n + a.actual, 0);
  const levels = late.filter((a) => a.available !== null).map((a) => a.available!);
  return {
    orders: imported, requests: answers.length, spent, seconds: elapsed,
    share: spent / (bucket + rate * elapsed), steady: lateSpent / ((answers.at(-1)!.at - half) / 1000) / rate,
    throttled: answers.filter((a) => a.throttled).length, meanAvailable: levels.reduce((a, b) => a + b, 0) / Math.max(1, levels.length),
    ...(error ? { error } : {}),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function print(label: string, r: ShopResult, rate: number): void {
  console.log(`${label.padEnd(34)} ${r.seconds.toFixed(1).padStart(6)} s ${String(r.orders).padStart(5)} orders ${String(r.requests).padStart(4)} requests ` +
    `${String(r.spent).padStart(7)} points = ${(r.spent / r.seconds).toFixed(1).padStart(6)}/s of ${rate}/s; share ${pct(r.share)}, steady ${pct(r.steady)}, ` +
    `${r.throttled} THROTTLED, bucket level in the second half ${r.meanAvailable.toFixed(0)} on average${r.error ? `  ERROR ${r.error}` : ''}`);
}

async function singleShop(name: string, rate: number, orders: number): Promise<void> {
  const bucket = 20 * rate;
  const sim = await startSimulator({ seed: 11, shops: [{ orders, customers: 20, products: 20 }], graphql: { maximumAvailable: bucket, restoreRate: rate } });
  const db = await createTestDatabase({ prefix: 'si_bench_paging' });
  try {
    console.log(`${name}: bucket ${bucket} points, restore ${rate} points/s, ${orders} orders; ${new Date().toISOString()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const r = await runShop(db, sim, 0, bucket, rate);
    const stats = await sim.stats(0);
    print(`  ${name}`, r, rate);
    console.log(`  simulator: ${stats.graphqlRequests} GraphQL requests, ${stats.graphqlThrottled} THROTTLED\n`);
  } finally {
    await db.drop().catch(() => {});
    await sim.stop();
  }
}

async function manyShops(shops: number, orders: number): Promise<void> {
  const rate = 100, bucket = 2000;
  const sim = await startSimulator({ seed: 12, shops, shopDefaults: { orders, customers: 20, products: 20 }, graphql: { maximumAvailable: bucket, restoreRate: rate } });
  const db = await createTestDatabase({ prefix: 'si_bench_paging' });
  try {
    console.log(`${shops} shops in one process: each bucket ${bucket} points, restore ${rate} points/s, ${orders} orders; ${new Date().toISOString()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const results = await Promise.all(Array.from({ length: shops }, (_, i) => runShop(db, sim, i, bucket, rate)));
    results.forEach((r, i) => print(`  shop ${i}`, r, rate));
    const shares = results.map((r) => r.share).sort((a, b) => a - b);
    const steady = results.map((r) => r.steady).sort((a, b) => a - b);
    let throttled = 0;
    for (let i = 0; i < shops; i++) throttled += (await sim.stats(i)).graphqlThrottled;
    console.log(`  share per shop: min ${pct(shares[0])}, median ${pct(shares[Math.floor(shops / 2)])}, max ${pct(shares.at(-1)!)}; steady min ${pct(steady[0])}, median ${pct(steady[Math.floor(shops / 2)])}; THROTTLED in all: ${throttled} (simulator)\n`);
  } finally {
    await db.drop().catch(() => {});
    await sim.stop();
  }
}

const jobs = (env.BENCH_JOBS ?? 'standard,plus,shops').split(',');
console.log(`graphql paging bench: node ${process.version}\n`);
if (jobs.includes('standard')) await singleShop('standard shop', 100, num('BENCH_STANDARD_ORDERS', 440));
if (jobs.includes('plus')) await singleShop('Plus shop', 1000, num('BENCH_PLUS_ORDERS', 2800));
if (jobs.includes('shops')) await manyShops(num('BENCH_SHOPS', 20), num('BENCH_SHOPS_ORDERS', 320));
process.exit(0);
