import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLimiterRegistry } from '../../src/client/index.js';
import type { GraphqlCost } from '../../src/client/graphql-bucket.js';
import { ClusterGraphqlLimiter } from '../../src/client/cluster-graphql-limiter.js';
import { timerSleep } from '../../src/abort.js';
import { silentLogger } from '../../src/logger.js';

const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
afterAll(async () => {
  await redis.quit();
});

/** A report of Shopify's bucket: `available` of 1,000 points left, restoring 10/s. */
function report(available: number): GraphqlCost {
  return { requestedQueryCost: 100, actualQueryCost: 100, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: available, restoreRate: 10 } };
}

/** A query in flight whose answer the test gives when it wants: `answer(cost)` reports `cost` and ends the query. */
interface Flight { answer(cost: GraphqlCost): Promise<void> }

type Schedule = (cost: number, task: (observe: (query: string, cost: GraphqlCost | undefined) => void) => Promise<void>) => Promise<void>;

/** Starts a 100-point query through `schedule`; resolves once it has been sent. */
async function send(schedule: Schedule): Promise<Flight> {
  let sent!: () => void;
  const isSent = new Promise<void>((r) => (sent = r));
  let answer!: (cost: GraphqlCost) => void;
  const answered = new Promise<GraphqlCost>((r) => (answer = r));
  const done = schedule(100, async (observe) => {
    sent();
    observe('q', await answered);
  });
  await isSent;
  return { answer: async (cost) => { answer(cost); await done; } };
}

// Queries overlap, and their answers can come back in another order than Shopify ran them. Shopify's
// report in each answer is the bucket after that query: an older answer arriving last holds more
// points than are left, and taking it would send queries the bucket cannot pay for (THROTTLED).
describe('an older answer arriving after a newer one does not raise the bucket estimate', () => {
  it('one process (local limiter)', async () => {
    const registry = createLimiterRegistry({ now: () => 0 });
    const gql = registry.forShop('s.myshopify.com').graphql;
    const schedule: Schedule = (cost, task) => gql.schedule(cost, task);
    const first = await send(schedule);
    const second = await send(schedule);
    await second.answer(report(300)); // Shopify ran both: 300 left after the second
    await first.answer(report(400)); // the first's answer, sent earlier, arrives last
    expect(gql.status().currentlyAvailable, 'the older answer replaced the newer report').toBe(300);
    // A later, newer answer is taken whatever it says (another app may have used or left points).
    const third = await send(schedule);
    await third.answer(report(900));
    expect(gql.status().currentlyAvailable).toBe(900);
    await registry.stop();
  });

  it('an older answer that reports fewer points lowers the estimate (safe side)', async () => {
    const registry = createLimiterRegistry({ now: () => 0 });
    const gql = registry.forShop('s.myshopify.com').graphql;
    const schedule: Schedule = (cost, task) => gql.schedule(cost, task);
    const first = await send(schedule);
    const second = await send(schedule);
    await second.answer(report(300));
    await first.answer(report(200));
    expect(gql.status().currentlyAvailable).toBe(200);
    await registry.stop();
  });

  it('several processes (Redis)', async () => {
    const prefix = `test-${randomUUID()}`;
    const make = () => new ClusterGraphqlLimiter(() => redis, { shop: 's.myshopify.com', prefix, expiration: 60_000, logger: silentLogger }, { now: Date.now, sleep: timerSleep });
    const a = make(), b = make();
    const first = await send((cost, task) => a.schedule(cost, task));
    const second = await send((cost, task) => b.schedule(cost, task));
    await second.answer(report(300));
    await first.answer(report(1000));
    await new Promise((r) => setTimeout(r, 50)); // observations reach Redis asynchronously
    const state = await redis.hgetall(`${prefix}:graphql:s.myshopify.com:bucket`);
    expect(Number(state.available), 'the older answer replaced the newer report in Redis').toBe(300);
    await Promise.all([a.stop(), b.stop()]);
  });
});

describe('a query slower than the reservation expiry keeps its points reserved (Redis)', () => {
  it('another process waits for them until the slow query ends', async () => {
    const prefix = `test-${randomUUID()}`;
    const make = () => new ClusterGraphqlLimiter(() => redis, { shop: 's.myshopify.com', prefix, expiration: 300, logger: silentLogger }, { now: Date.now, sleep: timerSleep });
    const slow = make(), other = make();
    slow.observe('q', report(100));
    await new Promise((r) => setTimeout(r, 50));
    let finishSlow!: () => void;
    const slowDone = slow.schedule(100, () => new Promise<void>((r) => (finishSlow = r)));
    await new Promise((r) => setTimeout(r, 50));
    let otherRanAt = 0;
    const otherDone = other.schedule(100, async () => void (otherRanAt = Date.now()));
    await new Promise((r) => setTimeout(r, 1200)); // four expiries long
    expect(otherRanAt, 'the slow query\'s reservation expired while it was still running').toBe(0);
    const finishedAt = Date.now();
    finishSlow();
    await slowDone;
    await otherDone;
    expect(otherRanAt).toBeGreaterThanOrEqual(finishedAt);
    await Promise.all([slow.stop(), other.stop()]);
  });
});

describe('a REST request slower than jobExpiration (Redis)', () => {
  it('is not failed by the limiter while it runs', async () => {
    const registry = createLimiterRegistry({ redis: { clientOptions: { host: '127.0.0.1', port: 6379 }, prefix: `test-${randomUUID()}`, jobExpiration: 200 } });
    const rest = registry.forShop('s.myshopify.com').rest;
    const result = await rest.schedule(async () => {
      await new Promise((r) => setTimeout(r, 600));
      return 'answered';
    });
    expect(result).toBe('answered');
    await registry.stop();
  });
});
