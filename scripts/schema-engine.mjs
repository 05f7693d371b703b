// Prisma's schema engine (WASM build), usable offline: Prisma 7's CLI downloads a native engine
// for `migrate` and cannot here. Used by scripts/migration-create.mjs and the drift test.
import { randomUUID } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';

const require = createRequire(import.meta.url);

/**
 * `shadowPrefix` names the throwaway databases a diff `from: { tag: 'migrations' }` replays the
 * migrations in (tests pass their own to check none is left behind).
 */
export async function openSchemaEngine({ host = '127.0.0.1', port = 5432, user = 'postgres', password, database = 'test', shadowPrefix = 'prisma_migrate_shadow_db_' } = {}) {
  const bg = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  const wasmPath = path.join(path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')), 'schema_engine_bg.wasm');
  const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), { './schema_engine_bg.js': bg });
  bg.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start?.();
  const { bindMigrationAwareSqlAdapterFactory } = await import('@prisma/driver-adapter-utils');
  const { PrismaPg } = await import('@prisma/adapter-pg');
  const adapter = bindMigrationAwareSqlAdapterFactory(migrationAwarePg(PrismaPg, { host, port, user, password, database }, shadowPrefix));
  return bg.SchemaEngine.new({ datamodels: undefined }, () => {}, adapter);
}

/**
 * adapter-pg 7.10 as the WASM schema engine needs it, with two of its gaps closed on our side:
 *
 * - Its connectToShadowDb disposes the shadow database by running `DROP DATABASE` before ending
 *   the shadow pool (PostgreSQL refuses: "is being accessed by other users"), and never ends the
 *   pool it ran CREATE DATABASE from. Ours creates and drops the database on short-lived admin
 *   connections, ends the shadow pool first, and drops WITH (FORCE) (PostgreSQL 13+) so no
 *   prisma_migrate_shadow_db_* outlives a diff, even one that failed.
 * - It has no column type for `"char"` (OID 18), which pg_catalog uses for relkind, contype,
 *   confdeltype and more, so the engine cannot describe the shadow database's schema. Its text
 *   form is the character itself, so our pools report such columns as text.
 */
function migrationAwarePg(PrismaPg, config, shadowPrefix) {
  // disposeExternalPool: the adapter's dispose ends the pool we hand it, as it does its own.
  const connectTo = (database) => new PrismaPg(new pg.Pool({ ...config, database, Client: CharAsTextClient }), { disposeExternalPool: true }).connect();
  return {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: () => connectTo(config.database),
    async connectToShadowDb() {
      const name = `${shadowPrefix}${randomUUID()}`;
      await onAdminConnection(config, (c) => c.query(`CREATE DATABASE "${name}"`));
      let shadow;
      try {
        shadow = await connectTo(name);
      } catch (error) {
        await dropDatabase(config, name);
        throw error;
      }
      const endPool = shadow.dispose.bind(shadow);
      shadow.dispose = async () => {
        try { await endPool(); } finally { await dropDatabase(config, name); }
      };
      return shadow;
    },
  };
}

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

function charAsText(result) {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const field of r?.fields ?? []) if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
  }
  return result;
}

/** A pg.Client whose results report `"char"` columns as text (see migrationAwarePg). */
class CharAsTextClient extends pg.Client {
  query(config, values, callback) {
    if (typeof values === 'function') [values, callback] = [undefined, values];
    if (typeof config?.submit === 'function') return super.query(config, values, callback);
    if (callback) return super.query(config, values, (error, result) => callback(error, error ? result : charAsText(result)));
    return super.query(config, values).then(charAsText);
  }
}

async function onAdminConnection(config, fn) {
  const client = new pg.Client(config);
  await client.connect();
  try { return await fn(client); } finally { await client.end(); }
}

function dropDatabase(config, name) {
  return onAdminConnection(config, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

export const emptyFilters = { externalTables: [], externalEnums: [] };

export async function schemaFiles(root) {
  const file = path.join(root, 'prisma/schema.prisma');
  return [{ path: file, content: await readFile(file, 'utf8') }];
}

export async function migrationList(root) {
  const baseDir = path.join(root, 'prisma/migrations');
  let entries = [];
  try { entries = (await readdir(baseDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort(); } catch { /* no migrations yet */ }
  const migrationDirectories = [];
  for (const name of entries) {
    const content = await readFile(path.join(baseDir, name, 'migration.sql'), 'utf8');
    migrationDirectories.push({ path: name, migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: content } } });
  }
  let lock = null;
  try { lock = await readFile(path.join(baseDir, 'migration_lock.toml'), 'utf8'); } catch { /* no lock file yet */ }
  return { baseDir, lockfile: { path: 'migration_lock.toml', content: lock }, shadowDbInitScript: '', migrationDirectories };
}
