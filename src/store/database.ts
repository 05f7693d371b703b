import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PrismaClient } from '../generated/prisma/client.js';
import { ConfigError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type pg from 'pg';
import { pooledPgAdapter } from './direct-pg.js';
import { lockEmbeddedDatabase } from './embedded-lock.js';
import { migrate, type MigrateOptions } from './migrate.js';

/** Options of {@link createDatabase}. */
export interface DatabaseOptions {
  /**
   * A `postgres://` / `postgresql://` URL: PostgreSQL through `@prisma/adapter-pg`.
   * Defaults to `DATABASE_URL`; when neither is set, the embedded database is used. A set URL of
   * another kind (`mysql://`, `file:`), or one with a `?schema=` other than `public`, is a {@link ConfigError}, not a fallback.
   */
  url?: string;
  /**
   * Folder of the embedded database (PGlite), created when missing. Default `./.shopify-ingest/db`.
   * Used only without a URL: a set `DATABASE_URL` wins over it (the CLI's `--data-dir` flag wins over `DATABASE_URL`).
   * `memory://` keeps it in memory (gone on exit). Only one process may open a folder at a time.
   */
  dataDir?: string;
  /** Where it logs (default: silent). */
  logger?: Logger;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** Passed to {@link migrate}. */
  migrateOptions?: Omit<MigrateOptions, 'logger'>;
  /** Environment to read `DATABASE_URL` from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

/**
 * The client {@link createDatabase} returns: the generated PrismaClient, and the pg pool its adapter
 * uses, for a database handle (`createDatabaseHandle(prisma, { pool: prisma.pool })`).
 */
export type DatabaseClient = PrismaClient & {
  /** The pool of its PostgreSQL adapter (ended by `$disconnect()`); null for the embedded database. */
  readonly pool: pg.Pool | null;
};

/** The embedded database's default folder, relative to the working directory. */
export const DEFAULT_DATA_DIR = './.shopify-ingest/db';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * Which database {@link createDatabase} would open for these options (no I/O).
 *
 * @example
 * ```ts
 * resolveDatabaseTarget({ env: { DATABASE_URL: 'postgresql://localhost/app' } }); // { kind: 'postgres', url: ... }
 * resolveDatabaseTarget({ env: {} }); // { kind: 'embedded', dataDir: '/cwd/.shopify-ingest/db' }
 * ```
 */
export function resolveDatabaseTarget(options: Pick<DatabaseOptions, 'url' | 'dataDir' | 'env'> = {}): {
  /** PostgreSQL through `@prisma/adapter-pg`. */
  kind: 'postgres';
  /** Its URL. */
  url: string;
} | {
  /** The embedded database (PGlite). */
  kind: 'embedded';
  /** Its folder (absolute), or `memory://`. */
  dataDir: string;
} {
  const env = options.env ?? process.env;
  const url = options.url ?? (env.DATABASE_URL?.trim() || undefined);
  if (url && POSTGRES_URL.test(url)) return { kind: 'postgres', url };
  // A set but unusable URL is a mistake to report, never a reason to fall back to the embedded
  // database: that would sync into a folder the user does not know about. The value may hold a
  // password, so only its scheme is echoed.
  if (url) {
    const source = options.url ? 'the database url (--database-url / url)' : 'DATABASE_URL';
    throw new ConfigError(`${source} must start with postgres:// or postgresql:// (got ${url.split(':')[0]}:...); unset it to use the embedded database`, { details: { variable: options.url ? 'url' : 'DATABASE_URL' } });
  }
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  return { kind: 'embedded', dataDir: dataDir.startsWith('memory://') ? dataDir : path.resolve(dataDir) };
}

/**
 * Opens the database the SDK writes to and returns a ready, migrated PrismaClient.
 *
 * - With a PostgreSQL URL (`url`, else `DATABASE_URL`): the generated client over `@prisma/adapter-pg`.
 * - Otherwise: an embedded PostgreSQL (PGlite, PostgreSQL compiled to WASM) persisted under `dataDir`,
 *   through `pglite-prisma-adapter`. Same schema, same SQL. Good for demos, tests and single-process
 *   tools; use a real PostgreSQL for several processes (PGlite is one connection in one process).
 *
 * `$disconnect()` on the returned client also closes the embedded database.
 *
 * @example
 * ```ts
 * import { createDatabase, createStore } from 'shopify-ingest';
 *
 * const prisma = await createDatabase();                          // embedded, ./.shopify-ingest/db
 * const pg = await createDatabase({ url: 'postgresql://postgres@127.0.0.1:5432/app' });
 * const store = createStore(prisma);
 * ```
 */
export async function createDatabase(options: DatabaseOptions = {}): Promise<DatabaseClient> {
  const logger = options.logger ?? silentLogger;
  const target = resolveDatabaseTarget(options);
  let prisma: DatabaseClient;
  if (target.kind === 'postgres') {
    // One pool for Prisma and for the SDK's batch writes (through a database handle); Prisma ends it on $disconnect.
    const { adapter, pool } = pooledPgAdapter(target.url, logger);
    prisma = withPool(new PrismaClient({ adapter }), pool);
    logger.debug('database: postgresql', { host: safeHost(target.url) });
  } else {
    if (!target.dataDir.startsWith('memory://')) await mkdir(target.dataDir, { recursive: true });
    // Loaded on demand: a host on PostgreSQL never loads the WASM database.
    const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import('@electric-sql/pglite'), import('pglite-prisma-adapter')]);
    const unlock = lockEmbeddedDatabase(target.dataDir);
    let lite: InstanceType<typeof PGlite>;
    try {
      lite = await PGlite.create(target.dataDir);
    } catch (error) {
      unlock();
      throw error;
    }
    prisma = withPool(new PrismaClient({ adapter: new PrismaPGlite(lite) }), null);
    const disconnect = prisma.$disconnect.bind(prisma);
    // PrismaClient does not own the PGlite instance; close it with the client so the folder is released.
    Object.defineProperty(prisma, '$disconnect', {
      configurable: true,
      value: async () => {
        await disconnect();
        if (!lite.closed) await lite.close();
        unlock();
      },
    });
    logger.debug('database: embedded', { dataDir: target.dataDir });
  }
  if (options.migrate !== false) {
    try {
      await migrate(prisma, { ...options.migrateOptions, logger });
    } catch (error) {
      await prisma.$disconnect().catch(() => {});
      throw error;
    }
  }
  return prisma;
}

function withPool(prisma: PrismaClient, pool: pg.Pool | null): DatabaseClient {
  return Object.defineProperty(prisma, 'pool', { value: pool, enumerable: false }) as DatabaseClient;
}

function safeHost(url: string): string {
  try { return new URL(url).host; } catch { return 'invalid'; }
}
