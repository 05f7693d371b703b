import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Checks Shopify's `X-Shopify-Hmac-Sha256` header: the base64 HMAC-SHA256 of the raw request bytes
 * keyed with the app's client secret.
 *
 * - Computed over the bytes as received: a body re-serialised by a JSON parser does not verify
 *   (key order, spacing and 64-bit ids change).
 * - Compared in constant time.
 * - Several secrets are accepted: after a secret rotation Shopify can take up to an hour to sign
 *   with the new one (https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-2-validate-the-origin-of-your-webhook-to-ensure-its-coming-from-shopify).
 *
 * @param rawBody the request body exactly as received (bytes, or a string encoded as UTF-8)
 * @param header the `X-Shopify-Hmac-Sha256` value (null when absent: returns false)
 * @param secrets the current secret, or the list of secrets still accepted
 * @example
 * ```ts
 * verifyWebhookHmac('{"foo": "bar"}', 'B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=', 'test_secret_key') // true
 * verifyWebhookHmac(body, req.headers.get('x-shopify-hmac-sha256'), [newSecret, oldSecret])
 * ```
 */
export function verifyWebhookHmac(rawBody: Uint8Array | string, header: string | null | undefined, secrets: string | readonly string[]): boolean {
  if (!header) return false;
  // Constant time (`timingSafeEqual` on equal-length buffers): the digest cannot be guessed byte
  // by byte from response times.
  const encoded = header.trim();
  // Node's base64 decoder stops at the first '=' and skips invalid characters; only the canonical
  // 44-character encoding of a 32-byte digest is accepted, so "<valid>=junk" does not verify.
  if (!/^[A-Za-z0-9+/]{43}=$/.test(encoded)) return false;
  const expected = Buffer.from(encoded, 'base64');
  // A SHA-256 digest is 32 bytes; anything else cannot match and timingSafeEqual needs equal lengths.
  if (expected.length !== 32) return false;
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  let ok = false;
  for (const secret of list) {
    if (!secret) continue;
    const digest = createHmac('sha256', secret).update(rawBody).digest();
    // No early exit: every secret is tried, so timing does not reveal which one matched.
    if (timingSafeEqual(digest, expected)) ok = true;
  }
  return ok;
}

/**
 * Signs a body as Shopify does (base64 HMAC-SHA256): for tests, simulators and replay tools.
 *
 * @example
 * ```ts
 * const hmac = signWebhookBody(JSON.stringify(payload), process.env.SHOPIFY_API_SECRET!);
 * ```
 */
export function signWebhookBody(rawBody: Uint8Array | string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}
