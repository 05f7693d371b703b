import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createKeyRing, decrypt, decryptJson, DecryptError, envKeyRing, keyFingerprint, keyRingFromEnv, parseKeyMaterial } from '../../src/crypto/index.js';

const HEX = 'a1'.repeat(32);
const RAW = 'your_32_character_encryption_key';

describe('key material', () => {
  it('accepts 64 hex chars, base64, base64url and 32 raw characters as the same kind of 32-byte key', () => {
    const bytes = randomBytes(32);
    expect(parseKeyMaterial(bytes.toString('hex'), 'K').equals(bytes)).toBe(true);
    expect(parseKeyMaterial(bytes.toString('base64'), 'K').equals(bytes)).toBe(true);
    expect(parseKeyMaterial(bytes.toString('base64url'), 'K').equals(bytes)).toBe(true);
    expect(parseKeyMaterial(RAW, 'K').equals(Buffer.from(RAW))).toBe(true);
    expect(parseKeyMaterial(bytes, 'K').equals(bytes)).toBe(true);
  });

  it('rejects missing, short, long and non-ASCII keys with a ConfigError naming the setting, not the value', () => {
    for (const bad of [undefined, '', 'short-key', 'x'.repeat(31), 'x'.repeat(33), 'é'.repeat(32), 'ab'.repeat(31)]) {
      let error: unknown;
      try { parseKeyMaterial(bad as string, 'ENCRYPTION_KEY'); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('CONFIG_INVALID');
      expect((error as Error).message).toMatch(/^\[shopify-ingest\] ENCRYPTION_KEY/);
      if (bad) expect((error as Error).message).not.toContain(bad);
    }
    expect(() => parseKeyMaterial(randomBytes(16), 'K')).toThrow(ConfigError);
  });

  it('keyRingFromEnv fails at construction when ENCRYPTION_KEY is missing or short (never plaintext)', () => {
    expect(() => keyRingFromEnv({})).toThrow(/ENCRYPTION_KEY is not set/);
    expect(() => keyRingFromEnv({ ENCRYPTION_KEY: 'too-short' })).toThrow(ConfigError);
  });
});

describe('createKeyRing', () => {
  const ring = createKeyRing({ key: HEX });

  it('round-trips unicode text, and each encryption uses a fresh IV', () => {
    const text = 'Léon Noël <bob.norman@mail.example.com> 🚀';
    const a = ring.encrypt(text, 'tenant-a');
    const b = ring.encrypt(text, 'tenant-a');
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
    expect(ring.decrypt(a, 'tenant-a')).toBe(text);
    expect(ring.decrypt(b, 'tenant-a')).toBe(text);
    expect(ring.decrypt(ring.encrypt('', 't'), 't')).toBe('');
  });

  it('writes v1.<keyId>.<iv>.<data> naming the key by an 8-hex SHA-256 fingerprint', () => {
    const sealed = ring.encrypt('x', 't');
    expect(sealed).toMatch(/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealed.split('.')[1]).toBe(keyFingerprint(Buffer.from(HEX, 'hex')));
    expect(ring.keyId).toBe(sealed.split('.')[1]);
    expect(ring.isEncrypted(sealed)).toBe(true);
    expect(ring.isEncrypted('bob@example.com')).toBe(false);
    expect(ring.isEncrypted(42)).toBe(false);
  });

  it('binds ciphertexts to the tenant: another tenant gets a DecryptError', () => {
    const sealed = ring.encrypt('bob@example.com', 'tenant-a');
    let error: unknown;
    try { ring.decrypt(sealed, 'tenant-b'); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(DecryptError);
    expect((error as DecryptError).code).toBe('DECRYPT_FAILED');
    expect((error as DecryptError).reason).toBe('authentication-failed');
  });

  it('detects tampering and malformed input', () => {
    const sealed = ring.encrypt('bob@example.com', 't');
    const parts = sealed.split('.');
    const data = Buffer.from(parts[3], 'base64url');
    data[0] ^= 1;
    const tampered = [...parts.slice(0, 3), data.toString('base64url')].join('.');
    expect(() => ring.decrypt(tampered, 't')).toThrow(DecryptError);
    expect(() => ring.decrypt('not a ciphertext', 't')).toThrow(/not a shopify-ingest ciphertext/);
    expect(() => ring.encrypt('x', '')).toThrow(/tenant id/);
  });

  it('encryptJson/decryptJson keep bigints exact', () => {
    const value = { id: 820982911946154508n, list: [{ zip: '40202' }] };
    expect(ring.decryptJson(ring.encryptJson(value, 't'), 't')).toEqual(value);
  });

  it('rotates: old ciphertexts decrypt with the new ring, rotate() re-encrypts under the newest key', () => {
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('hex');
    const oldRing = createKeyRing({ key: oldKey });
    const sealed = oldRing.encrypt('+16136120707', 'tenant-a');
    const rotated = createKeyRing({ key: newKey, previousKeys: [oldKey], blindIndexKey: oldKey });
    expect(rotated.keyIds).toEqual([rotated.keyId, oldRing.keyId]);
    expect(rotated.needsRotation(sealed)).toBe(true);
    expect(rotated.decrypt(sealed, 'tenant-a')).toBe('+16136120707');
    const fresh = rotated.rotate(sealed, 'tenant-a');
    expect(fresh.split('.')[1]).toBe(rotated.keyId);
    expect(rotated.needsRotation(fresh)).toBe(false);
    expect(rotated.rotate(fresh, 'tenant-a')).toBe(fresh);
    expect(rotated.decrypt(fresh, 'tenant-a')).toBe('+16136120707');
    // the old ring cannot read the rotated value, and says which key is missing
    let error: unknown;
    try { oldRing.decrypt(fresh, 'tenant-a'); } catch (e) { error = e; }
    expect((error as DecryptError).reason).toBe('unknown-key');
    expect((error as DecryptError).keyId).toBe(rotated.keyId);
    // rotate() of another tenant's value fails rather than re-sealing it for the wrong tenant
    expect(() => rotated.rotate(sealed, 'tenant-b')).toThrow(DecryptError);
  });

  it('requires BLIND_INDEX_KEY once previous keys are configured', () => {
    expect(() => createKeyRing({ key: HEX, previousKeys: [RAW] })).toThrow(/BLIND_INDEX_KEY is required/);
    expect(() => keyRingFromEnv({ ENCRYPTION_KEY: HEX, ENCRYPTION_PREVIOUS_KEYS: ` ${RAW} , ` })).toThrow(ConfigError);
    const ring2 = keyRingFromEnv({ ENCRYPTION_KEY: HEX, ENCRYPTION_PREVIOUS_KEYS: ` ${RAW} , `, BLIND_INDEX_KEY: RAW });
    expect(ring2.keyIds).toHaveLength(2);
  });
});

describe('blind index', () => {
  it('is deterministic over trimmed, lower-cased emails, and hex HMAC-SHA256', () => {
    const ring = createKeyRing({ key: HEX });
    const h = ring.blindIndex('bob@example.com');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(ring.blindIndex('  Bob@Example.COM ')).toBe(h);
    expect(createKeyRing({ key: HEX }).blindIndex('bob@example.com')).toBe(h);
    expect(ring.blindIndex('bob2@example.com')).not.toBe(h);
    expect(createKeyRing({ key: RAW }).blindIndex('bob@example.com')).not.toBe(h);
  });

  it('stays the same across an encryption key rotation when BLIND_INDEX_KEY is the original key', () => {
    const original = createKeyRing({ key: RAW });
    const rotated = createKeyRing({ key: HEX, previousKeys: [RAW], blindIndexKey: RAW });
    expect(rotated.blindIndex('bob@example.com')).toBe(original.blindIndex('bob@example.com'));
    expect(createKeyRing({ key: HEX, blindIndexKey: RAW }).blindIndex('x@y.z')).toBe(original.blindIndex('x@y.z'));
  });
});

describe('host helpers', () => {
  it('decrypt/decryptJson use the environment ring, cached per key values', () => {
    const env = { ENCRYPTION_KEY: HEX };
    const ring = envKeyRing(env);
    expect(envKeyRing({ ENCRYPTION_KEY: HEX })).toBe(ring);
    expect(decrypt(ring.encrypt('hi', 't'), 't', ring)).toBe('hi');
    expect(decryptJson(ring.encryptJson([1, 'a'], 't'), 't', ring)).toEqual([1, 'a']);
    const other = envKeyRing({ ENCRYPTION_KEY: RAW });
    expect(other).not.toBe(ring);
    expect(other.keyId).not.toBe(ring.keyId);
  });
});
