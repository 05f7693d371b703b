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

describe('a REST sync killed mid-way and restarted', { timeout: 300_000 }, () => {
  it('ends with exactly the database a clean run produces (real child process, SIGKILL at random points)', async () => {
    await connectTenant(h, 'tenant-k');
    const random = seededRandom(Number(process.env.RESUME_SEED ?? Date.now() % 100_000));
    const kills: number[] = [];
    for (let i = 0; i < 4; i++) {
      const killAfter = 1 + Math.floor(random() * 20);
      const outcome = await runChild(killAfter);
      expect(outcome.stderr).not.toMatch(/Error/);
      if (outcome.killed) kills.push(killAfter);
      if (outcome.done) break;
      await new Promise((r) => setTimeout(r, LOCK_TTL_MS + 100));
    }
    expect(kills.length).toBeGreaterThanOrEqual(2);
    const resumable = await h.db.query(`SELECT resource, cursor FROM shopify_sync_checkpoints WHERE tenant_id = 'tenant-k' AND cursor IS NOT NULL`);
    const last = await runChild(undefined);
    expect(last.done).toBe(true);
    if (resumable.length > 0) expect(last.resumed).toBe(true);
    const runs = await h.db.query(`SELECT status FROM shopify_sync_runs WHERE tenant_id = 'tenant-k'`);
    expect(runs.filter((r) => r.status === 'running')).toEqual([]);

    // The clean run: same shop, same tenant id, a fresh database, one uninterrupted importAll.
    const cleanHarness = { ...h, db: clean };
    const { client } = await connectTenant(cleanHarness, 'tenant-k');
    await importer(cleanHarness, client, 'tenant-k', { defaults: { source: 'rest' } }).importAll();
    const killedImage = await databaseImage(h, 'tenant-k');
    const cleanImage = await databaseImage(cleanHarness, 'tenant-k');
    expect(killedImage.orders.length).toBe(500);
    expect(killedImage).toEqual(cleanImage);
  });
});
