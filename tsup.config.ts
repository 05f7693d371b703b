import { build, type Format } from 'esbuild';
import { defineConfig } from 'tsup';

/**
 * The worker script that reads bulk files (src/importer/bulk-worker.ts), as one self-contained file
 * per format: a host that bundles the SDK copies it beside its bundle (docs/importing.md), so it
 * must not import the package's shared chunks or its dependencies. Built after the package
 * (`onSuccess`), once `clean` has run.
 */
function buildWorker(format: Format) {
  return build({
    entryPoints: ['src/importer/bulk-worker.ts'],
    outfile: `dist/bulk-worker.${format === 'esm' ? 'js' : 'cjs'}`,
    bundle: true, format, platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning',
  });
}

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    prisma: 'src/prisma.ts',
    'adapters/express': 'src/adapters/express.ts',
    'adapters/fastify': 'src/adapters/fastify.ts',
    'adapters/next': 'src/adapters/next.ts',
    'testing/index': 'src/testing/index.ts',
    'cli/index': 'src/cli/index.ts',
  },
  // dist/bulk-worker.js and .cjs: src/importer/bulk-file-worker.ts finds them beside its chunk.
  onSuccess: async () => { await Promise.all([buildWorker('esm'), buildWorker('cjs')]); },
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
