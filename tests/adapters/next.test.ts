import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createNextPagesWebhookHandler, createNextWebhookHandler } from 'shopify-ingest/next';
import { toWebRequest, sendWebResponse } from '../../src/node/index.js';
import { post, runAdapterConformance, type RunningServer } from './conformance.js';
import { signedDelivery } from '../webhooks/helpers/deliveries.js';

async function serve(fn: (req: IncomingMessage, res: ServerResponse) => Promise<void>, path: string): Promise<RunningServer> {
  const server = createServer((req, res) => { fn(req, res).catch(() => { res.statusCode = 500; res.end(); }); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}${path}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** What Next's Pages Router does when `bodyParser` is left on: it consumes the stream and sets req.body. */
async function nextDefaultBodyParser(req: IncomingMessage & { body?: unknown }): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  req.body = req.headers['content-type']?.includes('json') ? JSON.parse(text) : text;
}

// App Router: the route's exported POST served by a real node:http server (Next converts the same way).
runAdapterConformance({
  name: 'next',
  async start(service, { preParsed }) {
    if (!preParsed) {
      const { POST } = createNextWebhookHandler(service);
      return serve(async (req, res) => sendWebResponse(res, await POST(toWebRequest(req))), '/api/webhooks/shopify');
    }
    const pages = createNextPagesWebhookHandler(service);
    return serve(async (req, res) => { await nextDefaultBodyParser(req); await pages(req, res); }, '/api/webhooks/shopify');
  },
  preParsed: { status: 500, messageIncludes: 'bodyParser: false' },
});

describe('next adapter: Pages Router with bodyParser off', () => {
  it('reads the raw stream and passes the exact bytes', async () => {
    const seen: string[] = [];
    const pages = createNextPagesWebhookHandler({ handler: async (r) => { seen.push(await r.text()); return new Response('ok'); } });
    const server = await serve(pages, '/api/webhooks/shopify');
    try {
      const d = signedDelivery('orders/create', '{"id":  820982911946154508 }');
      expect((await post(server.url, d)).status).toBe(200);
      expect(seen).toEqual([d.body]);
    } finally {
      await server.close();
    }
  });
});
