import { assertTenantId } from '../errors.js';
import { parseShopifyJson, stringifyShopifyJson } from '../json.js';
import { DEFAULT_PII_KEYS, SEALED_KEY } from '../transform/pii.js';
import type { PrismaLike, SqlExecutor } from './prisma-like.js';
import { storeFailure } from './store-errors.js';
import { OBSERVED_AT } from './versioning.js';
import { RESOURCES, getResource } from '../resources/registry.js';
import type { ResourceDefinition, TableDefinition } from '../resources/definition.js';

/**
 * Order payload keys that carry the buyer's personal data
 * (https://shopify.dev/docs/api/admin-rest/latest/resources/order: email, phone, customer, addresses,
 * client_details with browser IP and user agent, note and note_attributes the buyer typed, and the
 * order status page link, whose `key` opens the buyer's order page: sealed since 2026-12, in clear before).
 * A redact removes them from the top of an order's payload; nested objects lose every
 * `DEFAULT_PII_KEYS` key, every sealed `_pii` blob and line items' buyer-typed `properties`.
 */
export const ORDER_PII_KEYS = [
  'email', 'contact_email', 'phone', 'customer', 'billing_address', 'shipping_address', 'client_details',
  'browser_ip', 'note', 'note_attributes', 'customer_locale', 'landing_site', 'referring_site',
  'contactEmail', 'billingAddress', 'shippingAddress', 'clientIp', 'customAttributes', 'customerLocale',
  'order_status_url', 'statusPageUrl',
] as const;

const NESTED_PII_KEYS = new Set<string>([...DEFAULT_PII_KEYS, SEALED_KEY, 'properties', 'customAttributes', 'note', 'name_on_card']);
const TOP_PII_KEYS = new Set<string>([...ORDER_PII_KEYS, ...NESTED_PII_KEYS]);

/** A payload without the customer's PII: sealed blobs and PII keys removed at every depth, `redacted: true` added. */
export function scrubPayload(text: string): string {
  const walk = (value: unknown, keys: ReadonlySet<string>): unknown => {
    if (Array.isArray(value)) return value.map((v) => walk(v, NESTED_PII_KEYS));
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) if (!keys.has(key)) out[key] = walk(v, NESTED_PII_KEYS);
    return out;
  };
  const scrubbed = walk(parseShopifyJson(text), TOP_PII_KEYS) as Record<string, unknown>;
  return stringifyShopifyJson({ ...scrubbed, redacted: true });
}

/** Encrypted and hashed columns, and plain ones named like a payload's PII key (a refund's `note`). */
const piiColumnsOf = (table: TableDefinition) => table.columns.map((c) => c.column).filter((c) => /_(enc|hash)$/.test(c) || TOP_PII_KEYS.has(c));
const hasPayload = (table: TableDefinition) => table.columns.some((c) => c.column === 'payload');
const hasId = (table: TableDefinition) => table.columns.some((c) => c.column === 'id');

/** Metafields are owned by (Shopify's MetafieldOwnerType, id): CUSTOMER, ORDER, … */
type MetafieldOwners = Array<[ownerType: string, ids: string[]]>;

/** Where metafields live (their values are stored in clear: see redactCustomer). */
const METAFIELDS_TABLE = getResource('metafields').children.find((c) => c.parentColumn === 'owner_id')!.table;
/** The metafields of owners of one type: parameters `$2` the type, `$3` the ids (`$1` is the tenant). */
const METAFIELDS_OF = `"tenant_id" = $1 AND "owner_type" = $2 AND "owner_id" = ANY($3::bigint[])`;

/**
 * Visits a customer's rows in every resource that holds some: the root rows of the customer (the
 * registry's `privacy`: by `customerColumn`, plus those named in the request where `listedInRequest`),
 * then the root rows of those records (`privacyVia`: the refunds of the orders), and each table's
 * child rows of the parents visited. `visit` gets a condition on the table's columns whose parameters
 * start at `$2` (`$1` is the tenant) and returns the ids of the rows it saw.
 * Returns the customer's metafield owners: per `privacy` resource, the ids of its records visited or
 * named in the request (the customer and the orders Shopify lists, stored here or not).
 */
async function visitCustomerRows(
  id: string, listed: string[],
  visit: (resource: ResourceDefinition, table: TableDefinition, where: string, params: unknown[]) => Promise<string[]>,
): Promise<MetafieldOwners> {
  const visitResource = async (resource: ResourceDefinition, where: string, params: unknown[]): Promise<string[]> => {
    const matched = new Map<string, string[]>([[resource.root.key, await visit(resource, resource.root, where, params)]]);
    for (const child of resource.children) {
      const parents = matched.get(child.parent) ?? [];
      matched.set(child.key, parents.length === 0 ? [] : await visit(resource, child, `"${child.parentColumn}" = ANY($2::bigint[])`, [parents]));
    }
    return matched.get(resource.root.key)!;
  };
  const resources = RESOURCES as readonly ResourceDefinition[];
  const records = new Map<string, string[]>();
  const owners: MetafieldOwners = [];
  for (const resource of resources) {
    const privacy = resource.privacy;
    if (!privacy) continue;
    const byCustomer = `"${privacy.customerColumn}" = $2::bigint`;
    const [where, params] = privacy.listedInRequest ? [`(${byCustomer} OR "id" = ANY($3::bigint[]))`, [id, listed]] : [byCustomer, [id]];
    const matched = await visitResource(resource, where, params);
    const named = [...(privacy.customerColumn === 'id' ? [id] : []), ...(privacy.listedInRequest ? listed : [])];
    const ids = [...new Set([...matched, ...named])];
    records.set(resource.name, ids);
    owners.push([resource.graphql.type.toUpperCase(), ids]);
  }
  // After every `privacy` resource, whatever the registry's order.
  for (const resource of resources) {
    const via = resource.privacyVia;
    if (via) await visitResource(resource, `"${via.column}" = ANY($2::bigint[])`, [records.get(via.resource) ?? []]);
  }
  return owners;
}

/**
 * Every row a customer's data is in, for `customers/data_request`: in each resource with a
 * `privacy` entry, the customer's root rows (their orders and the requested ones, their drafts,
 * checkouts...), in each with a `privacyVia`, those of these records (the orders' refunds,
 * transactions, fulfillments), all with their children, and the metafields of the customer and of
 * those orders (what `redactCustomer` erases), as `to_jsonb` text (ids exact, PII still encrypted), by table.
 */
export async function readCustomerRecords(db: SqlExecutor, tenantId: string, customerId: bigint, orderIds: bigint[] = []): Promise<Record<string, string[]>> {
  assertTenantId(tenantId);
  const out: Record<string, string[]> = {};
  const owners = await visitCustomerRows(BigInt(customerId).toString(), [...new Set(orderIds.map((o) => BigInt(o).toString()))], async (_resource, table, where, params) => {
    const rows = await db.$queryRawUnsafe<Array<{ id: string | null; row: string }>>(
      `SELECT ${hasId(table) ? 't."id"::text' : 'NULL'} AS id, to_jsonb(t)::text AS row FROM "${table.table}" t WHERE "tenant_id" = $1 AND ${where} ORDER BY 1`,
      tenantId, ...params,
    );
    out[table.table] = rows.map((r) => r.row);
    return rows.map((r) => r.id).filter((id): id is string => id !== null);
  });
  const metafields: string[] = [];
  for (const [ownerType, ids] of owners) {
    if (ids.length === 0) continue;
    const rows = await db.$queryRawUnsafe<Array<{ row: string }>>(`SELECT to_jsonb(t)::text AS row FROM "${METAFIELDS_TABLE}" t WHERE ${METAFIELDS_OF} ORDER BY t."id"`, tenantId, ownerType, ids);
    metafields.push(...rows.map((r) => r.row));
  }
  out[METAFIELDS_TABLE] = metafields;
  return out;
}

/**
 * Redacts the matching rows of one table: PII columns NULL, payloads erased or scrubbed (rewritten in
 * JS: PostgreSQL has no recursive key removal). Returns the ids of the rows (for their children).
 */
async function redactRows(tx: SqlExecutor, tenantId: string, table: TableDefinition, where: string, params: unknown[], payload: 'erase' | 'scrub'): Promise<string[]> {
  const rows = await tx.$queryRawUnsafe<Array<{ ctid: string; id: string | null; payload: string | null }>>(
    `SELECT ctid::text AS ctid, ${hasId(table) ? '"id"::text' : 'NULL'} AS id, ${hasPayload(table) ? '"payload"::text' : 'NULL'} AS payload
       FROM "${table.table}" WHERE "tenant_id" = $1 AND ${where} FOR UPDATE`,
    tenantId, ...params,
  );
  if (rows.length === 0) return [];
  const sets = piiColumnsOf(table).map((c) => `"${c}" = NULL`);
  if (hasPayload(table)) sets.push(payload === 'erase' ? `"payload" = jsonb_build_object('id', t."id", 'redacted', true)` : `"payload" = v.p::jsonb`);
  if (table.syncedAt) sets.push(`"synced_at" = now()`);
  // The redacted row is observed now: a version of the record raised before the redact and stored
  // after it (Shopify retrying a delivery, an older inbox row) has the same updated_at and would win
  // the tie (versioning.ts, rule 1) and store the PII again; now it loses it. Newer versions still win.
  if (table.versioned) sets.push(`"${OBSERVED_AT}" = GREATEST(t."${OBSERVED_AT}", now())`);
  if (sets.length > 0) {
    await tx.$executeRawUnsafe(
      `UPDATE "${table.table}" AS t SET ${sets.join(', ')} FROM unnest($2::tid[], $3::text[]) AS v(c, p) WHERE t."tenant_id" = $1 AND t.ctid = v.c`,
      tenantId, rows.map((r) => r.ctid), rows.map((r) => (r.payload === null || payload === 'erase' ? null : scrubPayload(r.payload))),
    );
  }
  return rows.map((r) => r.id).filter((id): id is string => id !== null);
}

/** Tables holding a tenant's rows: every resource's tables (children first, so foreign keys never block the purge), then the SDK's own. */
const TENANT_TABLES = [
  ...[...(RESOURCES as readonly ResourceDefinition[])].reverse().flatMap((r) => [...r.children].reverse().map((c) => c.table).concat(r.root.table)),
  'shopify_listed_ids',
  'shopify_sync_failures',
  'shopify_sync_runs',
  'shopify_sync_checkpoints',
  'shopify_webhook_inbox',
  'shopify_api_notices',
  // A crashed run's lock (or one of a run in another process, which stops at its next renewal).
  'shopify_run_locks',
] as const;

/** GDPR webhooks: customers/redact and shop/redact (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance). */
export function createPrivacyStore(prisma: PrismaLike) {
  return {
    /**
     * Erases a customer's PII from every resource that holds some (`privacy`, `privacyVia`): the
     * customer row keeps its id and timestamps, its PII columns become NULL and its payload
     * `{"id": ..., "redacted": true}`; their orders (by `customer_id`, plus `orderIds` Shopify lists in
     * the request), the orders' line items, refunds, transactions and fulfillments lose their PII
     * columns, every sealed `_pii` blob and every PII key of their payloads; the customer's and the
     * orders' metafields are deleted. One transaction.
     */
    async redactCustomer(tenantId: string, customerId: bigint, orderIds: bigint[] = []): Promise<void> {
      assertTenantId(tenantId);
      const id = BigInt(customerId).toString();
      const listed = [...new Set(orderIds.map((o) => BigInt(o).toString()))];
      try {
        await prisma.$transaction(async (tx) => {
          const owners = await visitCustomerRows(id, listed, (resource, table, where, params) =>
            redactRows(tx, tenantId, table, where, params, table === resource.root ? resource.privacy?.payload ?? 'scrub' : 'scrub'));
          // Metafield values are stored in clear and may be about the customer (a birthday, a gift
          // message): the customer's and their orders' metafields go.
          for (const [ownerType, ids] of owners) {
            if (ids.length === 0) continue;
            await tx.$executeRawUnsafe(`DELETE FROM "${METAFIELDS_TABLE}" WHERE ${METAFIELDS_OF}`, tenantId, ownerType, ids);
          }
        }, { timeout: 60_000, maxWait: 30_000 });
      } catch (error) {
        throw storeFailure('redactCustomer', tenantId, error);
      }
    },

    /**
     * Deletes every row of the tenant in one transaction; the tenant row too with `includeTenant`;
     * the webhook inbox not with `keepInbox` (shop/redact purges it apart, keeping its own delivery).
     */
    async purgeTenant(tenantId: string, options: { includeTenant?: boolean; keepInbox?: boolean } = {}): Promise<void> {
      assertTenantId(tenantId);
      try {
        await prisma.$transaction(async (tx) => {
          for (const table of TENANT_TABLES) {
            if (options.keepInbox && table === 'shopify_webhook_inbox') continue;
            await tx.$executeRawUnsafe(`DELETE FROM "${table}" WHERE "tenant_id" = $1`, tenantId);
          }
          if (options.includeTenant) await tx.$executeRawUnsafe(`DELETE FROM "shopify_tenants" WHERE "id" = $1`, tenantId);
        }, { timeout: 120_000, maxWait: 30_000 });
      } catch (error) {
        throw storeFailure('purgeTenant', tenantId, error);
      }
    },
  };
}
