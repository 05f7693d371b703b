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

function timeIt(label: string, seconds: number, fn: () => void): number {
  for (let i = 0; i < 5; i++) fn(); // warm up the JIT
  let runs = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  while (performance.now() < deadline) { fn(); runs++; }
  const ms = (performance.now() - start) / runs;
  console.log(`${label.padEnd(58)} ${ms.toFixed(2).padStart(8)} ms/page`);
  return ms;
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
  console.log(`overhead vs JSON.parse: small ids +${(((fast / base) - 1) * 100).toFixed(0)}%, big ids +${(((exact / lossy) - 1) * 100).toFixed(0)}% (+${(exact - lossy).toFixed(2)} ms per 250-order page)\n`);

  console.log('2. transform + encrypt (one core)');
  const transformer = new ShopifyTransformer({ keyRing: createKeyRing({ key: 'ab'.repeat(32) }) });
  const parsed = parseShopifyJson<{ orders: unknown[] }>(bigText).orders;
  const sample = transformer.transformOrdersBatch(parsed, 'bench-tenant');
  if (sample.failures.length > 0 || sample.orders.length !== PAGE_SIZE || sample.lineItems.length !== PAGE_SIZE * 3) throw new Error('bench input did not transform cleanly');
  const transformMs = timeIt('transformOrdersBatch (rows, events, PII sealed)', 4, () => transformer.transformOrdersBatch(parsed, 'bench-tenant'));
  const endToEndMs = timeIt('parseShopifyJson + transformOrdersBatch', 4, () => transformer.transformOrdersBatch(parseShopifyJson<{ orders: unknown[] }>(bigText).orders, 'bench-tenant'));
  const perOrder = (ms: number) => Math.round((PAGE_SIZE / ms) * 1000);
  console.log(`throughput: transform ${perOrder(transformMs).toLocaleString('en')} orders/s; parse + transform ${perOrder(endToEndMs).toLocaleString('en')} orders/s (${(PAGE_SIZE * 3)} line items and ${sample.events.length} events per page)`);
  console.log(`peak RSS ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MB`);
}

main().catch((error) => { console.error(error); process.exit(1); });
