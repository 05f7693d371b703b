/**
 * Paged GraphQL listing (incremental syncs, small windows): `<connection>(first:, after:, query:
 * "updated_at:>='…'", sortKey: UPDATED_AT)`, oldest change first, so everything before the last
 * committed page is stored and Shopify's cursor after it is a resume position.
 *
 * - Records with more children than a page carries (`lineItems(first: n)` says `hasNextPage`) get
 *   the rest with follow-up queries before they are written: a record is always written whole.
 * - Page size adapts to Shopify's cost limit: a query refused as too expensive
 *   (`MAX_COST_EXCEEDED`, over the 1,000-point single-query cap) is retried with half the page.
 * - Protected customer data: an app without approval gets the record with the protected fields null
 *   and an `ACCESS_DENIED` entry per field in `errors` (HTTP 200); the data is kept, the fields are
 *   stored as null and named in the run's warnings.
 *   https://shopify.dev/docs/apps/launch/protected-customer-data
 */
import { GraphqlError } from '../client/errors.js';
import type { ListField, NestedConnection, ResourceDefinition } from '../resources/definition.js';
import { isObject } from '../transform/values.js';
import { encodeCursor, type GraphqlCursor } from './checkpoint.js';
import { ImportError } from './errors.js';
import { carriers, followUpFirst, liftRecord, listItemCost, listItemsQuery, nestedRestQuery, pageQuery, pageSizeFor, recordQuery } from './queries.js';
import { updatedAtOf, type RunFrame } from './run-frame.js';
import type { GraphqlImportClient } from './types.js';
import { SPANS } from '../telemetry/instruments.js';

interface Connection<T> { nodes: T[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }

interface PagePosition {
  after: string | null;
  maxUpdatedAt: number | null;
}

/** What a paged run lists. */
export interface PagesPlan {
  search: string | null;
  after: string | null;
  startedAt: Date;
  maxUpdatedAt: number | null;
  resumedRunId: string | null;
  resumable: boolean;
}

/**
 * Runs one GraphQL query, keeping partial data Shopify withheld protected fields from: the fields
 * come back null and are reported through `withheld`. Any other error throws.
 */
export async function queryKeepingPartialData<T>(client: GraphqlImportClient, query: string, variables: Record<string, unknown>, signal: AbortSignal | undefined, withheld: Set<string>): Promise<T> {
  try {
    return await client.graphql<T>(query, variables, { signal });
  } catch (error) {
    if (error instanceof GraphqlError && error.data && error.errors.length > 0 && error.errors.every(isAccessDenied)) {
      for (const e of error.errors) {
        const field = [...(e.path ?? [])].reverse().find((p): p is string => typeof p === 'string');
        withheld.add(field ?? e.message);
      }
      return error.data as T;
    }
    throw error;
  }
}

function isAccessDenied(e: { message: string; extensions?: { code?: string } }): boolean {
  return e.extensions?.code === 'ACCESS_DENIED' || /access denied|not approved to access/i.test(e.message);
}

/** The rest of `connection` of the record `id` after the first page (records with more children than a page carries). */
export async function completeNested(resource: ResourceDefinition, client: GraphqlImportClient, id: string, connection: NestedConnection, first: Connection<unknown>, withheld: Set<string>, signal?: AbortSignal, onRequest?: () => void, type = resource.graphql.type): Promise<unknown[]> {
  const nodes = [...first.nodes];
  let after = first.pageInfo.endCursor;
  let hasNext = first.pageInfo.hasNextPage;
  const query = nestedRestQuery(resource, connection, type);
  while (hasNext) {
    onRequest?.();
    // 250 nodes of a connection with money fields would cost over Shopify's 1,000-point cap.
    const selections = type === resource.graphql.type ? carriers(resource.graphql, connection) : 1;
    const data = await queryKeepingPartialData<{ node: Record<string, Connection<unknown>> | null }>(client, query, { id, first: followUpFirst(connection, selections), after }, signal, withheld);
    const owner = data?.node && type === resource.graphql.type ? liftRecord(resource.graphql, data.node) : data?.node;
    const page = owner?.[connection.field] as Connection<unknown> | undefined;
    if (!page || !Array.isArray(page.nodes) || !page.pageInfo) {
      throw new ImportError(`${resource.name} ${id}: the follow-up page of ${connection.field} has no nodes/pageInfo`, { code: 'SHOPIFY_BAD_RESPONSE' });
    }
    nodes.push(...page.nodes);
    hasNext = page.pageInfo.hasNextPage;
    if (hasNext && (!page.pageInfo.endCursor || page.pageInfo.endCursor === after)) {
      throw new ImportError(`${resource.name} ${id}: ${connection.field} has a next page but no new cursor`, { code: 'SHOPIFY_BAD_RESPONSE' });
    }
    after = page.pageInfo.endCursor;
  }
  return nodes;
}

/**
 * Completes the connections of the items of `node`'s list fields (`Order.refunds[].refundLineItems`):
 * items without them (a bulk line: bulk queries cannot select a connection inside a list field) get
 * their first pages by `nodes(ids:)`, as many items per query as fit under Shopify's 1,000-point cap;
 * then every connection with more pages is followed up to its end. A record is always written whole.
 */
export async function completeListFields(resource: ResourceDefinition, client: GraphqlImportClient, node: Record<string, unknown>, withheld: Set<string>, signal?: AbortSignal, onRequest?: () => void): Promise<void> {
  await completeListFieldsOf(resource, client, [node], withheld, signal, onRequest);
}

/** Items of `node`'s list fields that lack a connection, per list field (none: the record is complete). */
export function itemsToComplete(resource: ResourceDefinition, node: Record<string, unknown>): number {
  let n = 0;
  for (const list of resource.graphql.lists ?? []) {
    const items = node[list.field];
    if (!Array.isArray(items) || list.connections.length === 0) continue;
    for (const item of items) if (isObject(item) && typeof item.id === 'string' && list.connections.some((c) => !isObject(item[c.field]))) n++;
  }
  return n;
}

/** Items of one list field of {@link itemsToComplete} fetched per `nodes(ids:)` query (under the 1,000-point cap). */
export function listItemsPerQuery(list: ListField): number {
  return Math.max(1, Math.min(250, Math.floor(999 / listItemCost(list))));
}

/**
 * {@link completeListFields} for several records at once: the items of all of them share the
 * `nodes(ids:)` queries (a bulk file's orders with a refund or two each would otherwise cost a query
 * per order).
 */
export async function completeListFieldsOf(resource: ResourceDefinition, client: GraphqlImportClient, nodes: readonly Record<string, unknown>[], withheld: Set<string>, signal?: AbortSignal, onRequest?: () => void): Promise<void> {
  for (const list of resource.graphql.lists ?? []) {
    if (list.connections.length === 0) continue;
    const byId = new Map<string, { item: Record<string, unknown>; owner: unknown }>();
    for (const node of nodes) {
      const items = node[list.field];
      if (!Array.isArray(items)) continue;
      for (const item of items) if (isObject(item) && typeof item.id === 'string') byId.set(item.id, { item, owner: node.id });
    }
    const missing = [...byId.values()].filter(({ item }) => list.connections.some((c) => !isObject(item[c.field])));
    const perQuery = listItemsPerQuery(list);
    for (let k = 0; k < missing.length; k += perQuery) {
      onRequest?.();
      const ids = missing.slice(k, k + perQuery).map(({ item }) => item.id as string);
      const data = await queryKeepingPartialData<{ nodes: Array<Record<string, unknown> | null> }>(client, listItemsQuery(list), { ids }, signal, withheld);
      if (!data || !Array.isArray(data.nodes) || data.nodes.length !== ids.length) {
        throw new ImportError(`${resource.name}: nodes(ids:) of ${list.field} items did not answer one node per id`, { code: 'SHOPIFY_BAD_RESPONSE', details: { ids: ids.slice(0, 5) } });
      }
      data.nodes.forEach((fetched, i) => {
        const { item } = byId.get(ids[i])!;
        for (const c of list.connections) {
          const page = isObject(fetched) ? fetched[c.field] : undefined;
          // An item Shopify no longer returns has no children to store.
          item[c.field] = isObject(page) ? page : { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } };
        }
      });
    }
    for (const { item, owner } of byId.values()) {
      for (const c of list.connections) {
        const page = item[c.field] as Connection<unknown>;
        if (!Array.isArray(page.nodes)) {
          throw new ImportError(`${resource.name} ${String(owner)}: ${list.field} item ${String(item.id)} has no ${c.field}.nodes`, { code: 'SHOPIFY_BAD_RESPONSE' });
        }
        if (page.pageInfo?.hasNextPage) item[c.field] = { nodes: await completeNested(resource, client, item.id as string, c, page, withheld, signal, onRequest, list.type) };
      }
    }
  }
}

/** Replaces each nested connection of `node` that has more pages by all its nodes. */
export async function completeRecord(resource: ResourceDefinition, client: GraphqlImportClient, node: Record<string, unknown>, withheld: Set<string>, signal?: AbortSignal, onRequest?: () => void): Promise<void> {
  if (typeof node.id !== 'string') return;
  for (const connection of resource.graphql.connections) {
    const nested = node[connection.field] as Connection<unknown> | undefined;
    if (nested && nested.pageInfo?.hasNextPage) {
      node[connection.field] = { nodes: await completeNested(resource, client, node.id, connection, nested, withheld, signal, onRequest) };
    }
  }
}

/**
 * One record by id with all its children (GraphQL node), or null when Shopify no longer has it:
 * for webhooks whose body names a record without being it (`orders/edited`). A node without the
 * fields asked for (`{}`: the gid names another type than `graphql.type`) throws
 * `SHOPIFY_BAD_RESPONSE`: it is not gone.
 *
 * @example
 * ```ts
 * const order = await fetchRecord(client, getResource('orders'), 450789469n);
 * ```
 */
export async function fetchRecord(client: GraphqlImportClient, resource: ResourceDefinition, id: bigint | string, signal?: AbortSignal): Promise<Record<string, unknown> | null> {
  const gid = typeof id === 'string' ? id : `gid://shopify/${resource.graphql.type}/${id}`;
  const withheld = new Set<string>();
  const data = await queryKeepingPartialData<{ node: Record<string, unknown> | null }>(client, recordQuery(resource), { id: gid }, signal, withheld);
  if (!data?.node) return null;
  // `node(id:)` answers the type the gid names: of another type, the fragment selects nothing.
  const within = resource.graphql.within?.field;
  if (typeof data.node.id !== 'string' || (within !== undefined && !isObject(data.node[within]))) {
    throw new ImportError(`${resource.name} ${gid}: node(id:) answered no ${resource.graphql.type} fields (the gid names another type?)`, { code: 'SHOPIFY_BAD_RESPONSE', details: { id: gid, type: resource.graphql.type } });
  }
  const node = liftRecord(resource.graphql, data.node);
  await completeRecord(resource, client, node, withheld, signal);
  await completeListFields(resource, client, node, withheld, signal);
  return node;
}

/** Lists the resource page by page into the frame's pipeline; returns the committed max `updated_at`. */
export async function pagesListing(frame: RunFrame, client: GraphqlImportClient, plan: PagesPlan): Promise<number | null> {
  const g = frame.resource.graphql;
  const withheld = new Set<string>();
  let committedMax = plan.maxUpdatedAt;
  let committedAfter = plan.after;
  const cursorOf = (): GraphqlCursor => ({
    v: 2, runId: plan.resumedRunId ?? frame.runId, mode: frame.mode, method: 'pages', startedAt: plan.startedAt.toISOString(),
    maxUpdatedAt: committedMax, search: plan.search, after: committedAfter,
  });
  if (plan.resumable) frame.saveCursor(encodeCursor(cursorOf()));
  const pipeline = frame.pipeline<PagePosition>('complete', (position) => {
    committedAfter = position.after;
    if (position.maxUpdatedAt !== null && (committedMax === null || position.maxUpdatedAt > committedMax)) committedMax = position.maxUpdatedAt;
    if (plan.resumable) frame.saveCursor(encodeCursor(cursorOf()));
  });

  let first = pageSizeFor(frame.resource, frame.options.pageSize);
  let after = plan.after;
  let maxUpdatedAt: number | null = null;
  let restarted = false;
  try {
    for (;;) {
      if (frame.shouldStop() || pipeline.failed !== null) break;
      frame.openListingSpan(SPANS.page, { 'shopify_ingest.page.first': first });
      const query = pageQuery(frame.resource);
      let page: Connection<Record<string, unknown>> | undefined;
      const sentAt = frame.deps.clock();
      try {
        const data = await queryKeepingPartialData<Record<string, Connection<Record<string, unknown>>>>(client, query, { first, after, query: plan.search }, frame.options.signal, withheld);
        page = data?.[g.connection];
      } catch (error) {
        if (error instanceof GraphqlError && error.code === 'GRAPHQL_MAX_COST_EXCEEDED' && first > 1) {
          first = Math.max(1, Math.floor(first / 2));
          frame.deps.logger.info('query over Shopify\'s cost limit; halving the page', { tenantId: frame.tenantId, resource: frame.name, first });
          continue;
        }
        if (error instanceof GraphqlError && after !== null && !restarted && error.errors.some((e) => /cursor/i.test(e.message))) {
          // A stored cursor Shopify no longer accepts: list the window again from its start (writes are idempotent).
          frame.deps.logger.warn('resume cursor refused; listing the window again from its start', { tenantId: frame.tenantId, resource: frame.name });
          after = null;
          restarted = true;
          continue;
        }
        throw error;
      }
      frame.pages++;
      if (!page || !Array.isArray(page.nodes) || !page.pageInfo || typeof page.pageInfo.hasNextPage !== 'boolean') {
        throw new ImportError(`${frame.name} page of tenant ${frame.tenantId} has no ${g.connection}.nodes/pageInfo: not a listing`, { code: 'SHOPIFY_BAD_RESPONSE' });
      }
      const pageStart = after;
      frame.observedAt = sentAt;
      const nodes = page.nodes.map((n) => (isObject(n) ? liftRecord(g, n) : n));
      // The page's list items share their nodes(ids:) queries (records with a refund or two each).
      await completeListFieldsOf(frame.resource, client, nodes.filter(isObject), withheld, frame.options.signal, () => { frame.pages++; });
      for (let i = 0; i < nodes.length; i++) {
        const node = nodes[i];
        if (isObject(node)) await completeRecord(frame.resource, client, node, withheld, frame.options.signal, () => { frame.pages++; });
        const updatedAt = updatedAtOf(node);
        if (updatedAt !== null && (maxUpdatedAt === null || updatedAt > maxUpdatedAt)) maxUpdatedAt = updatedAt;
        // Resume after the page only once its last record is committed; before that, at its start.
        const last = i === page.nodes.length - 1;
        await pipeline.add(frame.recordUnit(node, { after: last ? page.pageInfo.endCursor ?? pageStart : pageStart, maxUpdatedAt }));
        if (pipeline.failed !== null) break;
      }
      if (!page.pageInfo.hasNextPage) break;
      if (!page.pageInfo.endCursor || page.pageInfo.endCursor === after) {
        throw new ImportError(`${frame.name} listing of tenant ${frame.tenantId} says it has a next page but gave no new cursor`, { code: 'SHOPIFY_BAD_RESPONSE' });
      }
      after = page.pageInfo.endCursor;
    }
  } catch (error) {
    frame.closeListingSpan(error);
    frame.fail(error);
  }
  await frame.endPipeline(pipeline);
  frame.closeListingSpan();
  if (withheld.size > 0) frame.warnings.push(`Shopify withheld protected customer data (${[...withheld].sort().join(', ')}): stored as null. Request access: https://shopify.dev/docs/apps/launch/protected-customer-data`);
  return committedMax;
}
