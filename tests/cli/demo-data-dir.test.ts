/**
 * The demo recreates its embedded database on every run. It may only delete a folder it created
 * itself (marked with DEMO_MARKER_FILE): `--data-dir` pointed at the user's real embedded
 * database, or at any other folder, used to be deleted recursively, unlocked and unasked.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EMBEDDED_LOCK_FILE } from '../../src/store/embedded-lock.js';
import { cli } from './helpers.js';
import { createTestDatabase } from '../helpers/test-database.js';

/** The file the demo writes into the folders it creates (src/cli/demo.ts). */
const DEMO_MARKER_FILE = '.shopify-ingest-demo';
const dirs: string[] = [];
async function scratch(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'si-demo-dir-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => { for (const dir of dirs) await rm(dir, { recursive: true, force: true }); });

describe('demo --data-dir', () => {
  it('refuses a non-empty folder it did not create (exit 2) and leaves it alone', async () => {
    const dir = path.join(await scratch(), 'db');
    await mkdir(dir);
    await writeFile(path.join(dir, 'important.txt'), 'the user\'s own file');
    const run = await cli(['demo', '--data-dir', dir, '--orders', '3'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/was not created by the demo/);
    expect(existsSync(path.join(dir, 'important.txt'))).toBe(true);
  }, 120_000);

  it('does not delete its own folder while another process has the database open', async () => {
    const dir = path.join(await scratch(), 'db');
    await mkdir(dir);
    await writeFile(path.join(dir, DEMO_MARKER_FILE), '');
    await writeFile(path.join(dir, 'PG_VERSION'), '17');
    // pid 1 is always alive: the folder is in use.
    await writeFile(path.join(dir, EMBEDDED_LOCK_FILE), '1\n');
    const run = await cli(['demo', '--data-dir', dir, '--orders', '3'], {});
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/in use by process 1/);
    expect(existsSync(path.join(dir, 'PG_VERSION'))).toBe(true);
  }, 120_000);

  it('creates a missing folder with its marker and recreates it on the next run; an exported DATABASE_URL does not replace --data-dir', async () => {
    const dir = path.join(await scratch(), 'nested', 'db');
    const db = await createTestDatabase({ prefix: 'si_cli_demo_dd', migrate: false });
    try {
      const first = await cli(['demo', '--data-dir', dir, '--orders', '3'], { LOG_LEVEL: 'warn', DATABASE_URL: db.url });
      expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
      expect(first.stdout).toContain(`embedded PostgreSQL (PGlite) in ${dir}`);
      expect(existsSync(path.join(dir, DEMO_MARKER_FILE))).toBe(true);
      expect((await db.query(`SELECT to_regclass('shopify_tenants')::text AS t`))[0]!.t).toBeNull();
      await writeFile(path.join(dir, 'left-over'), 'from the previous run');
      const second = await cli(['demo', '--data-dir', dir, '--orders', '3'], { LOG_LEVEL: 'warn' });
      expect(second.code, `${second.stdout}\n${second.stderr}`).toBe(0);
      expect(existsSync(path.join(dir, 'left-over'))).toBe(false);
      expect(existsSync(path.join(dir, DEMO_MARKER_FILE))).toBe(true);
    } finally {
      await db.drop();
    }
  }, 300_000);

  it('--data-dir with --database-url is a usage error', async () => {
    const run = await cli(['demo', '--data-dir', path.join(await scratch(), 'db'), '--database-url', 'postgresql://postgres@127.0.0.1:1/x'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--data-dir and --database-url/);
  });

  it('demo --help gives the demo\'s own default folder, not the real embedded database\'s', async () => {
    const help = (await cli(['demo', '--help'], {})).stdout;
    expect(help).not.toContain('./.shopify-ingest/db)');
    expect(help).toMatch(/--data-dir <dir> +.*default \.\/\.shopify-ingest\/demo-db.*recreated on every run/);
  });

  it('with DATABASE_URL, the psql hint does not repeat its password', async () => {
    const db = await createTestDatabase({ prefix: 'si_cli_demo_pw', migrate: false });
    try {
      const url = new URL(db.url);
      if (!url.password) url.password = 'hunter2-not-for-output'; // trust auth ignores it
      const run = await cli(['demo', '--orders', '3'], { DATABASE_URL: url.toString(), LOG_LEVEL: 'warn' });
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(/psql '?postgresql:\/\/[^:@\s]+@/);
      expect(run.stdout + run.stderr).not.toContain(decodeURIComponent(url.password));
      expect(run.stdout + run.stderr).not.toContain(url.password);
    } finally {
      await db.drop();
    }
  }, 120_000);
});
