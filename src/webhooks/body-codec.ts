import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * How a delivery body is packed before encryption for the inbox. Shopify JSON deflates 4-8x, and
 * the inbox write is the one thing between a delivery and its 200: fewer bytes per row means more
 * rows per commit (measured in bench/webhooks.ts). Ciphertext does not compress, so this must happen
 * before encryption. Bodies are tagged so rows written unpacked stay readable.
 */
const PACKED = 'z1:';

/** Packs a raw body for storage (deflate, base64), tagged with its format. */
export function packBody(rawBody: string): string {
  return PACKED + deflateRawSync(rawBody, { level: 3 }).toString('base64');
}

/** Inverse of {@link packBody}; untagged text is returned as is. */
export function unpackBody(stored: string): string {
  if (!stored.startsWith(PACKED)) return stored;
  return inflateRawSync(Buffer.from(stored.slice(PACKED.length), 'base64')).toString('utf8');
}
