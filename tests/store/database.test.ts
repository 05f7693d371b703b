import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createDatabase, createDatabaseHandle, createStore, migrate, resolveDatabaseTarget } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { customer } from './rows.js';
import { readMigrationFiles } from '../../src/store/migration-files.js';

describe('resolveDatabaseTarget', () => {
  it('uses PostgreSQL for a postgres URL or DATABASE_URL, else the embedded folder', () => {
    expect(resolveDatabaseTarget({ url: 'postgresql://u@h/db', env: {} })).toEqual({ kind: 'postgres', url: 'postgresql://u@h/db' });
    expect(resolveDatabaseTarget({ env: { DATABASE_URL: 'postgres://u@h/db' } })).toEqual({ kind: 'postgres', url: 'postgres://u@h/db' });
    expect(resolveDatabaseTarget({ env: {} })).toEqual({ kind: 'embedded', dataDir: path.resolve('.shopify-ingest/db') });
    expect(resolveDatabaseTarget({ env: { DATABASE_URL: '  ' } })).toEqual({ kind: 'embedded', dataDir: path.resolve('.shopify-ingest/db') });
    expect(resolveDatabaseTarget({ dataDir: 'memory://', env: {} })).toEqual({ kind: 'embedded', dataDir: 'memory://' });
    expect(() => resolveDatabaseTarget({ url: 'mysql://u@h/db', env: {} })).toThrow(ConfigError);
  });

  it('a DATABASE_URL of another kind is a configuration error naming the variable, never a silent fallback to the embedded database', () => {
    for (const url of ['mysql://root:hunter2@db/x', 'file:./dev.db', 'sqlserver://h']) {
      let thrown: unknown;
      try { resolveDatabaseTarget({ env: { DATABASE_URL: url } }); } catch (error) { thrown = error; }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as Error).message).toMatch(/^\[shopify-ingest\] DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//);
      expect((thrown as Error).message).not.toContain('hunter2');
    }
  });
});

describe('createDatabase', () => {
  let tmp: string;
  let pg: TestDatabase;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'si-db-'));
    pg = await createTestDatabase({ migrate: false, prefix: 'si_createdb' });
  });
  afterAll(async () => {
    await pg?.drop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('opens PostgreSQL from a URL, migrated and ready for the store', async () => {
    const prisma = await createDatabase({ url: pg.url });
    try {
      const store = createStore(prisma);
      await store.upsertTenant({ id: 't', shopDomain: 't.myshopify.com', accessTokenEnc: 'x' });
      expect(await store.upsertCustomers('t', [customer('t', 1n)])).toEqual({ written: 1, stale: 0 });
      expect(await pg.query('SELECT count(*)::int AS n FROM shopify_ingest_migrations')).toEqual([{ n: (await readMigrationFiles(path.resolve(import.meta.dirname, '../../prisma/migrations'))).length }]);
    } finally {
      await prisma.$disconnect();
    }
  });

  it('persists the embedded database in its folder across opens', async () => {
    const dataDir = path.join(tmp, 'nested/db');
    const first = await createDatabase({ dataDir, env: {} });
    expect(first.pool).toBeNull();
    const store = createStore(first);
    await store.upsertTenant({ id: 't', shopDomain: 't.myshopify.com', accessTokenEnc: 'x' });
    await store.upsertCustomers('t', [customer('t', 820982911946154508n)]);
    await first.$disconnect();
    expect((await readdir(dataDir)).length).toBeGreaterThan(0);

    const second = await createDatabase({ dataDir, env: {} });
    try {
      expect(await migrate(second)).toMatchObject({ applied: [] });
      expect(await createStore(second).existingIds('t', 'customers', [820982911946154508n])).toEqual(new Set([820982911946154508n]));
    } finally {
      await second.$disconnect();
    }
  }, 180_000); // two PGlite boots (WASM PostgreSQL, initdb on the first): seconds each, more on a loaded machine
});

describe('createDatabaseHandle', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_directpg', directWrites: false }); });
  afterAll(async () => { await db?.drop(); });

  it("sends batch writes to the handle's pool, and everything else through Prisma", async () => {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: db.url });
    const seen: string[] = [];
    const counting = { query: (text: string, values?: unknown[]) => { seen.push(text.trim().slice(0, 40)); return pool.query(text, values); } };
    try {
      const plain = createStore(db.database);
      await plain.upsertTenant({ id: 'direct-a', shopDomain: 'direct-a.myshopify.com', accessTokenEnc: 'x' });
      expect(await plain.upsertCustomers('direct-a', [customer('direct-a', 1n)])).toEqual({ written: 1, stale: 0 });
      expect(seen).toEqual([]);

      const direct = createStore(createDatabaseHandle(db.prisma, { pool: counting }));
      expect(await direct.upsertCustomers('direct-a', [customer('direct-a', 2n), customer('direct-a', 1n)])).toEqual({ written: 2, stale: 0 });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatch(/^WITH t_customers AS \(INSERT INTO "shopif/);
      expect((await direct.countRecords('direct-a')).customers).toBe(2); // a read: through Prisma
      expect(seen).toHaveLength(1);
    } finally {
      await pool.end();
    }
  });

  it('streams batches of copyFromRows rows or more with COPY through staging tables, atomically; smaller ones as one statement', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    const seen: string[] = [];
    const whole: string[] = [];
    const counting = {
      query: (text: string, values?: unknown[]) => pool.query(text, values),
      async connect() {
        const client = await pool.connect();
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        return Object.assign(Object.create(client) as pg.PoolClient, {
          query: (...args: unknown[]) => { const a = args[0] as string | { text?: string }; const text = String(typeof a === 'string' ? a : a.text).trim(); whole.push(text); seen.push(text.slice(0, 30)); return query(...args); },
          release: (error?: Error | boolean) => client.release(error),
        });
      },
    };
    try {
      const store = createStore(createDatabaseHandle(db.prisma, { pool: counting, copyFromRows: 2 }));
      await store.upsertTenant({ id: 'direct-d', shopDomain: 'direct-d.myshopify.com', accessTokenEnc: 'x' });
      // Below copyFromRows: one statement on the pool, no connection checked out.
      expect(await store.upsertCustomers('direct-d', [customer('direct-d', 1n)])).toEqual({ written: 1, stale: 0 });
      expect(seen).toEqual([]);
      expect(await store.upsertCustomers('direct-d', [customer('direct-d', 1n), customer('direct-d', 2n)])).toEqual({ written: 2, stale: 0 });
      // The transaction's start, the stage's DDL and its COPY travel as one message (copy-trip.ts).
      expect(seen).toEqual(['BEGIN; SET LOCAL client_min_me', 'WITH t_customers AS (INSERT IN', 'COMMIT']);
      expect(whole[0]).toMatch(/; CREATE TEMP TABLE IF NOT EXISTS "si_stage_customers" .*; COPY "si_stage_customers" \("id"/);
      // The commit emptied the stage (ON COMMIT DELETE ROWS); the session keeps the table for the next batch.
      const [{ staged }] = (await pool.query('SELECT count(*)::int AS staged FROM si_stage_customers')).rows;
      expect(staged).toBe(0);

      // A row the server rejects mid-COPY (a bigint column given text) rolls the whole batch back.
      seen.length = 0;
      const bad = { ...customer('direct-d', 4n), ordersCount: 'not a number' as unknown as number };
      await expect(store.upsertCustomers('direct-d', [customer('direct-d', 3n), bad])).rejects.toThrow(/invalid input syntax for type integer/);
      expect(seen.at(-1)).toBe('ROLLBACK');
      expect((await store.countRecords('direct-d')).customers).toBe(2);
      // The connection went back to the pool in a usable state.
      expect(await store.upsertCustomers('direct-d', [customer('direct-d', 3n)])).toEqual({ written: 1, stale: 0 });
    } finally {
      await pool.end();
    }
  });

  it('refuses something that is not a PrismaClient or a pool, and a copyFromRows that is not a positive integer', () => {
    expect(() => createDatabaseHandle({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => createDatabaseHandle(db.prisma, { pool: {} as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/pool/) }));
    expect(() => createDatabaseHandle(db.prisma, { pool: { query: async () => ({ rows: [], rowCount: 0 }) }, copyFromRows: 0 })).toThrow(/copyFromRows/);
    expect(() => createStore({} as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('leaves the PrismaClient untouched: a plain client writes through Prisma even after a handle was made from it', async () => {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: db.url });
    const seen: string[] = [];
    const counting = { query: (text: string, values?: unknown[]) => { seen.push(text); return pool.query(text, values); } };
    try {
      const before = Reflect.ownKeys(db.prisma);
      const handle = createDatabaseHandle(db.prisma, { pool: counting });
      expect(Reflect.ownKeys(db.prisma)).toEqual(before);
      expect(handle.prisma).toBe(db.prisma);
      expect(handle.pool).toBe(counting);
      expect(handle.copyFromRows).toBe(64);
      expect(Object.isFrozen(handle)).toBe(true);
      const plain = createStore(db.prisma);
      await plain.upsertTenant({ id: 'direct-e', shopDomain: 'direct-e.myshopify.com', accessTokenEnc: 'x' });
      expect(await plain.upsertCustomers('direct-e', [customer('direct-e', 1n)])).toEqual({ written: 1, stale: 0 });
      expect(seen).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  it("takes the pool of the package's own new PrismaClient({ url }), which exposes it", async () => {
    const { PrismaClient } = await import('../../src/prisma-client.js');
    const prisma = new PrismaClient({ url: db.url });
    try {
      expect(prisma.pool).toBeInstanceOf(pg.Pool);
      expect(new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) }).pool).toBeNull();
      const store = createStore(createDatabaseHandle(prisma, { pool: prisma.pool }));
      await store.upsertTenant({ id: 'direct-c', shopDomain: 'direct-c.myshopify.com', accessTokenEnc: 'x' });
      expect(await store.upsertCustomers('direct-c', [customer('direct-c', 8n)])).toEqual({ written: 1, stale: 0 });
    } finally {
      await prisma.$disconnect();
    }
  });

  it('takes the pool createDatabase({ url }) exposes; the embedded database has none', async () => {
    const prisma = await createDatabase({ url: db.url, migrate: false });
    try {
      expect(prisma.pool).toBeInstanceOf(pg.Pool);
      const seen: string[] = [];
      const query = prisma.pool!.query.bind(prisma.pool) as (text: string, values?: unknown[]) => Promise<pg.QueryResult>;
      const store = createStore(createDatabaseHandle(prisma, { pool: { query: (text: string, values?: unknown[]) => { seen.push(text); return query(text, values); } } }));
      await store.upsertTenant({ id: 'direct-b', shopDomain: 'direct-b.myshopify.com', accessTokenEnc: 'x' });
      expect(await store.upsertCustomers('direct-b', [customer('direct-b', 7n)])).toEqual({ written: 1, stale: 0 });
      expect(seen.some((sql) => sql.startsWith('WITH t_customers'))).toBe(true);
    } finally {
      await prisma.$disconnect();
    }
  });
});
