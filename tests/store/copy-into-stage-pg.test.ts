/**
 * copyIntoStage (src/store/copy-stage.ts) against PostgreSQL: chunks written straight into the COPY
 * stream arrive whole and in order however often the socket asks the writer to wait; a source that
 * fails, or rows PostgreSQL refuses, fail the COPY with that error and leave nothing copied and the
 * connection usable.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyIntoStage, type PgSessionClient } from '../../src/store/copy-stage.js';
import type { ColumnSpec } from '../../src/store/columns.js';
import { testDatabaseConfig } from '../helpers/pg-config.js';

type Row = { id: number; body: string };
const columns = [
  { column: 'id', type: 'integer', value: (r: Row) => r.id },
  { column: 'body', type: 'text', value: (r: Row) => r.body },
] as unknown as readonly ColumnSpec<Row>[];

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client(testDatabaseConfig());
  await client.connect();
  await client.query('CREATE TEMP TABLE copy_target (id integer PRIMARY KEY, body text NOT NULL)');
});
afterAll(async () => { await client?.end(); });

const session = () => client as unknown as PgSessionClient;
const count = async () => Number((await client.query('SELECT count(*) AS n FROM copy_target')).rows[0].n);

describe('copyIntoStage on PostgreSQL', () => {
  it('copies every row of a stream many times larger than the socket buffers, in order', async () => {
    await client.query('TRUNCATE copy_target');
    // 3,000 rows of 10 KB: ~30 MB through the socket, which asks the writer to wait many times.
    const rows: Row[] = Array.from({ length: 3_000 }, (_, i) => ({ id: i + 1, body: `${i}:`.padEnd(10_000, String.fromCharCode(97 + (i % 26))) }));
    await copyIntoStage(session(), { name: 'copy_target', columns }, rows);
    const { rows: [r] } = await client.query("SELECT count(*)::int AS n, sum(length(body))::bigint AS bytes, min(id) AS lo, max(id) AS hi, bool_and(body LIKE id - 1 || ':%') AS ordered FROM copy_target");
    expect(r).toEqual({ n: 3_000, bytes: String(3_000 * 10_000), lo: 1, hi: 3_000, ordered: true });
  });

  it('a source that fails mid-stream fails the COPY with its own error; nothing is copied and the connection works on', async () => {
    await client.query('TRUNCATE copy_target');
    const rows: Row[] = [{ id: 1, body: 'a' }, { id: 2, body: 'b' }];
    function* failing(): Generator<Buffer> {
      yield Buffer.from('1\ta\n');
      throw new Error('the rows could not be encoded');
    }
    await expect(copyIntoStage(session(), { name: 'copy_target', columns }, rows, failing())).rejects.toThrow('the rows could not be encoded');
    expect(await count()).toBe(0);
    await copyIntoStage(session(), { name: 'copy_target', columns }, rows);
    expect(await count()).toBe(2);
  });

  it('rows PostgreSQL refuses reject with its error; nothing is copied and the connection works on', async () => {
    await client.query('TRUNCATE copy_target');
    const rows: Row[] = [{ id: 1, body: 'a' }, { id: 1, body: 'again' }];
    await expect(copyIntoStage(session(), { name: 'copy_target', columns }, rows)).rejects.toMatchObject({ code: '23505' });
    expect(await count()).toBe(0);
    await copyIntoStage(session(), { name: 'copy_target', columns }, [{ id: 3, body: 'c' }]);
    expect(await count()).toBe(1);
  });
});
