import { describe, expect, it } from 'vitest';
import { BatchPipeline, type Batch } from '../../src/importer/pipeline.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('BatchPipeline', () => {
  it('reports only the contiguous committed prefix, whatever order batches finish in', async () => {
    const committed: number[] = [];
    const delays = [30, 5, 15, 1];
    let k = 0;
    const p = new BatchPipeline<number>({ batchSize: 2, concurrency: 4, write: async () => { await tick(delays[k++ % 4]); }, onCommitted: (pos) => committed.push(pos) });
    for (let i = 1; i <= 8; i++) await p.add({ rows: {}, records: 1, position: i });
    await p.close();
    expect(committed.at(-1)).toBe(8);
    expect([...committed].sort((a, b) => a - b)).toEqual(committed);
  });

  it('holds a batch whose unit requires a parent until the batch providing it committed', async () => {
    const log: string[] = [];
    const p = new BatchPipeline<number>({
      batchSize: 1, concurrency: 3, childLines: true,
      write: async (b: Batch<number>) => {
        log.push(`start ${b.position}`);
        await tick(b.position === 1 ? 40 : 1);
        log.push(`end ${b.position}`);
      },
      onCommitted: () => {},
    });
    // Batch 1: record 1. Batch 2: record 2 and a child of record 1. Batch 3: record 4 and a child of a parent long committed.
    await p.add({ rows: {}, records: 1, position: 1, provides: 100n });
    await p.add({ rows: {}, records: 1, position: 2 });
    await p.add({ rows: {}, records: 0, position: 3, requires: 100n });
    await p.add({ rows: {}, records: 1, position: 4 });
    await p.add({ rows: {}, records: 0, position: 5, requires: 555n });
    await p.close();
    expect(log.indexOf('start 3')).toBeGreaterThan(log.indexOf('end 1'));
    // A child whose parent is not in flight is not held.
    expect(log.indexOf('end 5')).toBeLessThan(log.indexOf('end 1'));
  });

  it('with child lines, keeps the children that follow a record in its batch, and cuts a long run of them', async () => {
    const batches: number[][] = [];
    const p = new BatchPipeline<number>({ batchSize: 2, concurrency: 1, childLines: true, write: async (b) => { batches.push(b.units.map((u) => u.position)); }, onCommitted: () => {} });
    const units = [[1, 1], [2, 0], [3, 1], [4, 0], [5, 0], [6, 1], [7, 0]];
    for (const [position, records] of units) await p.add({ rows: {}, records, position });
    for (let i = 8; i < 20; i++) await p.add({ rows: {}, records: 0, position: i });
    await p.close();
    expect(batches[0]).toEqual([1, 2, 3, 4, 5]);
    expect(batches[1]).toEqual([6, 7, 8, 9, 10, 11, 12, 13]);
    expect(batches.flat()).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
  });

  it('applies backpressure: never more than `concurrency` writes at once', async () => {
    let inFlight = 0;
    let max = 0;
    const p = new BatchPipeline<number>({ batchSize: 1, concurrency: 2, write: async () => { inFlight++; max = Math.max(max, inFlight); await tick(2); inFlight--; }, onCommitted: () => {} });
    for (let i = 0; i < 20; i++) await p.add({ rows: {}, records: 1, position: i });
    await p.close();
    expect(max).toBe(2);
  });

  it('stops at the first failed write and never reports a position past it', async () => {
    const committed: number[] = [];
    const p = new BatchPipeline<number>({ batchSize: 1, concurrency: 1, write: async (b) => { if (b.position === 3) throw new Error('boom'); }, onCommitted: (pos) => committed.push(pos) });
    for (let i = 1; i <= 5; i++) await p.add({ rows: {}, records: 1, position: i });
    await expect(p.close()).rejects.toThrow('boom');
    expect(Math.max(...committed)).toBe(2);
  });

  it('never counts as committed a batch that waited for its parents and was not written because a later batch failed', async () => {
    const written: number[] = [];
    const committed: number[] = [];
    let releaseParent!: () => void;
    const parentWritten = new Promise<void>((r) => { releaseParent = r; });
    const p = new BatchPipeline<number>({
      batchSize: 1, concurrency: 3, childLines: true,
      async write(b) {
        if (b.position === 1) await parentWritten; // the parents' batch is slow
        if (b.position === 3) throw new Error('boom'); // a later batch fails meanwhile
        written.push(b.position);
      },
      onCommitted: (pos) => committed.push(pos),
    });
    await p.add({ rows: {}, records: 1, position: 1, provides: 100n });
    await p.add({ rows: {}, records: 1, position: 2, requires: 100n }); // waits for batch 1
    await p.add({ rows: {}, records: 1, position: 3 });
    await p.add({ rows: {}, records: 1, position: 4 }); // dispatches batch 3, which fails
    await tick(20);
    releaseParent();
    await expect(p.close()).rejects.toThrow('boom');
    expect(written).toEqual([1]);
    // Batch 2 was never written: the resume position must stay before it.
    expect(committed).toEqual([1]);
  });
});
