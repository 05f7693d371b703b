import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { shopifyWebhooksPlugin } from 'shopify-ingest/fastify';
import { post, runAdapterConformance, type RunningServer } from './conformance.js';
import { signedDelivery } from '../webhooks/helpers/deliveries.js';

async function listen(app: ReturnType<typeof Fastify>, path: string): Promise<RunningServer> {
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `${address}${path}`, close: () => app.close() };
}

runAdapterConformance({
  name: 'fastify',
  async start(service, { preParsed }) {
    const app = Fastify();
    if (preParsed) {
      // A host-wide JSON parser registered before the plugin: the plugin's scoped parser still wins.
      app.removeContentTypeParser('application/json');
      app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, JSON.parse(body as string)));
    }
    await app.register(shopifyWebhooksPlugin, { service, path: '/webhooks/shopify' });
    app.post('/api/other', async (req) => ({ echoed: req.body }));
    return listen(app, '/webhooks/shopify');
  },
  preParsed: { status: 200 },
});

describe('fastify adapter', () => {
  it('scopes its raw-body parser: other routes keep JSON parsing; works under a prefix', async () => {
    const seen: string[] = [];
    const app = Fastify();
    await app.register(shopifyWebhooksPlugin, {
      prefix: '/hooks',
      service: { handler: async (r: Request) => { seen.push(await r.text()); return new Response('ok', { status: 200 }); } },
      path: '/shopify',
    } as never);
    app.post('/api/other', async (req) => ({ echoed: req.body }));
    const server = await listen(app, '');
    try {
      const d = signedDelivery('orders/create', '{"id":  820982911946154508 }');
      expect((await post(`${server.url}/hooks/shopify`, d)).status).toBe(200);
      expect(seen).toEqual([d.body]);
      const other = await post(`${server.url}/api/other`, { headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
      expect(JSON.parse(other.text)).toEqual({ echoed: { a: 1 } });
    } finally {
      await server.close();
    }
  });
});
