/**
 * The regroup window of bulk files (src/importer/regroup.ts): records wait a bounded number of lines
 * for their children, leave with them and their count, and every unit leaves at a position from
 * which a resumed run misses nothing. Seeded: REGROUP_SEED=<n> replays a run.
 */
import { describe, expect, it } from 'vitest';
import type { Unit } from '../../src/importer/pipeline.js';
import { RegroupWindow } from '../../src/importer/regroup.js';
import { createRandom } from '../../src/testing/prng.js';

/** A file line: a record (`parent` null) or a child of record `parent`. */
interface Line { n: number; id: bigint; parent: bigint | null }
type U = Unit<number> & { line: Line; count?: number };

function windowOf(lines: number) {
  return new RegroupWindow<number>({
    lines,
    counted: new Set(['items']),
    setCounts: (unit, counts) => { (unit as U).count = counts.get('items') ?? 0; },
  });
}

/** Feeds lines through a window as bulk-listing.ts does; positions are line numbers (the position after line n is n). */
function feed(file: Line[], lines: number): U[] {
  const window = windowOf(lines);
  const out: U[] = [];
  let before = 0;
  for (const line of file) {
    out.push(...(window.due(line.n, before) as U[]));
    const unit: U = { rows: null, records: line.parent === null ? 1 : 0, position: line.n, line };
    if (line.parent === null) {
      if (window.has(line.id)) out.push(...(window.take(line.id, before) as U[]));
      window.hold(line.id, unit, line.n, before);
    } else if (!window.join(line.parent, unit, 'items')) out.push(window.pass(unit) as U);
    before = line.n;
  }
  out.push(...(window.flush(before) as U[]));
  return out;
}

describe('RegroupWindow', () => {
  it('a record leaves with the children read within its window, counted; a later child passes on its own', () => {
    // 1: record A, 2: record B, 3: child of A, 4: child of B, 5: child of A (6 lines after A with a window of 3).
    const file: Line[] = [
      { n: 1, id: 1n, parent: null }, { n: 2, id: 2n, parent: null }, { n: 3, id: 10n, parent: 1n },
      { n: 4, id: 20n, parent: 2n }, { n: 5, id: 11n, parent: 1n },
    ];
    const out = feed(file, 3);
    expect(out.map((u) => [u.line.n, u.position, u.count])).toEqual([
      // A leaves when line 4 is read (4 - 1 >= 3) with child 3: the position before A (0) until its
      // last unit, which carries the low-water mark: before B, the oldest held (line 1).
      [1, 0, 1], [3, 1, undefined],
      // Line 5 (A's second child) reaches B's window too (5 - 2 >= 3): B leaves with child 4, nothing held: position 4 (before line 5).
      [2, 1, 1], [4, 4, undefined],
      // A's late child passes with its own position; A was written with 1 and is recounted after the file.
      [5, 5, undefined],
    ]);
  });

  it('with nothing held, a unit keeps its own position; flush positions the last units at the end', () => {
    const window = windowOf(10);
    const unit: U = { rows: null, records: 0, position: 7, line: { n: 7, id: 1n, parent: 9n } };
    expect(window.pass(unit)).toBe(unit);
    window.hold(3n, { rows: null, records: 1, position: 8, line: { n: 8, id: 3n, parent: null } } as U, 8, 7);
    expect(window.pass(unit).position).toBe(7);
    expect(window.flush(12).map((u) => u.position)).toEqual([12]);
    expect(window.size).toBe(0);
  });

  it('random files: every line leaves once, positions never go back, a position never skips an unwritten line, counts are exact within the window', () => {
    const seed = Number(process.env.REGROUP_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`RegroupWindow: REGROUP_SEED=${seed}`);
    const rand = createRandom(seed);
    for (let round = 0; round < 40; round++) {
      // Records in order; each child placed after its parent at a random distance (sometimes far).
      const records = 1 + Math.floor(rand() * 60);
      const slots: Array<{ key: number; id: bigint; parent: bigint | null }> = [];
      let childId = 1_000_000n;
      for (let r = 0; r < records; r++) {
        const id = BigInt(r + 1);
        slots.push({ key: r * 10, id, parent: null });
        const children = Math.floor(rand() * 4);
        for (let c = 0; c < children; c++) slots.push({ key: r * 10 + 1 + rand() * (rand() < 0.2 ? 600 : 40), id: childId++, parent: id });
      }
      // Now and then the same record listed twice (its second line later).
      if (rand() < 0.2) slots.push({ key: rand() * records * 10, id: BigInt(1 + Math.floor(rand() * records)), parent: null });
      slots.sort((a, b) => a.key - b.key);
      const file: Line[] = slots.map((s, i) => ({ n: i + 1, id: s.id, parent: s.parent }));
      const lines = 1 + Math.floor(rand() * 30);
      const out = feed(file, lines);
      const context = `seed ${seed}, round ${round}, window ${lines}`;

      expect(out.map((u) => u.line.n).sort((a, b) => a - b), context).toEqual(file.map((l) => l.n));
      const emitted = new Set<number>();
      let last = 0;
      for (const u of out) {
        emitted.add(u.line.n);
        expect(u.position, context).toBeGreaterThanOrEqual(last);
        last = u.position;
        // Resuming after this unit's position re-reads every line not yet written.
        for (let n = 1; n <= u.position; n++) expect(emitted.has(n), `${context}: line ${n} not written at position ${u.position}`).toBe(true);
      }
      // A record's count is its children within its window.
      for (const u of out) {
        if (u.line.parent !== null) continue;
        const duplicate = file.some((l) => l.parent === null && l.id === u.line.id && l.n !== u.line.n);
        if (duplicate) continue;
        const children = file.filter((l) => l.parent === u.line.id);
        // A record read at line r waits until line r + lines is read: children on lines before that join it.
        expect(u.count, `${context}: record ${u.line.id}`).toBe(children.filter((l) => l.n - u.line.n < lines).length);
        // Children that joined it leave right after it.
        const at = out.indexOf(u);
        expect(out.slice(at + 1, at + 1 + (u.count ?? 0)).every((c) => c.line.parent === u.line.id), context).toBe(true);
      }
    }
  });

  it('merges the rows of a joined child into the unit of its record; a child that failed, provides an id or has no rows stays a unit', () => {
    const window = windowOf(100);
    const record: Unit<number> = { rows: { orders: [{ id: 1n }], events: [{ id: 5n }] }, records: 1, position: 1, provides: 1n };
    window.hold(1n, record, 1, 0);
    const child = (id: bigint, extra: Partial<Unit<number>> = {}): Unit<number> => ({ rows: { items: [{ id }] }, records: 0, position: 2, requires: 1n, ...extra });
    expect(window.join(1n, child(10n), 'items')).toBe(true);
    expect(window.join(1n, child(11n), 'items')).toBe(true);
    const failed: Unit<number> = { rows: null, records: 0, position: 3, failure: { shopifyId: 12n, reason: 'bad' } };
    const parentOfOthers = child(13n, { provides: 13n });
    expect(window.join(1n, failed, 'items')).toBe(true);
    expect(window.join(1n, parentOfOthers, 'items')).toBe(true);
    const out = window.flush(9);
    // The record's unit now holds both merged children; the other two leave after it, as units.
    expect(out.map((u) => u.rows)).toEqual([{ orders: [{ id: 1n }], events: [{ id: 5n }], items: [{ id: 10n }, { id: 11n }] }, null, { items: [{ id: 13n }] }]);
    expect(out[1].failure?.shopifyId).toBe(12n);
    // Counted all the same (failed children included, as before the merge).
    expect((out[0] as U).count).toBe(4);
    expect(out.map((u) => u.position)).toEqual([0, 0, 9]);
  });
  it('merges many children in file order, whether the record\'s list starts empty or not (short lists copied, long ones grown)', () => {
    const window = windowOf(1_000);
    const record: Unit<number> = { rows: { orders: [{ id: 1n }], items: [], notes: [{ id: 900n }] }, records: 1, position: 1, provides: 1n };
    window.hold(1n, record, 1, 0);
    const expected: { items: unknown[]; notes: unknown[] } = { items: [], notes: [{ id: 900n }] };
    for (let k = 0; k < 30; k++) {
      // One or two rows per child, sometimes a row of a second table too.
      const items = k % 3 === 0 ? [{ id: BigInt(100 + 2 * k) }, { id: BigInt(101 + 2 * k) }] : [{ id: BigInt(100 + 2 * k) }];
      const notes = k % 4 === 0 ? [{ id: BigInt(1000 + k) }] : [];
      const rows: Record<string, unknown[]> = notes.length > 0 ? { items, notes } : { items };
      expected.items.push(...items);
      expected.notes.push(...notes);
      expect(window.join(1n, { rows, records: 0, position: 2 + k, requires: 1n }, 'items')).toBe(true);
    }
    const [out] = window.flush(99);
    expect(out.rows).toEqual({ orders: [{ id: 1n }], ...expected });
    expect((out as U).count).toBe(30);
  });
});
