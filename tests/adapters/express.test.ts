import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { captureRawBody, shopifyWebhooks } from 'shopify-ingest/express';
import { post, runAdapterConformance, type RunningServer } from './conformance.js';
import type { WebhookService } from '../../src/webhooks/index.js';
import { signedDelivery } from '../webhooks/helpers/deliveries.js';

async function listen(app: express.Express, path: string): Promise<RunningServer> {
  const server: Server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}${path}`, close: () => new Promise((r) => server.close(() => r())) };
}

runAdapterConformance({
  name: 'express',
  async start(service, { preParsed }) {
    const app = express();
    if (preParsed) app.use(express.json());
    app.post('/webhooks/shopify', shopifyWebhooks(service));
    app.use(express.json());
    app.post('/api/other', (req, res) => { res.json({ echoed: req.body }); });
    return listen(app, '/webhooks/shopify');
  },
  preParsed: { status: 500, messageIncludes: 'captureRawBody' },
});

/** An endpoint recording the body it got: through the Web handler only, or through the webhook core as a service has it. */
const webStub = (seen: string[]): Pick<WebhookService, 'handler'> => ({
  handler: async (request) => { seen.push(await request.text()); return new Response('ok'); },
});
const coreStub = (seen: string[]): Pick<WebhookService, 'handler' | 'handleDelivery'> => ({
  handler: async () => { throw new Error('the Node adapter should call handleDelivery'); },
  handleDelivery: async (input) => { seen.push(new TextDecoder().decode(await input.readBody(2 << 20))); return { status: 200, headers: {}, body: 'ok' }; },
});

describe.each([['Web handler', webStub], ['webhook core', coreStub]] as const)('express adapter (%s): ways to keep the raw body behind a JSON parser', (_name, stub) => {

  it('express.json({ limit: \'2mb\', verify: captureRawBody }) globally, and express.raw on the route, both pass the exact bytes, 1.5 MiB included', async () => {
    const seen: string[] = [];
    const app = express();
    app.use('/a', express.json({ limit: '2mb', verify: captureRawBody }));
    app.post('/a/webhooks', shopifyWebhooks(stub(seen)));
    app.post('/b/webhooks', express.raw({ type: 'application/json', limit: '2mb' }), shopifyWebhooks(stub(seen)));
    app.use(express.json());
    app.post('/c/other', (req, res) => { res.json({ echoed: req.body }); });
    const server = await listen(app, '');
    try {
      const d = signedDelivery('orders/create', '{"id":  820982911946154508 }');
      expect((await post(`${server.url}/a/webhooks`, d)).status).toBe(200);
      expect((await post(`${server.url}/b/webhooks`, d)).status).toBe(200);
      expect(seen).toEqual([d.body, d.body]);
      // The documented forms take the SDK's 2 MiB, not Express's 100 kB default.
      seen.length = 0;
      const large = signedDelivery('orders/create', JSON.stringify({ id: 1, note: 'x'.repeat(1.5 * 1024 * 1024) }));
      expect((await post(`${server.url}/a/webhooks`, large)).status).toBe(200);
      expect((await post(`${server.url}/b/webhooks`, large)).status).toBe(200);
      expect(seen).toEqual([large.body, large.body]);
      // The rest of the app keeps its JSON parser.
      const other = await post(`${server.url}/c/other`, { headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
      expect(JSON.parse(other.text)).toEqual({ echoed: { a: 1 } });
    } finally {
      await server.close();
    }
  });
});
