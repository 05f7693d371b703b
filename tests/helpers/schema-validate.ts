import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildClientSchema, parse, validate, type GraphQLSchema } from 'graphql';
import { fixturesDir } from './db.js';

const file = path.join(fixturesDir(), 'admin-schema/admin_2026-10.json.gz');

/** Why schema tests are skipped, or null when Shopify's 2026-10 schema fixture is present. */
export const adminSchemaMissing: string | null = existsSync(file) ? null : `Shopify's Admin schema fixture is missing (${file}); see ../shared/fixtures/README.md`;

let schema: GraphQLSchema | undefined;

/** Validation errors of `document` against Shopify's own 2026-10 Admin schema (empty = valid). */
export function adminSchemaErrors(document: string): string[] {
  schema ??= buildClientSchema(JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')).data);
  return validate(schema, parse(document)).map((e) => e.message);
}
