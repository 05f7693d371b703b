import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    prisma: 'src/prisma.ts',
    'adapters/express': 'src/adapters/express.ts',
    'adapters/fastify': 'src/adapters/fastify.ts',
    'adapters/next': 'src/adapters/next.ts',
    'testing/index': 'src/testing/index.ts',
    'cli/index': 'src/cli/index.ts',
    // Reads bulk files in a worker thread (src/importer/bulk-file-worker.ts finds it beside its chunk).
    'bulk-worker': 'src/importer/bulk-worker.ts',
  },
  format: ['esm', 'cjs'],
  // @internal members (injection points for tests, the store) stay out of the published types.
  dts: { compilerOptions: { stripInternal: true } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  shims: true,
  splitting: true,
  // Frameworks are optional peers: never bundled, only their types are imported.
  external: ['express', 'fastify', 'next', 'ioredis', 'selfsigned', /^@prisma\//, 'pg', '@electric-sql/pglite', 'pglite-prisma-adapter'],
});
