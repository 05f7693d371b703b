import { createDatabase } from '../../src/store/index.js';
import { defineStoreSuite } from './store-suite.js';

// PGlite boots a WASM PostgreSQL (initdb included) in the suite's beforeAll, which allows for a loaded machine.
defineStoreSuite('embedded PGlite', async () => {
  const prisma = await createDatabase({ dataDir: 'memory://', env: {} });
  return { prisma, database: prisma, close: () => prisma.$disconnect() };
});
