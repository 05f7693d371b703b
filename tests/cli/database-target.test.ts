/**
 * Which database the CLI opens, in which schema, and what it says about a database migrated by a
 * newer version: an explicit --data-dir used to be replaced by an exported DATABASE_URL, a URL's
 * ?schema= was ignored (the tables went to public), and an older CLI said "database is up to date".
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/store/database.js';
import { pooledPgAdapter } from '../../src/store/direct-pg.js';
import { migrate } from '../../src/store/migrate.js';
import { cli } from './helpers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const dbs: TestDatabase[] = [];
const dirs: string[] = [];
async function fresh(migrated = false): Promise<TestDatabase> {
  const db = await createTestDatabase({ prefix: 'si_cli_target', migrate: migrated });
  dbs.push(db);
  return db;
}
async function scratch(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'si-cli-target-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const db of dbs) await db.drop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const tablesIn = async (db: TestDatabase) => (await db.query<{ s: string }>(`SELECT DISTINCT table_schema AS s FROM information_schema.tables WHERE table_name = 'shopify_tenants'`)).map((r) => r.s);

describe('--data-dir and DATABASE_URL', () => {
  it('an explicit --data-dir wins over an exported DATABASE_URL: the embedded database is migrated, PostgreSQL is not touched', async () => {
    const db = await fresh();
    const dir = path.join(await scratch(), 'db');
    const run = await cli(['migrate', '--data-dir', dir], { DATABASE_URL: db.url });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(dir)).toBe(true);
    expect(await tablesIn(db)).toEqual([]);
  }, 60_000);

  it('an exported DATABASE_URL that is not even PostgreSQL does not stop --data-dir (the configuration check ignores it too)', async () => {
    const dir = path.join(await scratch(), 'db');
    const run = await cli(['migrate', '--data-dir', dir], { DATABASE_URL: 'mysql://root@127.0.0.1/app' });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(dir)).toBe(true);
  }, 60_000);

  it('--data-dir together with --database-url is a usage error (exit 2)', async () => {
    const run = await cli(['migrate', '--data-dir', path.join(await scratch(), 'db'), '--database-url', 'postgresql://postgres@127.0.0.1:1/x'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--data-dir and --database-url/);
  });
});

describe('a PostgreSQL schema other than public', () => {
  it('migrate --database-url <url>?schema=ingest is refused (CONFIG_INVALID, exit 3), nothing is created in public', async () => {
    const db = await fresh();
    const run = await cli(['migrate', '--database-url', `${db.url}?schema=ingest`, '--json'], {});
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, code: 'CONFIG_INVALID', error: expect.stringMatching(/schema=ingest.*public/) });
    expect(await tablesIn(db)).toEqual([]);
  });

  it('createDatabase and pooledPgAdapter refuse it too; ?schema=public is accepted', async () => {
    const db = await fresh();
    await expect(createDatabase({ url: `${db.url}?schema=ingest`, env: {} })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(() => pooledPgAdapter(`${db.url}?sslmode=disable&schema=Ingest`)).toThrow(/public/);
    const prisma = await createDatabase({ url: `${db.url}?schema=public`, env: {} });
    await prisma.$disconnect();
    expect(await tablesIn(db)).toEqual(['public']);
  }, 60_000);
});

describe('a database migrated by a newer version', () => {
  const future = `29990101000000_future_${randomBytes(2).toString('hex')}`;

  it('migrate() reports the migrations it does not know', async () => {
    const db = await fresh(true);
    await db.query(`INSERT INTO shopify_ingest_migrations (name, checksum) VALUES ($1, 'x')`, [future]);
    const result = await migrate(db.prisma);
    expect(result.unknown).toEqual([future]);
  });

  it('shopify-ingest migrate says the CLI is older than the database, on stderr and in --json', async () => {
    const db = await fresh(true);
    await db.query(`INSERT INTO shopify_ingest_migrations (name, checksum) VALUES ($1, 'x')`, [future]);
    const run = await cli(['migrate', '--database-url', db.url], {});
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(/up to date/);
    expect(run.stderr).toContain(future);
    expect(run.stderr).toMatch(/older than the database/);
    const json = await cli(['migrate', '--database-url', db.url, '--json'], {});
    expect(JSON.parse(json.stdout)).toMatchObject({ unknown: [future] });
  });
});

describe('LOG_LEVEL', () => {
  it('is case-insensitive, as the configuration check reads it: LOG_LEVEL=ERROR silences info lines', async () => {
    const env = { ENCRYPTION_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'ERROR' };
    const run = await cli(['status', '--data-dir', 'memory://'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
  }, 60_000);
});
