/**
 * JSON that keeps Shopify's 64-bit ids exact.
 *
 * Shopify ids can exceed 2^53 (its own sample payloads use `820982911946154508`); `JSON.parse`
 * rounds them to the nearest double. {@link parseShopifyJson} returns such integers as `bigint`
 * and everything else as `JSON.parse` would. It costs one `JSON.parse` plus a regex test when a
 * body holds no integer of 16+ digits (the common case), and otherwise one scan of the text outside
 * strings plus a walk of the parsed value (figures in bench/transform.ts). {@link stringifyShopifyJson}
 * writes `bigint`s back as bare JSON numbers, so a jsonb column keeps exactly the number Shopify sent.
 *
 * Both are exact for every input. The fast paths mark big integers with strings that start with
 * U+0000, and take them only when no string of the input can hold that character; otherwise
 * lossless-json does the work.
 */

import { parse as losslessParse, stringify as losslessStringify } from 'lossless-json';

const BIG_MARK = '\u0000bigint:';
const BIG_MARK_ESCAPED = '\\u0000bigint:';
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * True when `text` may contain an integer JSON.parse cannot hold exactly: 16+ digits right after
 * `:`, `,` or `[`. Digits inside strings (tracking numbers, tokens) rarely follow those, and a false
 * positive only costs the exact scan below, never a wrong result.
 */
function mayHoldUnsafeInteger(text: string): boolean {
  return /[:,[]\s*-?\d{16}/.test(text) || /^\s*-?\d{16}/.test(text);
}

/**
 * Quotes every unsafe integer literal outside strings with a marker so it can be turned into a bigint
 * after parsing. Strings are skipped with `indexOf` (native speed; a quote preceded by an odd run of
 * backslashes is escaped), and only the short stretches between strings are scanned for digits.
 */
export function markUnsafeIntegers(text: string): { text: string; marked: boolean } {
  let out = '';
  let last = 0;
  let marked = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    let q = text.indexOf('"', i);
    if (q === -1) q = n;
    // Scan [i, q) for integer literals.
    let j = i;
    while (j < q) {
      const c = text.charCodeAt(j);
      if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
        const start = j;
        j++;
        let integer = true;
        while (j < q) {
          const d = text.charCodeAt(j);
          if (d >= 48 && d <= 57) j++;
          else if (d === 46 || d === 101 || d === 69 || d === 43 || d === 45) {
            integer = false;
            j++;
          } else break;
        }
        const digits = j - start - (c === 45 ? 1 : 0);
        if (integer && digits >= 16) {
          const literal = text.slice(start, j);
          const value = BigInt(literal);
          if (value > MAX_SAFE || value < -MAX_SAFE) {
            // The mark goes in as the JSON escape `\u0000` (a raw NUL inside a JSON string is a syntax error).
            out += text.slice(last, start) + '"' + BIG_MARK_ESCAPED + literal + '"';
            last = j;
            marked = true;
          }
        }
        continue;
      }
      j++;
    }
    if (q >= n) break;
    // Skip the string that starts at q.
    let end = text.indexOf('"', q + 1);
    while (end !== -1) {
      let backslashes = 0;
      for (let k = end - 1; text.charCodeAt(k) === 92; k--) backslashes++;
      if (backslashes % 2 === 0) break;
      end = text.indexOf('"', end + 1);
    }
    if (end === -1) break; // unterminated string: JSON.parse will report it
    i = end + 1;
  }
  if (!marked) return { text, marked };
  return { text: out + text.slice(last), marked };
}

/** Replaces marked strings by bigints, in place (faster than a JSON.parse reviver, which is called for every value). */
export function reviveBigints(value: unknown): unknown {
  if (typeof value === 'string') return value.startsWith(BIG_MARK) ? BigInt(value.slice(BIG_MARK.length)) : value;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v === 'object' || typeof v === 'string') value[i] = reviveBigints(v);
    }
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const v = record[key];
    if (typeof v === 'object' && v !== null) reviveBigints(v);
    else if (typeof v === 'string' && v.startsWith(BIG_MARK)) record[key] = BigInt(v.slice(BIG_MARK.length));
  }
  return record;
}

/**
 * True when a decoded string of `text` may contain U+0000, the first character of the mark: a JSON
 * string can only hold it as the escape `\u0000` (a raw NUL is a syntax error). Without it, every
 * marked string after parsing is one of ours, so the mark is out of band.
 */
function mayHoldNul(text: string): boolean {
  return text.includes('\\u0000');
}

/** lossless-json's number parser with JSON.parse's semantics, except exact unsafe integers. */
function parseNumber(literal: string): number | bigint {
  const n = Number(literal);
  if (Number.isSafeInteger(n) || !/^-?\d+$/.test(literal)) return n;
  const big = BigInt(literal);
  return big > MAX_SAFE || big < -MAX_SAFE ? big : n;
}

/**
 * Parses a Shopify JSON body; integers beyond ±(2^53 − 1) come back as `bigint`, everything else as
 * `JSON.parse` returns it (duplicate keys: the last wins). Exact for every input: a body whose
 * strings may hold the mark is parsed by lossless-json instead (slower, rare).
 *
 * @example
 * ```ts
 * parseShopifyJson('{"id": 820982911946154508}').id === 820982911946154508n // true
 * ```
 */
export function parseShopifyJson<T = unknown>(text: string): T {
  if (!mayHoldUnsafeInteger(text)) return JSON.parse(text) as T;
  if (mayHoldNul(text)) {
    JSON.parse(text); // JSON.parse's SyntaxError for malformed input, whichever path parses it
    return losslessParse(text, null, { parseNumber, onDuplicateKey: ({ newValue }) => newValue }) as T;
  }
  const { text: marked, marked: any } = markUnsafeIntegers(text);
  return (any ? reviveBigints(JSON.parse(marked)) : JSON.parse(text)) as T;
}

/** Runs on a string only to make V8 flatten it (see {@link flatString}): anchored, it stops at the first character. */
const FLATTEN = /^\uffff/;

/**
 * `text`, flattened now. `JSON.stringify` and `+` build a string of any length as a tree of parts (a
 * V8 cons string), flattened the first time something reads it whole (a RegExp, a UTF-8 encoder). A
 * row's strings wait for their batch long enough to be promoted to the old generation; flattened
 * there, the flat copy is allocated in the old generation too, next to the parts, until a full
 * collection: twice its size in old-generation bytes, which set how far V8 lets the heap grow
 * (docs/benchmarks.md, 2026-12-06). Flattened while young, the parts die young.
 */
export function flatString(text: string): string {
  // A RegExp run flattens its subject in place (the tree keeps one flat part).
  FLATTEN.test(text);
  return text;
}

/**
 * `JSON.stringify` that writes `bigint` values as bare JSON numbers (exact), instead of throwing.
 * It never touches `BigInt.prototype`, and a `toJSON` the host put there does not change its output.
 *
 * @example
 * ```ts
 * stringifyShopifyJson({ id: 820982911946154508n }) // '{"id":820982911946154508}'
 * ```
 */
export function stringifyShopifyJson(value: unknown): string {
  const hostBigintToJSON = 'toJSON' in BigInt.prototype;
  // Fast path: most records hold no bigint (ids below 2^53 parse as numbers), and JSON.stringify
  // without a replacer is several times faster. With a bigint it throws early (ids come first).
  if (!hostBigintToJSON) {
    try {
      return flatString(JSON.stringify(value));
    } catch (error) {
      if (!(error instanceof TypeError) || !/BigInt/i.test(error.message)) throw error;
    }
  } else {
    return flatString(losslessStringify(value) as string);
  }
  // Bigints become marked strings, then bare numbers. A key or string that holds a NUL could pass
  // for a mark: then lossless-json writes the value instead (exact, slower, rare).
  let collision = false;
  const text = JSON.stringify(value, (key, v) => {
    if (key.includes('\u0000')) collision = true;
    if (typeof v === 'bigint') return BIG_MARK + v.toString();
    if (typeof v === 'string' && v.includes('\u0000')) collision = true;
    return v;
  });
  if (collision) return flatString(losslessStringify(value) as string);
  // JSON.stringify escapes the NUL of the mark as the six characters \u0000.
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}

/**
 * True when `text` (JSON) nests arrays and objects more than `limit` deep. Counts brackets outside
 * strings; most bodies have fewer brackets than the limit in all and are answered by a native scan.
 */
export function jsonDeeperThan(text: string, limit: number): boolean {
  let brackets = 0;
  for (let i = text.indexOf('{'); i !== -1 && brackets <= limit; i = text.indexOf('{', i + 1)) brackets++;
  for (let i = text.indexOf('['); i !== -1 && brackets <= limit; i = text.indexOf('[', i + 1)) brackets++;
  if (brackets <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > limit) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}
