/**
 * Shopify's result files are Google Cloud Storage signed URLs, which may answer an expired link with
 * HTTP 400 and `<Code>ExpiredToken</Code>` rather than 403: that is an expired link too
 * (BULK_FILE_EXPIRED, the window is run again), not a download to retry until it is "unreadable".
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyRing } from '../../src/crypto/index.js';
import { createImportService } from '../../src/importer/index.js';
import { readJsonl } from '../../src/importer/jsonl.js';
import { createStore } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { FakeBulkShop, makeOrders } from './fake-bulk-shop.js';

const GCS_EXPIRED = "<?xml version='1.0' encoding='UTF-8'?><Error><Code>ExpiredToken</Code><Message>Invalid argument.</Message><Details>The provided token has expired. Request signature expired at: 2026-06-08T00:00:00+00:00</Details></Error>";
const REQUEST_EXPIRED = "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AuthenticationRequired</Code><Message>Request has expired</Message></Error>";

const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: `gid://shopify/Order/${i + 1}`, n: i }));
const body = Buffer.from(lines.join('\n') + '\n', 'utf8');

describe('readJsonl and a signed link answering 400', () => {
  /** Serves the file (Range honoured) until `expiredBody` is set, then answers 400 with it; `dropAfterBytes` cuts the next body. */
  const state = { expiredBody: null as string | null, dropAfterBytes: null as number | null, requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests++;
    if (state.expiredBody !== null) { res.writeHead(400, { 'content-type': 'application/xml; charset=UTF-8' }).end(state.expiredBody); return; }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const slice = body.subarray(m ? Number(m[1]) : 0);
    res.writeHead(m ? 206 : 200, { 'content-length': slice.length });
    if (state.dropAfterBytes !== null) {
      const cut = state.dropAfterBytes;
      state.dropAfterBytes = null;
      res.write(slice.subarray(0, cut), () => res.destroy());
      return;
    }
    res.end(slice);
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.jsonl`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const reset = (expiredBody: string | null) => Object.assign(state, { expiredBody, dropAfterBytes: null, requests: 0 });
  const noSleep = async () => {};
  const read = async (retries = 5) => {
    const got: string[] = [];
    const error = await (async () => { for await (const line of readJsonl(url, { sleep: noSleep, retries })) got.push(line.text); })().catch((e: unknown) => e);
    return { got, error };
  };

  for (const [what, expired] of [['<Code>ExpiredToken</Code>', GCS_EXPIRED], ['Request has expired', REQUEST_EXPIRED]]) {
    it(`says the link expired on a 400 with ${what}, without retrying`, async () => {
      reset(expired);
      const { got, error } = await read();
      expect(got).toEqual([]);
      expect(error).toMatchObject({ code: 'BULK_FILE_EXPIRED', details: { status: 400 } });
      expect(state.requests).toBe(1);
    });
  }

  it('says so when the link expires while a dropped download is resumed', async () => {
    reset(null);
    state.dropAfterBytes = Math.floor(body.length / 2);
    const got: string[] = [];
    const error = await (async () => {
      for await (const line of readJsonl(url, { sleep: async () => { state.expiredBody = GCS_EXPIRED; } })) got.push(line.text);
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BULK_FILE_EXPIRED' });
    expect(got.length).toBeGreaterThan(0);
    expect(got).toEqual(lines.slice(0, got.length));
    expect(state.requests).toBe(2);
  });

  it('still retries any other 400 (then the file is unreadable)', async () => {
    reset('<Error><Code>InvalidArgument</Code><Message>Invalid argument.</Message></Error>');
    const { error } = await read(2);
    expect(error).toMatchObject({ code: 'BULK_FILE_UNREADABLE' });
    expect(state.requests).toBe(3);
  });
});

describe('a bulk result link answering 400 ExpiredToken', () => {
  const keyRing = createKeyRing({ key: randomBytes(32).toString('base64') });
  let db: TestDatabase;
  let shop: FakeBulkShop;
  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'si_bulk_token' });
    shop = new FakeBulkShop(makeOrders(12));
    await shop.listen();
  }, 60_000);
  afterAll(async () => { await shop?.close(); await db?.drop(); });

  it('runs the window again with a new operation, as for a 403', { timeout: 60_000 }, async () => {
    const tenantId = 'bulk-expired-token';
    await createStore(db.database).upsertTenant({ id: tenantId, shopDomain: `${tenantId}.myshopify.com`, accessTokenEnc: 'x' });
    // The first operation's result link has expired, as Cloud Storage says it (a retried download
    // only waits: before the fix, 31 s of backoff and BULK_FILE_UNREADABLE).
    let expiredUrl: string | null = null;
    const fetch: typeof globalThis.fetch = async (input, init) => {
      expiredUrl ??= String(input);
      if (String(input) === expiredUrl) return new Response(GCS_EXPIRED, { status: 400, headers: { 'content-type': 'application/xml; charset=UTF-8' } });
      return globalThis.fetch(input, init);
    };
    const client = { shopDomain: shop.shopDomain, graphql: shop.graphql.bind(shop), pages: async function* () { /* REST unused */ } };
    const result = await createImportService(db.database, client, tenantId, {
      keyRing, sleep: async () => {},
      bulk: { minPollMs: 1, maxPollMs: 2, minWindowMs: 60_000, fetch },
    }).importOrders({ mode: 'full' });
    expect(result.status).toBe('succeeded');
    expect(shop.starts).toBe(2);
    const [{ n }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM shopify_orders WHERE tenant_id = $1 AND deleted_at IS NULL', [tenantId]);
    expect(n).toBe(12);
  });
});
