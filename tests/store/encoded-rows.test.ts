/**
 * Rows encoded as COPY text when read (src/store/encoded-rows.ts): the same bytes as the batch
 * encoder's; count columns set in place; a slab is reused only once every row in it was released,
 * so no row's bytes ever change under it (seeded: ENCODED_SEED=<n> replays a run); and a database
 * that cannot stream COPY gets no encoder.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, ChunkPool, copyChunks } from '../../src/store/copy-stage.js';
import { col, type ColumnSpec } from '../../src/store/columns.js';
import { areEncoded, encodedChunks, EncodedRow, parentIdOfRow, releaseEncoded, RowEncoder, SlabPool } from '../../src/store/encoded-rows.js';
import { createSyncedDataStore } from '../../src/store/synced-data.js';
import { createDatabaseHandle } from '../../src/store/database-handle.js';
import { createRandom } from '../../src/testing/prng.js';
import type { ChildTableDefinition, ResourceDefinition, TableDefinition } from '../../src/resources/definition.js';

type Order = { tenantId: string; id: bigint; shopifyUpdatedAt: Date; deletedAt: Date | null; note: string | null; lineItemCount: number | null; syncTag: string };
type Item = { tenantId: string; id: bigint; orderId: bigint; title: string; syncTag: string };

const root = {
  key: 'orders', table: 'x_orders', conflict: ['id'], versioned: true, syncedAt: false,
  columns: [
    col<Order>('id', 'bigint', (r) => r.id),
    col<Order>('note', 'text', (r) => r.note),
    col<Order>('line_item_count', 'integer', (r) => r.lineItemCount),
    col<Order>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
  ],
} as unknown as TableDefinition;
const items = {
  key: 'lineItems', table: 'x_items', conflict: ['id'], versioned: false, syncedAt: false, parent: 'orders', parentColumn: 'order_id',
  parentIdOf: (r: Item) => r.orderId, whenMissing: 'delete', bulkType: 'LineItem', countColumn: 'line_item_count', countKey: 'lineItemCount',
  columns: [col<Item>('id', 'bigint', (r) => r.id), col<Item>('order_id', 'bigint', (r) => r.orderId), col<Item>('title', 'text', (r) => r.title)],
} as unknown as ChildTableDefinition;
const resource = { name: 'orders', root, children: [items] } as unknown as ResourceDefinition;
const columnsOf = (t: TableDefinition) => t.columns as readonly ColumnSpec<unknown>[];

const text = (chunks: Iterable<Buffer>) => Buffer.concat([...chunks]).toString('utf8');
const order = (id: number, note: string | null, count: number | null = null): Order => ({
  tenantId: 't1', id: BigInt(id), shopifyUpdatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, id % 60)), deletedAt: null, note, lineItemCount: count, syncTag: 'op1',
});

describe('encoded rows', () => {
  it('hold the bytes the batch encoder writes, and the values the writer reads', () => {
    const encoder = new RowEncoder(resource, new SlabPool(), { columnsOf });
    const rows = [order(1, 'plain', 3), order(2, 'tab\there, newline\nand \\ back 東京 😀'), order(3, null)];
    const encoded = rows.map((r) => encoder.encode('orders', r));
    expect(text(encodedChunks(encoded, 64))).toBe(text(copyChunks(root.columns, rows)));
    expect(text(encodedChunks(encoded, 64 * 1024, 't1\t'))).toBe(text(copyChunks(root.columns, rows)).split('\n').filter(Boolean).map((l) => `t1\t${l}\n`).join(''));
    // With a chunk pool: the pool's buffers, the same text; a buffer given back is taken again.
    const pool = new ChunkPool();
    const pooled = [...encodedChunks(encoded, CHUNK_BYTES, '', pool)];
    expect(text(pooled)).toBe(text(copyChunks(root.columns, rows, pool)));
    expect(pool.allocated).toBe(2);
    pooled.forEach((chunk) => pool.give(chunk));
    pool.give(Buffer.alloc(10)); // not the pool's size: ignored
    expect(pool.size).toBe(1);
    expect([...encodedChunks(encoded, CHUNK_BYTES, '', pool)][0].buffer).toBe(pooled[0].buffer);
    expect(pool.allocated).toBe(2);
    expect(encoded[1]).toMatchObject({ id: 2n, tenantId: 't1', deletedAt: null, shopifyUpdatedAt: rows[1].shopifyUpdatedAt, key: '2' });
    // No sync_tag or observed_at column in this table: nothing to read.
    expect(encoded[1].syncTag).toBeUndefined();
    expect(encoded[1].observedAt).toBeUndefined();
    // A key of several columns is read back from the bytes: equal for equal keys, whatever the other columns hold.
    const byTitle = new RowEncoder({ ...resource, children: [{ ...items, conflict: ['order_id', 'title'] }] } as unknown as ResourceDefinition, new SlabPool(), { columnsOf });
    const a = byTitle.encode('lineItems', { tenantId: 't1', id: 10n, orderId: 1n, title: 'a\tb 東京', syncTag: 'op1' });
    const b = byTitle.encode('lineItems', { tenantId: 't1', id: 11n, orderId: 1n, title: 'a\tb 東京', syncTag: 'op1' });
    const c = byTitle.encode('lineItems', { tenantId: 't1', id: 10n, orderId: 1n, title: 'a b 東京', syncTag: 'op1' });
    expect(a.key).toBe(b.key);
    expect(a.key).not.toBe(c.key);
    expect(a.key).toBe('1\ta\\tb 東京');
    const item = encoder.encode('lineItems', { tenantId: 't1', id: 10n, orderId: 1n, title: 'x', syncTag: 'op1' });
    expect(parentIdOfRow(items, item)).toBe(1n);
    expect(parentIdOfRow(items, { orderId: 7n })).toBe(7n);
    expect(areEncoded(encoded)).toBe(true);
    expect(areEncoded(rows)).toBe(false);
    expect(areEncoded([])).toBe(false);
  });

  it('set a padded count column in place, which PostgreSQL reads as the number', () => {
    const encoder = new RowEncoder(resource, new SlabPool(), { columnsOf, counted: ['lineItems'] });
    const row = encoder.encode('orders', order(5, 'n', null));
    expect(row.bytes().toString()).toBe(`5\tn\t0000000000\t${order(5, 'n').shopifyUpdatedAt.toISOString()}\n`);
    row.setCount(0, 42);
    expect(row.bytes().toString()).toBe(`5\tn\t0000000042\t${order(5, 'n').shopifyUpdatedAt.toISOString()}\n`);
    expect(() => row.setCount(1, 1)).toThrow(/no count column 1/);
    expect(() => row.setCount(0, 1e11)).toThrow(/does not fit/);
    expect(() => new RowEncoder({ ...resource, children: [{ ...items, countColumn: undefined }] } as unknown as ResourceDefinition, new SlabPool(), { columnsOf, counted: ['lineItems'] })).toThrow(/no count column/);
    // Without counted tables a row has no count column to set.
    expect(() => new RowEncoder(resource, new SlabPool(), { columnsOf }).encode('orders', order(5, 'n')).setCount(0, 1)).toThrow(/no count column 0/);
    // Two counted tables: each count is set in its own column, the k-th key's in the k-th.
    const withNotes = {
      ...root,
      columns: [...root.columns, col<Order & { noteCount?: number }>('note_count', 'integer', (r) => r.noteCount ?? null)],
    } as unknown as TableDefinition;
    const notes = { ...items, key: 'notes', table: 'x_notes', bulkType: 'Note', countColumn: 'note_count', countKey: 'noteCount' };
    const two = new RowEncoder({ ...resource, root: withNotes, children: [items, notes] } as unknown as ResourceDefinition, new SlabPool(), { columnsOf, counted: ['notes', 'lineItems'] });
    const both = two.encode('orders', order(6, 'n'));
    both.setCount(0, 7);
    both.setCount(1, 12);
    expect(both.bytes().toString()).toBe(`6\tn\t0000000012\t${order(6, 'n').shopifyUpdatedAt.toISOString()}\t0000000007\n`);
    expect(() => both.setCount(2, 1)).toThrow(/no count column 2/);
  });

  it('keep updated_at as a number, and give it back as an equal Date (none for an unversioned row)', () => {
    const encoder = new RowEncoder(resource, new SlabPool(), { columnsOf });
    const row = encoder.encode('orders', order(7, 'n'));
    expect(row.shopifyUpdatedAt).toEqual(order(7, 'n').shopifyUpdatedAt);
    expect(row.shopifyUpdatedAt).not.toBe(row.shopifyUpdatedAt);
    expect(encoder.encode('lineItems', { tenantId: 't1', id: 10n, orderId: 7n, title: 'x', syncTag: 'op1' }).shopifyUpdatedAt).toBeUndefined();
  });

  it('read the values the writer needs back from their bytes, and keep no tenant but the encoder\'s', () => {
    type Full = Order & { observedAt: Date | null; parentTag: string };
    const full = {
      ...root,
      columns: [
        col<Full>('note', 'text', (r) => r.note),
        col<Full>('id', 'bigint', (r) => r.id),
        col<Full>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
        col<Full>('deleted_at', 'timestamptz', (r) => r.deletedAt),
        col<Full>('observed_at', 'timestamptz', (r) => r.observedAt),
        col<Full>('sync_tag', 'text', (r) => r.syncTag),
      ],
    } as unknown as TableDefinition;
    const encoder = new RowEncoder({ ...resource, root: full } as unknown as ResourceDefinition, new SlabPool(), { columnsOf });
    const big = 2n ** 63n - 1n;
    const deleted = new Date(Date.UTC(2026, 5, 1, 12, 30, 45, 678));
    const observed = new Date(Date.UTC(2026, 5, 2));
    const a = encoder.encode('orders', { ...order(1, 'tab\there\\N'), id: big, deletedAt: deleted, observedAt: observed, syncTag: 'op\t1\\x\n' });
    const b = encoder.encode('orders', { ...order(2, null), observedAt: null, syncTag: null });
    expect(a.id).toBe(big);
    expect(a.id).toBe(a.id);
    expect(a.shopifyUpdatedAt).toEqual(order(1, '').shopifyUpdatedAt);
    expect(a.deletedAt).toEqual(deleted);
    expect(a.observedAt).toEqual(observed);
    expect(a.syncTag).toBe('op\t1\\x\n');
    expect(a.parentId).toBeUndefined();
    expect([b.id, b.deletedAt, b.observedAt, b.syncTag]).toEqual([2n, null, null, null]);
    // Children read their parent id from their own column.
    const item = encoder.encode('lineItems', { tenantId: 't1', id: 10n, orderId: big, title: '\\N', syncTag: 'op1' });
    expect(item.parentId).toBe(big);
    expect([item.shopifyUpdatedAt, item.deletedAt, item.observedAt]).toEqual([undefined, null, undefined]);
    expect(item.tenantId).toBe('t1');
    // A row of another tenant is refused when encoded, with the writer's own error.
    expect(() => encoder.encode('orders', { ...order(3, null), tenantId: 't2' })).toThrow(expect.objectContaining({ code: 'TENANT_MISMATCH' }));
    // An encoded row is small: no id, date or tag is kept as an object of its own until read.
    const fresh = encoder.encode('orders', order(4, 'n'));
    expect(Object.values(fresh).filter((v) => typeof v === 'bigint' || v instanceof Date || typeof v === 'string')).toEqual([]);
  });

  it('never reuse bytes of a row not released; reuse a slab once all its rows are released', () => {
    const seed = Number(process.env.ENCODED_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`encoded rows: ENCODED_SEED=${seed}`);
    const rand = createRandom(seed);
    const pool = new SlabPool();
    const encoder = new RowEncoder(resource, pool, { columnsOf });
    const live: Array<{ row: EncodedRow; expected: string }> = [];
    let encodedBytes = 0;
    let target = 0;
    let longRows = 0;
    for (let n = 0; n < 20_000; n++) {
      // Rows from a few bytes to more than a slab (256 KB): a long one gets a slab of its own.
      const long = rand() < 0.002;
      if (long) longRows++;
      const note = 'é'.repeat(long ? 100_000 + Math.floor(rand() * 100_000) : Math.floor(rand() * 2_000));
      const source = order(n, note, n);
      const row = encoder.encode('orders', source);
      const expected = text(copyChunks(root.columns, [source]));
      encodedBytes += Buffer.byteLength(expected);
      live.push({ row, expected });
      // Release rows in any order (batches commit out of order, the regroup window holds some long)
      // once more than a moving target are live: slabs are left partly live.
      if (n % 500 === 0) target = 50 + Math.floor(rand() * 1_500);
      while (live.length > target) {
        const [gone] = live.splice(Math.floor(rand() * live.length), 1);
        expect(gone.row.bytes().toString()).toBe(gone.expected);
        // Copied out (as the write path does): the same line, at the place asked, its length returned.
        const copy = Buffer.alloc(gone.row.byteLength + 3, '#');
        expect(gone.row.copyTo(copy, 2)).toBe(Buffer.byteLength(gone.expected));
        expect(copy.toString()).toBe(`##${gone.expected}#`);
        gone.row.release();
        gone.row.release(); // twice: no effect
        expect(() => gone.row.bytes()).toThrow(/after it was released/);
        expect(() => gone.row.copyTo(copy, 0)).toThrow(/after it was released/);
      }
      if (n % 997 === 0) for (const entry of live) expect(entry.row.bytes().toString()).toBe(entry.expected);
    }
    for (const entry of live) expect(entry.row.bytes().toString()).toBe(entry.expected);
    releaseEncoded({ orders: live.map((e) => e.row) });
    for (const entry of live) expect(() => entry.row.bytes()).toThrow(/after it was released/);
    // Slabs were reused: far fewer allocated than the bytes encoded would need.
    const needed = encodedBytes / (256 * 1024);
    expect(needed).toBeGreaterThan(20);
    expect(pool.allocated - longRows).toBeLessThan(needed / 3);
    expect(pool.freeSlabs).toBeGreaterThan(0);
  });

  it('are only made for a database whose writes stream COPY', () => {
    const prismaOnly = { $queryRawUnsafe: async () => [], $executeRawUnsafe: async () => 0 };
    expect(createSyncedDataStore(createDatabaseHandle(prismaOnly as never)).rowEncoder('orders')).toBeNull();
    const withPool = createDatabaseHandle(prismaOnly as never, { pool: { query: async () => ({ rows: [], rowCount: 0 }), connect: async () => ({}) as never } });
    expect(createSyncedDataStore(withPool).rowEncoder('orders', ['lineItems'])).toBeInstanceOf(RowEncoder);
    const clientOnly = createDatabaseHandle(prismaOnly as never, { pool: { query: async () => ({ rows: [], rowCount: 0 }) } });
    expect(createSyncedDataStore(clientOnly).rowEncoder('orders')).toBeNull();
  });
});
