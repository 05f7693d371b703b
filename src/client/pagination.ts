import { ShopifyIngestError } from '../errors.js';
import type { PageLink } from './link-header.js';

/** Query values the client accepts; arrays become comma lists (`ids=1,2`), dates ISO 8601. */
export type QueryValue = string | number | boolean | bigint | Date | null | undefined | Array<string | number | bigint>;
/** Query string parameters (undefined values are left out). */
export type Query = Record<string, QueryValue>;

/**
 * The list key of a REST collection path: `/customers.json` -> `customers`,
 * `/products/1/variants.json` -> `variants`, `/customers/search.json` -> `customers`.
 *
 * @example
 * ```ts
 * inferListKey('/orders.json?status=any') // 'orders'
 * ```
 */
export function inferListKey(path: string): string {
  const segments = path.split('?')[0].replace(/\.json$/, '').split('/').filter(Boolean);
  let last = segments.at(-1) ?? '';
  // Action endpoints return the parent collection's key.
  if ((last === 'search' || last === 'count') && segments.length > 1) last = segments.at(-2) ?? last;
  return last;
}

/**
 * The item array of a REST list body, under exactly `key`. Anything else (another key, such as
 * `{"order": []}` for /orders.json, or no list at all) is an error, never an empty page: an empty
 * page ends a listing, and a listing that ended early looks complete.
 */
export function extractItems<T>(body: unknown, key: string, path: string): T[] {
  if (body && typeof body === 'object' && Array.isArray((body as Record<string, unknown>)[key])) return (body as Record<string, T[]>)[key];
  const keys = body && typeof body === 'object' ? Object.keys(body as object).slice(0, 5) : [];
  throw new ShopifyIngestError('SHOPIFY_BAD_RESPONSE', `GET ${path.split('?')[0]} did not return a list under "${key}"${keys.length ? ` (keys: ${keys.join(', ')})` : ''}`, {
    details: { path: path.split('?')[0], key }, retryable: true,
  });
}

/**
 * The query for the page after `link`. Shopify rejects filters on a `page_info` request: only `limit`
 * and `fields` may accompany the cursor (https://shopify.dev/docs/api/usage/pagination-rest).
 */
export function nextPageQuery(link: PageLink, firstQuery: Query | undefined): Query {
  const limit = link.limit ?? firstQuery?.limit;
  const fields = link.fields ?? firstQuery?.fields;
  return {
    page_info: link.pageInfo,
    ...(limit !== undefined && limit !== null ? { limit } : {}),
    ...(fields !== undefined && fields !== null ? { fields } : {}),
  };
}

/** Turns a {@link Query} into the flat string map sent on the wire (drops null/undefined). */
export function serializeQuery(query: Query | undefined): Record<string, string> | undefined {
  if (!query) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (value instanceof Date) out[key] = value.toISOString();
    else if (Array.isArray(value)) out[key] = value.map(String).join(',');
    else out[key] = String(value);
  }
  return out;
}
