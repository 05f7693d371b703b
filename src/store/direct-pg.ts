import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { SqlExecutor } from './prisma-like.js';

/** The part of a `pg.Pool` (or `pg.Client`) the SDK's batch writes use. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

const DIRECT_PG = Symbol.for('shopify-ingest.directPg');

/**
 * Lets the SDK send its batch writes (the one-statement upserts of customers, products and orders)
 * straight to a `pg.Pool` instead of through Prisma's raw-query path, and returns the same client.
 *
 * Why: Prisma passes every raw-query parameter through `JSON.stringify` and `JSON.parse` on its
 * way to the driver. A batch travels as one JSON parameter of a few megabytes, so that round trip
 * cost about as much CPU as transforming the batch (see docs/benchmarks.md). Everything else
 * (tenants, checkpoints, run history, reads) still goes through Prisma.
 *
 * Pass the pool your `PrismaPg` adapter uses (`new PrismaPg(pool)`), so both share connections.
 * `createDatabase({ url })` does this itself. A client without a pool attached works the same,
 * only slower; so does a transaction client (`prisma.$transaction(async (tx) => ...)`), whose
 * writes must stay inside its transaction.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { PrismaPg } from '@prisma/adapter-pg';
 * import { useDirectPgWrites, createIngestionService } from 'shopify-ingest';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const prisma = useDirectPgWrites(new PrismaClient({ adapter: new PrismaPg(pool) }), pool);
 * const ingest = createIngestionService(prisma);
 * ```
 */
export function useDirectPgWrites<P extends object>(prisma: P, pool: PgQueryable): P {
  if (typeof pool?.query !== 'function') throw new TypeError('useDirectPgWrites: pool must have a query(text, values) method (a pg.Pool)');
  Object.defineProperty(prisma, DIRECT_PG, { value: pool, configurable: true, enumerable: false, writable: true });
  return prisma;
}

/**
 * A `pg.Pool` for `url` and a Prisma adapter over it that ends the pool on `$disconnect`: one pool for
 * Prisma and, through {@link useDirectPgWrites}, for the SDK's batch writes.
 *
 * @example
 * ```ts
 * const { adapter, pool } = pooledPgAdapter(process.env.DATABASE_URL!);
 * const prisma = useDirectPgWrites(new PrismaClient({ adapter }), pool);
 * ```
 */
export function pooledPgAdapter(url: string): { adapter: PrismaPg; pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: url });
  return { adapter: new PrismaPg(pool, { disposeExternalPool: true }), pool };
}

/** The runner of the store's batch-write statements: a pool attached by {@link useDirectPgWrites}, else Prisma. */
export interface BatchRunner {
  /** Runs a statement; resolves to its row count. */
  execute(sql: string, params: unknown[]): Promise<number>;
  /** Runs a statement; resolves to its rows. */
  all<T>(sql: string, params: unknown[]): Promise<T[]>;
}

export function batchRunnerFor(prisma: SqlExecutor): BatchRunner {
  const pool = (prisma as unknown as Record<symbol, PgQueryable | undefined>)[DIRECT_PG];
  if (pool) {
    return {
      execute: async (sql, params) => (await pool.query(sql, params)).rowCount ?? 0,
      all: async <T>(sql: string, params: unknown[]) => (await pool.query(sql, params)).rows as T[],
    };
  }
  return {
    execute: (sql, params) => prisma.$executeRawUnsafe(sql, ...params),
    all: <T>(sql: string, params: unknown[]) => prisma.$queryRawUnsafe<T[]>(sql, ...params),
  };
}
