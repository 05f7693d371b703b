/**
 * Ctrl-C on a real `shopify-ingest sync` child process (SIGINT, as a terminal sends it): the run is
 * recorded as cancelled, its lock is released before the process exits (not after the 30 s TTL),
 * the checkpoint is kept and the next sync resumes from it. A second Ctrl-C exits at once.
 * Also the progress events the child prints with --json: done/total from Shopify's count endpoint.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Writable } from 'node:stream';
import { handleSignals } from '../../src/cli/index.js';
import { randomBytes } from 'node:crypto';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { cli, ensureBuilt, spawnBin } from './helpers.js';

const SLOW = 'slow-store.myshopify.com';
// Their faults slow or hang REST listings of orders, so the syncs here use --source rest.
const STUCK = 'stuck-store.myshopify.com';
const ORDERS = 2500;
let db: TestDatabase;
let slow: ShopifySimulator;
let stuck: ShopifySimulator;
let env: Record<string, string>;

beforeAll(async () => {
  await ensureBuilt();
  db = await createTestDatabase({ prefix: 'si_cli_sigint' });
  // Listing pages answer after 150 ms (10 pages of 250): the run lasts long enough to be interrupted mid-way.
  slow = await createShopifySimulator({ seed: 3, unthrottled: true, shops: [{ domain: SLOW, customers: 5, products: 3, orders: ORDERS }], faults: { rates: { slow: 1 }, slowMs: 150, paths: /^orders\.json/ } });
  // Here the second page never comes back in time: only a forced exit ends the run quickly.
  stuck = await createShopifySimulator({ seed: 4, unthrottled: true, shops: [{ domain: STUCK, customers: 5, products: 3, orders: ORDERS }], faults: { script: ['none', 'slow'], slowMs: 60_000, paths: /^orders\.json/ } });
  env = { ENCRYPTION_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent', DATABASE_URL: db.url };
  for (const [id, sim, domain] of [['slow', slow, SLOW], ['stuck', stuck, STUCK]] as const) {
    const add = await cli(['tenants', 'add', id, '--shop', domain, '--token', sim.shops[0]!.accessToken, '--base-url', sim.url], env);
    expect(add.code, add.stderr).toBe(0);
  }
}, 300_000);

afterAll(async () => {
  await slow?.stop();
  await stuck?.stop();
  await db?.drop();
});

interface Collected { lines: Array<Record<string, unknown>>; stderr: () => string; exit: Promise<number | null> }

function collect(child: ChildProcessWithoutNullStreams, onLine: (line: Record<string, unknown>) => void = () => {}): Collected {
  const lines: Array<Record<string, unknown>> = [];
  let buffered = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>;
      buffered = buffered.slice(newline + 1);
      lines.push(line);
      onLine(line);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  return { lines, stderr: () => stderr, exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
}

const lockRows = (tenantId: string) => db.query(`SELECT run_id FROM shopify_run_locks WHERE tenant_id = $1 AND resource = 'orders'`, [tenantId]);

describe('Ctrl-C', () => {
  it('first Ctrl-C: run recorded cancelled, lock released before exit, checkpoint kept, next sync resumes', async () => {
    const child = spawnBin(['sync', 'slow', 'orders', '--json', '--batch-size', '50', '--source', 'rest'], env);
    let signalled = false;
    const run = collect(child, (line) => {
      // Interrupt once a few batches are committed and the total is known.
      if (!signalled && line.type === 'progress' && Number(line.done) >= 500 && line.total !== undefined) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    try {
      const code = await run.exit;
      expect(code).toBe(130);
      expect(signalled).toBe(true);
      expect(run.stderr()).toMatch(/Ctrl-C: stopping after the current batch; the run is recorded as cancelled/);

      const progress = run.lines.filter((l) => l.type === 'progress');
      expect(progress.some((l) => l.total === ORDERS)).toBe(true);
      const result = run.lines.at(-1)!;
      expect(result).toMatchObject({ type: 'result', ok: false, interrupted: true });
      const [cancelled] = result.runs as Array<{ runId: string; status: string; fetched: number }>;
      expect(cancelled).toMatchObject({ status: 'cancelled' });
      expect(cancelled!.fetched).toBeLessThan(ORDERS);

      // Recorded, unlocked, resumable: checked right after exit, long before the lock's 30 s TTL.
      expect(await db.query(`SELECT status FROM shopify_sync_runs WHERE id = $1`, [cancelled!.runId])).toEqual([{ status: 'cancelled' }]);
      expect(await lockRows('slow')).toEqual([]);
      const [checkpoint] = await db.query(`SELECT cursor FROM shopify_sync_checkpoints WHERE tenant_id = 'slow' AND resource = 'orders'`);
      expect(checkpoint!.cursor).not.toBeNull();

      const resumed = await cli(['sync', 'slow', 'orders', '--json', '--source', 'rest'], env);
      expect(resumed.code, resumed.stderr).toBe(0);
      const final = JSON.parse(resumed.stdout.trim().split('\n').at(-1)!) as { runs: Array<{ resumed: boolean; status: string; fetched: number }> };
      expect(final.runs[0]).toMatchObject({ status: 'succeeded', resumed: true });
      expect(final.runs[0]!.fetched).toBeLessThan(ORDERS);
      expect(await db.query(`SELECT count(*)::int AS n FROM shopify_orders WHERE tenant_id = 'slow'`)).toEqual([{ n: ORDERS }]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);

  it('Ctrl-C aborts even a request that hangs: the run ends as cancelled long before the page answers', async () => {
    const child = spawnBin(['sync', 'stuck', 'orders', '--json', '--source', 'rest'], env);
    let signalled = false;
    const run = collect(child, (line) => {
      if (!signalled && line.type === 'progress') {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    try {
      const started = Date.now();
      const code = await run.exit;
      expect(code).toBe(130);
      // The hanging page answers after 60 s; exiting well before proves the request was aborted.
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(run.stderr()).toMatch(/Ctrl-C: stopping after the current batch/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);

  it('a second Ctrl-C exits at once, whatever the first one is waiting for', () => {
    const controller = new AbortController();
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
    const exit = vi.spyOn(process, 'exit').mockImplementation(((code?: number) => { throw new Error(`exit ${code}`); }) as never);
    const uninstall = handleSignals(controller, stream);
    try {
      process.emit('SIGINT', 'SIGINT');
      expect(controller.signal.aborted).toBe(true);
      expect(exit).not.toHaveBeenCalled();
      expect(() => process.emit('SIGINT', 'SIGINT')).toThrow('exit 130');
      expect(lines.join('')).toMatch(/Ctrl-C: stopping after the current batch[\s\S]*SIGINT again: exiting now/);
    } finally {
      uninstall();
      exit.mockRestore();
    }
  });
});
