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
beforeAll(async () => {
  sim = await createShopifySimulator({ shops: 1, timeScale: TIME_SCALE, bucket: { size: 40, leakPerSecond: 2 } });
});
afterAll(async () => {
  await sim?.stop();
});

function startWorker(mode: 'cluster' | 'local', prefix: string, n: number) {
  const shop = sim.shops[0];
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, BASE_URL: sim.url, SHOP: shop.domain, TOKEN: shop.accessToken, N: String(n), LEAK_RATE: String(LEAK), PREFIX: prefix, MODE: mode },
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

async function runPair(mode: 'cluster' | 'local', perProcess: number) {
  const prefix = `shopify-ingest-test-${randomUUID()}`;
  sim.resetStats();
  const workers = [startWorker(mode, prefix, perProcess), startWorker(mode, prefix, perProcess)];
  expect(await Promise.all(workers.map((w) => w.line(0)))).toEqual(['ready', 'ready']);
  // Let the bucket drain fully before both start together.
  await new Promise((r) => setTimeout(r, 1200));
  sim.resetStats();
  for (const w of workers) w.child.stdin.write('go\n');
  const results = (await Promise.all(workers.map((w) => w.line(1)))).map((l) => JSON.parse(l) as { failed: number; ms: number });
  return { results, stats: sim.stats(0) };
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
