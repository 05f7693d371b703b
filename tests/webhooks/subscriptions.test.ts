/**
 * Webhook subscriptions: the documents the SDK sends are valid against Shopify's 2026-10 schema,
 * the simulator answers the subscription API as Shopify documents it (userErrors, enum errors,
 * deliveries follow GraphQL-created subscriptions), and the plan sorts subscriptions into missing,
 * mismatched, extra and foreign: the host's own topics at the SDK's route are foreign, a subscription
 * trimming payloads (includeFields) or filtering deliveries is mismatched and recreated whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import {
  CREATE_SUBSCRIPTION_MUTATION, DELETE_SUBSCRIPTION_MUTATION, LIST_SUBSCRIPTIONS_QUERY, UPDATE_SUBSCRIPTION_MUTATION, planSubscriptions, restTopicOf, subscriptionName, syncWebhookSubscriptions, topicEnum,
  type ListedSubscription, type SubscriptionClient,
} from '../../src/webhooks/subscriptions.js';
import { adminSchemaErrors, adminSchemaMissing } from '../helpers/schema-validate.js';
import { adminSchema } from '../../src/testing/admin-schema.js';
import { subscribedTopics } from '../../src/webhooks/app-toml.js';
import type { GraphQLEnumType } from 'graphql';

describe.skipIf(adminSchemaMissing)('subscription documents against Shopify\'s 2026-10 Admin schema', () => {
  it('list, create, update and delete are valid', () => {
    for (const document of [LIST_SUBSCRIPTIONS_QUERY, CREATE_SUBSCRIPTION_MUTATION, UPDATE_SUBSCRIPTION_MUTATION, DELETE_SUBSCRIPTION_MUTATION]) {
      expect(adminSchemaErrors(document), document).toEqual([]);
    }
  });
});

describe('the simulator\'s subscription API', () => {
  let sim: ShopifySimulator;
  const SHOP = 'subs-sim.myshopify.com';
  const call = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${sim.url}/admin/api/2026-10/graphql.json`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-access-token': sim.shop(SHOP).accessToken }, body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data?: Record<string, { webhookSubscription?: { id: string } | null; deletedWebhookSubscriptionId?: string | null; userErrors: Array<{ field: string[]; message: string }> }>; errors?: Array<{ message: string }> };
  };
  const create = (topic: string, input: Record<string, unknown>) => call(CREATE_SUBSCRIPTION_MUTATION, { topic, input });

  beforeAll(async () => {
    sim = await createShopifySimulator({ seed: 3, shops: [{ domain: SHOP, customers: 1, products: 1, orders: 1 }], unthrottled: true });
  });
  afterAll(async () => { await sim?.stop(); });

  it('creates, refuses a second subscription for the same topic and address, a duplicate name and a non-https address', async () => {
    const first = await create('ORDERS_CREATE', { uri: 'https://a.example.com/hooks', name: 'orders-a' });
    expect(first.data!.webhookSubscriptionCreate.userErrors).toEqual([]);
    expect(first.data!.webhookSubscriptionCreate.webhookSubscription!.id).toMatch(/^gid:\/\/shopify\/WebhookSubscription\/\d+$/);
    expect((await create('ORDERS_CREATE', { uri: 'https://a.example.com/hooks' })).data!.webhookSubscriptionCreate)
      .toEqual({ webhookSubscription: null, userErrors: [{ field: ['webhookSubscription', 'uri'], message: 'Address for this topic has already been taken' }] });
    expect((await create('ORDERS_PAID', { uri: 'https://a.example.com/hooks', name: 'orders-a' })).data!.webhookSubscriptionCreate.userErrors)
      .toEqual([{ field: ['webhookSubscription', 'name'], message: 'Name has already been taken' }]);
    expect((await create('ORDERS_PAID', { uri: 'http://a.example.com/hooks' })).data!.webhookSubscriptionCreate.userErrors[0]!.message).toMatch(/protocol http:\/\/ is not supported/);
    // Same address, another topic: fine.
    expect((await create('ORDERS_PAID', { uri: 'https://a.example.com/hooks' })).data!.webhookSubscriptionCreate.userErrors).toEqual([]);
  });

  it('an invalid topic and the compliance topics (app configuration only) are GraphQL errors; nothing is created', async () => {
    const before = sim.shop(SHOP).subscriptions.length;
    for (const topic of ['ORDERS_EXPLODED', 'SHOP_REDACT', 'CUSTOMERS_REDACT', 'CUSTOMERS_DATA_REQUEST']) {
      const answer = await create(topic, { uri: 'https://a.example.com/other' });
      expect(answer.errors?.[0]?.message).toBe('Variable $topic of type WebhookSubscriptionTopic! was provided invalid value');
    }
    expect(sim.shop(SHOP).subscriptions).toHaveLength(before);
  });

  it('updates and deletes by id; unknown ids are userErrors; the list shows what REST shows', async () => {
    const list = await call(LIST_SUBSCRIPTIONS_QUERY) as unknown as { data: { webhookSubscriptions: { nodes: Array<{ id: string; topic: string; uri: string; name: string | null; format: string; apiVersion: { handle: string } }> } } };
    const nodes = list.data.webhookSubscriptions.nodes;
    expect(nodes.map((n) => [n.topic, n.uri, n.name, n.format])).toEqual([['ORDERS_CREATE', 'https://a.example.com/hooks', 'orders-a', 'JSON'], ['ORDERS_PAID', 'https://a.example.com/hooks', null, 'JSON']]);
    expect(sim.shop(SHOP).subscriptions.map((s) => s.topic)).toEqual(['orders/create', 'orders/paid']);
    const moved = await call(UPDATE_SUBSCRIPTION_MUTATION, { id: nodes[1]!.id, input: { uri: 'https://b.example.com/hooks' } });
    expect(moved.data!.webhookSubscriptionUpdate.userErrors).toEqual([]);
    expect(sim.shop(SHOP).subscriptions[1]!.address).toBe('https://b.example.com/hooks');
    expect((await call(UPDATE_SUBSCRIPTION_MUTATION, { id: 'gid://shopify/WebhookSubscription/999999', input: { uri: 'https://c.example.com' } })).data!.webhookSubscriptionUpdate.userErrors[0]!.field).toEqual(['id']);
    const deleted = await call(DELETE_SUBSCRIPTION_MUTATION, { id: nodes[0]!.id });
    expect(deleted.data!.webhookSubscriptionDelete).toEqual({ deletedWebhookSubscriptionId: nodes[0]!.id, userErrors: [] });
    expect((await call(DELETE_SUBSCRIPTION_MUTATION, { id: nodes[0]!.id })).data!.webhookSubscriptionDelete.userErrors).toEqual([{ field: ['id'], message: 'Webhook subscription does not exist' }]);
    // bulk_operations/finish: the enum does not say where the `/` goes; deliveries need the REST name.
    await create('BULK_OPERATIONS_FINISH', { uri: 'https://b.example.com/hooks' });
    expect(sim.shop(SHOP).subscriptions.map((s) => s.topic)).toContain('bulk_operations/finish');
  });
});

describe('planSubscriptions', () => {
  const URI = 'https://ingest.example.com/api/webhooks/shopify';
  const target = { tenantId: 't', uri: URI, resources: ['orders'] as const, apiVersion: '2026-10' };
  let n = 0;
  const sub = (topic: string, patch: Partial<ListedSubscription> = {}): ListedSubscription =>
    ({ id: `gid://shopify/WebhookSubscription/${++n}`, topic, uri: URI, format: 'JSON', name: subscriptionName(topic), apiVersion: '2026-10', ...patch });
  const entry = ({ id, topic, uri, name }: ListedSubscription) => ({ id, topic, uri, name });

  it('keeps one subscription per topic (ours by name or uri), reports duplicates, wrong format and API version, and leaves others alone', () => {
    const wanted = planSubscriptions(target, []).missing;
    const listed = wanted.filter((t) => t !== 'orders/paid' && t !== 'orders/create').map((t) => sub(t));
    const xml = sub('orders/create', { format: 'XML', apiVersion: '2025-10' });
    const dupe = sub('orders/create', { name: null });
    const foreign = sub('orders/paid', { uri: 'https://billing.example.com/hooks', name: 'billing-paid' });
    const disabled = sub('customers/update', { uri: 'https://old.example.com/hooks' }); // ours by name, resource not enabled
    const plan = planSubscriptions(target, [...listed, dupe, xml, foreign, disabled]);
    expect(plan.missing).toEqual(['orders/paid']);
    // Both deliver to the uri: the one with the SDK's name is kept (and repaired), the other is extra.
    expect(plan.mismatched).toEqual([{ ...entry(xml), problems: ['format', 'apiVersion'] }]);
    expect(plan.extra.map((s) => s.id)).toEqual([dupe.id, disabled.id]);
    expect(plan.foreign).toEqual([entry(foreign)]);
    expect(plan.inSync).toBe(false);

    // A subscription elsewhere is ours when it has the SDK's name: kept, its uri to be repaired.
    const moved = sub('orders/create', { uri: 'https://old.example.com/hooks' });
    const other = planSubscriptions(target, [...listed, moved, sub('orders/paid')]);
    expect(other.mismatched).toEqual([{ ...entry(moved), problems: ['uri'] }]);
    expect(other.missing).toEqual([]);
    expect(other.extra).toEqual([]);
    expect(planSubscriptions(target, [...listed, sub('orders/create'), sub('orders/paid')]).inSync).toBe(true);
  });

  it('a subscription at the uri for a topic the SDK never subscribes (the host\'s carts/update, same route) is foreign, not extra', () => {
    const listed = planSubscriptions(target, []).missing.map((topic) => sub(topic));
    const hosts = sub('carts/update', { name: 'my-carts' });
    const plan = planSubscriptions(target, [...listed, hosts]);
    expect(plan.extra).toEqual([]);
    expect(plan.foreign).toEqual([entry(hosts)]);
    expect(plan.inSync).toBe(true);
    // A topic the SDK subscribes for a resource not enabled on the tenant is still the SDK's: extra.
    const disabled = sub('customers/update', { name: null });
    expect(planSubscriptions(target, [...listed, disabled]).extra).toEqual([entry(disabled)]);
  });

  it('one of the SDK\'s subscriptions that trims payloads (includeFields) or filters deliveries is mismatched', () => {
    const [first, second, ...rest] = planSubscriptions(target, []).missing.map((topic) => sub(topic, { includeFields: [], filter: null }));
    expect(planSubscriptions(target, [first!, second!, ...rest]).inSync).toBe(true);
    const trimmed = { ...first!, includeFields: ['id', 'updated_at'] };
    const filtered = { ...second!, name: null, filter: 'financial_status:paid' };
    const plan = planSubscriptions(target, [trimmed, filtered, ...rest]);
    expect(plan.mismatched).toEqual([{ ...entry(trimmed), problems: ['includeFields'] }, { ...entry(filtered), problems: ['filter'] }]);
    expect(plan.inSync).toBe(false);
  });

  it('spells topics as Shopify\'s enum does', () => {
    expect(topicEnum('orders/partially_fulfilled')).toBe('ORDERS_PARTIALLY_FULFILLED');
    expect(topicEnum('bulk_operations/finish')).toBe('BULK_OPERATIONS_FINISH');
    expect(subscriptionName('bulk_operations/finish')).toBe('shopify-ingest-bulk_operations-finish');
    expect(planSubscriptions(target, [sub('bulk_operations/finish', { topic: 'bulk/operations_finish' })]).missing).not.toContain('bulk_operations/finish');
  });

  it('reads every value of Shopify\'s WebhookSubscriptionTopic enum back as the topic deliveries carry', () => {
    const values = (adminSchema().getType('WebhookSubscriptionTopic') as GraphQLEnumType).getValues().map((v) => v.name);
    for (const value of values) {
      const topic = restTopicOf(value);
      expect(topic, value).toMatch(/^[a-z_]+\/[a-z_]+$/);
      expect(topicEnum(topic), value).toBe(value);
    }
    // Every topic the SDK handles comes back exactly, wherever its underscores are.
    for (const topic of subscribedTopics()) expect(restTopicOf(topicEnum(topic))).toBe(topic);
    expect(restTopicOf('INVENTORY_LEVELS_UPDATE')).toBe('inventory_levels/update');
    expect(restTopicOf('DRAFT_ORDERS_CREATE')).toBe('draft_orders/create');
    expect(restTopicOf('ORDERS_PARTIALLY_FULFILLED')).toBe('orders/partially_fulfilled');
  });
});

describe('syncWebhookSubscriptions against the simulator', () => {
  let sim: ShopifySimulator;
  const SHOP = 'subs-repair.myshopify.com';
  const URI = 'https://ingest.example.com/api/webhooks/shopify';
  const target = { tenantId: 't', uri: URI, resources: ['products'] as const, apiVersion: '2026-10' };
  const client: SubscriptionClient = {
    async graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      const res = await fetch(`${sim.url}/admin/api/2026-10/graphql.json`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-access-token': sim.shop(SHOP).accessToken }, body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: T; errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data!;
    },
  };
  const created = (data: { webhookSubscriptionCreate: { webhookSubscription: { id: string } | null } }) => data.webhookSubscriptionCreate.webhookSubscription!.id;

  beforeAll(async () => {
    sim = await createShopifySimulator({ seed: 4, shops: [{ domain: SHOP, customers: 1, products: 1, orders: 1 }], unthrottled: true, apiVersion: '2026-10' });
  });
  afterAll(async () => { await sim?.stop(); });

  it('repair keeps the host\'s own topic at the route and recreates a subscription trimmed with includeFields or a filter whole', async () => {
    const first = await syncWebhookSubscriptions(client, target, { repair: true });
    expect(first.repaired).toMatchObject({ created: first.topics, errors: [] });
    const subscriptions = sim.shop(SHOP).subscriptions;
    const idOf = (topic: string) => `gid://shopify/WebhookSubscription/${subscriptions.find((s) => s.topic === topic)!.id}`;
    const trimmed = idOf('products/update');
    const filtered = idOf('products/create');
    await client.graphql(UPDATE_SUBSCRIPTION_MUTATION, { id: trimmed, input: { includeFields: ['id', 'title', 'updated_at'] } });
    await client.graphql(UPDATE_SUBSCRIPTION_MUTATION, { id: filtered, input: { filter: 'status:active' } });
    // The docs tell hosts to point their own topics at the same route and handle them themselves.
    const carts = created(await client.graphql(CREATE_SUBSCRIPTION_MUTATION, { topic: 'CARTS_UPDATE', input: { uri: URI, name: 'my-carts' } }));

    const report = await syncWebhookSubscriptions(client, target);
    expect(report).toMatchObject({ missing: [], extra: [], inSync: false, repaired: null });
    expect(report.foreign).toEqual([{ id: carts, topic: 'carts/update', uri: URI, name: 'my-carts' }]);
    expect(report.mismatched).toEqual([
      { id: filtered, topic: 'products/create', uri: URI, name: subscriptionName('products/create'), problems: ['filter'] },
      { id: trimmed, topic: 'products/update', uri: URI, name: subscriptionName('products/update'), problems: ['includeFields'] },
    ]);

    const repaired = await syncWebhookSubscriptions(client, target, { repair: true });
    expect(repaired.repaired).toEqual({ created: ['products/create', 'products/update'], updated: [], deleted: [filtered, trimmed], errors: [] });
    const listed = ((await client.graphql(LIST_SUBSCRIPTIONS_QUERY)) as { webhookSubscriptions: { nodes: Array<{ id: string; topic: string; name: string | null; includeFields: string[]; filter: string | null }> } }).webhookSubscriptions.nodes;
    expect(listed.find((s) => s.id === carts)).toMatchObject({ topic: 'CARTS_UPDATE', name: 'my-carts' });
    for (const topic of ['PRODUCTS_CREATE', 'PRODUCTS_UPDATE']) {
      expect(listed.find((s) => s.topic === topic)).toMatchObject({ name: subscriptionName(restTopicOf(topic)), includeFields: [], filter: null });
    }
    expect(await syncWebhookSubscriptions(client, target, { repair: true })).toMatchObject({ inSync: true, repaired: { created: [], updated: [], deleted: [], errors: [] } });
  });
});
