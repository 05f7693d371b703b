/**
 * The transformer a bulk file's worker thread builds from a spec (src/importer/bulk-worker.ts): the
 * same keys (what one encrypts the other decrypts), the same blind index, the same extra PII keys;
 * and no spec for a transformer or key ring that cannot be rebuilt the same elsewhere.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyRing, type KeyRing } from '../../src/crypto/index.js';
import { ShopifyTransformer, revealPayload } from '../../src/transform/index.js';
import { transformerFromSpec, transformerSpecOf } from '../../src/transform/transformer.js';

const customer = { id: 7, email: 'Bob@Example.com', first_name: 'Bob', note: 'call after 5', updated_at: '2026-01-01T00:00:00Z', created_at: '2026-01-01T00:00:00Z' };

describe('a transformer rebuilt from its spec (the bulk worker thread)', () => {
  it('encrypts with the same keys and computes the same blind index, previous keys and extra PII keys included', () => {
    const first = randomBytes(32);
    const ring = createKeyRing({ key: randomBytes(32), previousKeys: [first], blindIndexKey: first });
    const original = new ShopifyTransformer({ keyRing: ring, extraPiiKeys: ['note'] });
    const spec = transformerSpecOf(original);
    expect(spec).not.toBeNull();
    // As a worker receives it: structured-cloned, Buffers arriving as plain Uint8Arrays.
    const rebuilt = transformerFromSpec(structuredClone(spec!));
    expect(rebuilt.keyRing.keyId).toBe(ring.keyId);
    expect(rebuilt.keyRing.keyIds).toEqual(ring.keyIds);
    expect(rebuilt.keyRing.blindIndex('bob@example.com')).toBe(ring.blindIndex('bob@example.com'));
    const row = rebuilt.transformCustomer(customer, 'tenant-1');
    expect(ring.decrypt(row.emailEnc!, 'tenant-1')).toBe('Bob@Example.com');
    expect(row.emailHash).toBe(original.transformCustomer(customer, 'tenant-1').emailHash);
    // The extra PII key is sealed in the payload by both.
    expect(row.payload).not.toContain('call after 5');
    expect((revealPayload(JSON.parse(row.payload), 'tenant-1', ring) as Record<string, unknown>).note).toBe('call after 5');
  });

  it('has no spec for a key ring with an injected random source, a key ring of the host, or a transformer of its own', () => {
    const seeded = createKeyRing({ key: randomBytes(32), randomFill: (b) => { b.fill(1); } });
    expect(transformerSpecOf(new ShopifyTransformer({ keyRing: seeded }))).toBeNull();
    const plain = createKeyRing({ key: randomBytes(32) });
    const hosts: KeyRing = { ...plain };
    expect(transformerSpecOf(new ShopifyTransformer({ keyRing: hosts }))).toBeNull();
    expect(transformerSpecOf({ toRows: () => ({}), childRow: () => ({}) })).toBeNull();
    expect(transformerSpecOf(new ShopifyTransformer({ keyRing: plain }))).not.toBeNull();
  });
});
