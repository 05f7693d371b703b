/**
 * The bulk-file worker thread's script built from the sources (the package ships it built, beside
 * its chunks; tests run the sources, which have none): the importer finds it through
 * SHOPIFY_INGEST_BULK_WORKER_FILE (src/importer/bulk-file-worker.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Builds the worker script (its dependencies external) into `outfile`, node_modules/.cache by default; resolves to its path. */
export async function buildBulkWorker(outfile = path.join(root, 'node_modules/.cache/shopify-ingest-tests/bulk-worker.mjs')): Promise<string> {
  const { build } = await import('esbuild');
  await build({ entryPoints: [path.join(root, 'src/importer/bulk-worker.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'warning' });
  return outfile;
}
