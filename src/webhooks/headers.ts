/** The `X-Shopify-*` headers of one delivery. */
export interface ShopifyWebhookHeaders {
  /** `X-Shopify-Topic`. */
  topic: string;
  /** `X-Shopify-Hmac-Sha256` (base64). */
  hmac: string;
  /** Lower-cased `*.myshopify.com` domain. */
  shopDomain: string;
  /** `X-Shopify-Webhook-Id`. */
  webhookId: string;
  /** `X-Shopify-API-Version`. */
  apiVersion: string | null;
  /** Same for every delivery of one event across subscriptions; kept for correlation. */
  eventId: string | null;
  /** `X-Shopify-Triggered-At`. */
  triggeredAt: Date | null;
}

/** Headers every delivery must carry; without them a request is answered 400. */
export const REQUIRED_WEBHOOK_HEADERS = ['x-shopify-topic', 'x-shopify-hmac-sha256', 'x-shopify-shop-domain', 'x-shopify-webhook-id'] as const;

/**
 * What `X-Shopify-Webhook-Id` may be: Shopify sends a UUID. It is the inbox's deduplication key, in a
 * btree index whose rows cannot pass ~2.7 kB: an id far longer than any real one, or not printable
 * ASCII, is refused before anything is stored.
 */
const WEBHOOK_ID = /^[\x20-\x7e]{1,255}$/;

/**
 * Reads the Shopify headers through a getter. Names are matched case-insensitively: HTTP/2 lower-cases
 * them and proxies may change case, and both `Headers.get` and Node's `req.headers` are already so.
 *
 * @returns the headers, or the list of required ones that are missing (and, with `missing` empty,
 *   the ones whose value is malformed: an `X-Shopify-Webhook-Id` over 255 characters or not printable ASCII)
 * @example
 * ```ts
 * const result = readWebhookHeaders((name) => request.headers.get(name));
 * if ('missing' in result) return new Response('missing or invalid header(s)', { status: 400 });
 * ```
 */
export function readWebhookHeaders(get: (name: string) => string | null | undefined): ShopifyWebhookHeaders | {
  /** Names of the required headers that are missing. */
  missing: string[];
  /** Names of headers present with a malformed value. */
  invalid?: string[];
} {
  const read = (name: string) => {
    const value = get(name) ?? get(name.toLowerCase());
    const text = value == null ? '' : String(value).trim();
    return text === '' ? null : text;
  };
  const topic = read('x-shopify-topic');
  const hmac = read('x-shopify-hmac-sha256');
  const shop = read('x-shopify-shop-domain');
  const webhookId = read('x-shopify-webhook-id');
  const missing: string[] = [];
  if (!topic) missing.push('X-Shopify-Topic');
  if (!hmac) missing.push('X-Shopify-Hmac-Sha256');
  if (!shop) missing.push('X-Shopify-Shop-Domain');
  if (!webhookId) missing.push('X-Shopify-Webhook-Id');
  if (missing.length > 0) return { missing };
  if (!WEBHOOK_ID.test(webhookId!)) return { missing: [], invalid: ['X-Shopify-Webhook-Id'] };
  const triggered = read('x-shopify-triggered-at');
  const triggeredAt = triggered ? new Date(triggered) : null;
  return {
    topic: topic!.toLowerCase(),
    hmac: hmac!,
    shopDomain: shop!.toLowerCase(),
    webhookId: webhookId!,
    apiVersion: read('x-shopify-api-version'),
    eventId: read('x-shopify-event-id'),
    triggeredAt: triggeredAt && !Number.isNaN(triggeredAt.getTime()) ? triggeredAt : null,
  };
}
