import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// Plain .mjs on purpose: the same engine scripts/migration-create.mjs uses.
// @ts-expect-error -- untyped .mjs helper
import { emptyFilters, openSchemaEngine, schemaFiles } from '../../scripts/schema-engine.mjs';
import { migrate } from '../../src/store/index.js';
import { splitSqlStatements } from '../../src/store/sql-split.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { testDatabaseConfig } from '../helpers/pg-config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

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
 * Drift check: the database prisma/migrations build (applied by migrate()) must equal the one
 * prisma/schema.prisma describes (the schema engine's SQL from an empty database, applied directly).
 * Comparing the two databases' catalogs, rather than asking the schema engine to diff from the
 * migrations, avoids its shadow database, which adapter-pg 7.10 cannot host (it drops the shadow
 * database while still connected to it, and the WASM engine cannot read `"char"` catalog columns
 * through the adapter).
 */
describe('migration drift', () => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => { await Promise.all(dbs.map((d) => d.drop())); });

  it('prisma/migrations build exactly the schema prisma/schema.prisma describes', async () => {
    const { host, port, user, password, database } = testDatabaseConfig();
    const engine = await openSchemaEngine({ host, port, user, password, database });
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
});
