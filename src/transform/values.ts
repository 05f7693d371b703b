/**
 * Field readers shared by the transformers. Each accepts the REST/webhook form (snake_case, ids as
 * number/bigint, money as strings) and the GraphQL form (gid ids, camelCase, MoneyBag objects,
 * connections) and returns the row's representation, or throws FieldError for a malformed value.
 */
import { FieldError } from './errors.js';

export type JsonObject = Record<string, unknown>;

const GID_PREFIX = 'gid://shopify/';
const DIGITS = /^-?\d+$/;
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
const MONEY_CENTS = /^-?\d+\.\d\d+$/;
const MONEY_TENTHS = /^-?\d+\.\d$/;
const ISO_TIME_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * What a malformed string looks like, never what it says: its length and character classes. A bad
 * value may be PII in the wrong field (an email in a price), and this text reaches logs and
 * `shopify_sync_failures.reason`.
 */
export function shapeOf(text: string): string {
  const classes = [/\d/.test(text) && 'digits', /\p{L}/u.test(text) && 'letters', /[^\p{L}\d]/u.test(text) && 'other characters'].filter(Boolean);
  return `${text.length} characters: ${classes.join(', ') || 'none'}`;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** First of `keys` whose value is not undefined (null counts as present). */
export function pick(record: JsonObject, a: string, b?: string, c?: string): unknown {
  const va = record[a];
  if (va !== undefined) return va;
  if (b !== undefined) { const vb = record[b]; if (vb !== undefined) return vb; }
  if (c !== undefined) return record[c];
  return undefined;
}

/**
 * The numeric id of a `gid://shopify/Type/123` string, or null.
 *
 * @example
 * ```ts
 * parseGid('gid://shopify/Order/820982911946154508') // 820982911946154508n
 * ```
 */
export function parseGid(value: unknown): bigint | null {
  if (typeof value !== 'string' || !value.startsWith(GID_PREFIX)) return null;
  // `gid://shopify/<Type>/<digits>`, then nothing or `?`, `/` or `#` and anything (a `?model_name=`
  // suffix), read by hand: no match array for the gid of every record (the hot path).
  const slash = value.indexOf('/', GID_PREFIX.length);
  if (slash <= GID_PREFIX.length) return null;
  for (let i = GID_PREFIX.length; i < slash; i++) {
    const c = value.charCodeAt(i) | 0x20; // A-Z and a-z, nothing else, land in a-z
    if (c < 97 || c > 122) return null;
  }
  let end = slash + 1;
  while (end < value.length) {
    const c = value.charCodeAt(end);
    if (c < 48 || c > 57) break;
    end++;
  }
  if (end === slash + 1) return null;
  if (end < value.length) {
    const c = value[end];
    if (c !== '?' && c !== '/' && c !== '#') return null;
  }
  return BigInt(value.slice(slash + 1, end));
}

/**
 * An id value as a bigint: bigint, safe integer, digit string, gid, or an object with an id.
 * An unsafe number (precision already lost by `JSON.parse`) is read from its shortest decimal form,
 * which is what the JSON text said; callers prefer `admin_graphql_api_id` to avoid that case.
 */
export function toBigId(value: unknown): bigint | null {
  switch (typeof value) {
    case 'bigint': return value;
    case 'number':
      if (Number.isSafeInteger(value)) return BigInt(value);
      if (Number.isInteger(value)) return BigInt(String(value).includes('e') ? value : String(value));
      throw new FieldError(`id ${value} is not an integer`);
    case 'string':
      if (DIGITS.test(value)) return BigInt(value);
      return parseGid(value);
    case 'object':
      return isObject(value) ? resolveId(value) : null;
    default:
      return null;
  }
}

/**
 * The exact id of a record. `admin_graphql_api_id` comes first: bodies that went through
 * `JSON.parse` somewhere lose the low digits of `id` but not of the gid string (see the fixtures
 * README). Then `id` (number, bigint, digits or a GraphQL gid), then `legacyResourceId`.
 */
export function resolveId(record: JsonObject): bigint | null {
  const fromGid = parseGid(record.admin_graphql_api_id);
  if (fromGid !== null) return fromGid;
  const id = record.id;
  if (id !== undefined && id !== null) {
    const parsed = toBigId(id);
    if (parsed !== null) return parsed;
  }
  const legacy = record.legacyResourceId;
  return legacy === undefined || legacy === null ? null : toBigId(legacy);
}

/** A webhook body's record id ({@link resolveId}), or null when it names none: for refetch topics' `idOf`. */
export function bodyId(body: JsonObject): bigint | null {
  try { return resolveId(body); } catch (error) { if (error instanceof FieldError) return null; throw error; }
}

/** A reference to another record: `product_id` (REST) or `product { id }` (GraphQL). */
export function refId(record: JsonObject, restKey: string, graphKey: string): bigint | null {
  const rest = record[restKey];
  if (rest !== undefined && rest !== null) return toBigId(rest);
  const graph = record[graphKey];
  if (graph === undefined || graph === null) return null;
  return toBigId(graph);
}

/**
 * An exact decimal string with at least two decimals (`"19.9"` -> `"19.90"`, `"5"` -> `"5.00"`), from
 * a string, a number (its shortest decimal form, never arithmetic), a bigint, a GraphQL MoneyV2
 * (`{ amount }`) or a MoneyBag (`{ shopMoney: { amount } }` / REST `{ shop_money: { amount } }`).
 * GraphQL writes `"199.0"` where REST writes `"199.00"`; normalising lets both produce the same row.
 *
 * @example
 * ```ts
 * money({ shopMoney: { amount: '199.0' } }, 'total_price') // '199.00'
 * ```
 */
export function money(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  let text: string;
  if (typeof value === 'string') text = value.trim();
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new FieldError(`${field} is not a finite amount`);
    text = String(value);
  } else if (typeof value === 'bigint') text = value.toString();
  else if (isObject(value)) {
    const bag = value.shopMoney ?? value.shop_money;
    if (isObject(bag)) return money(bag.amount, field);
    if ('amount' in value) return money(value.amount, field);
    throw new FieldError(`${field} is not a money value`);
  } else throw new FieldError(`${field} is not a money value`);
  if (text === '') return null;
  // The shapes Shopify sends ("12.50", "199.0", "3"), read without a match array.
  if (MONEY_CENTS.test(text)) return text;
  if (MONEY_TENTHS.test(text)) return `${text}0`;
  if (DIGITS.test(text)) return `${text}.00`;
  const match = DECIMAL.exec(text);
  if (!match) throw new FieldError(`${field} is not a decimal amount (${shapeOf(text)})`);
  const [, sign, whole, fraction = ''] = match;
  return `${sign}${whole}.${fraction.length >= 2 ? fraction : fraction.padEnd(2, '0')}`;
}

/** First non-null money among several candidate fields (e.g. `total_price`, then `total_price_set`). */
export function moneyOf(record: JsonObject, field: string, ...keys: string[]): string | null {
  for (const key of keys) {
    const value = record[key];
    if (value !== undefined && value !== null) return money(value, field);
  }
  return null;
}

/**
 * Exact sum of decimal strings (BigInt arithmetic on a common scale).
 *
 * @example
 * ```ts
 * addMoney('0.10', '0.20') // '0.30'
 * ```
 */
export function addMoney(a: string, b: string): string {
  const [ia, fa = ''] = a.replace('-', '').split('.');
  const [ib, fb = ''] = b.replace('-', '').split('.');
  const scale = Math.max(fa.length, fb.length, 2);
  const va = BigInt(ia + fa.padEnd(scale, '0')) * (a.startsWith('-') ? -1n : 1n);
  const vb = BigInt(ib + fb.padEnd(scale, '0')) * (b.startsWith('-') ? -1n : 1n);
  const sum = va + vb;
  const negative = sum < 0n;
  const digits = (negative ? -sum : sum).toString().padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}

/** A UTC instant from an ISO-8601 string with offset (`2008-01-10T11:00:00-05:00`) or a Date. */
export function time(value: unknown, field: string): Date | null {
  if (value === undefined || value === null || value === '') return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new FieldError(`${field} is an invalid date`);
    return value;
  }
  if (typeof value !== 'string') throw new FieldError(`${field} is not an ISO-8601 time`);
  // Date() also accepts loose forms ("1" is the year 2001) and reads an offset-less time as local
  // time; Shopify always sends an offset, so anything without one is read as UTC, and non-ISO text is rejected.
  // Shopify's own form (`2024-01-02T03:04:05Z`, `…-05:00`, fractions) is what Date reads exactly: no match array.
  if (ISO_TIME_WITH_OFFSET.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  const match = ISO_TIME.exec(value);
  if (!match) throw new FieldError(`${field} is not an ISO-8601 time (${shapeOf(value)})`);
  const date = new Date(match[2] === undefined ? `${value}T00:00:00Z` : match[3] === undefined ? `${value}Z` : value);
  if (Number.isNaN(date.getTime())) throw new FieldError(`${field} is not an ISO-8601 time (${shapeOf(value)})`);
  return date;
}

/** A string column: strings as they are, numbers/bigints in decimal, anything else null. */
export function str(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return null;
}

/** Lower-cased string (GraphQL enums `PARTIALLY_REFUNDED` -> REST's `partially_refunded`). */
export function lower(value: unknown): string | null {
  const text = str(value);
  return text === null ? null : text.toLowerCase();
}

/** An integer column from a number, bigint or digit string (GraphQL UnsignedInt64 is a string). */
export function int(value: unknown, field: string): number | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && DIGITS.test(value.trim())) return Number(value.trim());
  throw new FieldError(`${field} is not an integer`);
}

export function bool(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

/** REST tags are `"a, b"`; GraphQL tags are `["a", "b"]`. Rows hold the REST form. */
export function tags(value: unknown): string | null {
  if (Array.isArray(value)) return value.map((t) => String(t)).join(', ');
  return str(value);
}

/** Items of a REST array, a GraphQL connection (`{ nodes }` or `{ edges: [{ node }] }`), or none. */
export function nodes(value: unknown): JsonObject[] {
  if (Array.isArray(value)) return value.filter(isObject);
  if (!isObject(value)) return [];
  if (Array.isArray(value.nodes)) return value.nodes.filter(isObject);
  if (Array.isArray(value.edges)) return value.edges.map((e) => (isObject(e) ? e.node : undefined)).filter(isObject);
  return [];
}

/** Converts a camelCase key to snake_case (`countryCodeV2` -> `country_code`). */
export function snakeKey(key: string): string {
  if (key === 'countryCodeV2') return 'country_code';
  return key.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
}
