/**
 * The reason a refused delivery is counted with comes from the webhook core's answer: each refusal
 * the core can give, produced by the real core, maps to its documented reason.
 */
import { describe, expect, it } from 'vitest';
import { rejectionReason } from '../../src/telemetry/index.js';
import { createWebhookCore, type WebhookHandlerOptions, type WebhookRequestInput } from '../../src/webhooks/handler.js';
import { signWebhookBody } from '../../src/webhooks/verify.js';

const SECRET = 'reasons-secret';
const SHOP = 'reasons.myshopify.com';

function input(body: string, headers: Record<string, string | undefined> = {}, method = 'POST'): WebhookRequestInput {
  const all: Record<string, string | undefined> = {
    'x-shopify-topic': 'orders/create', 'x-shopify-hmac-sha256': signWebhookBody(body, SECRET), 'x-shopify-shop-domain': SHOP,
    'x-shopify-webhook-id': 'wh-1', 'x-shopify-api-version': '2026-10', 'x-shopify-triggered-at': new Date().toISOString(), ...headers,
  };
  const bytes = new TextEncoder().encode(body);
  return { method, header: (name) => all[name], declaredLength: bytes.length, readBody: async () => bytes, discardBody: () => {} };
}

function core(overrides: Partial<WebhookHandlerOptions> = {}) {
  return createWebhookCore({
    secrets: SECRET, maxBodyBytes: 1000,
    resolveTenant: async (shop) => (shop === SHOP ? 't1' : null),
    accept: async () => ({ id: 'row', inserted: true }),
    ...overrides,
  });
}

describe('rejectionReason', () => {
  it('names every refusal of the core, and none for an accepted delivery', async () => {
    const ok = '{"id":1}';
    const cases: Array<[string | null, WebhookRequestInput, WebhookHandlerOptions?]> = [
      [null, input(ok)],
      ['method_not_allowed', input(ok, {}, 'GET')],
      ['missing_headers', input(ok, { 'x-shopify-topic': undefined })],
      ['too_large', input(`{"x":"${'a'.repeat(2000)}"}`)],
      ['invalid_hmac', input(ok, { 'x-shopify-hmac-sha256': signWebhookBody(ok, 'another-secret') })],
      ['not_json', input('not json')],
      ['too_deep', input(`${'['.repeat(100)}${']'.repeat(100)}`)],
      ['shop_mismatch', input('{"shop_domain":"other.myshopify.com"}', { 'x-shopify-topic': 'shop/redact' })],
      ['unknown_shop', input(ok, { 'x-shopify-shop-domain': 'nobody.myshopify.com' })],
    ];
    for (const [reason, request] of cases) expect(rejectionReason(await core()(request)), String(reason)).toBe(reason);
    const down = core({ accept: async () => { throw new Error('database down'); } });
    expect(rejectionReason(await down(input(ok)))).toBe('unavailable');
  });
});
