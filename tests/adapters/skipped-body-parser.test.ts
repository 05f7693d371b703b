/**
 * Express 4's body-parser (1.x) sets `req.body = {}` on every request whose type it does not parse,
 * without reading the stream: an app with a global `express.urlencoded()` before the webhook route
 * hands such a request to the SDK. Its raw body is still in the stream, and must be read from there;
 * only a body a parser actually consumed is refused (an HMAC over a re-serialised body never verifies).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toWebRequest, type NodeRequestLike } from '../../src/node/index.js';

let server: http.Server;
let url = '';
beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const r = req as NodeRequestLike & { _body?: boolean };
    if (req.url === '/consumed') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      r.body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      r._body = true;
    } else {
      r.body = {}; // what body-parser 1.x leaves on a request it skipped
    }
    try {
      res.end(`read:${await toWebRequest(r).text()}`);
    } catch (error) {
      res.statusCode = 500;
      res.end(`error:${(error as { code?: string }).code}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('a request a body parser skipped (req.body = {}, stream unread)', () => {
  it('is read from its stream, byte for byte', async () => {
    const body = '{"id": 820982911946154500, "note": "é"}';
    const res = await fetch(`${url}/skipped`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(await res.text()).toBe(`read:${body}`);
  });

  it('a body a parser consumed is still refused (WEBHOOK_RAW_BODY_UNAVAILABLE)', async () => {
    const res = await fetch(`${url}/consumed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id": 1}' });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('error:WEBHOOK_RAW_BODY_UNAVAILABLE');
  });
});
