/**
 * Parse and transform cost of Shopify order pages.
 *
 *   npx tsx bench/transform.ts            (SHOPIFY_FIXTURES_DIR overrides ../shared/fixtures)
 *
 * 1. Parsing a 250-order REST page (the reference order, 3 line items, replicated): JSON.parse vs
 *    parseShopifyJson, with small ids and with ids beyond 2^53 (every order, line item, customer,
 *    fulfillment and refund id above 2^53, as in Shopify's own webhook samples).
 * 2. transformOrdersBatch throughput with AES-GCM PII encryption (orders/s on one core).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKeyRing } from '../src/crypto/index.js';
import { parseShopifyJson, stringifyShopifyJson } from '../src/json.js';
import { ShopifyTransformer } from '../src/transform/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = process.env.SHOPIFY_FIXTURES_DIR ?? path.resolve(root, '../shared/fixtures');
const PAGE_SIZE = 250;
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
function timeIt(label: string, seconds: number, fn: () => void): { wall: number; cpu: number } {
  for (let i = 0; i < 5; i++) fn(); // warm up the JIT
  let runs = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const deadline = start + seconds * 1000;
  while (performance.now() < deadline) { fn(); runs++; }
  const wall = (performance.now() - start) / runs;
  const used = process.cpuUsage(cpuStart);
  const cpu = (used.user + used.system) / 1000 / runs;
  console.log(`${label.padEnd(58)} ${wall.toFixed(2).padStart(8)} ms/page wall ${cpu.toFixed(2).padStart(8)} ms/page cpu`);
  return { wall, cpu };
}

async function main(): Promise<void> {
  const page = JSON.parse(await readFile(path.join(fixtures, 'rest-orders-page.json'), 'utf8')) as { orders: unknown[] };
  const [order] = page.orders;
  const smallText = stringifyShopifyJson({ orders: Array.from({ length: PAGE_SIZE }, (_, i) => renumber(order, i, false)) });
  const bigText = stringifyShopifyJson({ orders: Array.from({ length: PAGE_SIZE }, (_, i) => renumber(order, i, true)) });
  console.log(`page: ${PAGE_SIZE} orders x 3 line items, ${(smallText.length / 1024).toFixed(0)} KiB (small ids), ${(bigText.length / 1024).toFixed(0)} KiB (ids > 2^53)`);
  console.log(`node ${process.version}\n`);

  console.log('1. parse');
  const base = timeIt('JSON.parse, small ids', 2, () => JSON.parse(smallText));
  const fast = timeIt('parseShopifyJson, small ids (regex shortcut)', 2, () => parseShopifyJson(smallText));
  const lossy = timeIt('JSON.parse, big ids (lossy: ids rounded)', 2, () => JSON.parse(bigText));
  const exact = timeIt('parseShopifyJson, big ids (exact bigints)', 2, () => parseShopifyJson(bigText));
  const pct = (a: number, b: number) => `${(((a / b) - 1) * 100).toFixed(0)}%`;
  console.log(`cpu overhead vs JSON.parse: small ids +${pct(fast.cpu, base.cpu)}, big ids +${pct(exact.cpu, lossy.cpu)} (+${(exact.cpu - lossy.cpu).toFixed(2)} ms per 250-order page)\n`);

  const transformer = new ShopifyTransformer({ keyRing: createKeyRing({ key: 'ab'.repeat(32) }) });
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
  console.log(`peak RSS ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MB; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}

main().catch((error) => { console.error(error); process.exit(1); });
