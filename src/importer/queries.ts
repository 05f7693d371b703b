/**
 * The GraphQL documents the engine sends, built from a resource's registry description. Every one
 * of them is validated against Shopify's 2026-10 Admin schema in tests/importer/queries.test.ts.
 */
import type { GraphqlSource, ListField, NestedConnection, ResourceDefinition } from '../resources/definition.js';

/** Shopify search syntax for `updated_at` (or `created_at`) in a window, UTC, quoted: unquoted, only the date part counts. */
export function timeWindowQuery(field: 'updated_at' | 'created_at', from: Date | null, to: Date | null, base: string | null): string | null {
  const terms: string[] = [];
  if (base) terms.push(base);
  if (from) terms.push(`${field}:>='${isoSeconds(from, 'floor')}'`);
  if (to) terms.push(`${field}:<='${isoSeconds(to, 'ceil')}'`);
  // Never send an empty query string: pass null (SHOPIFY-API.md, "Incremental sync").
  return terms.length ? terms.join(' AND ') : null;
}

/**
 * `2026-11-01T10:00:00Z`: search terms take seconds, so a bound is rounded outward (`floor` for a
 * lower bound, `ceil` for an upper one): a window never loses the millisecond edges of its records.
 */
export function isoSeconds(date: Date, round: 'floor' | 'ceil'): string {
  const ms = date.getTime();
  const s = round === 'floor' ? Math.floor(ms / 1000) : Math.ceil(ms / 1000);
  return new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

function nestedPaged(c: NestedConnection, first: number): string {
  return `${c.field}(first: ${first}) { nodes { ${squash(c.fields)} } pageInfo { hasNextPage endCursor } }`;
}

/**
 * The list fields of a resource (`refunds { ... }`), without their items' connections: bulk queries
 * reject a connection inside a list field, and paged queries leave them out too so a page of records
 * stays cheap (each connection would multiply a record's cost); {@link listItemsQuery} fetches them.
 */
function listSelections(g: GraphqlSource): string {
  return (g.lists ?? []).map((l) => `${l.field} { ${squash(l.fields)} }`).join(' ');
}

/**
 * Fields and nested connections (each rendered by `nested`); with `within`, both go inside the
 * union field, per type (see `GraphqlSource.within`).
 */
function withConnections(g: GraphqlSource, nested: (c: NestedConnection) => string): string {
  if (!g.within) return `${squash(g.fields)} ${listSelections(g)} ${g.connections.map(nested).join(' ')}`;
  const types = Object.entries(g.within.types).map(([type, fields]) => {
    const own = g.connections.filter((c) => !c.on || c.on.includes(type)).map(nested).join(' ');
    return `... on ${type} { ${squash(fields)} ${own} }`;
  });
  return `${squash(g.fields)} ${listSelections(g)} ${g.within.field} { __typename ${types.join(' ')} }`;
}

/** A node's own selection for paged and record queries: fields, list fields, nested connections. */
function nodeSelection(g: GraphqlSource, nestedFirst: Readonly<Record<string, number>>): string {
  return withConnections(g, (c) => nestedPaged(c, nestedFirst[c.field] ?? c.pageSize));
}

/** A node as the engine reads it: with `within`, the union field's object lifted into the record. */
export function liftRecord(g: GraphqlSource, node: Record<string, unknown>): Record<string, unknown> {
  if (!g.within) return node;
  const inner = node[g.within.field];
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return node;
  const { [g.within.field]: _inner, ...rest } = node;
  return { ...rest, ...(inner as Record<string, unknown>) };
}

/**
 * One page of a resource, sorted by `updated_at` ascending: `$first` records after `$after` matching
 * `$query`, each with the first `nestedFirst[field]` nodes of its nested connections.
 */
export function pageQuery(resource: ResourceDefinition, nestedFirst: Readonly<Record<string, number>> = {}): string {
  const g = resource.graphql;
  return squash(`query ShopifyIngestPage($first: Int!, $after: String, $query: String) {
    ${g.connection}(first: $first, after: $after, query: $query${g.updatedAtSortKey ? `, sortKey: ${g.updatedAtSortKey}` : ''}${g.arguments ? `, ${g.arguments}` : ''}) {
      nodes { ${nodeSelection(g, nestedFirst)} }
      pageInfo { hasNextPage endCursor }
    }
  }`);
}

/** Objects selected in a field list: each `{` opens one (Shopify charges 1 point per object, 0 per scalar). */
const objectsIn = (fields: string) => (fields.match(/\{/g) ?? []).length;

/**
 * Requested cost of one record of {@link pageQuery} as Shopify computes it (objects 1, scalars 0,
 * connections 2 + first × node cost): https://shopify.dev/docs/api/usage/limits#cost-calculation.
 * The page costs 2 + first × this, and may not exceed 1,000 points.
 *
 * With `within`, every type's fragment is counted (objects and connections summed over the
 * fragments). Shopify prices a union or interface at the maximum of its possible selections (and
 * so does the simulator): the sum is never below that, so a page sized by it is never refused as
 * MAX_COST_EXCEEDED, at the price of a page somewhat smaller than the cap would allow.
 */
export function pageRecordCost(resource: ResourceDefinition, nestedFirst: Readonly<Record<string, number>> = {}): number {
  const g = resource.graphql;
  let cost = 1 + objectsIn(g.fields);
  if (g.within) cost += 1 + Object.values(g.within.types).reduce((n, fields) => n + objectsIn(fields), 0);
  for (const c of g.connections) cost += carriers(g, c) * (2 + (nestedFirst[c.field] ?? c.pageSize) * (1 + objectsIn(c.fields)));
  // A list field counts as one object of its selection (its length is unknown before it is read).
  for (const l of g.lists ?? []) cost += 1 + objectsIn(l.fields);
  return cost;
}

/** The largest page (at most `wanted`) whose requested cost stays within `maxCost` (Shopify's single-query cap is 1,000). */
export function pageSizeFor(resource: ResourceDefinition, wanted: number, maxCost = 1000, nestedFirst: Readonly<Record<string, number>> = {}): number {
  return Math.max(1, Math.min(wanted, Math.floor((maxCost - 2) / pageRecordCost(resource, nestedFirst))));
}

/** Requested cost of one connection of `first` nodes: 2 + first × (1 + objects of a node). */
export function connectionCost(connection: NestedConnection, first: number): number {
  return 2 + first * (1 + objectsIn(connection.fields));
}

/**
 * How many times a query selects `connection` per record: once, or with `within` once per type
 * carrying it. Costs are counted per selection (the safe side: Shopify prices a union at the
 * maximum of its possible selections, which the sum never falls below).
 */
export function carriers(g: GraphqlSource, connection: NestedConnection): number {
  return g.within ? Object.keys(g.within.types).filter((t) => !connection.on || connection.on.includes(t)).length : 1;
}

/** `first:` of a follow-up page of `connection` ({@link nestedRestQuery}): as many nodes as fit under the 1,000-point cap, at most 250. */
export function followUpFirst(connection: NestedConnection, selections = 1): number {
  return Math.max(1, Math.min(250, Math.floor(((1000 - 3) / selections - (selections > 1 ? 2 : 0)) / (1 + objectsIn(connection.fields)))));
}

/**
 * The rest of one record's nested connection, from `$after` (records with more children than a page
 * carries). `type` is the node's type: the resource's, or a list field's items' (`Refund`).
 */
export function nestedRestQuery(resource: ResourceDefinition, connection: NestedConnection, type = resource.graphql.type): string {
  const page = `${connection.field}(first: $first, after: $after) { nodes { ${squash(connection.fields)} } pageInfo { hasNextPage endCursor } }`;
  const within = type === resource.graphql.type ? resource.graphql.within : undefined;
  const selection = within
    ? `${within.field} { ${Object.keys(within.types).filter((t) => !connection.on || connection.on.includes(t)).map((t) => `... on ${t} { ${page} }`).join(' ')} }`
    : page;
  return squash(`query ShopifyIngestNested($id: ID!, $first: Int!, $after: String) {
    node(id: $id) { ... on ${type} { ${selection} } }
  }`);
}

/**
 * The first page of every connection of list items by id (`nodes(ids:)`): how a bulk line's
 * list items (`Order.refunds`) get the connections bulk queries cannot select.
 */
export function listItemsQuery(list: ListField): string {
  const nested = list.connections.map((c) => nestedPaged(c, c.pageSize)).join(' ');
  return squash(`query ShopifyIngestListItems($ids: [ID!]!) { nodes(ids: $ids) { ... on ${list.type} { id ${nested} } } }`);
}

/** Requested cost of one item of {@link listItemsQuery}. */
export function listItemCost(list: ListField): number {
  return 1 + list.connections.reduce((n, c) => n + connectionCost(c, c.pageSize), 0);
}

/** One record by id with its nested connections (webhook refetches such as `orders/edited`). */
export function recordQuery(resource: ResourceDefinition, nestedFirst: Readonly<Record<string, number>> = {}): string {
  const g = resource.graphql;
  return squash(`query ShopifyIngestRecord($id: ID!) { node(id: $id) { ... on ${g.type} { ${nodeSelection(g, nestedFirst)} } } }`);
}

/** `{ <count>(query:, limit: null) { count precision } }`: how many records match (exact, not capped at 10,000). */
export function countQuery(source: GraphqlSource): string | null {
  if (!source.count) return null;
  return `query ShopifyIngestCount($query: String) { ${source.count}(query: $query, limit: null) { count precision } }`;
}

/**
 * The bulk query of a resource: every record matching `search`, with `__typename` on each node so the
 * JSONL lines can be told apart, and each nested connection's nodes as their own lines. Bulk queries
 * ignore `first` and need `id` on the parents of nested connections (which `fields` has).
 * https://shopify.dev/docs/api/usage/bulk-operations/queries
 */
export function bulkQuery(resource: ResourceDefinition, search: string | null, sortKey?: string): string {
  const g = resource.graphql;
  const args = [search ? `query: ${JSON.stringify(search)}` : null, sortKey ? `sortKey: ${sortKey}` : null, g.arguments ?? null].filter(Boolean).join(', ');
  const selection = withConnections(g, (c) => `${c.field} { edges { node { __typename ${squash(c.fields)} } } }`);
  return squash(`{ ${g.connection}${args ? `(${args})` : ''} { edges { node { __typename ${selection} } } } }`);
}

/** An id-only bulk query (deletion reconciliation): the cheapest complete listing Shopify offers. */
export function bulkIdsQuery(resource: ResourceDefinition): string {
  const g = resource.graphql;
  return `{ ${g.connection}${g.arguments ? `(${g.arguments})` : ''} { edges { node { id } } } }`;
}

/** The sort key matching a `created_at`/`updated_at` filter (Shopify's advice), or null when the connection has none. */
export function sortKeyFor(g: GraphqlSource, field: 'created_at' | 'updated_at'): string | null {
  return field === 'created_at' ? g.createdAtSortKey === undefined ? 'CREATED_AT' : g.createdAtSortKey : g.updatedAtSortKey;
}

/** The first record by `created_at`/`updated_at` (where a failed bulk window with an open start begins). */
export function earliestQuery(g: GraphqlSource, field: 'created_at' | 'updated_at'): string {
  const sortKey = sortKeyFor(g, field);
  // Without a sort key the connection lists by id, which grows with creation: close enough for a split point.
  const args = [`first: 1`, sortKey ? `sortKey: ${sortKey}` : null, g.arguments ?? null].filter(Boolean).join(', ');
  const graphField = field === 'created_at' ? 'createdAt' : 'updatedAt';
  // A node whose fields are inside a union (discounts: `discount { ... on DiscountCodeBasic { createdAt } }`).
  const selection = g.within ? `${g.within.field} { ${Object.keys(g.within.types).map((t) => `... on ${t} { ${graphField} }`).join(' ')} }` : graphField;
  return `query ShopifyIngestEarliest { ${g.connection}(${args}) { nodes { ${selection} } } }`;
}

/** The time `earliestQuery`'s answer gives, or null. */
export function earliestOf(g: GraphqlSource, field: 'created_at' | 'updated_at', data: unknown): number | null {
  const node = (data as Record<string, { nodes?: Array<Record<string, unknown>> } | undefined> | null)?.[g.connection]?.nodes?.[0];
  const holder = (g.within ? node?.[g.within.field] : node) as Record<string, unknown> | null | undefined;
  const value = holder?.[field === 'created_at' ? 'createdAt' : 'updatedAt'];
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? null : ms;
}

/** The one object of a singleton resource (`{ shop { ... } }`): see `GraphqlSource.singleton`. */
export function singletonQuery(resource: ResourceDefinition): string {
  const g = resource.graphql;
  return squash(`query ShopifyIngestSingleton { ${g.connection} { ${nodeSelection(g, {})} } }`);
}

/** Destroy events of one subject type since a time (`events` keeps them for a year). */
export const DESTROY_EVENTS_QUERY = squash(`query ShopifyIngestDestroyEvents($first: Int!, $after: String, $query: String) {
  events(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {
    nodes { id createdAt action ... on BasicEvent { subjectId subjectType } }
    pageInfo { hasNextPage endCursor }
  }
}`);

/** Search of destroy events of `subjectType` created at or after `since`. */
export function destroyEventsSearch(subjectType: string, since: Date): string {
  return `action:destroy AND subject_type:${subjectType} AND created_at:>='${isoSeconds(since, 'floor')}'`;
}

/** The access scopes granted to the app on this shop. */
export const ACCESS_SCOPES_QUERY = 'query ShopifyIngestScopes { currentAppInstallation { accessScopes { handle } } }';

/** The shop a token answers for (`addTenant`'s check of new credentials). */
export const SHOP_IDENTITY_QUERY = 'query ShopifyIngestShop { shop { name myshopifyDomain } }';
