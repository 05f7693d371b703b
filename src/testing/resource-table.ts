/**
 * One resource (customers, products or orders) of one shop: seeded base records generated on
 * demand plus a small overlay of changes. Only the overlay takes memory, so 1,000,000 orders cost
 * a few numbers until tests mutate them.
 *
 * Base record i has id, created_at and updated_at all increasing with i, so a time filter maps to
 * an index range by binary search, and keyset pagination on id is keyset pagination on the index.
 * Changed records (updated, deleted, created) live in the overlay with their own times and are
 * merged into every listing in index order.
 */
import { OrderState, type Generator, type JsonObject, type ResourceName } from './generator.js';

/** Order status filter of `GET /orders.json` (https://shopify.dev/docs/api/admin-rest/latest/resources/order#get-orders). */
export type OrderStatusFilter = 'open' | 'closed' | 'cancelled' | 'any';

/** A listing filter; every bound is inclusive like Shopify's `*_min`/`*_max`. */
export interface RecordFilter {
  createdMin?: number;
  createdMax?: number;
  updatedMin?: number;
  updatedMax?: number;
  status?: OrderStatusFilter;
  /** Restrict to these record indices (from `ids=`). */
  indices?: number[];
  /** Only indices >= this (from `since_id`). */
  minIndex?: number;
}

interface OverlayEntry {
  /**
   * Top-level fields that differ from the regenerated record (for created records: the fields
   * given at creation plus later changes), or null once deleted. Keeping the difference rather
   * than the record keeps a changed 10 KB order at a few hundred bytes.
   */
  patch: JsonObject | null;
  createdMs: number;
  updatedMs: number;
  state: OrderState;
  deletedMs?: number;
}

const BLOCK = 4096;

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, k) => deepEqual(v, bb[k]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as JsonObject)[k], (b as JsonObject)[k]));
}

/** Top-level fields of `next` that differ from `base` (removed fields become undefined). */
function diff(next: JsonObject, base: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const k of Object.keys(next)) if (!deepEqual(next[k], base[k])) patch[k] = next[k];
  for (const k of Object.keys(base)) if (!(k in next)) patch[k] = undefined;
  return patch;
}

function stateOfRecord(record: JsonObject): OrderState {
  if (record.cancelled_at) return OrderState.Cancelled;
  if (record.closed_at) return OrderState.Closed;
  return OrderState.Open;
}

function statusMatches(status: OrderStatusFilter | undefined, state: OrderState): boolean {
  if (!status || status === 'any') return true;
  if (status === 'open') return state === OrderState.Open;
  // Cancelled orders are also closed (archived), as Shopify archives them.
  if (status === 'closed') return state !== OrderState.Open;
  return state === OrderState.Cancelled;
}

/** The time a sorted listing orders by. */
export type SortTime = 'created' | 'updated';

/** A place in a time-sorted listing: a record's time, ties broken by its index (id order). */
export interface SortPosition {
  ms: number;
  index: number;
}

/** Page of a listing: record indices in id order, and whether more match beyond either end. */
export interface ListResult {
  indices: number[];
  hasMore: boolean;
}

/**
 * Creates the table of one resource.
 *
 * @example
 * ```ts
 * const orders = createResourceTable(gen, 'orders', 1_000_000);
 * orders.list({ status: 'any' }, { after: -1 }, 50).indices // [0, 1, ..., 49]
 * ```
 */
export function createResourceTable(
  gen: Generator,
  resource: ResourceName,
  baseCount: number,
  build: (index: number, times?: { created: number; updated: number }) => JsonObject = (index, times) => gen.build(resource, index, times),
) {
  const overlay = new Map<number, OverlayEntry>();
  let size = baseCount;
  const statusBlocks = new Map<number, Uint32Array>();
  const isOrders = resource === 'orders';

  function baseState(i: number): OrderState {
    return isOrders ? gen.orderState(i) : OrderState.Open;
  }

  /** First base index in [0, baseCount] with f(i) >= t (f non-decreasing). */
  function lowerBound(f: (i: number) => number, t: number): number {
    let lo = 0;
    let hi = baseCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (f(mid) >= t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  const createdAt = (i: number) => gen.createdAtMs(resource, i);
  const updatedAt = (i: number) => gen.updatedAtMs(resource, i);

  /** Base index range [lo, hi) that satisfies the time bounds. */
  function baseRange(f: RecordFilter): [number, number] {
    let lo = Math.max(0, f.minIndex ?? 0);
    let hi = baseCount;
    if (f.createdMin !== undefined) lo = Math.max(lo, lowerBound(createdAt, f.createdMin));
    if (f.updatedMin !== undefined) lo = Math.max(lo, lowerBound(updatedAt, f.updatedMin));
    if (f.createdMax !== undefined) hi = Math.min(hi, lowerBound(createdAt, f.createdMax + 1));
    if (f.updatedMax !== undefined) hi = Math.min(hi, lowerBound(updatedAt, f.updatedMax + 1));
    return [lo, Math.max(lo, hi)];
  }

  function entryMatches(e: OverlayEntry, f: RecordFilter): boolean {
    if (!e.patch) return false;
    if (f.createdMin !== undefined && e.createdMs < f.createdMin) return false;
    if (f.createdMax !== undefined && e.createdMs > f.createdMax) return false;
    if (f.updatedMin !== undefined && e.updatedMs < f.updatedMin) return false;
    if (f.updatedMax !== undefined && e.updatedMs > f.updatedMax) return false;
    return !isOrders || statusMatches(f.status, e.state);
  }

  /** True when index i (base or overlay) exists and matches the filter. */
  function matches(i: number, f: RecordFilter): boolean {
    if (i < 0 || i >= size || i < (f.minIndex ?? 0)) return false;
    const e = overlay.get(i);
    if (e) return entryMatches(e, f);
    if (i >= baseCount) return false;
    const [lo, hi] = baseRange(f);
    return i >= lo && i < hi && (!isOrders || statusMatches(f.status, baseState(i)));
  }

  function overlayMatches(f: RecordFilter): number[] {
    const out: number[] = [];
    const min = f.minIndex ?? 0;
    for (const [i, e] of overlay) if (i >= min && entryMatches(e, f)) out.push(i);
    return out.sort((a, b) => a - b);
  }

  /**
   * Up to `limit` matching indices strictly after `after` (ascending) or strictly before `before`
   * (returned ascending too), plus whether more match in that direction.
   */
  function list(f: RecordFilter, cursor: { after?: number; before?: number }, limit: number): ListResult {
    const want = limit + 1;
    const found: number[] = [];
    const descending = cursor.before !== undefined;
    if (f.indices) {
      const sorted = [...new Set(f.indices)].sort((a, b) => (descending ? b - a : a - b));
      for (const i of sorted) {
        if (found.length >= want) break;
        if (descending ? i >= cursor.before! : i <= (cursor.after ?? -1)) continue;
        if (matches(i, f)) found.push(i);
      }
    } else {
      const [lo, hi] = baseRange(f);
      const extra = overlayMatches(f);
      const checkStatus = isOrders && f.status && f.status !== 'any';
      const baseOk = (b: number) => !overlay.has(b) && (!checkStatus || statusMatches(f.status, baseState(b)));
      if (!descending) {
        let b = Math.max(lo, (cursor.after ?? -1) + 1);
        let k = 0;
        while (k < extra.length && extra[k] <= (cursor.after ?? -1)) k++;
        while (found.length < want) {
          while (b < hi && !baseOk(b)) b++;
          const nextBase = b < hi ? b : Infinity;
          const nextExtra = k < extra.length ? extra[k] : Infinity;
          if (nextBase === Infinity && nextExtra === Infinity) break;
          if (nextBase < nextExtra) {
            found.push(nextBase);
            b++;
          } else {
            found.push(nextExtra);
            k++;
          }
        }
      } else {
        let b = Math.min(hi, cursor.before!) - 1;
        let k = extra.length - 1;
        while (k >= 0 && extra[k] >= cursor.before!) k--;
        while (found.length < want) {
          while (b >= lo && !baseOk(b)) b--;
          const nextBase = b >= lo ? b : -Infinity;
          const nextExtra = k >= 0 ? extra[k] : -Infinity;
          if (nextBase === -Infinity && nextExtra === -Infinity) break;
          if (nextBase > nextExtra) {
            found.push(nextBase);
            b--;
          } else {
            found.push(nextExtra);
            k--;
          }
        }
      }
    }
    const hasMore = found.length > limit;
    const page = found.slice(0, limit);
    if (descending) page.reverse();
    return { indices: page, hasMore };
  }

  /**
   * Up to `limit` matching indices in `by` time order (ties by index, as Shopify breaks them by id),
   * strictly past `bound` (a position in that order) walking forwards, or backwards when
   * `descending` (returned in walking order), plus whether more match in that direction.
   * Base records are already in both orders by index; changed records (the overlay) are merged in
   * at their own times, so a record updated after a page was served comes again on a later page of
   * an `UPDATED_AT` listing, as on Shopify.
   */
  function listSorted(f: RecordFilter, by: SortTime, bound: SortPosition | undefined, descending: boolean, limit: number): ListResult {
    const baseMs = by === 'created' ? createdAt : updatedAt;
    const precedes = (ms: number, i: number, p: SortPosition) => ms < p.ms || (ms === p.ms && i < p.index);
    const beyond = (x: { ms: number; i: number }) => bound === undefined || (descending ? precedes(x.ms, x.i, bound) : precedes(bound.ms, bound.index, { ms: x.ms, index: x.i }));
    const walkOrder = (a: { ms: number; i: number }, b: { ms: number; i: number }) => (descending ? b.ms - a.ms || b.i - a.i : a.ms - b.ms || a.i - b.i);
    if (f.indices) {
      // A few given records (`id:=`): sorted as they are.
      const picked = [...new Set(f.indices)].filter((i) => matches(i, f)).map((i) => ({ i, ms: sortPosition(i, by)!.ms })).filter(beyond).sort(walkOrder);
      return { indices: picked.slice(0, limit).map((x) => x.i), hasMore: picked.length > limit };
    }
    const checkStatus = isOrders && f.status && f.status !== 'any';
    const baseOk = (b: number) => !overlay.has(b) && (!checkStatus || statusMatches(f.status, baseState(b)));
    const [lo, hi] = baseRange(f);
    const extra = overlayMatches(f).map((i) => ({ i, ms: sortPosition(i, by)!.ms })).filter(beyond).sort(walkOrder);
    // First base index past the bound in walking order (base keys increase with the index).
    let b: number;
    if (bound === undefined) b = descending ? hi - 1 : lo;
    else {
      // The first index in [lo, hi) whose key is after the bound (ascending) or not before it
      // (descending): the walk starts there, or just below it.
      const past = (i: number) => (descending ? !precedes(baseMs(i), i, bound) : precedes(bound.ms, bound.index, { ms: baseMs(i), index: i }));
      let l = lo;
      let h = hi;
      while (l < h) {
        const mid = (l + h) >>> 1;
        if (past(mid)) h = mid;
        else l = mid + 1;
      }
      b = descending ? l - 1 : l;
    }
    const want = limit + 1;
    const found: number[] = [];
    let k = 0;
    while (found.length < want) {
      while (descending ? b >= lo && !baseOk(b) : b < hi && !baseOk(b)) b += descending ? -1 : 1;
      const haveBase = descending ? b >= lo : b < hi;
      const next = k < extra.length ? extra[k] : undefined;
      if (!haveBase && next === undefined) break;
      const baseFirst = haveBase && (next === undefined || (descending ? precedes(next.ms, next.i, { ms: baseMs(b), index: b }) : precedes(baseMs(b), b, { ms: next.ms, index: next.i })));
      if (baseFirst) {
        found.push(b);
        b += descending ? -1 : 1;
      } else {
        found.push(next!.i);
        k++;
      }
    }
    return { indices: found.slice(0, limit), hasMore: found.length > limit };
  }

  /** A record's position in `by` time order (for a cursor), or undefined when it is absent. */
  function sortPosition(i: number, by: SortTime): SortPosition | undefined {
    const e = overlay.get(i);
    if (e) return e.patch ? { ms: by === 'created' ? e.createdMs : e.updatedMs, index: i } : undefined;
    if (i < 0 || i >= baseCount) return undefined;
    return { ms: by === 'created' ? createdAt(i) : updatedAt(i), index: i };
  }

  /** Per-block status counts of base orders, computed once per block (245 blocks at 1M orders). */
  function blockCounts(block: number): Uint32Array {
    let c = statusBlocks.get(block);
    if (!c) {
      c = new Uint32Array(3);
      const end = Math.min(baseCount, (block + 1) * BLOCK);
      for (let i = block * BLOCK; i < end; i++) c[baseState(i)]++;
      statusBlocks.set(block, c);
    }
    return c;
  }

  function countBaseStatus(lo: number, hi: number, status: OrderStatusFilter): number {
    const pick = (c: ArrayLike<number>) => (status === 'open' ? c[0] : status === 'closed' ? c[1] + c[2] : c[2]);
    let n = 0;
    let i = lo;
    while (i < hi) {
      if (i % BLOCK === 0 && i + BLOCK <= hi) { n += pick(blockCounts(i / BLOCK)); i += BLOCK; continue; }
      if (statusMatches(status, baseState(i))) n++;
      i++;
    }
    return n;
  }

  /** Number of records matching the filter. */
  function count(f: RecordFilter): number {
    if (f.indices) return [...new Set(f.indices)].filter((i) => matches(i, f)).length;
    const [lo, hi] = baseRange(f);
    const checkStatus = isOrders && f.status && f.status !== 'any';
    let n = checkStatus ? countBaseStatus(lo, hi, f.status!) : hi - lo;
    for (const [i, e] of overlay) {
      if (i < baseCount && i >= lo && i < hi && (!checkStatus || statusMatches(f.status, baseState(i)))) n--;
      if (i >= (f.minIndex ?? 0) && entryMatches(e, f)) n++;
    }
    return n;
  }

  /** The record as generated, before any patch (created records: generated at their creation time). */
  function generated(i: number, e: OverlayEntry | undefined): JsonObject {
    return i < baseCount ? build(i) : build(i, { created: e!.createdMs, updated: e!.createdMs });
  }

  /** The current record at index i, or undefined when absent or deleted. */
  function get(i: number): JsonObject | undefined {
    if (i < 0 || i >= size) return undefined;
    const e = overlay.get(i);
    if (e) return e.patch ? { ...generated(i, e), ...e.patch } : undefined;
    return i < baseCount ? build(i) : undefined;
  }

  function exists(i: number): boolean {
    if (i < 0 || i >= size) return false;
    const e = overlay.get(i);
    return e ? e.patch !== null : i < baseCount;
  }

  /** Adds a record: a generated one (created_at = updated_at = now) with `data` over it. */
  function create(now: number, data: JsonObject): {
    /** Its index (ids grow with it). */
    index: number;
    /** The record as served. */
    record: JsonObject;
  } {
    const index = size++;
    const entry: OverlayEntry = { patch: { ...data }, createdMs: now, updatedMs: now, state: OrderState.Open };
    overlay.set(index, entry);
    const record = get(index)!;
    entry.state = stateOfRecord(record);
    return { index, record };
  }

  /** Replaces record i (already patched by the caller, updated_at included) and sets its updated time to now. */
  function replace(i: number, record: JsonObject, now: number): void {
    const prev = overlay.get(i);
    const createdMs = prev ? prev.createdMs : createdAt(i);
    const entry: OverlayEntry = { patch: {}, createdMs, updatedMs: now, state: stateOfRecord(record) };
    entry.patch = diff(record, generated(i, entry));
    overlay.set(i, entry);
  }

  function remove(i: number, now: number): void {
    const prev = overlay.get(i);
    overlay.set(i, { patch: null, createdMs: prev ? prev.createdMs : createdAt(i), updatedMs: now, state: OrderState.Open, deletedMs: now });
  }

  return {
    /** The resource it holds. */
    resource,
    /** A page of records matching a filter, by ascending id. */
    list,
    /** A page of records matching a filter, by creation or update time (`sortKey: CREATED_AT|UPDATED_AT`). */
    listSorted,
    /** A record's position in creation or update time order. */
    sortPosition,
    /** Number of records matching a filter. */
    count,
    /** The current record at an index, or undefined when absent or deleted. */
    get,
    /** Whether the record at an index exists (not deleted). */
    exists,
    /** Adds a record: a generated one (created_at = updated_at = now) with the given fields over it. */
    create,
    /** Replaces a record (updated_at included) and sets its updated time. */
    replace,
    /** Deletes a record (later reads miss it; listings skip it). */
    remove,
    /** Ids served so far, base and created (deleted ones included). */
    get size() { return size; },
    /** Records seeded at start. */
    get baseCount() { return baseCount; },
    /** Number of changed records held in memory. */
    get overlaySize() { return overlay.size; },
  };
}

export type ResourceTable = ReturnType<typeof createResourceTable>;
