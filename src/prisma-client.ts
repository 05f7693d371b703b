/**
 * A PrismaClient for the shopify-ingest schema that picks its driver adapter itself, so the seed's
 * `new PrismaClient()` works as written: PostgreSQL through `@prisma/adapter-pg` when
 * `DATABASE_URL` is a postgres URL, otherwise the embedded PostgreSQL (PGlite) under
 * `./.shopify-ingest/db`. Pass `{ adapter }` to choose yourself. Hosts that merged our models into
 * their own schema use their own generated client instead; the SDK accepts either.
 */
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { mkdirSync } from 'node:fs';
import { PrismaClient as GeneratedPrismaClient } from './generated/prisma/client.js';
import { DEFAULT_DATA_DIR, resolveDatabaseTarget } from './store/database.js';
import type pg from 'pg';
import { pooledPgAdapter } from './store/direct-pg.js';
import { lockEmbeddedDatabase } from './store/embedded-lock.js';

type GeneratedOptions = ConstructorParameters<typeof GeneratedPrismaClient>[0];
/** Prisma's own options, plus where the database is when no `adapter` is given. */
export type PrismaClientOptions = Partial<GeneratedOptions> & {
  /** Directory of the embedded database when no PostgreSQL URL is set (default `./.shopify-ingest/db`). */
  dataDir?: string;
  /** PostgreSQL URL (default `DATABASE_URL`); without one, the embedded database is used. */
  url?: string;
};

function withDefaultAdapter(options: PrismaClientOptions = {}): { options: GeneratedOptions; pool?: pg.Pool; close?: () => Promise<void> } {
  if ('adapter' in options && options.adapter) return { options: options as GeneratedOptions };
  const { dataDir, url, ...rest } = options;
  const target = resolveDatabaseTarget({ url, dataDir: dataDir ?? DEFAULT_DATA_DIR });
  if (target.kind === 'postgres') {
    // One pool for Prisma and the SDK's batch writes (through a database handle); Prisma ends it on $disconnect.
    const { adapter, pool } = pooledPgAdapter(target.url);
    return { options: { ...rest, adapter } as GeneratedOptions, pool };
  }
  if (!target.dataDir.startsWith('memory://')) mkdirSync(target.dataDir, { recursive: true });
  const unlock = lockEmbeddedDatabase(target.dataDir);
  const lite = new PGlite(target.dataDir);
  const close = async () => {
    if (!lite.closed) await lite.close();
    unlock();
  };
  return { options: { ...rest, adapter: new PrismaPGlite(lite) } as GeneratedOptions, close };
}

/**
 * @example
 * ```ts
 * import { createDatabaseHandle, createIngestionService } from 'shopify-ingest';
 * import { PrismaClient } from 'shopify-ingest/prisma';
 * const prisma = new PrismaClient();            // DATABASE_URL, or the embedded database
 * const shopifyService = createIngestionService(createDatabaseHandle(prisma, { pool: prisma.pool }));
 * await shopifyService.initialize();            // applies the migrations
 * ```
 */
export class PrismaClient extends GeneratedPrismaClient {
  constructor(options?: PrismaClientOptions) {
    const chosen = withDefaultAdapter(options);
    super(chosen.options);
    this.pool = chosen.pool ?? null;
    const close = chosen.close;
    if (close) {
      // The embedded database is released (closed, its folder unlocked) with the client.
      const disconnect = this.$disconnect.bind(this);
      Object.defineProperty(this, '$disconnect', { configurable: true, value: async () => { await disconnect(); await close(); } });
    }
  }

  /**
   * The pg pool of the adapter this client made for a PostgreSQL URL (ended by `$disconnect()`), or
   * null (the embedded database, or an `adapter` you passed). Give it to a database handle so the
   * SDK's batch writes stream with COPY: `createDatabaseHandle(prisma, { pool: prisma.pool })`.
   */
  readonly pool: pg.Pool | null;
}
