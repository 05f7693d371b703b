/**
 * COPY text encoding (src/store/copy-stage.ts): rows encoded straight into UTF-8 buffers give the
 * bytes of the text form, whatever the values (multi-byte characters, surrogate pairs, escapes,
 * nulls, values larger than a chunk). Seeded: COPY_SEED=<n> replays a run.
 */
import { describe, expect, it } from 'vitest';
import { copyChunks, copyTextValue } from '../../src/store/copy-stage.js';
import { encodeValue, type ColumnSpec } from '../../src/store/columns.js';
import { createRandom } from '../../src/testing/prng.js';

type Row = { id: bigint; name: string | null; payload: string; at: Date; flag: boolean };

const columns: readonly ColumnSpec<Row>[] = [
  { column: 'id', type: 'bigint', value: (r) => r.id },
  { column: 'name', type: 'text', value: (r) => r.name },
  { column: 'payload', type: 'jsonb', value: (r) => r.payload },
  { column: 'at', type: 'timestamptz', value: (r) => r.at },
  { column: 'flag', type: 'boolean', value: (r) => r.flag },
] as readonly ColumnSpec<Row>[];

/** The text form, as the encoder built it before it wrote buffers. */
function reference(rows: readonly Row[]): string {
  return rows.map((row) => columns.map((c) => copyTextValue(encodeValue(c.value(row), c.type))).join('\t') + '\n').join('');
}

const PIECES = ['a', 'Zürich', '東京', '😀', '\\', '\n', '\r', '\t', '"', '{"k":"v\\"w"}', 'é', '\u0000', '\ud83d', ' '];

function text(rand: () => number, length: number): string {
  let out = '';
  while (out.length < length) out += PIECES[Math.floor(rand() * PIECES.length)];
  return out;
}

describe('copyChunks', () => {
  it('gives the bytes of the COPY text form, in chunks of about 64 KB, for random rows', () => {
    const seed = Number(process.env.COPY_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`copyChunks: COPY_SEED=${seed}`);
    const rand = createRandom(seed);
    for (let round = 0; round < 20; round++) {
      const rows: Row[] = Array.from({ length: Math.floor(rand() * 400) }, (_, i) => ({
        id: BigInt(Math.floor(rand() * 2 ** 53)) * 1000n + BigInt(i),
        name: rand() < 0.2 ? null : text(rand, Math.floor(rand() * 40)),
        // Mostly small, sometimes larger than a whole chunk (3 bytes per unit at most: 30,000 units can exceed 64 KB).
        payload: text(rand, rand() < 0.05 ? 20_000 + Math.floor(rand() * 40_000) : Math.floor(rand() * 3_000)),
        at: new Date(Math.floor(rand() * 2 ** 41)),
        flag: rand() < 0.5,
      }));
      const chunks = [...copyChunks(columns, rows)];
      expect(Buffer.concat(chunks).equals(Buffer.from(reference(rows), 'utf8')), `seed ${seed}, round ${round}`).toBe(true);
      if (rows.length === 0) expect(chunks).toEqual([]);
      // A chunk is handed over when the next value might not fit: never larger than 64 KB unless one
      // value needs more, and never empty.
      const largest = Math.max(0, ...rows.map((r) => 3 * copyTextValue(r.payload).length + 2));
      for (const chunk of chunks) {
        expect(chunk.length).toBeLessThanOrEqual(Math.max(64 * 1024, largest));
        expect(chunk.length).toBeGreaterThan(0);
      }
    }
  });

  it('escapes what COPY reads specially and writes null as \\N', () => {
    const row: Row = { id: 1n, name: null, payload: 'a\\b\nc\rd\te', at: new Date('2026-01-02T03:04:05.678Z'), flag: false };
    const [chunk, ...rest] = [...copyChunks(columns, [row])];
    expect(rest).toEqual([]);
    expect(chunk!.toString('utf8')).toBe('1\t\\N\ta\\\\b\\nc\\rd\\te\t2026-01-02T03:04:05.678Z\tfalse\n');
  });
});
