import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { migrate, MigrationError, readMigrationFiles, resolveMigrationsDir } from '../../src/store/index.js';
import { splitSqlStatements } from '../../src/store/sql-split.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const migrationsDir = path.join(root, 'prisma/migrations');

describe('splitSqlStatements', () => {
  it('splits on semicolons outside strings, identifiers, dollar quotes and comments', () => {
    const script = [
      '-- CreateTable; not a statement end',
      'CREATE TABLE "a;b" (x text DEFAULT \'it\'\'s; fine\');',
      '/* block; /* nested; */ still comment */',
      "INSERT INTO t VALUES (E'back\\'slash; here');",
      'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;',
      'DO $$ BEGIN PERFORM 1; END $$;',
      '-- trailing comment only',
    ].join('\n');
    const statements = splitSqlStatements(script);
    expect(statements).toHaveLength(4);
    expect(statements[0]).toBe('-- CreateTable; not a statement end\nCREATE TABLE "a;b" (x text DEFAULT \'it\'\'s; fine\')');
    expect(statements[1]).toMatch(/^\/\* block.*\*\/\nINSERT INTO t VALUES \(E'back\\'slash; here'\)$/s);
    expect(statements[2]).toBe('CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql');
    expect(statements[3]).toBe('DO $$ BEGIN PERFORM 1; END $$');
  });

  it('splits the shipped init migration into the statements PostgreSQL runs', async () => {
    const [init] = await readMigrationFiles(migrationsDir);
    const statements = splitSqlStatements(init.sql);
    expect(statements.length).toBeGreaterThan(20);
    expect(statements.every((s) => !s.trimEnd().endsWith(';'))).toBe(true);
    expect(statements.filter((s) => /CREATE TABLE/.test(s))).toHaveLength(12);
  });
});

describe('resolveMigrationsDir', () => {
  let tmp: string;
  beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'si-resolve-')); });
  afterAll(async () => { await rm(tmp, { recursive: true, force: true }); });

  it('finds prisma/migrations from src and from the built dist bundle', () => {
    expect(resolveMigrationsDir()).toBe(migrationsDir);
    expect(resolveMigrationsDir(undefined, pathToFileURL(path.join(root, 'dist/index.cjs')).href)).toBe(migrationsDir);
    expect(resolveMigrationsDir(undefined, pathToFileURL(path.join(root, 'dist/cli/index.js')).href)).toBe(migrationsDir);
  });

  it('finds them in an installed package, past a host package.json of another name', async () => {
    const pkg = path.join(tmp, 'app/node_modules/shopify-ingest');
    await mkdir(path.join(pkg, 'dist'), { recursive: true });
    await writeFile(path.join(tmp, 'app/package.json'), '{"name":"host-app"}');
    await writeFile(path.join(pkg, 'package.json'), '{"name":"shopify-ingest"}');
    expect(resolveMigrationsDir(undefined, pathToFileURL(path.join(pkg, 'dist/index.js')).href)).toBe(path.join(pkg, 'prisma/migrations'));
    expect(() => resolveMigrationsDir(undefined, pathToFileURL(path.join(tmp, 'app/index.js')).href)).toThrow(ConfigError);
    expect(resolveMigrationsDir(path.join(tmp, 'elsewhere'))).toBe(path.join(tmp, 'elsewhere'));
  });
});

describe('migrate() on PostgreSQL', () => {
  const dbs: TestDatabase[] = [];
  const clients: PrismaClient[] = [];
  let tmp: string;
  const fresh = async () => {
    const db = await createTestDatabase({ migrate: false, prefix: 'si_migrate' });
    dbs.push(db);
    return db;
  };
  const client = (url: string) => {
    const c = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
    clients.push(c);
    return c;
  };
  beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'si-migrations-')); });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.$disconnect().catch(() => {})));
    await Promise.all(dbs.map((d) => d.drop()));
    await rm(tmp, { recursive: true, force: true });
  });

  const copyMigrations = async (name: string) => {
    const dir = path.join(tmp, name);
    await cp(migrationsDir, dir, { recursive: true });
    return dir;
  };

  it('applies each migration once when several clients race on an empty database', async () => {
    const db = await fresh();
    const racers = [client(db.url), client(db.url), client(db.url)];
    const results = await Promise.all(racers.map((c) => migrate(c)));
    const all = await readMigrationFiles(migrationsDir);
    const names = all.map((m) => m.name);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(names);
    expect(results.filter((r) => names.every((n) => r.alreadyApplied.includes(n)))).toHaveLength(2);
    const recorded = await db.query('SELECT name, checksum, applied_at FROM shopify_ingest_migrations ORDER BY name');
    expect(recorded).toHaveLength(all.length);
    expect(recorded.map((r) => ({ name: r.name, checksum: r.checksum }))).toEqual(all.map((m) => ({ name: m.name, checksum: m.checksum })));
    for (const r of recorded) expect(r.checksum).toMatch(/^[0-9a-f]{64}$/);
    const tables = await db.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'shopify\\_%'`);
    // Every model of the schema is a table the migrations created, plus migrate()'s own shopify_ingest_migrations.
    const models = (await readFile(path.resolve(migrationsDir, '../schema.prisma'), 'utf8')).match(/@@map\("shopify_/g)!.length;
    expect(tables[0].n).toBe(models + 1);
    expect(await db.query(`SELECT to_regclass('_prisma_migrations') AS t`)).toEqual([{ t: null }]);
    expect(await migrate(racers[0])).toEqual({ applied: [], alreadyApplied: names, baselined: [] });
  });

  it('refuses a migration whose file changed after it was applied, but not a CRLF checkout', async () => {
    const db = await fresh();
    const c = client(db.url);
    await migrate(c);
    const dir = await copyMigrations('edited');
    const [init] = await readMigrationFiles(dir);
    const file = path.join(dir, init.name, 'migration.sql');
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace(/\n/g, '\r\n'));
    expect((await migrate(c, { migrationsDir: dir })).applied).toEqual([]);
    await writeFile(file, original + '\n-- edited\n');
    const error = await migrate(c, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error).toMatchObject({ code: 'MIGRATION_CHECKSUM_MISMATCH', details: { migration: init.name } });
  });

  it('applies a new migration later, and rolls back a failing one completely', async () => {
    const db = await fresh();
    const c = client(db.url);
    await migrate(c);
    const dir = await copyMigrations('more');
    await mkdir(path.join(dir, '29990101000000_extra'));
    await writeFile(path.join(dir, '29990101000000_extra/migration.sql'), 'CREATE TABLE "extra_a" (x int);\nINSERT INTO "extra_a" VALUES (1);\n');
    expect((await migrate(c, { migrationsDir: dir })).applied).toEqual(['29990101000000_extra']);
    expect(await db.query('SELECT x FROM extra_a')).toEqual([{ x: 1 }]);

    await mkdir(path.join(dir, '29990102000000_broken'));
    await writeFile(path.join(dir, '29990102000000_broken/migration.sql'), 'CREATE TABLE "extra_b" (x int);\nINSERT INTO "missing_table" VALUES (1);\n');
    const error = await migrate(c, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MIGRATION_FAILED', details: { migration: '29990102000000_broken' } });
    expect(await db.query(`SELECT to_regclass('extra_b') AS t`)).toEqual([{ t: null }]);
    const shipped = (await readMigrationFiles(migrationsDir)).length;
    expect((await db.query('SELECT name FROM shopify_ingest_migrations ORDER BY name')).map((r) => r.name)).toHaveLength(shipped + 1);
  });

  it('moves run locks out of shopify_scheduler_leases: the run_locks migration deletes the old lock rows and keeps the leases', async () => {
    const db = await fresh();
    const c = client(db.url);
    const shipped = await readMigrationFiles(migrationsDir);
    const runLocks = shipped.find((m) => m.name.endsWith('_run_locks'))!;
    const before = await copyMigrations('before-run-locks');
    await rm(path.join(before, runLocks.name), { recursive: true });
    await migrate(c, { migrationsDir: before });
    expect(await db.query(`SELECT to_regclass('shopify_run_locks') AS t`)).toEqual([{ t: null }]);
    // What the previous version stored: a run lock (job import/<resource>/<tenant>, run key "run") and a tick's lease.
    await db.query(`INSERT INTO shopify_scheduler_leases (job_id, run_key, holder, expires_at) VALUES
      ('import/orders/t1', 'run', 'run-1', now() + interval '30 seconds'), ('orders-sync-t1', '2030-01-01T00:30:00.000Z', 'web-1', now())`);
    expect((await migrate(c)).applied).toEqual([runLocks.name]);
    expect(await db.query('SELECT job_id, holder FROM shopify_scheduler_leases')).toEqual([{ job_id: 'orders-sync-t1', holder: 'web-1' }]);
    expect(await db.query('SELECT * FROM shopify_run_locks')).toEqual([]);
  });

  it("records, without re-running, migrations the host's prisma migrate deploy applied", async () => {
    const db = await fresh();
    const [init, ...later] = await readMigrationFiles(migrationsDir);
    await db.query(init.sql); // as `prisma migrate deploy` would: the SQL file, run as one script
    await db.query(`CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz,
      migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count int NOT NULL DEFAULT 0)`);
    await db.query(`INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('1', 'x', now(), $1, 1)`, [init.name]);
    // The first migration is recorded as the host's (baselined); the ones the host has not applied yet run.
    expect(await migrate(db.prisma)).toEqual({ applied: later.map((m) => m.name), alreadyApplied: [], baselined: [init.name] });
    expect(await db.query('SELECT name, baselined FROM shopify_ingest_migrations ORDER BY name')).toEqual([
      { name: init.name, baselined: true }, ...later.map((m) => ({ name: m.name, baselined: false })),
    ]);
  });
});
