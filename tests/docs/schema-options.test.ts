/**
 * docs/schema.md's Option A, as written: the prisma.config.ts block is loaded through Prisma's own
 * `defineConfig` (which refuses `tables.external` without the preview flag), and it lists every
 * table the SDK's migrations create, plus the SDK's migration record.
 */
import { describe, expect, it } from 'vitest';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function createdTables(): Promise<string[]> {
  const dir = path.join(root, 'prisma/migrations');
  const tables = new Set<string>();
  for (const entry of (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory())) {
    const sql = await readFile(path.join(dir, entry.name, 'migration.sql'), 'utf8');
    for (const match of sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?"([a-z_]+)"/g)) tables.add(match[1]!);
    for (const match of sql.matchAll(/DROP TABLE (?:IF EXISTS )?"([a-z_]+)"/g)) tables.delete(match[1]!);
  }
  return [...tables].sort();
}

describe('docs/schema.md, Option A', () => {
  it('the prisma.config.ts block loads with Prisma and names every table the SDK manages', async () => {
    const doc = await readFile(path.join(root, 'docs/schema.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Option A'), doc.indexOf('## Option B'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBeDefined();
    const file = path.join(root, 'tests/docs', `.option-a-${process.pid}.config.ts`);
    await writeFile(file, block!);
    try {
      const previous = process.env.DATABASE_URL;
      process.env.DATABASE_URL = 'postgresql://u@h/db';
      const config = (await import(file)).default as { tables?: { external?: string[] }; experimental?: { externalTables?: boolean } };
      if (previous === undefined) delete process.env.DATABASE_URL; else process.env.DATABASE_URL = previous;
      expect(config.experimental?.externalTables).toBe(true);
      const listed = (config.tables?.external ?? []).map((t) => t.replace(/^public\./, '')).sort();
      expect(listed).toEqual([...(await createdTables()), 'shopify_ingest_migrations'].sort());
    } finally {
      await rm(file, { force: true });
    }
  });

  it('without the preview flag Prisma refuses the same tables list (why the doc says so)', () => {
    expect(() => defineConfig({ tables: { external: ['public.shopify_tenants'] } } as never)).toThrow(/experimental\.externalTables/);
  });
});
