#!/usr/bin/env node
/**
 * The public surface, as API Extractor reports it, for each published entry point (the generated
 * Prisma client of `shopify-ingest/prisma` aside). The reports live in `api/` and are committed.
 *
 *   node scripts/api-report.mjs            check: fails when dist/ differs from the committed reports,
 *                                          or when the root entry outgrows its budget
 *   node scripts/api-report.mjs --update   rewrite the reports after an intended change
 *
 * Run after `npm run build` (it reads dist/*.d.ts). `npm test` runs the check.
 */
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const update = process.argv.includes('--update');

/** Entry point → its type declarations and report name. */
const ENTRIES = [
  { name: 'shopify-ingest', types: 'dist/index.d.ts' },
  { name: 'shopify-ingest-express', types: 'dist/adapters/express.d.ts' },
  { name: 'shopify-ingest-fastify', types: 'dist/adapters/fastify.d.ts' },
  { name: 'shopify-ingest-next', types: 'dist/adapters/next.d.ts' },
  { name: 'shopify-ingest-testing', types: 'dist/testing/index.d.ts' },
];

/** Budgets of the root entry (issue #18): runtime values and the size of its declarations. */
const MAX_ROOT_VALUES = 60;
const MAX_ROOT_DTS_BYTES = 150 * 1024;

let failed = false;
for (const entry of ENTRIES) {
  const config = ExtractorConfig.prepare({
    configObjectFullPath: path.join(root, 'api', `${entry.name}.json`),
    packageJsonFullPath: path.join(root, 'package.json'),
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: path.join(root, entry.types),
      compiler: {
        overrideTsconfig: {
          compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM'], types: ['node'], skipLibCheck: true, strict: true },
          files: [path.join(root, entry.types)],
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: `${entry.name}.api.md`,
        reportFolder: path.join(root, 'api'),
        reportTempFolder: path.join(root, 'node_modules/.cache/api-extractor'),
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        // The report is the check; the TSDoc style is checked by typedoc (npm run docs:check).
        compilerMessageReporting: { default: { logLevel: 'warning' } },
        extractorMessageReporting: {
          default: { logLevel: 'none' },
          'ae-missing-release-tag': { logLevel: 'none' },
        },
        tsdocMessageReporting: { default: { logLevel: 'none' } },
      },
    },
  });
  const result = Extractor.invoke(config, { localBuild: update, showVerboseMessages: false, messageCallback: (message) => {
    if (message.logLevel === 'warning' && message.category === 'Compiler') {
      console.error(`[api-report] ${entry.name}: ${message.text}`);
      message.handled = true;
    } else if (message.logLevel !== 'error') {
      message.handled = true; // progress chatter
    }
  } });
  if (result.apiReportChanged && !update) {
    console.error(`[api-report] the public surface of ${entry.name} changed: review the diff of api/${entry.name}.api.md (node_modules/.cache/api-extractor/${entry.name}.api.md is the new one), then run \`node scripts/api-report.mjs --update\` and commit it.`);
    failed = true;
  } else if (!result.succeeded) {
    console.error(`[api-report] ${entry.name}: API Extractor failed (${result.errorCount} errors)`);
    failed = true;
  } else if (update && result.apiReportChanged) {
    console.log(`[api-report] updated api/${entry.name}.api.md`);
  }
}

const rootModule = await import(pathToFileURL(path.join(root, 'dist/index.js')).href);
const values = Object.keys(rootModule).length;
const dtsBytes = statSync(path.join(root, 'dist/index.d.ts')).size;
if (values > MAX_ROOT_VALUES) {
  console.error(`[api-report] the root entry exports ${values} runtime values; the budget is ${MAX_ROOT_VALUES}. Export internals from their own modules, not from src/index.ts.`);
  failed = true;
}
if (dtsBytes > MAX_ROOT_DTS_BYTES) {
  console.error(`[api-report] dist/index.d.ts is ${(dtsBytes / 1024).toFixed(1)} KiB; the budget is ${MAX_ROOT_DTS_BYTES / 1024} KiB.`);
  failed = true;
}
console.log(`[api-report] root: ${values} runtime values, dist/index.d.ts ${(dtsBytes / 1024).toFixed(1)} KiB; ${failed ? 'FAILED' : 'reports match'}`);
process.exit(failed ? 1 : 0);
