/*
 * The shape of a resource description. Everything the SDK knows about one Shopify resource (its
 * tables and rows, how Shopify lists it over GraphQL and REST, how a record becomes rows, which
 * webhooks change it, how its deletions are found, what it depends on, its default schedule) is
 * one {@link ResourceDefinition}, in one file of `src/resources/`. The importer, the webhook
 * worker, the scheduler, the facade, stats and the docs all read these descriptions; none of them
 * names a resource. See docs/architecture.md.
 */
import type { ColumnSpec } from '../store/columns.js';
import type { RecordSealer } from '../transform/pii.js';
import type { JsonObject } from '../transform/values.js';

/** Rows of one record (or one batch), by table key: `{ orders: [...], lineItems: [...], events: [...] }`. */
export type RowSet = Record<string, unknown[]>;

/** A synced table. Every synced table is tenant-scoped (`tenant_id` first in its key). */
export interface TableDefinition<R = any> {
  /** Key of this table's rows in a {@link RowSet}, e.g. `lineItems`. */
  key: string;
  /** SQL table, e.g. `shopify_order_line_items`. */
  table: string;
  /** Prisma model name (documentation and counts), e.g. `ShopifyOrderLineItem`. */
  model: string;
  /** Columns written, in order; `tenant_id` (and `synced_at`, `sync_tag` where present) are added by the store. */
  columns: readonly ColumnSpec<R>[];
  /** Columns of the unique key after `tenant_id`. */
  conflict: readonly string[];
  /**
   * The row carries Shopify's `updated_at` and a tombstone (`shopify_updated_at`, `deleted_at`): writes
   * follow the version rule (see store/versioning.ts). Unversioned rows (line items, events) take
   * the version of their parent.
   */
  versioned: boolean;
  /** The table has a `synced_at` column the store sets on every write. */
  syncedAt: boolean;
}

/** A table whose rows belong to a row of another table of the same resource. */
export interface ChildTableDefinition<R = any> extends TableDefinition<R> {
  /** Key of the parent table (the root's key, or another child's). */
  parent: string;
  /** Column holding the parent's id. */
  parentColumn: string;
  /** The parent id of a row. */
  parentIdOf(row: R): bigint;
  /**
   * What happens to stored rows an updated parent no longer lists: `delete` them (line items, events),
   * or `tombstone` them (variants: Shopify deleted them).
   */
  whenMissing: 'delete' | 'tombstone';
  /**
   * `GraphQL __typename` of this table's rows when they arrive as their own JSONL lines in a bulk
   * operation's output (children of nested connections), or null when they come inside the parent.
   */
  bulkType: string | null;
  /**
   * Column of the parent that holds how many rows of this table it has (orders' `line_item_count`):
   * set from the record where it lists its children, and recounted after a bulk operation, whose
   * parent lines do not.
   */
  countColumn?: string;
  /**
   * The property of the parent's row that `countColumn` is written from (`lineItemCount`): set by a
   * bulk file's reader when the children arrived while their parent waited for them (regroup.ts).
   */
  countKey?: string;
  /**
   * Columns the child shares with its parent that, with `parentColumn`, name the parent, when
   * parent ids are unique only together with them (metafield owners: `owner_type`).
   */
  parentKey?: readonly string[];
}

/** What a row builder gets besides the record. */
export interface RowContext {
  tenantId: string;
  /** The record's exact id (validated). */
  id: bigint;
  /** The record's Shopify `updated_at` (validated). */
  updatedAt: Date;
  sealer: RecordSealer;
  blindIndex(email: string): string;
}

/** What a child-line row builder gets (a bulk JSONL line with `__parentId`). */
export interface ChildRowContext {
  tenantId: string;
  parentId: bigint;
  sealer: RecordSealer;
  blindIndex(email: string): string;
}

/** A nested connection of a GraphQL node whose children are rows of a child table. */
export interface NestedConnection {
  /** Field on the parent node, e.g. `lineItems`. */
  field: string;
  /** Key of the child table its nodes fill. */
  table: string;
  /** Selection of each node (no nested connections: bulk allows two levels). */
  fields: string;
  /** `first:` per page in paged queries (more are fetched by follow-up queries). */
  pageSize: number;
  /**
   * Field of the record counting this connection's nodes (`codesCount`, a `Count`): a bulk
   * operation's output may hold fewer (Shopify truncates discount `codes` near 100), so a record
   * whose child lines fall short is read again whole with paged queries.
   */
  countField?: string;
  /** With `GraphqlSource.within`: the types whose selection carries this connection (default: every type). */
  on?: readonly string[];
}

/**
 * A list field of the node (`Order.refunds: [Refund!]!`) whose items are rows. Bulk queries reject a
 * connection inside a list field, so the items' `connections` are never selected with the list: they
 * are fetched with `nodes(ids:)` (items of many records per query), and an item with more children than a page by
 * `node(id:)` follow-ups (`completeListFieldsOf` in importer/pages-listing.ts).
 */
export interface ListField {
  /** Field on the node, e.g. `refunds`. */
  field: string;
  /** Type of its items, e.g. `Refund`. */
  type: string;
  /** Selection of each item without its connections (must include `id`). */
  fields: string;
  /** Connections of each item, each filling a child table. */
  connections: readonly NestedConnection[];
}

/** How Shopify's GraphQL Admin API lists a resource. */
export interface GraphqlSource {
  /** Connection field on QueryRoot, e.g. `orders`. */
  connection: string;
  /** Node type, e.g. `Order`. */
  type: string;
  /** Count field on QueryRoot, e.g. `ordersCount`, or null. */
  count: string | null;
  /** Selection of the node without its nested connections (must include `id` and `updatedAt`). */
  fields: string;
  /** Nested connections, each filling a child table. */
  connections: readonly NestedConnection[];
  /** List fields whose items are the rows (resources that ride on another's records: refunds on orders). */
  lists?: readonly ListField[];
  /**
   * `sortKey` matching the `updated_at` search filter (Shopify: use the sort key of the filtered
   * field), or null when the connection has none (`locations`, `inventoryItems`): it is then listed
   * in its default (id) order, which a resumed cursor and the watermark do not depend on.
   */
  updatedAtSortKey: string | null;
  /** `sortKey` matching `created_at` (full-sync windows); default `CREATED_AT`, null when the connection has none. */
  createdAtSortKey?: string | null;
  /** The search filter full-sync windows use: `created_at` (default), `updated_at` where there is none (collections). */
  windowField?: 'created_at' | 'updated_at';
  /** Search terms every listing carries (e.g. none for orders: GraphQL lists every status). */
  baseQuery: string | null;
  /** Arguments every listing of the connection carries besides paging and search, e.g. `includeInactive: true`. */
  arguments?: string;
  /**
   * How an incremental run finds what changed: `updated_at` (default) lists the records whose
   * `updatedAt` is past the watermark; `everything` lists every record, for connections without an
   * `updated_at` search filter or whose children change without their record's `updatedAt` moving
   * (inventory levels, smart collections' products). Above `bulkThreshold` records that listing is
   * a bulk operation, which costs no query points.
   */
  incremental?: 'updated_at' | 'everything';
  /**
   * `connection` names a single object of QueryRoot (`shop`), not a connection: every run reads it
   * with one query (no bulk operation, paging, count or deletion probe) and writes its one record.
   */
  singleton?: boolean;
  /**
   * The record's fields sit in a union field of the node (`DiscountNode.discount`): selected as
   * `field { __typename ... on T { types[T] } }` (with the connections of T) and lifted into the
   * record as it arrives: `{ ...node without field, ...node[field] }`.
   */
  within?: { field: string; types: Readonly<Record<string, string>> };
}

/** How the legacy REST Admin API lists a resource (`source: 'rest'`). */
export interface RestSource {
  /** Listing path, e.g. `/orders.json` (the list key is inferred from it). */
  path: string;
  /** Filters every listing carries (orders: `status=any`). */
  baseQuery: Readonly<Record<string, string>>;
  /** Count path, e.g. `/orders/count.json`. */
  countPath: string | null;
  /** `filter` of Shopify's REST Events API for destroy events, or null. */
  eventFilter: string | null;
  /** A list REST bodies cut at `max` items (products' variants: 100): a body at the cap is read again over GraphQL. */
  capped?: { field: string; max: number };
}

/** True when a REST-shaped body of `rest` holds its capped list at the cap (it may have more). */
export function restBodyCapped(rest: RestSource | null, body: unknown): boolean {
  if (!rest?.capped || typeof body !== 'object' || body === null) return false;
  const list = (body as Record<string, unknown>)[rest.capped.field];
  return Array.isArray(list) && list.length >= rest.capped.max;
}

/** How deletions at Shopify are found (besides the delete webhook). */
export interface DeletionSource {
  /**
   * `subject_type` of Shopify's `events` query with `action:destroy` (GraphQL, 1-year retention),
   * or null when the resource has no destroy events (customers).
   */
  eventSubjectType: string | null;
  /** A full sync reconciles stored ids against Shopify's complete id listing (resources without destroy events). */
  reconcileIds: boolean;
}

/** Webhook topics that change a resource. */
export interface WebhookTopics {
  /** Bodies that are the record itself (REST shape): transformed and upserted. */
  upsert: readonly string[];
  /** Bodies holding the deleted record's id: tombstoned. */
  delete: readonly string[];
  /**
   * Bodies that name the record but are not it (`orders/edited`): the record is fetched again, by the
   * gid `gidOf` reads from the body when it has one, else by `gid://shopify/<graphql.type>/<idOf>`
   * (`node(id:)` answers the type its gid names: it must be the query's `graphql.type`).
   */
  refetch: readonly { topic: string; idOf(body: JsonObject): bigint | null; gidOf?(body: JsonObject): string | null }[];
}

/**
 * Where a resource keeps a customer's personal data, for `customers/redact`
 * (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance#customers-redact).
 * Encrypted and hashed columns (`*_enc`, `*_hash`) of the matching rows become NULL; their payloads,
 * and those of their child tables, lose every sealed `_pii` blob and every PII key.
 */
export interface PrivacyDefinition {
  /** Root column holding the customer's id: `id` for the customer's own record, `customer_id` for orders. */
  customerColumn: string;
  /** Root rows named by id in the request (`orders_to_redact`) match too. */
  listedInRequest: boolean;
  /** `erase`: the payload becomes `{"id": ..., "redacted": true}`; `scrub`: PII removed, the rest kept (analytics still add up). */
  payload: 'erase' | 'scrub';
}

/** Default schedule of a resource's incremental sync job. */
export interface ScheduleDefaults {
  enabled: boolean;
  /** node-cron expression. */
  schedule: string;
  options?: { batchSize?: number; concurrency?: number; [option: string]: unknown };
}

/**
 * Everything the SDK knows about one resource.
 *
 * @example
 * ```ts
 * import { getResource } from 'shopify-ingest';
 * getResource('orders').tables.map((t) => t.table); // ['shopify_orders', 'shopify_order_line_items', 'shopify_order_events']
 * ```
 */
export interface ResourceDefinition<S extends RowSet = RowSet, N extends string = string> {
  /** Name used everywhere (`importData(tenant, name)`, checkpoints, CLI), e.g. `orders`. */
  name: N;
  /** Human label, e.g. `Orders`. */
  label: string;
  /** Access scopes Shopify requires to read it. */
  scopes: readonly string[];
  /** Resources whose rows this one references, synced first by `all`. */
  dependsOn: readonly string[];
  /**
   * Set when the records are listed through another resource's (refunds, transactions and
   * fulfillments through orders: Shopify has no listing of their own): that resource's name, and
   * the root column holding its id. Its tombstones tombstone these rows too.
   */
  ridesOn?: { resource: string; column: string };
  /** The root table (one row per record). */
  root: TableDefinition;
  /** Child tables, parents before children. */
  children: readonly ChildTableDefinition[];
  /** An empty row set (every table key, no rows). */
  emptyRows(): S;
  /**
   * One record (REST or webhook body, or a GraphQL node, with or without its nested connections) to
   * rows. Pure: no I/O. Throws `FieldError` for a malformed field.
   */
  toRows(record: JsonObject, ctx: RowContext): S;
  /** A bulk child line (`__typename` = the child table's `bulkType`) to one row of that table. */
  childRow(table: string, node: JsonObject, ctx: ChildRowContext): unknown;
  graphql: GraphqlSource;
  /**
   * Further GraphQL listings of the same rows, run after `graphql` in the same sync run (metafields:
   * one listing per owner type, since QueryRoot has no metafields connection).
   */
  sources?: readonly GraphqlSource[];
  rest: RestSource | null;
  webhooks: WebhookTopics;
  deletions: DeletionSource;
  /** Where the resource holds a customer's PII, or null when it holds none (products). */
  privacy: PrivacyDefinition | null;
  /**
   * The rows hold a customer's data through another resource's records (a refund's note, through its
   * order): customers/redact scrubs, and customers/data_request exports, the root rows whose `column`
   * holds the id of a record of `resource` the request matched (its `privacy`), and their children.
   */
  privacyVia?: { resource: string; column: string };
  schedule: ScheduleDefaults;
}

/** Every table of a resource, root first. */
export function tablesOf(resource: ResourceDefinition): readonly TableDefinition[] {
  return [resource.root, ...resource.children];
}

/** The parent table of `child`: the root, or another child table. */
export function parentOf(resource: ResourceDefinition, child: ChildTableDefinition): TableDefinition {
  return child.parent === resource.root.key ? resource.root : resource.children.find((c) => c.key === child.parent)!;
}

/** Every GraphQL listing of a resource: `graphql`, then `sources`. */
export function graphqlSourcesOf(resource: ResourceDefinition): readonly GraphqlSource[] {
  return [resource.graphql, ...(resource.sources ?? [])];
}

/** Declares a resource (identity: gives `definition` its type). */
export function defineResource<S extends RowSet, N extends string>(definition: ResourceDefinition<S, N>): ResourceDefinition<S, N> {
  return definition;
}
