import { StoreError } from '../errors.js';

/**
 * Wraps a driver/Prisma error as a {@link StoreError} naming the operation and tenant.
 * Prisma's raw-query errors are several lines of banner; the last line carries PostgreSQL's message.
 */
export function storeFailure(operation: string, tenantId: string | undefined, error: unknown, details: Record<string, unknown> = {}, code?: string): StoreError {
  if (error instanceof StoreError) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const lines = raw.split('\n').map((l) => l.trim()).filter(Boolean);
  const message = lines[lines.length - 1] ?? raw;
  const pgCode = /Code: `([0-9A-Z]{5})`/.exec(raw)?.[1] ?? (error as { code?: string } | null)?.code;
  return new StoreError(`${operation} failed${tenantId ? ` (tenant ${tenantId})` : ''}: ${message}`, {
    cause: error,
    code,
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
