import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterGraphqlLimiter } from '../../src/client/cluster-graphql-limiter.js';
import { timerSleep } from '../../src/abort.js';
import { silentLogger } from '../../src/logger.js';

const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
afterAll(async () => {
  await redis.quit();
});

const timing = { now: Date.now, sleep: timerSleep };
function limiter(prefix: string, expiration = 60_000) {
  return new ClusterGraphqlLimiter(() => redis, { shop: 's.myshopify.com', prefix, expiration, logger: silentLogger }, timing);
}
/** A bucket with 100 of 1,000 points left, restoring 10/s: a 100-point query fits once, the next waits 10 s. */
const LOW = { requestedQueryCost: 100, actualQueryCost: 100, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 100, restoreRate: 10 } };

describe('ClusterGraphqlLimiter (shared cost bucket in Redis)', () => {
  it('a second process waits for the points the first reserved, and goes when they are released', async () => {
    const prefix = `test-${randomUUID()}`;
    const a = limiter(prefix);
    const b = limiter(prefix);
    a.observe('q', LOW);
    await new Promise((r) => setTimeout(r, 50)); // the observation is written asynchronously
    let releaseA!: () => void;
    const aRunning = a.schedule(100, () => new Promise<void>((resolve) => (releaseA = resolve)));
    await new Promise((r) => setTimeout(r, 100));
    let bRan = false;
    const bDone = b.schedule(100, async () => void (bRan = true));
    await new Promise((r) => setTimeout(r, 700));
    expect(bRan).toBe(false); // 100 available, 100 reserved by a: b must wait
    // a's query answered: the bucket Shopify reports after it has its points back (as if refunded).
    a.observe('q', { ...LOW, throttleStatus: { ...LOW.throttleStatus, currentlyAvailable: 200 } });
    releaseA();
    await aRunning;
    await bDone;
    expect(bRan).toBe(true);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('a crashed process\'s reservation stops counting after its expiration', async () => {
    const prefix = `test-${randomUUID()}`;
    const crashed = limiter(prefix, 600);
    const survivor = limiter(prefix, 600);
    crashed.observe('q', LOW);
    await new Promise((r) => setTimeout(r, 50));
    void crashed.schedule(100, () => new Promise<void>(() => undefined)); // never answers, never releases
    await new Promise((r) => setTimeout(r, 100));
    // The process is gone: nothing extends its reservation any more (a live one keeps extending it: pacing-order.test.ts).
    await crashed.stop();
    const started = Date.now();
    await survivor.schedule(100, async () => undefined);
    const waited = Date.now() - started;
    // Restoring 100 points at 10/s would take 10 s; the reservation expires after 0.6 s.
    expect(waited).toBeGreaterThan(300);
    expect(waited).toBeLessThan(5000);
    await survivor.stop();
  });

  it('keeps pacing from its own estimate when Redis fails', async () => {
    const broken = { eval: () => Promise.reject(new Error('connection refused')) };
    const alone = new ClusterGraphqlLimiter(() => broken, { shop: 's', prefix: 'x', expiration: 1000, logger: silentLogger }, timing);
    let ran = false;
    await alone.schedule(10, async () => void (ran = true));
    expect(ran).toBe(true);
    await alone.stop();
  });
});
