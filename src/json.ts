/**
 * JSON that keeps Shopify's 64-bit ids exact.
 *
 * Shopify ids can exceed 2^53 (its own sample payloads use `820982911946154508`); `JSON.parse`
 * rounds them to the nearest double. {@link parseShopifyJson} returns such integers as `bigint`
 * and everything else as `JSON.parse` would. It costs one `JSON.parse` plus a regex test when a
 * body holds no integer of 16+ digits (the common case), and one character scan plus a reviver
 * otherwise. {@link stringifyShopifyJson} writes `bigint`s back as bare JSON numbers, so a jsonb
 * column keeps exactly the number Shopify sent.
 */

const BIG_MARK = '\u0000bigint:';
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** True when `text` may contain an integer JSON.parse cannot hold exactly. */
function mayHoldUnsafeInteger(text: string): boolean {
  return /\d{16}/.test(text);
}

/**
 * Quotes every unsafe integer literal outside strings with a marker so a reviver can turn it into a bigint.
 * Walks the text once, tracking whether it is inside a string (JSON strings cannot hold raw quotes,
 * only `\"`), so digits inside string values are never touched.
 */
function markUnsafeIntegers(text: string): { text: string; marked: boolean } {
  let out = '';
  let last = 0;
  let marked = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i += 2;
        else if (d === 34) { i++; break; }
        else i++;
      }
      continue;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      const start = i;
      i++;
      let integer = true;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d >= 48 && d <= 57) i++;
        else if (d === 46 || d === 101 || d === 69 || d === 43 || d === 45) { integer = false; i++; }
        else break;
      }
      const digits = i - start - (c === 45 ? 1 : 0);
      if (integer && digits >= 16) {
        const literal = text.slice(start, i);
        const value = BigInt(literal);
        if (value > MAX_SAFE || value < -MAX_SAFE) {
          out += text.slice(last, start) + '"' + BIG_MARK + literal + '"';
          last = i;
          marked = true;
        }
      }
      continue;
    }
    i++;
  }
  if (!marked) return { text, marked };
  return { text: out + text.slice(last), marked };
}

function reviveBigints(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith(BIG_MARK)) return BigInt(value.slice(BIG_MARK.length));
  return value;
}

/**
 * Parses a Shopify JSON body; integers beyond ±(2^53 − 1) come back as `bigint`.
 *
 * @example
 * ```ts
 * parseShopifyJson('{"id": 820982911946154508}').id === 820982911946154508n // true
 * ```
 */
export function parseShopifyJson<T = unknown>(text: string): T {
  if (!mayHoldUnsafeInteger(text)) return JSON.parse(text) as T;
  const { text: marked, marked: any } = markUnsafeIntegers(text);
  return (any ? JSON.parse(marked, reviveBigints) : JSON.parse(text)) as T;
}

/**
 * `JSON.stringify` that writes `bigint` values as bare JSON numbers (exact), instead of throwing.
 *
 * @example
 * ```ts
 * stringifyShopifyJson({ id: 820982911946154508n }) // '{"id":820982911946154508}'
 * ```
 */
export function stringifyShopifyJson(value: unknown): string {
  let sawBigint = false;
  const text = JSON.stringify(value, (_key, v) => {
    if (typeof v === 'bigint') { sawBigint = true; return BIG_MARK + v.toString(); }
    return v;
  });
  if (!sawBigint) return text;
  // JSON.stringify escapes the NUL of the mark as the six characters \u0000.
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}
