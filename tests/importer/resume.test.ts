/**
 * The REST source killed with SIGKILL at random points and restarted ends with exactly the
 * database a clean run produces. Runs a fixed list of seeds plus one from the clock; each test's
 * name carries its seed: replay one with RESUME_SEED=<n>.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { connectTenant, createHarness, databaseImage, importer, seededRandom, type Harness } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
let h: Harness;
let clean: TestDatabase;
beforeAll(async () => {
  h = await createHarness({ shops: [{ customers: 150, products: 50, orders: 500 }] });
  clean = await createTestDatabase({ prefix: 'si_importer_clean' });
});
afterAll(async () => { await clean?.drop(); await h?.close(); });

/**
 * The children's run-lock TTL: a killed child's lock blocks the resource until it expires, so the
 * parent waits that long before the next start (a restart within it is refused with
 * IMPORT_ALREADY_RUNNING, which the importer's own tests cover).
 */
const LOCK_TTL_MS = 300;
/** 104 once drew kill points past the end of the run (the child finished before its second kill). */
const SEEDS = process.env.RESUME_SEED ? [Number(process.env.RESUME_SEED)] : [104, 7, Date.now() % 100_000];
/**
 * Kill points are drawn from 1..MAX_KILL_LINE progress lines. A run emits one line per committed
 * batch (more than 25 here: 150 customers, 50 products, 500 orders in batches of 25), so the first
 * KILLS runs are always killed before they finish, whatever the seed.
 */
const MAX_KILL_LINE = 6;
const KILLS = 3;

/** Starts the child sync; kills it with SIGKILL after `killAfter` progress lines (never, when undefined). */
function runChild(killAfter: number | undefined): Promise<{ killed: boolean; done: boolean; lines: number; resumed: boolean; stderr: string }> {
  const shop = h.sim.shops[0];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/sync-child.ts')], {
      cwd: root,
      env: { ...process.env, SYNC_DATABASE_URL: h.db.url, SYNC_SHOP: shop.domain, SYNC_TOKEN: shop.accessToken, SYNC_BASE_URL: shop.baseUrl, SYNC_TENANT: 'tenant-k', SYNC_KEY: h.encryptionKey, SYNC_LOCK_TTL: String(LOCK_TTL_MS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lines = 0, done = false, resumed = false, killed = false, buffer = '', stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        lines++;
        if (line.done === true && line.resumed !== undefined) { done = true; resumed = line.resumed; }
        if (killAfter !== undefined && lines >= killAfter && !killed) { killed = child.kill('SIGKILL'); }
      }
    });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('exit', () => resolve({ killed, done, lines, resumed, stderr }));
  });
}

describe('a REST sync killed mid-way and restarted', { timeout: 600_000 }, () => {
  let cleanImage: Record<string, unknown[]>;
  beforeAll(async () => {
    // The clean run: same shop, same tenant id, a fresh database, one uninterrupted importAll.
    const cleanHarness = { ...h, db: clean };
    const { client } = await connectTenant(cleanHarness, 'tenant-k');
    await importer(cleanHarness, client, 'tenant-k', { defaults: { source: 'rest' } }).importAll();
    cleanImage = await databaseImage(cleanHarness, 'tenant-k');
  });

  for (const seed of SEEDS) {
    it(`ends with exactly the database a clean run produces (seed ${seed}; replay with RESUME_SEED=${seed})`, async () => {
      await h.db.query('DELETE FROM shopify_tenants');
      await connectTenant(h, 'tenant-k');
      const random = seededRandom(seed);
      const kills: number[] = [];
      for (let i = 0; i < KILLS; i++) {
        const killAfter = 1 + Math.floor(random() * MAX_KILL_LINE);
        const outcome = await runChild(killAfter);
        expect(outcome.stderr, `seed ${seed}`).not.toMatch(/Error/);
        expect(outcome.killed, `seed ${seed}: run ${i} finished before its kill at line ${killAfter}`).toBe(true);
        kills.push(killAfter);
        await new Promise((r) => setTimeout(r, LOCK_TTL_MS + 100));
      }
      const resumable = await h.db.query(`SELECT resource, cursor FROM shopify_sync_checkpoints WHERE tenant_id = 'tenant-k' AND cursor IS NOT NULL`);
      const last = await runChild(undefined);
      expect(last.done, `seed ${seed}: ${last.stderr}`).toBe(true);
      if (resumable.length > 0) expect(last.resumed, `seed ${seed}`).toBe(true);
      const runs = await h.db.query(`SELECT status FROM shopify_sync_runs WHERE tenant_id = 'tenant-k'`);
      expect(runs.filter((r) => r.status === 'running'), `seed ${seed}`).toEqual([]);
      const killedImage = await databaseImage(h, 'tenant-k');
      expect(killedImage.orders.length).toBe(500);
      expect(killedImage, `seed ${seed}, kills after ${kills.join(', ')} lines`).toEqual(cleanImage);
    });
  }
});
