import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TenantError } from '../../src/errors.js';
import { ClientManager, createShopifyClient, createLimiterRegistry } from '../../src/client/index.js';
import { API, ORIGIN, SHOP, TOKEN, virtualTime } from './helpers.js';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('ClientManager', () => {
  it('keeps one client per tenant', async () => {
    const manager = new ClientManager();
    const client = manager.addClient('t1', { shopDomain: SHOP, accessToken: TOKEN });
    manager.addClient('t2', { shopDomain: 'other.myshopify.com', accessToken: TOKEN }, { apiVersion: '2025-07' });
    expect(manager.getClient('t1')).toBe(client);
    expect(manager.getClient('t2').apiVersion).toBe('2025-07');
    expect(manager.hasClient('t1')).toBe(true);
    expect(manager.size).toBe(2);
    expect(manager.clients().map(([id]) => id)).toEqual(['t1', 't2']);
    expect(await manager.removeClient('t1')).toBe(true);
    expect(await manager.removeClient('t1')).toBe(false);
    expect(manager.hasClient('t1')).toBe(false);
    expect(manager.size).toBe(1);
    await manager.close();
    expect(manager.size).toBe(0);
  });

  it('throws TENANT_NOT_FOUND for an unknown tenant and TENANT_REQUIRED for an empty id', () => {
    const manager = new ClientManager();
    expect(() => manager.getClient('nobody')).toThrow(TenantError);
    expect(() => manager.getClient('nobody')).toThrow(expect.objectContaining({ code: 'TENANT_NOT_FOUND', tenantId: 'nobody' }));
    expect(() => manager.addClient('', { shopDomain: SHOP, accessToken: TOKEN })).toThrow(expect.objectContaining({ code: 'TENANT_REQUIRED' }));
  });

  it('rejects bad credentials when the client is added', () => {
    const manager = new ClientManager();
    expect(() => manager.addClient('t1', { shopDomain: 'not-a-shop.com', accessToken: TOKEN })).toThrow(/myshopify\.com/);
    expect(manager.hasClient('t1')).toBe(false);
  });

  it('lets two tenants of the same shop share one rate-limit budget', async () => {
    const time = virtualTime();
    const manager = new ClientManager({ now: time.now, sleep: time.sleep, limiter: { safetyMargin: 2 } });
    const a = manager.addClient('tenant-a', { shopDomain: SHOP, accessToken: TOKEN });
    const b = manager.addClient('tenant-b', { shopDomain: SHOP, accessToken: 'shpat_other' });
    const c = manager.addClient('tenant-c', { shopDomain: 'elsewhere.myshopify.com', accessToken: TOKEN });
    nock(ORIGIN).get(`${API}/shop.json`).times(2).reply(200, { shop: {} }, { 'X-Shopify-Shop-Api-Call-Limit': '39/40' });
    await a.get('/shop.json');
    expect(b.isRateLimited()).toBe(true);
    expect(c.isRateLimited()).toBe(false);
    await b.get('/shop.json');
    expect(time.sleeps).toEqual([1000]);
    await manager.close();
  });

  it('two standalone clients of one shop share a limiter only through a common registry', async () => {
    const time = virtualTime();
    const limiters = createLimiterRegistry({ now: time.now, sleep: time.sleep });
    const one = createShopifyClient({ shopDomain: SHOP, accessToken: TOKEN, limiters });
    const two = createShopifyClient({ shopDomain: SHOP, accessToken: TOKEN, limiters });
    const alone = createShopifyClient({ shopDomain: SHOP, accessToken: TOKEN, now: time.now, sleep: time.sleep });
    nock(ORIGIN).get(`${API}/shop.json`).reply(200, { shop: {} }, { 'X-Shopify-Shop-Api-Call-Limit': '40/40' });
    await one.get('/shop.json');
    expect(two.getRateLimitStatus().callsMade).toBe(40);
    expect(alone.getRateLimitStatus().callsMade).toBe(0);
    await limiters.stop();
    await alone.close();
  });
});
