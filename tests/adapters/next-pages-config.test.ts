/**
 * The Pages Router config, written the way the docs and the adapter's hint say, in a real Next.js 16
 * dev server (same setup as next-server.test.ts). Next reads a route's `config` statically: an
 * imported value (the former `pagesRouterConfig` export) made it refuse the route, so every
 * delivery got an HTML 500. The package's next entry no longer offers one; the literal works.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nextEntry from 'shopify-ingest/next';
import { post } from './conformance.js';
import { signedDelivery } from '../webhooks/helpers/deliveries.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const seen: string[] = [];
(globalThis as Record<string, unknown>).__shopifyIngestPagesConfig = {
  handler: async (r: Request) => { seen.push(await r.text()); return new Response('ok'); },
  reportError: () => {},
};

let dir: string;
let server: Server;
let base: string;
let nextApp: { close?: () => Promise<void> } | undefined;

const LITERAL = 'export const config = { api: { bodyParser: false } };';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'si-next-config-'));
  await mkdir(path.join(dir, 'pages/api'), { recursive: true });
  await mkdir(path.join(dir, 'node_modules'));
  for (const name of ['next', 'react', 'react-dom']) await symlink(path.join(root, 'node_modules', name), path.join(dir, 'node_modules', name));
  await symlink(root, path.join(dir, 'node_modules/shopify-ingest'));
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'si-next-config-test', private: true, type: 'module' }));
  await writeFile(path.join(dir, 'next.config.mjs'), `export default { turbopack: { root: '/' } };\n`);
  // Exactly the documented route (docs/webhooks.md, the adapter's example and hint).
  await writeFile(path.join(dir, 'pages/api/documented.js'), `import { createNextPagesWebhookHandler } from 'shopify-ingest/next';
${LITERAL}
export default createNextPagesWebhookHandler(globalThis.__shopifyIngestPagesConfig);
`);
  // The body parser left on: the adapter's 500 says what to write.
  await writeFile(path.join(dir, 'pages/api/parsed.js'), `import { createNextPagesWebhookHandler } from 'shopify-ingest/next';
export default createNextPagesWebhookHandler(globalThis.__shopifyIngestPagesConfig);
`);
  process.env.NEXT_TELEMETRY_DISABLED = '1';
  const { default: createNext } = (await import('next')) as unknown as { default: typeof import('next/dist/server/next.js').default };
  const app = createNext({ dev: true, dir, hostname: '127.0.0.1', port: 0, quiet: true });
  nextApp = app as never;
  await app.prepare();
  const handle = app.getRequestHandler();
  server = createServer((req, res) => { void handle(req, res); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 180_000);

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await nextApp?.close?.().catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('next: Pages Router config as documented', () => {
  it('the package\'s next entry offers no config object to re-export (Next needs the literal)', () => {
    expect('pagesRouterConfig' in nextEntry).toBe(false);
    expect(Object.keys(nextEntry).sort()).toEqual(['createNextPagesWebhookHandler', 'createNextWebhookHandler']);
  });

  it('a signed delivery to the documented route is answered 200 with its exact bytes', async () => {
    seen.length = 0;
    const d = signedDelivery('orders/create', '{"id":  820982911946154508 }');
    const res = await post(base + '/api/documented', d);
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(seen).toEqual([d.body]);
  }, 120_000);

  it('with the body parser left on, the 500 says to write the literal config (and names no export)', async () => {
    seen.length = 0;
    const res = await post(base + '/api/parsed', signedDelivery('orders/create', '{"id":1}'));
    expect(res.status).toBe(500);
    expect(res.text).toContain(LITERAL.replace(/;$/, ''));
    expect(res.text).not.toContain('pagesRouterConfig');
    expect(seen).toEqual([]);
  }, 120_000);
});
