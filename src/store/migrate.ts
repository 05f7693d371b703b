import { ShopifyIngestError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { readMigrationFiles, resolveMigrationsDir, type MigrationFile } from './migration-files.js';
import type { PrismaLike, SqlExecutor } from './prisma-like.js';
import { resolveDatabase, type DatabaseHandle } from './database-handle.js';
import { splitSqlStatements } from './sql-split.js';

/** The SDK's own record of applied migrations. `_prisma_migrations` belongs to the host's Prisma Migrate. */
export const MIGRATIONS_TABLE = 'shopify_ingest_migrations';

/**
 * Key of the transaction-scoped advisory lock `migrate()` takes. Any constant works as long as it is
 * the same in every process; this one is the first 8 bytes of sha256("shopify-ingest:migrate") as a signed int8.
 */
export const MIGRATION_LOCK_KEY = 1_908_470_931_022_582_707n;

/**
 * A migration could not be applied (`MIGRATION_FAILED`; its transaction was rolled back), or an
 * applied one no longer matches its file (`MIGRATION_CHECKSUM_MISMATCH`). `details.migration` names it.
 *
 * @example
 * ```ts
 * try { await migrate(prisma) }
 * catch (e) { if (e instanceof MigrationError && e.code === 'MIGRATION_CHECKSUM_MISMATCH') console.error(e.details) }
 * ```
 */
export class MigrationError extends ShopifyIngestError {
  /**
   * Raised by the SDK; applications catch it.
   * @internal
   */
  constructor(code: 'MIGRATION_CHECKSUM_MISMATCH' | 'MIGRATION_FAILED', message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
  }
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Where it logs. */
  logger?: Logger;
  /** Where the `<timestamp>_<name>/migration.sql` folders are; defaults to the package's `prisma/migrations`. */
  migrationsDir?: string;
  /** The migrations themselves (overrides `migrationsDir`), e.g. for tests or a bundle that embeds them. */
  migrations?: MigrationFile[];
  /** How long the migrating transaction (including waiting for another process's lock) may take. Default 5 minutes. */
  timeoutMs?: number;
}

/** What {@link migrate} did. */
export interface MigrateResult {
  /** Migrations this call ran. */
  applied: string[];
  /** Migrations found already recorded. */
  alreadyApplied: string[];
  /** Migrations recorded without running because the host's `prisma migrate deploy` had applied them. */
  baselined: string[];
  /** Recorded migrations this version does not know (a newer version migrated the database); absent when none. */
  unknown?: string[];
}

interface AppliedRow { name: string; checksum: string }

/**
 * Applies the SDK's pending SQL migrations (prisma/migrations) to the database, idempotently.
 *
 * Everything happens in one transaction holding `pg_advisory_xact_lock`, so two processes that
 * start together serialise: the second waits, then sees the first's work and applies nothing.
 * Each migration is recorded in `shopify_ingest_migrations` (name, sha256 checksum, applied_at);
 * a recorded migration whose file changed since is refused ({@link MigrationError}
 * `MIGRATION_CHECKSUM_MISMATCH`), because the database no longer matches what the file says.
 * A migration the host already applied with `prisma migrate deploy` (listed as finished in
 * `_prisma_migrations`) is recorded without running again.
 *
 * Works with adapter-pg and PGlite: statements are sent one at a time, since PGlite's adapter
 * cannot run a multi-statement string.
 *
 * @example
 * ```ts
 * import { PrismaClient } from './generated/prisma/client.js';
 * import { PrismaPg } from '@prisma/adapter-pg';
 * import { migrate } from 'shopify-ingest';
 *
 * const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }) });
 * const { applied } = await migrate(prisma);
 * console.log(applied); // ['20261124041312_init'] the first time, [] afterwards
 * ```
 */
export async function migrate(database: PrismaLike | DatabaseHandle, options: MigrateOptions = {}): Promise<MigrateResult> {
  const { prisma } = resolveDatabase(database);
  const logger = options.logger ?? silentLogger;
  const migrations = options.migrations ?? (await readMigrationFiles(resolveMigrationsDir(options.migrationsDir)));
  const timeout = options.timeoutMs ?? 300_000;
  const started = Date.now();
  const result = await prisma.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      await tx.$executeRawUnsafe(
        `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (
          "name" TEXT PRIMARY KEY,
          "checksum" TEXT NOT NULL,
          "applied_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
          "baselined" BOOLEAN NOT NULL DEFAULT false
        )`,
      );
      const recorded = await tx.$queryRawUnsafe<AppliedRow[]>(`SELECT "name", "checksum" FROM "${MIGRATIONS_TABLE}" ORDER BY "name"`);
      const byName = new Map(recorded.map((r) => [r.name, r.checksum]));
      for (const m of migrations) {
        const stored = byName.get(m.name);
        if (stored !== undefined && stored !== m.checksum) {
          throw new MigrationError(
            'MIGRATION_CHECKSUM_MISMATCH',
            `migration ${m.name} was applied with checksum ${stored} but its file now has ${m.checksum}: applied migrations must not be edited; add a new migration instead`,
            { details: { migration: m.name, applied: stored, file: m.checksum } },
          );
        }
      }
      const known = new Set(migrations.map((m) => m.name));
      const unknown = recorded.filter((r) => !known.has(r.name)).map((r) => r.name);
      if (unknown.length) logger.warn('database has shopify-ingest migrations this version does not know (a newer version migrated it?)', { migrations: unknown });

      const pending = migrations.filter((m) => !byName.has(m.name));
      const applied: string[] = [];
      const baselined: string[] = [];
      const deployedByPrisma = pending.length ? await prismaMigrateApplied(tx) : new Set<string>();
      for (const m of pending) {
        if (deployedByPrisma.has(m.name)) {
          await record(tx, m, true);
          baselined.push(m.name);
          logger.info('migration already applied by prisma migrate; recorded', { migration: m.name });
          continue;
        }
        const t0 = Date.now();
        for (const statement of splitSqlStatements(m.sql)) {
          try {
            await tx.$executeRawUnsafe(statement);
          } catch (error) {
            throw new MigrationError('MIGRATION_FAILED', `migration ${m.name} failed: ${(error as Error).message}`, {
              cause: error,
              details: { migration: m.name, statement: statement.slice(0, 500) },
            });
          }
        }
        await record(tx, m, false);
        applied.push(m.name);
        logger.info('migration applied', { migration: m.name, ms: Date.now() - t0 });
      }
      return { applied, alreadyApplied: migrations.filter((m) => byName.has(m.name)).map((m) => m.name), baselined, ...(unknown.length ? { unknown } : {}) };
    },
    { timeout, maxWait: timeout },
  );
  logger.debug('migrations checked', { applied: result.applied.length, ms: Date.now() - started });
  return result;
}

async function record(tx: SqlExecutor, m: MigrationFile, baselined: boolean): Promise<void> {
  await tx.$executeRawUnsafe(`INSERT INTO "${MIGRATIONS_TABLE}" ("name", "checksum", "baselined") VALUES ($1, $2, $3)`, m.name, m.checksum, baselined);
}

/** Names of migrations the host's `prisma migrate deploy` finished, when it manages this database. */
async function prismaMigrateApplied(tx: SqlExecutor): Promise<Set<string>> {
  const [{ table }] = await tx.$queryRawUnsafe<{ table: string | null }[]>(`SELECT to_regclass('_prisma_migrations')::text AS "table"`);
  if (!table) return new Set();
  const rows = await tx.$queryRawUnsafe<{ name: string }[]>(
    `SELECT migration_name AS "name" FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  return new Set(rows.map((r) => r.name));
}
