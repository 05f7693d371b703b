// Prisma's schema engine (WASM build), usable offline: Prisma 7's CLI downloads a native engine
// for `migrate` and cannot here. Used by scripts/migration-create.mjs and the drift test.
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

export async function openSchemaEngine({ host = '127.0.0.1', port = 5432, user = 'postgres', password, database = 'test' } = {}) {
  const bg = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  const wasmPath = path.join(path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')), 'schema_engine_bg.wasm');
  const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), { './schema_engine_bg.js': bg });
  bg.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start?.();
  const { bindMigrationAwareSqlAdapterFactory } = await import('@prisma/driver-adapter-utils');
  const { PrismaPg } = await import('@prisma/adapter-pg');
  // adapter-pg creates a shadow database only when given host/user/database fields, not a URL.
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ host, port, user, password, database }));
  return bg.SchemaEngine.new({ datamodels: undefined }, () => {}, adapter);
}

export const emptyFilters = { externalTables: [], externalEnums: [] };

export async function schemaFiles(root) {
  const file = path.join(root, 'prisma/schema.prisma');
  return [{ path: file, content: await readFile(file, 'utf8') }];
}

export async function migrationList(root) {
  const baseDir = path.join(root, 'prisma/migrations');
  let entries = [];
  try { entries = (await readdir(baseDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort(); } catch {}
  const migrationDirectories = [];
  for (const name of entries) {
    const content = await readFile(path.join(baseDir, name, 'migration.sql'), 'utf8');
    migrationDirectories.push({ path: name, migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: content } } });
  }
  let lock = null;
  try { lock = await readFile(path.join(baseDir, 'migration_lock.toml'), 'utf8'); } catch {}
  return { baseDir, lockfile: { path: 'migration_lock.toml', content: lock }, shadowDbInitScript: '', migrationDirectories };
}
