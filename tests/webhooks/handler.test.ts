import { describe, expect, it, vi } from 'vitest';
import { createWebhookHandler, signWebhookBody, type VerifiedDelivery } from '../../src/webhooks/index.js';

const secret = 'shpss_test';
const body = '{"id": 820982911946154508, "email": "a@example.com"}';

function headers(extra: Record<string, string> = {}, raw = body): Record<string, string> {
  return {
    'content-type': 'application/json',
    'X-Shopify-Topic': 'customers/create',
    'X-Shopify-Hmac-Sha256': signWebhookBody(raw, secret),
    'X-Shopify-Shop-Domain': 'Shop-One.myshopify.com',
    'X-Shopify-Webhook-Id': 'wh-1',
    'X-Shopify-Event-Id': 'ev-1',
    'X-Shopify-API-Version': '2025-07',
    'X-Shopify-Triggered-At': '2025-01-01T00:00:00Z',
    ...extra,
  };
}

function setup(overrides: Partial<Parameters<typeof createWebhookHandler>[0]> = {}) {
  const accepted: VerifiedDelivery[] = [];
  const resolveTenant = vi.fn(async (shop: string) => (shop === 'shop-one.myshopify.com' ? 't1' : null));
  const handler = createWebhookHandler({
    secrets: ['old', secret],
    resolveTenant,
    accept: async (d) => { accepted.push(d); return { id: 'row-1', inserted: accepted.length === 1 }; },
    maxBodyBytes: 1024,
    ...overrides,
  });
  return { handler, accepted, resolveTenant };
}

const post = (h: Record<string, string>, b: BodyInit | null = body) => new Request('http://x/webhooks', { method: 'POST', headers: h, body: b });

describe('createWebhookHandler', () => {
  it('stores a valid delivery and answers 200 (duplicates too)', async () => {
    const { handler, accepted } = setup();
    const res = await handler(post(headers()));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, duplicate: false });
    expect(accepted[0]).toMatchObject({
      tenantId: 't1', topic: 'customers/create', shopDomain: 'shop-one.myshopify.com', webhookId: 'wh-1', eventId: 'ev-1',
      apiVersion: '2025-07', triggeredAt: new Date('2025-01-01T00:00:00Z'), rawBody: body,
    });
    const again = await handler(post(headers()));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ ok: true, duplicate: true });
  });

  it('405 for other methods', async () => {
    const { handler, accepted } = setup();
    const res = await handler(new Request('http://x/', { method: 'GET' }));
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(accepted).toHaveLength(0);
  });

  it('400 for a missing header, naming it', async () => {
    const { handler, accepted } = setup();
    const h = headers();
    delete h['X-Shopify-Webhook-Id'];
    const res = await handler(post(h));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('X-Shopify-Webhook-Id');
    expect(accepted).toHaveLength(0);
  });

  it('400 for a signed body that is not JSON', async () => {
    const { handler } = setup();
    const res = await handler(post(headers({}, 'not json'), 'not json'));
    expect(res.status).toBe(400);
  });

  it('400 for a validly signed body nested 10,000 levels deep, nothing stored; 64 levels still pass', async () => {
    const { handler, accepted } = setup({ maxBodyBytes: 1 << 20 });
    const deep = `{"id":1,"note_attributes":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const res = await handler(post(headers({}, deep), deep));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('nested deeper than 64 levels');
    expect(accepted).toHaveLength(0);
    // Brackets inside strings do not count; 64 real levels are accepted.
    const fine = `{"id":1,"note":"${'['.repeat(500)}","a":${'['.repeat(63)}${']'.repeat(63)}}`;
    expect((await handler(post(headers({}, fine), fine))).status).toBe(200);
  });

  it('401 for a bad HMAC without detail or side effect', async () => {
    const { handler, accepted, resolveTenant } = setup();
    const res = await handler(post(headers({ 'X-Shopify-Hmac-Sha256': signWebhookBody(body, 'wrong') })));
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('Unauthorized');
    expect(accepted).toHaveLength(0);
    expect(resolveTenant).not.toHaveBeenCalled();
  });

  it('413 from content-length, and from a streamed body without one, reading at most the limit', async () => {
    const { handler, accepted } = setup();
    const big = 'x'.repeat(2000);
    expect((await handler(post(headers({}, big), big))).status).toBe(413);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) { pulled += 1; controller.enqueue(new Uint8Array(256)); },
    });
    const req = new Request('http://x/', { method: 'POST', headers: headers(), body: endless, duplex: 'half' } as RequestInit);
    expect((await handler(req)).status).toBe(413);
    expect(pulled).toBeLessThan(10);
    expect(accepted).toHaveLength(0);
  });

  it('404 for an unknown shop, nothing stored', async () => {
    const { handler, accepted } = setup();
    const res = await handler(post(headers({ 'X-Shopify-Shop-Domain': 'other.myshopify.com' })));
    expect(res.status).toBe(404);
    expect(accepted).toHaveLength(0);
  });

  it('503 when the tenant lookup or the insert fails', async () => {
    const down = setup({ resolveTenant: async () => { throw new Error('ECONNREFUSED'); } });
    expect((await down.handler(post(headers()))).status).toBe(503);
    const insertDown = setup({ accept: async () => { throw new Error('ECONNREFUSED'); } });
    const res = await insertDown.handler(post(headers()));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
  });

  it('requires a secret', () => {
    expect(() => createWebhookHandler({ secrets: [], resolveTenant: async () => null, accept: async () => ({ id: '', inserted: true }) })).toThrow(/secret/);
  });
});
