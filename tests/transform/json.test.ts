import { describe, expect, it } from 'vitest';
import { parseShopifyJson, stringifyShopifyJson } from '../../src/json.js';

describe('parseShopifyJson', () => {
  it('returns integers beyond 2^53 as exact bigints (regression: the marker used to be a raw NUL, a JSON syntax error)', () => {
    const value = parseShopifyJson<any>('{\n  "id": 820982911946154508,\n  "n": [-9007199254740993, 9007199254740991, 1.5e300, 12345678901234567.5],\n  "s": "820982911946154508 \\" 9007199254740993"\n}');
    expect(value.id).toBe(820982911946154508n);
    expect(value.n).toEqual([-9007199254740993n, 9007199254740991, 1.5e300, 12345678901234567.5]);
    expect(value.s).toBe('820982911946154508 " 9007199254740993');
  });

  it('round-trips through stringifyShopifyJson with the exact digits', () => {
    const text = '{"id":820982911946154508,"items":[{"id":18446744073709551615}],"ok":true}';
    expect(stringifyShopifyJson(parseShopifyJson(text))).toBe(text);
  });

  it('is plain JSON.parse when no integer needs a bigint', () => {
    expect(parseShopifyJson('{"id": 450789469, "price": "199.00", "big": "1234567890123456789"}')).toEqual({ id: 450789469, price: '199.00', big: '1234567890123456789' });
    expect(parseShopifyJson('{"id": 9007199254740991}')).toEqual({ id: 9007199254740991 });
  });
});

describe('parseShopifyJson edge cases', () => {
  it('handles escaped quotes and backslashes before big numbers, a bare top-level number, and bigint-looking strings', () => {
    const text = String.raw`{"a\\": 12345678901234567890, "b": "x\"12345678901234567890", "c": "\\", "d": [1,-18014398509481985]}`;
    expect(parseShopifyJson(text)).toEqual({ 'a\\': 12345678901234567890n, b: 'x"12345678901234567890', c: '\\', d: [1, -18014398509481985n] });
    expect(parseShopifyJson(' 820982911946154508')).toBe(820982911946154508n);
    expect(parseShopifyJson('{"tracking": "1Z1234512345123456", "n": 5}')).toEqual({ tracking: '1Z1234512345123456', n: 5 });
  });

  it('reports malformed JSON like JSON.parse', () => {
    expect(() => parseShopifyJson('{"id": 820982911946154508')).toThrow(SyntaxError);
    expect(() => parseShopifyJson('{"id": "820982911946154508}')).toThrow(SyntaxError);
  });

  it('stringify fast path and bigint path agree with JSON.stringify on everything else', () => {
    const value = { a: 1, b: 'x', c: [null, true, { d: 2.5 }], e: undefined };
    expect(stringifyShopifyJson(value)).toBe(JSON.stringify(value));
    expect(stringifyShopifyJson({ ...value, id: 1n })).toBe(JSON.stringify({ ...value, id: 1 }));
    expect(() => stringifyShopifyJson({ toJSON() { throw new TypeError('boom'); } })).toThrow('boom');
  });
});

describe('stringifyShopifyJson and BigInt.prototype.toJSON', () => {
  const proto = BigInt.prototype as unknown as Record<string, unknown>;

  it('leaves BigInt.prototype as it found it (no toJSON)', () => {
    expect(stringifyShopifyJson({ id: 820982911946154508n, n: [1n] })).toBe('{"id":820982911946154508,"n":[1]}');
    expect('toJSON' in proto).toBe(false);
    expect(() => JSON.stringify({ id: 1n })).toThrow(TypeError);
  });

  it('writes exact numbers even when the host defined BigInt.prototype.toJSON, and restores the host one', () => {
    const hostToJSON = function (this: bigint) { return this.toString(); };
    proto.toJSON = hostToJSON;
    try {
      expect(stringifyShopifyJson({ id: 820982911946154508n })).toBe('{"id":820982911946154508}');
      expect(proto.toJSON).toBe(hostToJSON);
    } finally {
      delete proto.toJSON;
    }
  });
});
