import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Plain .mjs on purpose: the same engine and code `npm run migration:create` runs.
// @ts-expect-error -- untyped .mjs helper
import { emptyFilters, migrationList, openSchemaEngine, schemaFiles } from '../../scripts/schema-engine.mjs';
// @ts-expect-error -- untyped .mjs helper
import { createMigration } from '../../scripts/migration-create.mjs';
import { migrate } from '../../src/store/index.js';
import { splitSqlStatements } from '../../src/store/sql-split.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { testDatabaseConfig } from '../helpers/pg-config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface SchemaFile { path: string; content: string }
interface DiffResult { exitCode: number; stdout: string }
interface SchemaEngine { diff(params: unknown): Promise<DiffResult> }

/** Adds a nullable `drift_probe` column to shopify_tenants: a schema change no migration has. */
function withProbeColumn(schema: string): string {
  const changed = schema.replace(/(model ShopifyTenant \{\n)/, '$1  driftProbe Int? @map("drift_probe")\n');
  expect(changed).not.toBe(schema);
  return changed;
}

/** SQL statements without comments and with whitespace collapsed, to compare with expectations. */
function statementsOf(sql: string): string[] {
  return splitSqlStatements(sql).map((s) => s.replace(/^--.*$/gm, '').replace(/\s+/g, ' ').trim());
}

/**
 * Everything about the shopify_* tables that a migration can get wrong: columns with types,
 * nullability and defaults; indexes; constraints (keys, uniques, foreign keys with their actions).
 */
async function describeSchema(db: TestDatabase): Promise<Record<string, unknown[]>> {
  const columns = await db.query(`SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default,
      character_maximum_length, numeric_precision, numeric_scale, datetime_precision
    FROM information_schema.columns WHERE table_schema = 'public' AND table_name LIKE 'shopify\\_%' AND table_name <> 'shopify_ingest_migrations'
    ORDER BY table_name, column_name`);
  const indexes = await db.query(`SELECT tablename, indexname, indexdef FROM pg_indexes
    WHERE schemaname = 'public' AND tablename LIKE 'shopify\\_%' AND tablename <> 'shopify_ingest_migrations' ORDER BY indexname`);
  const constraints = await db.query(`SELECT c.conrelid::regclass::text AS table_name, c.conname, pg_get_constraintdef(c.oid) AS def
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE n.nspname = 'public' AND c.conrelid::regclass::text LIKE 'shopify\\_%' AND c.conrelid::regclass::text <> 'shopify_ingest_migrations'
    ORDER BY 1, 2`);
  return { columns, indexes, constraints };
}

/**
 * Drift check: the schema engine replays prisma/migrations in a shadow database and diffs it with
 * prisma/schema.prisma (what `npm run migration:create` does); the diff must be empty. Separately,
 * the SDK's own migrate() must build the same catalog as the schema engine's SQL for the schema,
 * which also covers migrate()'s statement splitting.
 */
describe('migration drift', () => {
  // Shadow databases of this file get their own prefix, so the test can see that none is left behind.
  const shadowPrefix = `si_drift_shadow_${randomBytes(3).toString('hex')}_`;
  const dbs: TestDatabase[] = [];
  const tempRoots: string[] = [];
  let engine: SchemaEngine;

  async function leftoverShadowDatabases(): Promise<string[]> {
    const client = new pg.Client(testDatabaseConfig());
    await client.connect();
    try {
      const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [shadowPrefix]);
      return rows.map((r) => r.datname);
    } finally {
      await client.end();
    }
  }

  async function diffFromMigrations(files: SchemaFile[]): Promise<DiffResult> {
    return engine.diff({
      from: { tag: 'migrations', ...(await migrationList(root)) },
      to: { tag: 'schemaDatamodel', files },
      script: true,
      exitCode: true,
      filters: emptyFilters,
    });
  }

  async function tempCopyOfPrisma(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'si-migration-create-'));
    tempRoots.push(dir);
    await cp(path.join(root, 'prisma'), path.join(dir, 'prisma'), { recursive: true });
    return dir;
  }

  beforeAll(async () => {
    engine = await openSchemaEngine({ ...testDatabaseConfig(), shadowPrefix });
  });
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.drop()));
    await Promise.all(tempRoots.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('prisma/migrations replay to exactly prisma/schema.prisma (schema engine diff is empty)', async () => {
    const result = await diffFromMigrations(await schemaFiles(root));
    expect(result.stdout).toMatch(/^-- This is an empty migration\.\s*$/);
    expect(result.exitCode).toBe(0);
    // The shadow database is dropped once the diff is done.
    expect(await leftoverShadowDatabases()).toEqual([]);
  }, 120_000);

  it('reports a column that schema.prisma has and the migrations lack', async () => {
    const [file] = (await schemaFiles(root)) as SchemaFile[];
    const result = await diffFromMigrations([{ ...file, content: withProbeColumn(file.content) }]);
    expect(result.exitCode).toBe(2);
    expect(statementsOf(result.stdout)).toEqual(['ALTER TABLE "shopify_tenants" ADD COLUMN "drift_probe" INTEGER']);
    expect(await leftoverShadowDatabases()).toEqual([]);
  }, 120_000);

  it('migrate() builds the same catalog as the schema engine SQL for prisma/schema.prisma', async () => {
    const expected = await engine.diff({
      from: { tag: 'empty' },
      to: { tag: 'schemaDatamodel', files: await schemaFiles(root) },
      script: true,
      exitCode: false,
      filters: emptyFilters,
    });
    expect(expected.stdout).toMatch(/CREATE TABLE "shopify_customers"/);

    const fromMigrations = await createTestDatabase({ migrate: false, prefix: 'si_drift' });
    const fromSchema = await createTestDatabase({ migrate: false, prefix: 'si_drift' });
    dbs.push(fromMigrations, fromSchema);
    await migrate(fromMigrations.prisma);
    for (const statement of splitSqlStatements(expected.stdout)) await fromSchema.query(statement);

    const actual = await describeSchema(fromMigrations);
    const wanted = await describeSchema(fromSchema);
    expect(actual.columns.length).toBeGreaterThan(100);
    expect(actual).toEqual(wanted);
  }, 120_000);

  it('migration:create writes only the SQL from the existing migrations to the schema', async () => {
    const copy = await tempCopyOfPrisma();
    const migrationsDir = path.join(copy, 'prisma/migrations');
    const before = (await readdir(migrationsDir)).sort();
    const now = new Date('2099-01-02T03:04:05Z');

    expect(await createMigration({ root: copy, name: 'unchanged', engine, now })).toBeNull();
    expect((await readdir(migrationsDir)).sort()).toEqual(before);

    const schemaPath = path.join(copy, 'prisma/schema.prisma');
    await writeFile(schemaPath, withProbeColumn(await readFile(schemaPath, 'utf8')));
    const created = await createMigration({ root: copy, name: 'add probe', engine, now });
    expect(created).toBe(path.join('prisma/migrations', '20990102030405_add_probe'));
    expect((await readdir(migrationsDir)).sort()).toEqual([...before, '20990102030405_add_probe'].sort());
    const sql = await readFile(path.join(copy, created, 'migration.sql'), 'utf8');
    expect(statementsOf(sql)).toEqual(['ALTER TABLE "shopify_tenants" ADD COLUMN "drift_probe" INTEGER']);

    // With the new migration in place, the copy's migrations and schema agree again.
    expect(await createMigration({ root: copy, name: 'again', engine, now: new Date('2099-01-03T00:00:00Z') })).toBeNull();
    expect((await readdir(migrationsDir)).sort()).toEqual([...before, '20990102030405_add_probe'].sort());
    expect(await leftoverShadowDatabases()).toEqual([]);
  }, 120_000);
});
