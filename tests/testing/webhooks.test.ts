import { createHmac, timingSafeEqual } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createShopifySimulator, signWebhookBody } from '../../src/testing/index.js';
import { DEFAULT_API_VERSION } from '../../src/client/config.js';
import { startReceiver } from './helpers.js';

/** Shopify's documented verification: base64 HMAC-SHA256 of the raw body, constant-time compare. */
function shopifyVerify(rawBody: string, header: string, secret: string): boolean {
  const digest = Buffer.from(createHmac('sha256', secret).update(rawBody, 'utf8').digest('base64'));
  const given = Buffer.from(header);
  return digest.length === given.length && timingSafeEqual(digest, given);
}

describe('simulator webhooks', () => {
  it('signs with Shopify algorithm (known vector)', () => {
    expect(signWebhookBody('{"foo": "bar"}', 'test_secret_key')).toBe('B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=');
  });

  it('delivers mutations with Shopify headers and a verifiable HMAC; delete payload is { id }', async () => {
    const receiver = await startReceiver();
    const sim = await createShopifySimulator({ apiSecret: 'hush', shops: [{ domain: 'hooks.myshopify.com', orders: 10, customers: 5, products: 3 }] });
    const shop = sim.shops[0];
    for (const topic of ['orders/updated', 'orders/paid', 'orders/cancelled', 'orders/create', 'customers/delete', 'products/update']) shop.subscribe(topic, receiver.url);
    const orderId = shop.idOf('orders', 2);
    shop.markOrderPaid(orderId);
    shop.cancelOrder(orderId);
    const created = shop.create('orders', { note: 'fresh', financial_status: 'pending' });
    shop.delete('customers', shop.idOf('customers', 1));
    shop.update('products', shop.idOf('products', 0), { title: 'Renamed' });
    await sim.webhooks.waitForDeliveries();
    const topics = receiver.received.map((r) => r.headers['x-shopify-topic']);
    expect(topics.sort()).toEqual(['customers/delete', 'orders/cancelled', 'orders/create', 'orders/paid', 'orders/updated', 'orders/updated', 'products/update'].sort());
    for (const r of receiver.received) {
      expect(shopifyVerify(r.body, String(r.headers['x-shopify-hmac-sha256']), 'hush')).toBe(true);
      expect(r.headers['x-shopify-shop-domain']).toBe('hooks.myshopify.com');
      expect(r.headers['x-shopify-api-version']).toBe(DEFAULT_API_VERSION);
      expect(String(r.headers['x-shopify-webhook-id'])).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(r.headers['x-shopify-event-id']).toBeTruthy();
      expect(Number.isNaN(Date.parse(String(r.headers['x-shopify-triggered-at'])))).toBe(false);
    }
    const del = receiver.received.find((r) => r.headers['x-shopify-topic'] === 'customers/delete')!;
    expect(JSON.parse(del.body)).toEqual({ id: shop.idOf('customers', 1) });
    const create = receiver.received.find((r) => r.headers['x-shopify-topic'] === 'orders/create')!;
    expect(JSON.parse(create.body)).toMatchObject({ id: created.id, note: 'fresh' });
    const cancelled = receiver.received.find((r) => r.headers['x-shopify-topic'] === 'orders/cancelled')!;
    expect(JSON.parse(cancelled.body).cancelled_at).not.toBeNull();
    // paid + updated from one change share the event id
    const paid = receiver.received.find((r) => r.headers['x-shopify-topic'] === 'orders/paid')!;
    expect(receiver.received.filter((r) => r.headers['x-shopify-event-id'] === paid.headers['x-shopify-event-id'])).toHaveLength(2);
    expect(sim.webhooks.deliveries.every((d) => d.ok && d.attempt === 1)).toBe(true);
    await sim.stop();
    await receiver.close();
  });

  it('webhook ids are unique per delivery across simulators with one seed (per shop), and replay with the seed', async () => {
    const idsOf = async (domain: string): Promise<string[]> => {
      const receiver = await startReceiver();
      const sim = await createShopifySimulator({ seed: 7, shops: [{ domain, orders: 3 }] });
      const shop = sim.shops[0];
      shop.subscribe('orders/updated', receiver.url);
      for (let i = 0; i < 3; i++) shop.update('orders', shop.idOf('orders', i), { note: `n${i}` });
      await sim.webhooks.waitForDeliveries();
      await sim.stop();
      await receiver.close();
      return sim.webhooks.deliveries.map((d) => d.webhookId);
    };
    const a = await idsOf('one.myshopify.com');
    const b = await idsOf('two.myshopify.com');
    expect(new Set(a).size).toBe(3);
    expect(a.filter((id) => b.includes(id))).toEqual([]);
    expect(await idsOf('one.myshopify.com')).toEqual(a);
  });

  it('retries non-2xx and slow answers with backoff, keeping the webhook id', async () => {
    const receiver = await startReceiver((n) => (n === 0 ? { status: 500 } : n === 1 ? { status: 200, delayMs: 1500 } : { status: 200 }));
    const sim = await createShopifySimulator({ shops: [{ orders: 3 }], timeScale: 1000, webhooks: { timeoutMs: 1000, backoffMs: 20_000 } });
    const shop = sim.shops[0];
    shop.subscribe('orders/updated', receiver.url);
    const t = performance.now();
    shop.update('orders', shop.idOf('orders', 0), { note: 'retry me' });
    await sim.webhooks.waitForDeliveries();
    const attempts = sim.webhooks.deliveries;
    expect(attempts.map((d) => d.attempt)).toEqual([1, 2, 3]);
    expect(attempts.map((d) => d.ok)).toEqual([false, false, true]);
    expect(attempts[0].status).toBe(500);
    expect(attempts[1].error).toMatch(/no answer within 1000 ms/);
    expect(new Set(attempts.map((d) => d.webhookId)).size).toBe(1);
    // backoff 20 s then 40 s simulated = 20 + 40 ms wall at timeScale 1000, plus the 1 s timeout
    expect(performance.now() - t).toBeGreaterThanOrEqual(1050);
    expect(attempts[2].sentAt).toBeGreaterThanOrEqual(attempts[1].sentAt);
    await sim.stop();
    await receiver.close();
  });

  it('gives up after maxAttempts', async () => {
    const receiver = await startReceiver(() => ({ status: 503 }));
    const sim = await createShopifySimulator({ shops: [{ orders: 3 }], timeScale: 1000, webhooks: { backoffMs: 1000 } });
    sim.shops[0].subscribe('orders/updated', receiver.url);
    sim.shops[0].update('orders', sim.shops[0].idOf('orders', 1), { note: 'x' });
    await sim.webhooks.waitForDeliveries();
    expect(sim.webhooks.deliveries).toHaveLength(8);
    expect(receiver.received).toHaveLength(8);
    await sim.stop();
    await receiver.close();
  });

  it('sends duplicates and out-of-order deliveries when asked', async () => {
    const receiver = await startReceiver();
    const sim = await createShopifySimulator({ seed: 5, shops: [{ orders: 30 }], webhooks: { duplicateRate: 1, outOfOrder: { maxDelayMs: 80 } } });
    const shop = sim.shops[0];
    shop.subscribe('orders/updated', receiver.url);
    for (let i = 0; i < 10; i++) shop.update('orders', shop.idOf('orders', i), { note: `n${i}` });
    await sim.webhooks.waitForDeliveries();
    expect(receiver.received).toHaveLength(20);
    const ids = receiver.received.map((r) => r.headers['x-shopify-webhook-id']);
    expect(new Set(ids).size).toBe(10);
    expect(sim.webhooks.deliveries.filter((d) => d.duplicate)).toHaveLength(10);
    const order = receiver.received.map((r) => JSON.parse(r.body).note as string).filter((n, k, a) => a.indexOf(n) === k);
    expect(order).not.toEqual(order.slice().sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
    await sim.stop();
    await receiver.close();
  });

  it('manages subscriptions over REST webhooks.json', async () => {
    const sim = await createShopifySimulator({ shops: 1 });
    const shop = sim.shops[0];
    const res = await fetch(`${sim.url}/admin/api/2025-01/webhooks.json`, {
      method: 'POST', headers: { 'X-Shopify-Access-Token': shop.accessToken, 'Content-Type': 'application/json' },
      body: JSON.stringify({ webhook: { topic: 'orders/create', address: 'http://127.0.0.1:9/hook', format: 'json' } }),
    });
    expect(res.status).toBe(201);
    const { webhook } = await res.json() as { webhook: { id: number } };
    expect(shop.subscriptions).toHaveLength(1);
    const del = await fetch(`${sim.url}/admin/api/2025-01/webhooks/${webhook.id}.json`, { method: 'DELETE', headers: { 'X-Shopify-Access-Token': shop.accessToken } });
    expect(del.status).toBe(200);
    expect(shop.subscriptions).toHaveLength(0);
    await sim.stop();
  });
});
