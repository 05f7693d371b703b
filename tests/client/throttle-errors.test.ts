import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyClient } from '../../src/client/index.js';
import { API, ORIGIN, SHOP, TOKEN, virtualTime } from './helpers.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

// docs/errors.md and src/error-codes.ts: SHOPIFY_THROTTLED is retryable ("yes"): later, by the caller.
// The client itself has already waited `maxThrottleRetries` times and does not start over.
describe('SHOPIFY_THROTTLED (throttle budget spent) is reported as retryable, as documented', () => {
  it('GraphQL THROTTLED in a 200', async () => {
    const time = virtualTime();
    const client = createShopifyClient({ shopDomain: SHOP, accessToken: TOKEN, now: time.now, sleep: time.sleep, maxThrottleRetries: 1 });
    let posts = 0;
    nock(ORIGIN).post(`${API}/graphql.json`).times(5).reply(() => {
      posts++;
      return [200, { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }], extensions: { cost: { requestedQueryCost: 10, actualQueryCost: null, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 50 } } } }];
    });
    const error = await client.graphql('{ ok }').catch((e: unknown) => e) as { code: string; retryable: boolean };
    expect(error.code).toBe('SHOPIFY_THROTTLED');
    expect(error.retryable, 'SHOPIFY_THROTTLED error has retryable=false').toBe(true);
    expect(posts, 'the first answer and one wait (maxThrottleRetries: 1), no retry round on top').toBe(2);
    expect(time.sleeps).toEqual([200]);
    await client.close();
  });

  it('REST 429', async () => {
    const time = virtualTime();
    const client = createShopifyClient({ shopDomain: SHOP, accessToken: TOKEN, now: time.now, sleep: time.sleep, maxThrottleRetries: 1 });
    let gets = 0;
    nock(ORIGIN).get(`${API}/shop.json`).times(5).reply(() => { gets++; return [429, { errors: 'Exceeded 2 calls per second' }, { 'Retry-After': '1.0' }]; });
    const error = await client.get('/shop.json').catch((e: unknown) => e) as { code: string; retryable: boolean };
    expect(error.code).toBe('SHOPIFY_THROTTLED');
    expect(error.retryable, 'SHOPIFY_THROTTLED error has retryable=false').toBe(true);
    expect(gets).toBe(2);
    await client.close();
  });
});
