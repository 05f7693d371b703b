/**
 * examples/nextjs, served by a real Next.js server (`next dev`, Turbopack) in a child process against
 * a fresh PostgreSQL database, fed by the simulator's signed webhooks over real HTTP.
 *
 * `next dev` compiles each route on its first request (a few seconds here), where `next build`
 * takes about two minutes on a 2-core machine. To test the production build instead, run
 * `next build` in examples/nextjs and set EXAMPLES_NEXT_MODE=start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestionService, silentLogger } from 'shopify-ingest';
import {
  INGEST_KEY, TENANT, changeShopAndAwaitWebhooks, expectBadHmacRefused, expectProtectedRoutes, expectRunningSyncConflict, syncAndExpectSeededRows,
  expectRowsChanged, freePort, root, startEnvironment, until, type Environment,
} from './harness.js';

const WEBHOOK_PATH = '/api/webhooks/shopify';
const mode = process.env.EXAMPLES_NEXT_MODE === 'start' ? 'start' : 'dev';

interface StatusBody {
  tenants: Array<{ tenantId: string; stats: { customers: number } }>;
  statistics: { webhookStats: { received: number; processed: number; pending: number } | null };
}

describe(`examples/nextjs (next ${mode})`, () => {
  let env: Environment;
  let next: ChildProcess;
  let baseUrl: string;
  let output = '';
  let exited: Promise<number | null>;

  const status = async (): Promise<StatusBody> => {
    const res = await fetch(`${baseUrl}/api/shopify/status`, { headers: { 'x-api-key': INGEST_KEY } });
    expect(res.status, await res.clone().text()).toBe(200);
    return await res.json() as StatusBody;
  };

  beforeAll(async () => {
    env = await startEnvironment();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const cwd = path.join(root, 'examples/nextjs');
    // Its own process group, so the server and the workers it forks stop together.
    next = spawn(process.execPath, [path.join(root, 'node_modules/next/dist/bin/next'), mode, '-p', String(port), '-H', '127.0.0.1'], {
      cwd,
      env: { ...process.env, ...env.env, NODE_ENV: mode === 'dev' ? 'development' : 'production', NEXT_TELEMETRY_DISABLED: '1', NEXT_MANUAL_SIG_HANDLE: 'true', SCHEDULER: 'off', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    next.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    next.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    exited = new Promise((resolve) => next.once('exit', (code) => resolve(code)));
    await until(async () => {
      if (next.exitCode !== null) throw new Error(`next ${mode} exited with ${next.exitCode}:\n${output}`);
      // The status route answers 401 without a key: the server is up and that route is compiled.
      return fetch(`${baseUrl}/api/shopify/status`).then((res) => res.status === 401, () => false);
    }, 45_000, `next ${mode} to listen`);
  }, 90_000);

  afterAll(async () => {
    if (next?.pid && next.exitCode === null) process.kill(-next.pid, 'SIGKILL');
    await env?.stop();
  }, 60_000);

  it('refuses a forged webhook (first request: compiles the route and initializes the service)', async () => {
    await expectBadHmacRefused(`${baseUrl}${WEBHOOK_PATH}`, env.shop.domain, env.db);
  }, 60_000);

  it('protects the sync and status routes with the Web auth guard', async () => {
    await expectProtectedRoutes(baseUrl, env.shop.domain);
  }, 60_000);

  it('syncs a tenant through the protected route, then applies the simulator\'s webhooks to the database', { timeout: 120_000 }, async () => {
    const { shop, simulator, db } = env;
    // The tenant is connected by another process (an admin script, say) sharing the database and
    // ENCRYPTION_KEY: the Next server restores its client from the tenant record on first use.
    const admin = createIngestionService(db.database, { env: env.env, logger: silentLogger, scheduler: { enabled: false }, webhooks: { enabled: false }, healthCheckIntervalMs: 0 });
    await admin.addTenant(TENANT, { shopDomain: shop.domain, accessToken: shop.accessToken }, { client: { baseUrl: simulator.url } });
    await admin.shutdown();

    const before = await syncAndExpectSeededRows(baseUrl, env);

    const ids = await changeShopAndAwaitWebhooks(env, `${baseUrl}${WEBHOOK_PATH}`, async () => {
      const stats = (await status()).statistics.webhookStats;
      return stats !== null && stats.pending === 0 && stats.processed >= simulator.webhooks.deliveries.length;
    });
    await expectRowsChanged(db, ids, before);

    const body = await status();
    expect(body.tenants).toEqual([expect.objectContaining({ tenantId: TENANT, stats: expect.objectContaining({ customers: 7 }) })]);
  });

  it('answers 409 while another run imports the resource', async () => {
    await expectRunningSyncConflict(baseUrl, env.db);
  }, 60_000);

  it('stops on SIGTERM', async () => {
    // As a platform stops it: the whole process group (next and its route workers) gets SIGTERM;
    // lib/ingestion.ts shuts the service down before the worker exits.
    process.kill(-next.pid!, 'SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000))]);
    expect(code, output).not.toBe('timeout');
    expect(output).toContain('"msg":"shopify-ingest stopped"');
    await expect(fetch(`${baseUrl}/api/shopify/status`)).rejects.toThrow();
  }, 30_000);
});
