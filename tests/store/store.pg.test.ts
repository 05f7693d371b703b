import { createTestDatabase } from '../helpers/db.js';
import { defineStoreSuite } from './store-suite.js';

defineStoreSuite('PostgreSQL (adapter-pg)', async () => {
  const db = await createTestDatabase({ prefix: 'si_store' });
  return { prisma: db.prisma, close: () => db.drop() };
});
