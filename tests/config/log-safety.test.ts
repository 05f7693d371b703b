import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJsonLogger } from '../../src/logger.js';
import { assertNoSecrets, findSecrets } from '../../src/config/index.js';
import { createSchedulerService } from '../../src/scheduler/index.js';
import { createAuthenticator, signSessionToken } from '../../src/auth/index.js';
import { createShopifyClient } from '../../src/client/index.js';
import { onlyScheduled } from '../helpers/schedules.js';

const accessToken = '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';
const apiSecret = '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';
const email = 'jane.doe+vip@example.com';
const phone = '+16135550123';
const firstName = 'Janelle';
const address = '1600 Amphitheatre Parkway';

function capture(level: 'debug' | 'info' = 'debug') {
  const lines: string[] = [];
  return { lines, logger: createJsonLogger({ level, write: (l) => lines.push(l) }) };
}

describe('assertNoSecrets', () => {
  it('finds secrets as written, JSON-escaped, URL-encoded or base64, and masks them in its report', () => {
    const quoted = 'tok"en\\with-quotes';
    const lines = [
      `{"msg":"x","t":"${accessToken}"}`,
      JSON.stringify({ v: quoted }),
      `GET /x?e=${encodeURIComponent(email)}`,
      `auth ${Buffer.from(apiSecret).toString('base64')}`,
      'clean line',
    ];
    expect(findSecrets(lines, [accessToken, quoted, email, apiSecret, 'abc'])).toEqual([
      { line: 0, secret: 'shp***(38 chars)', form: 'raw' },
      { line: 1, secret: 'tok***(18 chars)', form: 'json' },
      { line: 2, secret: 'jan***(24 chars)', form: 'url' },
      { line: 3, secret: 'shp***(38 chars)', form: 'base64' },
    ]);
    expect(() => assertNoSecrets(lines, [accessToken])).toThrow(/line 0: shp\*\*\*/);
    expect(() => assertNoSecrets(lines, [accessToken])).not.toThrow(new RegExp(accessToken));
    expect(() => assertNoSecrets(['clean'], [accessToken, email])).not.toThrow();
  });
});

describe('the default JSON logger', () => {
  it('never writes tokens, secrets or PII passed as fields', () => {
    const { lines, logger } = capture();
    const meta = {
      accessToken, access_token: accessToken, token: accessToken, 'x-shopify-access-token': accessToken,
      authorization: `Bearer ${accessToken}`, apiSecret, SHOPIFY_API_SECRET: apiSecret, hmac: apiSecret, password: apiSecret,
      email, customerEmail: email, phone, first_name: firstName, firstName, lastName: 'Doe',
      shipping_address: address, default_address: address, encryptionKey: apiSecret,
      tenantId: 't1', imported: 3,
    };
    for (const level of ['debug', 'info', 'warn', 'error'] as const) logger[level]('event', meta);
    expect(lines).toHaveLength(4);
    assertNoSecrets(lines, [accessToken, apiSecret, email, phone, firstName, address]);
    // what is not secret is kept
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'debug', msg: 'event', tenantId: 't1', imported: 3, accessToken: '[redacted]' });
  });
});

describe('SDK log paths', () => {
  it('scheduler: runs, failures and skips log ids, never credentials', async () => {
    const { lines, logger } = capture();
    const clientManager = { getClient: () => ({ accessToken }), tenantIds: () => ['t1'] };
    const scheduler = createSchedulerService(null, clientManager, {
      logger,
      syncConfig: onlyScheduled({ customers: { schedule: '* * * * * *' }, products: { enabled: false }, orders: { enabled: false }, fullSync: { enabled: false } }),
      runJob: async (run) => {
        if (run.resource === 'orders') throw new Error('Shopify answered 401 for acme.myshopify.com');
        return { imported: 1 };
      },
    });
    await scheduler.startScheduler();
    await scheduler.runJobNow('customers-sync-t1');
    await expect(scheduler.runJobNow('orders-sync-t1')).rejects.toThrow('401');
    await scheduler.stopScheduler();
    expect(lines.some((l) => l.includes('scheduled job failed'))).toBe(true);
    assertNoSecrets(lines, [accessToken]);
  });

  it('auth: failed attempts log the reason only', () => {
    const { lines, logger } = capture();
    const authenticate = createAuthenticator({ apiKey: 'client-id', apiSecret, apiKeys: ['ops-key-abcdef'], logger, env: {} });
    const forged = signSessionToken({ shop: 'acme.myshopify.com', apiKey: 'client-id', apiSecret: 'wrong-secret-wrong-secret' });
    authenticate({ authorization: `Bearer ${forged}` });
    authenticate({ 'x-api-key': 'ops-key-abcdeX' });
    authenticate({ authorization: `Bearer ${accessToken}` });
    expect(lines).toHaveLength(3);
    assertNoSecrets(lines, [forged, forged.split('.')[2]!, 'ops-key-abcdeX', accessToken, apiSecret, 'ops-key-abcdef']);
  });

  describe('client: retries, throttling and failed health checks', () => {
    let server: http.Server;
    let url: string;
    let calls = 0;
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        calls++;
        // A misbehaving proxy that echoes the request headers in its error bodies.
        const echo = JSON.stringify({ errors: 'bad gateway', headers: req.headers });
        if (req.url?.includes('/shop.json')) { res.writeHead(401, { 'content-type': 'application/json' }); res.end(echo); return; }
        if (calls === 1) { res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' }); res.end(echo); return; }
        if (calls === 2) { res.writeHead(502, { 'content-type': 'application/json' }); res.end(echo); return; }
        res.writeHead(200, { 'content-type': 'application/json', 'x-shopify-shop-api-call-limit': '1/40' });
        res.end(JSON.stringify({ customers: [{ id: 1, email, phone, first_name: firstName }] }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('logs no access token and no customer data', async () => {
      const { lines, logger } = capture();
      const client = createShopifyClient({
        shopDomain: 'acme.myshopify.com', accessToken, baseUrl: url, logger,
        retryOptions: { retries: 2, minTimeout: 1, maxTimeout: 5 }, sleep: async () => {},
      });
      try {
        const body = await client.get('/customers.json');
        expect(JSON.stringify(body)).toContain(email);
        expect(await client.healthCheck()).toBe(false);
      } finally {
        await (client as unknown as { close?: () => Promise<void> }).close?.();
      }
      expect(lines.length).toBeGreaterThanOrEqual(3); // 429 wait, 502 retry, failed health check
      assertNoSecrets(lines, [accessToken, email, phone, firstName]);
    });
  });
});
