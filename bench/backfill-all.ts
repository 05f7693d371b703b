/**
 * Full backfill of every registered resource (issue #17's benchmark): one simulated shop with
 * BENCH_ALL_ORDERS orders and what hangs off them (refunds, transactions, fulfillments), its
 * products with variants, inventory items and levels at BENCH_ALL_LOCATIONS locations, collections,
 * and whatever other resources the registry holds, synced with `importAll()` (bulk operations, the
 * importer's defaults) into PostgreSQL. Then the database's own ceiling for the very rows written:
 * every synced table exported with COPY TO, emptied, and loaded back with COPY FROM (server side).
 *
 *   npx tsx bench/backfill-all.ts
 *
 * Env knobs (defaults in brackets):
 *   BENCH_ALL_ORDERS [100000]   orders
 *   BENCH_ALL_CUSTOMERS [20000] customers
 *   BENCH_ALL_PRODUCTS [3600]   products (2.5 variants each; ~20,000 inventory levels at 5 locations)
 *   BENCH_ALL_LOCATIONS [5]     locations
 *
 * The job runs in its own process as a compiled bundle under plain `node` (peak RSS is its own); the
 * simulator in another (bench/client-simulator-process.ts), unthrottled, completing bulk operations
 * at once: this measures reading the files, completing records and writing rows, not Shopify's
 * preparation of the files or its rate limits.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleBench } from './compile.js';

const here = process.env.BENCH_DIR ?? path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const num = (name: string, fallback: number) => (env[name] !== undefined && env[name] !== '' ? Number(env[name]) : fallback);

interface Result {
  phases: Array<{ resource: string; records: number; seconds: number; requests: number; method: string }>;
  tables: Array<{ table: string; rows: number }>;
  seconds: number;
  peakRssMb: number;
  ceiling: { seconds: number; megabytes: number };
}

async function startSimulator(options: Record<string, unknown>) {
  const child = fork(path.join(here, 'client-simulator-process.ts'), [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<{ url: string; shops: Array<{ domain: string; accessToken: string }> }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as never));
    child.once('exit', (code) => reject(new Error(`simulator exited (${code})`)));
  });
  return {
    ...ready,
    stop: () => new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.send({ id: 1, cmd: 'stop' }); setTimeout(() => { child.kill(); resolve(); }, 5000).unref(); }),
  };
}

async function runJob(): Promise<Result> {
  const { createTestDatabase } = await import('../tests/helpers/test-database.js');
  const { createShopifyClient } = await import('../src/client/index.js');
  const { createKeyRing } = await import('../src/crypto/index.js');
  const { createImportService } = await import('../src/importer/index.js');
  const { createStore } = await import('../src/store/index.js');
  const { RESOURCES, tablesOf } = await import('../src/resources/index.js');
  const { randomBytes } = await import('node:crypto');
  const { mkdtemp, rm, chmod, stat } = await import('node:fs/promises');
  const os = await import('node:os');

  let peak = 0;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 200);
  const sim = await startSimulator({
    seed: 17, unthrottled: true, bulk: { startDelayMs: 10, rowsPerSecond: 1e9 },
    shops: [{ customers: num('BENCH_ALL_CUSTOMERS', 20_000), products: num('BENCH_ALL_PRODUCTS', 3_600), orders: num('BENCH_ALL_ORDERS', 100_000), locations: num('BENCH_ALL_LOCATIONS', 5) }],
  });
  const db = await createTestDatabase({ prefix: 'si_bench_all' });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'si-all-ceiling-'));
  try {
    const shop = sim.shops[0];
    await createStore(db.database).upsertTenant({ id: 'bench', shopDomain: shop.domain, accessTokenEnc: 'x' });
    const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: sim.url });
    const service = createImportService(db.database, client, 'bench', { keyRing: createKeyRing({ key: randomBytes(32) }), bulk: { minPollMs: 50, maxPollMs: 200 } });
    let lastLog = 0;
    service.on('progress', (p) => {
      if (performance.now() - lastLog < 10_000) return;
      lastLog = performance.now();
      process.stderr.write(`  ${p.resource} ${p.imported}/${p.fetched} rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB\n`);
    });
    const t0 = performance.now();
    const all = await service.importAll();
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(timer);
    const phases = Object.entries(all).map(([resource, r]) => {
      if (r.status !== 'succeeded' || r.failed > 0) throw new Error(`${resource}: ${r.status}, ${r.failed} failed${r.error ? `: ${r.error}` : ''}`);
      return { resource, records: r.imported, seconds: r.durationMs / 1000, requests: r.pages, method: r.method };
    });

    // The ceiling: the same rows, loaded by PostgreSQL itself. Parents first (foreign keys).
    const tables = [...new Set(RESOURCES.flatMap((r) => tablesOf(r as never).map((t) => t.table)))];
    const counts: Result['tables'] = [];
    await chmod(dir, 0o777);
    let bytes = 0;
    for (const table of tables) {
      const [{ n }] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
      counts.push({ table, rows: Number(n) });
      await db.query(`COPY ${table} TO '${path.join(dir, table)}'`);
      bytes += (await stat(path.join(dir, table))).size;
    }
    await db.query(`TRUNCATE ${tables.join(', ')}`);
    await db.query('CHECKPOINT');
    const t1 = performance.now();
    for (const table of tables) await db.query(`COPY ${table} FROM '${path.join(dir, table)}'`);
    const ceiling = { seconds: (performance.now() - t1) / 1000, megabytes: Math.round(bytes / 2 ** 20) };
    const maxRss = process.resourceUsage().maxRSS * 1024;
    return { phases, tables: counts, seconds, peakRssMb: Math.round(Math.max(peak, maxRss) / 2 ** 20), ceiling };
  } finally {
    clearInterval(timer);
    await rm(dir, { recursive: true, force: true });
    await db.drop().catch(() => {});
    await sim.stop();
  }
}

if (process.argv[2] === '--job') {
  const result = await runJob();
  process.send!(result);
  process.exit(0);
} else {
  const os = await import('node:os');
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`backfill-all bench: node ${process.version}, ${new Date().toISOString()}, load average ${load()}`);
  const job = await bundleBench(import.meta.url, 'backfill-all-job');
  const r = await new Promise<Result>((resolve, reject) => {
    const child = fork(job, ['--job'], { env: { ...process.env, BENCH_DIR: here }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve(m as Result));
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`job exited with ${code}`)); });
  });
  for (const p of r.phases) console.log(`  ${p.resource.padEnd(18)} ${String(p.records).padStart(8)} records ${p.seconds.toFixed(1).padStart(7)} s  ${String(p.requests).padStart(6)} requests (${p.method})`);
  const rows = r.tables.reduce((n, t) => n + t.rows, 0);
  for (const t of r.tables) console.log(`    ${t.table.padEnd(40)} ${String(t.rows).padStart(9)} rows`);
  console.log(`  ${rows} rows in ${r.seconds.toFixed(1)} s = ${Math.round(rows / r.seconds)} rows/s; peak RSS ${r.peakRssMb} MB`);
  console.log(`  ceiling: COPY FROM of the same rows (${r.ceiling.megabytes} MB): ${r.ceiling.seconds.toFixed(1)} s = ${Math.round(rows / r.ceiling.seconds)} rows/s; backfill at ${(r.ceiling.seconds / r.seconds).toFixed(2)}x the ceiling`);
  console.log(`  load average at the end ${load()}`);
}
