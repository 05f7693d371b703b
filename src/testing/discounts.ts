/**
 * The simulator's discounts, written from Shopify's 2026-10 documentation (not from the SDK's
 * registry): one discount of each member of the `Discount` union (code and automatic: basic, buy X
 * get Y, free shipping, app), a code discount with 250 codes, and a few more.
 *
 * What it models that syncs depend on:
 * - `discountNodes(query:, sortKey:)` with `updated_at`/`created_at` search terms, and
 *   `discountNodesCount`; a `DiscountNode`'s id is a `DiscountNode` gid. `node(id:)` answers the
 *   type the gid names: a `DiscountNode`, or a `DiscountCodeNode` (`codeDiscount`) or
 *   `DiscountAutomaticNode` (`automaticDiscount`), the gids webhook bodies give.
 * - Bulk output truncates a discount's `codes` at 100 lines (`bulkLimit`), as reported of Shopify;
 *   `codesCount` always says how many there are.
 * - Webhooks with REST-shaped bodies that are not the node: `discounts/create|update`
 *   (`admin_graphql_api_id`, title, status, times), `discounts/delete`, `discounts/redeemcode_added|removed`.
 * https://shopify.dev/docs/api/admin-graphql/latest/queries/discountNodes
 * https://shopify.dev/docs/api/webhooks/latest?reference=toml#list-of-topics-discounts/create
 */
import { formatShopTime } from './clock.js';
import { MAX_ID, type JsonObject } from './generator.js';
import { ConnectionSource } from './graphql-nodes.js';
import { hashString } from './prng.js';

/** Codes of one discount a bulk operation's output holds at most (reported of Shopify). */
export const BULK_CODES_LIMIT = 100;

interface Code { id: bigint; code: string; used: number }
interface Discount {
  id: bigint; type: string; title: string; status: 'ACTIVE' | 'EXPIRED' | 'SCHEDULED'; percentage: number | null; amount: string | null;
  usageLimit: number | null; used: number; codes: Code[]; startsMs: number; endsMs: number | null; createdMs: number; updatedMs: number; deleted: boolean;
}

const TYPES = ['DiscountCodeBasic', 'DiscountCodeBxgy', 'DiscountCodeFreeShipping', 'DiscountCodeApp', 'DiscountAutomaticBasic', 'DiscountAutomaticBxgy', 'DiscountAutomaticFreeShipping', 'DiscountAutomaticApp'];
const DAY = 86_400_000;
const START_MS = Date.UTC(2024, 1, 1, 9, 0, 0);
const utc = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const isCode = (d: Discount) => d.type.startsWith('DiscountCode');
/** The node type a webhook body names a discount by (`admin_graphql_api_id`). */
const nodeTypeOf = (d: Discount) => (isCode(d) ? 'DiscountCodeNode' : 'DiscountAutomaticNode');
const gidOf = (d: Discount) => `gid://shopify/${nodeTypeOf(d)}/${d.id}`;

/** A `query:` search's bounds on `field` (quoted values; inclusive, as the SDK treats them). */
function bounds(query: unknown, field: string): [number, number] {
  let min = -Infinity;
  let max = Infinity;
  if (typeof query !== 'string') return [min, max];
  for (const m of query.matchAll(new RegExp(`${field}:(>=|<=|>|<)?'?([^'\\s]+)'?`, 'g'))) {
    const ms = Date.parse(m[2]);
    if (Number.isNaN(ms)) continue;
    if (m[1]?.startsWith('>')) min = Math.max(min, m[1] === '>' ? ms + 1 : ms);
    else if (m[1]?.startsWith('<')) max = Math.min(max, m[1] === '<' ? ms - 1 : ms);
  }
  return [min, max];
}

/**
 * Creates the discounts of one shop.
 *
 * @example
 * ```ts
 * const id = shop.discounts.create('DiscountCodeBasic', 3); // discounts/create
 * shop.discounts.addCodes(id, 200);                          // discounts/redeemcode_added
 * ```
 */
export function createDiscounts(init: { seed: number; shopNumber: number; clock: () => number; currency: string; topIds?: boolean }) {
  const now = () => Math.floor(init.clock() / 1000) * 1000;
  const base = init.topIds ? MAX_ID - 10_000_000n : 1_057_371_000_000n + BigInt(hashString(`${init.seed}:${init.shopNumber}:discounts`) % 1000) * 1_000_000n;
  const codeBase = init.topIds ? MAX_ID - 1_000_000_000n : 20_000_000_000n + base / 1000n;
  let next = 0n;
  let codeNumber = 0n;
  let deliver: (topic: string, payload: JsonObject) => void = () => {};
  const discounts: Discount[] = [];

  const newCodes = (d: { title: string }, n: number): Code[] => Array.from({ length: n }, () => {
    const id = codeBase + codeNumber++;
    return { id, code: `${d.title.replace(/\W/g, '').toUpperCase().slice(0, 8)}-${id.toString(36).toUpperCase()}`, used: Number(id % 7n) };
  });
  const add = (type: string, codes: number, ms: number): Discount => {
    const k = discounts.length;
    const title = `${type.replace(/^Discount(Code|Automatic)/, '')} ${k + 1}`;
    const d: Discount = {
      id: base + next++, type, title, status: k % 5 === 4 ? 'EXPIRED' : 'ACTIVE', percentage: k % 2 ? 0.1 + (k % 3) * 0.05 : null,
      amount: k % 2 ? null : `${5 + k}.00`, usageLimit: k % 3 === 0 ? 100 : null, used: (k * 7) % 40, codes: [],
      startsMs: ms, endsMs: k % 5 === 4 ? ms + 30 * DAY : null, createdMs: ms, updatedMs: ms, deleted: false,
    };
    if (type.startsWith('DiscountCode')) d.codes = newCodes(d, codes);
    discounts.push(d);
    return d;
  };
  TYPES.forEach((type, k) => add(type, type.startsWith('DiscountCode') ? 1 + (k % 3) : 0, START_MS + k * 20 * DAY));
  // A bulk-generated code campaign: more codes than a bulk operation's output holds per discount.
  add('DiscountCodeBasic', 250, START_MS + 200 * DAY);

  /** The member of the `Discount` union a discount is. */
  const discountOf = (d: Discount): JsonObject => {
    const value = d.percentage !== null
      ? { __typename: 'DiscountPercentage', percentage: d.percentage }
      : { __typename: 'DiscountAmount', amount: { __typename: 'MoneyV2', amount: d.amount, currencyCode: init.currency }, appliesOnEachItem: false };
    const sales = { __typename: 'MoneyV2', amount: `${(d.used * 12.5).toFixed(2)}`, currencyCode: init.currency };
    const discount: JsonObject = {
      __typename: d.type, title: d.title, status: d.status, summary: `${d.title} off`, startsAt: utc(d.startsMs), endsAt: d.endsMs === null ? null : utc(d.endsMs),
      createdAt: utc(d.createdMs), updatedAt: utc(d.updatedMs), asyncUsageCount: d.used, discountClasses: [d.type.endsWith('FreeShipping') ? 'SHIPPING' : 'ORDER'],
      tags: [], recurringCycleLimit: 0,
    };
    if (d.type.endsWith('Basic') || d.type.endsWith('Bxgy')) discount.customerGets = { __typename: 'DiscountCustomerGets', value, appliesOnOneTimePurchase: true, appliesOnSubscription: false };
    if (isCode(d)) {
      Object.assign(discount, {
        usageLimit: d.usageLimit, appliesOncePerCustomer: d.id % 2n === 0n, totalSales: sales,
        codesCount: { __typename: 'Count', count: d.codes.length, precision: 'EXACT' },
        codes: new ConnectionSource(d.codes.map((c) => ({ __typename: 'DiscountRedeemCode', id: `gid://shopify/DiscountRedeemCode/${c.id}`, code: c.code, asyncUsageCount: c.used })), { bulkLimit: BULK_CODES_LIMIT }),
      });
    } else if (d.type.endsWith('FreeShipping')) discount.totalSales = sales;
    return discount;
  };
  const node = (d: Discount): JsonObject => ({ __typename: 'DiscountNode', id: `gid://shopify/DiscountNode/${d.id}`, discount: discountOf(d) });
  /** The discount as the node type `type` (2026-10: `DiscountCodeNode.codeDiscount`, `DiscountAutomaticNode.automaticDiscount`). */
  const nodeAs = (d: Discount, type: string): JsonObject | null => {
    if (type === 'DiscountNode') return node(d);
    if (type !== nodeTypeOf(d)) return null;
    return { __typename: type, id: gidOf(d), [isCode(d) ? 'codeDiscount' : 'automaticDiscount']: discountOf(d) };
  };

  const find = (id: bigint): Discount => {
    const d = discounts.find((x) => x.id === id && !x.deleted);
    if (!d) throw new Error(`[shopify-ingest] simulator: no discount ${id}`);
    return d;
  };
  const body = (d: Discount): JsonObject => ({
    admin_graphql_api_id: gidOf(d), title: d.title, status: d.status, created_at: formatShopTime(d.createdMs), updated_at: formatShopTime(d.updatedMs),
  });
  const live = (query: unknown, sortKey: unknown): Discount[] => {
    const [umin, umax] = bounds(query, 'updated_at');
    const [cmin, cmax] = bounds(query, 'created_at');
    const list = discounts.filter((d) => !d.deleted && d.updatedMs >= umin && d.updatedMs <= umax && d.createdMs >= cmin && d.createdMs <= cmax);
    if (sortKey === 'UPDATED_AT') return [...list].sort((a, b) => a.updatedMs - b.updatedMs || (a.id < b.id ? -1 : 1));
    if (sortKey === 'CREATED_AT') return [...list].sort((a, b) => a.createdMs - b.createdMs || (a.id < b.id ? -1 : 1));
    return list;
  };

  return {
    /** Sends a webhook (set by the simulator to its dispatcher). */
    set deliver(fn: (topic: string, payload: JsonObject) => void) { deliver = fn; },
    /** `discountNodes` (filtered and sorted like Shopify's), or undefined for other fields. */
    list: (field: string, args: Record<string, unknown>): JsonObject[] | undefined => (field === 'discountNodes' ? live(args.query, args.sortKey).map(node) : undefined),
    /** `discountNodesCount`, or undefined for other fields. */
    count: (field: string, args: Record<string, unknown>): JsonObject | undefined =>
      (field === 'discountNodesCount' ? { __typename: 'Count', count: live(args.query, null).length, precision: 'EXACT' } : undefined),
    /** A discount as the node type its gid names (`DiscountNode`, `DiscountCodeNode`, `DiscountAutomaticNode`), or undefined for other gids. */
    node(id: string): JsonObject | null | undefined {
      const m = /^gid:\/\/shopify\/(Discount(?:Code|Automatic)?Node)\/(\d+)$/.exec(id);
      if (!m) return undefined;
      const d = discounts.find((x) => x.id === BigInt(m[2]) && !x.deleted);
      return d ? nodeAs(d, m[1]) : null;
    },
    /** Ids of the live discounts, oldest first. */
    ids: (): bigint[] => discounts.filter((d) => !d.deleted).map((d) => d.id),
    /** Codes of a discount now. */
    codesOf: (id: bigint): string[] => find(id).codes.map((c) => c.code),
    /** Type (union member) of a discount. */
    typeOf: (id: bigint): string => find(id).type,
    /** Creates a discount (`codes` codes for a code discount); emits `discounts/create`. */
    create(type: string, codes = 1): bigint {
      if (!TYPES.includes(type)) throw new Error(`[shopify-ingest] simulator: no discount type ${type}`);
      const d = add(type, codes, now());
      deliver('discounts/create', body(d));
      return d.id;
    },
    /** Retitles a discount; emits `discounts/update`. */
    retitle(id: bigint, title: string): void {
      const d = find(id);
      d.title = title;
      d.updatedMs = now();
      deliver('discounts/update', body(d));
    },
    /** Adds codes (the discount's `updatedAt` moves); emits `discounts/redeemcode_added` per code. */
    addCodes(id: bigint, n: number): void {
      const d = find(id);
      const added = newCodes(d, n);
      d.codes.push(...added);
      d.updatedMs = now();
      for (const c of added) deliver('discounts/redeemcode_added', { admin_graphql_api_id: gidOf(d), redeem_code: { id: `gid://shopify/DiscountRedeemCode/${c.id}`, code: c.code }, updated_at: formatShopTime(d.updatedMs) });
    },
    /** Removes codes by code (the discount's `updatedAt` moves); emits `discounts/redeemcode_removed` per code. */
    removeCodes(id: bigint, codes: readonly string[]): void {
      const d = find(id);
      const gone = d.codes.filter((c) => codes.includes(c.code));
      d.codes = d.codes.filter((c) => !codes.includes(c.code));
      d.updatedMs = now();
      for (const c of gone) deliver('discounts/redeemcode_removed', { admin_graphql_api_id: gidOf(d), redeem_code: { id: `gid://shopify/DiscountRedeemCode/${c.id}`, code: c.code }, updated_at: formatShopTime(d.updatedMs) });
    },
    /** Deletes a discount; emits `discounts/delete`. */
    remove(id: bigint): void {
      const d = find(id);
      d.deleted = true;
      deliver('discounts/delete', { admin_graphql_api_id: gidOf(d), deleted_at: formatShopTime(now()) });
    },
  };
}

/** The discounts of one simulated shop. */
export type SimulatedDiscounts = ReturnType<typeof createDiscounts>;
