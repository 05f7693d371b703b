/**
 * Everything that touches the database: migrations, the embedded/PostgreSQL database factory,
 * and the set-based, tenant-scoped store.
 */
export { createStore } from './create-store.js';
export { migrate, MigrationError, MIGRATIONS_TABLE, type MigrateOptions, type MigrateResult } from './migrate.js';
export { createDatabaseHandle, resolveDatabase, type DatabaseHandle, type DatabaseHandleOptions } from './database-handle.js';
export type { PgQueryable } from './direct-pg.js';
export { createDatabase, resolveDatabaseTarget, DEFAULT_DATA_DIR, type DatabaseOptions } from './database.js';
export { DatabaseSetupError, explainDatabaseError, type DatabaseSetupCode } from './database-errors.js';
export { listOutstandingFailures, forgetFailures, type OutstandingFailure, type FailureFilter } from './failures.js';
export { readMigrationFiles, resolveMigrationsDir, type MigrationFile } from './migration-files.js';
export type { OrdersWriteResult, ProductsWriteResult } from './synced-data.js';
export type { PrismaLike, SqlExecutor } from './prisma-like.js';
export type * from './rows.js';
export type * from './types.js';
