/**
 * The in-batch one-per-id rule (src/store/versioning.ts): sorting and folding each id's rows gives
 * what the rule itself says (the winner by `incomingWins`, later rows first on a tie), in id order,
 * checked against a plain reading of the rule on random batches (replay: VERSIONING_SEED).
 */
import { describe, expect, it } from 'vitest';
import { incomingWins, lastSortedById, newestSortedById } from '../../src/store/versioning.js';
import { createRandom } from '../../src/testing/prng.js';

interface Row { id: bigint; shopifyUpdatedAt: Date; deletedAt: Date | null; observedAt: Date | null; n: number }

/** The rule read plainly: each row against the one kept so far for its id, in input order. */
function reference(rows: readonly Row[], wins: (incoming: Row, kept: Row) => boolean): Row[] {
  const kept = new Map<bigint, Row>();
  for (const row of rows) {
    const seen = kept.get(row.id);
    if (seen === undefined || wins(row, seen)) kept.set(row.id, row);
  }
  return [...kept.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

describe('newestSortedById / lastSortedById', () => {
  it('keep the winner of each id in id order, as the rule read row by row does', () => {
    const seed = Number(process.env.VERSIONING_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`versioning: VERSIONING_SEED=${seed}`);
    const rand = createRandom(seed);
    const pick = (n: number) => Math.floor(rand() * n);
    let duplicated = 0;
    for (let round = 0; round < 300; round++) {
      const rows: Row[] = Array.from({ length: pick(40) }, (_, n) => ({
        // Ids around 2^63 - 1 as well: compared as bigints, not as numbers.
        id: (round % 2 === 0 ? 0n : 9223372036854775000n) + BigInt(pick(15)),
        shopifyUpdatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, pick(3))),
        deletedAt: pick(5) === 0 ? new Date(Date.UTC(2026, 0, 2)) : null,
        observedAt: pick(3) === 0 ? null : new Date(Date.UTC(2026, 0, 3, 0, 0, pick(3))),
        n,
      }));
      if (new Set(rows.map((r) => r.id)).size < rows.length) duplicated++;
      const context = `seed ${seed}, round ${round}`;
      const input = rows.slice();
      expect(newestSortedById(rows).map((r) => r.n), context).toEqual(reference(rows, incomingWins).map((r) => r.n));
      expect(lastSortedById(rows).map((r) => r.n), context).toEqual(reference(rows, () => true).map((r) => r.n));
      expect(rows, `${context}: the input is left as it was`).toEqual(input);
    }
    // The batches did repeat ids (else the fold was never exercised).
    expect(duplicated).toBeGreaterThan(200);
  });

  it('returns a new array even with nothing to drop', () => {
    const rows = [{ id: 2n }, { id: 1n }];
    const out = lastSortedById(rows);
    expect(out).not.toBe(rows);
    expect(out.map((r) => r.id)).toEqual([1n, 2n]);
    expect(rows.map((r) => r.id)).toEqual([2n, 1n]);
  });
});
