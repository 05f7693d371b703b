import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import Fastify from 'fastify';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuthMiddleware, createWebAuthGuard, signSessionToken, type AuthRequestLike } from '../../src/auth/index.js';

const apiKey = 'client-id-123';
const apiSecret = 'shpss_middleware_test_secret_0001';
const shop = 'demo-shop.myshopify.com';
const options = { apiKey, apiSecret, apiKeys: ['ops-secret-key-1'], env: {} };

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function expectUnauthorized(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  expect(await res.json()).toEqual({ error: 'unauthorized' });
}

describe('Express middleware over a real HTTP server', () => {
  let server: http.Server;
  let url: string;
  const calls: unknown[] = [];
  beforeAll(async () => {
    const app = express();
    app.use(express.json());
    const auth = createAuthMiddleware(options);
    app.post('/api/shopify/sync/:tenantId', auth, (req, res) => {
      const principal = (req as unknown as AuthRequestLike).shopifyIngestAuth;
      calls.push(principal);
      res.json({ tenantId: req.params.tenantId, principal });
    });
    app.get('/public', (_req, res) => { res.json({ ok: true }); });
    server = http.createServer(app);
    url = await listen(server);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('lets a valid session token through with the shop', async () => {
    const token = signSessionToken({ shop, apiKey, apiSecret });
    const res = await fetch(`${url}/api/shopify/sync/t1`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ tenantId: 't1', principal: { type: 'session-token', shop } });
  });

  it('lets a static API key through', async () => {
    const res = await fetch(`${url}/api/shopify/sync/t2`, { method: 'POST', headers: { 'x-api-key': 'ops-secret-key-1' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ principal: { type: 'api-key', keyIndex: 0 } });
  });

  it('answers 401 {"error":"unauthorized"} with no detail, and never reaches the handler', async () => {
    const before = calls.length;
    const expired = signSessionToken({ shop, apiKey, apiSecret, now: new Date(Date.now() - 3600_000) });
    const wrongAud = signSessionToken({ shop, apiKey: 'other', apiSecret });
    const attempts: Array<Record<string, string>> = [{}, { 'x-api-key': 'nope' }, { authorization: `Bearer ${expired}` }, { authorization: `Bearer ${wrongAud}` }, { authorization: 'Bearer a.b.c' }];
    for (const headers of attempts) {
      const res = await fetch(`${url}/api/shopify/sync/t1`, { method: 'POST', headers });
      await expectUnauthorized(res);
    }
    expect(calls.length).toBe(before);
    expect((await fetch(`${url}/public`)).status).toBe(200);
  });
});

describe('plain node:http', () => {
  it('works with a bare (req, res, next)', async () => {
    const auth = createAuthMiddleware(options);
    const server = http.createServer((req, res) => auth(req as AuthRequestLike, res, () => { res.end('in'); }));
    const url = await listen(server);
    try {
      expect(await (await fetch(url, { headers: { 'x-api-key': 'ops-secret-key-1' } })).text()).toBe('in');
      await expectUnauthorized(await fetch(url));
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('Fastify preHandler', () => {
  it('protects a route', async () => {
    const app = Fastify();
    const auth = createAuthMiddleware(options);
    app.get('/sync', { preHandler: (req, reply, done) => auth(req as unknown as AuthRequestLike, reply, done) }, async (req) => ({ principal: (req as unknown as AuthRequestLike).shopifyIngestAuth }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const ok = await fetch(`${url}/sync`, { headers: { authorization: `Bearer ${signSessionToken({ shop, apiKey, apiSecret })}` } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ principal: { shop } });
      await expectUnauthorized(await fetch(`${url}/sync`, { headers: { 'x-api-key': 'wrong' } }));
    } finally {
      await app.close();
    }
  });
});

describe('Web guard', () => {
  it('wraps a Fetch API handler', async () => {
    const guard = createWebAuthGuard(options);
    const handler = guard.protect(async (request: Request, ctx: { params: { id: string } }) =>
      Response.json({ id: ctx.params.id, principal: guard.principalOf(request) }));
    const ok = await handler(new Request('http://x/sync', { headers: { authorization: 'Bearer ops-secret-key-1' } }), { params: { id: 't9' } });
    expect(await ok.json()).toEqual({ id: 't9', principal: { type: 'api-key', keyIndex: 0 } });
    await expectUnauthorized(await handler(new Request('http://x/sync'), { params: { id: 't9' } }));
    expect(guard.authenticate(new Request('http://x', { headers: { 'x-api-key': 'ops-secret-key-1' } })).ok).toBe(true);
  });
});
