import { createTestDatabase } from '../helpers/db.js';
import { defineStoreSuite } from './store-suite.js';

// Batch writes straight to the pg pool of a database handle...
defineStoreSuite('PostgreSQL (adapter-pg, batch writes on the pg pool)', async () => {
  const db = await createTestDatabase({ prefix: 'si_store' });
  return { prisma: db.prisma, database: db.database, close: () => db.drop() };
});

// ...and through Prisma's raw-query path (a plain PrismaClient, no handle).
defineStoreSuite('PostgreSQL (adapter-pg, batch writes through Prisma)', async () => {
  const db = await createTestDatabase({ prefix: 'si_store_prisma', directWrites: false });
  return { prisma: db.prisma, database: db.prisma, close: () => db.drop() };
});
