import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';

/** Key material accepted by the key ring (`createKeyRing`, `keyRingFromEnv`). */
export type KeyInput = string | Uint8Array;

const HEX_64 = /^[0-9a-fA-F]{64}$/;
const BASE64_32 = /^[A-Za-z0-9+/_-]{43}={0,1}$/;

/**
 * Turns a configured key into its 32 raw bytes. Accepted forms, tried in this order:
 * - 64 hexadecimal characters;
 * - base64 or base64url of 32 bytes (43 or 44 characters);
 * - a 32-character string used as its UTF-8 bytes (the seed's `ENCRYPTION_KEY=your_32_character_encryption_key` form);
 * - a `Uint8Array`/`Buffer` of 32 bytes.
 *
 * Anything else is a {@link ConfigError}: a short or missing key must stop start-up rather than
 * let PII be written in plaintext or under a weak key. The message names the setting, never the value.
 *
 * @example
 * ```ts
 * parseKeyMaterial(randomBytes(32).toString('hex'), 'ENCRYPTION_KEY').length // 32
 * ```
 */
export function parseKeyMaterial(input: KeyInput | undefined | null, name: string): Buffer {
  if (input === undefined || input === null || input === '') {
    throw new ConfigError(`${name} is not set: PII encryption needs a 32-byte key (32 characters, 64 hex characters, or base64 of 32 bytes), e.g. \`openssl rand -hex 32\``, { details: { setting: name } });
  }
  if (typeof input !== 'string') {
    if (input.byteLength !== 32) {
      throw new ConfigError(`${name} must be 32 bytes, got ${input.byteLength}`, { details: { setting: name, length: input.byteLength } });
    }
    return Buffer.from(input);
  }
  const text = input.trim();
  if (HEX_64.test(text)) return Buffer.from(text, 'hex');
  if (BASE64_32.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === 32) return bytes;
  }
  const raw = Buffer.from(text, 'utf8');
  if (text.length === 32 && raw.length === 32) return raw;
  throw new ConfigError(
    `${name} must be a 32-byte key given as 32 ASCII characters, 64 hex characters, or base64 of 32 bytes (got ${text.length} characters); generate one with \`openssl rand -hex 32\``,
    { details: { setting: name, length: text.length } },
  );
}

/**
 * Short, non-secret fingerprint naming a key inside ciphertexts: the first 8 hex digits of SHA-256(key).
 *
 * @example
 * ```ts
 * keyFingerprint(parseKeyMaterial(process.env.ENCRYPTION_KEY, 'ENCRYPTION_KEY')) // e.g. '42091600'
 * ```
 */
export function keyFingerprint(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}
