/*
 * Turns what Prisma and the drivers throw while the service starts (several lines of banner, a
 * bare `ECONNREFUSED`, `relation "shopify_tenants" does not exist`) into one typed error that says
 * what to do.
 */
import { ShopifyIngestError } from '../errors.js';

/** Codes of {@link DatabaseSetupError}. */
export type DatabaseSetupCode = 'DATABASE_UNREACHABLE' | 'DATABASE_NOT_MIGRATED' | 'DATABASE_SCHEMA_MISMATCH' | 'DATABASE_IN_USE' | 'DATABASE_ERROR';

/**
 * The database could not be used at start-up: unreachable or refusing the credentials
 * (`DATABASE_UNREACHABLE`), without the SDK's tables (`DATABASE_NOT_MIGRATED`), with tables of
 * another shape (`DATABASE_SCHEMA_MISMATCH`), an embedded one in use elsewhere (`DATABASE_IN_USE`),
 * or another database error (`DATABASE_ERROR`).
 * The driver's error is the `cause`.
 *
 * @example
 * ```ts
 * try { await shopifyService.initialize() }
 * catch (e) { if (e instanceof DatabaseSetupError && e.code === 'DATABASE_NOT_MIGRATED') await migrate(prisma) }
 * ```
 */
export class DatabaseSetupError extends ShopifyIngestError {
  /**
   * Raised by the SDK; applications catch it.
   * @internal
   */
  constructor(code: DatabaseSetupCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
  }
}

/** PostgreSQL SQLSTATE of a driver/Prisma error, when it carries one. */
export function pgCodeOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; message?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } } | null;
  const original = e?.meta?.driverAdapterError?.cause?.originalCode;
  if (typeof original === 'string') return original;
  const fromMessage = typeof e?.message === 'string' ? /Code: `([0-9A-Z]{5})`/.exec(e.message)?.[1] : undefined;
  if (fromMessage) return fromMessage;
  return typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
}

const UNREACHABLE_ERRNO = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);
/** SQLSTATEs of a connection that was refused: bad password, unknown role or database, too many connections. */
const UNREACHABLE_SQLSTATE = new Set(['28P01', '28000', '3D000', '53300', '57P03', '08001', '08004', '08006']);
/** Prisma's own codes for "cannot reach" / "timed out" / "authentication failed" / "database does not exist". */
const UNREACHABLE_PRISMA = new Set(['P1000', 'P1001', 'P1002', 'P1003', 'P1010', 'P1017']);

/** Every error in a cause chain (and AggregateError members), outermost first. */
function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  const queue = [error];
  while (queue.length > 0 && out.length < 20) {
    const e = queue.shift();
    if (e === undefined || e === null || out.includes(e)) continue;
    out.push(e);
    if (e instanceof AggregateError) queue.push(...e.errors);
    const cause = (e as { cause?: unknown }).cause;
    if (cause !== undefined) queue.push(cause);
  }
  return out;
}

function codesOf(error: unknown): string[] {
  return chain(error).flatMap((e) => {
    const codes: string[] = [];
    const code = (e as { code?: unknown })?.code;
    if (typeof code === 'string') codes.push(code);
    const pg = pgCodeOf(e);
    if (pg) codes.push(pg);
    const message = (e as { message?: unknown })?.message;
    if (typeof message === 'string') {
      for (const errno of UNREACHABLE_ERRNO) if (message.includes(errno)) codes.push(errno);
      if (/does not exist/i.test(message) && /relation|table/i.test(message)) codes.push('42P01');
      if (/column .* does not exist/i.test(message)) codes.push('42703');
      if (/can't reach database server/i.test(message)) codes.push('P1001');
    }
    return codes;
  });
}

function lastLine(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const lines = raw.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines[lines.length - 1] ?? raw).replace(/^\[shopify-ingest\] /, '');
}

/**
 * A typed, actionable error for a database failure during `stage` (e.g. `initialize`). Errors of
 * the SDK's own family that are not plain store failures pass through unchanged.
 *
 * @example
 * ```ts
 * try { await migrate(prisma) } catch (e) { throw explainDatabaseError(e, 'initialize') }
 * ```
 */
export function explainDatabaseError(error: unknown, stage: string): unknown {
  // A store call already named the missing tables; say it again for `stage`, the step the user ran.
  if (error instanceof DatabaseSetupError && error.code === 'DATABASE_NOT_MIGRATED' && error.cause !== undefined) return explainDatabaseError(error.cause, stage);
  if (error instanceof ShopifyIngestError && !['STORE_FAILED', 'MIGRATION_FAILED'].includes(error.code)) return error;
  const codes = codesOf(error);
  const has = (set: ReadonlySet<string> | readonly string[]) => codes.some((c) => (set instanceof Set ? set.has(c) : (set as readonly string[]).includes(c)));
  const cause = lastLine(error);
  if (has(UNREACHABLE_ERRNO) || has(UNREACHABLE_SQLSTATE) || has(UNREACHABLE_PRISMA)) {
    return new DatabaseSetupError('DATABASE_UNREACHABLE', `${stage}: cannot use the database (${cause}). Check DATABASE_URL (host, port, user, password, database name) and that PostgreSQL is running.`, { cause: error, details: { stage, codes } });
  }
  if (has(['42P01', '3F000'])) return notMigratedError(stage, error, { codes });
  if (has(['42703', '42804', '42883'])) {
    return new DatabaseSetupError('DATABASE_SCHEMA_MISMATCH', `${stage}: the shopify_* tables do not match this version of shopify-ingest (${cause}). Run \`npx shopify-ingest migrate\`; if you merged the models into your own schema, copy them again from node_modules/shopify-ingest/prisma/schema.prisma and migrate.`, { cause: error, details: { stage, codes } });
  }
  if (error instanceof ShopifyIngestError) return error;
  return new DatabaseSetupError('DATABASE_ERROR', `${stage}: database error: ${cause}. Check DATABASE_URL and that \`npx shopify-ingest migrate\` ran.`, { cause: error, details: { stage, codes } });
}

/** PostgreSQL's `relation "shopify_tenants" does not exist` (42P01, undefined_table) for one of the SDK's tables. */
const MISSING_SHOPIFY_TABLE = /relation "(?:[^"]*\.)?shopify_[^"]*" does not exist/i;

/**
 * Whether a store call failed because one of the SDK's `shopify_*` tables is missing: the database
 * was never migrated. A missing table of the host's own is not this.
 */
export function isMissingShopifyTable(error: unknown): boolean {
  return chain(error).some((e) => {
    const message = (e as { message?: unknown })?.message;
    return typeof message === 'string' && MISSING_SHOPIFY_TABLE.test(message) && (pgCodeOf(e) ?? '42P01') === '42P01';
  });
}

/**
 * `DATABASE_NOT_MIGRATED` for `stage`, naming the command that fixes it. Raised by `initialize`
 * and by any store call (importData, addTenant, getSyncStatus...) made before the tables exist.
 */
export function notMigratedError(stage: string, error: unknown, details: Record<string, unknown> = {}): DatabaseSetupError {
  return new DatabaseSetupError('DATABASE_NOT_MIGRATED', `${stage}: the shopify_* tables are missing (${lastLine(error)}). Run \`npx shopify-ingest migrate\` (with the same DATABASE_URL), or leave autoMigrate on; if you merged the models into your own schema, create and apply your migration.`, { cause: error, details: { stage, ...details } });
}
