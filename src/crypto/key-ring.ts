import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, randomFillSync, type KeyObject } from 'node:crypto';
import { ConfigError, ShopifyIngestError } from '../errors.js';
import { assertTenantId } from '../errors.js';
import { flatString, parseShopifyJson, stringifyShopifyJson } from '../json.js';
import { DecryptError } from './errors.js';
import { keyFingerprint, parseKeyMaterial, type KeyInput } from './key-material.js';

/**
 * Encrypts and decrypts PII for one deployment. Values are sealed with AES-256-GCM under the newest
 * key, a random 96-bit IV each, and the tenant id as associated data, so a ciphertext copied into
 * another tenant's rows fails to decrypt.
 *
 * Ciphertext format (ASCII, safe in SQL and JSON): `v1.<keyId>.<iv>.<ciphertext+tag>`, where `keyId`
 * is 8 hex digits of SHA-256(key) and the last two parts are base64url. Naming the key lets a ring
 * hold old keys for decryption while new writes use the newest one.
 */
export interface KeyRing {
  /** Id of the key new ciphertexts are written under. */
  readonly keyId: string;
  /** Ids of every key the ring can decrypt with, newest first. */
  readonly keyIds: readonly string[];
  /** Seals `plaintext` for `tenantId` under the newest key. */
  encrypt(plaintext: string, tenantId: string): string;
  /** Opens a ciphertext written by any key of the ring for the same tenant; throws {@link DecryptError}. */
  decrypt(ciphertext: string, tenantId: string): string;
  /** Seals any JSON value (bigints kept exact). */
  encryptJson(value: unknown, tenantId: string): string;
  /** Opens a value sealed by {@link KeyRing.encryptJson}. */
  decryptJson<T = unknown>(ciphertext: string, tenantId: string): T;
  /** Re-encrypts under the newest key; returns the input unchanged when it already is. */
  rotate(ciphertext: string, tenantId: string): string;
  /** True when `ciphertext` was written under an older key than {@link KeyRing.keyId}. */
  needsRotation(ciphertext: string): boolean;
  /** True when `value` has the ciphertext format (it does not check that a key of this ring wrote it). */
  isEncrypted(value: unknown): value is string;
  /**
   * Deterministic blind index of an email: HMAC-SHA256 (hex) of the trimmed, lower-cased, NFC-normalised
   * address. Lets hosts look a customer up by email (`where emailHash = ring.blindIndex(input)`) without
   * decrypting. It does not depend on the tenant, so it matches across tenants of one deployment.
   */
  blindIndex(email: string): string;
}

/** Options of {@link createKeyRing}. */
export interface KeyRingOptions {
  /** The current key: 32 characters, 64 hex characters, base64 of 32 bytes, or 32 raw bytes. */
  key: KeyInput;
  /** Older keys still needed to decrypt existing ciphertexts (any order). */
  previousKeys?: readonly KeyInput[];
  /**
   * Key material of the blind index. Defaults to `key`. The index must not change when the
   * encryption key rotates (stored hashes would stop matching), so when `previousKeys` is non-empty
   * this is required: set it to the key the existing hashes were computed with (your first
   * `ENCRYPTION_KEY`), and keep it forever.
   */
  blindIndexKey?: KeyInput;
  /** Fills a buffer with random bytes (tests inject a deterministic source). Default `crypto.randomFillSync`. */
  randomFill?: (buffer: Buffer) => void;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** IVs are drawn from a pooled buffer: one syscall per 1,024 values instead of one per value. */
const IV_POOL = IV_BYTES * 1024;
const FORMAT = /^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22,}$/;
const BLIND_INDEX_INFO = 'shopify-ingest/blind-index/v1';

interface RingKey { id: string; key: KeyObject }

/** The key material a ring was built from, to build the same ring in a worker thread. */
export interface KeyRingMaterial {
  key: Buffer;
  previousKeys: Buffer[];
  blindIndexKey: Buffer;
}

/** Rings built by {@link createKeyRing} with the default random source -> their material. */
const materials = new WeakMap<KeyRing, KeyRingMaterial>();

/**
 * The material `ring` was built from, when {@link createKeyRing} built it with the default random
 * source; null for any other ring (one of the host's own, or one with an injected `randomFill`).
 * @internal
 */
export function keyRingMaterialOf(ring: KeyRing): KeyRingMaterial | null {
  return materials.get(ring) ?? null;
}

/**
 * Creates a {@link KeyRing}. Throws {@link ConfigError} for a missing, short or malformed key.
 *
 * @example
 * ```ts
 * const ring = createKeyRing({ key: process.env.ENCRYPTION_KEY! });
 * const sealed = ring.encrypt('bob@example.com', 'tenant-1'); // 'v1.3f2a9c01.…'
 * ring.decrypt(sealed, 'tenant-1');                           // 'bob@example.com'
 * ring.decrypt(sealed, 'tenant-2');                           // throws DecryptError
 * ```
 */
export function createKeyRing(options: KeyRingOptions): KeyRing {
  const primary = parseKeyMaterial(options.key, 'ENCRYPTION_KEY');
  const previous = (options.previousKeys ?? []).map((k, i) => parseKeyMaterial(k, `ENCRYPTION_PREVIOUS_KEYS[${i}]`));
  if (previous.length > 0 && (options.blindIndexKey === undefined || options.blindIndexKey === '')) {
    throw new ConfigError(
      'BLIND_INDEX_KEY is required once ENCRYPTION_PREVIOUS_KEYS is set: the email blind index must not change when the encryption key rotates. Set BLIND_INDEX_KEY to the key the stored email hashes were computed with (your first ENCRYPTION_KEY) and keep it.',
      { details: { setting: 'BLIND_INDEX_KEY' } },
    );
  }
  const blindMaterial = options.blindIndexKey !== undefined && options.blindIndexKey !== ''
    ? parseKeyMaterial(options.blindIndexKey, 'BLIND_INDEX_KEY')
    : primary;
  // HKDF separates the HMAC key from the encryption key, so the same secret never serves two algorithms.
  const blindKey = createSecretKey(Buffer.from(hkdfSync('sha256', blindMaterial, Buffer.alloc(0), BLIND_INDEX_INFO, 32)));

  const keys: RingKey[] = [];
  for (const material of [primary, ...previous]) {
    const id = keyFingerprint(material);
    if (!keys.some((k) => k.id === id)) keys.push({ id, key: createSecretKey(material) });
  }
  const current = keys[0];
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  const randomFill = options.randomFill ?? ((b: Buffer) => { randomFillSync(b); });
  const ivPool = Buffer.alloc(IV_POOL);
  let ivOffset = IV_POOL;
  const aadCache = new Map<string, Buffer>();

  function aad(tenantId: string): Buffer {
    let value = aadCache.get(tenantId);
    if (value === undefined) {
      assertTenantId(tenantId);
      value = Buffer.from(tenantId, 'utf8');
      if (aadCache.size > 10_000) aadCache.clear();
      aadCache.set(tenantId, value);
    }
    return value;
  }

  function nextIv(): Buffer {
    if (ivOffset + IV_BYTES > IV_POOL) { randomFill(ivPool); ivOffset = 0; }
    // Copy: the pool is refilled later, and the IV must stay what was used.
    const iv = Buffer.from(ivPool.subarray(ivOffset, ivOffset + IV_BYTES));
    ivOffset += IV_BYTES;
    return iv;
  }

  function encrypt(plaintext: string, tenantId: string): string {
    if (typeof plaintext !== 'string') throw new ShopifyIngestError('INVALID_ARGUMENT', 'KeyRing.encrypt expects a string; use encryptJson for other values');
    const iv = nextIv();
    const cipher = createCipheriv('aes-256-gcm', current.key, iv);
    cipher.setAAD(aad(tenantId));
    const body = cipher.update(plaintext, 'utf8');
    const last = cipher.final();
    const tag = cipher.getAuthTag();
    const sealed = last.length === 0 ? Buffer.concat([body, tag]) : Buffer.concat([body, last, tag]);
    return flatString(`${VERSION}.${current.id}.${iv.toString('base64url')}.${sealed.toString('base64url')}`);
  }

  function split(ciphertext: string): { keyId: string; iv: Buffer; sealed: Buffer } {
    if (typeof ciphertext !== 'string' || !FORMAT.test(ciphertext)) {
      throw new DecryptError('malformed', 'value is not a shopify-ingest ciphertext (expected v1.<keyId>.<iv>.<data>)');
    }
    const [, keyId, iv, sealed] = ciphertext.split('.');
    return { keyId, iv: Buffer.from(iv, 'base64url'), sealed: Buffer.from(sealed, 'base64url') };
  }

  function decrypt(ciphertext: string, tenantId: string): string {
    const { keyId, iv, sealed } = split(ciphertext);
    const key = byId.get(keyId);
    if (key === undefined) {
      throw new DecryptError('unknown-key', `ciphertext was written under key ${keyId}, which is not in the key ring (known: ${[...byId.keys()].join(', ')}); add it to ENCRYPTION_PREVIOUS_KEYS`, { keyId });
    }
    if (iv.length !== IV_BYTES || sealed.length < TAG_BYTES) throw new DecryptError('malformed', 'ciphertext is truncated', { keyId });
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(aad(tenantId));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES), undefined, 'utf8') + decipher.final('utf8');
    } catch (cause) {
      throw new DecryptError('authentication-failed', `ciphertext under key ${keyId} failed authentication: tampered, or sealed for another tenant than the one given`, { keyId, cause });
    }
  }

  const keyIds = keys.map((k) => k.id);
  const ring: KeyRing = {
    keyId: current.id,
    keyIds,
    encrypt,
    decrypt,
    encryptJson: (value, tenantId) => encrypt(stringifyShopifyJson(value), tenantId),
    decryptJson: <T>(ciphertext: string, tenantId: string) => parseShopifyJson<T>(decrypt(ciphertext, tenantId)),
    rotate(ciphertext, tenantId) {
      const plaintext = decrypt(ciphertext, tenantId);
      return split(ciphertext).keyId === current.id ? ciphertext : encrypt(plaintext, tenantId);
    },
    needsRotation: (ciphertext) => split(ciphertext).keyId !== current.id,
    isEncrypted: (value): value is string => typeof value === 'string' && FORMAT.test(value),
    blindIndex(email) {
      if (typeof email !== 'string') throw new ShopifyIngestError('INVALID_ARGUMENT', 'KeyRing.blindIndex expects a string');
      return createHmac('sha256', blindKey).update(normaliseEmail(email), 'utf8').digest('hex');
    },
  };
  // A ring with an injected random source (tests) cannot be rebuilt elsewhere the same.
  if (!options.randomFill) materials.set(ring, { key: primary, previousKeys: previous, blindIndexKey: blindMaterial });
  return ring;
}

/**
 * The normal form the blind index hashes: trimmed, NFC, lower-cased (`toLowerCase`, locale-independent).
 *
 * @example
 * ```ts
 * normaliseEmail('  Bob@Example.COM ') // 'bob@example.com'
 * ```
 */
export function normaliseEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

/** Environment variables read by {@link keyRingFromEnv}. */
export interface KeyRingEnv {
  /** The current key (32 bytes: 32 characters, 64 hex or base64). */
  ENCRYPTION_KEY?: string;
  /** Comma-separated older keys, e.g. `ENCRYPTION_PREVIOUS_KEYS=<hex>,<hex>`. */
  ENCRYPTION_PREVIOUS_KEYS?: string;
  /** Key of the email blind index (required once keys rotate). */
  BLIND_INDEX_KEY?: string;
  [name: string]: string | undefined;
}

/**
 * Builds a key ring from `ENCRYPTION_KEY`, `ENCRYPTION_PREVIOUS_KEYS` (comma-separated) and
 * `BLIND_INDEX_KEY`. Throws {@link ConfigError} when `ENCRYPTION_KEY` is missing or malformed.
 *
 * @example
 * ```ts
 * const ring = keyRingFromEnv(); // reads process.env
 * const ring2 = keyRingFromEnv({ ENCRYPTION_KEY: 'your_32_character_encryption_key' });
 * ```
 */
export function keyRingFromEnv(env: KeyRingEnv = process.env): KeyRing {
  const previousKeys = (env.ENCRYPTION_PREVIOUS_KEYS ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '');
  return createKeyRing({
    key: env.ENCRYPTION_KEY ?? '',
    previousKeys,
    blindIndexKey: env.BLIND_INDEX_KEY?.trim() || undefined,
  });
}

/**
 * Returns a key ring for `env`, built once per distinct set of key variables (a single-entry cache,
 * so the static `ShopifyTransformer.*` methods and {@link decrypt} do not re-parse keys per call,
 * and a changed environment is picked up).
 *
 * @example
 * ```ts
 * const ring = envKeyRing(); // same instance on every call while the env keys stay the same
 * ```
 */
export function envKeyRing(env: KeyRingEnv = process.env): KeyRing {
  const signature = `${env.ENCRYPTION_KEY ?? ''}\u0000${env.ENCRYPTION_PREVIOUS_KEYS ?? ''}\u0000${env.BLIND_INDEX_KEY ?? ''}`;
  if (envCache !== undefined && envCache.signature === signature) return envCache.ring;
  const ring = keyRingFromEnv(env);
  envCache = { signature, ring };
  return ring;
}
// The one piece of module state, a cache of a pure function of the environment (see envKeyRing).
let envCache: { signature: string; ring: KeyRing } | undefined;

/**
 * Decrypts one `*Enc` column value for a host. Uses `keyRing` when given, else the ring built from
 * the environment.
 *
 * @example
 * ```ts
 * const email = decrypt(customer.emailEnc, customer.tenantId);
 * ```
 */
export function decrypt(ciphertext: string, tenantId: string, keyRing: KeyRing = envKeyRing()): string {
  return keyRing.decrypt(ciphertext, tenantId);
}

/**
 * Decrypts a JSON value sealed by the SDK, such as `addressesEnc`.
 *
 * @example
 * ```ts
 * const addresses = decryptJson<Array<{ address1: string }>>(customer.addressesEnc, customer.tenantId);
 * ```
 */
export function decryptJson<T = unknown>(ciphertext: string, tenantId: string, keyRing: KeyRing = envKeyRing()): T {
  return keyRing.decryptJson<T>(ciphertext, tenantId);
}
