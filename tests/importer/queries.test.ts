import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/resources/index.js';
import { graphqlSourcesOf, type ResourceDefinition } from '../../src/resources/definition.js';
import { ACCESS_SCOPES_QUERY, SHOP_IDENTITY_QUERY, bulkIdsQuery, bulkQuery, countQuery, DESTROY_EVENTS_QUERY, destroyEventsSearch, earliestQuery, listItemsQuery, nestedRestQuery, pageQuery, pageRecordCost, pageSizeFor, recordQuery, singletonQuery, timeWindowQuery } from '../../src/importer/queries.js';
import { createShopifyClient, type ShopifyClient } from '../../src/client/index.js';
import { BULK_CANCEL_MUTATION, BULK_CURRENT_QUERY, BULK_FIND_QUERY, BULK_GET_QUERY, BULK_NEWEST_QUERY, BULK_NODE_QUERY, BULK_RUN_MUTATION, BULK_RUNNING_QUERY } from '../../src/client/bulk-operations.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { adminSchemaErrors, adminSchemaMissing } from '../helpers/schema-validate.js';

describe.skipIf(adminSchemaMissing)(`every query the engine sends is valid against Shopify's 2026-10 Admin schema${adminSchemaMissing ? ` (skipped: ${adminSchemaMissing})` : ''}`, () => {
  // Every GraphQL listing of every resource (metafields list through six owner types).
  const views = RESOURCES.flatMap((r) => graphqlSourcesOf(r).map((graphql, k) => ({ ...r, graphql, name: k ? `${r.name} (${graphql.connection})` : r.name }) as ResourceDefinition));
  for (const resource of views) {
    it(`${resource.name}: page, nested rest, record, count and bulk queries`, () => {
      if (resource.graphql.singleton) {
        expect(adminSchemaErrors(singletonQuery(resource))).toEqual([]);
        for (const c of resource.graphql.connections) expect(adminSchemaErrors(nestedRestQuery(resource, c))).toEqual([]);
        return;
      }
      const documents = [
        pageQuery(resource),
        recordQuery(resource),
        ...resource.graphql.connections.map((c) => nestedRestQuery(resource, c)),
        // Connections of list items (Order.refunds[].refundLineItems): first pages by nodes(ids:), the rest by node(id:).
        ...(resource.graphql.lists ?? []).filter((l) => l.connections.length > 0).map((l) => listItemsQuery(l)),
        ...(resource.graphql.lists ?? []).flatMap((l) => l.connections.map((c) => nestedRestQuery(resource, c, l.type))),
        countQuery(resource.graphql),
        bulkQuery(resource, timeWindowQuery('updated_at', new Date('2026-01-01T00:00:00Z'), null, resource.graphql.baseQuery), resource.graphql.updatedAtSortKey ?? undefined),
        bulkQuery(resource, null),
        bulkIdsQuery(resource),
        // Where a failed window splits: full syncs' field, and updated_at (incremental windows).
        earliestQuery(resource.graphql, resource.graphql.windowField ?? 'created_at'),
        earliestQuery(resource.graphql, 'updated_at'),
      ].filter((d): d is string => d !== null);
      for (const document of documents) expect(adminSchemaErrors(document), document).toEqual([]);
    });
  }

  it('events, scopes and the shop a token answers for', () => {
    expect(adminSchemaErrors(DESTROY_EVENTS_QUERY)).toEqual([]);
    expect(adminSchemaErrors(ACCESS_SCOPES_QUERY)).toEqual([]);
    expect(adminSchemaErrors(SHOP_IDENTITY_QUERY)).toEqual([]);
  });

  it('bulk operations: run, get, lookup (2026-01+ and before), cancel', () => {
    for (const document of [BULK_RUN_MUTATION, BULK_GET_QUERY, BULK_RUNNING_QUERY, BULK_FIND_QUERY, BULK_NEWEST_QUERY, BULK_NODE_QUERY, BULK_CURRENT_QUERY, BULK_CANCEL_MUTATION]) expect(adminSchemaErrors(document), document).toEqual([]);
  });

  it('rejects what Shopify would reject (the check can fail)', () => {
    expect(adminSchemaErrors('{ orders(first: 1) { nodes { id noSuchField } } }')).not.toEqual([]);
  });
});

describe('search syntax', () => {
  it('quotes UTC timestamps and rounds bounds outward to whole seconds', () => {
    expect(timeWindowQuery('updated_at', new Date('2026-11-01T10:00:00.500Z'), new Date('2026-11-02T00:00:00.001Z'), null))
      .toBe("updated_at:>='2026-11-01T10:00:00Z' AND updated_at:<='2026-11-02T00:00:01Z'");
    expect(timeWindowQuery('updated_at', null, null, null)).toBeNull();
    expect(destroyEventsSearch('ORDER', new Date('2026-11-01T00:00:00Z'))).toBe("action:destroy AND subject_type:ORDER AND created_at:>='2026-11-01T00:00:00Z'");
  });
});

describe('page sizes: the page query at pageSizeFor(resource, 250) stays under the 1,000-point single-query cap', () => {
  // Every paged listing (singletons have no page); priced by the simulator, which applies Shopify's cost rules
  // (and sums the fragments of a union such as discounts' `discount { ... on DiscountCodeBasic { codes } ... }`).
  const views = RESOURCES.flatMap((r) => graphqlSourcesOf(r).map((graphql, k) => ({ ...r, graphql, name: k ? `${r.name} (${graphql.connection})` : r.name }) as ResourceDefinition))
    .filter((r) => !r.graphql.singleton);
  let sim: ShopifySimulator;
  let client: ShopifyClient;
  beforeAll(async () => {
    sim = await createShopifySimulator({ seed: 1, unthrottled: true, shops: [{ customers: 1, products: 1, orders: 1 }] });
    const shop = sim.shops[0];
    client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: shop.baseUrl });
  }, 20_000);
  afterAll(async () => {
    await client?.close();
    await sim?.stop();
  });

  for (const resource of views) {
    it(`${resource.name}: accepted by the simulator, and the SDK's estimate is not below its requested cost`, async () => {
      const first = pageSizeFor(resource, 250);
      const estimate = 2 + first * pageRecordCost(resource);
      expect(estimate).toBeLessThanOrEqual(1000);
      const outcome = await client.graphqlRaw(pageQuery(resource), { first, after: null, query: null })
        .then((r) => r.extensions.cost?.requestedQueryCost ?? null, (e: Error) => e.message);
      expect(typeof outcome, `first=${first}, SDK estimate ${estimate} points: ${String(outcome)}`).toBe('number');
      expect(outcome as number).toBeLessThanOrEqual(1000);
      expect(estimate, `first=${first}: SDK estimate ${estimate}, simulator ${String(outcome)}`).toBeGreaterThanOrEqual(outcome as number);
    });
  }
});
