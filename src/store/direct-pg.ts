import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { BatchStatement } from './batch-statement.js';
import { col, type ColumnSpec } from './columns.js';
import { CHUNK_BYTES, copyTextValue, stageTableDdl, type ChunkPool, type PgSessionClient } from './copy-stage.js';
import { copyInOneTrip } from './copy-trip.js';
import { areEncoded, encodedChunks } from './encoded-rows.js';
import type { DirectWrite, ParentCheckInput } from './resource-writer.js';
import { silentLogger, type Logger } from '../logger.js';
import { ConfigError } from '../errors.js';

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
 * The SDK's tables live in `public`: its migrations and batch SQL name them unqualified. A URL's
 * `?schema=` (Prisma's convention) is ignored by pg itself, so the tables silently landed in `public`
 * while the user expected another schema: refused instead. The URL is not echoed (it may hold a password).
 */
function assertPublicSchema(url: string): void {
  let schema: string | null = null;
  try { schema = new URL(url).searchParams.get('schema'); } catch { return; }
  if (schema !== null && schema !== 'public') {
    throw new ConfigError(`the database URL asks for schema=${schema}, but shopify-ingest keeps its tables in the public schema: remove ?schema= from the URL (or set it to public)`, { details: { schema } });
  }
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
  assertPublicSchema(url);
  const pool = new pg.Pool({ connectionString: url });
  guardPgErrors(pool, logger);
  return { adapter: new PrismaPg(pool, { disposeExternalPool: true }), pool };
}

/** How a batch transaction commits. */
export interface BatchCommitOptions {
  /**
   * `synchronous_commit = off` for this transaction: COMMIT returns before its WAL is flushed. Only
   * for writes a later synchronous commit always follows and vouches for (a bulk file's batches: the
   * checkpoint that records them commits after them, and flushing its WAL flushes theirs, so a
   * database crash can lose batches the checkpoint does not cover, never one it does).
   */
  asyncCommit?: boolean;
}

/**
 * The start of every batch transaction. `jit = off`: the batch statements are many small probes
 * whose estimated cost passes `jit_above_cost` once a batch has a few hundred rows, and compiling
 * them took a quarter of a 1,000-order statement's time (measured: 48 of 190 ms).
 */
function beginSql(options: BatchCommitOptions): string {
  return `BEGIN; SET LOCAL client_min_messages = warning; SET LOCAL jit = off${options.asyncCommit ? '; SET LOCAL synchronous_commit = off' : ''}`;
}

/**
 * Runs `work` in one transaction on one pooled connection and commits (unless `work` committed it
 * itself and said so in `tx`); on any failure rolls back. A connection that cannot even roll back is
 * discarded rather than returned to the pool. `work` returning `undefined` asks for a rollback
 * without an error (the direct write's refusal).
 */
async function inTransaction<T>(pool: Required<PgQueryable>, work: (client: PgSessionClient, tx: { committed: boolean }) => Promise<T | undefined>): Promise<T | undefined> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // While checked out, a connection's own `error` event has no listener of the pool's: a connection
  // killed between two of these queries would otherwise crash the process. It is discarded on release.
  const onError = (error: Error) => { broken ??= error; };
  const events = client as unknown as { on?(e: 'error', l: (error: Error) => void): unknown; removeListener?(e: 'error', l: (error: Error) => void): unknown };
  events.on?.('error', onError);
  const tx = { committed: false };
  try {
    const result = await work(client, tx);
    if (!tx.committed) await client.query(result === undefined ? 'ROLLBACK' : 'COMMIT');
    return result;
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

/**
 * One transaction on one pooled connection: make sure the staging tables exist (created once per
 * connection, in the transaction so a transaction-pooling proxy cannot split them off), COPY each
 * input into its stage (all in one round trip, copy-trip.ts), run the statement, commit (which
 * empties the stages). On any failure the transaction rolls back: nothing of the batch is written.
 */
export async function stagedWrite<T>(pool: Required<PgQueryable>, statement: BatchStatement, tenantId: string, inputs: readonly (readonly unknown[])[], options: BatchCommitOptions = {}, chunks?: ChunkPool): Promise<{ count: number; rows: T[] }> {
  const result = await inTransaction(pool, async (client) => {
    await copyInOneTrip(client, `${beginSql(options)}; ${statement.stages.map(stageTableDdl).join('; ')}`, statement.stages.map((stage, k) => {
      const rows = inputs[k];
      return { table: stage, rows, chunks: areEncoded(rows) ? encodedChunks(rows, CHUNK_BYTES, '', chunks) : undefined };
    }), '', chunks);
    const r = await client.query(statement.staged, [tenantId]);
    return { count: r.rowCount ?? 0, rows: r.rows as T[] };
  });
  return result!;
}

/** SQLSTATEs of a direct write PostgreSQL refused: a key already stored, a parent not stored. */
const DIRECT_REFUSALS = new Set(['23505', '23503']);

/**
 * The distinct (parent id, tag) pairs of a child input that the parent check must probe: its
 * children whose parent the same batch does not write (the `bulk` statement takes those whatever the
 * parent's tag). A bulk file's children are written with their parent (the regroup window merges
 * them into its unit), so most batches probe nothing and skip the query.
 */
function parentsToProbe(c: ParentCheckInput, inputs: readonly (readonly unknown[])[]): Array<[string, string | null]> {
  if (inputs[c.input].length === 0) return [];
  const written = new Set<bigint>();
  if (c.parentInput !== null) for (const parent of inputs[c.parentInput] as readonly { id: bigint }[]) written.add(parent.id);
  const pairs = new Map<string, [string, string | null]>();
  for (const row of inputs[c.input]) {
    const parentId = c.parentId(row);
    if (written.has(parentId)) continue;
    const id = parentId.toString();
    const tag = (row as { syncTag?: string | null }).syncTag ?? null;
    pairs.set(`${id}\u0000${tag}`, [id, tag]);
  }
  return [...pairs.values()];
}

/**
 * A bulk batch streamed with COPY straight into its tables, in one transaction (see
 * {@link DirectWrite}). Resolves true when written, false when PostgreSQL refused it (a row already
 * stored, a child whose parent is not stored) or a bulk child's parent is not this operation's:
 * then nothing was written and the caller runs the upsert statement instead.
 */
export async function directWrite(pool: Required<PgQueryable>, direct: DirectWrite, tenantId: string, inputs: readonly (readonly unknown[])[], options: BatchCommitOptions = {}, chunks?: ChunkPool): Promise<boolean> {
  try {
    const done = await inTransaction(pool, async (client, tx) => {
      // The parent check's probes are known before anything is sent: without any, the batch commits
      // in the same round trip as its COPYs.
      const check = direct.parentCheck;
      const params: unknown[] = [tenantId];
      let probes = 0;
      for (const c of check?.inputs ?? []) {
        const pairs = parentsToProbe(c, inputs);
        probes += pairs.length;
        params.push(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
      }
      const copies = direct.tables.map((table, k) => {
        const rows = inputs[k];
        const columns: ColumnSpec<unknown>[] = [col('tenant_id', 'text', () => tenantId), ...table.columns];
        // Encoded rows (encoded-rows.ts) lack the tenant column: it goes before each line, escaped as any value.
        const encoded = areEncoded(rows) ? encodedChunks(rows, CHUNK_BYTES, `${copyTextValue(tenantId)}\t`, chunks) : undefined;
        return { table: { name: table.name, columns: columns as readonly ColumnSpec<never>[] }, rows, chunks: encoded };
      });
      await copyInOneTrip(client, beginSql(options), copies, probes === 0 ? 'COMMIT' : '', chunks);
      if (probes === 0) {
        tx.committed = true;
        return true;
      }
      const { rows: [r] } = await client.query(check!.sql, params);
      return (r as { bad: number }).bad > 0 ? undefined : true;
    });
    return done === true;
  } catch (error) {
    if (DIRECT_REFUSALS.has((error as { code?: string })?.code ?? '')) return false;
    throw error;
  }
}
