/**
 * A client that drops the connection mid-body (Shopify closes after its 5 s timeout): Node emits the
 * request's `error` (ECONNRESET, "aborted") before `close`. That is the sender giving up, not a fault
 * of the app: the body read fails with WEBHOOK_REQUEST_ABORTED and nothing is logged as an
 * unexpected error, through every Node path (the service's nodeHandler, the Express adapter, and the
 * Web handler behind toWebRequest).
 */
import http, { type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shopifyWebhooks } from '../../src/adapters/express.js';
import { createKeyRing } from '../../src/crypto/index.js';
import type { Logger } from '../../src/logger.js';
import { sendWebResponse, toWebRequest } from '../../src/node/index.js';
import { createWebhookCore, webRequestHandler, type WebhookCore } from '../../src/webhooks/handler.js';
import { createWebhookService, type WebhookService } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, SECRET, signedDelivery } from '../webhooks/helpers/deliveries.js';

type Entry = { level: string; message: string; meta?: Record<string, unknown> };
const logs: Entry[] = [];
const logger: Logger = {
  debug: (message, meta) => { logs.push({ level: 'debug', message, meta }); },
  info: (message, meta) => { logs.push({ level: 'info', message, meta }); },
  warn: (message, meta) => { logs.push({ level: 'warn', message, meta }); },
  error: (message, meta) => { logs.push({ level: 'error', message, meta }); },
};

let db: TestDatabase;
let service: WebhookService;
beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_wh_abort' });
  service = createWebhookService(db.database, { secrets: SECRET, keyRing: createKeyRing({ key: ENCRYPTION_KEY }), logger, worker: { autoStart: false } });
});
afterAll(async () => { await db?.drop(); });

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** Sends the headers and part of a signed body, then destroys the socket; resolves once the server saw the request close. */
async function dropMidBody(port: number, path: string): Promise<void> {
  const d = signedDelivery('orders/create', '{"id":1}');
  await new Promise<void>((resolve) => {
    const sock = connect(port, '127.0.0.1', () => {
      const head = Object.entries(d.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
      sock.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n${head}\r\n\r\n{"id":`);
      setTimeout(() => { sock.destroy(); resolve(); }, 100);
    });
  });
  await new Promise((r) => setTimeout(r, 200));
}

const errorsLogged = () => logs.filter((e) => e.level === 'error');

describe('client gone mid-body', () => {
  it('the body read fails with WEBHOOK_REQUEST_ABORTED, not a raw ECONNRESET, and the adapter reports nothing', async () => {
    const core = createWebhookCore({ secrets: SECRET, resolveTenant: async () => 't', accept: async () => ({ id: '1', inserted: true }) });
    const thrown: unknown[] = [];
    const reported: unknown[] = [];
    const handleDelivery: WebhookCore = async (input) => {
      try { return await core(input); } catch (error) { thrown.push(error); throw error; }
    };
    const app = express();
    app.post('/hook', shopifyWebhooks({ handler: webRequestHandler(core), handleDelivery, reportError: (e: unknown) => { reported.push(e); } }));
    const server = http.createServer(app);
    const port = await listen(server);
    try {
      await dropMidBody(port, '/hook');
    } finally {
      server.close();
    }
    expect(thrown.map((e) => (e as { code?: string }).code)).toEqual(['WEBHOOK_REQUEST_ABORTED']);
    expect(reported).toEqual([]);
  });

  it('service.nodeHandler: nothing logged at error level', async () => {
    logs.length = 0;
    const server = http.createServer(service.nodeHandler);
    const port = await listen(server);
    try {
      await dropMidBody(port, '/webhooks');
    } finally {
      server.close();
    }
    expect(errorsLogged()).toEqual([]);
  });

  it('Express adapter over the service: nothing logged at error level', async () => {
    logs.length = 0;
    const app = express();
    app.post('/hook', shopifyWebhooks(service));
    const server = http.createServer(app);
    const port = await listen(server);
    try {
      await dropMidBody(port, '/hook');
    } finally {
      server.close();
    }
    expect(errorsLogged()).toEqual([]);
  });

  it('Web handler behind toWebRequest: reported with its code, below error level', async () => {
    logs.length = 0;
    const server = http.createServer((req, res) => { void service.handler(toWebRequest(req)).then((r) => sendWebResponse(res, r)); });
    const port = await listen(server);
    try {
      await dropMidBody(port, '/webhooks');
    } finally {
      server.close();
    }
    expect(errorsLogged()).toEqual([]);
    expect(logs.map((e) => [e.level, e.meta?.code])).toEqual([['debug', 'WEBHOOK_REQUEST_ABORTED']]);
  });
});
