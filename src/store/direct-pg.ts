import { ShopifyIngestError } from '../errors.js';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { jsonParams, type BatchStatement } from './batch-statement.js';
import { copyIntoStage, stageTableDdl, type PgSessionClient } from './copy-stage.js';
import type { SqlExecutor } from './prisma-like.js';
import { silentLogger, type Logger } from '../logger.js';

/** The part of a `pg.Pool` (or `pg.Client`) the SDK's batch writes use. */
export interface PgQueryable {
  /** Runs SQL with `$n` parameters. */
  query(text: string, values?: unknown[]): Promise<{
    /** Rows returned. */
    rows: unknown[];
    /** Rows affected. */
    rowCount: number | null;
  }>;
  /** A `pg.Pool`'s checkout: with it, batches are streamed with COPY (see `copy-stage.ts`); without it (a `pg.Client`), they travel as JSON parameters. */
  connect?(): Promise<PgSessionClient>;
  /** `pg.Pool` and `pg.Client` are event emitters: an `error` event without a listener kills the process. */
  on?(event: 'error', listener: (error: Error) => void): unknown;
}

const GUARDED = Symbol.for('shopify-ingest.pgErrorGuard');

/**
 * Gives a pool (or client) an `error` listener, once: pg emits `error` when an idle connection dies
 * (a restart, a failover, `pg_terminate_backend`), and Node kills a process on an `error` event
 * nobody listens to. The pool drops the dead connection by itself; the next query opens a new one.
 */
export function guardPgErrors(target: PgQueryable, logger: Logger = silentLogger): void {
  const marked = target as unknown as Record<symbol, boolean>;
  if (typeof target.on !== 'function' || marked[GUARDED]) return;
  Object.defineProperty(target, GUARDED, { value: true });
  const lost = (error: Error) => logger.warn('database connection lost (it is replaced on the next query)', { error });
  target.on('error', lost);
  // Every connection of a pool listens for good: one the pool discarded after a failed query (or
  // one a library checked out) can still receive the server's "terminating connection" notice,
  // and pg emits it as an 'error' event on the connection, not on the pool.
  const guardClient = (client: unknown) => {
    const c = client as { on?: (event: 'error', listener: (error: Error) => void) => unknown } & Record<symbol, boolean>;
    if (typeof c?.on !== 'function' || c[GUARDED]) return;
    Object.defineProperty(c, GUARDED, { value: true });
    c.on('error', lost);
  };
  (target.on as (event: string, listener: (client: unknown) => void) => unknown)('connect', guardClient);
  for (const client of (target as unknown as { _clients?: unknown[] })._clients ?? []) guardClient(client);
}

const DIRECT_PG = Symbol.for('shopify-ingest.directPg');

/** Options of {@link useDirectPgWrites}. */
export interface DirectPgWritesOptions {
  /**
   * Smallest batch (rows of all its tables together) streamed with COPY; smaller ones are one
   * statement with a JSON parameter. COPY staging takes four round trips (begin, copy, upsert,
   * commit) against one, which only pays off once the rows outweigh them. Default 64.
   */
  copyFromRows?: number;
  /** Where lost connections are reported (warn). Default: silent (the writes that meet them fail and are retried). */
  logger?: Logger;
}

interface DirectPg {
  pool: PgQueryable;
  copyFromRows: number;
}

/**
 * Lets the SDK send its batch writes (the one-statement upserts of customers, products and orders)
 * straight to a `pg.Pool` instead of through Prisma's raw-query path, and returns the same client.
 *
 * Why: with a pool, a batch's rows are streamed with `COPY ... FROM STDIN` into session-local
 * staging tables and upserted from there in one transaction, which is 1.3-2.2 times faster than any
 * statement Prisma can send (see docs/benchmarks.md). Without one, a batch travels through Prisma
 * as one JSON parameter of a few megabytes. Everything else (tenants, checkpoints, run history,
 * reads) still goes through Prisma.
 *
 * Batches below `options.copyFromRows` rows (default 64: a webhook's few rows, say) go to the pool
 * as one statement with a JSON parameter instead: one round trip rather than four.
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
export function useDirectPgWrites<P extends object>(prisma: P, pool: PgQueryable, options: DirectPgWritesOptions = {}): P {
  if (typeof pool?.query !== 'function') throw new ShopifyIngestError('INVALID_ARGUMENT', 'useDirectPgWrites: pool must have a query(text, values) method (a pg.Pool)');
  const copyFromRows = options.copyFromRows ?? 64;
  if (!Number.isInteger(copyFromRows) || copyFromRows < 1) throw new ShopifyIngestError('INVALID_ARGUMENT', 'useDirectPgWrites: copyFromRows must be a positive integer');
  guardPgErrors(pool, options.logger);
  const direct: DirectPg = { pool, copyFromRows };
  Object.defineProperty(prisma, DIRECT_PG, { value: direct, configurable: true, enumerable: false, writable: true });
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
export function pooledPgAdapter(url: string, logger?: Logger): { adapter: PrismaPg; pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: url });
  guardPgErrors(pool, logger);
  return { adapter: new PrismaPg(pool, { disposeExternalPool: true }), pool };
}

/** The runner of the store's batch-write statements: a pool attached by {@link useDirectPgWrites}, else Prisma. */
export interface BatchRunner {
  /** Runs a statement; resolves to its rows. */
  all<T>(sql: string, params: unknown[]): Promise<T[]>;
  /**
   * Runs a {@link BatchStatement} over `inputs` (one row array per stage, in stage order), atomically:
   * staged through COPY when the pool can check out a connection, else with JSON parameters.
   * Resolves to the statement's row count (`result: 'count'`) or rows (`result: 'rows'`).
   */
  write<T>(statement: BatchStatement, tenantId: string, inputs: readonly (readonly unknown[])[]): Promise<{ count: number; rows: T[] }>;
}

export function batchRunnerFor(prisma: SqlExecutor): BatchRunner {
  const direct = (prisma as unknown as Record<symbol, DirectPg | undefined>)[DIRECT_PG];
  if (direct) {
    const { pool, copyFromRows } = direct;
    return {
      all: async <T>(sql: string, params: unknown[]) => (await pool.query(sql, params)).rows as T[],
      async write<T>(statement: BatchStatement, tenantId: string, inputs: readonly (readonly unknown[])[]) {
        const rows = inputs.reduce((n, input) => n + input.length, 0);
        if (typeof pool.connect !== 'function' || rows < copyFromRows) {
          const r = await pool.query(statement.json, jsonParams(statement, tenantId, inputs));
          return { count: r.rowCount ?? 0, rows: r.rows as T[] };
        }
        return stagedWrite<T>(pool as Required<PgQueryable>, statement, tenantId, inputs);
      },
    };
  }
  return {
    all: <T>(sql: string, params: unknown[]) => prisma.$queryRawUnsafe<T[]>(sql, ...params),
    async write<T>(statement: BatchStatement, tenantId: string, inputs: readonly (readonly unknown[])[]) {
      const params = jsonParams(statement, tenantId, inputs);
      if (statement.result === 'count') return { count: await prisma.$executeRawUnsafe(statement.json, ...params), rows: [] };
      const rows = await prisma.$queryRawUnsafe<T[]>(statement.json, ...params);
      return { count: rows.length, rows };
    },
  };
}

/**
 * One transaction on one pooled connection: make sure the staging tables exist (created once per
 * connection, in the transaction so a transaction-pooling proxy cannot split them off), COPY each
 * input into its stage, run the statement, commit (which empties the stages). On any failure the
 * transaction rolls back: nothing of the batch is written. A connection that cannot even roll back
 * is discarded rather than returned to the pool.
 */
async function stagedWrite<T>(pool: Required<PgQueryable>, statement: BatchStatement, tenantId: string, inputs: readonly (readonly unknown[])[]): Promise<{ count: number; rows: T[] }> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // While checked out, a connection's own `error` event has no listener of the pool's: a connection
  // killed between two of these queries would otherwise crash the process. It is discarded on release.
  const onError = (error: Error) => { broken ??= error; };
  const events = client as unknown as { on?(e: 'error', l: (error: Error) => void): unknown; removeListener?(e: 'error', l: (error: Error) => void): unknown };
  events.on?.('error', onError);
  try {
    await client.query(`BEGIN; SET LOCAL client_min_messages = warning; ${statement.stages.map(stageTableDdl).join('; ')}`);
    for (let k = 0; k < statement.stages.length; k++) await copyIntoStage(client, statement.stages[k], inputs[k] as never[]);
    const r = await client.query(statement.staged, [tenantId]);
    await client.query('COMMIT');
    return { count: r.rowCount ?? 0, rows: r.rows as T[] };
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => { broken = rollbackError; });
    throw error;
  } finally {
    client.release(broken);
    // A discarded connection keeps the listener: its server may still send the reason it was
    // killed after the pool let go of it, and that would be an 'error' event nobody hears.
    if (!broken) events.removeListener?.('error', onError);
  }
}
