import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createDatabase, createStore, migrate, resolveDatabaseTarget } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { customer } from './rows.js';

describe('resolveDatabaseTarget', () => {
  it('uses PostgreSQL for a postgres URL or DATABASE_URL, else the embedded folder', () => {
    expect(resolveDatabaseTarget({ url: 'postgresql://u@h/db', env: {} })).toEqual({ kind: 'postgres', url: 'postgresql://u@h/db' });
    expect(resolveDatabaseTarget({ env: { DATABASE_URL: 'postgres://u@h/db' } })).toEqual({ kind: 'postgres', url: 'postgres://u@h/db' });
    expect(resolveDatabaseTarget({ env: { DATABASE_URL: 'file:./dev.db' } })).toEqual({ kind: 'embedded', dataDir: path.resolve('.shopify-ingest/db') });
    expect(resolveDatabaseTarget({ dataDir: 'memory://', env: {} })).toEqual({ kind: 'embedded', dataDir: 'memory://' });
    expect(() => resolveDatabaseTarget({ url: 'mysql://u@h/db', env: {} })).toThrow(ConfigError);
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
      expect(await pg.query('SELECT count(*)::int AS n FROM shopify_ingest_migrations')).toEqual([{ n: 1 }]);
    } finally {
      await prisma.$disconnect();
    }
  });

  it('persists the embedded database in its folder across opens', async () => {
    const dataDir = path.join(tmp, 'nested/db');
    const first = await createDatabase({ dataDir, env: {} });
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
