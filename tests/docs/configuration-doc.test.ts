/**
 * docs/configuration.md's Variables table against loadConfig: the same variables and option names
 * as CONFIG_VARIABLES, the defaults loadConfig fills in, and the integer ranges it accepts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Row { variable: string; option: string; defaultCell: string; valid: string }

function documentedRows(): Row[] {
  const text = readFileSync(path.join(root, 'docs/configuration.md'), 'utf8');
  const table = text.slice(text.indexOf('## Variables'), text.indexOf('## What is required when'));
  const rows: Row[] = [];
  for (const line of table.split('\n')) {
    const match = /^\| `([A-Z_]+)` \| `(\w+)`[^|]* \| ([^|]*) \| ([^|]*) \| [^|]* \|$/.exec(line);
    if (match) rows.push({ variable: match[1]!, option: match[2]!, defaultCell: match[3]!, valid: match[4]! });
  }
  return rows;
}

const KEY = 'k'.repeat(32);
const defaults = loadConfig({ encryptionKey: KEY }, {}) as unknown as Record<string, unknown>;

describe('docs/configuration.md, Variables', () => {
  const rows = documentedRows();

  it('lists every variable loadConfig reads, under its option name (and migrate\'s directory)', () => {
    const documented = Object.fromEntries(rows.map((r) => [r.option, r.variable]));
    expect(documented).toEqual({ ...CONFIG_VARIABLES, migrationsDir: 'SHOPIFY_INGEST_MIGRATIONS_DIR' });
  });

  it('the defaults are the ones loadConfig fills in', () => {
    let checked = 0;
    for (const row of rows) {
      if (!(row.option in CONFIG_VARIABLES) || row.option === 'encryptionKey') continue; // given, as it is required
      const literal = /^`([^`]+)`$/.exec(row.defaultCell)?.[1];
      if (row.defaultCell.startsWith('none')) expect(defaults[row.option], row.variable).toBeUndefined();
      else if (literal === '[]') expect(defaults[row.option], row.variable).toEqual([]);
      else if (literal !== undefined && literal !== 'ENCRYPTION_KEY') expect(String(defaults[row.option]), row.variable).toBe(literal);
      else continue;
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  it('the documented ranges are the ones loadConfig accepts', () => {
    let checked = 0;
    for (const row of rows) {
      const range = /^(integer|number > 0, at most) (\d+)(?:\.\.(\d+))?/.exec(row.valid);
      if (!range) continue;
      const accepts = (value: number) => {
        try { loadConfig({ encryptionKey: KEY }, { [row.variable]: String(value) }); return true; } catch { return false; }
      };
      const [low, high] = range[1] === 'integer' ? [Number(range[2]), Number(range[3])] : [0, Number(range[2])];
      if (range[1] === 'integer') {
        expect(accepts(low) && !accepts(low - 1), `${row.variable} low end`).toBe(true);
      } else expect(accepts(0.5) && !accepts(0), `${row.variable} > 0`).toBe(true);
      expect(accepts(high) && !accepts(high + 1), `${row.variable} high end ${high}`).toBe(true);
      checked++;
    }
    expect(checked).toBe(4);
  });
});
