/**
 * The Next.js adapter inside a real Next.js 16 server (`next({ dev: true })`, Turbopack): an App
 * Router route and Pages Router API routes importing `shopify-ingest/next`, served over HTTP.
 * The app is written to a temp folder at test time (JavaScript only, so Next never tries to
 * install TypeScript); the service reaches the routes through a global, since Next compiles the
 * routes in its own module graph.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookService } from '../../src/webhooks/index.js';
import { post, runAdapterConformance } from './conformance.js';
import { signedDelivery } from '../webhooks/helpers/deliveries.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const services: Array<Pick<WebhookService, 'handler'> & Partial<Pick<WebhookService, 'reportError'>>> = [];
const g = globalThis as { __shopifyIngestWebhooks?: { handler: (r: Request) => Promise<Response>; reportError: (error: unknown) => void } };
g.__shopifyIngestWebhooks = {
  handler: (request) => services[services.length - 1]!.handler(request),
  reportError: (error) => services[services.length - 1]!.reportError?.(error),
};

let dir: string;
let server: Server;
let base: string;
let nextApp: { close?: () => Promise<void> } | undefined;

const ROUTE = `import { createNextWebhookHandler } from 'shopify-ingest/next';
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';
export const { POST } = createNextWebhookHandler(globalThis.__shopifyIngestWebhooks);
`;
const PAGES = (bodyParser: boolean) => `import { createNextPagesWebhookHandler } from 'shopify-ingest/next';
${bodyParser ? '' : 'export const config = { api: { bodyParser: false } };\n'}export default createNextPagesWebhookHandler(globalThis.__shopifyIngestWebhooks);
`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'si-next-'));
  await mkdir(path.join(dir, 'app/api/webhooks/shopify'), { recursive: true });
  await mkdir(path.join(dir, 'pages/api'), { recursive: true });
  await mkdir(path.join(dir, 'node_modules'));
  // Plain package links only (no scope folders): the app resolves next/react and this package.
  for (const name of ['next', 'react', 'react-dom']) await symlink(path.join(root, 'node_modules', name), path.join(dir, 'node_modules', name));
  await symlink(root, path.join(dir, 'node_modules/shopify-ingest'));
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'si-next-test', private: true, type: 'module' }));
  await writeFile(path.join(dir, 'next.config.mjs'), `export default { turbopack: { root: '/' } };\n`);
  await writeFile(path.join(dir, 'app/api/webhooks/shopify/route.js'), ROUTE);
  await writeFile(path.join(dir, 'pages/api/pages-webhook.js'), PAGES(false));
  await writeFile(path.join(dir, 'pages/api/parsed-webhook.js'), PAGES(true));
  process.env.NEXT_TELEMETRY_DISABLED = '1';
  const { default: createNext } = (await import('next')) as unknown as { default: typeof import('next/dist/server/next.js').default };
  const app = createNext({ dev: true, dir, hostname: '127.0.0.1', port: 0, quiet: true });
  nextApp = app as never;
  await app.prepare();
  const handle = app.getRequestHandler();
  server = createServer((req, res) => { void handle(req, res); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // First request compiles the routes; do it before the timed tests.
  services.push({ handler: async () => new Response('warm') });
  for (const p of ['/api/webhooks/shopify', '/api/pages-webhook', '/api/parsed-webhook']) await fetch(base + p, { method: 'POST', body: '{}' }).catch(() => {});
  services.pop();
}, 180_000);

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await nextApp?.close?.().catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
});

runAdapterConformance({
  name: 'next-server',
  async start(service, { preParsed }) {
    services.push(service);
    return {
      // App Router for the main cases; a Pages Router route with Next's default body parser for "pre-parsed".
      url: base + (preParsed ? '/api/parsed-webhook' : '/api/webhooks/shopify'),
      close: async () => { services.splice(services.lastIndexOf(service), 1); },
    };
  },
  preParsed: { status: 500, messageIncludes: 'bodyParser: false' },
});

describe('next-server: Pages Router with bodyParser off', () => {
  it('passes the exact raw bytes through Next to the handler', async () => {
    const seen: string[] = [];
    services.push({ handler: async (r) => { seen.push(await r.text()); return new Response('ok'); } });
    try {
      const d = signedDelivery('orders/create', '{"id":  820982911946154508 }');
      expect((await post(base + '/api/pages-webhook', d)).status).toBe(200);
      expect(seen).toEqual([d.body]);
    } finally {
      services.pop();
    }
  });
});
