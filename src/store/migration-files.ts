import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';

/** One migration of prisma/migrations, as `migrate()` applies it. */
export interface MigrationFile {
  /** Directory name, e.g. `20261124041312_init`; migrations apply in this (timestamp) order. */
  name: string;
  /** The SQL, line endings normalised to `\n`. */
  sql: string;
  /** sha256 (hex) of `sql`: a migration edited after it was applied is an error. */
  checksum: string;
}

const PACKAGE_NAME = 'shopify-ingest';

/**
 * The directory holding the package's `prisma/migrations`.
 *
 * The SQL ships in the package (`files: ["dist", "prisma"]`), so it is found by walking up from
 * this module to the `package.json` named `shopify-ingest`: that works from `src/` (tests),
 * from the bundled `dist/index.js` / `index.cjs`, and from `node_modules/shopify-ingest/dist`.
 * Bundlers that move code away from its package (e.g. a serverless bundle) can pass
 * `migrationsDir` or set `SHOPIFY_INGEST_MIGRATIONS_DIR`.
 *
 * @example
 * ```ts
 * resolveMigrationsDir(); // '/app/node_modules/shopify-ingest/prisma/migrations'
 * ```
 */
export function resolveMigrationsDir(explicit?: string, moduleUrl: string = import.meta.url): string {
  const configured = explicit ?? process.env.SHOPIFY_INGEST_MIGRATIONS_DIR;
  if (configured) return path.resolve(configured);
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
        if (name === PACKAGE_NAME) return path.join(dir, 'prisma', 'migrations');
      } catch {
        // An unreadable package.json on the way up is not ours: keep walking.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new ConfigError(`cannot find ${PACKAGE_NAME}'s prisma/migrations above ${fileURLToPath(moduleUrl)}; pass migrationsDir or set SHOPIFY_INGEST_MIGRATIONS_DIR`);
}

/** sha256 hex of a migration's SQL (callers normalise line endings first: a CRLF checkout is not a change). */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/**
 * Reads every `<dir>/<name>/migration.sql`, sorted by name, with its checksum.
 *
 * @example
 * ```ts
 * const migrations = await readMigrationFiles(resolveMigrationsDir());
 * console.log(migrations.map((m) => m.name)); // ['20261124041312_init']
 * ```
 */
export async function readMigrationFiles(dir: string): Promise<MigrationFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new ConfigError(`cannot read migrations directory ${dir}`, { cause: error });
  }
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const files: MigrationFile[] = [];
  for (const name of names) {
    const file = path.join(dir, name, 'migration.sql');
    if (!existsSync(file)) continue;
    const sql = (await readFile(file, 'utf8')).replace(/\r\n/g, '\n');
    files.push({ name, sql, checksum: migrationChecksum(sql) });
  }
  return files;
}
