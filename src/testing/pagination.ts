/**
 * Shopify's cursor pagination for REST: the `Link` header carries `page_info` cursors; a cursor
 * holds the filters of the first request, so later requests may only add `limit` and `fields`.
 * https://shopify.dev/docs/api/usage/pagination-rest
 *
 * The cursor is base64url JSON in the layout Shopify's own cursors decode to:
 * `{"updated_at_min":"...","last_id":123,"last_value":"123","direction":"next"}`.
 * Ids travel as strings so ids beyond 2^53 stay exact.
 */

/** Parameters a page_info request may still carry. */
export const PAGE_INFO_COMPANIONS = new Set(['limit', 'fields', 'page_info']);

export interface PageCursor {
  /** The filter parameters of the first request, verbatim. */
  filters: Record<string, string>;
  /** Boundary id: records after it (`next`) or before it (`prev`). */
  lastId: bigint;
  direction: 'next' | 'prev';
}

/** Encodes a cursor as an opaque page_info string. */
export function encodePageInfo(cursor: PageCursor): string {
  const body = { ...cursor.filters, last_id: cursor.lastId.toString(), last_value: cursor.lastId.toString(), direction: cursor.direction };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** Decodes a page_info string; undefined when it is not one of ours. */
export function decodePageInfo(pageInfo: string): PageCursor | undefined {
  try {
    const body = JSON.parse(Buffer.from(pageInfo, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof body !== 'object' || body === null) return undefined;
    const { last_id: lastId, last_value: _lv, direction, ...filters } = body;
    if (typeof lastId !== 'string' || !/^\d+$/.test(lastId)) return undefined;
    if (direction !== 'next' && direction !== 'prev') return undefined;
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(filters)) if (typeof v === 'string') clean[k] = v;
    return { filters: clean, lastId: BigInt(lastId), direction };
  } catch {
    return undefined;
  }
}

/** Builds a `Link` header value from optional next/previous page urls (Shopify lists previous first). */
export function buildLinkHeader(links: { next?: string; previous?: string }): string | undefined {
  const parts: string[] = [];
  if (links.previous) parts.push(`<${links.previous}>; rel="previous"`);
  if (links.next) parts.push(`<${links.next}>; rel="next"`);
  return parts.length ? parts.join(', ') : undefined;
}

/**
 * The 400 Shopify answers when a page_info request carries a filter, or `page` (removed in 2019-07).
 * Returns undefined when the query is acceptable.
 */
export function paginationParamError(query: URLSearchParams): { errors: Record<string, string> } | undefined {
  if (query.has('page')) {
    return { errors: { page: 'page cannot be passed. See https://shopify.dev/api/usage/pagination-rest for more information.' } };
  }
  if (!query.has('page_info')) return undefined;
  for (const key of query.keys()) {
    if (!PAGE_INFO_COMPANIONS.has(key)) {
      return { errors: { [key]: `${key} cannot be passed when page_info is present. See https://shopify.dev/api/usage/pagination-rest for more information.` } };
    }
  }
  return undefined;
}
