/**
 * The `shopify-ingest` command: through `main(argv, context)` with captured output, against a
 * fresh PostgreSQL database and the Shopify simulator, and as a real child process of the built bin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { main, USAGE } from '../../src/cli/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createStore } from '../../src/store/index.js';
import { RESOURCE_NAMES } from '../../src/resources/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const SHOP = 'cli-store.myshopify.com';

let db: TestDatabase;
let simulator: ShopifySimulator;

interface Run { code: number; stdout: string; stderr: string }

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _encoding, done) { chunks.push(String(chunk)); done(); } });
  return { stream, text: () => chunks.join('') };
}

async function cli(argv: string[], env: Record<string, string | undefined> = { ENCRYPTION_KEY, LOG_LEVEL: 'warn' }): Promise<Run> {
  const out = capture();
  const err = capture();
  const code = await main(argv, { stdout: out.stream, stderr: err.stream, env });
  return { code, stdout: out.text(), stderr: err.text() };
}

function bin(argv: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const options = { cwd: root, env: { PATH: process.env.PATH ?? '', ...env } as unknown as NodeJS.ProcessEnv, timeout: 60_000, encoding: 'utf8' as const };
    execFile(process.execPath, [path.join(root, 'dist/cli/index.js'), ...argv], options, (error: (Error & { code?: unknown }) | null, stdout: string, stderr: string) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_cli', migrate: false });
  simulator = await createShopifySimulator({ seed: 5, unthrottled: true, bulk: { startDelayMs: 20, rowsPerSecond: 1_000_000 }, shops: [{ domain: SHOP, name: 'CLI Store', customers: 20, products: 5, orders: 25 }] });
  if (!existsSync(path.join(root, 'dist/cli/index.js'))) {
    // The bin test needs the build; `npm test` builds before vitest, this covers a bare `vitest run`.
    await new Promise<void>((resolve, reject) => execFile('npx', ['tsup'], { cwd: root, timeout: 280_000 }, (error) => (error ? reject(error) : resolve())));
  }
}, 300_000);

afterAll(async () => {
  await simulator?.stop();
  await db?.drop();
});

describe('shopify-ingest CLI', () => {
  it('--help prints the usage and exits 0; no command or an unknown one exits 2', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(USAGE);
    for (const command of ['demo', 'migrate', 'sync <tenant>', 'status', 'tenants add', 'webhooks replay <id>', 'simulator']) {
      expect(help.stdout).toContain(command);
    }

    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');

    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^unknown command: frobnicate/);

    const badFlag = await cli(['status', '--no-such-flag']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/no-such-flag/);

    const missing = await cli(['sync']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/sync: which tenant\?/);
  });

  it('migrate applies the migrations to a fresh database, then reports it up to date', async () => {
    const first = await cli(['migrate', '--database-url', db.url]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied: \d+_init/);
    expect(await db.query(`SELECT to_regclass('public.shopify_orders') AS t`)).toEqual([{ t: 'shopify_orders' }]);

    const second = await cli(['migrate', '--database-url', db.url, '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ ok: true, applied: [] });
  });

  it('a missing ENCRYPTION_KEY is a configuration error (exit 3)', async () => {
    const run = await cli(['status', '--database-url', db.url], { LOG_LEVEL: 'warn' });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/ENCRYPTION_KEY/);
  });

  it('tenants add checks the token against Shopify: a bad one exits 1 with a clear message and saves nothing', async () => {
    const run = await cli(['tenants', 'add', 'cli-tenant', '--shop', SHOP, '--token', 'shpat_wrong_token', '--base-url', simulator.url, '--database-url', db.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/rejected the credentials for cli-store\.myshopify\.com \(HTTP 401\)/);
    expect(run.stderr).not.toContain('shpat_wrong_token');
    expect(await db.query(`SELECT id FROM shopify_tenants`)).toEqual([]);

    const json = await cli(['tenants', 'add', 'cli-tenant', '--shop', SHOP, '--token', 'shpat_wrong_token', '--base-url', simulator.url, '--database-url', db.url, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, code: 'TENANT_CREDENTIALS_INVALID' });
  });

  it('tenants add, tenants list --json, sync --json and status --json work against the simulator', { timeout: 180_000 }, async () => {
    const token = simulator.shops[0]!.accessToken;
    const add = await cli(['tenants', 'add', 'cli-tenant', '--shop', SHOP, '--token', token, '--base-url', simulator.url, '--database-url', db.url]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toBe(`added cli-tenant (${SHOP})\n`);

    const list = await cli(['tenants', 'list', '--json', '--database-url', db.url]);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(token);
    const { ok: listed, tenants } = JSON.parse(list.stdout) as { ok: boolean; tenants: Array<Record<string, unknown>> };
    expect(listed).toBe(true);
    expect(tenants).toHaveLength(1);
    expect(tenants[0]).toMatchObject({ id: 'cli-tenant', shopDomain: SHOP, name: 'CLI Store', isActive: true });
    expect(tenants[0]).not.toHaveProperty('accessTokenEnc');

    const sync = await cli(['sync', 'cli-tenant', '--json', '--database-url', db.url]);
    expect(sync.code).toBe(0);
    // --json on sync: one JSON event per line, progress first, the result last.
    const events = sync.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.slice(0, -1).every((e) => e.type === 'progress')).toBe(true);
    expect(events.filter((e) => e.type === 'progress' && e.finished).map((e) => e.key).sort()).toEqual(RESOURCE_NAMES.map((name) => `cli-tenant/${name}`).sort());
    const result = events.at(-1) as { type: string; ok: boolean; runs: Array<Record<string, unknown>> };
    expect(result.type).toBe('result');
    expect(result.ok).toBe(true);
    expect(result.runs.map((r) => r.resource).sort()).toEqual([...RESOURCE_NAMES].sort());
    const byResource = Object.fromEntries(result.runs.map((r) => [r.resource, r]));
    expect(byResource.customers).toMatchObject({ status: 'succeeded', fetched: 20, imported: 20, failed: 0 });
    expect(byResource.products).toMatchObject({ status: 'succeeded', fetched: 5 });
    expect(byResource.orders).toMatchObject({ status: 'succeeded', fetched: 25 });

    // Human output of a single resource, with the progress going to stderr.
    const orders = await cli(['sync', 'cli-tenant', 'orders', '--mode', 'full', '--database-url', db.url]);
    expect(orders.code).toBe(0);
    expect(orders.stdout).toMatch(/^orders\s+succeeded\s+fetched 25 imported \d+/);
    expect(orders.stderr).toMatch(/cli-tenant orders/);

    const badResource = await cli(['sync', 'cli-tenant', 'invoices', '--database-url', db.url]);
    expect(badResource.code).toBe(2);

    // --resources: several, in the registry's (dependency) order whatever order they are given in.
    const some = await cli(['sync', 'cli-tenant', '--resources', 'orders,customers', '--json', '--database-url', db.url]);
    expect(some.code).toBe(0);
    const someResult = JSON.parse(some.stdout.trim().split('\n').at(-1)!) as { ok: boolean; runs: Array<{ resource: string; status: string }> };
    expect(someResult.runs.map((r) => [r.resource, r.status])).toEqual([['customers', 'succeeded'], ['orders', 'succeeded']]);
    const carts = await cli(['sync', 'cli-tenant', '--resources', 'abandonedCheckouts,draftOrders', '--mode', 'full', '--json', '--database-url', db.url]);
    expect(carts.code).toBe(0);
    const cartRuns = (JSON.parse(carts.stdout.trim().split('\n').at(-1)!) as { runs: Array<{ resource: string; status: string; fetched: number }> }).runs;
    // The simulator's default shop: 6 draft orders, 8 abandoned checkouts.
    expect(cartRuns.map((r) => [r.resource, r.status, r.fetched])).toEqual([['draftOrders', 'succeeded', 6], ['abandonedCheckouts', 'succeeded', 8]]);
    expect((await cli(['sync', 'cli-tenant', '--resources', 'orders,invoices', '--database-url', db.url])).code).toBe(2);
    expect((await cli(['sync', 'cli-tenant', 'orders', '--resources', 'customers', '--database-url', db.url])).code).toBe(2);

    const unknownTenant = await cli(['sync', 'nobody', '--json', '--database-url', db.url]);
    expect(unknownTenant.code).toBe(1);
    expect(JSON.parse(unknownTenant.stdout)).toMatchObject({ ok: false, code: 'TENANT_NOT_FOUND' });

    const status = await cli(['status', '--json', '--database-url', db.url]);
    expect(status.code).toBe(0);
    const { ok: statusOk, tenants: entries } = JSON.parse(status.stdout) as { ok: boolean; tenants: Array<Record<string, unknown>> };
    expect(statusOk).toBe(true);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ tenantId: 'cli-tenant', shopDomain: SHOP, isActive: true, syncStatus: 'idle', stats: { customers: 20, products: 5, orders: 25 } });
    expect(typeof entries[0]!.lastSync).toBe('string');
  });

  it('sync of a resource another run is importing exits 5 (busy); --wait waits for that run', async () => {
    const store = createStore(db.database);
    const lock = { tenantId: 'cli-tenant', resource: 'orders' as const, runId: 'another-process' };
    expect(await store.acquireRunLock({ ...lock, now: new Date(), ttlMs: 60_000 })).toMatchObject({ acquired: true });
    try {
      const busy = await cli(['sync', 'cli-tenant', 'orders', '--json', '--database-url', db.url]);
      expect(busy.code).toBe(5);
      expect(JSON.parse(busy.stdout)).toMatchObject({ ok: false, code: 'IMPORT_ALREADY_RUNNING', error: expect.stringContaining('another-process') });
      // All three: customers and products run, orders is skipped; nothing else failed, so still 5.
      const all = await cli(['sync', 'cli-tenant', 'all', '--database-url', db.url]);
      expect(all.code).toBe(5);
      expect(all.stderr).toMatch(/1 resource\(s\) failed: orders sync of tenant cli-tenant is already running/);
      expect(await cli(['sync', 'cli-tenant', 'orders', '--wait', 'soon', '--database-url', db.url])).toMatchObject({ code: 2 });
      const released = new Promise((r) => setTimeout(r, 400)).then(() => store.releaseRunLock(lock));
      const waited = await cli(['sync', 'cli-tenant', 'orders', '--wait', '20', '--json', '--database-url', db.url]);
      await released;
      expect(waited.code).toBe(0);
      expect(JSON.parse(waited.stdout.trim().split('\n').at(-1)!)).toMatchObject({ type: 'result', ok: true, runs: [expect.objectContaining({ resource: 'orders', status: 'succeeded' })] });
    } finally {
      await store.releaseRunLock(lock);
    }
  });

  it('webhooks replay of an unknown delivery exits 1', async () => {
    const run = await cli(['webhooks', 'replay', 'no-such-delivery', '--database-url', db.url]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/cannot replay no-such-delivery: no such delivery/);
    const json = await cli(['webhooks', 'replay', 'no-such-delivery', '--json', '--database-url', db.url]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ ok: false, id: 'no-such-delivery', reason: 'not_found' });
  });

  it('tenants remove deactivates the tenant, --purge deletes its data', async () => {
    const remove = await cli(['tenants', 'remove', 'cli-tenant', '--database-url', db.url]);
    expect(remove.code).toBe(0);
    expect((await db.query(`SELECT is_active FROM shopify_tenants WHERE id = 'cli-tenant'`))[0]).toEqual({ is_active: false });
    expect((await db.query(`SELECT count(*)::int AS n FROM shopify_orders WHERE tenant_id = 'cli-tenant'`))[0]!.n).toBe(25);
    const purge = await cli(['tenants', 'remove', 'cli-tenant', '--purge', '--json', '--database-url', db.url]);
    expect(purge.code).toBe(0);
    expect(JSON.parse(purge.stdout)).toEqual({ ok: true, tenantId: 'cli-tenant' });
    expect((await db.query(`SELECT count(*)::int AS n FROM shopify_orders WHERE tenant_id = 'cli-tenant'`))[0]!.n).toBe(0);
  });

  it('the built bin runs as a child process: --help, usage errors and a real command', async () => {
    const help = await bin(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: shopify-ingest <command>');
    const unknown = await bin(['frobnicate'], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command: frobnicate');
    const list = await bin(['tenants', 'list', '--json'], { DATABASE_URL: db.url, ENCRYPTION_KEY, LOG_LEVEL: 'warn' });
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({ ok: true, tenants: [] });
  }, 90_000);

  it('simulator runs as a child process until SIGTERM, printing a url and tokens that work', async () => {
    const child = spawn(process.execPath, [path.join(root, 'dist/cli/index.js'), 'simulator', '--shops', '1', '--orders', '12', '--json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const firstLine = await new Promise<string>((resolve, reject) => {
        let buffered = '';
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          if (buffered.includes('\n')) resolve(buffered.split('\n')[0]!);
        });
        child.once('exit', (code) => reject(new Error(`simulator exited early (${code})`)));
      });
      const printed = JSON.parse(firstLine) as { url: string; shops: Array<{ domain: string; accessToken: string }> };
      const res = await fetch(`${printed.url}/admin/api/2025-10/orders/count.json?status=any`, { headers: { 'X-Shopify-Access-Token': printed.shops[0]!.accessToken } });
      expect(await res.json()).toEqual({ count: 12 });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it('demo: simulator + database + full sync + live webhooks, ending with a table that matches', async () => {
    const demoDb = await createTestDatabase({ prefix: 'si_cli_demo', migrate: false });
    try {
      const run = await cli(['demo', '--orders', '300'], { DATABASE_URL: demoDb.url, LOG_LEVEL: 'warn' });
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(run.stderr).not.toMatch(/"level":"error"/);
      expect(run.stdout).toContain('1. Full sync');
      expect(run.stdout).toContain('2. Live changes');
      expect(run.stdout).toContain('3. Does the database match the simulator?');
      const table = run.stdout.split('\n').filter((line) => /^(acme|globex)\s/.test(line));
      expect(table).toHaveLength(2);
      for (const line of table) expect(line).toMatch(/\syes\s*$/);
      expect(run.stdout).toMatch(/Webhooks: \d+ received, \d+ duplicates, \d+ processed, 0 failed attempts, 0 dead letters/);
      const orders = await demoDb.query(`SELECT tenant_id, count(*)::int AS n FROM shopify_orders WHERE deleted_at IS NULL GROUP BY 1 ORDER BY 1`);
      expect(orders.map((r) => r.tenant_id)).toEqual(['acme', 'globex']);
      expect(orders[0]!.n).toBeGreaterThanOrEqual(300);
    } finally {
      await demoDb.drop();
    }
  }, 120_000);

  it('demo on the embedded database (no DATABASE_URL), as `npm run demo` on a fresh clone', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'si-demo-'));
    try {
      const run = await cli(['demo', '--orders', '150', '--data-dir', path.join(dir, 'db')], { LOG_LEVEL: 'info' });
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(run.stderr).not.toMatch(/"level":"error"/);
      // The demo runs its syncs itself: scheduled syncs beside them failed its full sync on their run
      // locks whenever a demo crossed a scheduled minute (CI, 15:30).
      const initialized = run.stderr.split('\n').filter((line) => line.includes('"msg":"shopify-ingest initialized"')).map((line) => JSON.parse(line) as { scheduler?: unknown });
      expect(initialized).toEqual([expect.objectContaining({ scheduler: false })]);
      expect(run.stderr).not.toMatch(/"msg":"scheduled run/);
      expect(run.stdout).toContain('embedded PostgreSQL (PGlite)');
      const table = run.stdout.split('\n').filter((line) => /^(acme|globex)\s/.test(line));
      expect(table).toHaveLength(2);
      for (const line of table) expect(line).toMatch(/\syes\s*$/);
      expect(existsSync(path.join(dir, 'db'))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
