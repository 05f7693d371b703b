import { createHash, timingSafeEqual } from 'node:crypto';

/** A set of static API keys, checked in constant time. */
export interface ApiKeySet {
  /** The index of the matching key, or -1. Every key is compared, whatever matches. */
  match(presented: string): number;
  /** How many keys it holds. */
  readonly size: number;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Holds static API keys as SHA-256 digests and compares a presented key with each of them using
 * `timingSafeEqual`. Hashing first gives equal-length buffers, so neither a key's content nor
 * its length leaks through timing.
 *
 * @example
 * ```ts
 * const keys = createApiKeySet(['k_live_1', 'k_live_2']);
 * keys.match(req.headers['x-api-key']) >= 0;
 * ```
 */
export function createApiKeySet(keys: readonly string[]): ApiKeySet {
  const digests = keys.filter((k) => typeof k === 'string' && k.length > 0).map(digest);
  return {
    size: digests.length,
    match(presented: string): number {
      if (typeof presented !== 'string' || presented.length === 0 || presented.length > 4096) return -1;
      const candidate = digest(presented);
      let found = -1;
      digests.forEach((d, i) => { if (timingSafeEqual(candidate, d) && found < 0) found = i; });
      return found;
    },
  };
}
