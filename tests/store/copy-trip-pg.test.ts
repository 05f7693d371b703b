/**
 * copyInOneTrip (src/store/copy-trip.ts) against PostgreSQL: a batch's statements and its tables'
 * COPYs as one Query message with the data sent behind it. Every row arrives whole and in order
 * however often the socket asks the writer to wait; the statements around the COPYs run in order;
 * a COPY PostgreSQL refuses, or a source that fails, leaves nothing of the trip applied, the
 * transaction failed (a ROLLBACK ends it) and the connection usable; a connection killed
 * mid-trip rejects instead of hanging.
 */
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { copyInOneTrip, type TripCopy } from '../../src/store/copy-trip.js';
import { CHUNK_BYTES, ChunkPool, type PgSessionClient } from '../../src/store/copy-stage.js';
import type { ColumnSpec } from '../../src/store/columns.js';
import { testDatabaseConfig } from '../helpers/pg-config.js';

type Row = { id: number; body: string };
const columns = [
  { column: 'id', type: 'integer', value: (r: Row) => r.id },
  { column: 'body', type: 'text', value: (r: Row) => r.body },
] as unknown as readonly ColumnSpec<never>[];
const into = (name: string, rows: Row[], chunks?: Iterable<Buffer>): TripCopy => ({ table: { name, columns }, rows, chunks });
const big = (n: number, from = 1): Row[] => Array.from({ length: n }, (_, i) => ({ id: from + i, body: `${from + i}:`.padEnd(10_000, String.fromCharCode(97 + (i % 26))) }));

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client(testDatabaseConfig());
  await client.connect();
  await client.query('CREATE TEMP TABLE trip_a (id integer PRIMARY KEY, body text NOT NULL); CREATE TEMP TABLE trip_b (id integer PRIMARY KEY, body text NOT NULL)');
});
afterAll(async () => { await client?.end(); });
beforeEach(async () => { await client.query('TRUNCATE trip_a, trip_b'); });

const session = () => client as unknown as PgSessionClient;
const counts = async () => (await client.query('SELECT (SELECT count(*)::int FROM trip_a) AS a, (SELECT count(*)::int FROM trip_b) AS b')).rows[0] as { a: number; b: number };

describe('copyInOneTrip on PostgreSQL', () => {
  it('copies two tables of ~15 MB each, every row whole and in order, between the statements before and after, in one query', async () => {
    const log: string[] = [];
    client.on('notice', (n) => log.push(String(n.message)));
    try {
      const copied = await copyInOneTrip(session(), "BEGIN; DO $$ BEGIN RAISE NOTICE 'before'; END $$", [into('trip_a', big(1_500)), into('trip_b', [], undefined), into('trip_b', big(1_500, 5_001))], "DO $$ BEGIN RAISE NOTICE 'after %', (SELECT count(*) FROM trip_b); END $$; COMMIT");
      expect(copied).toEqual([1_500, 1_500]);
      expect(log).toEqual(['before', 'after 1500']);
    } finally {
      client.removeAllListeners('notice');
    }
    for (const [table, lo] of [['trip_a', 1], ['trip_b', 5_001]] as const) {
      const { rows: [r] } = await client.query(`SELECT count(*)::int AS n, sum(length(body))::bigint AS bytes, min(id) AS lo, bool_and(body LIKE id || ':%') AS whole FROM ${table}`);
      expect(r).toEqual({ n: 1_500, bytes: String(1_500 * 10_000), lo, whole: true });
    }
    expect((await client.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('rows PostgreSQL refuses in the first of two tables reject with its error; the rest sent behind them is dropped, nothing applied, the connection usable', async () => {
    const refused = [...big(1_000), { id: 7, body: 'again' }];
    await expect(copyInOneTrip(session(), 'BEGIN', [into('trip_a', refused), into('trip_b', big(1_000))], 'COMMIT')).rejects.toMatchObject({ code: '23505' });
    await expect(client.query('SELECT count(*) FROM trip_a')).rejects.toMatchObject({ code: '25P02' }); // the transaction is failed: the caller rolls back
    await client.query('ROLLBACK');
    expect(await counts()).toEqual({ a: 0, b: 0 });
    expect(await copyInOneTrip(session(), 'BEGIN', [into('trip_a', [{ id: 1, body: 'x' }])], 'COMMIT')).toEqual([1]);
    expect(await counts()).toEqual({ a: 1, b: 0 });
  });

  it('a source failing in the second table fails that COPY with its own error; the first table is not applied either', async () => {
    function* failing(): Generator<Buffer> {
      yield Buffer.from('1\tb\n');
      throw new Error('the rows could not be encoded');
    }
    await expect(copyInOneTrip(session(), 'BEGIN', [into('trip_a', big(200)), into('trip_b', [{ id: 1, body: 'b' }], failing())])).rejects.toThrow('the rows could not be encoded');
    await client.query('ROLLBACK');
    expect(await counts()).toEqual({ a: 0, b: 0 });
    expect(await copyInOneTrip(session(), 'BEGIN', [into('trip_b', [{ id: 2, body: 'y' }])], 'COMMIT')).toEqual([1]);
    expect(await counts()).toEqual({ a: 0, b: 1 });
  });

  it('a statement before the COPYs that fails rejects with its error and sends nothing into the tables', async () => {
    await expect(copyInOneTrip(session(), 'BEGIN; SELECT 1/0', [into('trip_a', big(3_000))], 'COMMIT')).rejects.toMatchObject({ code: '22012' });
    await client.query('ROLLBACK');
    expect(await counts()).toEqual({ a: 0, b: 0 });
  });

  it('with a chunk pool, a buffer is written before it is reused: three trips of ~30 MB through one pool, every row exact', async () => {
    const pool = new ChunkPool(8);
    // Four rows per chunk: the first table's last chunk holds one row, under the socket's 16 KB
    // high-water mark, so it stays corked while the second table's first chunk is encoded.
    const rowsA = big(1_501);
    const rowsB = big(1_499, 5_001);
    const md5 = async (table: string) => (await client.query(`SELECT md5(string_agg(id::text || body, ',' ORDER BY id)) AS h FROM ${table}`)).rows[0].h as string;
    const expected = async (rows: Row[]) => (await client.query(`SELECT md5($1) AS h`, [rows.map((r) => `${r.id}${r.body}`).join(',')])).rows[0].h as string;
    for (let trip = 0; trip < 3; trip++) {
      await client.query('TRUNCATE trip_a, trip_b');
      expect(await copyInOneTrip(session(), 'BEGIN', [into('trip_a', rowsA), into('trip_b', rowsB)], 'COMMIT', pool)).toEqual([1_501, 1_499]);
      expect(await md5('trip_a')).toBe(await expected(rowsA));
      expect(await md5('trip_b')).toBe(await expected(rowsB));
    }
    // Over 450 chunks per trip (about 750 of four rows), from a few buffers given back as the socket wrote them.
    const chunks = Math.ceil((3 * 3_000 * 10_006) / CHUNK_BYTES);
    expect(pool.allocated).toBeGreaterThan(0);
    expect(pool.allocated).toBeLessThan(chunks / 10);
    expect(pool.size).toBeGreaterThan(0);
  });

  it('a connection killed while its data is still being sent rejects (no hang)', async () => {
    const victim = new pg.Client(testDatabaseConfig());
    victim.on('error', () => undefined);
    await victim.connect();
    const { rows: [{ pid }] } = await victim.query('SELECT pg_backend_pid() AS pid');
    // ~40 MB: the sender is still waiting for the socket to drain when the backend is terminated.
    let sent = 0;
    function* chunks(): Generator<Buffer> {
      for (let i = 0; i < 40_000; i++) { sent++; yield Buffer.from(`${i + 1}\t${'z'.repeat(1_000)}\n`); }
    }
    const trip = copyInOneTrip(victim as unknown as PgSessionClient, 'BEGIN; CREATE TEMP TABLE trip_a (id integer PRIMARY KEY, body text NOT NULL)', [into('trip_a', [{ id: 0, body: '' }], chunks())], 'COMMIT');
    const outcome = trip.then(() => 'resolved', (error: Error) => error);
    await client.query('SELECT pg_terminate_backend($1)', [pid]);
    expect(await outcome).toBeInstanceOf(Error);
    expect(sent).toBeLessThan(40_000);
    await victim.end().catch(() => undefined);
  });
});
