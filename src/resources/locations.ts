/**
 * Locations (warehouses, stores, fulfillment services), active or not: `includeInactive` and
 * `includeLegacy` list them all, so a deactivated location stays with `is_active = false` instead of
 * looking deleted. Shopify's `locations` search has no `updated_at` filter (and no UPDATED_AT sort
 * key), so an incremental run lists every location; shops have few. Shopify's `events` have no
 * location subject, so deletions missed by `locations/delete` are found by id reconciliation on full syncs.
 * https://shopify.dev/docs/api/admin-graphql/latest/queries/locations
 */
import { ShopifyIngestError } from '../errors.js';
import { col } from '../store/columns.js';
import type { RecordSealer } from '../transform/pii.js';
import { bodyId, bool, isObject, pick, str, time, type JsonObject } from '../transform/values.js';
import { defineResource, type RowSet } from './definition.js';

/** A row of `shopify_locations`. */
interface LocationRow {
  tenantId: string;
  id: bigint;
  gid: string | null;
  name: string | null;
  isActive: boolean | null;
  fulfillsOnlineOrders: boolean | null;
  address1Enc: string | null;
  address2Enc: string | null;
  city: string | null;
  province: string | null;
  provinceCode: string | null;
  country: string | null;
  countryCode: string | null;
  zipEnc: string | null;
  phoneEnc: string | null;
  deactivatedAt: Date | null;
  shopifyCreatedAt: Date | null;
  shopifyUpdatedAt: Date;
  deletedAt: Date | null;
  payload: string;
}

const columns = [
  col<LocationRow>('id', 'bigint', (r) => r.id),
  col<LocationRow>('gid', 'text', (r) => r.gid),
  col<LocationRow>('name', 'text', (r) => r.name),
  col<LocationRow>('is_active', 'boolean', (r) => r.isActive),
  col<LocationRow>('fulfills_online_orders', 'boolean', (r) => r.fulfillsOnlineOrders),
  col<LocationRow>('address1_enc', 'text', (r) => r.address1Enc),
  col<LocationRow>('address2_enc', 'text', (r) => r.address2Enc),
  col<LocationRow>('city', 'text', (r) => r.city),
  col<LocationRow>('province', 'text', (r) => r.province),
  col<LocationRow>('province_code', 'text', (r) => r.provinceCode),
  col<LocationRow>('country', 'text', (r) => r.country),
  col<LocationRow>('country_code', 'text', (r) => r.countryCode),
  col<LocationRow>('zip_enc', 'text', (r) => r.zipEnc),
  col<LocationRow>('phone_enc', 'text', (r) => r.phoneEnc),
  col<LocationRow>('deactivated_at', 'timestamptz', (r) => r.deactivatedAt),
  col<LocationRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
  col<LocationRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
  col<LocationRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
  col<LocationRow>('payload', 'jsonb', (r) => r.payload),
] as const;

/** A GraphQL Location (address under `address`) or a REST/webhook location (address fields at the top, `active`). */
export function locationRow(data: JsonObject, id: bigint, updatedAt: Date, tenantId: string, sealer: RecordSealer): LocationRow {
  const a = isObject(data.address) ? data.address : data;
  return {
    tenantId,
    id,
    gid: str(data.admin_graphql_api_id) ?? (typeof data.id === 'string' ? data.id : `gid://shopify/Location/${id}`),
    name: str(data.name),
    isActive: bool(pick(data, 'isActive', 'active')),
    fulfillsOnlineOrders: bool(data.fulfillsOnlineOrders),
    address1Enc: sealer.value(str(a.address1)),
    address2Enc: sealer.value(str(a.address2)),
    city: str(a.city),
    province: str(a.province),
    provinceCode: str(pick(a, 'provinceCode', 'province_code')),
    country: str(pick(a, 'country', 'country_name')),
    countryCode: str(pick(a, 'countryCode', 'country_code')),
    zipEnc: sealer.value(str(a.zip)),
    phoneEnc: sealer.value(str(a.phone)),
    deactivatedAt: time(pick(data, 'deactivatedAt', 'deactivated_at'), 'deactivated_at'),
    shopifyCreatedAt: time(pick(data, 'createdAt', 'created_at'), 'created_at'),
    shopifyUpdatedAt: updatedAt,
    deletedAt: null,
    payload: sealer.payload(data),
  };
}

export const locations = defineResource<RowSet, 'locations'>({
  name: 'locations',
  label: 'Locations',
  scopes: ['read_locations'],
  dependsOn: [],
  root: { key: 'locations', table: 'shopify_locations', model: 'ShopifyLocation', columns, conflict: ['id'], versioned: true, syncedAt: true },
  children: [],
  emptyRows: () => ({ locations: [] }),
  toRows: (record, ctx) => ({ locations: [locationRow(record, ctx.id, ctx.updatedAt, ctx.tenantId, ctx.sealer)] }),
  childRow: (table) => { throw new ShopifyIngestError('INVALID_ARGUMENT', `locations have no child table ${table}`); },
  graphql: {
    connection: 'locations',
    type: 'Location',
    count: 'locationsCount',
    fields: `id legacyResourceId name isActive fulfillsOnlineOrders deactivatedAt createdAt updatedAt
      address { address1 address2 city province provinceCode country countryCode zip phone }`,
    connections: [],
    updatedAtSortKey: null,
    createdAtSortKey: null,
    baseQuery: null,
    arguments: 'includeInactive: true, includeLegacy: true',
    incremental: 'everything',
  },
  // REST has `GET /locations.json`, unpaged and without `since_id`: the REST listing cannot resume through it.
  rest: null,
  webhooks: {
    upsert: [],
    delete: ['locations/delete'],
    // REST bodies lack `fulfillsOnlineOrders` (and activation's effects on other fields): read the location again.
    refetch: ['locations/create', 'locations/update', 'locations/activate', 'locations/deactivate'].map((topic) => ({ topic, idOf: bodyId })),
  },
  deletions: { eventSubjectType: null, reconcileIds: true },
  privacy: null,
  schedule: { enabled: true, schedule: '0 3 * * *' },
});
