/**
 * Bulk files read in the worker thread (src/importer/bulk-worker.ts) against the calling thread:
 * the same rows, counts, failures and errors, from the simulator and a scripted Shopify, into real
 * PostgreSQL. The script is the one tests/helpers/global-setup.ts builds from the sources.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyRing } from '../../src/crypto/index.js';
import { createImportService, type ImportError } from '../../src/importer/index.js';
import type { Logger } from '../../src/logger.js';
import { createStore } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createShopifyClient } from '../../src/client/index.js';
import { createHarness, databaseImage, importer, type Harness } from './harness.js';
import { FakeBulkShop, makeOrders } from './fake-bulk-shop.js';
import { NO_WORKER_SCRIPT } from '../../src/importer/bulk-listing.js';
import { ensureBuilt, root } from '../cli/helpers.js';

const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
const WORKER = 'bulk file read in a worker thread';

/** A tenant's tables as `databaseImage` gives them, without the tenant's id (to compare two tenants). */
async function imageWithoutTenant(h: Harness, tenant: string) {
  const tables = await databaseImage(h, tenant);
  for (const rows of Object.values(tables)) for (const row of rows as Array<Record<string, unknown>>) delete row.tenant_id;
  return tables;
}

/** A logger that keeps the messages it is given. */
function recordingLogger(): Logger & { messages: string[]; warnings: Array<{ message: string; meta?: Record<string, unknown> }> } {
  const messages: string[] = [];
  const warnings: Array<{ message: string; meta?: Record<string, unknown> }> = [];
  const keep = (message: string) => { messages.push(message); };
  const warn = (message: string, meta?: Record<string, unknown>) => { messages.push(message); warnings.push({ message, meta }); };
  return { messages, warnings, debug: keep, info: keep, warn, error: keep };
}

describe('bulk files read in a worker thread, against the simulator', () => {
  let h: Harness;
  beforeAll(async () => {
    expect(process.env.SHOPIFY_INGEST_BULK_WORKER_FILE, 'the global set-up builds the worker script').toBeTruthy();
    h = await createHarness({ timeScale: 50, bulk: { startDelayMs: 20, rowsPerSecond: 1_000_000 }, shops: [{ customers: 40, products: 25, orders: 300 }] });
  }, 60_000);
  afterAll(async () => { await h?.close(); });

  /** A tenant of the simulator's shop, with a client of it, a logger that keeps its lines and the store. */
  const tenantOfShop = async (tenant: string) => {
    const shop = h.sim.shops[0];
    await createStore(h.db.database).upsertTenant({ id: tenant, shopDomain: `${tenant}.myshopify.com`, accessTokenEnc: 'not-used-here' });
    const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: shop.baseUrl, retryOptions: { retries: 8, minTimeout: 5, maxTimeout: 50 } });
    return { client, logger: recordingLogger(), store: createStore(h.db.database) };
  };

  it('stores the same rows as reading in the calling thread, for every resource of the seed, with the same counts', async () => {
    const sync = async (tenant: string, options: { worker?: boolean; keyRing?: ReturnType<typeof createKeyRing> }) => {
      // Tenant rows need distinct shop domains; the client names the simulator's shop.
      await createStore(h.db.database).upsertTenant({ id: tenant, shopDomain: `${tenant}.myshopify.com`, accessTokenEnc: 'not-used-here' });
      const shop = h.sim.shops[0];
      const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: shop.baseUrl, retryOptions: { retries: 8, minTimeout: 5, maxTimeout: 50 } });
      const logger = recordingLogger();
      const service = importer(h, client, tenant, { bulk: { ...BULK, ...(options.worker === false ? { worker: false } : {}) }, logger, ...(options.keyRing ? { keyRing: options.keyRing } : {}) });
      const results = [];
      for (const name of ['customers', 'products', 'orders'] as const) {
        const r = await service.importResource(name, { mode: 'full', batchSize: 13 });
        results.push({ resource: name, status: r.status, method: r.method, fetched: r.fetched, imported: r.imported, failed: r.failed });
      }
      return { results, workerFiles: logger.messages.filter((m) => m === WORKER).length };
    };
    const inWorker = await sync('bw-worker', {});
    const inThread = await sync('bw-thread', { worker: false });
    // A key ring with an injected random source cannot be built again in the worker: read here.
    const seeded = createKeyRing({ key: h.encryptionKey, randomFill: (b) => { randomBytes(b.length).copy(b); } });
    const withOwnRing = await sync('bw-own-ring', { keyRing: seeded });

    expect(inWorker.workerFiles).toBe(3);
    expect(inThread.workerFiles).toBe(0);
    expect(withOwnRing.workerFiles).toBe(0);
    expect(inWorker.results.every((r) => r.status === 'succeeded' && r.method === 'bulk' && r.failed === 0)).toBe(true);
    expect(inWorker.results).toEqual(inThread.results);
    expect(inWorker.results.find((r) => r.resource === 'orders')?.imported).toBe(300);
    // Every column but the tenant's id (PII decrypted, the operation's tag and observed_at left out).
    const image = (tenant: string) => imageWithoutTenant(h, tenant);
    const worker = await image('bw-worker');
    expect(worker.shopify_order_line_items.length).toBeGreaterThan(300);
    expect(worker.shopify_product_variants.length).toBeGreaterThan(25);
    expect(await image('bw-thread')).toEqual(worker);
    expect(await image('bw-own-ring')).toEqual(worker);
  }, 120_000);

  it('units of several records (batches of 100: up to 12 records per unit) store the same rows and counts, late children waiting for their parents\' batches', async () => {
    const run = async (tenant: string, bulk: Record<string, unknown>) => {
      const { client, logger, store } = await tenantOfShop(tenant);
      // Orders per batch written.
      const batches: number[] = [];
      // The first batch is slow: the next ones, with line items of its orders, would be written
      // before those orders were stored (and left out as orphans), were they not made to wait.
      const spy = {
        ...store,
        writeRows: async (...args: Parameters<typeof store.writeRows>) => {
          batches.push(args[2].orders?.length ?? 0);
          if (batches.length === 1) await new Promise((r) => setTimeout(r, 300));
          return store.writeRows(...args);
        },
      };
      // A short regroup window: line items that come after it require their order's batch.
      const result = await importer(h, client, tenant, { bulk: { ...BULK, regroupLines: 30, ...bulk }, logger, store: spy }).importOrders({ mode: 'full', batchSize: 100, concurrency: 3 });
      return { result, batches, inWorker: logger.messages.includes(WORKER) };
    };
    const merged = await run('bw-merged', {});
    const thread = await run('bw-merged-thread', { worker: false });
    expect(merged.inWorker).toBe(true);
    expect(thread.inWorker).toBe(false);
    for (const r of [merged.result, thread.result]) expect(r).toMatchObject({ status: 'succeeded', method: 'bulk', fetched: 300, imported: 300, failed: 0, skipped: 0 });
    // Units are cut before, so a batch of merged units may pass 100 orders; one of single records never does.
    expect(Math.max(...merged.batches), `orders per batch: ${merged.batches.join(', ')}`).toBeGreaterThan(100);
    expect(Math.max(...merged.batches)).toBeLessThanOrEqual(111);
    expect(Math.max(...thread.batches)).toBeLessThanOrEqual(100);
    const image = (tenant: string) => imageWithoutTenant(h, tenant);
    const stored = await image('bw-merged');
    expect(stored.shopify_order_line_items.length).toBeGreaterThan(300);
    expect(await image('bw-merged-thread')).toEqual(stored);
  }, 120_000);

  it('a file with fewer lines left than workerMinLines (the operation\'s objectCount) is read in the calling thread', async () => {
    const shop = h.sim.shops[0];
    const run = async (tenant: string, workerMinLines: number) => {
      await createStore(h.db.database).upsertTenant({ id: tenant, shopDomain: `${tenant}.myshopify.com`, accessTokenEnc: 'not-used-here' });
      const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: shop.baseUrl, retryOptions: { retries: 8, minTimeout: 5, maxTimeout: 50 } });
      const logger = recordingLogger();
      const result = await importer(h, client, tenant, { bulk: { ...BULK, workerMinLines }, logger }).importOrders({ mode: 'full' });
      return { imported: result.imported, inWorker: logger.messages.includes(WORKER) };
    };
    // 300 orders (the simulator's objectCount for a file generated as it is read counts its roots
    // only; Shopify's, and the simulator's for a file written first, count every line).
    expect(await run('bw-min-small', 100_000)).toEqual({ imported: 300, inWorker: false });
    expect(await run('bw-min-small-2', 301)).toEqual({ imported: 300, inWorker: false });
    expect(await run('bw-min-large', 300)).toEqual({ imported: 300, inWorker: true });
  }, 60_000);

  it('without the worker script beside the SDK (a bundled host), a large file is read in the calling thread with a warning naming the fix', async () => {
    const run = async (tenant: string, bulk: Record<string, unknown>, options: { keyRing?: ReturnType<typeof createKeyRing> } = {}) => {
      const { client, logger } = await tenantOfShop(tenant);
      const result = await importer(h, client, tenant, { bulk: { ...BULK, workerMinLines: 0, ...bulk }, logger, ...options }).importOrders({ mode: 'full' });
      return { imported: result.imported, inWorker: logger.messages.includes(WORKER), missing: logger.warnings.filter((w) => w.message === NO_WORKER_SCRIPT) };
    };
    // The tests run the SDK's sources, which have no worker script beside them (the global set-up
    // names a build of it): without that name the SDK finds none, as in a host's bundle.
    const named = process.env.SHOPIFY_INGEST_BULK_WORKER_FILE;
    delete process.env.SHOPIFY_INGEST_BULK_WORKER_FILE;
    try {
      const missing = await run('bw-no-script', {});
      expect(missing.imported).toBe(300);
      expect(missing.inWorker).toBe(false);
      expect(missing.missing).toHaveLength(1);
      expect(missing.missing[0].meta).toMatchObject({ tenantId: 'bw-no-script', resource: 'orders' });
      expect(missing.missing[0].message).toMatch(/SHOPIFY_INGEST_BULK_WORKER_FILE/);
      expect(missing.missing[0].message).toMatch(/serverExternalPackages/);
      // Turned off by the host, or not applicable (a key ring the worker cannot rebuild): nothing to fix, no warning.
      expect((await run('bw-no-script-off', { worker: false })).missing).toHaveLength(0);
      const seeded = createKeyRing({ key: h.encryptionKey, randomFill: (b) => { randomBytes(b.length).copy(b); } });
      expect((await run('bw-no-script-ring', {}, { keyRing: seeded })).missing).toHaveLength(0);
    } finally {
      process.env.SHOPIFY_INGEST_BULK_WORKER_FILE = named;
    }
    // With the script found, no warning either.
    const found = await run('bw-script', {});
    expect(found).toMatchObject({ imported: 300, inWorker: true, missing: [] });
  }, 60_000);

  it('the published worker script, copied alone beside a host\'s bundle and named in SHOPIFY_INGEST_BULK_WORKER_FILE, reads the file: the same rows', async () => {
    // The fix the warning above names: dist/bulk-worker.js (or .cjs) must work with nothing beside it.
    await ensureBuilt();
    const dir = await mkdtemp(path.join(tmpdir(), 'bundled-host-'));
    const named = process.env.SHOPIFY_INGEST_BULK_WORKER_FILE;
    try {
      const sync = async (tenant: string, script: string | null) => {
        const { client, logger } = await tenantOfShop(tenant);
        if (script !== null) process.env.SHOPIFY_INGEST_BULK_WORKER_FILE = script;
        const result = await importer(h, client, tenant, {
          bulk: { ...BULK, workerMinLines: 0, ...(script === null ? { worker: false } : {}) },
          logger,
        }).importOrders({ mode: 'full' });
        return { imported: result.imported, failed: result.failed, inWorker: logger.messages.includes(WORKER), warnings: logger.warnings.map((w) => w.message) };
      };
      const here = await sync('bw-published-thread', null);
      const image = (tenant: string) => imageWithoutTenant(h, tenant);
      const expected = await image('bw-published-thread');
      expect(expected.shopify_order_line_items.length).toBeGreaterThan(300);
      for (const file of ['bulk-worker.js', 'bulk-worker.cjs']) {
        await copyFile(path.join(root, 'dist', file), path.join(dir, file));
        const tenant = `bw-published-${file.replace(/\W/g, '-')}`;
        const copied = await sync(tenant, path.join(dir, file));
        expect(copied, file).toEqual({ ...here, inWorker: true });
        expect(await image(tenant), file).toEqual(expected);
      }
      // Nothing else was needed beside them: no chunk of the package, no node_modules.
      expect((await readdir(dir)).sort()).toEqual(['bulk-worker.cjs', 'bulk-worker.js']);
    } finally {
      process.env.SHOPIFY_INGEST_BULK_WORKER_FILE = named;
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a bulk file\'s committed line is checkpointed at most every 250 ms, not after every batch; the run still ends complete', async () => {
    for (const worker of [true, false]) {
      const tenant = `bw-gap-${worker}`;
      await createStore(h.db.database).upsertTenant({ id: tenant, shopDomain: `${tenant}.myshopify.com`, accessTokenEnc: 'not-used-here' });
      const shop = h.sim.shops[0];
      const client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: shop.baseUrl, retryOptions: { retries: 8, minTimeout: 5, maxTimeout: 50 } });
      const store = createStore(h.db.database);
      // Each write is slowed a little so that the file takes a known while to read.
      let batches = 0;
      const cursors: Array<{ at: number; line: number | null }> = [];
      const spy = {
        ...store,
        writeRows: async (...args: Parameters<typeof store.writeRows>) => { batches++; await new Promise((r) => setTimeout(r, 10)); return store.writeRows(...args); },
        saveCheckpoint: (...args: Parameters<typeof store.saveCheckpoint>) => {
          const cursor = args[2].cursor;
          if (typeof cursor === 'string') cursors.push({ at: performance.now(), line: (JSON.parse(cursor) as { op?: { line?: number } }).op?.line ?? null });
          return store.saveCheckpoint(...args);
        },
      };
      const started = performance.now();
      const result = await importer(h, client, tenant, { bulk: { ...BULK, ...(worker ? {} : { worker: false }) }, store: spy }).importOrders({ mode: 'full', batchSize: 5, concurrency: 1 });
      const took = performance.now() - started;
      expect(result).toMatchObject({ status: 'succeeded', method: 'bulk', imported: 300 });
      const reading = cursors.filter((c) => c.line !== null && c.line > 0);
      expect(batches, `batches written (worker: ${worker})`).toBeGreaterThanOrEqual(60);
      // Every batch moved the committed line, yet at most one save per 250 ms of the run (plus the
      // file's end) wrote it: 60 batches of at least 10 ms each.
      expect(reading.length, `cursor saves while reading ${JSON.stringify(reading.map((c) => c.line))} in ${Math.round(took)} ms`).toBeLessThanOrEqual(Math.ceil(took / 250) + 2);
      expect(reading.length).toBeLessThan(batches / 2);
      // (The last one, at the file's end, is written at once.)
      for (let i = 1; i < reading.length - 1; i++) expect(reading[i].at - reading[i - 1].at).toBeGreaterThanOrEqual(240);
      // The completed run leaves no cursor.
      const checkpoint = (await store.getCheckpoint(tenant, 'orders'))!;
      expect(checkpoint.cursor).toBeNull();
    }
  }, 120_000);

  it('a worker thread that dies midway: what it sent is written, the rest of the file is read in this thread, the same rows', async () => {
    // A worker script that runs the real one and ends its thread once the calling thread has taken
    // three messages of units (a thread killed, or out of its memory, midway through the file).
    const dir = await mkdtemp(path.join(tmpdir(), 'si-bulk-worker-'));
    const dying = path.join(dir, 'dying-worker.mjs');
    await writeFile(dying, [
      "import { parentPort } from 'node:worker_threads';",
      'let taken = 0;',
      "parentPort.on('message', (m) => { if (m.type === 'taken' && ++taken === 3) process.exit(7); });",
      `await import(${JSON.stringify(pathToFileURL(process.env.SHOPIFY_INGEST_BULK_WORKER_FILE!).href)});`,
    ].join('\n'));
    try {
      const run = async (tenant: string, bulk: Record<string, unknown>) => {
        const { client, logger, store } = await tenantOfShop(tenant);
        // Batch writes go into the same record as the log lines, to see which came first.
        const spy = { ...store, writeRows: (...args: Parameters<typeof store.writeRows>) => { logger.messages.push('write'); return store.writeRows(...args); } };
        // A short regroup window, so that the worker sends orders before it dies.
        const result = await importer(h, client, tenant, { bulk: { ...BULK, regroupLines: 30, ...bulk }, logger, store: spy }).importOrders({ mode: 'full', batchSize: 7 });
        return { result, messages: logger.messages };
      };
      const died = await run('bw-died', { workerFile: dying });
      const clean = await run('bw-clean', { worker: false });
      expect(died.messages).toContain(WORKER);
      const failed = died.messages.indexOf('the bulk file worker thread failed: the rest of the file is read in this thread');
      expect(failed).toBeGreaterThan(0);
      expect(died.messages.slice(0, failed)).toContain('write');
      // Each record counted once: records leave the worker's window in file order, each at a position
      // before the oldest record still held, so the committed position after what it sent is past
      // every record sent and before every record not sent (only child lines may be read twice).
      expect(died.result).toMatchObject({ status: 'succeeded', method: 'bulk', failed: 0, fetched: 300, imported: 300 });
      const image = async (tenant: string) => {
        const tables = await imageWithoutTenant(h, tenant);
        return { orders: tables.orders, lineItems: tables.shopify_order_line_items, events: tables.shopify_order_events };
      };
      expect(clean.result).toMatchObject({ status: 'succeeded', imported: 300 });
      expect(await image('bw-died')).toEqual(await image('bw-clean'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('bulk files read in a worker thread, against a scripted Shopify', () => {
  const keyRing = createKeyRing({ key: randomBytes(32).toString('base64') });
  let db: TestDatabase;
  let seq = 0;
  beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_bulk_worker' }); }, 60_000);
  afterAll(async () => { await db?.drop(); });

  /** A shop whose result file has line `line` replaced by `text`, and an importer of it. */
  async function corrupted(line: number, text: (original: string) => string) {
    const shop = new FakeBulkShop(makeOrders(40));
    await shop.listen();
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const response = await globalThis.fetch(input, init);
      const lines = (await response.text()).split('\n');
      lines[line - 1] = text(lines[line - 1]);
      return new Response(lines.join('\n'), { status: response.status });
    };
    const run = async (worker: boolean) => {
      const tenantId = `bw-${++seq}`;
      await createStore(db.database).upsertTenant({ id: tenantId, shopDomain: `${tenantId}.myshopify.com`, accessTokenEnc: 'x' });
      const client = { shopDomain: shop.shopDomain, graphql: shop.graphql.bind(shop), pages: async function* () { /* REST unused */ } };
      const logger = recordingLogger();
      const service = createImportService(db.database, client, tenantId, { keyRing, logger, sleep: async () => {}, bulk: { ...BULK, minPollMs: 1, maxPollMs: 2, fetch, worker } });
      const result = await service.importOrders({ mode: 'full', batchSize: 5 }).catch((e: ImportError) => e);
      const failures = await db.query<{ shopify_id: string | null; reason: string }>('SELECT shopify_id::text, reason FROM shopify_sync_failures WHERE tenant_id = $1 ORDER BY shopify_id', [tenantId]);
      const stored = await db.query<{ id: string; line_item_count: number }>('SELECT id::text, line_item_count FROM shopify_orders WHERE tenant_id = $1 ORDER BY id', [tenantId]);
      return { result, failures, stored, inWorker: logger.messages.includes(WORKER) };
    };
    return { shop, run };
  }

  it('a line that is not JSON fails the run with BULK_FILE_MALFORMED naming the line, as in the calling thread', async () => {
    const { shop, run } = await corrupted(30, () => '{"id": "gid://shopify/Order/1", oops');
    try {
      const worker = await run(true);
      const thread = await run(false);
      expect(worker.inWorker).toBe(true);
      expect(thread.inWorker).toBe(false);
      for (const outcome of [worker, thread]) {
        const error = outcome.result as ImportError;
        expect(error.code).toBe('BULK_FILE_MALFORMED');
        expect(error.message).toContain('line 30 is not JSON');
        expect(error.result?.status).toBe('failed');
      }
      // Whatever was committed before the line is the same either way (batches of 5 records before line 30).
      expect(worker.stored.length).toBe(thread.stored.length);
    } finally {
      await shop.close();
    }
  });

  it('a record that cannot be transformed is recorded as a failure and the others are written, as in the calling thread', async () => {
    // The file lists every order first (fake-bulk-shop.ts): line 7 is an order; without its
    // updatedAt it cannot be versioned, so it cannot be transformed.
    const { shop, run } = await corrupted(7, (original) => {
      const order = JSON.parse(original) as Record<string, unknown>;
      delete order.updatedAt;
      return JSON.stringify(order);
    });
    try {
      const worker = await run(true);
      const thread = await run(false);
      expect(worker.inWorker).toBe(true);
      for (const outcome of [worker, thread]) {
        expect(outcome.result).toMatchObject({ status: 'succeeded', fetched: 40, imported: 39, failed: 1 });
        expect(outcome.failures).toHaveLength(1);
      }
      expect(worker.failures).toEqual(thread.failures);
      expect(worker.failures[0].shopify_id).not.toBeNull();
      // The failed order's line items have no parent to hang under; the others keep their counts.
      expect(worker.stored).toEqual(thread.stored);
      expect(worker.stored).toHaveLength(39);
    } finally {
      await shop.close();
    }
  });
});
