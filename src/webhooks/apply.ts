/*
 * What the SDK itself does with each topic: the same transformers and store as the importer, so the
 * store's updated_at guard and tombstones make duplicate and out-of-order deliveries harmless
 * (an `orders/updated` older than the stored version changes nothing; `products/update` before
 * `products/create` works; a late create cannot resurrect a deleted record).
 */
import type { KeyRing } from '../crypto/index.js';
import { parseShopifyJson } from '../json.js';
import { createYielder } from '../yielder.js';
import type { Logger } from '../logger.js';
import { revealPayload } from '../transform/pii.js';
import { snakeKey } from '../transform/values.js';
import { readStoredCustomerData, type WebhookInbox } from '../store/inbox.js';
import { readCustomerRecords } from '../store/privacy.js';
import type { SqlExecutor } from '../store/prisma-like.js';
import { restBodyCapped, type RowSet, type ResourceDefinition } from '../resources/definition.js';
import { topicAction } from '../resources/registry.js';
import type { ResourceType } from '../store/rows.js';
import type { IngestStore } from '../store/types.js';
import { stampObserved } from '../store/resource-writer.js';
import { incomingWins } from '../store/versioning.js';
import { ShopifyIngestError } from '../errors.js';
import { unpackBody } from './body-codec.js';
import { INACTIVE_TENANT_TOPICS, type ShopifyId, type WebhookEvent } from './topics.js';

/** The transformer surface used here (a `ShopifyTransformer` instance fits). */
export interface WebhookTransformer {
  /** One record of `resource` (a webhook body is REST-shaped) to its rows by table key. */
  toRows(resource: string, data: unknown, tenantId: string): RowSet;
}

/** What `customers/data_request` hands to the host: everything stored about the customer, decrypted. */
export interface CustomerDataExport {
  /** The customer. */
  customerId: bigint;
  /** The stored customer (PII decrypted), or null when nothing is stored. */
  customer: Record<string, unknown> | null;
  /** The customer's stored orders and the requested ones (PII decrypted). */
  orders: Array<Record<string, unknown>>;
  /**
   * Every stored row that holds the customer's data, by table: the customer, their orders and the
   * requested ones, the orders' refunds, transactions, fulfillments, their drafts, checkouts... with
   * their children (line items), and the customer's and the orders' metafields; columns as stored
   * (`*_enc` decrypted under the name without `_enc`, JSON ones parsed), payloads revealed.
   */
  records: Record<string, Array<Record<string, unknown>>>;
  /** Shopify's data request id, to quote when answering the merchant. */
  dataRequestId: string | null;
}

/** What the host is told about privacy requests and uninstalls (options of `createWebhookService`). */
export interface ApplyHooks {
  /** customers/data_request: send the data to the merchant within 30 days (https://shopify.dev/docs/apps/build/privacy-law-compliance#customers-data_request). */
  onDataRequest?: (tenantId: string, data: CustomerDataExport, event: WebhookEvent<'customers/data_request'>) => unknown | Promise<unknown>;
  /** Called after app/uninstalled deactivated a tenant (e.g. to drop cached clients). */
  onTenantDeactivated?: (tenantId: string) => unknown | Promise<unknown>;
  /**
   * Fetches one record again from Shopify (GraphQL node, or null when it no longer exists), for topics
   * whose body names a record without being it (`orders/edited`). The facade wires its clients here;
   * without it such deliveries fail with `WEBHOOK_REFETCH_UNAVAILABLE` (and stay in the inbox for replay).
   */
  fetchRecord?: (tenantId: string, resource: ResourceType, id: bigint, gid?: string) => Promise<unknown | null>;
}

/** What applying a stored delivery needs (built by `createWebhookService`). */
export interface ApplyContext {
  /** Runs SQL (redactions, purges) in the caller's transaction. */
  db: SqlExecutor;
  /** Writes synced rows. */
  store: IngestStore;
  /** The webhook inbox (a shop/redact deletes the tenant's rows there too). */
  inbox: WebhookInbox;
  /** Turns webhook bodies into rows. */
  transformer: WebhookTransformer;
  /** Decrypts bodies and stored PII (data requests). */
  keyRing: KeyRing;
  /** Where applying logs. */
  logger: Logger;
  /** The host's callbacks. */
  hooks: ApplyHooks;
  /** When a refetch is sent (its record's version is observed then). Default: the system clock. */
  clock?: () => Date;
  /** Inbox ids of the batch being applied (set by {@link applyWebhookEvents}). */
  batchIds?: readonly string[];
}

export function toBigInt(id: ShopifyId | string | null | undefined): bigint {
  if (typeof id === 'bigint') return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return BigInt(id);
  if (typeof id === 'string' && /^-?\d+$/.test(id)) return BigInt(id);
  throw new TypeError(`not a Shopify id: ${String(id)}`);
}

/**
 * The record a delete body names, or null when it names none. Prefers the exact id of
 * `admin_graphql_api_id` when the numeric id may have lost precision.
 */
function idOf(payload: { id?: ShopifyId; admin_graphql_api_id?: unknown }): bigint | null {
  const gid = typeof payload.admin_graphql_api_id === 'string' ? /\/(\d+)$/.exec(payload.admin_graphql_api_id)?.[1] : undefined;
  if (gid) return BigInt(gid);
  try { return toBigInt(payload.id); } catch { return null; }
}

/**
 * A verified body that names no record of its topic's resource (`{}`, `null`, an id that is not one):
 * kept as a dead letter under the SDK's own code rather than as whatever a property read threw.
 */
function payloadInvalid(event: WebhookEvent, resource: string): ShopifyIngestError {
  return new ShopifyIngestError('WEBHOOK_PAYLOAD_INVALID', `${event.topic} delivery ${event.webhookId} names no ${resource} id`, { details: { topic: event.topic, webhookId: event.webhookId } });
}

/**
 * True when an upsert body cannot be written as the whole record: it holds a capped list at its cap
 * (a product's 100 variants; it may have 2,048), or it lacks a child list the resource's REST shape
 * always carries (its GraphQL connections, `variants`, `line_items`): a subscription with
 * `include_fields` trims bodies. Written as sent, the store would remove every child the body does not
 * list (variants past the cap, or all of them) and null the columns it leaves out; it is read again.
 */
function bodyIncomplete(resource: ResourceDefinition, body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  if (restBodyCapped(resource.rest, body)) return true;
  const record = body as Record<string, unknown>;
  return resource.graphql.connections.some((c) => !Array.isArray(record[snakeKey(c.field)]) && !Array.isArray(record[c.field]));
}

/** A delivery's rows, stamped with when Shopify raised it (store/versioning.ts's tie-break of equal `updated_at`). */
function webhookRows(ctx: ApplyContext, event: WebhookEvent, resource: ResourceDefinition): RowSet {
  return stampObserved(resource, ctx.transformer.toRows(resource.name, event.payload, event.tenantId), event.triggeredAt);
}

/** One row set of several records' rows, keeping per record only the version that wins (a statement may touch a row once). */
function mergeRowSets(resource: ResourceDefinition, sets: RowSet[]): RowSet {
  type Root = Parameters<typeof incomingWins>[0];
  const latest = new Map<bigint, { root: Root; set: RowSet }>();
  for (const set of sets) {
    const root = set[resource.root.key]?.[0] as Root | undefined;
    if (root === undefined) continue;
    const prev = latest.get(root.id);
    if (!prev || incomingWins({ ...root, deletedAt: null }, { ...prev.root, deletedAt: null })) latest.set(root.id, { root, set });
  }
  const merged: RowSet = {};
  for (const { set } of latest.values()) {
    for (const [key, rows] of Object.entries(set)) {
      const target = merged[key] ?? (merged[key] = []);
      for (const row of rows) target.push(row);
    }
  }
  return merged;
}

/** Decrypts a stored row for a data export: `*Enc` / `*_enc` columns opened (JSON ones parsed), payload PII restored. */
function decodeStoredRow(row: Record<string, unknown>, keyRing: KeyRing, tenantId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    const encrypted = /(_enc|Enc)$/.exec(key);
    if (key === 'payload' && value !== null) out.payload = revealPayload(value, tenantId, keyRing);
    else if (encrypted) {
      const plain = typeof value === 'string' ? keyRing.decrypt(value, tenantId) : null;
      let parsed: unknown = plain;
      if (plain !== null && /^[[{]/.test(plain)) { try { parsed = parseShopifyJson(plain); } catch { /* plain text */ } }
      out[key.slice(0, -encrypted[1]!.length)] = parsed;
    } else out[key] = value;
  }
  return out;
}

/** Is `email` (lower case) one of the string values of the JSON `body`, in any case? */
function bodyHoldsEmail(body: string, email: string): boolean {
  // The substring test only rules bodies out cheaply: bob@example.com is inside jimbob@example.com,
  // and erasing jimbob's waiting update would lose it for a customer who asked nothing.
  if (!body.toLowerCase().includes(email)) return false;
  let parsed: unknown;
  // Unreadable as JSON: erased rather than risk keeping the customer's data.
  try { parsed = parseShopifyJson(body); } catch { return true; }
  const holds = (value: unknown): boolean => {
    if (typeof value === 'string') return value.trim().toLowerCase() === email;
    if (value === null || typeof value !== 'object') return false;
    return Object.values(value).some(holds);
  };
  return holds(parsed);
}

async function applyOne(ctx: ApplyContext, event: WebhookEvent): Promise<void> {
  const { store, transformer } = ctx;
  const tenantId = event.tenantId;
  const payload = event.payload as Record<string, any>;
  // Any JSON passes the endpoint (`null`, an array): the registry's id readers expect an object.
  const isObject = typeof payload === 'object' && payload !== null && !Array.isArray(payload);
  const action = topicAction(event.topic);
  // A capped or trimmed body is read again (see bodyIncomplete).
  const incomplete = action?.kind === 'upsert' && bodyIncomplete(action.resource, payload);
  if (action?.kind === 'upsert' && !incomplete) {
    await store.writeRows(tenantId, action.resource.name, webhookRows(ctx, event, action.resource));
    return;
  }
  if (action?.kind === 'delete') {
    const id = isObject ? idOf(payload) : null;
    if (id === null) throw payloadInvalid(event, action.resource.name);
    await store.markDeleted(tenantId, action.resource.name as ResourceType, [id], event.triggeredAt ?? event.receivedAt);
    return;
  }
  if (action?.kind === 'refetch' || incomplete) {
    const refetch = action!.kind === 'refetch' ? action! : { ...action!, idOf, gidOf: (body: Record<string, any>) => (typeof body.admin_graphql_api_id === 'string' ? body.admin_graphql_api_id : null) };
    const id = isObject ? refetch.idOf(payload) : null;
    if (id === null) throw payloadInvalid(event, refetch.resource.name);
    if (!ctx.hooks.fetchRecord) {
      throw new ShopifyIngestError('WEBHOOK_REFETCH_UNAVAILABLE', `${event.topic} names ${action.resource.name} ${id} but no client can fetch it: use the ingestion service, or pass fetchRecord to createWebhookService`, { details: { topic: event.topic, id: String(id) } });
    }
    const gid = refetch.gidOf?.(payload) ?? undefined;
    const sentAt = (ctx.clock ?? (() => new Date()))();
    const record = await ctx.hooks.fetchRecord(tenantId, refetch.resource.name as ResourceType, id, gid);
    // Gone by now: its delete webhook (or the next sync's deletion probe) records that.
    if (record !== null && record !== undefined) await store.writeRows(tenantId, refetch.resource.name, stampObserved(refetch.resource, transformer.toRows(refetch.resource.name, record, tenantId), sentAt));
    return;
  }
  switch (event.topic) {
    case 'app/uninstalled': {
      // A delivery from before a reinstall (Shopify's retries, the inbox's backoff) must not
      // deactivate the new installation: compared with when the tenant was last activated.
      const uninstalledAt = event.triggeredAt ?? event.receivedAt;
      if (await store.deactivateTenantUninstalledAt(tenantId, uninstalledAt)) {
        await ctx.hooks.onTenantDeactivated?.(tenantId);
      } else {
        ctx.logger.info('app/uninstalled from before the app was installed again: tenant left active', { tenantId, webhookId: event.webhookId, uninstalledAt: uninstalledAt.toISOString() });
      }
      return;
    }
    case 'customers/redact': {
      const customerId = toBigInt(payload.customer?.id);
      const orderIds = ((payload.orders_to_redact ?? []) as ShopifyId[]).map(toBigInt);
      await store.redactCustomer(tenantId, customerId, orderIds);
      // Deliveries of this tenant that name the customer or the orders carry their PII in their
      // encrypted bodies: erased too (one of the ids as a whole number anywhere in the body, or the
      // email as a whole string value).
      const ids = new RegExp(`(?<![0-9])(?:${[customerId, ...orderIds].join('|')})(?![0-9])`);
      const email = typeof payload.customer?.email === 'string' && payload.customer.email.trim() ? payload.customer.email.trim().toLowerCase() : null;
      const mentions = (bodyEnc: string) => {
        const body = unpackBody(ctx.keyRing.decrypt(bodyEnc, tenantId));
        return ids.test(body) || (email !== null && bodyHoldsEmail(body, email));
      };
      const erased = await ctx.inbox.eraseBodies(tenantId, mentions, event.id, ctx.batchIds);
      ctx.logger.info('customers/redact applied', { tenantId, webhookId: event.webhookId, orders: orderIds.length, inboxBodiesErased: erased });
      return;
    }
    case 'shop/redact': {
      // Shopify sends shop/redact 48 h after an uninstall. One raised before the tenant was last
      // activated belongs to an earlier installation: the merchant installed the app again in
      // between, and the new installation's rows and credentials are not its to erase (uninstalling
      // the new one brings its own shop/redact). Checked in the statement that deactivates, as for
      // app/uninstalled: an addTenant committed before it wins. (One committed during the erasing
      // below still loses its credentials and rows: closing that needs the store to erase only an
      // inactive tenant.)
      const requestedAt = event.triggeredAt ?? event.receivedAt;
      if (!(await store.deactivateTenantUninstalledAt(tenantId, requestedAt))) {
        ctx.logger.info('shop/redact from before the app was installed again: nothing erased', { tenantId, webhookId: event.webhookId, requestedAt: requestedAt.toISOString() });
        return;
      }
      // Inactive first (new deliveries are refused, syncs and schedules stop), credentials erased,
      // then every row and every other inbox row of the tenant deleted (this delivery's own row stays,
      // so a failure sends it back to pending like any other). The tenant row stays, inactive and
      // empty, until the shop installs the app again (addTenant).
      await store.eraseTenantCredentials(tenantId);
      await ctx.hooks.onTenantDeactivated?.(tenantId);
      await store.purgeTenant(tenantId, { keepInbox: true });
      await ctx.inbox.purgeTenant(tenantId, event.id);
      return;
    }
    case 'customers/data_request': {
      const customerId = toBigInt(payload.customer?.id);
      const orderIds = ((payload.orders_requested ?? []) as ShopifyId[]).map(toBigInt);
      const stored = await readStoredCustomerData(ctx.db, tenantId, customerId, orderIds);
      const data: CustomerDataExport = {
        customerId,
        customer: stored.customer ? decodeStoredRow(stored.customer, ctx.keyRing, tenantId) : null,
        orders: stored.orders.map((o) => decodeStoredRow(o, ctx.keyRing, tenantId)),
        records: Object.fromEntries(Object.entries(await readCustomerRecords(ctx.db, tenantId, customerId, orderIds))
          .map(([table, rows]) => [table, rows.map((row) => decodeStoredRow(parseShopifyJson(row) as Record<string, unknown>, ctx.keyRing, tenantId))])),
        dataRequestId: payload.data_request?.id != null ? String(payload.data_request.id) : null,
      };
      if (ctx.hooks.onDataRequest) await ctx.hooks.onDataRequest(tenantId, data, event as WebhookEvent<'customers/data_request'>);
      else ctx.logger.warn('customers/data_request received but no onDataRequest hook is configured', { tenantId: tenantId, webhookId: event.webhookId });
      return;
    }
    default:
      // bulk_operations/finish and unknown topics: only the host's handlers act on them.
      return;
  }
}

/**
 * Applies a batch of events to the store. Upserts of one tenant and resource are written by one
 * set-based call (latest version per id); if that call fails, its events are retried one by one so a
 * single bad record does not fail the others.
 *
 * @returns `failures`: the error of each event that could not be applied, by inbox id; `skipped`: inbox
 *   ids of events not applied because their tenant is inactive or moved (nothing of them may be stored or handled)
 */
export async function applyWebhookEvents(ctx: ApplyContext, events: WebhookEvent[]): Promise<{
  /** The error of each event that could not be applied, by inbox id. */
  failures: Map<string, unknown>;
  /** Inbox ids of events not applied because their tenant is inactive or moved. */
  skipped: Set<string>;
}> {
  const failures = new Map<string, unknown>();
  const skipped = new Set<string>();
  ctx = { ...ctx, batchIds: events.map((e) => e.id) };
  const groups = new Map<string, WebhookEvent[]>();
  const singles: WebhookEvent[] = [];
  // A tenant deactivated (app/uninstalled, shop/redact) after a delivery was accepted stores nothing
  // from it: only the topics an inactive tenant still receives are applied.
  const tenants = new Map<string, { active: boolean; shop: string | null }>();
  for (const tenantId of new Set(events.map((e) => e.tenantId))) {
    const tenant = await ctx.store.getTenant(tenantId);
    tenants.set(tenantId, { active: tenant?.isActive ?? false, shop: tenant?.shopDomain.toLowerCase() ?? null });
  }
  for (const event of events) {
    const tenant = tenants.get(event.tenantId)!;
    // A tenant moved to another shop (updateTenant) since the delivery was stored: the old shop's
    // deliveries, whatever their topic, are not its data any more (an app/uninstalled or shop/redact
    // of the old shop must not deactivate or erase it either). Skipped like an inactive tenant's.
    if (tenant.shop !== null && tenant.shop !== event.shopDomain.toLowerCase()) {
      ctx.logger.info('webhook not applied: its tenant has moved to another shop since it was received', { tenantId: event.tenantId, shopDomain: event.shopDomain, tenantShop: tenant.shop, topic: event.topic, webhookId: event.webhookId });
      skipped.add(event.id);
      continue;
    }
    if (!tenant.active && !INACTIVE_TENANT_TOPICS.includes(event.topic)) {
      ctx.logger.info('webhook not applied: its tenant is inactive', { tenantId: event.tenantId, topic: event.topic, webhookId: event.webhookId });
      skipped.add(event.id);
      continue;
    }
    const action = topicAction(event.topic);
    if (action?.kind !== 'upsert' || bodyIncomplete(action.resource, event.payload)) { singles.push(event); continue; }
    const key = `${event.tenantId}\u0000${action.resource.name}`;
    const list = groups.get(key) ?? [];
    list.push(event);
    groups.set(key, list);
  }

  for (const [key, group] of groups) {
    const [tenantId, name] = key.split('\u0000') as [string, string];
    if (group.length === 1) { singles.push(group[0]!); continue; }
    const resource = topicAction(group[0]!.topic)!.resource;
    const ok: WebhookEvent[] = [];
    const sets: RowSet[] = [];
    const pause = createYielder();
    for (const event of group) {
      await pause();
      try {
        sets.push(webhookRows(ctx, event, resource));
        ok.push(event);
      } catch (error) {
        failures.set(event.id, error);
      }
    }
    try {
      await ctx.store.writeRows(tenantId, name, mergeRowSets(resource, sets));
    } catch (error) {
      ctx.logger.warn('batched webhook upsert failed; applying one by one', { tenantId, resource: name, count: ok.length, error });
      singles.push(...ok);
    }
  }

  // Redactions last: whatever else this batch holds for the tenant (an update of the redacted order
  // claimed together with the redact) is applied first and then erased with the rest.
  const REDACTIONS = new Set(['customers/redact', 'shop/redact']);
  singles.sort((a, b) => Number(REDACTIONS.has(a.topic)) - Number(REDACTIONS.has(b.topic)));
  for (const event of singles) {
    try {
      await applyOne(ctx, event);
    } catch (error) {
      failures.set(event.id, error);
    }
  }
  return { failures, skipped };
}
