import { describe, expect, it } from 'vitest';
import { createShopifySimulator } from '../../src/testing/index.js';
import { createFaultInjector } from '../../src/testing/faults.js';
import { API, get, manualClock } from './helpers.js';

describe('simulator REST leaky bucket', () => {
  it('counts requests, answers 429 exactly when full, with a correct Retry-After', async () => {
    const clock = manualClock();
    const sim = await createShopifySimulator({ shops: [{ orders: 5 }], bucket: { size: 5, leakPerSecond: 2 }, clock: clock.now });
    const shop = sim.shops[0];
    const url = `${sim.url}${API}/orders/count.json`;
    const used: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await get(url, shop.accessToken);
      expect(res.status).toBe(200);
      used.push(res.headers.get('x-shopify-shop-api-call-limit')!);
    }
    expect(used).toEqual(['1/5', '2/5', '3/5', '4/5', '5/5']);
    const refused = await get(url, shop.accessToken);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-shopify-shop-api-call-limit')).toBe('5/5');
    expect(refused.headers.get('retry-after')).toBe('0.5');
    expect(JSON.parse(refused.text).errors).toMatch(/Exceeded 2 calls per second/);
    clock.advance(499);
    expect((await get(url, shop.accessToken)).status).toBe(429);
    clock.advance(1);
    const ok = await get(url, shop.accessToken);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-shopify-shop-api-call-limit')).toBe('5/5');
    clock.advance(2000);
    expect((await get(url, shop.accessToken)).headers.get('x-shopify-shop-api-call-limit')).toBe('2/5');
    expect(sim.stats(0)).toMatchObject({ restRequests: 9, throttled: 2 });
    await sim.stop();
  });

  it('scales leaking and Retry-After with timeScale', async () => {
    const clock = manualClock();
    const sim = await createShopifySimulator({ shops: [{ orders: 1 }], bucket: { size: 2, leakPerSecond: 2 }, timeScale: 10, clock: clock.now });
    const shop = sim.shops[0];
    const url = `${sim.url}${API}/orders/count.json`;
    await get(url, shop.accessToken);
    await get(url, shop.accessToken);
    const refused = await get(url, shop.accessToken);
    expect(refused.headers.get('retry-after')).toBe('0.05');
    clock.advance(50);
    expect((await get(url, shop.accessToken)).status).toBe(200);
    await sim.stop();
  });

  it('keeps buckets per shop', async () => {
    const clock = manualClock();
    const sim = await createShopifySimulator({ shops: 2, bucket: { size: 1 }, clock: clock.now });
    const [a, b] = sim.shops;
    expect((await get(`${sim.url}${API}/shop.json`, a.accessToken)).status).toBe(200);
    expect((await get(`${sim.url}${API}/shop.json`, a.accessToken)).status).toBe(429);
    expect((await get(`${sim.url}${API}/shop.json`, b.accessToken)).status).toBe(200);
    await sim.stop();
  });
});

describe('simulator fault injection', () => {
  it('draws faults at the configured rates, deterministically per seed', () => {
    const draw = (seed: number) => {
      const faults = createFaultInjector(seed, { rates: { server_error: 0.2, reset: 0.05, malformed: 0.1 } });
      return Array.from({ length: 4000 }, () => faults.draw('a.myshopify.com', 'orders.json') ?? 'none');
    };
    const a = draw(11);
    expect(draw(11)).toEqual(a);
    expect(draw(12)).not.toEqual(a);
    const share = (kind: string) => a.filter((k) => k === kind).length / a.length;
    // 4000 draws: 3 standard deviations of a 0.2 rate are about 0.019.
    expect(Math.abs(share('server_error') - 0.2)).toBeLessThan(0.02);
    expect(Math.abs(share('reset') - 0.05)).toBeLessThan(0.011);
    expect(Math.abs(share('malformed') - 0.1)).toBeLessThan(0.015);
    expect(share('slow')).toBe(0);
  });

  it('injects the drawn faults into real responses and counts them', async () => {
    const runs: number[][] = [];
    for (let k = 0; k < 2; k++) {
      const sim = await createShopifySimulator({ seed: 11, shops: [{ orders: 3 }], unthrottled: true, faults: { rates: { server_error: 0.2, malformed: 0.1 } } });
      const statuses: number[] = [];
      let malformed = 0;
      for (let i = 0; i < 80; i++) {
        const res = await get(`${sim.url}${API}/orders/count.json`, sim.shops[0].accessToken);
        statuses.push(res.status);
        if (res.status === 200) { try { JSON.parse(res.text); } catch { malformed++; } }
      }
      const errors = statuses.filter((s) => s >= 500).length;
      expect(errors).toBeGreaterThan(0);
      expect(malformed).toBeGreaterThan(0);
      expect(sim.faults.counts.server_error).toBe(errors);
      expect(sim.faults.counts.malformed).toBe(malformed);
      expect(sim.stats().faults).toEqual({ server_error: errors, malformed });
      expect(sim.stats().byStatus[200]).toBe(80 - errors);
      runs.push(statuses);
      await sim.stop();
    }
    expect(runs[0]).toEqual(runs[1]);
  });

  it('plays a scripted sequence: reset, truncated, malformed, 5xx, slow, storm', async () => {
    const sim = await createShopifySimulator({ shops: [{ orders: 40 }], faults: { script: ['reset', 'truncated', 'malformed', 'server_error', 'slow', 'storm', 'none'], slowMs: 300 } });
    const shop = sim.shops[0];
    const url = `${sim.url}${API}/orders.json?status=any&limit=40`;
    await expect(get(url, shop.accessToken)).rejects.toThrow();
    const truncated = await get(url, shop.accessToken);
    expect(truncated.status).toBe(200);
    expect(() => JSON.parse(truncated.text)).toThrow();
    expect(truncated.text.startsWith('{"orders":[')).toBe(true);
    const malformed = await get(url, shop.accessToken);
    expect(malformed.text).toMatch(/^<html>/);
    const error = await get(url, shop.accessToken);
    expect(error.status).toBe(500);
    const t = performance.now();
    const slow = await get(url, shop.accessToken);
    expect(slow.status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);
    const storm = await get(url, shop.accessToken);
    expect(storm.status).toBe(429);
    expect(storm.headers.get('x-shopify-shop-api-call-limit')).toBe('40/40');
    expect(Number(storm.headers.get('retry-after'))).toBeGreaterThan(0);
    await sim.stop();
  });
});
