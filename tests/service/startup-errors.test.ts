/**
 * `initialize()` against databases a newcomer really has: the tokens were encrypted under another
 * ENCRYPTION_KEY, the tables are missing, the tables are of another shape, the server is not there.
 * Each is one typed error that says what to do, raised before anything is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { createIngestionService } from '../../src/service.js';
import { createKeyRing, EncryptionKeyMismatchError } from '../../src/crypto/index.js';
import { createStore, DatabaseSetupError } from '../../src/store/index.js';
import { silentLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { testDatabaseUrl } from '../helpers/pg-config.js';
import { cli } from '../cli/helpers.js';

const OLD_KEY = randomBytes(32).toString('hex');
const NEW_KEY = randomBytes(32).toString('hex');
const quiet = { logger: silentLogger, scheduler: { enabled: false }, webhooks: { enabled: false }, healthCheckIntervalMs: 0 } as const;
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_startup' });
  const ring = createKeyRing({ key: OLD_KEY });
  const store = createStore(db.database);
  for (const id of ['acme', 'globex']) await store.upsertTenant({ id, shopDomain: `${id}.myshopify.com`, accessTokenEnc: ring.encrypt(`shpat_${id}`, id) });
});

afterAll(async () => { await db?.drop(); });

describe('initialize() with another ENCRYPTION_KEY', () => {
  it('fails fast with EncryptionKeyMismatchError naming the tenants and key ids, and changes nothing', async () => {
    const before = await db.query(`SELECT id, access_token_enc FROM shopify_tenants ORDER BY id`);
    const service = createIngestionService(db.database, { ...quiet, env: { ENCRYPTION_KEY: NEW_KEY } });
    const error = await service.initialize().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(EncryptionKeyMismatchError);
    const mismatch = error as EncryptionKeyMismatchError;
    expect(mismatch.code).toBe('ENCRYPTION_KEY_MISMATCH');
    expect(mismatch.tenantIds).toEqual(['acme', 'globex']);
    expect(mismatch.storedKeyIds).toEqual([createKeyRing({ key: OLD_KEY }).keyId]);
    expect(mismatch.ringKeyIds).toEqual([createKeyRing({ key: NEW_KEY }).keyId]);
    expect(mismatch.message).toMatch(/^\[shopify-ingest\] ENCRYPTION_KEY does not match the database/);
    expect(mismatch.message).toMatch(/ENCRYPTION_PREVIOUS_KEYS/);
    expect(mismatch.message).not.toContain(OLD_KEY);
    expect(mismatch.message).not.toContain(NEW_KEY);
    expect(await db.query(`SELECT id, access_token_enc FROM shopify_tenants ORDER BY id`)).toEqual(before);
    await service.shutdown();
  });

  it('starts once the old key is in ENCRYPTION_PREVIOUS_KEYS, and with the old key itself', async () => {
    const rotating = createIngestionService(db.database, { ...quiet, env: { ENCRYPTION_KEY: NEW_KEY, ENCRYPTION_PREVIOUS_KEYS: OLD_KEY, BLIND_INDEX_KEY: randomBytes(32).toString('hex') } });
    await rotating.initialize();
    expect(rotating.clientManager.size).toBe(2);
    await rotating.shutdown();
    const same = createIngestionService(db.database, { ...quiet, env: { ENCRYPTION_KEY: OLD_KEY } });
    await same.initialize();
    await same.shutdown();
  });

  it('the CLI exits 3 with the same message; tenants remove still works without the key', async () => {
    const status = await cli(['status', '--database-url', db.url], { ENCRYPTION_KEY: NEW_KEY, LOG_LEVEL: 'silent' });
    expect(status.code).toBe(3);
    expect(status.stderr).toMatch(/ENCRYPTION_KEY does not match the database: the stored access tokens of 2 tenant\(s\) \(acme, globex\)/);
    const remove = await cli(['tenants', 'remove', 'globex', '--purge', '--database-url', db.url], { ENCRYPTION_KEY: NEW_KEY, LOG_LEVEL: 'silent' });
    expect(remove.code, remove.stderr).toBe(0);
    expect((await db.query(`SELECT id FROM shopify_tenants ORDER BY id`)).map((r) => r.id)).toEqual(['acme']);
  });

  it('demo run again on its database with another ENCRYPTION_KEY reports the mismatch instead of "matches yes"', async () => {
    const demoDb = await createTestDatabase({ prefix: 'si_demo_rekey', migrate: false });
    try {
      const first = await cli(['demo', '--orders', '60'], { DATABASE_URL: demoDb.url, ENCRYPTION_KEY: OLD_KEY, LOG_LEVEL: 'silent' });
      expect(first.code, first.stderr).toBe(0);
      const second = await cli(['demo', '--orders', '60'], { DATABASE_URL: demoDb.url, LOG_LEVEL: 'silent' });
      expect(second.code).toBe(3);
      expect(second.stdout).toMatch(/ENCRYPTION_KEY generated for this run; set ENCRYPTION_KEY to run the demo on this database again/);
      expect(second.stdout).not.toMatch(/\syes\s*$/m);
      expect(second.stderr).toMatch(/ENCRYPTION_KEY does not match the database: the stored access tokens of 2 tenant\(s\) \(acme, globex\)/);
    } finally {
      await demoDb.drop();
    }
  }, 120_000);
});

describe('initialize() wraps database errors in typed ones that say what to do', () => {
  it('no tables (autoMigrate off): DATABASE_NOT_MIGRATED, run `npx shopify-ingest migrate`', async () => {
    const empty = await createTestDatabase({ prefix: 'si_startup_empty', migrate: false });
    try {
      const service = createIngestionService(empty.prisma, { ...quiet, autoMigrate: false, env: { ENCRYPTION_KEY: NEW_KEY } });
      const error = await service.initialize().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(DatabaseSetupError);
      expect(error).toMatchObject({ code: 'DATABASE_NOT_MIGRATED' });
      expect((error as Error).message).toMatch(/^\[shopify-ingest\] initialize: the shopify_\* tables are missing \(.*shopify_tenants.*\)\. Run `npx shopify-ingest migrate`/);
    } finally {
      await empty.drop();
    }
  });

  it('tables of another shape: DATABASE_SCHEMA_MISMATCH', async () => {
    const odd = await createTestDatabase({ prefix: 'si_startup_odd' });
    try {
      await odd.query(`ALTER TABLE shopify_tenants DROP COLUMN config`);
      const service = createIngestionService(odd.prisma, { ...quiet, autoMigrate: false, env: { ENCRYPTION_KEY: NEW_KEY } });
      const error = await service.initialize().then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ code: 'DATABASE_SCHEMA_MISMATCH' });
      expect((error as Error).message).toMatch(/do not match this version of shopify-ingest .*Run `npx shopify-ingest migrate`/);
    } finally {
      await odd.drop();
    }
  });

  it('nothing listening, or no such database: DATABASE_UNREACHABLE, check DATABASE_URL', async () => {
    for (const url of ['postgresql://postgres@127.0.0.1:1/test', testDatabaseUrl(`si_no_such_db_${Date.now()}`)]) {
      const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
      try {
        const service = createIngestionService(prisma, { ...quiet, env: { ENCRYPTION_KEY: NEW_KEY } });
        const error = await service.initialize().then(() => undefined, (e: unknown) => e);
        expect(error, url).toBeInstanceOf(DatabaseSetupError);
        expect(error, url).toMatchObject({ code: 'DATABASE_UNREACHABLE' });
        expect((error as Error).message).toMatch(/Check DATABASE_URL \(host, port, user, password, database name\)/);
      } finally {
        await prisma.$disconnect();
      }
    }
  });
});

describe('options checked when the service is created', () => {
  it('runLockTtlMs below 100 ms or not an integer: CONFIG_INVALID, before anything runs', () => {
    for (const runLockTtlMs of [5, 1500.5, Number.NaN]) {
      expect(() => createIngestionService(db.database, { ...quiet, runLockTtlMs, env: { ENCRYPTION_KEY: NEW_KEY } }))
        .toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/runLockTtlMs/) }));
    }
    expect(() => createIngestionService(db.database, { ...quiet, runLockTtlMs: 10_000, env: { ENCRYPTION_KEY: NEW_KEY } })).not.toThrow();
  });
});
