import { describe, expect, it } from 'vitest';
import { runSimulatorCli, parseSimulatorArgs } from '../../src/testing/index.js';

describe('simulator CLI', () => {
  it('starts, prints url, domains and tokens that work, and stops on abort', async () => {
    let out = '';
    const controller = new AbortController();
    let status = 0;
    const done = runSimulatorCli(['--shops', '2', '--orders', '25', '--json'], {
      stdout: { write: (s: string) => (out += s) },
      signal: controller.signal,
      onStarted: async (sim) => {
        const res = await fetch(`${sim.url}/admin/api/2025-10/orders/count.json?status=any`, { headers: { 'X-Shopify-Access-Token': sim.shops[1].accessToken } });
        status = res.status;
        expect(await res.json()).toEqual({ count: 25 });
        controller.abort();
      },
    });
    await done;
    const printed = JSON.parse(out);
    expect(printed.ok).toBe(true);
    expect(printed.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(printed.shops.map((s: { domain: string }) => s.domain)).toEqual(['sim-shop-1.myshopify.com', 'sim-shop-2.myshopify.com']);
    expect(printed.shops[0].accessToken).toMatch(/^shpat_[0-9a-f]{32}$/);
    expect(status).toBe(200);
  });

  it('rejects bad flags', () => {
    expect(() => parseSimulatorArgs(['--orders', 'many'])).toThrow(/--orders must be a whole number/);
    expect(() => parseSimulatorArgs(['--fault', 'meteor=0.1'])).toThrow(/--fault expects/);
    expect(parseSimulatorArgs(['--fault', 'reset=0.1', '--unthrottled']).options).toMatchObject({ unthrottled: true, faults: { rates: { reset: 0.1 } } });
  });
});
