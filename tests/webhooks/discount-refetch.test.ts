/**
 * A discounts/* webhook names the discount by the gid of its own node type (`DiscountCodeNode/N`,
 * `DiscountAutomaticNode/N`). `node(id:)` returns the object the gid names, so the SDK's record query
 * (`... on DiscountNode`) selects nothing from those: Shopify answers `{"node":{}}`. The discount is
 * read again as `gid://shopify/DiscountNode/N` (same number), and a node of another type than the
 * query's fragment is an error (the delivery is retried), never "gone" (the delivery dropped).
 * The client here executes the SDK's queries against Shopify's own 2026-10 schema with graphql-js.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildClientSchema, execute, parse, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchRecord } from '../../src/importer/pages-listing.js';
import { getResource } from '../../src/resources/index.js';
import { createStore } from '../../src/store/index.js';
import { createTestDatabase, fixturesDir, type TestDatabase } from '../helpers/db.js';
import { manualWebhookService, sendSigned } from './helpers/deliveries.js';
import { adminSchemaMissing } from '../helpers/schema-validate.js';

let schema: GraphQLSchema | undefined;
/** Shopify's 2026-10 schema (read once; the tests are skipped, with the reason, when the fixture is absent). */
const schemaOf = () => (schema ??= buildClientSchema(JSON.parse(gunzipSync(readFileSync(path.join(fixturesDir(), 'admin-schema/admin_2026-10.json.gz'))).toString('utf8')).data));
const N = '1057371209';
const discount = {
  __typename: 'DiscountCodeBasic', title: 'SUMMER', status: 'ACTIVE', startsAt: '2026-11-01T14:00:00Z', endsAt: null, createdAt: '2026-11-01T14:00:00Z',
  updatedAt: '2026-11-02T14:00:00Z', asyncUsageCount: 0, discountClasses: ['ORDER'], summary: '10% off', usageLimit: null, appliesOncePerCustomer: false,
  codesCount: { count: 1, precision: 'EXACT' }, totalSales: null, customerGets: { value: { __typename: 'DiscountPercentage', percentage: 0.1 } },
  codes: { nodes: [{ id: 'gid://shopify/DiscountRedeemCode/77', code: 'SUMMER', asyncUsageCount: 0 }], pageInfo: { hasNextPage: false, endCursor: null } },
};
/** Shopify's objects by gid: each gid names its own type (one discount, seen as its three nodes). */
const objects: Record<string, unknown> = {
  [`gid://shopify/DiscountNode/${N}`]: { __typename: 'DiscountNode', id: `gid://shopify/DiscountNode/${N}`, discount },
  [`gid://shopify/DiscountCodeNode/${N}`]: { __typename: 'DiscountCodeNode', id: `gid://shopify/DiscountCodeNode/${N}`, codeDiscount: discount },
};
const asked: string[] = [];
const client = {
  shopDomain: 'shop.myshopify.com',
  async graphql(query: string, variables: Record<string, unknown>) {
    asked.push(String(variables.id));
    const result = await execute({ schema: schemaOf(), document: parse(query), variableValues: variables, rootValue: { node: ({ id }: { id: string }) => objects[id] ?? null } });
    if (result.errors?.length) throw result.errors[0];
    return result.data as never;
  },
};
const body = { admin_graphql_api_id: `gid://shopify/DiscountCodeNode/${N}`, title: 'SUMMER', status: 'ACTIVE', created_at: '2026-11-01T10:00:00-04:00', updated_at: '2026-11-02T10:00:00-04:00' };

let db: TestDatabase;
describe.skipIf(adminSchemaMissing)(`discount refetch against Shopify's 2026-10 schema${adminSchemaMissing ? ` (skipped: ${adminSchemaMissing})` : ''}`, () => {
  beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_wh_disc_refetch' }); });
  afterAll(async () => { await db?.drop(); });
  beforeEach(async () => {
    asked.length = 0;
    await db.query('DELETE FROM shopify_tenants');
    await db.query('DELETE FROM shopify_webhook_inbox');
    await createStore(db.database).upsertTenant({ id: 't1', shopDomain: 'shop.myshopify.com', accessTokenEnc: 'x' });
  });

  it('discounts/update is read again as gid://shopify/DiscountNode/<N> and stored with its codes (not dropped)', async () => {
    const s = manualWebhookService(db.database, { fetchRecord: (_t, resource, id, gid) => fetchRecord(client as never, getResource(resource), gid ?? id) });
    await sendSigned(s, 'discounts/update', body, { webhookId: 'upd' });
    await s.processPending();
    expect(asked).toEqual([`gid://shopify/DiscountNode/${N}`]);
    expect(await db.query(`SELECT id::text, title, method, discount_type FROM shopify_discounts WHERE tenant_id = 't1'`)).toEqual([{ id: N, title: 'SUMMER', method: 'code', discount_type: 'DiscountCodeBasic' }]);
    expect(await db.query(`SELECT code FROM shopify_discount_codes WHERE tenant_id = 't1'`)).toEqual([{ code: 'SUMMER' }]);
    expect(await db.query(`SELECT status, last_error FROM shopify_webhook_inbox WHERE webhook_id = 'upd'`)).toEqual([{ status: 'processed', last_error: null }]);
  });

  it('a node of another type than the query asks for (`{}`) is SHOPIFY_BAD_RESPONSE, not gone; null stays gone', async () => {
    expect(await execute({ schema: schemaOf(), document: parse('query($id: ID!) { node(id: $id) { ... on DiscountNode { id } } }'), variableValues: { id: body.admin_graphql_api_id }, rootValue: { node: () => objects[body.admin_graphql_api_id] } }))
      .toEqual({ data: { node: {} } });
    await expect(fetchRecord(client as never, getResource('discounts'), `gid://shopify/DiscountCodeNode/${N}`)).rejects.toMatchObject({ code: 'SHOPIFY_BAD_RESPONSE' });
    expect(await fetchRecord(client as never, getResource('discounts'), 'gid://shopify/DiscountNode/1')).toBeNull();
  });

  it('a delivery whose refetch answers a node of another type stays in the inbox with its error (retried), nothing written', async () => {
    // The gid the SDK refetched discounts by before: the body's own.
    const s = manualWebhookService(db.database, { fetchRecord: (_t, resource) => fetchRecord(client as never, getResource(resource), body.admin_graphql_api_id) });
    await sendSigned(s, 'discounts/update', body, { webhookId: 'wrong-type' });
    await s.processPending();
    const [row] = await db.query(`SELECT status <> 'processed' AS waiting, last_error FROM shopify_webhook_inbox WHERE webhook_id = 'wrong-type'`);
    expect(row).toMatchObject({ waiting: true, last_error: expect.stringContaining('DiscountNode') });
    expect(await db.query(`SELECT id FROM shopify_discounts WHERE tenant_id = 't1'`)).toEqual([]);
  });
});
