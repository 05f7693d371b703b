/**
 * Keeps PII out of stored payloads. Every object of a Shopify record is walked and the values of PII
 * keys are removed from it. They are sealed as ONE ciphertext per group: a group is the record, or
 * an element of one of its arrays (a line item, a fulfillment), with the objects reached from it
 * without passing through another array (its addresses, its customer). The ciphertext sits under the
 * key `_pii` of the group's own object; it holds that object's PII and, under {@link NESTED_PII},
 * the PII of its other objects by path. A group whose PII is in one object only seals it under that
 * object's `_pii`, as every payload did before this layout (and a group of one object still does),
 * so {@link revealPayload} reads both. Array elements stay groups of their own because a line item's
 * payload is also stored alone, in its own row. One AES-GCM operation per group (one per order
 * line of a bulk operation, against one per address before) keeps encryption cheap enough for
 * thousands of orders a second. The key list is in docs/security.md.
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
 * Key, inside a group's sealed PII, of the PII of the group's nested objects: `[path, values][]`,
 * a path being the keys from the group's object to the nested one. NUL first: no Shopify key, and
 * no PII key a host configures, looks like it.
 */
export const NESTED_PII = '\u0000nested';

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

  /** The PII of one group (see the module comment): per object holding some, its path, values and sealed copy. */
  type Group = Array<{ path: readonly string[]; pii: JsonObject; out: JsonObject }>;

  /** Seals a group's PII: one ciphertext, under the `_pii` of its only object or of the group's own object. */
  const sealGroup = (group: Group, root: JsonObject): void => {
    if (group.length === 0) return;
    if (group.length === 1) {
      group[0].out[SEALED_KEY] = encrypt(stringifyShopifyJson(group[0].pii));
      return;
    }
    const own = group.find((g) => g.path.length === 0)?.pii ?? {};
    const nested = group.filter((g) => g.path.length > 0).map((g) => [g.path, g.pii]);
    root[SEALED_KEY] = encrypt(stringifyShopifyJson({ ...own, [NESTED_PII]: nested }));
  };

  // Copy-on-write: an object (or array) without PII anywhere below it is returned as is, so the walk
  // allocates only along the paths to PII (a few objects per order) instead of copying the whole record.
  // `group` is the group the object belongs to, undefined when it starts one (the record, an array element).
  const sealObject = (source: JsonObject, depth: number, group?: Group, path: readonly string[] = []): JsonObject => {
    const starts = group === undefined;
    const members: Group = group ?? [];
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
        const sealed = typeof v === 'object' && v !== null && !isMoneyBag(key) ? sealAny(v, depth + 1, members, [...path, key]) : v;
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
    if (pii !== undefined) members.push({ path, pii, out: out! });
    if (starts && members.length > 0) {
      out ??= { ...source };
      sealGroup(members, out);
    }
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

  const sealAny = (value: unknown, depth = 0, group?: Group, path?: readonly string[]): unknown => {
    // Shopify's records are a few levels deep; a body nested thousands deep would overflow the stack.
    if (depth > MAX_RECORD_DEPTH) throw new FieldError(`the record is nested deeper than ${MAX_RECORD_DEPTH} levels`);
    // Each element of an array is a group of its own (see the module comment).
    if (Array.isArray(value)) return sealArray(value, depth);
    if (isObject(value) && !(value instanceof Date)) return sealObject(value, depth, group, path);
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
    let nested: unknown;
    for (const key of Object.keys(v)) {
      if (key === SEALED_KEY && typeof v[key] === 'string') {
        const { [NESTED_PII]: inner, ...own } = keyRing.decryptJson<JsonObject>(v[key] as string, tenantId);
        Object.assign(out, own);
        nested = inner;
      } else out[key] = reveal(v[key]);
    }
    // The group's nested objects are in `out` by now (revealed copies): their PII goes back by path.
    if (Array.isArray(nested)) {
      for (const [path, values] of nested as Array<[string[], JsonObject]>) {
        let target = out;
        for (const key of path) {
          if (!isObject(target[key])) target[key] = {};
          target = target[key] as JsonObject;
        }
        Object.assign(target, values);
      }
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
