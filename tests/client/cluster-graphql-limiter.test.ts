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

  it('a process that never sent a query reserves what another process learnt it costs', async () => {
    // Found by tests/cluster/registry-cluster.test.ts: the process that took over a killed one's sync
    // sent its first 1,000-point `nodes` query into a bucket the other had drained, reserving the
    // default 50 points for it (its own estimate of a query it had never sent): THROTTLED.
    const prefix = `test-${randomUUID()}`;
    const warm = limiter(prefix);
    const cold = limiter(prefix);
    const query = '{ nodes(ids: $ids) { id } }';
    const spent = { requestedQueryCost: 900, actualQueryCost: 900, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 100, restoreRate: 10 } };
    // As the client does: estimate, then schedule with the query; the answer is observed inside the task.
    await warm.schedule(warm.bucket.estimate(query), async (observe) => observe(query, spent), undefined, { text: query });
    await new Promise((r) => setTimeout(r, 50)); // the observation is written asynchronously
    expect(cold.bucket.estimate(query)).toBe(50); // its own estimate: the default
    const stop = new AbortController();
    let sent = false;
    const waiting = cold.schedule(cold.bucket.estimate(query), async () => void (sent = true), stop.signal, { text: query }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 700));
    // 100 points available: a 900-point query must wait (~80 s at 10/s), not go on a 50-point guess.
    expect(sent).toBe(false);
    stop.abort();
    await waiting;
    await Promise.all([warm.stop(), cold.stop()]);
  });

  it('a query no process has sent yet reserves the most a query may cost, not a default guess', async () => {
    // Found by tests/cluster/registry-cluster.test.ts: the first page of an incremental listing
    // (requesting ~1,000 points) reserved the default 50 right after a bulk operation's follow-ups
    // drained the bucket: THROTTLED.
    const prefix = `test-${randomUUID()}`;
    const one = limiter(prefix);
    one.observe('{ shop { id } }', LOW); // the bucket: 100 of 1,000 points
    await new Promise((r) => setTimeout(r, 50));
    const query = '{ orders(first: 250) { nodes { id } } }';
    const stop = new AbortController();
    let sent = false;
    const waiting = one.schedule(one.bucket.estimate(query), async () => void (sent = true), stop.signal, { text: query }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 700));
    expect(sent).toBe(false);
    stop.abort();
    await waiting;
    // Once its cost is known (here 20 points), it goes on that.
    one.observe(query, { ...LOW, requestedQueryCost: 20, actualQueryCost: 20 });
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await one.schedule(one.bucket.estimate(query), async () => undefined, undefined, { text: query });
    expect(Date.now() - started).toBeLessThan(500);
    await one.stop();
  }, 20_000);

  it('keeps pacing from its own estimate when Redis fails', async () => {
    const broken = { eval: () => Promise.reject(new Error('connection refused')) };
    const alone = new ClusterGraphqlLimiter(() => broken, { shop: 's', prefix: 'x', expiration: 1000, logger: silentLogger }, timing);
    let ran = false;
    await alone.schedule(10, async () => void (ran = true));
    expect(ran).toBe(true);
    await alone.stop();
  });
});
