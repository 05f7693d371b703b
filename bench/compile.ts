/**
 * Bench jobs run as plain JavaScript, as a host's compiled app would: the bench file is bundled with
 * esbuild (the one tsup uses; packages stay external) and the bundle runs under plain `node`, so
 * neither tsx's loader thread nor on-the-fly compilation is in the job's CPU or RSS.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBulkWorker } from '../tests/helpers/bulk-worker.js';

/** Bundles the bench file at `entryUrl` (its `import.meta.url`) into node_modules/.cache; resolves to the bundle's path. */
export async function bundleBench(entryUrl: string, name: string): Promise<string> {
  const { build } = await import('esbuild');
  const entry = fileURLToPath(entryUrl);
  const outfile = path.resolve(path.dirname(entry), `../node_modules/.cache/shopify-ingest-bench/${name}.mjs`);
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'warning' });
  // The importer reads bulk files in a worker thread whose script it finds beside its own module,
  // as in the built package (src/importer/bulk-file-worker.ts).
  await buildBulkWorker(path.join(path.dirname(outfile), 'bulk-worker.mjs'));
  return outfile;
}
