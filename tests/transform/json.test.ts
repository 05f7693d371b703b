import { describe, expect, it } from 'vitest';
import { parseShopifyJson, stringifyShopifyJson } from '../../src/json.js';
import { createRandom } from '../../src/testing/prng.js';

describe('parseShopifyJson', () => {
  it('returns integers beyond 2^53 as exact bigints (regression: the marker used to be a raw NUL, a JSON syntax error)', () => {
    const value = parseShopifyJson<any>('{\n  "id": 820982911946154508,\n  "n": [-9007199254740993, 9007199254740991, 1.5e300, 12345678901234567.5],\n  "s": "820982911946154508 \\" 9007199254740993"\n}');
    expect(value.id).toBe(820982911946154508n);
    // eslint-disable-next-line no-loss-of-precision -- the parsed value is this double, as JSON.parse gives it
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

describe('exact for every input (property test)', () => {
  const SEEDS = process.env.JSON_SEED ? [Number(process.env.JSON_SEED)] : [1, 690577, Date.now() % 1_000_000];
  for (const seed of SEEDS) {
    it(`parse(stringify(x)) is x and stringify(parse(text)) is text, 2,000 random values (seed ${seed}; replay with JSON_SEED=${seed})`, () => {
      const random = createRandom(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
      const pieces = ['\u0000bigint:5', '\u0000bigint:820982911946154508', '\u0000', '"', '\\', '\\u0000', '\n', '\t', 'é', '日本', '😀', '\ud800', 'bigint:', '123456789012345678', ' ', 'x', '{', ']'];
      const randomString = () => Array.from({ length: Math.floor(random() * 6) }, () => (random() < 0.7 ? pick(pieces) : String.fromCharCode(Math.floor(random() * 0x3000)))).join('');
      const randomId = (): bigint | number => {
        const big = (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32));
        const signed = random() < 0.2 ? -big : big;
        return signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < -BigInt(Number.MAX_SAFE_INTEGER) ? signed : Number(signed);
      };
      const randomValue = (depth: number): unknown => {
        const r = random();
        if (depth > 3 || r < 0.3) return pick([() => randomString(), () => randomId(), () => random() * 1e6, () => null, () => random() < 0.5])();
        if (r < 0.65) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
        return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [randomString(), randomValue(depth + 1)]));
      };
      for (let i = 0; i < 2000; i++) {
        const value = { id: randomId(), note: randomString(), [randomString()]: randomValue(0), items: [{ id: randomId(), title: randomString() }] };
        const text = stringifyShopifyJson(value);
        expect(parseShopifyJson(text), `seed ${seed}, case ${i}: ${text}`).toEqual(value);
        expect(stringifyShopifyJson(parseShopifyJson(text)), `seed ${seed}, case ${i}`).toBe(text);
      }
    });
  }

  it('a string that holds the mark stays a string (the issue\'s counterexample), and keys may hold it too', () => {
    expect(parseShopifyJson<any>('{"id":820982911946154508,"note":"\\u0000bigint:5"}')).toEqual({ id: 820982911946154508n, note: '\u0000bigint:5' });
    const value = { id: 820982911946154508n, note: '\u0000bigint:5', '\u0000bigint:7': 18446744073709551615n };
    const text = stringifyShopifyJson(value);
    expect(text).toBe('{"id":820982911946154508,"note":"\\u0000bigint:5","\\u0000bigint:7":18446744073709551615}');
    expect(parseShopifyJson(text)).toEqual(value);
    expect(parseShopifyJson('{"a":1,"a":820982911946154508,"s":"\\u0000"}')).toEqual({ a: 820982911946154508n, s: '\u0000' });
    expect(() => parseShopifyJson('{"id":820982911946154508,"s":"\\u0000"')).toThrow(SyntaxError);
  });

  it('never patches BigInt.prototype, even for a moment', () => {
    const proto = BigInt.prototype as unknown as Record<string, unknown>;
    let seenDuring = false;
    stringifyShopifyJson({ id: 820982911946154508n, probe: { toJSON() { seenDuring = 'toJSON' in proto; return 1; } } });
    expect(seenDuring).toBe(false);
  });
});
