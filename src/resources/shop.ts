/**
 * The shop itself: one row per tenant (name, domains, currency, time zone, plan), read again by
 * every sync of this resource. `shop` is a single object of QueryRoot, not a connection, so the
 * entry is a singleton listing (one query; no bulk operation, paging or deletion probe).
 * Any app may read it: no access scope is needed.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/Shop
 */
import { ShopifyIngestError } from '../errors.js';
import { col } from '../store/columns.js';
import { bodyId, bool, isObject, pick, str, time, type JsonObject } from '../transform/values.js';
import { defineResource, type RowSet } from './definition.js';

/** A row of `shopify_shop`. */
interface ShopRow {
  tenantId: string;
  id: bigint;
  gid: string | null;
  name: string | null;
  myshopifyDomain: string | null;
  primaryDomain: string | null;
  currency: string | null;
  ianaTimezone: string | null;
  planName: string | null;
  shopifyPlus: boolean | null;
  partnerDevelopment: boolean | null;
  shopifyCreatedAt: Date | null;
  shopifyUpdatedAt: Date;
  deletedAt: Date | null;
  payload: string;
}

const columns = [
  col<ShopRow>('id', 'bigint', (r) => r.id),
  col<ShopRow>('gid', 'text', (r) => r.gid),
  col<ShopRow>('name', 'text', (r) => r.name),
  col<ShopRow>('myshopify_domain', 'text', (r) => r.myshopifyDomain),
  col<ShopRow>('primary_domain', 'text', (r) => r.primaryDomain),
  col<ShopRow>('currency', 'text', (r) => r.currency),
  col<ShopRow>('iana_timezone', 'text', (r) => r.ianaTimezone),
  col<ShopRow>('plan_name', 'text', (r) => r.planName),
  col<ShopRow>('shopify_plus', 'boolean', (r) => r.shopifyPlus),
  col<ShopRow>('partner_development', 'boolean', (r) => r.partnerDevelopment),
  col<ShopRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
  col<ShopRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
  col<ShopRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
  col<ShopRow>('payload', 'jsonb', (r) => r.payload),
] as const;

/** The shop as GraphQL returns it, or as the `shop/update` webhook's REST body has it. */
function shopRow(data: JsonObject, id: bigint, updatedAt: Date, tenantId: string, payload: string): ShopRow {
  const plan = isObject(data.plan) ? data.plan : null;
  const domain = isObject(data.primaryDomain) ? str(data.primaryDomain.host) : str(data.domain);
  return {
    tenantId,
    id,
    gid: str(data.admin_graphql_api_id) ?? (typeof data.id === 'string' && data.id.startsWith('gid:') ? data.id : `gid://shopify/Shop/${id}`),
    name: str(data.name),
    myshopifyDomain: str(pick(data, 'myshopifyDomain', 'myshopify_domain')),
    primaryDomain: domain,
    currency: str(pick(data, 'currencyCode', 'currency')),
    ianaTimezone: str(pick(data, 'ianaTimezone', 'iana_timezone')),
    planName: plan ? str(plan.publicDisplayName) : str(data.plan_display_name),
    shopifyPlus: plan ? bool(plan.shopifyPlus) : null,
    partnerDevelopment: plan ? bool(plan.partnerDevelopment) : null,
    shopifyCreatedAt: time(pick(data, 'createdAt', 'created_at'), 'created_at'),
    shopifyUpdatedAt: updatedAt,
    deletedAt: null,
    payload,
  };
}

export const shop = defineResource<RowSet, 'shop'>({
  name: 'shop',
  label: 'Shop',
  scopes: [],
  dependsOn: [],
  root: { key: 'shop', table: 'shopify_shop', model: 'ShopifyShop', columns, conflict: ['id'], versioned: true, syncedAt: true },
  children: [],
  emptyRows: () => ({ shop: [] }),
  toRows: (record, ctx) => ({ shop: [shopRow(record, ctx.id, ctx.updatedAt, ctx.tenantId, ctx.sealer.payload(record))] }),
  childRow: (table) => { throw new ShopifyIngestError('INVALID_ARGUMENT', `shop has no child table ${table}`); },
  graphql: {
    connection: 'shop',
    type: 'Shop',
    count: null,
    fields: `id name myshopifyDomain currencyCode ianaTimezone createdAt updatedAt
      primaryDomain { host url }
      plan { publicDisplayName partnerDevelopment shopifyPlus }`,
    connections: [],
    updatedAtSortKey: null,
    baseQuery: null,
    singleton: true,
  },
  // REST has `GET /shop.json`, but the REST listing pages collections; the shop is read over GraphQL.
  rest: null,
  // The REST body has no `plan { shopifyPlus partnerDevelopment }` (nor `primaryDomain`): upserted as
  // it is, it would null the columns a sync stored. The shop is read again, the row a sync writes.
  // https://shopify.dev/docs/api/webhooks/latest?reference=toml#list-of-topics-shop/update
  webhooks: { upsert: [], delete: [], refetch: [{ topic: 'shop/update', idOf: bodyId }] },
  deletions: { eventSubjectType: null, reconcileIds: false },
  privacy: null,
  schedule: { enabled: true, schedule: '0 5 * * *' },
});
