/**
 * The REST Admin API routes of the simulator: list, count and show for customers, products and
 * orders, `events.json`, `shop.json` and `webhooks.json`, with Shopify's cursor pagination.
 * Parameters: https://shopify.dev/docs/api/admin-rest/latest/resources/order#get-orders
 */
import type { JsonObject, ResourceName } from './generator.js';
import type { RecordFilter, OrderStatusFilter } from './resource-table.js';
import type { SimulatedShop, ShopEvent, WebhookTopic } from './shop.js';
import { buildLinkHeader, decodePageInfo, encodePageInfo, paginationParamError, type PageCursor } from './pagination.js';
import { formatShopTime, parseTimeParam } from './clock.js';
import { parseShopifyJson } from '../json.js';

/** What a route answers; `body` is serialised by the server (bigint-aware). */
export interface RestResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface RestRequest {
  shop: SimulatedShop;
  method: string;
  /** Path after `/admin/api/{version}/`, e.g. `orders.json`, `orders/123.json`. */
  path: string;
  query: URLSearchParams;
  /** Absolute url prefix up to and including `/admin/api/{version}`, used for Link headers. */
  apiBase: string;
  rawBody: string;
}

const RESOURCES: ResourceName[] = ['customers', 'products', 'orders'];
const SINGULAR: Record<ResourceName, string> = { customers: 'customer', products: 'product', orders: 'order' };
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 250;
const FILTER_KEYS = ['since_id', 'updated_at_min', 'updated_at_max', 'created_at_min', 'created_at_max', 'status', 'ids'];
const EVENT_FILTER_KEYS = ['since_id', 'created_at_min', 'created_at_max', 'verb', 'filter'];

const notFound = (): RestResponse => ({ status: 404, body: { errors: 'Not Found' } });
const badRequest = (errors: unknown): RestResponse => ({ status: 400, body: { errors } });

/** `limit`: default 50; above 250 is capped at 250 like Shopify does. */
function parseLimit(query: URLSearchParams): number | RestResponse {
  const raw = query.get('limit');
  if (raw === null || raw === '') return DEFAULT_LIMIT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) return badRequest({ limit: 'Invalid value.' });
  return Math.min(n, MAX_LIMIT);
}

function project(record: JsonObject, fields: string[] | undefined): JsonObject {
  if (!fields) return record;
  const out: JsonObject = {};
  for (const f of fields) if (f in record) out[f] = record[f];
  return out;
}

function parseFields(query: URLSearchParams): string[] | undefined {
  const f = query.get('fields');
  return f ? f.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

function parseIdParam(value: string): bigint | undefined {
  return /^\d{1,20}$/.test(value.trim()) ? BigInt(value.trim()) : undefined;
}

/** Builds a filter from the first request's parameters (also the ones carried in a cursor). */
function buildFilter(shop: SimulatedShop, resource: ResourceName, params: Record<string, string>): { filter: RecordFilter } | RestResponse {
  const filter: RecordFilter = {};
  for (const [key, field] of [['created_at_min', 'createdMin'], ['created_at_max', 'createdMax'], ['updated_at_min', 'updatedMin'], ['updated_at_max', 'updatedMax']] as const) {
    if (params[key] === undefined) continue;
    const ms = parseTimeParam(params[key]);
    if (Number.isNaN(ms)) return badRequest({ [key]: 'Invalid value.' });
    filter[field] = ms;
  }
  if (resource === 'orders') {
    const status = params.status ?? 'open';
    if (!['open', 'closed', 'cancelled', 'any'].includes(status)) return badRequest({ status: 'Invalid value.' });
    filter.status = status as OrderStatusFilter;
  }
  if (params.ids !== undefined) {
    filter.indices = [];
    for (const part of params.ids.split(',')) {
      const id = parseIdParam(part);
      if (id === undefined) continue;
      const index = shop.gen.indexOf(resource, id);
      if (index >= 0) filter.indices.push(index);
    }
  }
  if (params.since_id !== undefined) {
    const id = parseIdParam(params.since_id);
    if (id === undefined) return badRequest({ since_id: 'Invalid value.' });
    filter.minIndex = shop.afterIndexOf(resource, id) + 1;
  }
  return { filter };
}

function pickParams(query: URLSearchParams, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = query.get(k);
    if (v !== null) out[k] = v;
  }
  return out;
}

function pageUrl(req: RestRequest, file: string, cursor: PageCursor, query: URLSearchParams): string {
  const params = new URLSearchParams();
  if (query.has('limit')) params.set('limit', query.get('limit')!);
  if (query.has('fields')) params.set('fields', query.get('fields')!);
  params.set('page_info', encodePageInfo(cursor));
  return `${req.apiBase}/${file}?${params.toString()}`;
}

/** Shopify's REST product bodies (listings, single reads, webhooks) hold at most this many variants; products may have 2,048. */
export const REST_VARIANTS_LIMIT = 100;

/** A record as REST shows it: a product's variants cut at {@link REST_VARIANTS_LIMIT}. */
export function restBody(resource: string, record: JsonObject): JsonObject {
  if (resource !== 'products' || !Array.isArray(record.variants) || record.variants.length <= REST_VARIANTS_LIMIT) return record;
  return { ...record, variants: record.variants.slice(0, REST_VARIANTS_LIMIT) };
}

function listResource(req: RestRequest, resource: ResourceName): RestResponse {
  const { shop, query } = req;
  const paramError = paginationParamError(query);
  if (paramError) return { status: 400, body: paramError };
  const limit = parseLimit(query);
  if (typeof limit !== 'number') return limit;
  const fields = parseFields(query);

  let cursor: PageCursor | undefined;
  let params: Record<string, string>;
  if (query.has('page_info')) {
    cursor = decodePageInfo(query.get('page_info')!);
    if (!cursor) return badRequest({ page_info: 'Invalid value.' });
    params = cursor.filters;
  } else {
    params = pickParams(query, FILTER_KEYS);
  }
  const built = buildFilter(shop, resource, params);
  if ('status' in built) return built;
  const { filter } = built;
  const table = shop.tables[resource];

  const page = cursor?.direction === 'prev'
    ? table.list(filter, { before: shop.beforeIndexOf(resource, cursor.lastId) }, limit)
    : table.list(filter, { after: cursor ? shop.afterIndexOf(resource, cursor.lastId) : -1 }, limit);
  const records = page.indices.map((i) => project(restBody(resource, table.get(i)!), fields));

  const links: { next?: string; previous?: string } = {};
  if (page.indices.length > 0) {
    const first = page.indices[0];
    const last = page.indices[page.indices.length - 1];
    const moreAfter = cursor?.direction === 'prev' ? table.list(filter, { after: last }, 0).hasMore : page.hasMore;
    // Like Shopify, only pages reached through page_info offer rel="previous".
    const moreBefore = cursor !== undefined && (cursor.direction === 'prev' ? page.hasMore : table.list(filter, { before: first }, 0).hasMore);
    if (moreAfter) links.next = pageUrl(req, `${resource}.json`, { filters: params, lastId: shop.gen.idOf(resource, last), direction: 'next' }, query);
    if (moreBefore) links.previous = pageUrl(req, `${resource}.json`, { filters: params, lastId: shop.gen.idOf(resource, first), direction: 'prev' }, query);
  }
  const link = buildLinkHeader(links);
  return { status: 200, body: { [resource]: records }, headers: link ? { Link: link } : undefined };
}

function countResource(req: RestRequest, resource: ResourceName): RestResponse {
  const built = buildFilter(req.shop, resource, pickParams(req.query, FILTER_KEYS.filter((k) => k !== 'since_id')));
  if ('status' in built) return built;
  return { status: 200, body: { count: req.shop.tables[resource].count(built.filter) } };
}

function showResource(req: RestRequest, resource: ResourceName, rawId: string): RestResponse {
  const id = parseIdParam(rawId);
  if (id === undefined) return notFound();
  const record = req.shop.find(resource, id);
  if (!record) return notFound();
  return { status: 200, body: { [SINGULAR[resource]]: project(restBody(resource, record), parseFields(req.query)) } };
}

function eventMatches(e: ShopEvent, params: Record<string, string>, times: { min?: number; max?: number }): boolean {
  if (params.verb && e.verb !== params.verb) return false;
  if (params.filter && !params.filter.split(',').map((s) => s.trim()).includes(e.subject_type)) return false;
  if (times.min !== undefined && e.createdMs < times.min) return false;
  if (times.max !== undefined && e.createdMs > times.max) return false;
  return true;
}

/** `GET /events.json`: only what syncs use to find deletions (verb, filter, created_at_*, since_id), cursor-paginated. */
function listEvents(req: RestRequest, countOnly: boolean): RestResponse {
  const { shop, query } = req;
  const paramError = countOnly ? undefined : paginationParamError(query);
  if (paramError) return { status: 400, body: paramError };
  const limit = parseLimit(query);
  if (typeof limit !== 'number') return limit;
  let cursor: PageCursor | undefined;
  let params: Record<string, string>;
  if (!countOnly && query.has('page_info')) {
    cursor = decodePageInfo(query.get('page_info')!);
    if (!cursor) return badRequest({ page_info: 'Invalid value.' });
    params = cursor.filters;
  } else params = pickParams(query, EVENT_FILTER_KEYS);
  const times: { min?: number; max?: number } = {};
  if (params.created_at_min) times.min = parseTimeParam(params.created_at_min);
  if (params.created_at_max) times.max = parseTimeParam(params.created_at_max);
  if (Number.isNaN(times.min) || Number.isNaN(times.max)) return badRequest({ created_at: 'Invalid value.' });
  const since = params.since_id ? Number(params.since_id) : -1;
  const matching = shop.events.filter((e) => e.id > since && eventMatches(e, params, times));
  if (countOnly) return { status: 200, body: { count: matching.length } };
  const fields = parseFields(query);
  let startIdx = 0;
  let page: ShopEvent[];
  if (cursor?.direction === 'prev') {
    const end = matching.findIndex((e) => BigInt(e.id) >= cursor!.lastId);
    const stop = end < 0 ? matching.length : end;
    startIdx = Math.max(0, stop - limit);
    page = matching.slice(startIdx, stop);
  } else {
    if (cursor) startIdx = matching.findIndex((e) => BigInt(e.id) > cursor!.lastId);
    if (startIdx < 0) startIdx = matching.length;
    page = matching.slice(startIdx, startIdx + limit);
  }
  const links: { next?: string; previous?: string } = {};
  if (page.length) {
    if (startIdx + page.length < matching.length) links.next = pageUrl(req, 'events.json', { filters: params, lastId: BigInt(page[page.length - 1].id), direction: 'next' }, query);
    if (cursor && startIdx > 0) links.previous = pageUrl(req, 'events.json', { filters: params, lastId: BigInt(page[0].id), direction: 'prev' }, query);
  }
  const link = buildLinkHeader(links);
  const body = page.map(({ createdMs: _c, ...e }) => project(e as unknown as JsonObject, fields));
  return { status: 200, body: { events: body }, headers: link ? { Link: link } : undefined };
}

function shopBody(shop: SimulatedShop): JsonObject {
  return {
    shop: {
      id: 548_380_009 + shop.shopNumber, name: shop.name, email: `owner@${shop.domain}`, domain: shop.domain, myshopify_domain: shop.domain,
      province: 'Kentucky', country: 'US', address1: 'Chestnut Street 92', zip: '40202', city: 'Louisville', phone: '555-555-5555',
      currency: shop.gen.currency, iana_timezone: 'America/New_York', timezone: '(GMT-05:00) Eastern Time (US & Canada)',
      plan_name: 'basic', plan_display_name: 'Basic', shop_owner: 'Simulated Owner', created_at: formatShopTime(Date.UTC(2023, 11, 1)),
      updated_at: formatShopTime(Date.UTC(2023, 11, 1)), money_format: '${{amount}}', weight_unit: 'kg', has_storefront: true,
      admin_graphql_api_id: `gid://shopify/Shop/${548_380_009 + shop.shopNumber}`,
    },
  };
}

function webhooksRoute(req: RestRequest, rest: string[]): RestResponse {
  const { shop } = req;
  if (rest.length === 0 && req.method === 'GET') return { status: 200, body: { webhooks: shop.subscriptions } };
  if (rest.length === 0 && req.method === 'POST') {
    let body: { webhook?: { topic?: string; address?: string } };
    try { body = parseShopifyJson(req.rawBody || '{}'); } catch { return badRequest('Invalid JSON'); }
    const topic = body.webhook?.topic;
    const address = body.webhook?.address;
    if (!topic || !address) return { status: 422, body: { errors: { topic: topic ? undefined : ["can't be blank"], address: address ? undefined : ["can't be blank"] } } };
    if (shop.subscriptions.some((s) => s.topic === topic && s.address === address)) return { status: 422, body: { errors: { address: ['for this topic has already been taken'] } } };
    return { status: 201, body: { webhook: shop.subscribe(topic as WebhookTopic, address) } };
  }
  if (rest.length === 1 && req.method === 'DELETE') {
    const id = Number(rest[0].replace(/\.json$/, ''));
    return shop.unsubscribe(id) ? { status: 200, body: {} } : notFound();
  }
  return notFound();
}

/**
 * Writes through REST, so peers and demos can change data over HTTP (same effects as the
 * mutation API: updated_at bump, events, webhooks): `POST /{resource}.json`,
 * `PUT|DELETE /{resource}/{id}.json`, `POST /orders/{id}/cancel.json`.
 */
function writeRoute(req: RestRequest, head: string, rest: string[]): RestResponse {
  const { shop } = req;
  let body: Record<string, unknown> = {};
  if (req.method === 'POST' || req.method === 'PUT') {
    try { body = req.rawBody ? parseShopifyJson(req.rawBody) : {}; } catch { return badRequest('Invalid JSON'); }
  }
  for (const resource of RESOURCES) {
    const key = SINGULAR[resource];
    if (req.method === 'POST' && head === `${resource}.json` && rest.length === 0) {
      const data = body[key];
      if (!data || typeof data !== 'object') return badRequest({ [key]: 'Required parameter missing or invalid' });
      return { status: 201, body: { [key]: shop.create(resource, data as JsonObject) } };
    }
    if (head !== resource || rest.length < 1) continue;
    const m = /^(\d+)(\.json)?$/.exec(rest[0]);
    if (!m || !shop.find(resource, BigInt(m[1]))) return notFound();
    const id = BigInt(m[1]);
    if (rest.length === 1 && req.method === 'PUT') {
      const data = body[key];
      if (!data || typeof data !== 'object') return badRequest({ [key]: 'Required parameter missing or invalid' });
      const { id: _ignored, ...patch } = data as JsonObject;
      return { status: 200, body: { [key]: shop.update(resource, id, patch) } };
    }
    if (rest.length === 1 && req.method === 'DELETE') {
      shop.delete(resource, id);
      return { status: 200, body: {} };
    }
    if (resource === 'orders' && rest.length === 2 && req.method === 'POST' && rest[1] === 'cancel.json') {
      return { status: 200, body: { order: shop.cancelOrder(id, typeof body.reason === 'string' ? body.reason : 'other') } };
    }
  }
  return notFound();
}

/**
 * Routes one authenticated REST request of a shop.
 *
 * @example
 * ```ts
 * handleRest({ shop, method: 'GET', path: 'orders/count.json', query: new URLSearchParams('status=any'), apiBase, rawBody: '' })
 * // { status: 200, body: { count: 100 } }
 * ```
 */
export function handleRest(req: RestRequest): RestResponse {
  const segments = req.path.split('/').filter(Boolean);
  const [head, ...rest] = segments;
  if (!head) return notFound();
  if (head === 'shop.json' && req.method === 'GET') return { status: 200, body: shopBody(req.shop) };
  if (head === 'webhooks.json' || head === 'webhooks') return webhooksRoute(req, rest);
  if (req.method !== 'GET') return writeRoute(req, head, rest);
  if (head === 'events.json') return listEvents(req, false);
  if (head === 'events' && rest[0] === 'count.json') return listEvents(req, true);
  for (const resource of RESOURCES) {
    if (head === `${resource}.json` && rest.length === 0) return listResource(req, resource);
    if (head === resource && rest.length === 1) {
      if (rest[0] === 'count.json') return countResource(req, resource);
      const m = /^(\d+)\.json$/.exec(rest[0]);
      if (m) return showResource(req, resource, m[1]);
    }
  }
  return notFound();
}
