/**
 * `shopify-ingest/prisma`: a Prisma client generated from the SDK's own schema, and
 * {@link createDatabase}, which opens PostgreSQL (`DATABASE_URL`) or the embedded database and
 * applies the migrations. Apps that merged the SDK's models into their own schema use their own
 * generated client and never need this entry; it is separate so the root entry's types stay free
 * of the generated client's.
 *
 * @packageDocumentation
 */
export { PrismaClient, type PrismaClientOptions } from './prisma-client.js';
export { createDatabase, DEFAULT_DATA_DIR, type DatabaseClient, type DatabaseOptions } from './store/database.js';
