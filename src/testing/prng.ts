/**
 * Small seeded pseudo-random numbers. The simulator never calls `Math.random`: every value is a
 * pure function of (seed, stream, index), so record `i` of a shop can be regenerated at any time
 * without keeping it in memory, and the same seed always yields the same store.
 */

/** A stream of uniform numbers in [0, 1). */
export type Random = () => number;

/** splitmix32-style finaliser: a good 32-bit avalanche for combining integers into a seed. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** Hashes a string to 32 bits (FNV-1a then mixed), used to turn names into stream ids. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h >>> 0);
}

/** Combines integers (each treated as up to 2^53) into one 32-bit seed. */
export function combine(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = mix32(h ^ lo);
    h = mix32((h + hi + 0x6d2b79f5) >>> 0);
  }
  return h;
}

/**
 * mulberry32: tiny, fast, statistically fine for fake data.
 *
 * @example
 * ```ts
 * const r = createRandom(42); r() // same value for every run with seed 42
 * ```
 */
export function createRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform number in [0, 1) that is a pure function of its inputs (no state). */
export function unitAt(...parts: number[]): number {
  return combine(...parts) / 4294967296;
}

/** Helpers over a {@link Random}. */
export function pick<T>(r: Random, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)];
}

export function intBetween(r: Random, min: number, max: number): number {
  return min + Math.floor(r() * (max - min + 1));
}

/** A v4-shaped UUID from a {@link Random} (for webhook ids), deterministic under a seeded stream. */
export function uuidFrom(r: Random): string {
  const hex: string[] = [];
  for (let i = 0; i < 16; i++) hex.push(Math.floor(r() * 256).toString(16).padStart(2, '0'));
  hex[6] = '4' + hex[6][1];
  hex[8] = ((parseInt(hex[8], 16) & 0x3f) | 0x80).toString(16);
  return `${hex.slice(0, 4).join('')}-${hex.slice(4, 6).join('')}-${hex.slice(6, 8).join('')}-${hex.slice(8, 10).join('')}-${hex.slice(10).join('')}`;
}
