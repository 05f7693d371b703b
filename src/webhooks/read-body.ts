import { ShopifyIngestError } from '../errors.js';

/** The body exceeded the configured limit (answered 413): `WEBHOOK_BODY_TOO_LARGE`. */
export class BodyTooLargeError extends ShopifyIngestError {
  /** @param limit The limit in bytes. */
  constructor(readonly limit: number) {
    super('WEBHOOK_BODY_TOO_LARGE', `body larger than ${limit} bytes`, { details: { limit } });
  }
}

/**
 * Reads a request body into one buffer, stopping (and cancelling the stream) as soon as it passes
 * `limit` bytes, so an oversized or endless body never sits in memory.
 *
 * @example
 * ```ts
 * const bytes = await readBodyWithLimit(request.body, 1 << 20);
 * ```
 */
export async function readBodyWithLimit(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw new BodyTooLargeError(limit);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) { out.set(chunk, offset); offset += chunk.byteLength; }
  return out;
}
