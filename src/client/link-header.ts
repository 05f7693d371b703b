/**
 * Parses Shopify's `Link` header for cursor pagination.
 * Shopify sends `<https://{shop}/admin/api/{v}/orders.json?limit=250&page_info=abc>; rel="next"`, possibly
 * with a `rel="previous"` link too (https://shopify.dev/docs/api/usage/pagination-rest).
 * Unquoted `rel=next`, extra parameters and any order of links are accepted.
 *
 * @example
 * ```ts
 * parseLinkHeader('<https://s.myshopify.com/admin/api/2025-10/orders.json?page_info=abc&limit=250>; rel="next"')
 * // { next: { url: '...', pageInfo: 'abc', limit: 250 } }
 * ```
 */
export function parseLinkHeader(header: string | null | undefined): PageLinks {
  const links: PageLinks = {};
  if (!header) return links;
  // Split on commas that start a new `<...>` entry; URLs themselves may contain commas (ids=1,2).
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>\s*(.*)$/.exec(part);
    if (!match) continue;
    const [, url, params] = match;
    const rel = /(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(params);
    if (!rel) continue;
    for (const name of (rel[1] ?? rel[2]).toLowerCase().split(/\s+/)) {
      if (name === 'next' || name === 'previous' || name === 'prev') {
        const link = toPageLink(url);
        if (link) links[name === 'prev' ? 'previous' : name] = link;
      }
    }
  }
  return links;
}

/** One pagination link. */
export interface PageLink {
  /** The page's URL, as Shopify sent it. */
  url: string;
  /** The opaque cursor. */
  pageInfo: string;
  /** Its `limit`. */
  limit?: number;
  /** The `fields` parameter, when the link carries one. */
  fields?: string;
}

/** The `next` / `previous` links of a page (absent on the last / first page). */
export interface PageLinks {
  /** The next page; absent on the last. */
  next?: PageLink;
  /** The previous page; absent on the first. */
  previous?: PageLink;
}

function toPageLink(raw: string): PageLink | undefined {
  let url: URL;
  try {
    url = new URL(raw, 'https://placeholder.invalid');
  } catch {
    return undefined;
  }
  const pageInfo = url.searchParams.get('page_info');
  if (!pageInfo) return undefined;
  const limit = url.searchParams.get('limit');
  const fields = url.searchParams.get('fields');
  return {
    url: raw,
    pageInfo,
    ...(limit && /^\d+$/.test(limit) ? { limit: Number(limit) } : {}),
    ...(fields ? { fields } : {}),
  };
}
