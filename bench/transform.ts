/**
 * Parse and transform cost of Shopify order pages.
 *
 *   npx tsx bench/transform.ts            (SHOPIFY_FIXTURES_DIR overrides ../shared/fixtures)
 *
 * 1. Parsing a 250-order REST page (the reference order, 3 line items, replicated): JSON.parse vs
 *    parseShopifyJson, with small ids and with ids beyond 2^53 (every order, line item, customer,
 *    fulfillment and refund id above 2^53, as in Shopify's own webhook samples).
 * 2. transformOrdersBatch throughput with AES-GCM PII encryption (orders/s on one core).
 * 3. The GraphQL engine's default field set (src/resources/orders.ts), as the importer turns it into
 *    rows: a bulk operation's JSONL file (one line per order, one per line item with `__parentId`)
 *    read line by line with JSON.parse into RunFrame.recordUnit / childUnit (src/importer/bulk-listing.ts),
 *    and a paged query's response (parseShopifyJson of the body, recordUnit per node, as
 *    src/importer/pages-listing.ts does). Both through the registry's mapping with PII sealed.
 *    The input is served by the simulator (src/testing: generator -> graphql-nodes -> the engine's
 *    own bulkQuery / pageQuery), so it is what the importer receives. Also: bytes per order of the
 *    rows as the store streams them with COPY (src/store/copy-stage.ts), REST and GraphQL.
 *
 * Env knobs (defaults in brackets):
 *   BENCH_GQL_ORDERS [1000]    orders of the simulated shop for part 3 (1-4 line items each)
 *   BENCH_SECONDS [3]          seconds each measurement runs (after 5 warm-up rounds)
 *   BENCH_PARTS [rest,graphql] which parts run (rest = 1 and 2)
 *   BENCH_GQL_CASES [bulk,pages,rows]  which measurements of part 3 run (to profile one alone)
 *   BENCH_TSX [unset]          1: measure under tsx as started, instead of as compiled JavaScript
 *
 * The measurements run as plain JavaScript, as a host's compiled app (or the published dist/) runs
 * them: this file is bundled with esbuild (packages external) and the bundle runs under `node`. Under
 * tsx, esbuild's `keepNames` wraps every closure the transformers create per record in a `__name`
 * call (5 % of the GraphQL record path's CPU in a profile), which dist/ does not have.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKeyRing } from '../src/crypto/index.js';
import { parseShopifyJson, stringifyShopifyJson } from '../src/json.js';
import { ShopifyTransformer } from '../src/transform/index.js';
import { createShopifyClient } from '../src/client/index.js';
import { BulkOperations } from '../src/client/bulk-operations.js';
import { bulkQuery, pageQuery, pageSizeFor } from '../src/importer/queries.js';
import { RunFrame, type FrameDeps } from '../src/importer/run-frame.js';
import { childLineText } from '../src/importer/bulk-listing.js';
import type { ResolvedImportOptions } from '../src/importer/options.js';
import { getResource, type ResourceDefinition, type RowSet } from '../src/resources/index.js';
import { copyChunks } from '../src/store/copy-stage.js';
import { parseGid } from '../src/transform/values.js';
import { silentLogger } from '../src/logger.js';
import { createShopifySimulator } from '../src/testing/index.js';
import { bundleBench } from './compile.js';

// BENCH_DIR: the bench runs from a bundle elsewhere (see `compiled`), so it is told where bench/ is.
const root = path.resolve(process.env.BENCH_DIR ?? path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = process.env.SHOPIFY_FIXTURES_DIR ?? path.resolve(root, '../shared/fixtures');
const PAGE_SIZE = 250;
const GQL_ORDERS = Number(process.env.BENCH_GQL_ORDERS ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const PARTS = (process.env.BENCH_PARTS ?? 'rest,graphql').split(',');
const BIG = 820982911946154508n;

/** Rewrites every `id`, `*_id` and gid in a record so ids of the copy `n` are unique (and big when `big`). */
function renumber(value: unknown, n: number, big: boolean): unknown {
  const shift = (id: bigint) => (big ? BIG + id * 1000n + BigInt(n) : id * 1000n + BigInt(n));
  if (Array.isArray(value)) return value.map((v) => renumber(v, n, big));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if ((key === 'id' || key.endsWith('_id')) && (typeof v === 'number' || typeof v === 'bigint')) out[key] = shift(BigInt(v));
    else if (key === 'admin_graphql_api_id' && typeof v === 'string') out[key] = v.replace(/\/(\d+)$/, (_m, d) => `/${shift(BigInt(d))}`);
    else out[key] = renumber(v, n, big);
  }
  return out;
}

/**
 * Runs `fn` for about `seconds`; reports wall and CPU time per run. On a shared machine the CPU time
 * (process.cpuUsage, user + system) is the steadier figure: wall time includes waiting for a core.
 */
function timeIt(label: string, seconds: number, fn: () => void, unit = 'page'): { wall: number; cpu: number } {
  for (let i = 0; i < 5; i++) fn(); // warm up the JIT
  let runs = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const deadline = start + seconds * 1000;
  const rounds: number[] = [];
  while (performance.now() < deadline) {
    const before = process.cpuUsage();
    fn();
    runs++;
    const used = process.cpuUsage(before);
    rounds.push((used.user + used.system) / 1000);
  }
  const wall = (performance.now() - start) / runs;
  const used = process.cpuUsage(cpuStart);
  const cpu = (used.user + used.system) / 1000 / runs;
  rounds.sort((a, b) => a - b);
  const at = (q: number) => rounds[Math.min(rounds.length - 1, Math.floor(q * rounds.length))].toFixed(1);
  console.log(`${label.padEnd(58)} ${wall.toFixed(2).padStart(8)} ms/${unit} wall ${cpu.toFixed(2).padStart(8)} ms/${unit} cpu (rounds: ${runs}, cpu p10/p50/p90 ${at(0.1)}/${at(0.5)}/${at(0.9)} ms)`);
  return { wall, cpu };
}

async function main(): Promise<void> {
  console.log(`node ${process.version} (${process.env.BENCH_TRANSFORM_BUNDLED ? 'compiled bundle' : 'tsx'}), ${new Date().toISOString()}, load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const transformer = new ShopifyTransformer({ keyRing: createKeyRing({ key: 'ab'.repeat(32) }) });
  if (PARTS.includes('rest')) await restCase(transformer);
  if (PARTS.includes('graphql')) await graphqlCase(transformer);
  console.log(`peak RSS ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MB; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}

async function restCase(transformer: ShopifyTransformer): Promise<void> {
  const page = JSON.parse(await readFile(path.join(fixtures, 'rest-orders-page.json'), 'utf8')) as { orders: unknown[] };
  const [order] = page.orders;
  const smallText = stringifyShopifyJson({ orders: Array.from({ length: PAGE_SIZE }, (_, i) => renumber(order, i, false)) });
  const bigText = stringifyShopifyJson({ orders: Array.from({ length: PAGE_SIZE }, (_, i) => renumber(order, i, true)) });
  console.log(`page: ${PAGE_SIZE} orders x 3 line items, ${(smallText.length / 1024).toFixed(0)} KiB (small ids), ${(bigText.length / 1024).toFixed(0)} KiB (ids > 2^53)`);
  console.log();

  console.log('1. parse');
  const base = timeIt('JSON.parse, small ids', 2, () => JSON.parse(smallText));
  const fast = timeIt('parseShopifyJson, small ids (regex shortcut)', 2, () => parseShopifyJson(smallText));
  const lossy = timeIt('JSON.parse, big ids (lossy: ids rounded)', 2, () => JSON.parse(bigText));
  const exact = timeIt('parseShopifyJson, big ids (exact bigints)', 2, () => parseShopifyJson(bigText));
  const pct = (a: number, b: number) => `${(((a / b) - 1) * 100).toFixed(0)}%`;
  console.log(`cpu overhead vs JSON.parse: small ids +${pct(fast.cpu, base.cpu)}, big ids +${pct(exact.cpu, lossy.cpu)} (+${(exact.cpu - lossy.cpu).toFixed(2)} ms per 250-order page)\n`);

  const perOrder = (ms: number) => Math.round((PAGE_SIZE / ms) * 1000).toLocaleString('en');
  // The reference order embeds its refund and fulfillment with full copies of their line items (17 KiB);
  // a typical order with 3 line items and no refund is the "lean" variant (the fixture without them).
  const lean = { ...(order as Record<string, unknown>), refunds: [], fulfillments: [] };
  const leanText = stringifyShopifyJson({ orders: Array.from({ length: PAGE_SIZE }, (_, i) => renumber(lean, i, true)) });
  for (const [name, text] of [['reference order (17 KiB)', bigText], [`lean order (${(leanText.length / PAGE_SIZE / 1024).toFixed(1)} KiB)`, leanText]] as const) {
    console.log(`2. transform + encrypt, ${name}, ids > 2^53, one core`);
    const parsed = parseShopifyJson<{ orders: unknown[] }>(text).orders;
    const sample = transformer.transformOrdersBatch(parsed, 'bench-tenant');
    if (sample.failures.length > 0 || sample.orders.length !== PAGE_SIZE || sample.lineItems.length !== PAGE_SIZE * 3) throw new Error('bench input did not transform cleanly');
    const t = timeIt('transformOrdersBatch (rows, events, PII sealed)', 3, () => transformer.transformOrdersBatch(parsed, 'bench-tenant'));
    const e = timeIt('parseShopifyJson + transformOrdersBatch', 3, () => transformer.transformOrdersBatch(parseShopifyJson<{ orders: unknown[] }>(text).orders, 'bench-tenant'));
    console.log(`orders/s (cpu): transform ${perOrder(t.cpu)}, parse + transform ${perOrder(e.cpu)}; (wall): ${perOrder(t.wall)}, ${perOrder(e.wall)}; ${sample.events.length / PAGE_SIZE} events/order\n`);
  }
  const restBytes = copyBytes(getResource('orders'), transformer.transformOrdersBatch(parseShopifyJson<{ orders: unknown[] }>(bigText).orders, 'bench-tenant') as unknown as RowSet, PAGE_SIZE);
  const leanBytes = copyBytes(getResource('orders'), transformer.transformOrdersBatch(parseShopifyJson<{ orders: unknown[] }>(leanText).orders, 'bench-tenant') as unknown as RowSet, PAGE_SIZE);
  console.log(`COPY text per order, REST: reference order ${restBytes.line}; lean order ${leanBytes.line}\n`);
}

/**
 * What the rows of `orders` orders weigh as the store streams them (COPY text of the registry's
 * columns; the store adds `tenant_id`, and `synced_at` / `sync_tag` where the table has them).
 */
function copyBytes(resource: ResourceDefinition, rows: RowSet, orders: number): { total: number; line: string } {
  const per: string[] = [];
  let total = 0;
  for (const table of [resource.root, ...resource.children]) {
    let bytes = 0;
    for (const chunk of copyChunks(table.columns, rows[table.key] ?? [])) bytes += chunk.length;
    let payload = 0;
    for (const row of rows[table.key] ?? []) { const p = (row as { payload?: string }).payload; if (typeof p === 'string') payload += Buffer.byteLength(p); }
    total += bytes;
    per.push(`${table.key} ${Math.round(bytes / orders)}${payload ? ` (payload ${Math.round(payload / orders)})` : ''}`);
  }
  return { total, line: `${Math.round(total / orders).toLocaleString('en')} bytes = ${per.join(' + ')}` };
}

/** A run frame as the importer builds one, for its record -> unit step only (nothing is written: dry run). */
function benchFrame(transformer: ShopifyTransformer): RunFrame {
  const deps: FrameDeps = {
    tenantId: 'bench-tenant', store: {} as FrameDeps['store'], transformer, logger: silentLogger,
    clock: () => new Date(), sleep: async () => {}, emitProgress: () => {},
  };
  return new RunFrame(deps, getResource('orders'), 'bench-run', 'full', { dryRun: true } as ResolvedImportOptions, undefined, null);
}

/** Rows of the units, merged by table (as a batch write merges them). */
function mergeRows(units: Array<{ rows: RowSet | null }>): RowSet {
  const rows: RowSet = {};
  for (const unit of units) for (const [key, list] of Object.entries(unit.rows ?? {})) (rows[key] ??= []).push(...list);
  return rows;
}

async function graphqlCase(transformer: ShopifyTransformer): Promise<void> {
  const orders = getResource('orders');
  const sim = await createShopifySimulator({ seed: 5, unthrottled: true, bulk: { startDelayMs: 10, rowsPerSecond: 1e9 }, shops: [{ orders: GQL_ORDERS, customers: 200, products: 50 }] });
  try {
    const shop = sim.shops[0];
    const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: sim.url });
    // The bulk file of a full sync, exactly as the engine asks for it.
    const bulk = new BulkOperations(client, { minPollMs: 20, maxPollMs: 100 });
    const op = await bulk.waitFor((await bulk.start(bulkQuery(orders, null), { groupObjects: false })).id);
    if (op.status !== 'COMPLETED' || !op.url) throw new Error(`bulk operation ended ${op.status}`);
    const lines = (await (await fetch(op.url)).text()).split('\n').filter((l) => l.length > 0);
    // Pages of the incremental sync's query, as the response bodies the client parses.
    const first = pageSizeFor(orders, 250);
    const bodies: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res: Response = await fetch(`${sim.url}/admin/api/2026-10/graphql.json`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-access-token': shop.accessToken },
        body: JSON.stringify({ query: pageQuery(orders), variables: { first, after, query: null } }),
      });
      const body: string = await res.text();
      bodies.push(body);
      const page: { pageInfo: { hasNextPage: boolean; endCursor: string } } = (JSON.parse(body) as { data: { orders: { pageInfo: { hasNextPage: boolean; endCursor: string } } } }).data.orders;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    await client.close();
    const roots = lines.filter((l) => !l.includes('"__parentId"')).length;
    const fileBytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    const pageBytes = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0);
    console.log(`3. GraphQL default field set: ${roots} orders, ${lines.length - roots} line items (${((lines.length - roots) / roots).toFixed(2)} per order), one core`);
    console.log(`   bulk file ${(fileBytes / 1024).toFixed(0)} KiB = ${Math.round(fileBytes / roots)} bytes per order; ${bodies.length} pages of ${first} orders (the most under Shopify's 1,000-point query cap) ${(pageBytes / 1024).toFixed(0)} KiB = ${Math.round(pageBytes / roots)} bytes per order`);

    // bulk-listing.ts readFile: JSON.parse per line; child lines lose __parentId and go to childUnit.
    const childByType = new Map(orders.children.filter((c) => c.bulkType).map((c) => [c.bulkType!, c]));
    const bulkUnits = () => {
      const frame = benchFrame(transformer);
      const units = [];
      for (let i = 0; i < lines.length; i++) {
        const node = JSON.parse(lines[i]) as Record<string, unknown>;
        const parent = node.__parentId;
        const position = { line: i + 1 };
        if (typeof parent === 'string') {
          delete node.__parentId;
          const child = childByType.get(node.__typename as string)!;
          units.push(frame.childUnit(child.key, node, parseGid(parent)!, position, 'bulk:1', childLineText(lines[i], parent)));
        } else units.push(frame.recordUnit(node, position, 'bulk:1'));
      }
      return units;
    };
    // pages-listing.ts: the client parses the body with parseShopifyJson, each node becomes a unit.
    const pageUnits = () => {
      const frame = benchFrame(transformer);
      const units = [];
      for (const body of bodies) {
        const page = parseShopifyJson<{ data: { orders: { nodes: unknown[] } } }>(body).data.orders;
        for (const node of page.nodes) units.push(frame.recordUnit(node, { after: null }));
      }
      return units;
    };
    const checked = <U extends { failure?: unknown }>(units: U[]) => {
      if (units.some((u) => u.failure)) throw new Error(`a unit failed: ${String((units.find((u) => u.failure)!.failure as { reason: string }).reason)}`);
      return units;
    };
    const bulkRows = mergeRows(checked(bulkUnits()));
    const pageRows = mergeRows(checked(pageUnits()));
    if (bulkRows.orders.length !== roots || pageRows.orders.length !== roots || bulkRows.lineItems.length !== pageRows.lineItems.length) throw new Error('bulk and paged listings gave different rows');
    const per = (ms: number) => Math.round((roots / ms) * 1000).toLocaleString('en');
    const unit = `${roots} orders`;
    const cases = (process.env.BENCH_GQL_CASES ?? 'bulk,pages,rows').split(',');
    if (cases.includes('bulk')) {
      const b = timeIt('bulk JSONL lines -> units (JSON.parse + rows + PII)', SECONDS, () => void bulkUnits(), unit);
      console.log(`   orders/s (cpu): ${per(b.cpu)}; (wall): ${per(b.wall)}`);
    }
    if (cases.includes('pages')) {
      const p = timeIt('page bodies -> units (parseShopifyJson + rows + PII)', SECONDS, () => void pageUnits(), unit);
      console.log(`   orders/s (cpu): ${per(p.cpu)}; (wall): ${per(p.wall)}`);
    }
    if (cases.includes('rows')) {
      const onlyRows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const r = timeIt('rows only (bulk lines already parsed)', SECONDS, () => {
        for (const node of onlyRows) {
          if (typeof node.__parentId === 'string') transformer.childRow('orders', 'lineItems', node, parseGid(node.__parentId)!, 'bench-tenant');
          else transformer.toRows('orders', node, 'bench-tenant');
        }
      }, unit);
      console.log(`   orders/s (cpu): ${per(r.cpu)}; (wall): ${per(r.wall)}`);
    }
    console.log(`   events per order ${(bulkRows.events.length / roots).toFixed(2)} (bulk), ${(pageRows.events.length / roots).toFixed(2)} (pages)`);
    console.log(`   COPY text per order, GraphQL bulk: ${copyBytes(orders, bulkRows, roots).line}`);
    console.log(`   COPY text per order, GraphQL pages: ${copyBytes(orders, pageRows, roots).line}\n`);
  } finally {
    await sim.stop();
  }
}

/** Bundles this file (as bench/importer.ts does) and runs it under plain node; resolves to its exit code. */
async function compiled(): Promise<number> {
  const { spawn } = await import('node:child_process');
  const here = path.dirname(fileURLToPath(import.meta.url));
  const outfile = await bundleBench(import.meta.url, 'transform');
  const child = spawn(process.execPath, [outfile], { stdio: 'inherit', env: { ...process.env, BENCH_DIR: here, BENCH_TRANSFORM_BUNDLED: '1' } });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

if (process.env.BENCH_TRANSFORM_BUNDLED || process.env.BENCH_TSX) main().catch((error) => { console.error(error); process.exit(1); });
else compiled().then((code) => process.exit(code), (error) => { console.error(error); process.exit(1); });
