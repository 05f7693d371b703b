/**
 * Aborting a call's signal ends it at once, also while it waits: a THROTTLED or 429 wait, a turn in
 * the shop's queue (GraphQL cost bucket, REST leaky bucket), a retry's backoff. The injected sleep
 * here never resolves and ignores the signal, so only the abort can end the call; one test uses the
 * default timers to check the real sleep stops too.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyClient } from '../../src/client/index.js';
import { API, ORIGIN, SHOP, TOKEN } from './helpers.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const bucket = (requested: number, available: number) => ({
  cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: available, restoreRate: 100 } },
});

/** A sleep that never ends by itself; `asleep` resolves with the first delay asked for. */
function hangingSleep() {
  const delays: number[] = [];
  let notify!: (ms: number) => void;
  const asleep = new Promise<number>((resolve) => { notify = resolve; });
  const sleep = (ms: number) => {
    delays.push(ms);
    notify(ms);
    return new Promise<void>(() => undefined);
  };
  return { sleep, asleep, delays };
}

/** Aborts `controller` and expects `call` to reject with the abort's reason (only the abort can end it here). */
async function expectAbortEnds(call: Promise<unknown>, controller: AbortController): Promise<void> {
  const reason = new Error('run cancelled');
  controller.abort(reason);
  await expect(call).rejects.toBe(reason);
}

describe('an aborted call stops waiting', () => {
  it('during the wait after a THROTTLED reply', async () => {
    const { sleep, asleep } = hangingSleep();
    const client = createShopifyClient({ shopDomain: SHOP, accessToken: TOKEN, sleep });
    nock(ORIGIN).post(`${API}/graphql.json`).reply(200, { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }], extensions: bucket(1000, 0) });
    const controller = new AbortController();
    const call = client.graphql('{ ok }', undefined, { signal: controller.signal });
    expect(await asleep).toBe(10_000);
    await expectAbortEnds(call, controller);
    await client.close();
  });

  it('while queued behind the GraphQL cost bucket, and gives its place back', async () => {
    const { sleep, asleep } = hangingSleep();
    const client = createShopifyClient({ shopDomain: SHOP, accessToken: TOKEN, sleep });
    // The bucket is empty (0 of 2000, 100/s) and this query costs 1000: the next one waits ~10 s.
    nock(ORIGIN).post(`${API}/graphql.json`).reply(200, { data: { ok: 1 }, extensions: { cost: { ...bucket(1000, 0).cost, actualQueryCost: 1000 } } });
    await client.graphql('{ ok }');
    const controller = new AbortController();
    const call = client.graphql('{ ok }', undefined, { signal: controller.signal });
    expect(await asleep).toBeGreaterThan(9_000);
    await expectAbortEnds(call, controller);
    expect(client.getRateLimitStatus().graphql.reserved, 'points reserved by the aborted query').toBe(0);
    expect(nock.pendingMocks()).toEqual([]);
    await client.close();
  });

  it('while queued behind the REST bucket', async () => {
    const { sleep, asleep } = hangingSleep();
    const client = createShopifyClient({ shopDomain: SHOP, accessToken: TOKEN, sleep });
    nock(ORIGIN).get(`${API}/shop.json`).reply(200, { shop: {} }, { 'X-Shopify-Shop-Api-Call-Limit': '40/40' });
    await client.get('/shop.json');
    const controller = new AbortController();
    const call = client.get('/shop.json', undefined, { signal: controller.signal });
    await asleep;
    await expectAbortEnds(call, controller);
    expect(client.getRateLimitStatus().inFlight).toBe(0);
    await client.close();
  });

  it('during the retry backoff after a 503', async () => {
    const { sleep, asleep } = hangingSleep();
    const client = createShopifyClient({ shopDomain: SHOP, accessToken: TOKEN, sleep, retryOptions: { minTimeout: 5000, maxTimeout: 5000 } });
    nock(ORIGIN).post(`${API}/graphql.json`).reply(503, 'unavailable');
    const controller = new AbortController();
    const call = client.graphql('{ ok }', undefined, { signal: controller.signal });
    expect(await asleep).toBe(5000);
    await expectAbortEnds(call, controller);
    await client.close();
  });

  it('with the default timers: a 10 s THROTTLED wait ends when the signal fires', async () => {
    const client = createShopifyClient({ shopDomain: SHOP, accessToken: TOKEN });
    nock(ORIGIN).post(`${API}/graphql.json`).reply(200, { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }], extensions: bucket(1000, 0) });
    const controller = new AbortController();
    const call = client.graphql('{ ok }', undefined, { signal: controller.signal });
    const settled = call.then(() => 'resolved', (error: unknown) => error);
    // Once the THROTTLED answer was read, the call is in its wait.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(nock.isDone()).toBe(true);
    const reason = new Error('run cancelled');
    controller.abort(reason);
    // Whatever the machine's speed, the call settles well before the 10 s wait would have ended.
    const outcome = await Promise.race([settled, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000))]);
    expect(outcome).toBe(reason);
    await client.close();
  });
});
