/**
 * The first hour of a new user, as they live it: a fresh clone of this repository's HEAD, `npm ci`,
 * `npm pack` (which must build), a new app that installs the tarball from the registry's point of
 * view (no workspace links), every entry point imported from ESM and CJS, the bin's `--version`
 * and `demo`, the README's quick start (examples/quick-start) generated, type-checked and run
 * against the simulator, and the package's types checked by @arethetypeswrong/cli (node10,
 * node16, bundler). Then `npm run build` alone on the clone.
 *
 * Slow (a few minutes: real installs). `SHOPIFY_INGEST_SKIP_FRESH_INSTALL=1` skips it; CI runs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const skip = process.env.SHOPIFY_INGEST_SKIP_FRESH_INSTALL === '1';
const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;

/** The environment of a user's shell: no npm_* variables inherited from `npm test`, no CI test settings. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^npm_/i.test(key) || key.startsWith('VITEST') || key === 'NODE_OPTIONS' || key === 'DATABASE_URL' || key === 'ENCRYPTION_KEY') continue;
    env[key] = value;
  }
  return { ...env, NO_UPDATE_NOTIFIER: '1', CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1', ...extra } as unknown as NodeJS.ProcessEnv;
}

interface Ran { code: number; stdout: string; stderr: string; seconds: number }

function run(command: string, args: string[], cwd: string, options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Ran> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: userEnv(options.env), timeout: options.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      console.log(`[fresh-install] ${command} ${args.join(' ')} (in ${path.basename(cwd)}): exit ${code}, ${seconds} s`);
      resolve({ code, stdout, stderr, seconds });
    });
  });
}

function expectOk(result: Ran, what: string): void {
  expect(result.code, `${what} failed:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`).toBe(0);
}

/** npm's warnings about engines and peers (the ones a user would see on install). */
function installWarnings(output: string): string[] {
  return output.split('\n').filter((line) => /npm warn/i.test(line) && /EBADENGINE|ERESOLVE|peer|engine|deprecated/i.test(line));
}

let work: string;
let clone: string;
let tarball: string;
let db: TestDatabase | undefined;

describe.skipIf(skip)('a new user, from a fresh clone to a running app', () => {
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'si-fresh-'));
    clone = path.join(work, 'clone');
  });

  afterAll(async () => {
    await db?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('clone → npm ci → npm pack ships dist/ (prepack builds)', async () => {
    expectOk(await run('git', ['clone', '--quiet', '--no-hardlinks', root, clone], work), 'git clone');
    expect(existsSync(path.join(clone, 'dist'))).toBe(false);
    // As .ci/run: the registry this machine reaches mirrors only some optional platform packages.
    const ci = await run('npm', ['ci', '--no-audit', '--no-fund'], clone);
    if (ci.code !== 0) expectOk(await run('npm', ['install', '--no-audit', '--no-fund'], clone), 'npm install');
    const pack = await run('npm', ['pack', '--pack-destination', work], clone);
    expectOk(pack, 'npm pack');
    tarball = path.join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
    const listing = await run('tar', ['-tzf', tarball], work);
    for (const file of ['package/dist/index.js', 'package/dist/index.cjs', 'package/dist/index.d.ts', 'package/dist/index.d.cts', 'package/dist/cli/index.js', 'package/dist/bulk-worker.js', 'package/dist/bulk-worker.cjs', 'package/dist/adapters/express.js', 'package/dist/testing/index.cjs', 'package/prisma/schema.prisma']) {
      expect(listing.stdout, file).toContain(file);
    }
    expect(listing.stdout).toMatch(/package\/prisma\/migrations\/\d+_init\/migration\.sql/);
  }, 900_000);

  it('the tarball installs into a new app with no engine or peer warnings; one @prisma/client', async () => {
    const app = path.join(work, 'app');
    await mkdir(app);
    await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'new-app', version: '1.0.0', private: true, type: 'module' }, null, 2));
    const install = await run('npm', ['install', '--no-audit', '--no-fund', tarball], app);
    expectOk(install, 'npm install <tarball>');
    expect(installWarnings(`${install.stdout}\n${install.stderr}`)).toEqual([]);
    const pkg = JSON.parse(await readFile(path.join(app, 'node_modules/shopify-ingest/package.json'), 'utf8')) as { peerDependencies: Record<string, string>; dependencies: Record<string, string> };
    expect(Object.keys(pkg.peerDependencies)).toEqual(expect.arrayContaining(['@prisma/client', '@prisma/adapter-pg', 'pg']));
    expect(pkg.dependencies).not.toHaveProperty('@prisma/client');
    expect(pkg.dependencies).not.toHaveProperty('tslib');
    // The required peers came with it; the optional framework peers did not.
    for (const name of ['@prisma/client', '@prisma/adapter-pg', 'pg']) expect(existsSync(path.join(app, 'node_modules', name)), name).toBe(true);
    for (const name of ['express', 'fastify', 'next']) expect(existsSync(path.join(app, 'node_modules', name)), name).toBe(false);
    expect(existsSync(path.join(app, 'node_modules/shopify-ingest/node_modules/@prisma/client'))).toBe(false);
  }, 600_000);

  it('every entry point imports from ESM and from CJS', async () => {
    const app = path.join(work, 'app');
    const entries: Record<string, string[]> = {
      'shopify-ingest': ['createIngestionService', 'createShopifyClient', 'ShopifyIngestError', 'EncryptionKeyMismatchError', 'DatabaseSetupError'],
      'shopify-ingest/prisma': ['PrismaClient', 'createDatabase'],
      'shopify-ingest/express': ['shopifyWebhooks', 'captureRawBody'],
      'shopify-ingest/fastify': ['shopifyWebhooksPlugin'],
      'shopify-ingest/next': ['createNextWebhookHandler', 'createNextPagesWebhookHandler'],
      'shopify-ingest/testing': ['createShopifySimulator'],
    };
    await writeFile(path.join(app, 'check.mjs'), `const entries = ${JSON.stringify(entries)};
for (const [name, exports] of Object.entries(entries)) {
  const m = await import(name);
  for (const e of exports) if (typeof m[e] === 'undefined') throw new Error(name + ' (ESM) lacks ' + e);
}
console.log('esm ok');
`);
    await writeFile(path.join(app, 'check.cjs'), `const entries = ${JSON.stringify(entries)};
for (const [name, exports] of Object.entries(entries)) {
  const m = require(name);
  for (const e of exports) if (typeof m[e] === 'undefined') throw new Error(name + ' (CJS) lacks ' + e);
}
console.log('cjs ok');
`);
    const esm = await run(process.execPath, ['check.mjs'], app);
    expectOk(esm, 'ESM imports');
    expect(esm.stdout).toBe('esm ok\n');
    const cjs = await run(process.execPath, ['check.cjs'], app);
    expectOk(cjs, 'CJS requires');
    expect(cjs.stdout).toBe('cjs ok\n');
  }, 120_000);

  it('npx shopify-ingest --version, --help and demo work from the installed package, without Express', async () => {
    const app = path.join(work, 'app');
    const versionRun = await run('npx', ['--no-install', 'shopify-ingest', '--version'], app);
    expectOk(versionRun, '--version');
    expect(versionRun.stdout).toBe(`${version}\n`);
    expectOk(await run('npx', ['--no-install', 'shopify-ingest', 'sync', '--help'], app), 'sync --help');
    const demo = await run('npx', ['--no-install', 'shopify-ingest', 'demo', '--orders', '120'], app, { env: { LOG_LEVEL: 'warn' }, timeoutMs: 300_000 });
    expectOk(demo, 'demo');
    expect(demo.stdout).toContain('(node:http)');
    const table = demo.stdout.split('\n').filter((line) => /^(acme|globex)\s/.test(line));
    expect(table).toHaveLength(2);
    for (const line of table) expect(line).toMatch(/\syes\s*$/);
    // A short summary: no build output, no per-batch noise.
    expect(demo.stdout.split('\n').length).toBeLessThan(40);
  }, 400_000);

  it('the quick start (examples/quick-start) installs, generates with Prisma 7, type-checks and syncs the simulator', async () => {
    const qs = path.join(work, 'quick-start');
    await cp(path.join(clone, 'examples/quick-start'), qs, { recursive: true });
    const manifestPath = path.join(qs, 'package.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { dependencies: Record<string, string> };
    manifest.dependencies['shopify-ingest'] = `file:${tarball}`;
    await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
    const install = await run('npm', ['install', '--no-audit', '--no-fund'], qs);
    expectOk(install, 'quick-start npm install');
    // No peer conflicts around shopify-ingest. (The prisma CLI itself pulls @prisma/streams-local,
    // whose engines field asks for Node 22: npm warns about that on Node 20, whatever the app.)
    expect(`${install.stdout}\n${install.stderr}`).not.toMatch(/ERESOLVE|conflicting peer|shopify-ingest/i);

    // The shipped models are the package's: the copy in the example has not drifted.
    const shipped = await readFile(path.join(qs, 'node_modules/shopify-ingest/prisma/schema.prisma'), 'utf8');
    const copied = await readFile(path.join(qs, 'prisma/shopify.prisma'), 'utf8');
    const models = (text: string) => text.slice(text.indexOf('/// One Shopify store connected'));
    expect(models(copied)).toBe(models(shipped));

    // Offline here: Prisma's CLI would download a schema engine it does not use for generate.
    const generate = await run('npx', ['--no-install', 'prisma', 'generate'], qs, { env: { PRISMA_SCHEMA_ENGINE_BINARY: process.execPath } });
    expectOk(generate, 'prisma generate');
    expect(existsSync(path.join(qs, 'src/generated/prisma/client.ts'))).toBe(true);
    expectOk(await run('npx', ['--no-install', 'tsc', '--noEmit'], qs), 'tsc --noEmit');

    db = await createTestDatabase({ prefix: 'si_quick_start', migrate: false });
    const child = spawn('npx', ['--no-install', 'tsx', 'src/server.ts'], {
      cwd: qs,
      env: userEnv({
        DATABASE_URL: db.url, ENCRYPTION_KEY: randomBytes(32).toString('hex'), INGEST_API_KEYS: 'qs-key',
        SHOPIFY_API_SECRET: 'qs-secret', SHOPIFY_SIMULATOR: '1', PORT: '0', LOG_LEVEL: 'warn',
      }),
    });
    let output = '';
    try {
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`quick start did not listen:\n${output}`)), 120_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString('utf8');
          const match = /listening on (http:\/\/\S+)/.exec(output);
          if (match) { clearTimeout(timer); resolve(match[1]!); }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`quick start exited ${code}:\n${output}`)); });
      });
      const headers = { 'x-api-key': 'qs-key', 'content-type': 'application/json' };
      expect((await fetch(`${base}/api/shopify/sync/tenant-123`, { method: 'POST' })).status).toBe(401);
      const sync = await fetch(`${base}/api/shopify/sync/tenant-123`, { method: 'POST', headers, body: JSON.stringify({ dataType: 'orders' }) });
      const body = await sync.json() as { success: boolean; result: { status: string; imported: number } };
      expect(sync.status, JSON.stringify(body)).toBe(200);
      expect(body).toMatchObject({ success: true, result: { status: 'succeeded', imported: 200 } });
      const orders = await (await fetch(`${base}/api/shopify/orders/tenant-123`, { headers })).json() as { orders: Array<{ id: string; lineItems: unknown[] }> };
      expect(orders.orders).toHaveLength(20);
      expect(typeof orders.orders[0]!.id).toBe('string');
      // The sample route handles errors: a typed error becomes a JSON answer with its code.
      const unknown = await fetch(`${base}/api/shopify/sync/nobody`, { method: 'POST', headers, body: '{}' });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ success: false, code: 'TENANT_NOT_FOUND' });
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => { if (child.exitCode !== null) resolve(null); else child.once('exit', resolve); });
    }
  }, 900_000);

  it('the types resolve under node10, node16 (CJS and ESM) and bundler (@arethetypeswrong/cli)', async () => {
    const attw = await run(process.execPath, [path.join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball, '--format', 'json'], work);
    const report = JSON.parse(attw.stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName?: string } }> }> } };
    expect(report.analysis.problems).toEqual([]);
    for (const entry of ['.', './prisma', './express', './fastify', './next', './testing']) {
      const resolutions = report.analysis.entrypoints[entry]!.resolutions;
      for (const kind of ['node10', 'node16-cjs', 'node16-esm', 'bundler']) {
        expect(resolutions[kind]?.resolution?.fileName, `${entry} ${kind}`).toMatch(/\.d\.c?ts$/);
      }
    }
  }, 120_000);

  it('npm run build alone works on the clone (the Prisma client is generated first)', async () => {
    await rm(path.join(clone, 'dist'), { recursive: true, force: true });
    await rm(path.join(clone, 'src/generated'), { recursive: true, force: true });
    expectOk(await run('npm', ['run', 'build'], clone), 'npm run build');
    expect(existsSync(path.join(clone, 'dist/index.js'))).toBe(true);
    expect(existsSync(path.join(clone, 'src/generated/prisma/client.ts'))).toBe(true);
  }, 600_000);
});
