/**
 * Shop-specific webhook subscriptions over the Admin GraphQL API: `webhookSubscriptions` /
 * `webhookSubscription(id:)` and `webhookSubscriptionCreate`, `webhookSubscriptionUpdate`,
 * `webhookSubscriptionDelete` (https://shopify.dev/docs/api/admin-graphql/latest/mutations/webhookSubscriptionCreate).
 * They are the shop's subscriptions REST's `/webhooks.json` shows, so the simulator delivers the
 * shop's changes to them.
 *
 * Written from Shopify's documentation, not from the SDK:
 * - a topic outside the schema's `WebhookSubscriptionTopic` enum (the compliance topics are not in
 *   it: they are app configuration only) is a GraphQL error, nothing is created;
 * - one subscription per topic and address: a second one is refused with the userError
 *   "Address for this topic has already been taken" (code TAKEN in Shopify's error enums);
 * - HTTP addresses must be `https://` (or `pubsub://`, an EventBridge ARN);
 * - `name` (2026-04+) is unique per shop, at most 50 characters of letters, digits, `_` and `-`;
 * - the API version of a subscription is the app's webhook version: it cannot be set per subscription;
 * - `includeFields` and `filter` are kept and listed; deliveries are sent whole regardless.
 */
import type { GraphQLEnumType } from 'graphql';
import { adminSchema } from './admin-schema.js';
import type { JsonObject } from './generator.js';
import type { SimulatedShop, WebhookSubscription } from './shop.js';

/** A request Shopify refuses before running it (a variable outside its enum). */
export class SubscriptionRequestError extends Error {
  constructor(message: string, readonly extensions: JsonObject) {
    super(message);
  }
}

const ADDRESS = /^(https:\/\/[^\s]+|pubsub:\/\/[^\s:]+:[^\s]+|arn:aws:events:[^\s]+)$/;
const NAME = /^[A-Za-z0-9_-]{1,50}$/;
const NOT_FOUND = 'Webhook subscription does not exist';
/** Resources whose REST topic name has an underscore (`bulk_operations/finish`): the enum alone does not say where the `/` goes. */
const MULTI_WORD = ['BULK_OPERATIONS', 'INVENTORY_ITEMS', 'INVENTORY_LEVELS', 'DRAFT_ORDERS', 'FULFILLMENT_ORDERS', 'FULFILLMENT_EVENTS', 'ORDER_TRANSACTIONS', 'CUSTOMER_GROUPS', 'SELLING_PLAN_GROUPS', 'PRODUCT_LISTINGS', 'APP_SUBSCRIPTIONS'];

/** `ORDERS_PARTIALLY_FULFILLED` -> `orders/partially_fulfilled`, the REST name deliveries carry. */
function restTopic(topic: string): string {
  const resource = MULTI_WORD.find((r) => topic.startsWith(`${r}_`)) ?? topic.split('_')[0];
  return `${resource}/${topic.slice(resource.length + 1)}`.toLowerCase();
}

type Input = { uri?: unknown; callbackUrl?: unknown; format?: unknown; name?: unknown; includeFields?: unknown; filter?: unknown };

/** The GraphQL resolvers of the shops' subscriptions. */
export function createWebhookSubscriptions() {
  const gid = (s: WebhookSubscription) => `gid://shopify/WebhookSubscription/${s.id}`;
  // GraphQL only (REST's webhook has no filter): kept here rather than on the shop's subscription.
  const filters = new WeakMap<WebhookSubscription, string>();
  const utc = (shopTime: string) => new Date(shopTime).toISOString().replace(/\.\d{3}Z$/, 'Z');

  function toObject(s: WebhookSubscription): JsonObject {
    return {
      __typename: 'WebhookSubscription', id: gid(s), legacyResourceId: String(s.id),
      topic: s.topic.replace('/', '_').toUpperCase(), uri: s.address, callbackUrl: s.address, endpoint: { __typename: 'WebhookHttpEndpoint', callbackUrl: s.address },
      format: s.format.toUpperCase(), name: s.name ?? null, includeFields: s.fields, filter: filters.get(s) ?? null, metafieldNamespaces: s.metafield_namespaces,
      apiVersion: { __typename: 'ApiVersion', handle: s.api_version, displayName: s.api_version, supported: true },
      createdAt: utc(s.created_at), updatedAt: utc(s.updated_at),
    };
  }

  const find = (shop: SimulatedShop, id: unknown) => shop.subscriptions.find((s) => gid(s) === id);

  function assertTopic(topic: unknown): string {
    const type = adminSchema().getType('WebhookSubscriptionTopic') as GraphQLEnumType;
    if (typeof topic === 'string' && type.getValue(topic)) return restTopic(topic);
    throw new SubscriptionRequestError('Variable $topic of type WebhookSubscriptionTopic! was provided invalid value', {
      value: topic as string, problems: [{ path: [], explanation: `Expected ${JSON.stringify(topic)} to be one of: ${type.getValues().map((v) => v.name).join(', ')}` }],
    });
  }

  /** What is wrong with a subscription of `topic` to `uri` named `name` (userErrors), `self` being the one updated. */
  function problems(shop: SimulatedShop, topic: string, uri: string, name: string | null, self?: WebhookSubscription): JsonObject[] {
    const errors: JsonObject[] = [];
    if (!uri) errors.push({ field: ['webhookSubscription', 'uri'], message: "Address can't be blank" });
    else if (!ADDRESS.test(uri)) errors.push({ field: ['webhookSubscription', 'uri'], message: `Address protocol ${/^[a-z]+:\/*/i.exec(uri)?.[0] ?? uri} is not supported` });
    else if (shop.subscriptions.some((s) => s !== self && s.topic === topic && s.address === uri)) errors.push({ field: ['webhookSubscription', 'uri'], message: 'Address for this topic has already been taken' });
    if (name !== null && !NAME.test(name)) errors.push({ field: ['webhookSubscription', 'name'], message: 'Name can only contain up to 50 letters, numbers, underscores and hyphens' });
    else if (name !== null && shop.subscriptions.some((s) => s !== self && s.name === name)) errors.push({ field: ['webhookSubscription', 'name'], message: 'Name has already been taken' });
    return errors;
  }

  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const format = (v: unknown, fallback: 'json' | 'xml') => (v === 'XML' ? 'xml' : v === 'JSON' ? 'json' : fallback);

  return {
    /** `webhookSubscriptions(first, after, topics, uri, format)`: the shop's subscriptions, oldest first. */
    list(shop: SimulatedShop, args: Record<string, unknown>): JsonObject[] {
      const topics = Array.isArray(args.topics) ? args.topics : null;
      const uri = text(args.uri) ?? text(args.callbackUrl);
      return shop.subscriptions.map(toObject)
        .filter((s) => (!topics || topics.includes(s.topic)) && (!uri || s.uri === uri) && (!args.format || s.format === args.format));
    },

    /** `webhookSubscription(id:)`. */
    get(shop: SimulatedShop, id: unknown): JsonObject | null {
      const s = find(shop, id);
      return s ? toObject(s) : null;
    },

    /** Whether `name` is one of the subscription mutations. */
    handles(name: string): boolean {
      return name === 'webhookSubscriptionCreate' || name === 'webhookSubscriptionUpdate' || name === 'webhookSubscriptionDelete';
    },

    /** Runs one of the subscription mutations; returns its payload. */
    mutate(shop: SimulatedShop, name: string, args: Record<string, unknown>): JsonObject {
      if (name === 'webhookSubscriptionDelete') {
        const s = find(shop, args.id);
        if (!s) return { deletedWebhookSubscriptionId: null, userErrors: [{ field: ['id'], message: NOT_FOUND }] };
        shop.unsubscribe(s.id);
        return { deletedWebhookSubscriptionId: gid(s), userErrors: [] };
      }
      const input = (args.webhookSubscription ?? {}) as Input;
      const fields = Array.isArray(input.includeFields) ? input.includeFields.map(String) : undefined;
      const keepFilter = (s: WebhookSubscription) => { if (typeof input.filter === 'string') filters.set(s, input.filter); };
      if (name === 'webhookSubscriptionCreate') {
        const topic = assertTopic(args.topic);
        const uri = text(input.uri) ?? text(input.callbackUrl) ?? '';
        const subName = text(input.name);
        const userErrors = problems(shop, topic, uri, subName);
        if (userErrors.length) return { webhookSubscription: null, userErrors };
        const s = shop.subscribe(topic, uri);
        Object.assign(s, { name: subName, format: format(input.format, 'json'), ...(fields ? { fields } : {}) });
        keepFilter(s);
        return { webhookSubscription: toObject(s), userErrors: [] };
      }
      const s = find(shop, args.id);
      if (!s) return { webhookSubscription: null, userErrors: [{ field: ['id'], message: NOT_FOUND }] };
      const uri = text(input.uri) ?? text(input.callbackUrl) ?? s.address;
      const subName = input.name === undefined ? s.name ?? null : text(input.name);
      const userErrors = problems(shop, s.topic, uri, subName, s);
      if (userErrors.length) return { webhookSubscription: null, userErrors };
      Object.assign(s, { address: uri, name: subName, format: format(input.format, s.format), ...(fields ? { fields } : {}) });
      keepFilter(s);
      return { webhookSubscription: toObject(s), userErrors: [] };
    },
  };
}
