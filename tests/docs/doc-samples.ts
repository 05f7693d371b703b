/**
 * Every ```ts block of the user guides (README.md, docs/*.md but the pages others own, examples/README.md)
 * type-checks against the published types (dist/*.d.ts, through the same `paths` as tsconfig.json,
 * so run `npm run build` first; `npm test` does), as a user who pastes it would find.
 *
 * A block is a fragment: the names it uses without defining them (`prisma`, `app`, `webhooks`,
 * `shopifyService`, your own helpers such as `sendToMerchant`) come from CONTEXT below, declared
 * only when the block uses them and does not define them itself. Anything else it needs it must
 * import, as the reader must. Blocks without `export` run inside an async function (a `return` in
 * a sample is fine). `./generated/prisma/client.js` is the Prisma 7 client a user generates from
 * the SDK's models (here the repository's own, src/generated/prisma).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const samplesDir = path.join(root, 'tests/docs/__samples__');

export const DOCS = [
  'README.md', 'docs/getting-started.md', 'docs/configuration.md', 'docs/importing.md', 'docs/webhooks.md',
  'docs/scheduling.md', 'docs/schema.md', 'docs/security.md', 'docs/errors.md', 'docs/testing-with-the-simulator.md', 'examples/README.md',
];

/** What a sample may use without defining it: name -> declaration. `any` only for the reader's own helpers. */
const CONTEXT: Record<string, string> = {
  prisma: "declare const prisma: import('shopify-ingest/prisma').PrismaClient;",
  pool: "declare const pool: import('pg').Pool;",
  app: "declare const app: import('express').Express;",
  webhooks: "declare const webhooks: import('shopify-ingest').WebhookService;",
  shopifyService: "declare const shopifyService: import('shopify-ingest').IngestionService;",
  service: "declare const service: import('shopify-ingest').IngestionService;",
  client: "declare const client: import('shopify-ingest').ShopifyClient;",
  keyRing: "declare const keyRing: import('shopify-ingest').KeyRing;",
  sim: "declare const sim: import('shopify-ingest/testing').ShopifySimulator;",
  tenantId: 'declare const tenantId: string;',
  accessToken: 'declare const accessToken: string;',
  sessionToken: 'declare const sessionToken: string;',
  input: 'declare const input: string;',
  ResourceName: "type ResourceName = import('shopify-ingest').ResourceType;",
  vi: "import { vi } from 'vitest';",
  expect: "import { expect } from 'vitest';",
  createShopifySimulator: "import { createShopifySimulator } from 'shopify-ingest/testing';",
  createAdminApiClient: "import { createAdminApiClient } from '@shopify/admin-api-client';",
  express: "import express from 'express';",
  shopifyWebhooks: "import { shopifyWebhooks } from 'shopify-ingest/express';",
  captureRawBody: "import { captureRawBody } from 'shopify-ingest/express';",
  // The reader's own code.
  ...Object.fromEntries(['sendToMerchant', 'reindex', 'audit', 'logger', 'promptMerchantToReopenTheApp', 'askForScopes', 'retryLater', 'body', 'row', 'orderRow']
    .map((name) => [name, `declare const ${name}: any;`])),
};
for (const name of [
  'createIngestionService', 'createDatabaseHandle', 'createShopifyClient', 'createImportService', 'createWebhookService',
  'createSchedulerService', 'createClientManager', 'ClientManager', 'ShopifyTransformer', 'keyRingFromEnv', 'loadConfig',
  'ShopifyIngestError', 'createKeyRing',
]) CONTEXT[name] = `import { ${name} } from 'shopify-ingest';`;

/** Per page, a name that means something else there. */
const PAGE_CONTEXT: Record<string, Record<string, string>> = {
  'docs/configuration.md': { shop: 'declare const shop: string;' },
  'docs/webhooks.md': { id: 'declare const id: string;' },
  'docs/testing-with-the-simulator.md': {
    shop: "declare const shop: import('shopify-ingest/testing').ShopifySimulator['shops'][number];",
    id: 'declare const id: number;',
  },
};

export interface Sample { doc: string; line: number; code: string }

export function samplesOf(doc: string): Sample[] {
  const lines = readFileSync(path.join(root, doc), 'utf8').split('\n');
  const samples: Sample[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== '```') end++;
    samples.push({ doc, line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return samples;
}

// Whether the sample declares or imports `name` itself (an import's bindings, not its module path).
function defines(code: string, name: string): boolean {
  const n = name.replace(/\$/g, '\\$');
  return new RegExp(`(?:\\b(?:const|let|var|function|class|interface|type)\\s+${n}\\b)|(?:^import\\s[^;'"]*\\b${n}\\b[^;'"]*\\sfrom\\s)|(?:\\b(?:const|let)\\s*\\{[^}]*\\b${n}\\b[^}]*\\}\\s*=)`, 'm').test(code);
}

/** The sample as a module: its context, its imports, then the rest (in an async function unless it exports). */
export function moduleOf(sample: Sample): string {
  const context = { ...CONTEXT, ...PAGE_CONTEXT[sample.doc] };
  const header = Object.entries(context)
    .filter(([name]) => new RegExp(`\\b${name}\\b`).test(sample.code) && !defines(sample.code, name))
    .map(([, declaration]) => declaration);
  const imports: string[] = [];
  const rest: string[] = [];
  let inImport = false;
  for (const line of sample.code.split('\n')) {
    if (inImport || /^import\s/.test(line)) {
      imports.push(line);
      inImport = !/;\s*(\/\/.*)?$/.test(line);
    } else rest.push(line);
  }
  const body = /^export\s/m.test(sample.code)
    ? rest.join('\n')
    : `export async function sample() {\n${rest.join('\n')}\n}`;
  return [...header, ...imports, body, ''].join('\n');
}

function fileNameOf(sample: Sample): string {
  return path.join(samplesDir, `${sample.doc.replace(/[/.]/g, '_')}_${sample.line}.ts`);
}

/** Type-checks the samples; returns one message per error, naming the doc and its line. */
export function checkSamples(samples: Sample[]): string[] {
  const virtual = new Map<string, string>();
  for (const sample of samples) virtual.set(fileNameOf(sample), moduleOf(sample));
  // The user's generated client (their `output`), and a Next app's `@/lib/shopify`.
  virtual.set(path.join(samplesDir, 'generated/prisma/client.ts'), "export * from '../../../../../src/generated/prisma/client.js';\n");
  virtual.set(path.join(samplesDir, 'lib/shopify.ts'), "export declare const webhooks: import('shopify-ingest').WebhookService;\n");
  const dist = (file: string) => [path.join(root, 'dist', file)];
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
    baseUrl: root,
    paths: {
      'shopify-ingest': dist('index.d.ts'),
      'shopify-ingest/prisma': dist('prisma.d.ts'),
      'shopify-ingest/express': dist('adapters/express.d.ts'),
      'shopify-ingest/fastify': dist('adapters/fastify.d.ts'),
      'shopify-ingest/next': dist('adapters/next.d.ts'),
      'shopify-ingest/testing': dist('testing/index.d.ts'),
      '@/lib/shopify': ['tests/docs/__samples__/lib/shopify.ts'], // a Next app's alias (its tsconfig's `@/*`)
    },
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => virtual.has(file) || fileExists.call(host, file);
  host.readFile = (file) => virtual.get(file) ?? readFile.call(host, file);
  const { directoryExists } = host;
  host.directoryExists = (dir) => [...virtual.keys()].some((file) => file.startsWith(dir + path.sep)) || (directoryExists?.call(host, dir) ?? false);
  host.getSourceFile = (file, language, ...rest) => {
    const text = virtual.get(file);
    return text === undefined ? getSourceFile.call(host, file, language, ...rest) : ts.createSourceFile(file, text, language, true);
  };
  const roots = samples.map(fileNameOf);
  const program = ts.createProgram(roots, options, host);
  const messages: string[] = [];
  for (const sample of samples) {
    const file = program.getSourceFile(fileNameOf(sample))!;
    const headerLines = moduleOf(sample).split('\n').length - sample.code.split('\n').length - (/^export\s/m.test(sample.code) ? 0 : 2);
    for (const d of [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]) {
      const { line } = d.start === undefined ? { line: 0 } : file.getLineAndCharacterOfPosition(d.start);
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0];
      messages.push(`${sample.doc}:${sample.line + Math.max(0, line - headerLines)} ${text}`);
    }
  }
  return messages;
}
