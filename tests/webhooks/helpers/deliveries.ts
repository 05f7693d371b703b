import { createKeyRing } from '../../../src/crypto/index.js';
import { silentLogger } from '../../../src/logger.js';
import { createWebhookService, signWebhookBody, type WebhookService } from '../../../src/webhooks/index.js';
import { readFixture } from '../../helpers/db.js';

export const SECRET = 'shpss_webhook_test_secret';
export const ENCRYPTION_KEY = 'webhook-test-key-0123456789abcde';

let counter = 0;

/** A signed Shopify delivery (headers + exact body bytes). */
export function signedDelivery(topic: string, body: unknown | string, options: { shop?: string; webhookId?: string; triggeredAt?: string; secret?: string } = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-shopify-topic': topic,
    'x-shopify-hmac-sha256': signWebhookBody(raw, options.secret ?? SECRET),
    'x-shopify-shop-domain': options.shop ?? 'shop.myshopify.com',
    'x-shopify-webhook-id': options.webhookId ?? `wh-${process.pid}-${++counter}`,
    'x-shopify-event-id': `ev-${counter}`,
    'x-shopify-api-version': '2024-10',
    'x-shopify-triggered-at': options.triggeredAt ?? new Date().toISOString(),
  };
  return { headers, body: raw };
}

export function toRequest(d: { headers: Record<string, string>; body: string }, url = 'http://localhost/webhooks/shopify'): Request {
  return new Request(url, { method: 'POST', headers: d.headers, body: d.body });
}

/** A hookdeck capture's body (real Shopify shape). */
export async function captureBody(name: string): Promise<Record<string, any>> {
  return JSON.parse(await readFixture(`captured-hookdeck-2024-10/${name}.json`)).body;
}

/** A webhook service on `database` whose worker the test drives (`processPending`), with no tenant cache. */
export function manualWebhookService(database: Parameters<typeof createWebhookService>[0], over: Parameters<typeof createWebhookService>[1] = {}): WebhookService {
  return createWebhookService(database, { secrets: SECRET, keyRing: createKeyRing({ key: ENCRYPTION_KEY }), logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0, ...over });
}

/** Signs `body` as a delivery of `topic` and hands it to the service's handler. */
export function sendSigned(s: WebhookService, topic: string, body: unknown, options: Parameters<typeof signedDelivery>[2] = {}): Promise<Response> {
  return s.handler(toRequest(signedDelivery(topic, body, options)));
}
