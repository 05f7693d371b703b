import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script without types
import { adminSchemaModule } from '../../scripts/admin-schema.mjs';
import { adminSchema } from '../../src/testing/admin-schema.js';
import { fixturesDir } from '../helpers/db.js';
import { adminSchemaErrors, adminSchemaMissing } from '../helpers/schema-validate.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe.skipIf(adminSchemaMissing)(`the simulator's schema is Shopify's 2026-10 Admin schema${adminSchemaMissing ? ` (skipped: ${adminSchemaMissing})` : ''}`, () => {
  it('regenerating it from the fixture gives the committed file', () => {
    const committed = readFileSync(path.join(root, 'src/testing/admin-schema.generated.ts'), 'utf8');
    expect(adminSchemaModule(path.join(fixturesDir(), 'admin-schema/admin_2026-10.json.gz'))).toBe(committed);
  });

  it('accepts and rejects the same documents as the fixture', async () => {
    const { validate, parse } = await import('graphql');
    for (const doc of ['{ orders(first: 1) { nodes { id lineItems(first: 2) { nodes { id currentQuantity } } } } }', '{ orders(first: 1) { nodes { id nope } } }', '{ bulkOperations(first: 1, query: "status:running") { nodes { id status } } }']) {
      expect(validate(adminSchema(), parse(doc)).map((e) => e.message)).toEqual(adminSchemaErrors(doc));
    }
  });
});
