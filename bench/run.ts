/**
 * `npm run bench`: runs every benchmark in turn and prints its figures. Each benchmark is its own
 * script (run one alone with `npx tsx bench/<name>.ts`). BENCH_ONLY=store,client picks some.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = ['store', 'transform', 'simulator', 'client', 'graphql-paging', 'importer', 'backfill-all', 'webhooks', 'scheduler', 'cluster'];
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
const names = only?.length ? all.filter((n) => only.includes(n)) : all;
let failed = 0;
for (const name of names) {
  console.log(`\n=== bench/${name}.ts`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, `${name}.ts`)], { stdio: 'inherit', env: process.env });
  if (result.status !== 0) {
    failed++;
    console.log(`bench/${name}.ts exited with ${result.status ?? result.signal}`);
  }
}
process.exit(failed ? 1 : 0);
