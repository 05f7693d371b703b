/**
 * Throwaway PostgreSQL databases for tests and benchmarks, without vitest: a benchmark's job process
 * imports this, not ./db.ts, so it holds what a host app holds (see bench/importer.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { migrate } from '../../src/store/migrate.js';
import { pooledPgAdapter } from '../../src/store/direct-pg.js';
import { createDatabaseHandle, type DatabaseHandle } from '../../src/store/database-handle.js';
import { testDatabaseConfig, testDatabaseUrl } from './pg-config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface TestDatabase {
  name: string;
  url: string;
  prisma: PrismaClient;
  /** The handle the SDK is given: Prisma plus the pool its batch writes stream to (unless `directWrites: false`). */
  database: DatabaseHandle;
  /** Runs SQL on a plain pg connection (outside Prisma), e.g. for assertions. */
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(testDatabaseConfig());
  await client.connect();
  try { return await fn(client); } finally { await client.end(); }
}

/** Applies prisma/migrations/*\/migration.sql in order (plain SQL, independent of the SDK's migrate()). */
export async function applyMigrationFiles(client: pg.Client): Promise<void> {
  const dir = path.join(root, 'prisma/migrations');
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const name of names) await client.query(await readFile(path.join(dir, name, 'migration.sql'), 'utf8'));
}

/**
 * A fresh PostgreSQL database for one test file: created empty, migrated with `migrate()` unless `migrate: false`, dropped by `drop()`.
 * Each test file gets its own, so files can run in parallel without seeing each other's rows.
 */
export async function createTestDatabase(options: { migrate?: boolean; prefix?: string; directWrites?: boolean } = {}): Promise<TestDatabase> {
  const name = `${options.prefix ?? 'si_test'}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const direct = new pg.Client(testDatabaseConfig(name));
  await direct.connect();
  const url = testDatabaseUrl(name);
  // Like createDatabase({ url }) with a handle: one pool for Prisma and the store's batch writes, unless
  // `directWrites: false` asks for the plain Prisma raw-query path (what a host client without a pool gets).
  // copyFromRows 1: every batch, however small, takes the COPY staging path, so the suites exercise it
  // fully (the JSON path has its own suite through Prisma; the threshold has its own test).
  const { adapter, pool } = pooledPgAdapter(url);
  const client = new PrismaClient({ adapter });
  const prisma = client;
  const database = createDatabaseHandle(client, { pool: options.directWrites === false ? null : pool, copyFromRows: 1 });
  // Through the SDK's migrate(), so the database records what it applied, as a host's would.
  if (options.migrate !== false) await migrate(prisma);
  return {
    name,
    url,
    prisma,
    database,
    async query(sql, params) { return (await direct.query(sql, params as unknown[])).rows; },
    async drop() {
      await prisma.$disconnect().catch(() => {});
      await direct.end().catch(() => {});
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
