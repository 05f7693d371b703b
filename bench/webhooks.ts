/**
 * Webhook ingestion under load: a second process (autocannon) POSTs signed `orders/create`
 * deliveries, each with its own webhook id and order id, to the Express adapter on 127.0.0.1,
 * backed by PostgreSQL (a fresh database, dropped at the end).
 *
 *   npx tsx bench/webhooks.ts
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=50 npx tsx bench/webhooks.ts
 *
 * Prints acknowledged deliveries/s, p50/p99 ack latency (as the load process measured it), then the
 * time the worker takes to process the backlog, and checks that nothing was lost: every 200 is a
 * row in the inbox, and every row ends processed. The worker is paused during the load, so the ack
 * figures measure the ingest path alone (a burst), and the backlog figure the processing path alone.
 */
import { fork } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { shopifyWebhooks } from '../src/adapters/express.js';
import { createKeyRing } from '../src/crypto/index.js';
import { silentLogger } from '../src/logger.js';
import { createStore } from '../src/store/index.js';
import { createWebhookService, signWebhookBody } from '../src/webhooks/index.js';
import { createTestDatabase, readFixture } from '../tests/helpers/db.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECRET = 'bench_webhook_secret';
const SHOP = 'bench-shop.myshopify.com';

interface LoadResult { ok: number; non2xx: number; errors: number; timeouts: number; rps: number; p50: number; p90: number; p99: number; max: number; bytes: number }

async function runLoad(url: string): Promise<void> {
  // autocannon ships no types; only the fields read below are declared.
  const { default: autocannon } = (await import('autocannon' as string)) as { default: (options: Record<string, unknown>) => Promise<{
    '2xx': number; non2xx: number; errors: number; timeouts: number;
    latency: { p50: number; p90: number; p99: number; max: number }; throughput: { total: number };
  }> };
  const capture = JSON.parse(await readFixture('captured-hookdeck-2024-10/orders.create.json'));
  // One real order body (about 10 KB), its ids replaced per request so each delivery is a new order.
  const template = JSON.stringify({ ...capture.body, id: 0, admin_graphql_api_id: 'gid://shopify/Order/0' });
  let n = 0;
  const instance = autocannon({
    url, method: 'POST', connections: CONNECTIONS, duration: SECONDS, timeout: 10,
    requests: [{
      setupRequest(request: Record<string, unknown>) {
        n += 1;
        const id = 5_000_000_000 + n;
        const body = template.replace('"id":0', `"id":${id}`).replace('Order/0"', `Order/${id}"`);
        request.body = body;
        request.headers = {
          'content-type': 'application/json',
          'x-shopify-topic': 'orders/create',
          'x-shopify-hmac-sha256': signWebhookBody(body, SECRET),
          'x-shopify-shop-domain': SHOP,
          'x-shopify-webhook-id': `bench-${process.pid}-${n}`,
          'x-shopify-api-version': '2025-07',
          'x-shopify-triggered-at': new Date().toISOString(),
        };
        return request;
      },
    }],
  });
  const r = await instance;
  const result: LoadResult = {
    ok: r['2xx'], non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, rps: r['2xx'] / SECONDS,
    p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, bytes: r.throughput.total,
  };
  process.send!(result);
}

async function main(): Promise<void> {
  const db = await createTestDatabase({ prefix: 'si_bench_webhooks' });
  let server: Server | undefined;
  try {
    await createStore(db.prisma).upsertTenant({ id: 'bench', shopDomain: SHOP, accessTokenEnc: 'x' });
    const service = createWebhookService(db.prisma, {
      secrets: SECRET, keyRing: createKeyRing({ key: 'bench-key-0123456789abcdefghijkl' }), logger: silentLogger,
      worker: { autoStart: false, batchSize: 500 },
      inbox: { maxInFlight: Number(process.env.BENCH_IN_FLIGHT ?? 4) },
    });
    const app = express();
    app.post('/webhooks/shopify', shopifyWebhooks(service));
    server = await new Promise<Server>((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/shopify`;

    console.log(`load: ${CONNECTIONS} connections for ${SECONDS} s from a second process (autocannon) -> Express adapter -> PostgreSQL`);
    const child = fork(fileURLToPath(import.meta.url), ['--load', url], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const load = await new Promise<LoadResult>((resolve, reject) => {
      child.once('message', (m) => resolve(m as LoadResult));
      child.once('exit', (code) => reject(new Error(`load process exited with ${code}`)));
    });
    child.kill();

    const [stored] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_webhook_inbox`);
    console.log(`acknowledged: ${load.ok} deliveries (${load.rps.toFixed(0)}/s), non-2xx ${load.non2xx}, errors ${load.errors}, timeouts ${load.timeouts}`);
    console.log(`ack latency: p50 ${load.p50} ms, p90 ${load.p90} ms, p99 ${load.p99} ms, max ${load.max} ms`);
    console.log(`inbox rows: ${stored!.n} (acknowledged ${load.ok}) -> ${stored!.n >= load.ok ? 'none lost' : `${load.ok - stored!.n} LOST`}`);

    await new Promise((r) => setTimeout(r, 500)); // requests autocannon abandoned at the deadline finish
    const t0 = performance.now();
    const processed = await service.processPending();
    const seconds = (performance.now() - t0) / 1000;
    const counts = await service.inbox.countByStatus();
    const [orders] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_orders`);
    console.log(`backlog: ${processed} deliveries processed in ${seconds.toFixed(1)} s (${(processed / seconds).toFixed(0)}/s); inbox ${JSON.stringify(counts)}; orders stored ${orders!.n}`);
    const targets = load.rps >= 2000 && load.p99 <= 50;
    const [all] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_webhook_inbox`);
    const lost = stored!.n < load.ok || counts.processed !== all!.n || orders!.n !== all!.n;
    console.log(`targets (>= 2,000/s acknowledged, p99 <= 50 ms): ${targets ? 'met' : 'NOT met'}; zero lost (every 200 stored, every stored row processed into an order): ${lost ? 'NO' : 'yes'}`);
  } finally {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await db.drop();
  }
}

if (process.argv[2] === '--load') await runLoad(process.argv[3]!);
else await main();
