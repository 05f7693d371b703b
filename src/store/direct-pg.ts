import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { BatchStatement } from './batch-statement.js';
import { copyIntoStage, stageTableDdl, type PgSessionClient } from './copy-stage.js';
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

/**
 * A `pg.Pool` for `url` and a Prisma adapter over it that ends the pool on `$disconnect`: one pool for
 * Prisma and, through a database handle ({@link createDatabaseHandle}), for the SDK's batch writes.
 *
 * @example
 * ```ts
 * const { adapter, pool } = pooledPgAdapter(process.env.DATABASE_URL!);
 * const db = createDatabaseHandle(new PrismaClient({ adapter }), { pool });
 * ```
 */
export function pooledPgAdapter(url: string, logger?: Logger): { adapter: PrismaPg; pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: url });
  guardPgErrors(pool, logger);
  return { adapter: new PrismaPg(pool, { disposeExternalPool: true }), pool };
}

/**
 * One transaction on one pooled connection: make sure the staging tables exist (created once per
 * connection, in the transaction so a transaction-pooling proxy cannot split them off), COPY each
 * input into its stage, run the statement, commit (which empties the stages). On any failure the
 * transaction rolls back: nothing of the batch is written. A connection that cannot even roll back
 * is discarded rather than returned to the pool.
 */
export async function stagedWrite<T>(pool: Required<PgQueryable>, statement: BatchStatement, tenantId: string, inputs: readonly (readonly unknown[])[]): Promise<{ count: number; rows: T[] }> {
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
