/**
 * The SDK's one database handle: the Prisma executor every statement goes through, plus, when you
 * have one, the `pg.Pool` the batch writes stream to with COPY. Created once by the host (or by the
 * facade from a plain PrismaClient) and passed to whatever needs the database; nothing is attached
 * to the caller's PrismaClient.
 */
import { ShopifyIngestError } from '../errors.js';
import type { Logger } from '../logger.js';
import { jsonParams, type BatchStatement } from './batch-statement.js';
import { areEncoded } from './encoded-rows.js';
import { ChunkPool } from './copy-stage.js';
import { directWrite, guardPgErrors, stagedWrite, type BatchCommitOptions, type PgQueryable } from './direct-pg.js';
import type { DirectWrite } from './resource-writer.js';
import type { PrismaLike, SqlExecutor } from './prisma-like.js';

/** Where the SDK's statements go. Create with {@link createDatabaseHandle}. */
export interface DatabaseHandle {
  /** Tells a handle from a PrismaClient. */
  readonly kind: 'shopify-ingest.database';
  /** Every statement; the batch writes too when `pool` is null (one JSON parameter each). */
  readonly prisma: PrismaLike;
  /** The pool batch writes go to, COPY-staged; null: through `prisma`. */
  readonly pool: PgQueryable | null;
  /** Smallest batch (rows of all its tables) streamed with COPY; smaller ones are one JSON statement on the pool. */
  readonly copyFromRows: number;
}

/** Options of {@link createDatabaseHandle}. */
export interface DatabaseHandleOptions {
  /**
   * The `pg.Pool` your `PrismaPg` adapter uses (`new PrismaPg(pool)`), so both share connections.
   * With it, each batch's rows are streamed with `COPY ... FROM STDIN` into session-local staging
   * tables and upserted from there in one transaction (1.3-2.2 times faster than any statement
   * Prisma can send, docs/benchmarks.md). Without it, a batch is one statement through Prisma.
   */
  pool?: PgQueryable | null;
  /** Smallest batch streamed with COPY (default 64): COPY staging costs four round trips against one. */
  copyFromRows?: number;
  /** Where lost pool connections are reported (warn). Default: silent (the writes that meet them fail and are retried). */
  logger?: Logger;
}

/**
 * The database handle the SDK's services share: pass it wherever a PrismaClient is accepted
 * (`createIngestionService`, `createImportService`, `createWebhookService`, `createStore`, ...).
 * A plain PrismaClient works too; it is the same as a handle without a pool.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { PrismaPg } from '@prisma/adapter-pg';
 * import { createDatabaseHandle, createIngestionService } from 'shopify-ingest';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
 * const ingest = createIngestionService(createDatabaseHandle(prisma, { pool }));
 * ```
 */
export function createDatabaseHandle(prisma: PrismaLike, options: DatabaseHandleOptions = {}): DatabaseHandle {
  if (!isExecutor(prisma)) throw new ShopifyIngestError('INVALID_ARGUMENT', 'createDatabaseHandle: pass a PrismaClient (with a driver adapter) whose schema includes the shopify_* models');
  const pool = options.pool ?? null;
  if (pool !== null && typeof pool.query !== 'function') throw new ShopifyIngestError('INVALID_ARGUMENT', 'createDatabaseHandle: pool must have a query(text, values) method (a pg.Pool)');
  const copyFromRows = options.copyFromRows ?? 64;
  if (!Number.isInteger(copyFromRows) || copyFromRows < 1) throw new ShopifyIngestError('INVALID_ARGUMENT', 'createDatabaseHandle: copyFromRows must be a positive integer');
  if (pool) guardPgErrors(pool, options.logger);
  return Object.freeze({ kind: 'shopify-ingest.database', prisma, pool, copyFromRows });
}

/** True for a handle made by {@link createDatabaseHandle}. */
export function isDatabaseHandle(value: unknown): value is DatabaseHandle {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'shopify-ingest.database';
}

/**
 * The handle of what a caller passed: the handle itself, or a handle without a pool around a
 * PrismaClient (or any raw-SQL executor: the inbox and the scheduler need no transactions).
 * @internal
 */
export function resolveDatabase(db: PrismaLike | SqlExecutor | DatabaseHandle): DatabaseHandle {
  if (isDatabaseHandle(db)) return db;
  if (!isExecutor(db)) throw new ShopifyIngestError('INVALID_ARGUMENT', 'pass a PrismaClient (with a driver adapter) whose schema includes the shopify_* models, or a handle from createDatabaseHandle');
  return Object.freeze({ kind: 'shopify-ingest.database', prisma: db as PrismaLike, pool: null, copyFromRows: 64 });
}

function isExecutor(value: unknown): value is SqlExecutor {
  return typeof value === 'object' && value !== null && typeof (value as SqlExecutor).$queryRawUnsafe === 'function' && typeof (value as SqlExecutor).$executeRawUnsafe === 'function';
}

/** The runner of the store's batch-write statements: the handle's pool when it has one, else Prisma. */
export interface BatchRunner {
  /** Runs a statement; resolves to its rows. */
  all<T>(sql: string, params: unknown[]): Promise<T[]>;
  /**
   * Runs a {@link BatchStatement} over `inputs` (one row array per stage, in stage order), atomically:
   * staged through COPY when the pool can check out a connection, else with JSON parameters.
   * Resolves to the statement's row count (`result: 'count'`) or rows (`result: 'rows'`).
   */
  write<T>(statement: BatchStatement, tenantId: string, inputs: readonly (readonly unknown[])[], options?: BatchCommitOptions): Promise<{ count: number; rows: T[] }>;
  /**
   * Streams `inputs` straight into their tables (see {@link DirectWrite}); false when PostgreSQL
   * refused them and nothing was written. Only on a pool that can check out a connection.
   */
  direct?(direct: DirectWrite, tenantId: string, inputs: readonly (readonly unknown[])[], options?: BatchCommitOptions): Promise<boolean>;
}

/** The batch runner of a handle. @internal */
export function batchRunnerFor(db: DatabaseHandle): BatchRunner {
  const { prisma, pool, copyFromRows } = db;
  if (pool) {
    // COPY chunks' buffers, reused across this runner's writes once their socket has written them.
    const chunks = new ChunkPool();
    return {
      all: async <T>(sql: string, params: unknown[]) => (await pool.query(sql, params)).rows as T[],
      async write<T>(statement: BatchStatement, tenantId: string, inputs: readonly (readonly unknown[])[], options?: BatchCommitOptions) {
        const rows = inputs.reduce((n, input) => n + input.length, 0);
        // Rows encoded when read (encoded-rows.ts) only travel by COPY.
        if (typeof pool.connect !== 'function' || (rows < copyFromRows && !inputs.some(areEncoded))) {
          if (inputs.some(areEncoded)) throw new Error('[shopify-ingest] encoded rows need a pool that checks out connections');
          const r = await pool.query(statement.json, jsonParams(statement, tenantId, inputs));
          return { count: r.rowCount ?? 0, rows: r.rows as T[] };
        }
        return stagedWrite<T>(pool as Required<PgQueryable>, statement, tenantId, inputs, options, chunks);
      },
      ...(typeof pool.connect === 'function'
        ? { direct: (direct: DirectWrite, tenantId: string, inputs: readonly (readonly unknown[])[], options?: BatchCommitOptions) => directWrite(pool as Required<PgQueryable>, direct, tenantId, inputs, options, chunks) }
        : {}),
    };
  }
  return {
    all: <T>(sql: string, params: unknown[]) => prisma.$queryRawUnsafe<T[]>(sql, ...params),
    async write<T>(statement: BatchStatement, tenantId: string, inputs: readonly (readonly unknown[])[]) {
      if (inputs.some(areEncoded)) throw new Error('[shopify-ingest] encoded rows need a database handle with a pool');
      const params = jsonParams(statement, tenantId, inputs);
      if (statement.result === 'count') return { count: await prisma.$executeRawUnsafe(statement.json, ...params), rows: [] };
      const rows = await prisma.$queryRawUnsafe<T[]>(statement.json, ...params);
      return { count: rows.length, rows };
    },
  };
}
