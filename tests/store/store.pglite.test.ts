import { createDatabase } from '../../src/store/index.js';
import { defineStoreSuite } from './store-suite.js';

defineStoreSuite('embedded PGlite', async () => {
  const prisma = await createDatabase({ dataDir: 'memory://', env: {} });
  return { prisma, close: () => prisma.$disconnect() };
});
