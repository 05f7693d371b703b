import { describe, expect, it } from 'vitest';
import { createImportService, ImportError, ImportService, type ImportProgress } from '../../src/importer/index.js';
import type { PrismaLike } from '../../src/store/prisma-like.js';
import { createFakeClient, createFakeStore, fakeTransformer, makeRecords } from './fakes.js';

const prisma = {} as PrismaLike;

describe('ImportService (fakes)', () => {
  it('validates its inputs at construction', () => {
    const { client } = createFakeClient({});
    expect(() => createImportService(prisma, client, '')).toThrow(/tenant id/);
    expect(() => createImportService(prisma, {} as never, 't1')).toThrow(/pages\(\)/);
    expect(createImportService(prisma, client, 't1', { store: createFakeStore().store, transformer: fakeTransformer })).toBeInstanceOf(ImportService);
  });

  it('emits progress to on() listeners and the onProgress option; unsubscribe works; stats sum the session', async () => {
    const fake = createFakeStore();
    const { client } = createFakeClient({ customers: makeRecords(120), products: makeRecords(10), orders: makeRecords(300) });
    const fromOption: ImportProgress[] = [];
    const fromOn: ImportProgress[] = [];
    const service = createImportService(prisma, client, 't1', { store: fake.store, transformer: fakeTransformer, onProgress: (p) => fromOption.push(p), sleep: async () => {}, defaults: { source: 'rest' } });
    const off = service.on('progress', (p) => fromOn.push(p));
    const all = await service.importAll({ batchSize: 50 });
    expect(all.orders.imported).toBe(300);
    expect(fromOn.filter((p) => p.done).map((p) => p.resource)).toEqual(['customers', 'products', 'orders']);
    expect(fromOption).toHaveLength(fromOn.length);
    off();
    await service.importOrders();
    expect(fromOn.filter((p) => p.done)).toHaveLength(3);
    const stats = await service.getImportStats();
    expect(stats.session.runs).toBe(4);
    expect(stats.session.fetched).toBe(120 + 10 + 300 + fromOption.at(-1)!.fetched);
    expect(stats.records).toMatchObject({ customers: 120, products: 10, orders: 300 });
    expect(stats.orders.lastRun?.status).toBe('succeeded');
  });

  it('importAll runs every resource even when one fails, then throws with all results', async () => {
    const fake = createFakeStore({ beforeWrite: (resource) => { if (resource === 'products') throw new Error('disk full'); } });
    const { client } = createFakeClient({ customers: makeRecords(20), products: makeRecords(5), orders: makeRecords(30) });
    const service = createImportService(prisma, client, 't1', { store: fake.store, transformer: fakeTransformer, sleep: async () => {}, defaults: { retryOptions: { retries: 1, minTimeout: 0 }, source: 'rest' } });
    const err = await service.importAll().catch((e) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect(err.message).toMatch(/disk full/);
    expect(err.details.results.customers.status).toBe('succeeded');
    expect(err.details.results.products.status).toBe('failed');
    expect(err.details.results.orders.status).toBe('succeeded');
    expect(fake.rows.orders.size).toBe(30);
  });

  it('rejects invalid options before touching anything', async () => {
    const fake = createFakeStore();
    const { client, requests } = createFakeClient({ orders: makeRecords(5) });
    const service = createImportService(prisma, client, 't1', { store: fake.store, transformer: fakeTransformer, defaults: { source: 'rest' } });
    await expect(service.importOrders({ concurrency: 0 })).rejects.toThrow(/concurrency/);
    expect(requests).toHaveLength(0);
    expect(fake.runs.size).toBe(0);
  });
});
