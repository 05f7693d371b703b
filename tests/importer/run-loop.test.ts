import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { CommitTracker, createLatestWriter, decodeCursor } from '../../src/importer/checkpoint.js';
import { ImportError } from '../../src/importer/errors.js';
import { resolveImportOptions } from '../../src/importer/options.js';
import { nextWatermark, planRun, runResourceSync, type RunContext } from '../../src/importer/run.js';
import type { ImportOptions, ImportProgress } from '../../src/importer/types.js';
import { createFakeClient, createFakeStore, fakeTransformer, makeRecords } from './fakes.js';

const NOW = new Date('2024-06-01T00:00:00Z');

function context(client: RunContext['client'], store: RunContext['store'], progress: ImportProgress[] = []): RunContext {
  let n = 0;
  return {
    tenantId: 't1', client, store, transformer: fakeTransformer, logger: silentLogger,
    clock: () => NOW, sleep: async () => {}, newRunId: () => `run${++n}`,
    emitProgress: (e) => progress.push(e), runLockTtlMs: 60_000,
  };
}

const run = (ctx: RunContext, resource: 'customers' | 'orders', options: ImportOptions = {}) =>
  runResourceSync(ctx, resource, resolveImportOptions({ retryOptions: { retries: 2, minTimeout: 0 }, source: 'rest', ...options }));

describe('options', () => {
  it('applies the defaults (a batch of one page, 250 records) and rejects nonsense with the option name', () => {
    const o = resolveImportOptions();
    expect(o).toMatchObject({ batchSize: 250, concurrency: 3, skipExisting: false, dryRun: false, mode: 'auto', pageSize: 250, overlapMs: 300_000 });
    expect(o.retry).toEqual({ retries: 3, factor: 2, minTimeout: 1000, maxTimeout: 5000 });
    expect(() => resolveImportOptions({ batchSize: 0 })).toThrow(/batchSize/);
    expect(() => resolveImportOptions({ concurrency: 1.5 })).toThrow(/concurrency/);
    expect(() => resolveImportOptions({ pageSize: 251 })).toThrow(/pageSize/);
    expect(() => resolveImportOptions({ mode: 'sometimes' as never })).toThrow(/mode/);
    expect(() => resolveImportOptions({ dateRange: { from: 'yesterday' } })).toThrow(/dateRange.from/);
    expect(() => resolveImportOptions({ dateRange: { from: '2024-02-01', to: '2024-01-01' } })).toThrow(/after/);
  });
});

describe('CommitTracker', () => {
  it('advances only over a contiguous committed prefix', () => {
    const t = new CommitTracker(0n, null);
    const a = t.add(100n, 5), b = t.add(200n, 9), c = t.add(300n, 1);
    expect(t.complete(c)).toBe(false);
    expect(t.complete(b)).toBe(false);
    expect(t.committedId).toBe(0n);
    expect(t.complete(a)).toBe(true);
    expect(t.committedId).toBe(300n);
    expect(t.committedMaxUpdatedAt).toBe(9);
  });

  it('latest writer serialises and keeps only the newest pending value', async () => {
    const written: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const w = createLatestWriter<number>(async (v) => { if (v === 1) await gate; written.push(v); }, () => {});
    w.push(1); w.push(2); w.push(3);
    release();
    await w.flush();
    expect(written).toEqual([1, 3]);
  });

  describe('latest writer with a gap after a write', () => {
    afterEach(() => { vi.useRealTimers(); });
    const settle = async () => { for (let i = 0; i < 5; i++) await Promise.resolve(); };

    it('writes the newest value pushed during the gap once the gap is over, and nothing before', async () => {
      vi.useFakeTimers();
      const written: number[] = [];
      const w = createLatestWriter<number>(async (v) => { written.push(v); }, () => {});
      w.push(1, 1000);
      await settle();
      w.push(2, 1000); w.push(3, 1000);
      await vi.advanceTimersByTimeAsync(999);
      expect(written).toEqual([1]);
      await vi.advanceTimersByTimeAsync(1);
      expect(written).toEqual([1, 3]);
      await vi.advanceTimersByTimeAsync(1000);
      await w.flush();
      expect(written).toEqual([1, 3]);
    });

    it('a value pushed without a gap, or a flush, is written at once', async () => {
      vi.useFakeTimers();
      const written: number[] = [];
      const w = createLatestWriter<number>(async (v) => { written.push(v); }, () => {});
      w.push(1, 60_000);
      await settle();
      w.push(2, 60_000);
      w.push(3);
      await settle();
      expect(written).toEqual([1, 3]);
      w.push(4, 60_000);
      await settle();
      w.push(5, 60_000);
      await w.flush();
      expect(written).toEqual([1, 3, 4, 5]);
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});

describe('planning and watermark', () => {
  const o = resolveImportOptions();
  it('auto is full until a full sync completed, then incremental from watermark minus overlap', () => {
    expect(planRun(o, null, NOW).mode).toBe('full');
    const cp = { tenantId: 't1', resource: 'orders' as const, watermark: new Date('2024-05-01T00:00:00Z'), cursor: null, runId: null, fullSyncCompletedAt: new Date(), deletionsCheckedAt: null, deletionError: null, updatedAt: new Date() };
    const plan = planRun(o, cp, NOW);
    expect(plan.mode).toBe('incremental');
    expect(plan.updatedAtMin?.toISOString()).toBe('2024-04-30T23:55:00.000Z');
    expect(planRun(resolveImportOptions({ mode: 'full' }), cp, NOW).mode).toBe('full');
  });

  it('never moves the watermark past the start of the listing, nor backwards', () => {
    const start = new Date('2024-06-01T00:00:00Z');
    expect(nextWatermark(null, Date.parse('2024-07-01T00:00:00Z'), start)).toEqual(start);
    expect(nextWatermark(null, Date.parse('2024-05-01T00:00:00Z'), start)).toEqual(new Date('2024-05-01T00:00:00Z'));
    expect(nextWatermark(new Date('2024-05-10T00:00:00Z'), Date.parse('2024-05-01T00:00:00Z'), start)).toEqual(new Date('2024-05-10T00:00:00Z'));
    expect(nextWatermark(new Date('2024-05-10T00:00:00Z'), null, start)).toEqual(new Date('2024-05-10T00:00:00Z'));
  });
});

describe('run loop (fakes)', () => {
  it('full sync: every record written, batches bounded, concurrency bounded, run recorded, checkpoint completed', async () => {
    const records = makeRecords(1234);
    const { client, requests } = createFakeClient({ orders: records });
    const fake = createFakeStore({ beforeWrite: async (_r, ids) => { expect(ids.length).toBeLessThanOrEqual(250); await new Promise((r) => setTimeout(r, 2)); } });
    const progress: ImportProgress[] = [];
    const result = await run(context(client, fake.store, progress), 'orders', { concurrency: 2, pageSize: 50 });
    expect(result).toMatchObject({ status: 'succeeded', mode: 'full', fetched: 1234, imported: 1234, failed: 0, skipped: 0 });
    expect(fake.rows.orders.size).toBe(1234);
    expect(fake.maxInFlight()).toBeLessThanOrEqual(2);
    expect(fake.maxInFlight()).toBe(2);
    expect(requests[0].query).toMatchObject({ status: 'any', limit: 50, since_id: '0' });
    const cp = fake.checkpoints.get('orders')!;
    expect(cp.cursor).toBeNull();
    expect(cp.fullSyncCompletedAt).toEqual(NOW);
    expect(cp.watermark!.getTime()).toBe(Math.max(...records.map((r) => Date.parse(r.updated_at))));
    expect([...fake.runs.values()][0]).toMatchObject({ status: 'succeeded', fetched: 1234, imported: 1234, mode: 'full' });
    expect(fake.tenantStatus).toEqual(['running', 'idle']);
    expect(progress.at(-1)).toMatchObject({ done: true, fetched: 1234, imported: 1234, tenantId: 't1', resource: 'orders' });
    expect(progress.filter((p) => !p.done).length).toBeGreaterThanOrEqual(5);
  });

  it('a batch that keeps failing fails the run; the cursor never passes an uncommitted record; a rerun resumes and completes', async () => {
    const records = makeRecords(1000);
    let broken = true;
    const failing = new Set<bigint>([BigInt(records[537].id)]);
    const fake = createFakeStore({
      beforeWrite: async (_r, ids) => {
        await new Promise((r) => setTimeout(r, Math.random() * 4));
        if (broken && ids.some((id) => failing.has(id))) throw new Error('deadlock detected');
      },
    });
    const first = createFakeClient({ orders: records });
    const err = await run(context(first.client, fake.store), 'orders', { concurrency: 4, batchSize: 50 }).catch((e) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect(err.message).toMatch(/deadlock detected/);
    expect(err.result.status).toBe('failed');
    // Every saved cursor only covered records that were committed at that moment.
    for (const h of fake.checkpointHistory) {
      const c = decodeCursor(h.cursor);
      if (!c) continue;
      const committed = new Set(h.committedAtSave);
      for (const r of records) if (BigInt(r.id) <= BigInt(c.sinceId)) expect(committed.has(BigInt(r.id))).toBe(true);
    }
    const cursor = decodeCursor(fake.checkpoints.get('orders')!.cursor)!;
    expect(BigInt(cursor.sinceId)).toBeLessThan(BigInt(records[537].id));
    expect([...fake.runs.values()][0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/deadlock/) });
    expect(fake.tenantStatus.at(-1)).toBe('error');

    broken = false;
    const second = createFakeClient({ orders: records });
    const result = await run(context(second.client, fake.store), 'orders', { concurrency: 4, batchSize: 50 });
    expect(result).toMatchObject({ status: 'succeeded', resumed: true, mode: 'full' });
    expect(second.requests[0].query.since_id).toBe(cursor.sinceId);
    expect(result.fetched).toBe(records.filter((r) => BigInt(r.id) > BigInt(cursor.sinceId)).length);
    expect(fake.rows.orders.size).toBe(1000);
    expect(fake.checkpoints.get('orders')!.cursor).toBeNull();
    expect(fake.checkpoints.get('orders')!.fullSyncCompletedAt).toEqual(NOW);
  });

  it('closes the record of a run whose process died, wherever it died, so no run stays running', async () => {
    const records = makeRecords(120);
    const fake = createFakeStore();
    // Died after its record was written, before it saved any cursor.
    await fake.store.saveCheckpoint('t1', 'orders', { runId: 'dead' });
    await fake.store.startRun({ id: 'dead', tenantId: 't1', resource: 'orders', mode: 'full' });
    // The next run dies between naming itself in the checkpoint and writing its own record.
    const startRun = fake.store.startRun;
    fake.store.startRun = async () => { throw new Error('killed'); };
    await expect(run(context(createFakeClient({ orders: records }).client, fake.store), 'orders')).rejects.toThrow(/killed/);
    expect(fake.runs.get('dead')).toMatchObject({ status: 'cancelled', error: 'interrupted; followed by run run1' });
    expect(fake.checkpoints.get('orders')!.runId).toBe('run1');
    fake.store.startRun = startRun;

    let n = 0;
    const ctx = { ...context(createFakeClient({ orders: records }).client, fake.store), newRunId: () => `again${++n}` };
    await expect(run(ctx, 'orders')).resolves.toMatchObject({ status: 'succeeded', runId: 'again1' });
    expect([...fake.runs.values()].map((r) => [r.id, r.status])).toEqual([['dead', 'cancelled'], ['again1', 'succeeded']]);
    // A run that finished is never touched by the next one.
    await run({ ...ctx, newRunId: () => 'third' }, 'orders');
    expect(fake.runs.get('again1')).toMatchObject({ status: 'succeeded', error: null });
  });

  it('runs one sync per tenant and resource at a time: a second run fails at once and leaves no trace', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const fake = createFakeStore({ beforeWrite: (resource) => (resource === 'orders' ? gate : undefined) });
    const client = createFakeClient({ orders: makeRecords(50), customers: makeRecords(50) }).client;
    let n = 0;
    const ctx = { ...context(client, fake.store), newRunId: () => `run${++n}` };
    const first = run(ctx, 'orders');
    await vi.waitFor(() => expect(fake.runs.get('run1')?.status).toBe('running'));
    const checkpointBefore = fake.checkpoints.get('orders');

    const second = await run(ctx, 'orders').catch((e) => e);
    expect(second).toBeInstanceOf(ImportError);
    expect(second).toMatchObject({ code: 'IMPORT_ALREADY_RUNNING', details: { tenantId: 't1', resource: 'orders', runningRunId: 'run1' } });
    expect(second.message).toMatch(/orders sync of tenant t1 is already running \(run run1, locked until /);
    expect(fake.runs.has('run2')).toBe(false);
    expect(fake.checkpoints.get('orders')).toBe(checkpointBefore);
    expect(fake.runs.get('run1')?.status).toBe('running');
    // Another resource of the same tenant is not blocked.
    await expect(run(ctx, 'customers')).resolves.toMatchObject({ status: 'succeeded', runId: 'run3' });

    release();
    await expect(first).resolves.toMatchObject({ status: 'succeeded', runId: 'run1' });
    // Released when the run ended: the next one starts at once.
    expect(fake.locks.size).toBe(0);
    await expect(run(ctx, 'orders')).resolves.toMatchObject({ status: 'succeeded', runId: 'run4' });
  });

  it('waitForLockMs waits for the running sync to end, gives up after it, and stops waiting on abort', async () => {
    const fake = createFakeStore();
    const client = createFakeClient({ orders: makeRecords(20) }).client;
    let now = NOW.getTime();
    const sleeps: number[] = [];
    let onSleep: () => void = () => {};
    const ctx: RunContext = {
      ...context(client, fake.store), clock: () => new Date(now),
      sleep: async (ms) => { sleeps.push(ms); now += ms; onSleep(); },
    };
    const held = { runId: 'other', acquiredAt: now, expiresAt: now + 600_000 };
    fake.locks.set('orders', held);

    // The holder finishes (releases) while this run waits: it then starts.
    onSleep = () => { if (now - NOW.getTime() >= 5_000) fake.locks.delete('orders'); };
    await expect(run({ ...ctx, newRunId: () => 'waiter' }, 'orders', { waitForLockMs: 60_000 })).resolves.toMatchObject({ status: 'succeeded', runId: 'waiter' });
    expect(sleeps.length).toBe(5);
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(1000);

    // The holder outlasts the wait: refused once the wait is over, with nothing recorded.
    fake.locks.set('orders', { ...held, expiresAt: now + 600_000 });
    onSleep = () => {};
    sleeps.length = 0;
    const started = now;
    await expect(run({ ...ctx, newRunId: () => 'gave-up' }, 'orders', { waitForLockMs: 3_500 })).rejects.toMatchObject({ code: 'IMPORT_ALREADY_RUNNING' });
    expect(now - started).toBe(3_500);
    expect(fake.runs.has('gave-up')).toBe(false);

    // Aborted while waiting.
    const controller = new AbortController();
    onSleep = () => { if (sleeps.length === 2) controller.abort(); };
    sleeps.length = 0;
    await expect(run({ ...ctx, newRunId: () => 'aborted' }, 'orders', { waitForLockMs: 60_000, signal: controller.signal })).rejects.toMatchObject({ code: 'IMPORT_ABORTED' });
    expect(sleeps.length).toBe(2);
    expect(fake.locks.get('orders')?.runId).toBe('other');
    expect(() => resolveImportOptions({ waitForLockMs: -1 })).toThrow(/waitForLockMs/);
  });

  it('closes a dead windowed run once its lock expired: no run of any kind stays running', async () => {
    const fake = createFakeStore();
    await fake.store.startRun({ id: 'dead-window', tenantId: 't1', resource: 'orders', mode: 'incremental' });
    fake.locks.set('orders', { runId: 'dead-window', acquiredAt: NOW.getTime() - 120_000, expiresAt: NOW.getTime() - 60_000 });
    const result = await run(context(createFakeClient({ orders: makeRecords(10) }).client, fake.store), 'orders', { dateRange: { from: '2023-01-01T00:00:00Z' } });
    expect(result).toMatchObject({ status: 'succeeded', runId: 'run1' });
    expect(fake.runs.get('dead-window')).toMatchObject({ status: 'cancelled', error: 'interrupted; followed by run run1' });
  });

  it('stops with IMPORT_LOCK_LOST when another run took its lock, and a dry run takes no lock', async () => {
    const fake = createFakeStore({ beforeWrite: () => new Promise((r) => setTimeout(r, 30)) });
    const client = createFakeClient({ orders: makeRecords(2000) }).client;
    const ctx = { ...context(client, fake.store), runLockTtlMs: 150 };
    const running = run(ctx, 'orders', { pageSize: 50, batchSize: 50, concurrency: 1 }).catch((e) => e);
    await vi.waitFor(() => expect(fake.runs.get('run1')).toBeDefined());
    expect(fake.locks.get('orders')?.runId).toBe('run1');
    // As if this process had stalled past the TTL and another one had taken over.
    fake.locks.set('orders', { runId: 'thief', acquiredAt: NOW.getTime(), expiresAt: NOW.getTime() + 60_000 });
    const error = await running;
    expect(error).toMatchObject({ code: 'IMPORT_LOCK_LOST' });
    expect(error.result.fetched).toBeLessThan(2000);
    expect(fake.runs.get('run1')).toMatchObject({ status: 'failed', error: expect.stringMatching(/run lock was taken by another run/) });
    // The thief's lock is left alone.
    expect(fake.locks.get('orders')?.runId).toBe('thief');
    // A dry run writes nothing, so it needs no lock.
    await expect(run({ ...ctx, newRunId: () => 'dry' }, 'orders', { dryRun: true })).resolves.toMatchObject({ status: 'succeeded', dryRun: true, runId: 'dry' });
  });

  it('a run whose lock was taken before it noticed cannot write its checkpoint over the new holder\'s', async () => {
    // The renewal that would notice never comes (60 s TTL); the write itself is fenced by the lock.
    const fake = createFakeStore({ beforeWrite: () => new Promise((r) => setTimeout(r, 10)) });
    const client = createFakeClient({ orders: makeRecords(600) }).client;
    const running = run({ ...context(client, fake.store), runLockTtlMs: 60_000 }, 'orders', { pageSize: 50, batchSize: 50, concurrency: 1 }).catch((e) => e);
    await vi.waitFor(() => expect(fake.checkpointHistory.filter((h) => typeof h.cursor === 'string').length).toBeGreaterThan(0));
    // Another process took over (this one stalled past the TTL) and wrote its own checkpoint.
    fake.locks.set('orders', { runId: 'thief', acquiredAt: NOW.getTime(), expiresAt: NOW.getTime() + 60_000 });
    await fake.store.saveCheckpoint('t1', 'orders', { cursor: 'thief-cursor', runId: 'thief' }, { heldBy: 'thief' });
    const writes = fake.checkpointHistory.length;
    const error = await running;
    expect(error).toMatchObject({ code: 'IMPORT_LOCK_LOST' });
    expect(error.result.fetched).toBeLessThan(600);
    expect(fake.checkpointHistory.length).toBe(writes);
    expect(fake.checkpoints.get('orders')).toMatchObject({ cursor: 'thief-cursor', runId: 'thief', watermark: null, fullSyncCompletedAt: null });
    expect(fake.runs.get('run1')).toMatchObject({ status: 'failed', errorCode: 'IMPORT_LOCK_LOST' });
    expect(fake.locks.get('orders')?.runId).toBe('thief');
  });

  it('a listing error mid-way fails the run and keeps the committed cursor', async () => {
    const records = makeRecords(600);
    const fake = createFakeStore();
    const { client } = createFakeClient({ orders: records }, { failAfterPages: 3 });
    await expect(run(context(client, fake.store), 'orders', { pageSize: 100, batchSize: 100 })).rejects.toThrow(/connection reset/);
    const cursor = decodeCursor(fake.checkpoints.get('orders')!.cursor)!;
    expect(cursor.sinceId).toBe(String(records[299].id));
  });

  it('a listing that ends before Shopify\'s count fails as LISTING_INCOMPLETE instead of reporting a partial store as complete', async () => {
    const records = makeRecords(600);
    const fake = createFakeStore();
    const { client } = createFakeClient({ orders: records }, { endAfterPages: 3, counts: {} });
    await expect(run(context(client, fake.store), 'orders', { pageSize: 100, batchSize: 100 })).rejects.toMatchObject({ code: 'LISTING_INCOMPLETE', cause: { details: { fetched: 300, countBefore: 600, countAfter: 600 } } });
    expect(fake.checkpoints.get('orders')!.fullSyncCompletedAt ?? null).toBeNull();
    // What was committed stays: the rerun resumes after it (no count check: it lists the rest only).
    expect(decodeCursor(fake.checkpoints.get('orders')!.cursor)!.sinceId).toBe(String(records[299].id));
  });

  it('a complete listing passes the count check, and a count that grew during the listing is not an error', async () => {
    const fake = createFakeStore();
    const { client, requests } = createFakeClient({ orders: makeRecords(250) }, { counts: { offsetByCall: [0, 5] } });
    await expect(run(context(client, fake.store), 'orders', { pageSize: 100, batchSize: 100 })).resolves.toMatchObject({ status: 'succeeded', fetched: 250 });
    expect(requests.filter((r) => r.path === '/orders/count.json')).toHaveLength(2);
    expect(requests.find((r) => r.path === '/orders/count.json')!.query).toMatchObject({ status: 'any' });
  });

  it('transient write errors are retried', async () => {
    let failures = 3;
    const fake = createFakeStore({ beforeWrite: () => { if (failures-- > 0) throw new Error('ECONNRESET'); } });
    const { client } = createFakeClient({ orders: makeRecords(300) });
    const result = await run(context(client, fake.store), 'orders', { retryOptions: { retries: 3, minTimeout: 0 } });
    expect(result.imported).toBe(300);
  });

  it('a record that cannot be transformed is recorded with its id and reason, the rest is imported', async () => {
    const records = makeRecords(250);
    records[10].bad = true;
    records[200].bad = true;
    const fake = createFakeStore();
    const { client } = createFakeClient({ customers: records });
    const result = await run(context(client, fake.store), 'customers');
    expect(result).toMatchObject({ status: 'succeeded', fetched: 250, imported: 248, failed: 2, errors: 2 });
    expect(fake.failures.map((f) => f.shopifyId)).toEqual([BigInt(records[10].id), BigInt(records[200].id)]);
    expect(fake.failures[0].reason).toMatch(/malformed/);
  });

  it('dryRun fetches and transforms but writes nothing', async () => {
    const records = makeRecords(300);
    records[5].bad = true;
    const fake = createFakeStore();
    const { client } = createFakeClient({ customers: records });
    const result = await run(context(client, fake.store), 'customers', { dryRun: true });
    expect(result).toMatchObject({ dryRun: true, fetched: 300, imported: 299, failed: 1 });
    expect(fake.rows.customers.size).toBe(0);
    expect(fake.runs.size).toBe(0);
    expect(fake.checkpoints.size).toBe(0);
    expect(fake.failures).toHaveLength(0);
    expect(fake.tenantStatus).toHaveLength(0);
  });

  it('incremental after a full sync lists from the watermark minus the overlap; skipExisting skips stored ids', async () => {
    const records = makeRecords(500);
    const fake = createFakeStore();
    await run(context(createFakeClient({ orders: records }).client, fake.store), 'orders');
    const watermark = fake.checkpoints.get('orders')!.watermark!;
    records[3].updated_at = new Date(watermark.getTime() + 60_000).toISOString();
    records.push({ id: 99_999, updated_at: new Date(watermark.getTime() + 120_000).toISOString() });
    const second = createFakeClient({ orders: records });
    const result = await run(context(second.client, fake.store), 'orders', { skipExisting: true });
    expect(result.mode).toBe('incremental');
    expect(second.requests[0].query.updated_at_min).toBe(new Date(watermark.getTime() - 300_000).toISOString());
    expect(result.fetched).toBeLessThan(20);
    expect(result.skipped).toBe(result.fetched - 1);
    expect(result.imported).toBe(1);
    expect(fake.rows.orders.has(99_999n)).toBe(true);
  });

  it('a dateRange run filters by updated_at and leaves the checkpoint alone', async () => {
    const records = makeRecords(100);
    const fake = createFakeStore();
    const { client, requests } = createFakeClient({ orders: records });
    const [from, to] = [records[10].updated_at, records[20].updated_at].sort();
    const result = await run(context(client, fake.store), 'orders', { dateRange: { from, to } });
    expect(requests[0].query).toMatchObject({ updated_at_min: new Date(from).toISOString(), updated_at_max: new Date(to).toISOString() });
    expect(result.fetched).toBe(records.filter((r) => r.updated_at >= from && r.updated_at <= to).length);
    expect(fake.checkpoints.size).toBe(0);
  });

  it('abort stops the run as cancelled, keeping the committed cursor', async () => {
    const controller = new AbortController();
    const fake = createFakeStore();
    const { client } = createFakeClient({ orders: makeRecords(1000) });
    const logged: Array<[string, string]> = [];
    const logger = { ...silentLogger, error: (m: string) => { logged.push(['error', m]); }, warn: (m: string) => { logged.push(['warn', m]); } };
    const ctx = { ...context(client, fake.store), logger };
    const err = await runResourceSync(ctx, 'orders', resolveImportOptions({ pageSize: 100, signal: controller.signal, source: 'rest' }), (p) => { if (p.fetched >= 300) controller.abort(); }).catch((e) => e);
    expect(err.code).toBe('IMPORT_ABORTED');
    expect([...fake.runs.values()][0].status).toBe('cancelled');
    // A cancelled run is not reported as a failure (the CLI's Ctrl-C printed "sync failed" first).
    expect(logged.filter(([level]) => level === 'error')).toEqual([]);
    expect(logged).toContainEqual(['warn', 'sync cancelled; the checkpoint keeps the last committed position']);
    expect(fake.tenantStatus).toEqual(['running', 'idle']);
    expect(decodeCursor(fake.checkpoints.get('orders')!.cursor)).not.toBeNull();
  });
});

describe('lookahead', () => {
  it('requests the next page while the current one is handled, and closes the source when stopped early', async () => {
    const { lookahead } = await import('../../src/importer/lookahead.js');
    const log: string[] = [];
    async function* source() {
      try {
        for (let i = 0; i < 5; i++) { log.push(`fetch ${i}`); yield i; }
      } finally { log.push('closed'); }
    }
    for await (const page of lookahead(source())) {
      log.push(`handle ${page}`);
      if (page === 2) break;
    }
    expect(log).toEqual(['fetch 0', 'fetch 1', 'handle 0', 'fetch 2', 'handle 1', 'fetch 3', 'handle 2', 'closed']);
  });

  it('surfaces an error of the prefetched page', async () => {
    const { lookahead } = await import('../../src/importer/lookahead.js');
    async function* source() { yield 1; throw new Error('page 2 failed'); }
    const seen: number[] = [];
    await expect((async () => { for await (const p of lookahead(source())) seen.push(p); })()).rejects.toThrow('page 2 failed');
    expect(seen).toEqual([1]);
  });

  it('timed: each page carries the time its request began, also when asked for ahead, and closing still closes the source', async () => {
    const { lookahead, timed } = await import('../../src/importer/lookahead.js');
    let now = 0;
    const clock = () => new Date(now);
    const requestedAt: number[] = [];
    const log: string[] = [];
    async function* source() {
      try {
        for (let i = 0; i < 4; i++) {
          requestedAt.push(now);
          // The request takes 100 ms; its page is handled later still.
          now += 100;
          yield i;
        }
      } finally { log.push('closed'); }
    }
    const seen: Array<[number, number]> = [];
    for await (const { value, sentAt } of lookahead(timed(source(), clock))) {
      seen.push([value, sentAt.getTime()]);
      now += 1_000; // handling the page
      if (value === 2) break;
    }
    expect(seen).toEqual([[0, requestedAt[0]], [1, requestedAt[1]], [2, requestedAt[2]]]);
    // Page 1 was asked for while page 0 was handled: stamped then, not when it was handed over.
    expect(requestedAt.slice(0, 3)).toEqual([0, 100, 1_200]);
    expect(log).toEqual(['closed']);
  });
});
