/**
 * Stopping a shop's limiter (removeClient, close) ends the turn waiting for room in its gate at
 * once: Bottleneck's stop() waits for the job executing in the gate, and a turn sleeping until the
 * bucket has room held it (and the app/uninstalled hook behind removeClient) for as long as the
 * bucket needed. Nothing waiting is sent afterwards.
 */
import { describe, expect, it } from 'vitest';
import { createLimiterRegistry } from '../../src/client/index.js';
import type { GraphqlCost } from '../../src/client/graphql-bucket.js';

const SHOP = 'stop.myshopify.com';

/** Shopify's report of an empty GraphQL bucket restoring 10 points a second. */
const empty: GraphqlCost = { requestedQueryCost: 100, actualQueryCost: 100, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 10 } };

/** Lets the gate start the job it was given (Bottleneck schedules through timers). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe('a stopped limiter ends the turns waiting in its gate', () => {
  for (const withSignal of [false, true]) {
    const caller = withSignal ? 'a caller with a signal of its own' : 'a caller without a signal';

    it(`REST, ${caller}: stop returns at once; the request is refused, not sent`, async () => {
      const registry = createLimiterRegistry({});
      const rest = registry.forShop(SHOP).rest;
      rest.throttled(60_000); // a 429 asking for a minute: the next turn must wait for it
      expect(rest.waitTime()).toBeGreaterThan(50_000);
      const sent: string[] = [];
      const signal = withSignal ? new AbortController().signal : undefined;
      const first = rest.schedule(async () => { sent.push('first'); }, signal);
      const second = rest.schedule(async () => { sent.push('second'); }, signal);
      const outcomes = Promise.allSettled([first, second]);
      await settle();
      const startedAt = Date.now();
      await registry.delete(SHOP);
      expect(Date.now() - startedAt).toBeLessThan(1_000);
      const [a, b] = await outcomes;
      expect(a.status).toBe('rejected');
      expect(b.status).toBe('rejected');
      expect(String((a as PromiseRejectedResult).reason)).toMatch(/stopped/);
      expect(sent).toEqual([]);
      await registry.stop();
    });

    it(`GraphQL, ${caller}: stop returns at once; the query is refused, not sent`, async () => {
      const registry = createLimiterRegistry({});
      const graphql = registry.forShop(SHOP).graphql;
      graphql.observe('q', empty); // 100 points need 10 s to come back
      const sent: string[] = [];
      const signal = withSignal ? new AbortController().signal : undefined;
      const query = graphql.schedule(100, async () => { sent.push('query'); }, signal);
      const outcome = Promise.allSettled([query]);
      await settle();
      const startedAt = Date.now();
      await registry.delete(SHOP);
      expect(Date.now() - startedAt).toBeLessThan(1_000);
      const [q] = await outcome;
      expect(q.status).toBe('rejected');
      expect(String((q as PromiseRejectedResult).reason)).toMatch(/stopped/);
      expect(sent).toEqual([]);
      await registry.stop();
    });
  }
});
