import { StoreError } from '../errors.js';
import type { ErrorCode } from '../error-codes.js';
import { DatabaseSetupError, isMissingShopifyTable, notMigratedError, pgCodeOf } from './database-errors.js';

export { pgCodeOf };

/** SQLSTATEs of conditions that pass by themselves: lost or refused connections, shutdowns, too many connections, serialisation failures, deadlocks. */
const TRANSIENT_SQLSTATE = /^(08...|57P0[123]|53300|40001|40P01)$/;

/** Whether a database error with this SQLSTATE passes by itself. */
export function isTransientSqlState(code: string | undefined): boolean {
  return code !== undefined && TRANSIENT_SQLSTATE.test(code);
}

/**
 * Wraps a driver/Prisma error as a {@link StoreError} naming the operation and tenant.
 * Prisma's raw-query errors are several lines of banner; the last line carries PostgreSQL's message.
 * A missing `shopify_*` table is `DATABASE_NOT_MIGRATED` (docs/errors.md), whichever call met it
 * first: the fix is `npx shopify-ingest migrate`, not a retry.
 */
export function storeFailure(operation: string, tenantId: string | undefined, error: unknown, details: Record<string, unknown> = {}, code?: ErrorCode): StoreError | DatabaseSetupError {
  if (error instanceof StoreError || error instanceof DatabaseSetupError) return error;
  if (isMissingShopifyTable(error)) {
    return notMigratedError(`${operation}${tenantId ? ` (tenant ${tenantId})` : ''}`, error, { operation, tenantId, pgCode: '42P01', ...details });
  }
  const raw = error instanceof Error ? error.message : String(error);
  const lines = raw.split('\n').map((l) => l.trim()).filter(Boolean);
  const message = lines[lines.length - 1] ?? raw;
  const pgCode = pgCodeOf(error);
  return new StoreError(`${operation} failed${tenantId ? ` (tenant ${tenantId})` : ''}: ${message}`, {
    cause: error,
    code,
    // A condition the SDK named (orphan rows, bad input) will not pass; a SQLSTATE says whether it
    // does; a failure without one (a lost connection, the driver) may: idempotent writes retry it.
    retryable: code !== undefined ? false : pgCode !== undefined ? isTransientSqlState(pgCode) : true,
    details: { operation, tenantId, pgCode, ...details },
  });
}

/** Every row of a batch must belong to the tenant the call is for: a row of another tenant is refused, not rewritten. */
export function checkTenantOfRows(tenantId: string, kind: string, rows: readonly { tenantId?: string }[]): void {
  for (const row of rows) {
    if (row.tenantId !== undefined && row.tenantId !== tenantId) {
      throw new StoreError(`a ${kind} row of tenant ${row.tenantId} was passed to a write for tenant ${tenantId}`, {
        code: 'TENANT_MISMATCH',
        details: { tenantId, rowTenantId: row.tenantId, kind },
      });
    }
  }
}
