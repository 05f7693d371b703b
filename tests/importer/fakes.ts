/**
 * Small in-memory fakes of the client, store and transformer, for unit tests of the run loop only
 * (integration tests use the real simulator, store and PostgreSQL).
 */
import type { CustomerRow, OrderBundle, ProductBundle, ResourceType, UpsertResult } from '../../src/store/rows.js';
import type { Checkpoint, IngestStore, RunLockInput, SyncFailureInput, SyncRunRecord } from '../../src/store/types.js';
import type { ImportClient, ImportTransformer } from '../../src/importer/types.js';
import { RESOURCE_NAMES } from '../../src/resources/registry.js';

export interface FakeRecord { id: number; updated_at: string; bad?: boolean; [k: string]: unknown }

/** A Shopify-like listing: honours since_id, updated_at_min/max and limit; ids ascending. */
export function createFakeClient(records: Record<string, FakeRecord[]>, options: {
  failAfterPages?: number;
  /** Ends every listing after this many pages, as if Shopify's last page had no next link. */
  endAfterPages?: number;
  /** Serves `GET /<resource>/count.json` with the number of matching records, plus offsetByCall[n] on the nth call. */
  counts?: { offsetByCall?: number[] };
} = {}) {
  const requests: Array<{ path: string; query: Record<string, unknown> }> = [];
  let pagesServed = 0;
  let countCalls = 0;
  const client: ImportClient = {
    async *pages<T>(path: string, query: Record<string, string | number | boolean | undefined> = {}) {
      requests.push({ path, query: { ...query } });
      const key = path.replace(/^\//, '').replace(/\.json$/, '');
      const since = BigInt(String(query.since_id ?? '0'));
      const min = query.updated_at_min ? Date.parse(String(query.updated_at_min)) : -Infinity;
      const max = query.updated_at_max ? Date.parse(String(query.updated_at_max)) : Infinity;
      const limit = Number(query.limit ?? 50);
      const list = (records[key] ?? []).filter((r) => BigInt(r.id) > since && Date.parse(r.updated_at) >= min && Date.parse(r.updated_at) <= max).sort((a, b) => a.id - b.id);
      for (let i = 0; i < list.length; i += limit) {
        if (options.endAfterPages !== undefined && i / limit >= options.endAfterPages) return;
        if (options.failAfterPages !== undefined && pagesServed >= options.failAfterPages) throw new Error('connection reset');
        pagesServed++;
        if (i > 0) requests.push({ path, query: { page_info: String(i) } });
        yield list.slice(i, i + limit).map((r) => ({ ...r })) as T[];
      }
    },
    ...(options.counts ? {
      async get<T>(path: string, query: Record<string, string | number | boolean | undefined> = {}) {
        requests.push({ path, query: { ...query } });
        const key = path.replace(/^\//, '').replace(/\/count\.json$/, '');
        const min = query.updated_at_min ? Date.parse(String(query.updated_at_min)) : -Infinity;
        const max = query.updated_at_max ? Date.parse(String(query.updated_at_max)) : Infinity;
        const count = (records[key] ?? []).filter((r) => Date.parse(r.updated_at) >= min && Date.parse(r.updated_at) <= max).length;
        return { count: count + (options.counts!.offsetByCall?.[countCalls++] ?? 0) } as T;
      },
    } : {}),
  };
  return { client, requests };
}

export const fakeTransformer: ImportTransformer = {
  toRows(resource: string, data: any, tenantId: string) {
    if (data.bad) throw new Error(`${resource} ${data.id} is malformed`);
    const row = { tenantId, id: BigInt(data.id), shopifyUpdatedAt: new Date(data.updated_at), payload: JSON.stringify({ id: data.id }) };
    if (resource === 'customers') return { customers: [row as unknown as CustomerRow] };
    if (resource === 'products') return { products: [row], variants: [] } as unknown as ProductBundle as never;
    return { orders: [row], lineItems: [], events: [] } as unknown as OrderBundle as never;
  },
  childRow() { throw new Error('the fake transformer has no child rows'); },
};

/** In-memory IngestStore subset with hooks to delay or fail writes. */
export function createFakeStore(hooks: { beforeWrite?: (resource: ResourceType, ids: bigint[]) => Promise<void> | void } = {}) {
  const rows = Object.fromEntries(RESOURCE_NAMES.map((name) => [name, new Map()])) as Record<ResourceType, Map<bigint, { updatedAt: number; deletedAt: number | null }>>;
  const checkpoints = new Map<string, Checkpoint>();
  const checkpointHistory: Array<{ resource: ResourceType; cursor: string | null | undefined; committedAtSave: bigint[] }> = [];
  const runs = new Map<string, SyncRunRecord>();
  const failures: Array<SyncFailureInput & { runId: string }> = [];
  const tenantStatus: string[] = [];
  const locks = new Map<string, { runId: string; acquiredAt: number; expiresAt: number }>();
  const listed = new Set<string>();
  let inFlight = 0;
  let maxInFlight = 0;
  const upsert = async (resource: ResourceType, items: Array<{ id: bigint; shopifyUpdatedAt: Date }>): Promise<UpsertResult> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await hooks.beforeWrite?.(resource, items.map((i) => i.id));
      let written = 0, stale = 0;
      for (const item of items) {
        const current = rows[resource].get(item.id);
        if (current && current.updatedAt > item.shopifyUpdatedAt.getTime()) { stale++; continue; }
        rows[resource].set(item.id, { updatedAt: item.shopifyUpdatedAt.getTime(), deletedAt: current?.deletedAt ?? null });
        written++;
      }
      return { written, stale };
    } finally { inFlight--; }
  };
  const store = {
    async writeRows(_t: string, resource: ResourceType, set: Record<string, Array<{ id: bigint; shopifyUpdatedAt: Date }>>) {
      const r = await upsert(resource, set[resource] ?? []);
      return { ...r, tables: { written: { [resource]: r.written }, removed: {}, skipped: {}, orphans: {} } };
    },
    upsertCustomers: (_t: string, r: CustomerRow[]) => upsert('customers', r),
    upsertProducts: (_t: string, b: ProductBundle) => upsert('products', b.products),
    upsertOrders: (_t: string, b: OrderBundle) => upsert('orders', b.orders),
    async markDeleted(_t: string, resource: ResourceType, ids: bigint[], at: Date) {
      for (const id of ids) rows[resource].set(id, { updatedAt: at.getTime(), deletedAt: at.getTime() });
      return ids.length;
    },
    async existingIds(_t: string, resource: ResourceType, ids: bigint[]) { return new Set(ids.filter((id) => rows[resource].has(id))); },
    async listStoredIds() { return []; },
    async getCheckpoint(tenantId: string, resource: ResourceType) { return checkpoints.get(resource) ?? null; },
    async saveCheckpoint(tenantId: string, resource: ResourceType, patch: Partial<Checkpoint>, fence?: { heldBy: string }) {
      // As the store: a fenced write only while its run holds the lock.
      if (fence && locks.get(resource)?.runId !== fence.heldBy) return false;
      const current: Checkpoint = checkpoints.get(resource) ?? { tenantId, resource, watermark: null, cursor: null, runId: null, fullSyncCompletedAt: null, deletionsCheckedAt: null, deletionError: null, updatedAt: new Date() };
      checkpoints.set(resource, { ...current, ...patch, updatedAt: new Date() });
      checkpointHistory.push({ resource, cursor: patch.cursor, committedAtSave: [...rows[resource].keys()] });
      return true;
    },
    async startRun(input: { id: string; tenantId: string; resource: string; mode: 'full' | 'incremental'; options?: Record<string, unknown> }) {
      runs.set(input.id, { id: input.id, tenantId: input.tenantId, resource: input.resource, mode: input.mode, status: 'running', fetched: 0, imported: 0, skipped: 0, failed: 0, error: null, errorCode: null, warnings: [], options: input.options ?? {}, startedAt: new Date(), finishedAt: null });
    },
    async updateRunCounts(runId: string, _t: string, counts: Partial<SyncRunRecord>) { Object.assign(runs.get(runId)!, counts); },
    async finishRun(runId: string, _t: string, result: { status: SyncRunRecord['status']; error?: string | null; errorCode?: string | null; counts?: Partial<SyncRunRecord>; warnings?: string[] }) {
      const run = runs.get(runId);
      if (run) Object.assign(run, result.counts ?? {}, { status: result.status, error: result.error ?? null, errorCode: result.errorCode ?? null, warnings: result.warnings ?? [], finishedAt: new Date() });
    },
    async addListedIds(_t: string, _r: string, listingId: string, ids: bigint[]) { for (const id of ids) listed.add(`${listingId}:${id}`); },
    async tombstoneUnlisted(_t: string, resource: ResourceType, listingId: string, changedBefore: Date) {
      let n = 0;
      for (const [id, row] of rows[resource]) {
        if (row.deletedAt === null && row.updatedAt < changedBefore.getTime() && !listed.has(`${listingId}:${id}`)) { row.deletedAt = changedBefore.getTime(); n++; }
      }
      return n;
    },
    async clearListedIds() { listed.clear(); },
    async closeInterruptedRuns(_t: string, resource: string, currentRunId: string, reason: string) {
      let closed = 0;
      for (const run of runs.values()) {
        if (run.resource !== resource || run.status !== 'running' || run.id === currentRunId) continue;
        Object.assign(run, { status: 'cancelled', error: reason, finishedAt: new Date() });
        closed++;
      }
      return closed;
    },
    async acquireRunLock(lock: RunLockInput & { ttlMs: number }) {
      const held = locks.get(lock.resource);
      if (held && held.runId !== lock.runId && held.expiresAt > lock.now.getTime()) {
        return { acquired: false as const, runId: held.runId, acquiredAt: new Date(held.acquiredAt), expiresAt: new Date(held.expiresAt) };
      }
      locks.set(lock.resource, { runId: lock.runId, acquiredAt: lock.now.getTime(), expiresAt: lock.now.getTime() + lock.ttlMs });
      return { acquired: true as const };
    },
    async renewRunLock(lock: RunLockInput & { ttlMs: number }) {
      const held = locks.get(lock.resource);
      if (held?.runId !== lock.runId) return false;
      held.expiresAt = lock.now.getTime() + lock.ttlMs;
      return true;
    },
    async releaseRunLock(lock: Omit<RunLockInput, 'now'>) {
      if (locks.get(lock.resource)?.runId === lock.runId) locks.delete(lock.resource);
    },
    async recordFailures(runId: string, _t: string, _r: string, f: SyncFailureInput[]) { for (const x of f) failures.push({ ...x, runId }); },
    async setTenantSyncStatus(_t: string, status: string) { tenantStatus.push(status); },
    async listRuns() { return [...runs.values()].reverse(); },
    async countRecords() { return { customers: rows.customers.size, products: rows.products.size, variants: 0, orders: rows.orders.size, lineItems: 0 }; },
  };
  return { store: store as unknown as IngestStore, rows, checkpoints, checkpointHistory, runs, failures, tenantStatus, locks, maxInFlight: () => maxInFlight };
}

export function makeRecords(n: number, startMs = Date.parse('2024-01-01T00:00:00Z'), firstId = 1000): FakeRecord[] {
  return Array.from({ length: n }, (_, i) => ({ id: firstId + i, updated_at: new Date(startMs + ((i * 7919) % n) * 60_000).toISOString() }));
}
