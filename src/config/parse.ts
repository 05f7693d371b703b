/**
 * Splits a list-valued environment variable (`a,b c`): commas, whitespace or newlines separate
 * entries; empty entries are dropped.
 *
 * @example
 * ```ts
 * parseList('k1, k2\nk3') // ['k1', 'k2', 'k3']
 * ```
 */
export function parseList(value: string | undefined | null): string[] {
  if (!value) return [];
  return value.split(/[\s,]+/).map((s) => s.trim()).filter((s) => s !== '');
}
