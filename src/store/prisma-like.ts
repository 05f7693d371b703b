/**
 * The part of a PrismaClient the SDK uses. Every SDK query is SQL on the `shopify_*` tables,
 * so any client generated from a schema that includes ours (your own merged schema, or ours)
 * fits, whatever other models it has.
 */
export interface SqlExecutor {
  /** Runs a statement; resolves to the affected row count. */
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  /** Runs a query; resolves to its rows. */
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

/** A PrismaClient (or anything with the same raw-SQL and transaction surface). */
export interface PrismaLike extends SqlExecutor {
  /** Runs `fn` in one transaction (committed when it resolves, rolled back when it throws). */
  $transaction<R>(fn: (tx: SqlExecutor) => Promise<R>, options?: { maxWait?: number; timeout?: number; isolationLevel?: string }): Promise<R>;
  /** Closes the connections. */
  $disconnect(): Promise<void>;
}
