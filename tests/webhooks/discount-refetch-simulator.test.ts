/**
 * The simulator answers `node(id:)` as Shopify does: with the object of the type the gid names
 * (`DiscountCodeNode` with `codeDiscount`, `DiscountAutomaticNode` with `automaticDiscount`, as in
 * the 2026-10 schema), a `DiscountNode` for a `DiscountNode` gid (its own id). A discount webhook
 * the simulator emits is read again by its `DiscountNode` gid and stored.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createShopifyClient } from '../../src/client/index.js';
import { fetchRecord } from '../../src/importer/pages-listing.js';
import type { GraphqlImportClient } from '../../src/importer/types.js';
import { getResource } from '../../src/resources/index.js';
import { createStore } from '../../src/store/index.js';
import { createShopifySimulator, type JsonObject, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { manualWebhookService, sendSigned } from './helpers/deliveries.js';

let db: TestDatabase;
let sim: ShopifySimulator;
let client: ReturnType<typeof createShopifyClient>;
let simTime = Date.parse('2026-11-01T00:00:00Z');

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_wh_disc_refetch_sim' });
  await createStore(db.database).upsertTenant({ id: 't1', shopDomain: 'shop.myshopify.com', accessTokenEnc: 'x' });
  sim = await createShopifySimulator({ seed: 5, apiSecret: 'x', clock: () => (simTime += 1000), unthrottled: true, shops: [{ domain: 'sim.myshopify.com', customers: 2, products: 2, orders: 2, bigIds: true }] });
  const shop = sim.shops[0]!;
  client = createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: shop.baseUrl });
});
afterAll(async () => {
  await sim?.stop();
  await db?.drop();
});

const NODE = `query($id: ID!) { node(id: $id) { __typename id
  ... on DiscountCodeNode { codeDiscount { __typename ... on DiscountCodeBasic { title } ... on DiscountCodeBxgy { title } ... on DiscountCodeFreeShipping { title } ... on DiscountCodeApp { title } } }
  ... on DiscountAutomaticNode { automaticDiscount { __typename ... on DiscountAutomaticBasic { title } ... on DiscountAutomaticBxgy { title } ... on DiscountAutomaticFreeShipping { title } ... on DiscountAutomaticApp { title } } }
  ... on DiscountNode { discount { __typename } } } }`;

it('node(id:) answers each discount gid with an object of the type it names', async () => {
  const { discounts } = sim.shops[0]!;
  const code = discounts.ids().find((id) => discounts.typeOf(id) === 'DiscountCodeBasic')!;
  const automatic = discounts.ids().find((id) => discounts.typeOf(id) === 'DiscountAutomaticBxgy')!;
  const ask = async (gid: string) => (await client.graphql<{ node: Record<string, any> | null }>(NODE, { id: gid })).node;

  const codeNode = await ask(`gid://shopify/DiscountCodeNode/${code}`);
  expect(codeNode).toMatchObject({ __typename: 'DiscountCodeNode', id: `gid://shopify/DiscountCodeNode/${code}`, codeDiscount: { __typename: 'DiscountCodeBasic', title: expect.any(String) } });
  const automaticNode = await ask(`gid://shopify/DiscountAutomaticNode/${automatic}`);
  expect(automaticNode).toMatchObject({ __typename: 'DiscountAutomaticNode', id: `gid://shopify/DiscountAutomaticNode/${automatic}`, automaticDiscount: { __typename: 'DiscountAutomaticBxgy' } });
  expect(await ask(`gid://shopify/DiscountNode/${code}`)).toMatchObject({ __typename: 'DiscountNode', id: `gid://shopify/DiscountNode/${code}`, discount: { __typename: 'DiscountCodeBasic' } });
  // A code discount is no automatic one, nor the reverse.
  expect(await ask(`gid://shopify/DiscountAutomaticNode/${code}`)).toBeNull();
  expect(await ask(`gid://shopify/DiscountCodeNode/${automatic}`)).toBeNull();
  expect(await ask('gid://shopify/DiscountNode/1')).toBeNull();
  // The record query (`... on DiscountNode`) by a DiscountCodeNode gid reads no discount: an error, not "gone".
  await expect(fetchRecord(client, getResource('discounts'), `gid://shopify/DiscountCodeNode/${code}`)).rejects.toMatchObject({ code: 'SHOPIFY_BAD_RESPONSE' });
  expect(await fetchRecord(client, getResource('discounts'), `gid://shopify/DiscountNode/${code}`)).toMatchObject({ id: `gid://shopify/DiscountNode/${code}`, __typename: 'DiscountCodeBasic' });
});

it('a discounts/update the simulator emits is read again by its DiscountNode gid and stored', async () => {
  const shop = sim.shops[0]!;
  const { discounts } = shop;
  const sent: Array<{ topic: string; payload: JsonObject }> = [];
  discounts.deliver = (topic, payload) => { sent.push({ topic, payload }); };
  const automatic = discounts.ids().find((id) => discounts.typeOf(id) === 'DiscountAutomaticBasic')!;
  const code = discounts.ids().find((id) => discounts.typeOf(id) === 'DiscountCodeFreeShipping')!;
  discounts.retitle(automatic, 'Autumn, automatically');
  discounts.retitle(code, 'Free shipping, by code');

  // The gid each record query asked for.
  const refetchedBy: string[] = [];
  const recording: GraphqlImportClient = {
    shopDomain: client.shopDomain,
    graphql: (query, variables, options) => {
      if (query.includes('ShopifyIngestRecord')) refetchedBy.push(String(variables?.id));
      return client.graphql(query, variables, options);
    },
  };
  const s = manualWebhookService(db.database, { fetchRecord: (_t, resource, id, gid) => fetchRecord(recording, getResource(resource), gid ?? id) });
  for (const d of sent) await sendSigned(s, d.topic, d.payload);
  await s.processPending();

  expect(refetchedBy).toEqual([`gid://shopify/DiscountNode/${automatic}`, `gid://shopify/DiscountNode/${code}`]);
  expect(await db.query(`SELECT id::text, title, method FROM shopify_discounts WHERE tenant_id = 't1' ORDER BY title`)).toEqual([
    { id: String(automatic), title: 'Autumn, automatically', method: 'automatic' },
    { id: String(code), title: 'Free shipping, by code', method: 'code' },
  ]);
  expect(await db.query(`SELECT code FROM shopify_discount_codes WHERE tenant_id = 't1' ORDER BY code`)).toEqual(discounts.codesOf(code).sort().map((c) => ({ code: c })));
  expect(await db.query(`SELECT status FROM shopify_webhook_inbox WHERE tenant_id = 't1' AND status <> 'processed'`)).toEqual([]);
});
