/**
 * The simulator's metafields, written from Shopify's 2026-10 documentation (not from the SDK's
 * registry): metafields of products (about half of them), variants, customers, orders, collections
 * and the shop, with realistic types and values (always strings, as Shopify stores them), served as
 * each owner's `metafields` connection (`HasMetafields`).
 *
 * An owner's metafields are made the first time it is read (deterministic from the seed and the
 * owner), then kept: tests change them with `set` and `remove`. Setting or removing a metafield
 * leaves the owner's `updatedAt` alone: Shopify does not document that it moves it, so the SDK must
 * not depend on it.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/Metafield
 * https://shopify.dev/docs/apps/build/custom-data/metafields/list-of-data-types
 */
import { MAX_ID, type JsonObject } from './generator.js';
import { ConnectionSource } from './graphql-nodes.js';
import { createRandom, hashString, intBetween, pick } from './prng.js';

/** Shopify's `MetafieldOwnerType` of each GraphQL owner type the simulator serves metafields for. */
export const METAFIELD_OWNER_TYPES: Readonly<Record<string, string>> = {
  Product: 'PRODUCT', ProductVariant: 'PRODUCTVARIANT', Customer: 'CUSTOMER', Order: 'ORDER', Collection: 'COLLECTION', Shop: 'SHOP',
};

interface Metafield { id: bigint; namespace: string; key: string; type: string; value: string; createdMs: number; updatedMs: number }

/** A metafield as the simulator holds it (the test-facing view of `list`). */
export interface SimulatedMetafield {
  /** Its id (the number of its gid). */
  id: bigint;
  /** Namespace, e.g. `custom`. */
  namespace: string;
  /** Key within the namespace. */
  key: string;
  /** Shopify's type name, e.g. `single_line_text_field`. */
  type: string;
  /** The value as Shopify serves it (a string, JSON for list and json types). */
  value: string;
}

/** How often an owner of each type has metafields, and how many. */
const SHARE: Readonly<Record<string, number>> = { Product: 0.5, ProductVariant: 0.2, Customer: 0.3, Order: 0.2, Collection: 0.5, Shop: 1 };

const utc = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A metafield definition the generator draws from: namespace, key, type, and a value maker. */
const KINDS: ReadonlyArray<{ namespace: string; key: string; type: string; value: (r: () => number) => string }> = [
  { namespace: 'custom', key: 'material', type: 'single_line_text_field', value: (r) => pick(r, ['cotton', 'linen', 'wool', 'recycled polyester']) },
  { namespace: 'custom', key: 'care_guide', type: 'multi_line_text_field', value: () => 'Machine wash cold.\nDo not tumble dry.' },
  { namespace: 'custom', key: 'warranty_years', type: 'number_integer', value: (r) => String(intBetween(r, 1, 5)) },
  { namespace: 'custom', key: 'weight_kg', type: 'number_decimal', value: (r) => (intBetween(r, 100, 5000) / 1000).toFixed(3) },
  { namespace: 'specs', key: 'dimensions', type: 'json', value: (r) => JSON.stringify({ w: intBetween(r, 5, 80), h: intBetween(r, 5, 80), unit: 'cm' }) },
  { namespace: 'specs', key: 'colors', type: 'list.single_line_text_field', value: (r) => JSON.stringify(['red', 'blue', 'black', 'sand'].filter(() => r() < 0.6)) },
  { namespace: 'loyalty', key: 'vip', type: 'boolean', value: (r) => String(r() < 0.3) },
  { namespace: 'loyalty', key: 'since', type: 'date', value: (r) => `202${intBetween(r, 0, 4)}-0${intBetween(r, 1, 9)}-1${intBetween(r, 0, 9)}` },
];

/**
 * Creates the metafields of one shop.
 *
 * @example
 * ```ts
 * shop.metafields.set('Product', productId, 'custom', 'material', 'single_line_text_field', 'hemp');
 * ```
 */
export function createMetafields(init: { seed: number; shopNumber: number; clock: () => number; topIds?: boolean }) {
  const byOwner = new Map<string, Metafield[]>();
  const now = () => Math.floor(init.clock() / 1000) * 1000;
  const base = init.topIds ? MAX_ID - 1_000_000_000n : BigInt(hashString(`${init.seed}:${init.shopNumber}:metafields`)) * 1_000_000n;
  let next = 0n;
  const ownerKey = (type: string, id: string | bigint) => `${type}:${String(id).replace(/^gid:\/\/shopify\/\w+\//, '')}`;

  /** The owner's metafields, made on first read (`ms`: the owner's `updatedAt`, their creation time). */
  function of(type: string, id: string | bigint, ms: number): Metafield[] {
    const key = ownerKey(type, id);
    let list = byOwner.get(key);
    if (list) return list;
    const r = createRandom(hashString(`${init.seed}:${key}`));
    list = [];
    if (r() < (SHARE[type] ?? 0)) {
      // One product in about 40 has more metafields than a page of 50 carries.
      const n = type === 'Product' && r() < 0.025 ? 60 : intBetween(r, 1, 4);
      for (let k = 0; k < n; k++) {
        const kind = KINDS[(k + intBetween(r, 0, KINDS.length - 1)) % KINDS.length];
        const keyName = k < KINDS.length ? kind.key : `${kind.key}_${k}`;
        if (list.some((m) => m.namespace === kind.namespace && m.key === keyName)) continue;
        list.push({ id: base + next++, namespace: kind.namespace, key: keyName, type: kind.type, value: kind.value(r), createdMs: ms, updatedMs: ms });
      }
    }
    byOwner.set(key, list);
    return list;
  }

  const node = (m: Metafield, ownerType: string): JsonObject => ({
    __typename: 'Metafield', id: `gid://shopify/Metafield/${m.id}`, legacyResourceId: String(m.id), namespace: m.namespace, key: m.key,
    type: m.type, value: m.value, jsonValue: m.value, ownerType, createdAt: utc(m.createdMs), updatedAt: utc(m.updatedMs), compareDigest: `d${m.id}${m.updatedMs}`,
  });

  return {
    /**
     * Gives an owner node (Product, ProductVariant, Customer, Order, Collection, Shop) its
     * `metafields` connection, made when first selected. Other nodes are returned unchanged.
     */
    decorate<T extends JsonObject | null>(owner: T): T {
      const type = owner ? String(owner.__typename) : '';
      const ownerType = METAFIELD_OWNER_TYPES[type];
      if (!owner || !ownerType || typeof owner.id !== 'string') return owner;
      const ms = Date.parse(String(owner.updatedAt ?? '')) || init.clock();
      Object.defineProperty(owner, 'metafields', {
        enumerable: true, configurable: true,
        get: () => new ConnectionSource(of(type, owner.id as string, ms).map((m) => node(m, ownerType))),
      });
      return owner;
    },
    /** The metafields of an owner now (`type` as GraphQL names it: `Product`, `Shop`, ...). */
    list: (type: string, id: bigint | string): SimulatedMetafield[] =>
      (byOwner.get(ownerKey(type, id)) ?? []).map(({ id: mid, namespace, key, type: t, value }) => ({ id: mid, namespace, key, type: t, value })),
    /** Creates or changes a metafield (`metafieldsSet`); the owner's `updatedAt` stays. */
    set(type: string, id: bigint | string, namespace: string, key: string, valueType: string, value: string): bigint {
      const list = of(type, id, now());
      const found = list.find((m) => m.namespace === namespace && m.key === key);
      if (found) { found.value = value; found.type = valueType; found.updatedMs = now(); return found.id; }
      const m: Metafield = { id: base + next++, namespace, key, type: valueType, value, createdMs: now(), updatedMs: now() };
      list.push(m);
      return m.id;
    },
    /** Deletes a metafield (`metafieldsDelete`); the owner's `updatedAt` stays. */
    remove(type: string, id: bigint | string, namespace: string, key: string): void {
      const list = of(type, id, now());
      const k = list.findIndex((m) => m.namespace === namespace && m.key === key);
      if (k < 0) throw new Error(`[shopify-ingest] simulator: ${type} ${id} has no metafield ${namespace}.${key}`);
      list.splice(k, 1);
    },
  };
}

/** The metafields of one simulated shop. */
export type SimulatedMetafields = ReturnType<typeof createMetafields>;
