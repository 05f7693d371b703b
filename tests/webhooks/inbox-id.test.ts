import KSUID from 'ksuid';
import { describe, expect, it } from 'vitest';
import { createInboxIdFactory } from '../../src/webhooks/inbox-id.js';

describe('createInboxIdFactory', () => {
  it('writes the same KSUID strings as the ksuid package', () => {
    let pool = Buffer.alloc(0);
    let seed = 7;
    // A fixed pseudo-random fill, kept to rebuild each id's payload with the package.
    const nextId = createInboxIdFactory((b) => { for (let i = 0; i < b.length; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24; pool = Buffer.from(b); });
    for (let n = 0; n < 600; n++) {
      const at = new Date(14e11 + n * 7_154_321_987);
      const id = nextId(at);
      const slot = (n % 256) * 16;
      expect(id).toBe(KSUID.fromParts(at.getTime(), pool.subarray(slot, slot + 16)).string);
    }
  });

  it('covers the extremes of the KSUID range', () => {
    const last = 14e11 + (2 ** 32 - 1) * 1000;
    expect(createInboxIdFactory((b) => { b.fill(255); })(new Date(last))).toBe(KSUID.fromParts(last, Buffer.alloc(16, 255)).string);
    expect(createInboxIdFactory((b) => { b.fill(0); })(new Date(14e11))).toBe('000000000000000000000000000');
  });

  it('gives distinct ids that sort by time', () => {
    const nextId = createInboxIdFactory();
    const ids = Array.from({ length: 1000 }, (_, i) => nextId(new Date(Date.UTC(2026, 0, 1) + i * 1000)));
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
  });
});
