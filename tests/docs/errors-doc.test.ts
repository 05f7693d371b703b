/**
 * docs/errors.md lists every error code with its meaning and retryability: the same table as
 * ERROR_CODES, which the error classes' constructors are typed against.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/error-codes.js';
import { ShopifyIngestError } from '../../src/errors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function documentedCodes(): Map<string, { retryable: string; meaning: string }> {
  const text = readFileSync(path.join(root, 'docs/errors.md'), 'utf8');
  const rows = new Map<string, { retryable: string; meaning: string }>();
  for (const line of text.split('\n')) {
    const match = /^\| `([^`]+)` \| (yes|no|varies) \| (.*) \|$/.exec(line);
    if (match) rows.set(match[1], { retryable: match[2], meaning: match[3] });
  }
  return rows;
}

describe('docs/errors.md', () => {
  it('lists exactly the codes of ERROR_CODES, with the same retryability and meaning', () => {
    const documented = documentedCodes();
    const expected = new Map(Object.entries(ERROR_CODES).map(([code, v]) => [code, { retryable: v.retryable === 'varies' ? 'varies' : v.retryable ? 'yes' : 'no', meaning: v.meaning }]));
    expect([...documented.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [code, entry] of expected) expect(documented.get(code), code).toEqual(entry);
  });

  it('one name for one condition: no code is a near-duplicate of another', () => {
    const codes = Object.keys(ERROR_CODES);
    expect(codes).not.toContain('TENANT_SHOP_TAKEN');
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('errors default to not retryable and carry their code', () => {
    const error = new ShopifyIngestError('CONFIG_INVALID', 'x');
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', retryable: false, message: '[shopify-ingest] x' });
  });
});
