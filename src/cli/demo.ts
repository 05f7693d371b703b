/**
 * `shopify-ingest demo` (`npm run demo`): the whole SDK in under a minute, with nothing to set up.
 *
 * 1. starts the Shopify simulator with two shops;
 * 2. opens the embedded database (or DATABASE_URL) and creates the tenants;
 * 3. runs a full sync of both with progress;
 * 4. mounts the webhook endpoint in a real Express server, makes live changes in the simulator
 *    (with duplicate and out-of-order deliveries) and waits until they are processed;
 * 5. checks the database against the simulator and prints a summary and how to query the data.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { createDatabase, createDatabaseHandle, explainDatabaseError } from '../store/index.js';
import { EMBEDDED_LOCK_FILE, lockEmbeddedDatabase } from '../store/embedded-lock.js';
import { createIngestionService } from '../service.js';
import { createJsonLogger } from '../logger.js';
import { createShopifySimulator, type ShopifySimulator } from '../testing/index.js';
import { WEBHOOK_TOPICS } from '../webhooks/index.js';
import { createProgress } from './progress.js';
import { EXIT, UsageError } from './exit.js';
import { cliLogLevel, databaseFlags, DEMO_DATA_DIR } from './spec.js';
import type { CliContext } from './context.js';

type Values = Record<string, string | boolean | undefined>;

function option(values: Values, name: string, fallback: number): number {
  const raw = values[name];
  const n = raw === undefined ? fallback : Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Waits until `check` is true, polling; false when `timeoutMs` passes first. */
async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

/** Written into every folder the demo creates: the only folders it ever deletes. */
const DEMO_MARKER_FILE = '.shopify-ingest-demo';

/**
 * Leaves `dataDir` an empty folder the demo owns. The demo starts fresh every run (its keys are
 * throwaway), but `--data-dir` may name any folder, the real embedded database included: so only a
 * folder carrying the marker is emptied, under the database's lock (a process that has it open
 * keeps it: DATABASE_IN_USE); a missing or empty folder is marked; anything else is refused.
 */
async function prepareDemoFolder(dataDir: string): Promise<void> {
  if (dataDir.startsWith('memory://')) return;
  const marker = path.join(dataDir, DEMO_MARKER_FILE);
  const mark = () => writeFile(marker, 'Created by `shopify-ingest demo`, which deletes and recreates this folder on every run.\n');
  let entries: string[];
  try {
    entries = await readdir(dataDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new UsageError(`--data-dir ${dataDir} is a file, not a folder`);
    if (code !== 'ENOENT') throw error;
    await mkdir(dataDir, { recursive: true });
    return mark();
  }
  if (!entries.includes(DEMO_MARKER_FILE)) {
    if (entries.length > 0) {
      throw new UsageError(`${dataDir} was not created by the demo (it has no ${DEMO_MARKER_FILE} file) and is not empty: the demo deletes its folder on every run, so it will not use this one. `
        + 'Give --data-dir a new or empty folder; if this is a demo database of an older version, delete it yourself.');
    }
    return mark();
  }
  const unlock = lockEmbeddedDatabase(dataDir);
  try {
    for (const entry of await readdir(dataDir)) {
      if (entry !== DEMO_MARKER_FILE && entry !== EMBEDDED_LOCK_FILE) await rm(path.join(dataDir, entry), { recursive: true, force: true });
    }
  } finally {
    unlock();
  }
}

/** `url` without its password, for printing: messages never repeat a secret. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  parsed.searchParams.delete('password');
  return parsed.toString();
}

export async function runDemo({ ctx, values }: { ctx: CliContext; values: Values }): Promise<number> {
  const started = Date.now();
  const out = (line = '') => { if (!ctx.json) ctx.stdout.write(`${line}\n`); };
  // --data-dir wins over an exported DATABASE_URL; with --database-url it is a usage error.
  const target = databaseFlags(values, ctx.env);
  const env = { ...target.env };
  // A demo needs secrets; generate throwaway ones rather than asking a newcomer for them.
  const generatedKey = !env.ENCRYPTION_KEY;
  if (generatedKey) env.ENCRYPTION_KEY = randomBytes(32).toString('base64');
  if (!env.SHOPIFY_API_SECRET) env.SHOPIFY_API_SECRET = `demo_${randomBytes(12).toString('hex')}`;

  const orders = option(values, 'orders', 2000);
  const customers = option(values, 'customers', Math.round(orders / 3));
  const products = option(values, 'products', Math.max(10, Math.round(orders / 30)));
  const databaseUrl = target.url ?? (env.DATABASE_URL?.trim() || undefined);
  const dataDir = target.dataDir ?? path.normalize(DEMO_DATA_DIR);
  // The demo database holds throwaway keys: start it fresh every time.
  if (!databaseUrl) await prepareDemoFolder(dataDir);

  out('shopify-ingest demo');
  out(`  database:  ${databaseUrl ? `PostgreSQL ${new URL(databaseUrl).host}` : `embedded PostgreSQL (PGlite) in ${dataDir}`}`);
  // A database that outlives the run needs the same key next time: say so, rather than let a second run fail on it.
  if (generatedKey && databaseUrl) out('  key:       ENCRYPTION_KEY generated for this run; set ENCRYPTION_KEY to run the demo on this database again');

  let simulator: ShopifySimulator | undefined;
  let server: Server | undefined;
  const prisma = await createDatabase({ url: databaseUrl, dataDir, env }).catch((error: unknown) => { throw explainDatabaseError(error, 'connect'); });
  const logger = createJsonLogger({ level: cliLogLevel(env), write: (line) => ctx.stderr.write(`${line}\n`) });
  const progress = createProgress({ stream: ctx.stderr as NodeJS.WriteStream, plain: ctx.json });
  const service = createIngestionService(createDatabaseHandle(prisma, { pool: prisma.pool }), {
    env,
    logger,
    // The demo drives every sync itself. With the scheduler's timers on, a demo crossing a scheduled
    // minute (:00, :15, :30, …) ran incremental syncs beside its full sync, and the full sync failed
    // on their run locks (IMPORT_ALREADY_RUNNING).
    scheduler: { distributed: false, enabled: false },
    healthCheckIntervalMs: 0,
    onProgress: (e) => {
      const line = { label: `${e.tenantId} ${e.resource}`, done: e.fetched, total: e.total, ratePerSecond: e.ratePerSecond, extra: `imported ${e.imported}` };
      if (e.done) progress.finish(`${e.tenantId}/${e.resource}`, line);
      else progress.update(`${e.tenantId}/${e.resource}`, line);
    },
  });
  try {
    simulator = await createShopifySimulator({
      seed: option(values, 'seed', 42),
      apiSecret: env.SHOPIFY_API_SECRET,
      shops: [
        { domain: 'acme-outdoor.myshopify.com', name: 'Acme Outdoor', customers, products, orders },
        { domain: 'globex-coffee.myshopify.com', name: 'Globex Coffee', customers: Math.round(customers / 2), products: Math.round(products / 2), orders: Math.round(orders / 2), bigIds: true },
      ],
      unthrottled: true,
      webhooks: { duplicateRate: 0.1, outOfOrder: { maxDelayMs: 200 } },
    });
    out(`  simulator: ${simulator.url} (2 shops, ${orders} + ${Math.round(orders / 2)} orders)`);

    await service.initialize();

    // Mounted as the README shows when Express is installed (a clone has it); an installed package
    // does not depend on Express, so without it the same endpoint is served by node:http.
    const express = await import('express').then((m) => m.default, () => undefined);
    let listening: { server: Server; url: string };
    if (express) {
      const app = express();
      service.setupWebhookEndpoints(app);
      listening = await listen(app);
    } else {
      const webhooks = service.webhooks!;
      listening = await listen((req, res) => {
        if (req.method === 'POST' && req.url?.split('?')[0] === '/api/webhooks/shopify') void webhooks.nodeHandler(req, res);
        else { res.statusCode = 404; res.end(); }
      });
    }
    server = listening.server;
    out(`  webhooks:  ${listening.url}/api/webhooks/shopify (${express ? 'Express' : 'node:http'})`);
    out();

    const tenants = [
      { id: 'acme', shop: simulator.shops[0]! },
      { id: 'globex', shop: simulator.shops[1]! },
    ];
    for (const { id, shop } of tenants) {
      await service.addTenant(id, { shopDomain: shop.domain, accessToken: shop.accessToken }, { client: { baseUrl: simulator.url } });
      for (const topic of WEBHOOK_TOPICS) shop.subscribe(topic, `${listening.url}/api/webhooks/shopify`);
    }

    out('1. Full sync');
    const syncStarted = Date.now();
    const syncs = await Promise.all(tenants.map(({ id }) => service.importData(id, 'all', { signal: ctx.signal })));
    const syncMs = Date.now() - syncStarted;
    progress.close();
    const failedRuns = syncs.flatMap((r) => Object.values(r)).filter((r) => r.status !== 'succeeded');
    if (failedRuns.length) throw new Error(`sync failed: ${failedRuns.map((r) => `${r.tenantId}/${r.resource}: ${r.error}`).join('; ')}`);

    out();
    out('2. Live changes, delivered as webhooks (10% duplicates, shuffled order)');
    let changes = 0;
    for (const { shop } of tenants) {
      // Indices wrap around the seeded records, so small demos (--orders 100) change existing ones too.
      const seeded = (resource: 'orders' | 'customers' | 'products', index: number) => shop.idOf(resource, index % shop.counts[resource]);
      if (shop.counts.orders > 0) {
        for (let i = 0; i < 20; i++) { shop.update('orders', seeded('orders', i * 7), { tags: `demo-${i}` }); changes++; }
      }
      if (shop.counts.customers > 0) {
        for (let i = 0; i < 10; i++) { shop.update('customers', seeded('customers', i * 5), { tags: 'vip' }); changes++; }
      }
      for (let i = 0; i < 5; i++) { shop.create('orders', {}); changes++; }
      if (shop.counts.orders > 0) {
        shop.markOrderPaid(seeded('orders', 3)); changes++;
        shop.fulfillOrder(seeded('orders', 4)); changes++;
        shop.cancelOrder(seeded('orders', 5)); changes++;
        shop.delete('orders', seeded('orders', 2)); changes++;
      }
      if (shop.counts.products > 0) { shop.delete('products', seeded('products', 1)); changes++; }
    }
    await simulator.webhooks.waitForDeliveries(30_000);
    const webhooks = service.webhooks!;
    const drained = await until(async () => (await webhooks.getStats()).pending === 0, 30_000);
    const stats = await webhooks.getStats();
    out(`   ${changes} changes, ${simulator.webhooks.deliveries.length} deliveries sent, ${stats.received} acknowledged, ${stats.duplicates} duplicates ignored, ${stats.processed} processed${drained ? '' : ' (still processing)'}`);

    out();
    out('3. Does the database match the simulator?');
    const rows: Array<Record<string, string | number>> = [];
    let allMatch = true;
    for (const { id, shop } of tenants) {
      const counts = await service.store.countRecords(id);
      // Ask the simulator the way a user would ask Shopify: the count endpoints.
      const client = await service.getClient(id);
      const countOf = async (resource: string, query: Record<string, string> = {}) => ((await client.get(`/${resource}/count.json`, query)) as { count: number }).count;
      const expected = { customers: await countOf('customers'), products: await countOf('products'), orders: await countOf('orders', { status: 'any' }) };
      const match = counts.customers === expected.customers && counts.products === expected.products && counts.orders === expected.orders;
      allMatch &&= match;
      rows.push({ tenant: id, shop: shop.domain, customers: counts.customers, products: counts.products, variants: counts.variants, orders: counts.orders, 'line items': counts.lineItems, matches: match ? 'yes' : `no (expected ${expected.customers}/${expected.products}/${expected.orders})` });
    }
    const elapsed = (Date.now() - started) / 1000;
    if (ctx.json) {
      ctx.stdout.write(`${JSON.stringify({ ok: allMatch, tenants: rows, webhooks: stats, syncMs, elapsedSeconds: elapsed })}\n`);
    } else {
      printTable(out, rows);
      out();
      out(`Webhooks: ${stats.received} received, ${stats.duplicates} duplicates, ${stats.processed} processed, ${stats.failed} failed attempts, ${stats.deadLetters} dead letters`);
      out(`Full sync: ${(syncMs / 1000).toFixed(1)} s; whole demo: ${elapsed.toFixed(1)} s`);
      out();
      out('Query the data with your own Prisma client (PII columns are encrypted; use the blind index to find by email):');
      out("  const orders = await prisma.shopifyOrder.findMany({ where: { tenantId: 'acme', deletedAt: null }, include: { lineItems: true }, take: 10 });");
      out("  const customer = await prisma.shopifyCustomer.findFirst({ where: { tenantId: 'acme', emailHash: keyRing.blindIndex('someone@example.com') } });");
      out(databaseUrl ? `  psql '${withoutPassword(databaseUrl)}' -c 'select tenant_id, count(*) from shopify_orders group by 1'` : `  (the embedded database is in ${dataDir}; run the demo with DATABASE_URL=postgresql://... to keep the data in PostgreSQL)`);
    }
    return allMatch ? EXIT.ok : EXIT.failed;
  } finally {
    progress.close();
    await service.shutdown({ timeoutMs: 10_000 }).catch(() => {});
    if (server) await new Promise((resolve) => server!.close(resolve));
    await simulator?.stop();
    await prisma.$disconnect();
  }
}

function printTable(out: (line?: string) => void, rows: Array<Record<string, string | number>>): void {
  if (!rows.length) return;
  const headers = Object.keys(rows[0]!);
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  out(line(headers));
  out(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) out(line(headers.map((h) => String(row[h]))));
}
