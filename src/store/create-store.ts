import { resolveDatabase, type DatabaseHandle } from './database-handle.js';
import type { PrismaLike } from './prisma-like.js';
import { createPrivacyStore } from './privacy.js';
import { createRunLockStore } from './run-locks.js';
import { createSyncStateStore } from './sync-state.js';
import { createSyncedDataStore } from './synced-data.js';
import { createTenantStore } from './tenants.js';
import type { IngestStore } from './types.js';

/**
 * The SDK's data access: set-based, idempotent, tenant-scoped writes of synced Shopify data, plus
 * tenants, checkpoints, run history and privacy erasure. Every statement is SQL on the `shopify_*`
 * tables through `$queryRawUnsafe`/`$executeRawUnsafe`, so any PrismaClient whose schema includes
 * the SDK's models works (PostgreSQL via adapter-pg, or the embedded PGlite).
 *
 * Writes of a batch are ONE statement per call (`INSERT ... SELECT ... ON CONFLICT`), reading the
 * batch from COPY-filled staging tables when the database handle has a pg pool
 * ({@link createDatabaseHandle}) or from one JSON parameter otherwise: an order batch with its line
 * items and events commits or fails as a whole. Versions follow one
 * rule (see `versioning.ts`): an incoming row wins when its `shopifyUpdatedAt` is newer or equal,
 * and never resurrects a tombstone.
 *
 * @example
 * ```ts
 * import { createDatabase, createStore } from 'shopify-ingest';
 *
 * const store = createStore(await createDatabase());
 * await store.upsertTenant({ id: 'acme', shopDomain: 'acme.myshopify.com', accessTokenEnc: cipher });
 * const { written, stale } = await store.upsertCustomers('acme', rows); // rows from ShopifyTransformer
 * const counts = await store.countRecords('acme');
 * ```
 */
export function createStore(database: PrismaLike | DatabaseHandle): IngestStore {
  const db = resolveDatabase(database);
  const { prisma } = db;
  return {
    ...createSyncedDataStore(db),
    ...createTenantStore(prisma),
    ...createSyncStateStore(prisma),
    ...createRunLockStore(prisma),
    ...createPrivacyStore(prisma),
  };
}
