import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';

const WORKER = fileURLToPath(new URL('./fixtures/cluster-worker.ts', import.meta.url));
// A standard 40-request bucket leaking 2/s, run 5x faster: 10 requests/s of wall time, slow enough that
// even a busy machine serves a burst faster than the bucket leaks.
const TIME_SCALE = 5;
const LEAK = 2 * TIME_SCALE;

let sim: ShopifySimulator;
// GraphQL: a 1,000-point bucket restoring 200/s; 150 products, so `products(first: 100)` costs what it
// requests (102 points) and each process's 8 queries (816 points) fit the bucket alone, not together.
let gqlSim: ShopifySimulator;
beforeAll(async () => {
  sim = await createShopifySimulator({ shops: 1, timeScale: TIME_SCALE, bucket: { size: 40, leakPerSecond: 2 } });
  gqlSim = await createShopifySimulator({ shops: 1, shopDefaults: { products: 150, customers: 0, orders: 0 }, graphql: { maximumAvailable: 1000, restoreRate: 200 } });
});
afterAll(async () => {
  await sim?.stop();
  await gqlSim?.stop();
});

type Api = 'rest' | 'graphql';

function startWorker(mode: 'cluster' | 'local', prefix: string, n: number, api: Api) {
  const target = api === 'rest' ? sim : gqlSim;
  const shop = target.shops[0];
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, BASE_URL: target.url, SHOP: shop.domain, TOKEN: shop.accessToken, N: String(n), LEAK_RATE: String(LEAK), PREFIX: prefix, MODE: mode, API: api },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      lines.push(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
      waiters.splice(0).forEach((w) => w());
    }
  });
  const line = async (index: number): Promise<string> => {
    while (lines.length <= index) {
      if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    return lines[index];
  };
  return { child, line };
}

async function runPair(mode: 'cluster' | 'local', perProcess: number, api: Api = 'rest') {
  const target = api === 'rest' ? sim : gqlSim;
  const prefix = `shopify-ingest-test-${randomUUID()}`;
  target.resetStats();
  const workers = [startWorker(mode, prefix, perProcess, api), startWorker(mode, prefix, perProcess, api)];
  expect(await Promise.all(workers.map((w) => w.line(0)))).toEqual(['ready', 'ready']);
  // Let the bucket drain (or restore) fully before both start together.
  await new Promise((r) => setTimeout(r, 1200));
  target.resetStats();
  for (const w of workers) w.child.stdin.write('go\n');
  const results = (await Promise.all(workers.map((w) => w.line(1)))).map((l) => JSON.parse(l) as { failed: number; ms: number });
  return { results, stats: target.stats(0) };
}

describe('cluster mode (two processes, one shop, Redis-shared budget)', () => {
  it('keeps the sum of both processes within the bucket: no 429', async () => {
    const { results, stats } = await runPair('cluster', 30);
    expect(results.map((r) => r.failed)).toEqual([0, 0]);
    expect(stats.byStatus[200]).toBe(60);
    expect(stats.throttled).toBe(0);
    // 60 requests, 38 absorbed by the bucket, the rest at 10/s: about 2.2 s; allow for a loaded machine.
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(8000);
  }, 60_000);

  it('without Redis the same two processes overrun the bucket (the control)', async () => {
    // Each process alone stays under its 38-slot burst, together they send 60 at once.
    const { results, stats } = await runPair('local', 30);
    expect(results.map((r) => r.failed)).toEqual([0, 0]); // 429s are waited out, not failures
    expect(stats.throttled).toBeGreaterThan(0);
  }, 60_000);
});

describe('cluster mode, GraphQL (two processes, one shop, one cost bucket in Redis)', () => {
  it('reserves each query\'s points in the shared bucket: no THROTTLED', async () => {
    const { results, stats } = await runPair('cluster', 8, 'graphql');
    expect(results.map((r) => r.failed)).toEqual([0, 0]);
    expect(stats.graphqlRequests).toBe(16);
    expect(stats.graphqlThrottled).toBe(0);
  }, 60_000);

  it('without Redis each process spends the same points (the control): THROTTLED', async () => {
    const { results, stats } = await runPair('local', 8, 'graphql');
    expect(results.map((r) => r.failed)).toEqual([0, 0]); // THROTTLED is waited out, not a failure
    expect(stats.graphqlThrottled).toBeGreaterThan(0);
  }, 60_000);
});
