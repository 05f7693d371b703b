/**
 * The part of a PrismaClient the SDK uses. Every SDK query is SQL on the `shopify_*` tables,
 * so any client generated from a schema that includes ours (your own merged schema, or ours)
 * fits, whatever other models it has.
 */
export interface SqlExecutor {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

/** A PrismaClient (or anything with the same raw-SQL and transaction surface). */
export interface PrismaLike extends SqlExecutor {
  $transaction<R>(fn: (tx: SqlExecutor) => Promise<R>, options?: { maxWait?: number; timeout?: number; isolationLevel?: string }): Promise<R>;
  $disconnect(): Promise<void>;
}
