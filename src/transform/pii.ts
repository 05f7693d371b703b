/**
 * Keeps PII out of stored payloads. Every object of a Shopify record is walked; the values of PII
 * keys are removed from it and sealed together, as one ciphertext, under the key `_pii` of that
 * same object. One AES-GCM operation per object that holds PII (about six per order) instead of one
 * per field keeps encryption cheap enough for thousands of orders a second; identical objects in one
 * record (billing = shipping address, `default_address` = an entry of `addresses`) share a ciphertext.
 * {@link revealPayload} puts the values back. The key list is in docs/security.md.
 * The walk also restores an `id` that lost precision upstream (an unsafe JS number) from the object's
 * `admin_graphql_api_id`.
 */
import type { KeyRing } from '../crypto/key-ring.js';
import { parseShopifyJson, stringifyShopifyJson } from '../json.js';
import { FieldError } from './errors.js';
import { isObject, parseGid, type JsonObject } from './values.js';

/**
 * Name of the property holding an object's sealed PII inside stored payloads.
 *
 * @example
 * ```ts
 * JSON.parse(order.payload).billing_address[SEALED_KEY] // 'v1.42091600.…'
 * ```
 */
export const SEALED_KEY = '_pii';

/**
 * Keys whose values are PII wherever they appear in a record, in both REST (snake_case) and
 * GraphQL (camelCase) spelling. `name` is added for objects that describe a person or an address
 * (they have a first/last name or `address1`), because elsewhere `name` is an order number (`#1001`)
 * or a product title.
 *
 * @example
 * ```ts
 * new ShopifyTransformer({ keyRing, extraPiiKeys: ['note'] }) // DEFAULT_PII_KEYS + note
 * ```
 */
export const DEFAULT_PII_KEYS: readonly string[] = Object.freeze([
  // contact
  'email', 'contact_email', 'contactEmail', 'emailAddress', 'phone', 'phoneNumber', 'sms',
  // names
  'first_name', 'last_name', 'firstName', 'lastName', 'displayName',
  // addresses
  'address1', 'address2', 'company', 'zip', 'latitude', 'longitude', 'formatted',
  // device and network
  'browser_ip', 'browserIp', 'client_ip', 'clientIp', 'user_agent', 'userAgent',
  // payment holder (REST payment_details; gateway receipts such as PayPal's carry the payer's email)
  'credit_card_name', 'creditCardName', 'payer_email', 'payerEmail', 'receiver_email',
]);

/**
 * MoneyBags (`total_price_set`, `totalPriceSet`, `amount_set`...) hold amounts and currency codes only;
 * they are a large share of an order's objects, so the walk does not descend into them.
 */
function isMoneyBag(key: string): boolean {
  return key.endsWith('_set') || key.endsWith('Set');
}

/** The first `count` properties of `source`, in order (the start of a copy-on-write copy). */
function copyHead(source: JsonObject, count: number): JsonObject {
  const out: JsonObject = {};
  let i = 0;
  for (const key in source) {
    if (i++ >= count) break;
    out[key] = source[key];
  }
  return out;
}

/** Deepest nesting a record may have (Shopify's go about 6 levels deep). */
export const MAX_RECORD_DEPTH = 64;

/** Encrypts the PII of one record for one tenant; memoises identical plaintexts within the record. */
export interface RecordSealer {
  /** Ciphertext of a string column value; null/empty stay null. */
  value(plaintext: unknown): string | null;
  /** Ciphertext of a JSON value (bigints exact). */
  json(value: unknown): string;
  /** JSON text of `record` with every PII value sealed. */
  payload(record: unknown): string;
  /** Copy of `record` with every PII value sealed. */
  seal(record: unknown): unknown;
}

export function createRecordSealer(keyRing: KeyRing, tenantId: string, piiKeys: ReadonlySet<string>): RecordSealer {
  const memo = new Map<string, string>();
  const encrypt = (plaintext: string): string => {
    let sealed = memo.get(plaintext);
    if (sealed === undefined) {
      sealed = keyRing.encrypt(plaintext, tenantId);
      memo.set(plaintext, sealed);
    }
    return sealed;
  };

  // Copy-on-write: an object (or array) without PII anywhere below it is returned as is, so the walk
  // allocates only along the paths to PII (a few objects per order) instead of copying the whole record.
  const sealObject = (source: JsonObject, depth: number): JsonObject => {
    let out: JsonObject | undefined;
    let pii: JsonObject | undefined;
    const personLike = 'first_name' in source || 'last_name' in source || 'firstName' in source || 'lastName' in source || 'address1' in source;
    let index = 0;
    for (const key in source) {
      const v = source[key];
      if ((piiKeys.has(key) || (personLike && key === 'name')) && v !== null && v !== undefined && v !== '') {
        if (out === undefined) out = copyHead(source, index);
        (pii ??= {})[key] = v;
      } else {
        const sealed = typeof v === 'object' && v !== null && !isMoneyBag(key) ? sealAny(v, depth + 1) : v;
        if (out === undefined && sealed !== v) out = copyHead(source, index);
        if (out !== undefined) out[key] = sealed;
      }
      index++;
    }
    // A body that went through JSON.parse upstream holds a rounded `id`, its gid every digit
    // (JSON.stringify -> JSON.parse, or a rounded literal written back), so beyond 2^53 the gid wins.
    const id = source.id;
    if (typeof id === 'bigint' || (typeof id === 'number' && !Number.isSafeInteger(id))) {
      const exact = parseGid(source.admin_graphql_api_id);
      if (exact !== null && exact !== id) { out ??= { ...source }; out.id = exact; }
    }
    if (pii !== undefined) out![SEALED_KEY] = encrypt(stringifyShopifyJson(pii));
    return out ?? source;
  };

  const sealArray = (source: unknown[], depth: number): unknown[] => {
    let out: unknown[] | undefined;
    for (let i = 0; i < source.length; i++) {
      const v = source[i];
      const sealed = typeof v === 'object' && v !== null ? sealAny(v, depth + 1) : v;
      if (out === undefined && sealed !== v) out = source.slice(0, i);
      if (out !== undefined) out.push(sealed);
    }
    return out ?? source;
  };

  const sealAny = (value: unknown, depth = 0): unknown => {
    // Shopify's records are a few levels deep; a body nested thousands deep would overflow the stack.
    if (depth > MAX_RECORD_DEPTH) throw new FieldError(`the record is nested deeper than ${MAX_RECORD_DEPTH} levels`);
    if (Array.isArray(value)) return sealArray(value, depth);
    if (isObject(value) && !(value instanceof Date)) return sealObject(value, depth);
    return value;
  };

  return {
    value(plaintext) {
      if (plaintext === null || plaintext === undefined || plaintext === '') return null;
      return encrypt(typeof plaintext === 'string' ? plaintext : String(plaintext));
    },
    json: (value) => encrypt(stringifyShopifyJson(value)),
    payload: (record) => stringifyShopifyJson(sealAny(record)),
    seal: (record) => sealAny(record),
  };
}

/**
 * Restores the PII sealed in a stored payload (the `payload` column, as JSON text or parsed):
 * every `_pii` ciphertext is decrypted and its fields put back into their object.
 *
 * @example
 * ```ts
 * const order = revealPayload(row.payload, row.tenantId, keyRing) as { email: string };
 * order.email // 'bob.norman@mail.example.com'
 * ```
 */
export function revealPayload(payload: unknown, tenantId: string, keyRing: KeyRing): unknown {
  const value = typeof payload === 'string' ? parseShopifyJson(payload) : payload;
  const reveal = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(reveal);
    if (!isObject(v)) return v;
    const out: JsonObject = {};
    for (const key of Object.keys(v)) {
      if (key === SEALED_KEY && typeof v[key] === 'string') Object.assign(out, keyRing.decryptJson<JsonObject>(v[key] as string, tenantId));
      else out[key] = reveal(v[key]);
    }
    return out;
  };
  return reveal(value);
}

/**
 * Re-encrypts every sealed value of a stored payload under the key ring's newest key (see
 * {@link KeyRing.rotate}); returns the payload unchanged (same string) when nothing needed it.
 *
 * @example
 * ```ts
 * const next = rotatePayload(row.payload, row.tenantId, keyRing);
 * if (next !== row.payload) await save(row.id, next);
 * ```
 */
export function rotatePayload(payload: string, tenantId: string, keyRing: KeyRing): string {
  let changed = false;
  const rotate = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rotate);
    if (!isObject(v)) return v;
    const out: JsonObject = {};
    for (const key of Object.keys(v)) {
      const value = v[key];
      if (key === SEALED_KEY && typeof value === 'string' && keyRing.needsRotation(value)) {
        out[key] = keyRing.rotate(value, tenantId);
        changed = true;
      } else out[key] = rotate(value);
    }
    return out;
  };
  const next = rotate(parseShopifyJson(payload));
  return changed ? stringifyShopifyJson(next) : payload;
}
