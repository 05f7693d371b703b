/** What a bulk file's lines hold besides their record. */
import { flatString } from '../json.js';
import { parseGid } from '../transform/values.js';

/**
 * A bulk child line's JSON text without its `__parentId`, which Shopify writes last
 * (`{…,"__parentId":"gid://shopify/Order/1"}`); undefined when the line does not end that way.
 */
export function childLineText(text: string, parentId: string): string | undefined {
  const suffix = `,"__parentId":${JSON.stringify(parentId)}}`;
  // Flat while young: a slice joined to '}' is a tree holding the whole line (src/json.ts, flatString).
  return text.endsWith(suffix) ? flatString(`${text.slice(0, text.length - suffix.length)}}`) : undefined;
}

/** What a parsed bulk line is: a child line of a table the resource knows, one it does not, or a record. */
export type LineKind<C> =
  | { kind: 'child'; child: C; parentId: bigint; parent: string }
  | { kind: 'unknown' }
  | { kind: 'record' };

/**
 * Tells a bulk line's kind by its `__parentId` and `__typename` (`childByType`: the resource's child
 * tables by GraphQL type); a child line's `__parentId` is removed from `node`.
 */
export function kindOfLine<C>(node: Record<string, unknown>, childByType: ReadonlyMap<string, C>): LineKind<C> {
  const parent = node.__parentId;
  if (typeof parent !== 'string') return { kind: 'record' };
  delete node.__parentId;
  const type = node.__typename;
  const child = typeof type === 'string' ? childByType.get(type) : undefined;
  const parentId = parseGid(parent);
  return child !== undefined && parentId !== null ? { kind: 'child', child, parentId, parent } : { kind: 'unknown' };
}
