/**
 * docs/observability.md lists every instrument the SDK records, with its kind, unit and attributes:
 * the same table as INSTRUMENTS, from which the instruments are created.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { INSTRUMENTS } from '../../src/telemetry/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

it('docs/observability.md lists exactly the instruments of INSTRUMENTS, with their kind, unit and attributes', () => {
  const text = readFileSync(path.join(root, 'docs/observability.md'), 'utf8');
  const documented = new Map<string, { kind: string; unit: string; attributes: string[] }>();
  for (const line of text.split('\n')) {
    const match = /^\| `(shopify_ingest\.[^`]+)` \| (counter|histogram|gauge) \| `([^`]+)` \|([^|]*)\|/.exec(line);
    if (match) documented.set(match[1], { kind: match[2], unit: match[3], attributes: match[4].split(',').map((a) => a.trim()).filter(Boolean).sort() });
  }
  const expected = new Map(Object.values(INSTRUMENTS).map((spec) => [spec.name, {
    kind: spec.kind, unit: spec.unit, attributes: spec.attributes.map((a) => a.replace(/^shopify_ingest\./, '')).sort(),
  }]));
  expect([...documented.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [name, entry] of expected) expect(documented.get(name), name).toEqual(entry);
});
