/**
 * The GraphQL Admin API of the simulator: `POST /admin/api/{version}/graphql.json`.
 *
 * Supported (selection sets are honoured, aliases and fragments work, unknown fields are null):
 * - `shop { name id myshopifyDomain currencyCode ... }`
 * - `customers|products|orders(first|last, after, reverse, query)` connections with `edges { cursor node }`,
 *   `nodes` and `pageInfo`; `query` understands `updated_at:>=...`, `updated_at:<...`,
 *   `created_at:...`, `id:>...` and, for orders, `status:open|closed|cancelled|any` (terms joined by spaces/AND).
 *   Results come in id order, or with `sortKey: UPDATED_AT|CREATED_AT` in that time's order (ties by
 *   id; a record changed after a page was served comes again later, and a cursor of another sort is
 *   refused); other sort keys are served in id order.
 * - `customer|product|order(id:)`, `node(id:)`, nested `lineItems`, `variants`, `images`, `addressesV2` connections.
 * - Bulk operations: `bulkOperationRunQuery`, `bulkOperationCancel`, `bulkOperation(id:)`,
 *   `currentBulkOperation`, the JSONL result file and the `bulk_operations/finish` webhook.
 * - Shop-specific webhook subscriptions: `webhookSubscriptions`, `webhookSubscription(id:)` and the
 *   create/update/delete mutations (webhook-subscriptions.ts).
 *
 * Cost follows Shopify's calculation (scalars 0, objects 1, connections 2 + first x node cost, an
 * interface or union the costliest of its possible selections, mutations 10), charged up front from
 * a restoring bucket; the unused part is refunded, and a request the bucket cannot pay gets a
 * `THROTTLED` error in a 200.
 * https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits
 */
import type http from 'node:http';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { RestResponse } from './rest-api.js';
import type { SimulatedShop } from './shop.js';
import type { Clock } from './clock.js';
import type { WebhookDispatcher } from './webhooks.js';
import type { Logger } from '../logger.js';
import type { JsonObject, ResourceName } from './generator.js';
import type { RecordFilter, SortPosition, SortTime } from './resource-table.js';
import { parseGraphql, resolveArgs, GraphqlSyntaxError, GraphqlValidationError, type FieldNode, type OperationNode } from './graphql-parser.js';
import { getNamedType, isInterfaceType, isListType, isNonNullType, isObjectType, type GraphQLNamedType, type GraphQLObjectType, type GraphQLType } from 'graphql';
import { adminSchema } from './admin-schema.js';
import { ConnectionSource, productNode, toGraphqlNode as restToNode } from './graphql-nodes.js';
import { findOrderItem, withOrderMoney } from './order-money.js';
import { stringifyShopifyJson } from '../json.js';
import { createWebhookSubscriptions, SubscriptionRequestError } from './webhook-subscriptions.js';

/** A REST record as its GraphQL node (orders with their refunds, transactions and fulfillments: order-money.ts). */
const toGraphqlNode = (resource: ResourceName, record: JsonObject): JsonObject => (resource === 'orders' ? withOrderMoney(restToNode(resource, record), record) : restToNode(resource, record));

const RESOURCES: ResourceName[] = ['customers', 'products', 'orders'];
const SINGULAR: Record<string, ResourceName> = { customer: 'customers', product: 'products', order: 'orders' };
const GID_TYPES: Record<string, ResourceName> = { Customer: 'customers', Product: 'products', Order: 'orders' };
const MAX_PAGE = 250;

/** Bulk operation behaviour. */
export interface BulkOptions {
  /** Simulated ms from CREATED to RUNNING (default 1000). */
  startDelayMs?: number;
  /** Root records processed per simulated second (default 20 000). */
  rowsPerSecond?: number;
  /** Result files ignore HTTP Range requests (answer 200 with the whole file), as some storage does. */
  ignoreRange?: boolean;
  /**
   * A directory to write each operation's result file to while it runs, as Shopify does: the
   * operation completes once its file is written (then with its `fileSize`), holds the data as it
   * was when it ran, and the file is served from disk (with `Content-Length`; a `Range` past its end
   * answers 416, as cloud storage does). Without it (the default) a file is generated from the
   * shop's current data as it is read, which costs the simulator's CPU while the app reads it.
   * Files are deleted by `stop()`.
   */
  resultDir?: string;
}

/** Result files written while their operations ran (`BulkOptions.resultDir`): what writing them cost. */
export interface ResultFileStats {
  /** Files written. */
  files: number;
  /** Their bytes. */
  bytes: number;
  /** Wall-clock ms spent writing them. */
  ms: number;
  /** CPU ms of the simulator's process while it wrote them. */
  cpuMs: number;
}

type BulkStatus = 'CREATED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELING' | 'CANCELED' | 'EXPIRED';

/** How long a bulk operation's result link works (Shopify: 7 days). */
const RESULT_TTL_MS = 7 * 24 * 3_600_000;
/** Orders older than this need `read_all_orders` (https://shopify.dev/docs/api/usage/access-scopes#orders-permissions). */
const RECENT_ORDERS_MS = 60 * 24 * 3_600_000;
/** Bulk query operations an app may run at once per shop: 5 from API 2026-01, 1 before. */
const bulkLimitFor = (version: string) => (version === 'unstable' || version >= '2026-01' ? 5 : 1);

/** What happens to the next bulk operation (see `failNextBulkOperation`). */
export type BulkFault = 'TIMEOUT' | 'INTERNAL_SERVER_ERROR' | 'ACCESS_DENIED' | 'CANCELED';

interface BulkOperation {
  number: number;
  shop: SimulatedShop;
  status: BulkStatus;
  errorCode: string | null;
  createdAtMs: number;
  startedAtMs?: number;
  completedAtMs: number | null;
  query: string;
  resource: ResourceName;
  filter: RecordFilter;
  root: FieldNode;
  /** Root nodes of a connection served by stock.ts, listed when the operation started. */
  items?: JsonObject[];
  rootTotal: number;
  /** Roots written to the file (all, or the part before a failure). */
  rootsInFile: number;
  /** Children not next to their parents (`groupObjects: false`, the default since 2026-01). */
  scattered: boolean;
  /** Cancelled by Shopify, not by the app. */
  byShopify?: boolean;
  /** The result file written while it ran (`BulkOptions.resultDir`), its size and lines (every object, nested ones included). */
  file?: { path: string; bytes: number; objects: number };
  durationMs: number;
  timers: NodeJS.Timeout[];
}

class GraphqlError extends Error {
  constructor(message: string, readonly extensions?: JsonObject) {
    super(message);
  }
}

function encodeCursor(index: number): string {
  return Buffer.from(JSON.stringify({ i: index }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: unknown): number {
  const { i, m } = cursorFields(cursor);
  if (m === undefined) return i;
  throw new GraphqlError(`Invalid cursor for current pagination sort.`, { code: 'BAD_USER_INPUT' });
}

/** A cursor of a listing sorted by a time (`sortKey: CREATED_AT|UPDATED_AT`): the record's time and index. */
function encodeSortedCursor(position: SortPosition): string {
  return Buffer.from(JSON.stringify({ i: position.index, m: position.ms }), 'utf8').toString('base64url');
}

/** A sorted listing's cursor; one of another sort is refused, as Shopify refuses it. */
function decodeSortedCursor(cursor: unknown): SortPosition {
  const { i, m } = cursorFields(cursor);
  if (m !== undefined) return { index: i, ms: m };
  throw new GraphqlError(`Invalid cursor for current pagination sort.`, { code: 'BAD_USER_INPUT' });
}

function cursorFields(cursor: unknown): { i: number; m?: number } {
  if (typeof cursor !== 'string') throw new GraphqlError('Invalid cursor.', { code: 'BAD_USER_INPUT' });
  try {
    const { i, m } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { i: unknown; m?: unknown };
    if (typeof i === 'number' && Number.isInteger(i) && (m === undefined || (typeof m === 'number' && Number.isFinite(m)))) return { i, m: m as number | undefined };
  } catch { /* fall through */ }
  throw new GraphqlError(`Invalid cursor for current pagination sort.`, { code: 'BAD_USER_INPUT' });
}

/** The time a `sortKey` orders customers, products or orders by; undefined: id order (`ID`, none, or a key the simulator does not model). */
function sortTimeOf(sortKey: unknown): SortTime | undefined {
  return sortKey === 'UPDATED_AT' ? 'updated' : sortKey === 'CREATED_AT' ? 'created' : undefined;
}

/** Parses Shopify search syntax terms the simulator supports into a filter. https://shopify.dev/docs/api/usage/search-syntax */
export function parseSearchQuery(query: string | undefined, resource: ResourceName, shop: SimulatedShop): RecordFilter {
  const filter: RecordFilter = {};
  if (!query) return filter;
  const terms = query.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [];
  for (const term of terms) {
    if (term === 'AND') continue;
    const m = /^([a-z_]+):(>=|<=|>|<|=)?(.*)$/.exec(term);
    if (!m) continue;
    const [, field, op = '=', raw] = m;
    const quoted = /^['"]/.test(raw);
    let value = raw.replace(/^['"]|['"]$/g, '');
    if (field === 'updated_at' || field === 'created_at') {
      // Unquoted, Shopify's search honours only the date part of a timestamp (reported by Shopify support).
      if (!quoted && /^\d{4}-\d{2}-\d{2}T/.test(value)) value = value.slice(0, 10);
      const ms = Date.parse(value);
      if (Number.isNaN(ms)) throw new GraphqlError(`Invalid ${field} value: ${value}`, { code: 'BAD_USER_INPUT' });
      const min = field === 'updated_at' ? 'updatedMin' : 'createdMin';
      const max = field === 'updated_at' ? 'updatedMax' : 'createdMax';
      if (op === '>=') filter[min] = ms;
      else if (op === '>') filter[min] = ms + 1;
      else if (op === '<=') filter[max] = ms;
      else if (op === '<') filter[max] = ms - 1;
      else { filter[min] = ms; filter[max] = ms + 999; }
    } else if (field === 'id' && /^\d+$/.test(value)) {
      const id = BigInt(value);
      if (op === '>') filter.minIndex = shop.afterIndexOf(resource, id) + 1;
      else if (op === '>=') filter.minIndex = shop.beforeIndexOf(resource, id);
      else if (op === '=') filter.indices = [shop.gen.indexOf(resource, id)].filter((i) => i >= 0);
    } else if (field === 'status' && resource === 'orders' && ['open', 'closed', 'cancelled', 'any'].includes(value)) {
      filter.status = value as RecordFilter['status'];
    }
  }
  if (resource === 'orders' && !filter.status) filter.status = 'any';
  return filter;
}

const COUNT_FIELDS: Record<string, ResourceName> = { ordersCount: 'orders', customersCount: 'customers', productsCount: 'products' };

/** Fields Shopify withholds from apps not approved for protected customer data (level 2: name, email, phone, address). */
const PROTECTED: Record<string, ReadonlySet<string>> = {
  customers: new Set(['email', 'phone', 'firstName', 'lastName', 'displayName', 'defaultEmailAddress', 'defaultPhoneNumber', 'defaultAddress', 'addresses', 'addressesV2']),
  orders: new Set(['email', 'phone', 'billingAddress', 'shippingAddress']),
};

/** The node selection of a connection field: its `nodes`, or its `edges { node }`. */
function connectionNode(field: FieldNode): FieldNode | undefined {
  return field.selections.find((s) => s.name === 'nodes') ?? field.selections.find((s) => s.name === 'edges')?.selections.find((s) => s.name === 'node');
}

/**
 * The nodes a connection's answer holds, through `nodes` or `edges { node }` under their aliases,
 * each with its path below the connection (an edge selected without its node yields undefined).
 */
function returnedNodes(field: FieldNode, value: JsonObject): Array<{ node: unknown; path: Array<string | number> }> {
  const nodesField = field.selections.find((s) => s.name === 'nodes');
  if (nodesField) return ((value[nodesField.alias] as unknown[] | null) ?? []).map((node, i) => ({ node, path: [nodesField.alias, i] }));
  const edgesField = field.selections.find((s) => s.name === 'edges');
  if (!edgesField) return [];
  const nodeField = edgesField.selections.find((s) => s.name === 'node');
  return ((value[edgesField.alias] as JsonObject[] | null) ?? []).map((edge, i) => (nodeField
    ? { node: edge?.[nodeField.alias], path: [edgesField.alias, i, nodeField.alias] }
    : { node: undefined, path: [edgesField.alias, i] }));
}

/** Does a query of `resource` select a protected field? */
function selectsProtected(resource: ResourceName, root: FieldNode): boolean {
  const node = connectionNode(root);
  return Boolean(node?.selections.some((s) => PROTECTED[resource]?.has(s.name)));
}

/**
 * An app not approved for protected customer data gets the record with those fields null and one
 * `ACCESS_DENIED` error per field, in a 200 with the data kept.
 * https://shopify.dev/docs/apps/launch/protected-customer-data
 */
function withholdProtected(shop: SimulatedShop, field: FieldNode, value: JsonObject, errors: JsonObject[]): void {
  const protectedFields = PROTECTED[field.name];
  if (shop.protectedCustomerData || !protectedFields) return;
  const node = connectionNode(field);
  const selected = node?.selections.filter((s) => protectedFields.has(s.name)) ?? [];
  if (!selected.length) return;
  const type = field.name === 'customers' ? 'Customer' : 'Order';
  for (const { node: record, path } of returnedNodes(field, value)) {
    if (record === null || typeof record !== 'object') continue;
    for (const sel of selected) {
      (record as JsonObject)[sel.alias] = null;
      errors.push({
        message: `This app is not approved to access the ${type} object. See https://shopify.dev/docs/apps/launch/protected-customer-data for more details.`,
        path: [field.alias, ...path, sel.alias],
        extensions: { code: 'ACCESS_DENIED' },
      });
    }
  }
}

/**
 * Shopify's rules for bulk queries (https://shopify.dev/docs/api/usage/bulk-operations/queries#operation-restrictions):
 * one top-level field, at most 5 connections, connections nested at most 2 levels, `id` selected on
 * the parent of a nested connection, and no connection inside a list field. Null when the query is fine.
 */
function bulkQueryProblem(op: OperationNode): string | null {
  if (op.kind !== 'query') return 'Bulk operations only run queries.';
  if (op.selections.length !== 1) return 'Bulk queries must contain exactly one top-level field.';
  const schema = adminSchema();
  let connections = 0;
  let problem: string | null = null;
  const walk = (selections: FieldNode[], parent: GraphQLNamedType, depth: number, inList: boolean): void => {
    if (problem || !isObjectType(parent) && !isInterfaceType(parent)) return;
    const fields = (parent as GraphQLObjectType).getFields();
    for (const sel of selections) {
      const def = fields[sel.name];
      if (!def) continue;
      let type: GraphQLType = def.type;
      let list = false;
      for (;;) {
        if (isNonNullType(type)) type = type.ofType;
        else if (isListType(type)) { list = true; type = type.ofType; } else break;
      }
      const named = getNamedType(type);
      if (named.name.endsWith('Connection')) {
        connections++;
        if (inList) { problem = `Queries that contain a connection field within a list field are not currently supported (${sel.name}).`; return; }
        if (depth >= 2) { problem = 'Bulk queries cannot contain connections nested more than 2 levels deep.'; return; }
        if (depth >= 1 && !selections.some((s) => s.name === 'id')) { problem = `The parent 'node' field for a nested connection must select the 'id' field. Connection fields without 'id': ${sel.name}.`; return; }
        const node = connectionNode(sel);
        const nodeType = (isObjectType(named) ? named.getFields() : {})[sel.selections.some((s) => s.name === 'nodes') ? 'nodes' : 'edges'];
        let inner: GraphQLNamedType | undefined = nodeType ? getNamedType(nodeType.type) : undefined;
        if (inner && inner.name.endsWith('Edge') && isObjectType(inner)) inner = getNamedType(inner.getFields().node.type);
        if (node && inner) walk(node.selections, inner, depth + 1, false);
      } else if (sel.selections.length) {
        walk(sel.selections, named, depth, inList || list);
      }
    }
  };
  walk(op.selections, schema.getQueryType()!, 0, false);
  if (problem) return problem;
  if (connections > 5) return 'Bulk queries cannot contain more than 5 connections.';
  if (connections === 0) return 'Bulk queries must contain at least one connection.';
  return null;
}

/**
 * Requested cost of a selection: the fields that apply to every record, plus the costliest of the
 * per-type selections (fragments on concrete types): Shopify prices an interface or union at the
 * maximum of its possible selections (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits).
 */
function fieldsCost(selections: FieldNode[], vars: Record<string, unknown>): number {
  let common = 0;
  const perType = new Map<string, number>();
  for (const f of selections) {
    const cost = fieldCost(f, vars);
    if (f.on) perType.set(f.on, (perType.get(f.on) ?? 0) + cost);
    else common += cost;
  }
  return common + (perType.size ? Math.max(...perType.values()) : 0);
}

function isConnection(field: FieldNode): boolean {
  return field.selections.some((s) => s.name === 'edges' || s.name === 'nodes' || s.name === 'pageInfo');
}

/** Shopify's requested cost of one field. */
function fieldCost(field: FieldNode, vars: Record<string, unknown>): number {
  if (!field.selections.length) return 0;
  // nodes(ids:) costs one node per id.
  if (field.name === 'nodes' && !isConnection(field)) {
    const ids = resolveArgs(field.args, vars).ids;
    return (Array.isArray(ids) ? ids.length : 1) * (1 + fieldsCost(field.selections, vars));
  }
  if (isConnection(field)) {
    const args = resolveArgs(field.args, vars);
    const n = Number(args.first ?? args.last ?? 0);
    const node = connectionNode(field);
    return 2 + n * (1 + (node ? fieldsCost(node.selections, vars) : 0));
  }
  return 1 + fieldsCost(field.selections, vars);
}

/**
 * Shopify's actual cost of one field as answered: a connection costs 2 plus each node it returned
 * (not each it could have), at every depth, so a page of orders with 3 line items each is charged
 * for 3 line items, not the `first: 50` asked for. Where the answer cannot tell (a field of a
 * fragment on one type, a list field, `nodes(ids:)`, an object that came back null) the requested
 * cost stands: the refund errs on the small side.
 */
function actualFieldCost(field: FieldNode, value: unknown, vars: Record<string, unknown>): number {
  if (!field.selections.length) return 0;
  if (value === null || typeof value !== 'object' || Array.isArray(value) || (field.name === 'nodes' && !isConnection(field))) return fieldCost(field, vars);
  const object = value as JsonObject;
  if (!isConnection(field)) return 1 + actualFieldsCost(field.selections, object, vars);
  const node = connectionNode(field);
  let cost = 2;
  for (const { node: item } of returnedNodes(field, object)) {
    if (!node) cost += 1;
    else cost += 1 + (item !== null && typeof item === 'object' ? actualFieldsCost(node.selections, item as JsonObject, vars) : fieldsCost(node.selections, vars));
  }
  return cost;
}

/** Actual cost of a selection on one answered object (see {@link actualFieldCost}); per-type fields at their requested maximum. */
function actualFieldsCost(selections: FieldNode[], object: JsonObject, vars: Record<string, unknown>): number {
  let common = 0;
  const perType = new Map<string, number>();
  for (const f of selections) {
    if (f.on) perType.set(f.on, (perType.get(f.on) ?? 0) + fieldCost(f, vars));
    else common += actualFieldCost(f, object[f.alias], vars);
  }
  return common + (perType.size ? Math.max(...perType.values()) : 0);
}

/**
 * Creates the GraphQL endpoint handler (one per simulator).
 *
 * @example
 * ```ts
 * const res = await fetch(`${sim.url}/admin/api/2025-01/graphql.json`, {
 *   method: 'POST', headers: { 'X-Shopify-Access-Token': token, 'Content-Type': 'application/json' },
 *   body: JSON.stringify({ query: '{ orders(first: 10, query: "updated_at:>=\'2024-06-01T00:00:00Z\'") { nodes { id updatedAt } pageInfo { hasNextPage endCursor } } }' }),
 * });
 * ```
 */
export function createGraphqlApi(init: { clock: Clock; timeScale: number; webhooks: WebhookDispatcher; fileUrl: (path: string) => string; bulk?: BulkOptions; logger?: Logger }) {
  const subscriptions = createWebhookSubscriptions();
  const operations = new Map<string, BulkOperation>();
  const current = new Map<SimulatedShop, BulkOperation>();
  let nextOperation = 1;
  let failNext: { errorCode: BulkFault; fraction: number } | undefined;
  const bulkOptions: BulkOptions = { ...init.bulk };

  function project(value: unknown, field: FieldNode, vars: Record<string, unknown>): unknown {
    if (value instanceof ConnectionSource) return listConnection(value.items, field, vars);
    if (value === undefined || value === null) return null;
    if (!field.selections.length) return value;
    if (Array.isArray(value)) {
      const args = resolveArgs(field.args, vars);
      const items = typeof args.first === 'number' ? value.slice(0, args.first) : value;
      return items.map((v) => project(v, field, vars));
    }
    if (typeof value === 'object') {
      const obj = value as JsonObject;
      const out: JsonObject = {};
      for (const sel of field.selections) {
        // A field of a fragment on another object type than this object's is left out, as GraphQL
        // leaves it out (not null).
        if (sel.on !== undefined && typeof obj.__typename === 'string' && sel.on !== obj.__typename) continue;
        out[sel.alias] = sel.name === '__typename' ? obj.__typename ?? null : project(obj[sel.name], sel, vars);
      }
      return out;
    }
    return value;
  }

  function connectionResult(page: Array<{ cursor: string; node: unknown }>, info: { hasNextPage: boolean; hasPreviousPage: boolean }, field: FieldNode, vars: Record<string, unknown>): JsonObject {
    const out: JsonObject = {};
    for (const sel of field.selections) {
      if (sel.name === 'edges') {
        out[sel.alias] = page.map((e) => {
          const edge: JsonObject = {};
          for (const s of sel.selections) edge[s.alias] = s.name === 'cursor' ? e.cursor : s.name === 'node' ? project(e.node, s, vars) : s.name === '__typename' ? 'Edge' : null;
          return edge;
        });
      } else if (sel.name === 'nodes') out[sel.alias] = page.map((e) => project(e.node, sel, vars));
      else if (sel.name === 'pageInfo') {
        out[sel.alias] = project({
          hasNextPage: info.hasNextPage, hasPreviousPage: info.hasPreviousPage,
          startCursor: page[0]?.cursor ?? null, endCursor: page[page.length - 1]?.cursor ?? null,
        }, sel, vars);
      } else out[sel.alias] = null;
    }
    return out;
  }

  function listConnection(items: JsonObject[], field: FieldNode, vars: Record<string, unknown>): JsonObject {
    const args = resolveArgs(field.args, vars);
    const start = args.after !== undefined && args.after !== null ? decodeCursor(args.after) + 1 : 0;
    const first = Math.min(Number(args.first ?? args.last ?? MAX_PAGE), MAX_PAGE);
    // `last: n` without a cursor: the list's last n.
    if (args.first === undefined && args.last !== undefined && start === 0 && (args.before === undefined || args.before === null)) {
      const from = Math.max(0, items.length - first);
      const tail = items.slice(from).map((node, k) => ({ cursor: encodeCursor(from + k), node }));
      return connectionResult(tail, { hasNextPage: false, hasPreviousPage: from > 0 }, field, vars);
    }
    const page = items.slice(start, start + first).map((node, k) => ({ cursor: encodeCursor(start + k), node }));
    return connectionResult(page, { hasNextPage: start + first < items.length, hasPreviousPage: start > 0 }, field, vars);
  }

  function resourceConnection(shop: SimulatedShop, resource: ResourceName, field: FieldNode, vars: Record<string, unknown>): JsonObject {
    const args = resolveArgs(field.args, vars);
    if (args.first === undefined && args.last === undefined) throw new GraphqlError('you must provide one of first or last', { code: 'BAD_USER_INPUT' });
    const requested = Number(args.first ?? args.last);
    if (!Number.isInteger(requested) || requested < 0) throw new GraphqlError('first must be a positive integer', { code: 'BAD_USER_INPUT' });
    if (requested > MAX_PAGE) throw new GraphqlError(`The maximum number of results is ${MAX_PAGE}.`, { code: 'BAD_USER_INPUT' });
    const filter = visibleFilter(shop, resource, parseSearchQuery(typeof args.query === 'string' ? args.query : undefined, resource, shop));
    const table = shop.tables[resource];
    // `last` and `reverse` both walk from the newest id; `reverse` with `last` walks from the oldest.
    const descending = Boolean(args.reverse) !== (args.last !== undefined && args.first === undefined);
    const cursorArg = args.after ?? args.before;
    const by = sortTimeOf(args.sortKey);
    if (by !== undefined) {
      // Sorted by a time: Shopify's cursor marks a place in that order, so a record changed after a
      // page was served (a later updated_at) comes again further on.
      const position = cursorArg !== undefined && cursorArg !== null ? decodeSortedCursor(cursorArg) : undefined;
      const sorted = table.listSorted(filter, by, position, descending, requested);
      const edges = sorted.indices.map((i) => ({ cursor: encodeSortedCursor(table.sortPosition(i, by)!), node: shop.metafields.decorate(toGraphqlNode(resource, table.get(i)!)) }));
      return connectionResult(edges, { hasNextPage: sorted.hasMore, hasPreviousPage: position !== undefined }, field, vars);
    }
    const cursor = cursorArg !== undefined && cursorArg !== null ? decodeCursor(cursorArg) : undefined;
    const page = descending
      ? table.list(filter, { before: cursor ?? Number.MAX_SAFE_INTEGER }, requested)
      : table.list(filter, { after: cursor ?? -1 }, requested);
    const indices = descending ? [...page.indices].reverse() : page.indices;
    const edges = indices.map((i) => ({ cursor: encodeCursor(i), node: shop.metafields.decorate(toGraphqlNode(resource, table.get(i)!)) }));
    return connectionResult(edges, { hasNextPage: page.hasMore, hasPreviousPage: cursor !== undefined }, field, vars);
  }

  function nodeById(shop: SimulatedShop, gid: unknown): JsonObject | null {
    const m = typeof gid === 'string' ? /^gid:\/\/shopify\/(\w+)\/(\d+)/.exec(gid) : null;
    if (!m) return null;
    if (m[1] === 'BulkOperation') {
      const op = operations.get(gid as string);
      return op && op.shop === shop ? bulkObject(op) : null;
    }
    const resource = GID_TYPES[m[1]];
    if (m[1] === 'Shop') return gid === shopObject(shop).id ? shopNode(shop) : null;
    if (m[1] === 'ProductVariant') return shop.metafields.decorate(variantNodes(shop).find((v) => v.id === gid) ?? null);
    if (!resource) return shop.metafields.decorate(shop.stock.node(gid as string) ?? shop.discounts.node(gid as string) ?? shop.drafts.node(gid as string) ?? findOrderItem(shop, m[1], m[2], (order) => toGraphqlNode('orders', order)));
    const record = shop.find(resource, BigInt(m[2]));
    return record ? shop.metafields.decorate(toGraphqlNode(resource, record)) : null;
  }

  /** `shop` as served: its own fields, stock.ts' additions, its metafields. */
  function shopNode(shop: SimulatedShop): JsonObject {
    return shop.metafields.decorate({ ...shopObject(shop), ...shop.stock.shopFields() });
  }

  /** `productVariants`: every variant of the live products, in product then position order. */
  function variantNodes(shop: SimulatedShop): JsonObject[] {
    const table = shop.tables.products;
    const out: JsonObject[] = [];
    for (let after = -1; ;) {
      const page = table.list({}, { after }, MAX_PAGE);
      for (const i of page.indices) out.push(...(productNode(table.get(i)!).variants as ConnectionSource).items);
      if (!page.hasMore || !page.indices.length) break;
      after = page.indices[page.indices.length - 1];
    }
    return out;
  }

  /** Root connections served by modules (stock.ts, discounts.ts, drafts.ts, variants), nodes decorated with their metafields; undefined for other fields. */
  function moduleList(shop: SimulatedShop, field: string, args: Record<string, unknown>): JsonObject[] | undefined {
    const list = field === 'productVariants' ? variantNodes(shop) : shop.stock.list(field, args) ?? shop.discounts.list(field, args) ?? shop.drafts.list(field, args);
    return list?.map((n) => shop.metafields.decorate(n));
  }

  function shopObject(shop: SimulatedShop): JsonObject {
    return {
      __typename: 'Shop', id: `gid://shopify/Shop/${548_380_009 + shop.shopNumber}`, name: shop.name, myshopifyDomain: shop.domain,
      email: `owner@${shop.domain}`, currencyCode: shop.gen.currency, ianaTimezone: 'America/New_York', plan: { displayName: 'Basic' },
      url: `https://${shop.domain}`,
    };
  }

  // ---- bulk operations -------------------------------------------------------------------

  function gidOf(op: BulkOperation): string {
    return `gid://shopify/BulkOperation/${op.number}`;
  }

  function fileUrl(op: BulkOperation, partial: boolean): string {
    return init.fileUrl(`/bulk/${op.shop.shopNumber}/${op.number}${partial ? '-partial' : ''}.jsonl`);
  }

  function processedRoots(op: BulkOperation): number {
    if (op.status === 'COMPLETED' || op.status === 'FAILED' || op.status === 'CANCELED' || op.status === 'EXPIRED') return op.rootsInFile;
    if (op.status !== 'RUNNING' || op.startedAtMs === undefined) return 0;
    const fraction = Math.min(1, ((init.clock() - op.startedAtMs) * init.timeScale) / Math.max(1, op.durationMs));
    return Math.floor(op.rootTotal * fraction);
  }

  /** A completed operation whose result link is older than 7 days reports EXPIRED. */
  function expireIfOld(op: BulkOperation): void {
    if (op.status === 'COMPLETED' && op.completedAtMs !== null && init.clock() - op.completedAtMs > RESULT_TTL_MS) op.status = 'EXPIRED';
  }

  function bulkObject(op: BulkOperation): JsonObject {
    expireIfOld(op);
    const done = op.status === 'COMPLETED';
    const roots = processedRoots(op);
    return {
      __typename: 'BulkOperation', id: gidOf(op), status: op.status, errorCode: op.errorCode, type: 'QUERY', query: op.query,
      createdAt: new Date(op.createdAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      completedAt: op.completedAtMs ? new Date(op.completedAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z') : null,
      // objectCount counts every object, nested ones included, as Shopify's does, once the file is
      // written (resultDir); before that, and for files generated as they are read, its roots.
      objectCount: String(op.file && op.status !== 'RUNNING' ? op.file.objects : roots), rootObjectCount: String(roots), fileSize: done && op.file ? String(op.file.bytes) : null,
      url: done && op.rootsInFile > 0 ? fileUrl(op, false) : null,
      partialDataUrl: op.status === 'FAILED' && op.rootsInFile > 0 ? fileUrl(op, true) : null,
    };
  }

  function finishWebhook(op: BulkOperation): void {
    init.webhooks.deliver(op.shop, 'bulk_operations/finish', {
      admin_graphql_api_id: gidOf(op), completed_at: new Date(op.completedAtMs ?? init.clock()).toISOString(),
      created_at: new Date(op.createdAtMs).toISOString(), error_code: op.errorCode ? op.errorCode.toLowerCase() : null,
      status: op.status.toLowerCase(), type: 'query',
    });
  }

  const running = (shop: SimulatedShop) => [...operations.values()].filter((o) => o.shop === shop && (o.status === 'CREATED' || o.status === 'RUNNING' || o.status === 'CANCELING'));

  function startBulk(shop: SimulatedShop, query: unknown, groupObjects: boolean, version: string): JsonObject {
    const limit = bulkLimitFor(version);
    const busy = running(shop);
    if (busy.length >= limit) {
      return limit === 1
        ? { bulkOperation: null, userErrors: [{ field: null, message: `A bulk query operation for this app and shop is already in progress: ${gidOf(busy[0])}.`, code: 'OPERATION_IN_PROGRESS' }] }
        : { bulkOperation: null, userErrors: [{ field: null, message: `Limit of ${limit} concurrent bulk query operations per shop reached.`, code: 'LIMIT_REACHED' }] };
    }
    let root: FieldNode | undefined;
    let message = '';
    try {
      const parsed = parseGraphql(String(query ?? ''), undefined, adminSchema());
      message = bulkQueryProblem(parsed) ?? '';
      const tops = parsed.selections.filter((s) => RESOURCES.includes(s.name as ResourceName) || ['productVariants', 'discountNodes'].includes(s.name) || shop.stock.list(s.name, {}) !== undefined || shop.drafts.list(s.name, {}) !== undefined);
      if (!message && tops.length !== 1) message = 'Bulk queries must contain exactly one top-level connection field the simulator serves: customers, products or orders.';
      if (!message) root = tops[0];
    } catch (error) {
      message = error instanceof GraphqlValidationError ? `Invalid bulk query: ${error.message}` : `Invalid bulk query: ${(error as Error).message}`;
    }
    if (!root) return { bulkOperation: null, userErrors: [{ field: ['query'], message, code: 'INVALID' }] };
    const items = moduleList(shop, root.name, resolveArgs(root.args, {}));
    const resource = root.name as ResourceName;
    const filter = items ? {} : visibleFilter(shop, resource, parseSearchQuery(typeof root.args.query === 'string' ? root.args.query : undefined, resource, shop));
    const rootTotal = items ? items.length : shop.tables[resource].count(filter);
    const rows = bulkOptions.rowsPerSecond ?? 20_000;
    const op: BulkOperation = {
      number: nextOperation++, shop, status: 'CREATED', errorCode: null, createdAtMs: init.clock(), completedAtMs: null, query: String(query),
      resource, filter, root, items, rootTotal, rootsInFile: 0, durationMs: Math.max(100, (rootTotal / rows) * 1000), timers: [], scattered: !groupObjects,
    };
    operations.set(gidOf(op), op);
    current.set(shop, op);
    // Protected customer data the app is not approved for: Shopify fails the whole operation.
    let fail = failNext;
    failNext = undefined;
    if (!fail && !shop.protectedCustomerData && selectsProtected(resource, root)) fail = { errorCode: 'ACCESS_DENIED', fraction: 0 };
    const startWall = (bulkOptions.startDelayMs ?? 1000) / init.timeScale;
    op.timers.push(setTimeout(() => {
      if (op.status !== 'CREATED') return;
      op.status = 'RUNNING';
      op.startedAtMs = init.clock();
      const runWall = (fail ? op.durationMs * fail.fraction : op.durationMs) / init.timeScale;
      op.timers.push(setTimeout(() => {
        if (op.status !== 'RUNNING') return;
        const roots = fail?.errorCode === 'CANCELED' || fail?.errorCode === 'ACCESS_DENIED' ? 0 : fail ? Math.floor(op.rootTotal * fail.fraction) : op.rootTotal;
        const finish = () => {
          if (op.status !== 'RUNNING') return;
          op.completedAtMs = init.clock();
          op.rootsInFile = roots;
          if (fail?.errorCode === 'CANCELED') {
            // Shopify cancels stalled operations on its own (the app did not ask).
            op.status = 'CANCELED';
            op.byShopify = true;
          } else if (fail) {
            op.status = 'FAILED';
            op.errorCode = fail.errorCode;
          } else {
            op.status = 'COMPLETED';
          }
          finishWebhook(op);
        };
        if (!bulkOptions.resultDir || roots === 0) { finish(); return; }
        writeResultFile(op, bulkOptions.resultDir, roots).then(finish, (error: unknown) => {
          // A file that cannot be written fails the operation, as Shopify reports its own errors.
          if (op.status !== 'RUNNING') return;
          op.completedAtMs = init.clock();
          op.status = 'FAILED';
          op.errorCode = 'INTERNAL_SERVER_ERROR';
          op.rootsInFile = 0;
          init.logger?.error('simulator: bulk result file not written', { operation: gidOf(op), error: (error as Error).message });
          finishWebhook(op);
        });
      }, runWall));
    }, startWall));
    return { bulkOperation: bulkObject(op), userErrors: [] };
  }

  function cancelBulk(shop: SimulatedShop, id: unknown): JsonObject {
    const op = operations.get(String(id));
    if (!op || op.shop !== shop) return { bulkOperation: null, userErrors: [{ field: ['id'], message: 'Bulk operation does not exist' }] };
    if (op.status !== 'CREATED' && op.status !== 'RUNNING') {
      return { bulkOperation: bulkObject(op), userErrors: [{ field: null, message: `A bulk operation cannot be canceled when it is ${op.status.toLowerCase()}` }] };
    }
    op.rootsInFile = processedRoots(op);
    op.status = 'CANCELING';
    for (const t of op.timers) clearTimeout(t);
    op.timers.push(setTimeout(() => {
      op.status = 'CANCELED';
      op.completedAtMs = init.clock();
      finishWebhook(op);
    }, 100 / init.timeScale));
    return { bulkOperation: bulkObject(op), userErrors: [] };
  }

  /** JSONL lines of one root record: the node without connections, then each nested node with `__parentId`. */
  function bulkLines(op: BulkOperation, index: number): string[] {
    const record = op.items ? op.items[index] : op.shop.tables[op.resource].get(index);
    if (!record) return [];
    const node = op.items ? record : op.shop.metafields.decorate(toGraphqlNode(op.resource, record));
    const nodeSel = connectionNode(op.root) ?? op.root;
    // Connections of the node, and of its object fields (`discount { ... on DiscountCodeBasic { codes } }`): their own lines.
    const nested: Array<[ConnectionSource, FieldNode]> = [];
    const strip = (obj: JsonObject, sel: FieldNode): FieldNode => ({
      ...sel,
      selections: sel.selections.filter((s) => {
        const value = obj[s.name];
        // A field selected in several inline fragments (`... on DiscountCodeBasic { codes }`, `... on DiscountCodeBxgy { codes }`) is one field of the object.
        if (value instanceof ConnectionSource) { if (!nested.some(([v]) => v === value)) nested.push([value, s]); return false; }
        return true;
      }).map((s) => (s.selections.length && obj[s.name] && typeof obj[s.name] === 'object' && !Array.isArray(obj[s.name]) && obj === node ? strip(obj[s.name] as JsonObject, s) : s)),
    });
    const plain = strip(node, nodeSel);
    const lines = [stringifyShopifyJson(project(node, plain, {}))];
    const parentId = node.id;
    for (const [source, sel] of nested) {
      const childSel = connectionNode(sel);
      if (!childSel) continue;
      const items = source.options.bulkLimit !== undefined ? source.items.slice(0, source.options.bulkLimit) : source.items;
      for (const item of items) {
        const child = project(item, childSel, {}) as JsonObject;
        child.__parentId = parentId;
        lines.push(stringifyShopifyJson(child));
      }
    }
    return lines;
  }

  /**
   * The result file's lines, generated as they are read, 500 records at a time. With
   * `groupObjects: false` children still come after their parent but not next to it: the children
   * of each chunk follow the next chunk's records, in reverse order (scattered far from their parents,
   * deterministically).
   */
  function* fileChunks(op: BulkOperation): Generator<string> {
    const table = op.shop.tables[op.resource];
    let after = -1;
    let left = op.rootsInFile;
    let held: string[] = [];
    while (left > 0) {
      const page = op.items ? { indices: op.items.map((_, k) => k).slice(after + 1, after + 1 + Math.min(500, left)) } : table.list(op.filter, { after }, Math.min(500, left));
      if (!page.indices.length) break;
      let chunk = '';
      const children: string[] = [];
      for (const i of page.indices) {
        const [parent, ...rest] = bulkLines(op, i);
        if (parent === undefined) continue;
        if (op.scattered) { chunk += parent + '\n'; children.push(...rest); } else for (const line of [parent, ...rest]) chunk += line + '\n';
      }
      if (op.scattered) {
        for (let k = held.length - 1; k >= 0; k--) chunk += held[k] + '\n';
        held = children;
      }
      after = page.indices[page.indices.length - 1];
      left -= page.indices.length;
      yield chunk;
    }
    if (held.length) {
      let chunk = '';
      for (let k = held.length - 1; k >= 0; k--) chunk += held[k] + '\n';
      yield chunk;
    }
  }

  /** The chunks as they are, counting their lines on the way. */
  function* countLines(chunks: Iterable<string>, count: (lines: number) => void): Generator<string> {
    for (const chunk of chunks) {
      let n = 0;
      for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) n++;
      count(n);
      yield chunk;
    }
  }

  /** Result files written to `BulkOptions.resultDir`, what writing them cost (stats). */
  const written: ResultFileStats = { files: 0, bytes: 0, ms: 0, cpuMs: 0 };

  /**
   * Writes an operation's result file of `roots` root records while it runs (`BulkOptions.resultDir`),
   * with the file stream's backpressure, so the simulator keeps answering meanwhile.
   */
  async function writeResultFile(op: BulkOperation, dir: string, roots: number): Promise<void> {
    const file = path.join(dir, `shopify-simulator-${process.pid}-${op.shop.shopNumber}-${op.number}.jsonl`);
    op.file = { path: file, bytes: 0, objects: 0 };
    const objects = op.file;
    op.rootsInFile = roots;
    const t = performance.now();
    const cpu = process.cpuUsage();
    const out = createWriteStream(file);
    try {
      await pipeline(countLines(fileChunks(op), (n) => { objects.objects += n; }), out);
    } catch (error) {
      rmSync(file, { force: true });
      op.file = undefined;
      throw error;
    }
    op.file.bytes = out.bytesWritten;
    const used = process.cpuUsage(cpu);
    written.files++;
    written.bytes += out.bytesWritten;
    written.ms += performance.now() - t;
    written.cpuMs += (used.user + used.system) / 1000;
    if (op.status !== 'RUNNING') removeFile(op);
  }

  function removeFile(op: BulkOperation): void {
    if (op.file) rmSync(op.file.path, { force: true });
    op.file = undefined;
  }

  /** Streams a result file with backpressure, from byte `start` (an HTTP Range request) when given. */
  async function streamFile(op: BulkOperation, res: http.ServerResponse, range: string | undefined): Promise<void> {
    const m = /^bytes=(\d+)-$/.exec(range ?? '');
    const start = m && !bulkOptions.ignoreRange ? Number(m[1]) : 0;
    if (op.file) {
      const size = op.file.bytes;
      if (start >= size && start > 0) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
        return;
      }
      res.writeHead(start > 0 ? 206 : 200, {
        'Content-Type': 'application/jsonl', 'Content-Length': String(size - start), 'Accept-Ranges': bulkOptions.ignoreRange ? 'none' : 'bytes',
        ...(start > 0 ? { 'Content-Range': `bytes ${start}-${size - 1}/${size}` } : {}),
      });
      await pipeline(createReadStream(op.file.path, { start }), res);
      return;
    }
    res.writeHead(start > 0 ? 206 : 200, { 'Content-Type': 'application/jsonl', ...(start > 0 ? { 'Content-Range': `bytes ${start}-*/*` } : {}), 'Accept-Ranges': bulkOptions.ignoreRange ? 'none' : 'bytes' });
    let skipped = 0;
    for (const text of fileChunks(op)) {
      let chunk = Buffer.from(text, 'utf8');
      if (skipped < start) {
        const drop = Math.min(chunk.length, start - skipped);
        skipped += drop;
        chunk = chunk.subarray(drop);
        if (chunk.length === 0) continue;
      }
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
      if (res.destroyed) return;
    }
    res.end();
  }

  // ---- request handling ------------------------------------------------------------------

  /** Without `read_all_orders`, Shopify shows only the last 60 days of orders. */
  function visibleFilter(shop: SimulatedShop, resource: ResourceName, filter: RecordFilter): RecordFilter {
    if (resource !== 'orders' || shop.scopes.includes('read_all_orders')) return filter;
    const since = init.clock() - RECENT_ORDERS_MS;
    return { ...filter, createdMin: Math.max(filter.createdMin ?? -Infinity, since) };
  }

  function countRecords(shop: SimulatedShop, resource: ResourceName, args: Record<string, unknown>): JsonObject {
    const filter = visibleFilter(shop, resource, parseSearchQuery(typeof args.query === 'string' ? args.query : undefined, resource, shop));
    const count = shop.tables[resource].count(filter);
    // Counts stop at 10,000 unless `limit: null` (https://shopify.dev/docs/api/admin-graphql/latest/queries/ordersCount).
    const limit = args.limit === null ? Infinity : typeof args.limit === 'number' ? args.limit : 10_000;
    return { __typename: 'Count', count: Math.min(count, limit), precision: count > limit ? 'AT_LEAST' : 'EXACT' };
  }

  /** `events(query: "action:destroy AND subject_type:ORDER AND created_at:>='…'")`: the shop's destroy (and create) events as BasicEvents. */
  function eventsConnection(shop: SimulatedShop, field: FieldNode, vars: Record<string, unknown>): JsonObject {
    const args = resolveArgs(field.args, vars);
    const query = typeof args.query === 'string' ? args.query : '';
    const action = /action:(\w+)/.exec(query)?.[1];
    const subject = /subject_type:(\w+)/.exec(query)?.[1];
    const since = /created_at:>=?'?([^'\s]+)'?/.exec(query)?.[1];
    const sinceMs = since ? Date.parse(since) : -Infinity;
    const SUBJECTS: Record<string, string> = { Order: 'ORDER', Product: 'PRODUCT', Customer: 'CUSTOMER', Collection: 'COLLECTION', DraftOrder: 'DRAFT_ORDER' };
    const items = shop.events
      .filter((e) => (!action || e.verb === action) && (!subject || SUBJECTS[e.subject_type] === subject) && e.createdMs >= sinceMs)
      .map((e) => ({
        __typename: 'BasicEvent', id: `gid://shopify/BasicEvent/${e.id}`, action: e.verb, createdAt: new Date(e.createdMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        subjectId: `gid://shopify/${e.subject_type}/${String(e.subject_id)}`, subjectType: SUBJECTS[e.subject_type], message: e.message,
      }));
    return listConnection(items, field, vars);
  }

  /** `bulkOperations(query: "status:running operation_type:query")` (also `created_at:`, `id:` terms): this app's operations on the shop, newest first. */
  function bulkOperationsConnection(shop: SimulatedShop, field: FieldNode, vars: Record<string, unknown>): JsonObject {
    const args = resolveArgs(field.args, vars);
    const search = typeof args.query === 'string' ? args.query : '';
    const status = /status:(\w+)/i.exec(search)?.[1]?.toUpperCase();
    // `id:>N`, `created_at:>='<time>'` (any of > >= < <= or none, quoted or not).
    const idTerm = /(?:^|\s)id:([<>]=?)?(\d+)/.exec(search);
    const createdTerm = /created_at:([<>]=?)?'?([^'\s]+)'?/.exec(search);
    const holds = (value: number, [, op = '', bound]: RegExpExecArray, parse: (text: string) => number) => {
      const b = parse(bound);
      return op === '>' ? value > b : op === '>=' ? value >= b : op === '<' ? value < b : op === '<=' ? value <= b : value === b;
    };
    const items = [...operations.values()]
      .filter((o) => o.shop === shop && (!idTerm || holds(o.number, idTerm, Number)) && (!createdTerm || holds(o.createdAtMs, createdTerm, Date.parse)))
      .reverse().map((o) => bulkObject(o)).filter((o) => !status || o.status === status);
    return listConnection(items, field, vars);
  }

  function subscriptionCall(run: () => JsonObject): JsonObject {
    try { return run(); } catch (error) {
      if (error instanceof SubscriptionRequestError) throw new GraphqlError(error.message, error.extensions);
      throw error;
    }
  }

  function resolveRoot(shop: SimulatedShop, op: 'query' | 'mutation', field: FieldNode, vars: Record<string, unknown>, version: string, errors: JsonObject[]): unknown {
    const args = resolveArgs(field.args, vars);
    if (op === 'mutation') {
      if (field.name === 'bulkOperationRunQuery') return project(startBulk(shop, args.query, args.groupObjects === true, version), field, vars);
      if (field.name === 'bulkOperationCancel') return project(cancelBulk(shop, args.id), field, vars);
      if (subscriptions.handles(field.name)) return project(subscriptionCall(() => subscriptions.mutate(shop, field.name, args)), field, vars);
      throw new GraphqlError(`Field '${field.name}' doesn't exist on type 'Mutation'`, { code: 'undefinedField', typeName: 'Mutation', fieldName: field.name });
    }
    if (field.name === '__typename') return 'QueryRoot';
    if (field.name === 'shop') return project(shopNode(shop), field, vars);
    const stockNodes = moduleList(shop, field.name, args);
    if (stockNodes) return listConnection(stockNodes, field, vars);
    const stockCount = field.name === 'productVariantsCount'
      ? { __typename: 'Count', count: variantNodes(shop).length, precision: 'EXACT' }
      : shop.stock.count(field.name, args) ?? shop.discounts.count(field.name, args) ?? shop.drafts.count(field.name, args);
    if (stockCount) return project(stockCount, field, vars);
    if (RESOURCES.includes(field.name as ResourceName)) {
      const value = resourceConnection(shop, field.name as ResourceName, field, vars);
      withholdProtected(shop, field, value, errors);
      return value;
    }
    if (field.name === 'ordersCount' || field.name === 'customersCount' || field.name === 'productsCount') {
      return project(countRecords(shop, COUNT_FIELDS[field.name], args), field, vars);
    }
    if (field.name === 'events') return eventsConnection(shop, field, vars);
    if (field.name === 'bulkOperations') return bulkOperationsConnection(shop, field, vars);
    if (field.name === 'webhookSubscriptions') return listConnection(subscriptions.list(shop, args), field, vars);
    if (field.name === 'webhookSubscription') return project(subscriptions.get(shop, args.id), field, vars);
    if (field.name === 'currentAppInstallation') {
      return project({ __typename: 'AppInstallation', id: `gid://shopify/AppInstallation/${shop.shopNumber + 1}`, accessScopes: shop.scopes.map((handle) => ({ __typename: 'AccessScope', handle })) }, field, vars);
    }
    // Shopify answers at most 250 ids, null for each it does not know.
    if (field.name === 'nodes') {
      const ids = Array.isArray(args.ids) ? args.ids : [];
      if (ids.length > MAX_PAGE) throw new GraphqlError(`The maximum number of ids is ${MAX_PAGE}.`, { code: 'BAD_USER_INPUT' });
      return ids.map((id) => project(nodeById(shop, id), field, vars));
    }
    if (field.name === 'refund' || field.name === 'fulfillment') {
      const node = nodeById(shop, args.id);
      return node && String(node.__typename).toLowerCase() === field.name ? project(node, field, vars) : null;
    }
    if (SINGULAR[field.name]) {
      const node = nodeById(shop, args.id);
      return node && node.__typename?.toString().toLowerCase() === field.name ? project(node, field, vars) : null;
    }
    if (field.name === 'node') return project(nodeById(shop, args.id), field, vars);
    if (field.name === 'bulkOperation') return project(nodeById(shop, args.id), field, vars);
    if (field.name === 'currentBulkOperation') {
      const op = current.get(shop);
      return op ? project(bulkObject(op), field, vars) : null;
    }
    throw new GraphqlError(`Field '${field.name}' doesn't exist on type 'QueryRoot'`, { code: 'undefinedField', typeName: 'QueryRoot', fieldName: field.name });
  }

  return {
    /**
     * Makes the next bulk operation fail with `errorCode` after `fraction` of its roots
     * (`partialDataUrl` then serves them; none for ACCESS_DENIED), or be cancelled by Shopify (`CANCELED`).
     */
    failNextBulkOperation(errorCode: BulkFault = 'INTERNAL_SERVER_ERROR', fraction = 0.5): void {
      failNext = { errorCode, fraction };
    },
    /** Bulk operation timing from now on. */
    configureBulk(next: BulkOptions): void {
      Object.assign(bulkOptions, next);
    },

    /** Answers one GraphQL request of a shop. */
    handle(shop: SimulatedShop, rawBody: string, opts: { unthrottled: boolean; version?: string }): RestResponse {
      let body: { query?: unknown; variables?: unknown; operationName?: unknown };
      try { body = JSON.parse(rawBody || '{}'); } catch { return { status: 400, body: { errors: { query: 'Required parameter missing or invalid' } } }; }
      if (typeof body.query !== 'string' || !body.query.trim()) return { status: 400, body: { errors: { query: 'Required parameter missing or invalid' } } };
      const vars = (body.variables && typeof body.variables === 'object' ? body.variables : {}) as Record<string, unknown>;
      let op;
      try {
        op = parseGraphql(body.query, typeof body.operationName === 'string' ? body.operationName : undefined, adminSchema());
      } catch (error) {
        if (error instanceof GraphqlSyntaxError) return { status: 200, body: { errors: [{ message: error.message, extensions: { code: 'PARSE_ERROR' } }] } };
        // Shopify validates against its schema before running anything: nothing is charged.
        if (error instanceof GraphqlValidationError) return { status: 200, body: { errors: error.errors } };
        throw error;
      }
      const requested = op.kind === 'mutation' ? 10 : fieldsCost(op.selections, vars);
      const status = shop.costBucket.status();
      if (requested > status.maximumAvailable) {
        return { status: 200, body: { errors: [{ message: `Query cost is ${requested}, which exceeds the single query max cost limit (${status.maximumAvailable}).`, extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: status.maximumAvailable } }] } };
      }
      if (!opts.unthrottled && !shop.costBucket.tryTake(requested)) {
        return {
          status: 200,
          body: {
            errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
            extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: shop.costBucket.status() } },
          },
        };
      }
      const data: JsonObject = {};
      const errors: JsonObject[] = [];
      const actual = { saved: 0 };
      for (const field of op.selections) {
        try {
          data[field.alias] = resolveRoot(shop, op.kind, field, vars, opts.version ?? '2026-10', errors);
          // What the answer holds is charged, what it could have held refunded (queries; a mutation costs 10).
          if (op.kind === 'query') actual.saved += Math.max(0, fieldCost(field, vars) - actualFieldCost(field, data[field.alias], vars));
        } catch (error) {
          if (!(error instanceof GraphqlError)) throw error;
          data[field.alias] = null;
          errors.push({ message: error.message, path: [field.alias], extensions: error.extensions });
        }
      }
      const actualCost = Math.max(0, requested - actual.saved);
      if (!opts.unthrottled) shop.costBucket.refund(requested - actualCost);
      const out: JsonObject = { data };
      if (errors.length) out.errors = errors;
      out.extensions = { cost: { requestedQueryCost: requested, actualQueryCost: actualCost, throttleStatus: shop.costBucket.status() } };
      // Since 2025-04 the header lists the deprecations the request used (https://shopify.dev/changelog/graphql-return-actual-deprecation-reasons).
      const deprecated = op.deprecations.length > 0 ? { 'X-Shopify-API-Deprecated-Reason': op.deprecations.join(', ') } : undefined;
      return { status: 200, body: out, ...(deprecated ? { headers: deprecated } : {}) };
    },

    /** Serves `/bulk/{shop}/{op}.jsonl` (and `-partial.jsonl`); false when the path is not a result file. */
    serveFile(path: string, res: http.ServerResponse, range?: string): boolean {
      const m = /^\/bulk\/(\d+)\/(\d+)(-partial)?\.jsonl$/.exec(path);
      if (!m) return false;
      const op = operations.get(`gid://shopify/BulkOperation/${m[2]}`);
      if (!op || op.shop.shopNumber !== Number(m[1])) return false;
      expireIfOld(op);
      const linkAge = op.completedAtMs === null ? 0 : init.clock() - op.completedAtMs;
      if (op.status === 'EXPIRED' || linkAge > RESULT_TTL_MS) {
        // What cloud storage answers for an expired signed URL.
        res.writeHead(403, { 'Content-Type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>');
        return true;
      }
      const ready = m[3] ? op.status === 'FAILED' : op.status === 'COMPLETED';
      if (!ready) return false;
      streamFile(op, res, range).catch(() => res.destroy());
      return true;
    },

    /** Result files written while their operations ran (`BulkOptions.resultDir`): count, bytes, wall and CPU ms. */
    resultFiles(): ResultFileStats {
      return { ...written };
    },

    /** Cancels the timers of running bulk operations and deletes their result files. */
    stop(): void {
      for (const op of operations.values()) {
        for (const t of op.timers) clearTimeout(t);
        removeFile(op);
      }
    },
  };
}

/** The simulator's GraphQL Admin API (queries, bulk operations). */
export type GraphqlApi = ReturnType<typeof createGraphqlApi>;
