import { describe, expect, it } from 'vitest';
import { readWebhookHeaders, signWebhookBody, verifyWebhookHmac } from '../../src/webhooks/index.js';
import { readFixture } from '../helpers/db.js';

describe('verifyWebhookHmac', () => {
  const body = '{"foo": "bar"}';
  const digest = 'B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=';

  it("accepts Shopify's published vector (string and bytes)", () => {
    expect(verifyWebhookHmac(body, digest, 'test_secret_key')).toBe(true);
    expect(verifyWebhookHmac(new TextEncoder().encode(body), digest, 'test_secret_key')).toBe(true);
    expect(signWebhookBody(body, 'test_secret_key')).toBe(digest);
  });

  it('rejects a wrong secret, a changed body, a missing or malformed header', () => {
    expect(verifyWebhookHmac(body, digest, 'other')).toBe(false);
    expect(verifyWebhookHmac('{"foo":"bar"}', digest, 'test_secret_key')).toBe(false);
    expect(verifyWebhookHmac(body, null, 'test_secret_key')).toBe(false);
    expect(verifyWebhookHmac(body, '', 'test_secret_key')).toBe(false);
    expect(verifyWebhookHmac(body, 'not base64 at all!!', 'test_secret_key')).toBe(false);
    expect(verifyWebhookHmac(body, digest.slice(0, 20), 'test_secret_key')).toBe(false);
    // Node's base64 decoder would stop at '=' and accept these; the canonical form is required.
    expect(verifyWebhookHmac(body, `${digest}junk`, 'test_secret_key')).toBe(false);
    expect(verifyWebhookHmac(body, digest.replace('B23', 'B2*3'), 'test_secret_key')).toBe(false);
    expect(verifyWebhookHmac(body, ` ${digest} `, 'test_secret_key')).toBe(true);
  });

  it('accepts any of several secrets (rotation)', () => {
    expect(verifyWebhookHmac(body, digest, ['new_secret', 'test_secret_key'])).toBe(true);
    expect(verifyWebhookHmac(body, digest, ['new_secret', ''])).toBe(false);
    expect(verifyWebhookHmac(body, digest, [])).toBe(false);
  });

  it('does not verify the hookdeck captures (their bodies were re-serialised)', async () => {
    for (const name of ['orders.create', 'customers.update', 'products.create']) {
      const capture = JSON.parse(await readFixture(`captured-hookdeck-2024-10/${name}.json`));
      const header = capture.headers['x-shopify-hmac-sha256'];
      expect(header).toMatch(/=$/);
      expect(verifyWebhookHmac(JSON.stringify(capture.body), header, 'any-secret')).toBe(false);
    }
  });
});

describe('readWebhookHeaders', () => {
  it('reads the captured header shapes case-insensitively', async () => {
    const capture = JSON.parse(await readFixture('captured-hookdeck-2024-10/orders.create.json'));
    const upper = new Headers();
    for (const [k, v] of Object.entries(capture.headers as Record<string, string>)) upper.set(k.toUpperCase(), v);
    const h = readWebhookHeaders((n) => upper.get(n));
    expect(h).toEqual({
      topic: 'orders/create',
      hmac: 'fY7rpk/+wc1Yc/8Y+gdLkGXClS0/jaoPBM3tkTYUBTk=',
      shopDomain: 'shop.myshopify.com',
      webhookId: '8a95126f-859a-4db9-b8f1-350e299e9ea0',
      apiVersion: '2024-10',
      eventId: null,
      triggeredAt: new Date('2024-08-07T22:57:57.290Z'),
    });
  });

  it('lists the missing required headers', () => {
    const h = new Headers({ 'X-Shopify-Topic': 'orders/create', 'x-shopify-webhook-id': '' });
    expect(readWebhookHeaders((n) => h.get(n))).toEqual({ missing: ['X-Shopify-Hmac-Sha256', 'X-Shopify-Shop-Domain', 'X-Shopify-Webhook-Id'] });
  });
});
