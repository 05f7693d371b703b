import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeHandler, createNodeWebhookHandler, type NodeHandler } from '../../src/node/index.js';
import { BodyTooLargeError, readBodyWithLimit } from '../../src/webhooks/index.js';

type Prepare = (req: IncomingMessage & { body?: unknown; rawBody?: unknown }) => Promise<void> | void;
const servers: Array<() => Promise<void>> = [];
afterEach(async () => { while (servers.length) await servers.pop()!(); });

/** The Web path: Node request -> Web `Request` -> handler -> Web `Response`. Echoes the bytes it got. */
const viaWebRequest = (limit: number): NodeHandler => createNodeHandler(async (request) => {
  try {
    const bytes = await readBodyWithLimit(request.body, limit);
    return new Response(`${request.method} ${new URL(request.url).pathname} ${request.headers.get('x-shopify-topic')} ${new TextDecoder().decode(bytes)}`);
  } catch {
    return new Response('too large', { status: 413 });
  }
});

/** The direct path: Node request -> webhook core input, no Web objects. Echoes the bytes it got. */
const viaCore = (limit: number): NodeHandler => createNodeWebhookHandler(async (input) => {
  try {
    const bytes = await input.readBody(limit);
    return { status: 200, headers: {}, body: `${input.method} /hooks ${input.header('x-shopify-topic')} ${new TextDecoder().decode(bytes)}` };
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    return { status: 413, headers: {}, body: 'too large' };
  }
});

const send = async (url: string, body: string) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Shopify-Topic': 'orders/create' }, body });
  return { status: res.status, text: await res.text() };
};

const drain = async (req: IncomingMessage) => { const c: Buffer[] = []; for await (const x of req) c.push(x as Buffer); return Buffer.concat(c); };

describe.each([['through a Web Request', viaWebRequest], ['straight to the webhook core', viaCore]] as const)('node (req, res) conversion %s', (_name, makeHandler) => {
  /** A node:http server whose "framework" step (`prepare`) runs before the converted handler. */
  async function serve(prepare: Prepare, limit = 1024): Promise<string> {
    const handle = makeHandler(limit);
    const server = createServer(async (req: IncomingMessage, res: ServerResponse) => { await prepare(req); await handle(req, res); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(() => new Promise((r) => server.close(() => r())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  }

  it('reads the raw stream', async () => {
    expect(await send(await serve(() => {}), '{"a": 1}')).toEqual({ status: 200, text: 'POST /hooks orders/create {"a": 1}' });
  });

  it('finds raw bytes where frameworks keep them: req.rawBody, req.body as Buffer or string', async () => {
    const viaRaw = await serve(async (req) => { const b = await drain(req); req.rawBody = b; req.body = JSON.parse(b.toString()); });
    expect((await send(viaRaw, '{"a":  2}')).text).toBe('POST /hooks orders/create {"a":  2}');
    const viaBuffer = await serve(async (req) => { req.body = await drain(req); });
    expect((await send(viaBuffer, '{"a":  3}')).text).toBe('POST /hooks orders/create {"a":  3}');
    const viaString = await serve(async (req) => { req.body = (await drain(req)).toString(); });
    expect((await send(viaString, '{"a":  4}')).text).toBe('POST /hooks orders/create {"a":  4}');
  });

  it('fails clearly (500 with mounting advice) when only a parsed body is left', async () => {
    const parsed = await serve(async (req) => { req.body = JSON.parse((await drain(req)).toString()); });
    const res = await send(parsed, '{"a": 5}');
    expect(res.status).toBe(500);
    expect(res.text).toContain('JSON body parser consumed it');
    expect(res.text).toContain('express.raw');
    const consumed = await serve(async (req) => { await drain(req); });
    expect((await send(consumed, '{"a": 6}')).status).toBe(500);
  });

  it('answers 413 to an oversized chunked body without buffering it or resetting the connection', async () => {
    const url = new URL(await serve(() => {}, 64 * 1024));
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('error', reject);
      const chunk = Buffer.alloc(16 * 1024, 97);
      let sent = 0;
      const pump = () => { while (sent < 1024 * 1024) { sent += chunk.length; if (!req.write(chunk)) { req.once('drain', pump); return; } } req.end(); };
      pump();
    });
    expect(status).toBe(413);
  });
});

describe('createNodeWebhookHandler', () => {
  it('settles when the client disconnects in the middle of the body (nothing left waiting)', async () => {
    let settled!: (outcome: string) => void;
    const outcome = new Promise<string>((r) => { settled = r; });
    const handle = createNodeWebhookHandler(async (input) => {
      try {
        await input.readBody(1 << 20);
        return { status: 200, headers: {}, body: 'read' };
      } catch (error) {
        settled((error as Error).message);
        throw error;
      }
    }, { onError: () => {} });
    const server = createServer((req, res) => { void handle(req, res); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(() => new Promise((r) => server.close(() => r())));
    const req = httpRequest({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/hooks', method: 'POST', headers: { 'content-length': '1000' } });
    req.on('error', () => {});
    req.write('{"partial": ', () => setImmediate(() => req.destroy()));
    expect(await outcome).toMatch(/aborted|closed before its body was complete/);
  });

  it('answers 413 from the declared content-length without reading the body', async () => {
    let read = false;
    const handle = createNodeWebhookHandler(async (input) => {
      if (input.declaredLength !== undefined && input.declaredLength > 16) { await input.discardBody(); return { status: 413, headers: {}, body: 'too large' }; }
      read = true;
      return { status: 200, headers: {}, body: new TextDecoder().decode(await input.readBody(16)) };
    });
    const server = createServer((req, res) => { void handle(req, res); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(() => new Promise((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    expect(await send(url, 'x'.repeat(17))).toEqual({ status: 413, text: 'too large' });
    expect(read).toBe(false);
    expect(await send(url, 'x'.repeat(16))).toEqual({ status: 200, text: 'x'.repeat(16) });
  });
});
