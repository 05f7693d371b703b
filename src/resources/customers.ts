/**
 * Customers: one row each, PII encrypted (email, names, phone, addresses), the email's blind index
 * in clear. Shopify records no destroy events for customers, so a full sync reconciles ids.
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/Customer
 */
import { ShopifyIngestError } from '../errors.js';
import { col } from '../store/columns.js';
import type { CustomerRow } from '../store/rows.js';
import { customerRow } from '../transform/customer.js';
import { defineResource } from './definition.js';

const columns = [
  col<CustomerRow>('id', 'bigint', (r) => r.id),
  col<CustomerRow>('email_enc', 'text', (r) => r.emailEnc),
  col<CustomerRow>('email_hash', 'text', (r) => r.emailHash),
  col<CustomerRow>('first_name_enc', 'text', (r) => r.firstNameEnc),
  col<CustomerRow>('last_name_enc', 'text', (r) => r.lastNameEnc),
  col<CustomerRow>('phone_enc', 'text', (r) => r.phoneEnc),
  col<CustomerRow>('addresses_enc', 'text', (r) => r.addressesEnc),
  col<CustomerRow>('state', 'text', (r) => r.state),
  col<CustomerRow>('verified_email', 'boolean', (r) => r.verifiedEmail),
  col<CustomerRow>('accepts_marketing', 'boolean', (r) => r.acceptsMarketing),
  col<CustomerRow>('tags', 'text', (r) => r.tags),
  col<CustomerRow>('currency', 'text', (r) => r.currency),
  col<CustomerRow>('orders_count', 'integer', (r) => r.ordersCount),
  col<CustomerRow>('total_spent', 'numeric', (r) => r.totalSpent),
  col<CustomerRow>('shopify_created_at', 'timestamptz', (r) => r.shopifyCreatedAt),
  col<CustomerRow>('shopify_updated_at', 'timestamptz', (r) => r.shopifyUpdatedAt),
  col<CustomerRow>('deleted_at', 'timestamptz', (r) => r.deletedAt),
  col<CustomerRow>('payload', 'jsonb', (r) => r.payload),
] as const;

const ADDRESS = 'id firstName lastName name company address1 address2 city province provinceCode country countryCodeV2 zip phone';

export const customers = defineResource<{ customers: CustomerRow[] }, 'customers'>({
  name: 'customers',
  label: 'Customers',
  scopes: ['read_customers'],
  dependsOn: [],
  root: { key: 'customers', table: 'shopify_customers', model: 'ShopifyCustomer', columns, conflict: ['id'], versioned: true, syncedAt: true },
  children: [],
  emptyRows: () => ({ customers: [] }),
  toRows: (record, ctx) => ({ customers: [customerRow(record, ctx.id, ctx.updatedAt, ctx.tenantId, ctx.sealer, ctx.blindIndex)] }),
  childRow: (table) => { throw new ShopifyIngestError('INVALID_ARGUMENT', `customers have no child table ${table}`); },
  graphql: {
    connection: 'customers',
    type: 'Customer',
    count: 'customersCount',
    // `addresses` is a list field, so a bulk operation returns it inside the customer's own line
    // (its connection twin `addressesV2` would come as separate lines, which the encrypted
    // `addresses_enc` column cannot take). Shopify marks it deprecated with a 250-address cap.
    fields: `id legacyResourceId firstName lastName state verifiedEmail taxExempt tags note createdAt updatedAt numberOfOrders
      amountSpent { amount currencyCode }
      defaultEmailAddress { emailAddress marketingState }
      defaultPhoneNumber { phoneNumber }
      defaultAddress { ${ADDRESS} }
      addresses(first: 250) { ${ADDRESS} }`,
    connections: [],
    updatedAtSortKey: 'UPDATED_AT',
    baseQuery: null,
  },
  rest: { path: '/customers.json', baseQuery: {}, countPath: '/customers/count.json', eventFilter: null },
  webhooks: { upsert: ['customers/create', 'customers/update'], delete: ['customers/delete'], refetch: [] },
  // Shopify's events have no Customer subject: missed customer deletes are found by id
  // reconciliation on full syncs (https://shopify.dev/docs/api/admin-graphql/latest/enums/EventSubjectType).
  deletions: { eventSubjectType: null, reconcileIds: true },
  privacy: { customerColumn: 'id', listedInRequest: false, payload: 'erase' },
  schedule: { enabled: true, schedule: '0 */6 * * *', options: { batchSize: 100, concurrency: 2, skipExisting: false } },
});
