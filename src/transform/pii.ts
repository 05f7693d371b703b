/*
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
  // links whose `key` opens the buyer's order status page (drafts' and checkouts' links are `*_enc` columns)
  'order_status_url', 'statusPageUrl',
]);

/**
 * MoneyBags (`total_price_set`, `totalPriceSet`, `amount_set`...) hold amounts and currency codes only;
 * they are a large share of an order's objects, so the walk does not descend into them.
 */
function isMoneyBag(key: string): boolean {
  return key.endsWith('_set') || key.endsWith('Set');
}

/** Deepest nesting a record may have (Shopify's go about 6 levels deep). */
export const MAX_RECORD_DEPTH = 64;

/** Encrypts the PII of one record for one tenant; memoises identical plaintexts within the record. */
export interface RecordSealer {
  /** Ciphertext of a string column value; null/empty stay null. */
  value(plaintext: unknown): string | null;
  /** Ciphertext of a JSON value (bigints exact). */
  json(value: unknown): string;
  /** JSON text of `record` with every PII value sealed (the record's source text when it holds none: {@link RecordSource}). */
  payload(record: unknown): string;
  /** Copy of `record` with every PII value sealed. */
  seal(record: unknown): unknown;
}

/**
 * The JSON text a record was parsed from (a bulk operation's child line without its `__parentId`):
 * {@link RecordSealer.payload} returns it as is for that record when nothing in it needs sealing,
 * instead of serialising the record again.
 */
export interface RecordSource {
  record: unknown;
  text: string;
}

export function createRecordSealer(keyRing: KeyRing, tenantId: string, piiKeys: ReadonlySet<string>, source?: RecordSource): RecordSealer {
  return new Sealer(keyRing, tenantId, piiKeys, source);
}

/** PII of one object of a group: its path from the group's object, its values, and its sealed copy. */
interface PiiEntry { path: readonly string[]; pii: JsonObject; out: JsonObject }

/**
 * One record's sealer: a single object per record (its methods on the prototype), since the importer
 * makes one per record and per bulk child line. The walk allocates only where it finds something to
 * seal: `stack` holds the keys from the record down to the object being walked, and `pending` the
 * PII found in the groups being walked (a group's entries sit above the `mark` it took when it
 * started), both shared by the whole walk.
 */
class Sealer implements RecordSealer {
  private memo: Map<string, string> | undefined;
  private readonly pending: PiiEntry[] = [];
  private readonly stack: string[] = [];

  constructor(
    private readonly keyRing: KeyRing,
    private readonly tenantId: string,
    private readonly piiKeys: ReadonlySet<string>,
    private readonly source: RecordSource | undefined,
  ) {}

  value(plaintext: unknown): string | null {
    if (plaintext === null || plaintext === undefined || plaintext === '') return null;
    return this.encrypt(typeof plaintext === 'string' ? plaintext : String(plaintext));
  }

  json(value: unknown): string {
    return this.encrypt(stringifyShopifyJson(value));
  }

  payload(record: unknown): string {
    const sealed = this.seal(record);
    // Unchanged by the walk (no PII, no id restored): the text it was parsed from says the same.
    const source = this.source;
    return source !== undefined && record === source.record && sealed === record ? source.text : stringifyShopifyJson(sealed);
  }

  /** Seals a whole record (a walk that threw earlier leaves nothing behind for this one). */
  seal(record: unknown): unknown {
    this.stack.length = 0;
    this.pending.length = 0;
    return this.sealAny(record, 0, true, 0);
  }

  private encrypt(plaintext: string): string {
    const memo = (this.memo ??= new Map<string, string>());
    let sealed = memo.get(plaintext);
    if (sealed === undefined) {
      sealed = this.keyRing.encrypt(plaintext, this.tenantId);
      memo.set(plaintext, sealed);
    }
    return sealed;
  }

  /** Seals the PII of the group whose entries start at `mark`: one ciphertext, under the `_pii` of its only object or of the group's own object. */
  private sealGroup(mark: number, root: JsonObject): void {
    const pending = this.pending;
    const count = pending.length - mark;
    if (count === 1) {
      pending[mark].out[SEALED_KEY] = this.encrypt(stringifyShopifyJson(pending[mark].pii));
    } else if (count > 1) {
      let own: JsonObject = {};
      const nested: Array<[readonly string[], JsonObject]> = [];
      for (let i = mark; i < pending.length; i++) {
        const entry = pending[i];
        if (entry.path.length === 0) own = entry.pii;
        else nested.push([entry.path, entry.pii]);
      }
      root[SEALED_KEY] = this.encrypt(stringifyShopifyJson({ ...own, [NESTED_PII]: nested }));
    }
    pending.length = mark;
  }

  // Copy-on-write: an object (or array) without PII anywhere below it is returned as is, so the walk
  // allocates only along the paths to PII (a few objects per order) instead of copying the whole record.
  // A copy is made in one go (`{ ...source }`) and its PII values set to undefined, which JSON leaves
  // out: cheaper than building it key by key. `starts`: the object starts a group (the record, an array
  // element); `base`: the depth of `stack` at the group's object.
  private sealObject(source: JsonObject, depth: number, starts: boolean, base: number): JsonObject {
    const { pending, stack, piiKeys } = this;
    const mark = pending.length;
    let out: JsonObject | undefined;
    let pii: JsonObject | undefined;
    const personLike = 'first_name' in source || 'last_name' in source || 'firstName' in source || 'lastName' in source || 'address1' in source;
    for (const key in source) {
      const v = source[key];
      if ((piiKeys.has(key) || (personLike && key === 'name')) && v !== null && v !== undefined && v !== '') {
        out ??= { ...source };
        out[key] = undefined;
        (pii ??= {})[key] = v;
      } else if (typeof v === 'object' && v !== null && !isMoneyBag(key)) {
        stack.push(key);
        const sealed = this.sealAny(v, depth + 1, false, base);
        stack.pop();
        if (sealed !== v) (out ??= { ...source })[key] = sealed;
      }
    }
    // A body that went through JSON.parse upstream holds a rounded `id`, its gid every digit
    // (JSON.stringify -> JSON.parse, or a rounded literal written back), so beyond 2^53 the gid wins.
    const id = source.id;
    if (typeof id === 'bigint' || (typeof id === 'number' && !Number.isSafeInteger(id))) {
      const exact = parseGid(source.admin_graphql_api_id);
      if (exact !== null && exact !== id) { out ??= { ...source }; out.id = exact; }
    }
    if (pii !== undefined) pending.push({ path: stack.slice(base), pii, out: out! });
    if (starts && pending.length > mark) {
      out ??= { ...source };
      this.sealGroup(mark, out);
    }
    return out ?? source;
  }

  private sealArray(source: unknown[], depth: number): unknown[] {
    let out: unknown[] | undefined;
    for (let i = 0; i < source.length; i++) {
      const v = source[i];
      // Each element of an array is a group of its own (see the module comment).
      const sealed = typeof v === 'object' && v !== null ? this.sealAny(v, depth + 1, true, this.stack.length) : v;
      if (out === undefined && sealed !== v) out = source.slice(0, i);
      if (out !== undefined) out.push(sealed);
    }
    return out ?? source;
  }

  private sealAny(value: unknown, depth: number, starts: boolean, base: number): unknown {
    // Shopify's records are a few levels deep; a body nested thousands deep would overflow the stack.
    if (depth > MAX_RECORD_DEPTH) throw new FieldError(`the record is nested deeper than ${MAX_RECORD_DEPTH} levels`);
    if (Array.isArray(value)) return this.sealArray(value, depth);
    if (isObject(value) && !(value instanceof Date)) return this.sealObject(value, depth, starts, base);
    return value;
  }
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
