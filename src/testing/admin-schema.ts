/**
 * Shopify's 2026-10 Admin GraphQL schema, the one the simulator validates every request against
 * (see scripts/admin-schema.mjs). Built once per process on first use (about 0.4 s) and shared:
 * a schema is immutable.
 */
import { gunzipSync } from 'node:zlib';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { ADMIN_SCHEMA_2026_10_GZ_BASE64 } from './admin-schema.generated.js';

let built: GraphQLSchema | undefined;

/** The schema (built on first call). */
export function adminSchema(): GraphQLSchema {
  built ??= buildSchema(gunzipSync(Buffer.from(ADMIN_SCHEMA_2026_10_GZ_BASE64, 'base64')).toString('utf8'), { assumeValidSDL: true });
  return built;
}
