/**
 * Shop-specific webhook subscriptions of the simulator, as the Admin GraphQL API serves them:
 * `webhookSubscriptions` / `webhookSubscription(id:)` and `webhookSubscriptionCreate`,
 * `webhookSubscriptionUpdate`, `webhookSubscriptionDelete`
 * (https://shopify.dev/docs/api/admin-graphql/latest/mutations/webhookSubscriptionCreate).
 *
 * Written from Shopify's documentation, not from the SDK:
 * - a topic outside the schema's `WebhookSubscriptionTopic` enum (the compliance topics are not in
 *   it: they are app configuration only) is a GraphQL error, nothing is created;
 * - one subscription per topic and address: a second one is refused with the userError
 *   "Address for this topic has already been taken" (code TAKEN in Shopify's error enums);
 * - HTTP addresses must be `https://` (or `pubsub://`, an EventBridge ARN);
 * - `name` (2026-04+) is unique per shop, at most 50 characters of letters, digits, `_` and `-`;
 * - the API version of a subscription is the app's webhook version: it cannot be set per subscription.
 * The subscriptions only record what was asked; deliveries still follow the simulator's webhook options.
 */
import type { GraphQLEnumType } from 'graphql';
import { adminSchema } from './admin-schema.js';
import type { Clock } from './clock.js';
import type { JsonObject } from './generator.js';
import type { SimulatedShop } from './shop.js';

/** A request Shopify refuses before running it (a variable outside its enum). */
export class SubscriptionRequestError extends Error {
  constructor(message: string, readonly extensions: JsonObject) {
    super(message);
  }
}

interface Subscription {
  number: number;
  topic: string;
  uri: string;
  format: string;
  name: string | null;
  includeFields: string[];
  filter: string | null;
  createdAtMs: number;
  updatedAtMs: number;
}

const ADDRESS = /^(https:\/\/[^\s]+|pubsub:\/\/[^\s:]+:[^\s]+|arn:aws:events:[^\s]+)$/;
const NAME = /^[A-Za-z0-9_-]{1,50}$/;
const NOT_FOUND = 'Webhook subscription does not exist';

type Input = { uri?: unknown; callbackUrl?: unknown; format?: unknown; name?: unknown; includeFields?: unknown; filter?: unknown };

/** The subscriptions of every shop, with the GraphQL resolvers the simulator's API calls. */
export function createWebhookSubscriptions(init: { clock: Clock; apiVersion: string }) {
  const byShop = new Map<SimulatedShop, Subscription[]>();
  let next = 1;
  const of = (shop: SimulatedShop) => byShop.get(shop) ?? byShop.set(shop, []).get(shop)!;
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

  function toObject(s: Subscription): JsonObject {
    return {
      __typename: 'WebhookSubscription', id: `gid://shopify/WebhookSubscription/${s.number}`, legacyResourceId: String(s.number),
      topic: s.topic, uri: s.uri, callbackUrl: s.uri, endpoint: { __typename: 'WebhookHttpEndpoint', callbackUrl: s.uri },
      format: s.format, name: s.name, includeFields: s.includeFields, filter: s.filter, metafieldNamespaces: [],
      apiVersion: { __typename: 'ApiVersion', handle: init.apiVersion, displayName: init.apiVersion, supported: true },
      createdAt: iso(s.createdAtMs), updatedAt: iso(s.updatedAtMs),
    };
  }

  function find(shop: SimulatedShop, id: unknown): Subscription | undefined {
    const m = typeof id === 'string' ? /^gid:\/\/shopify\/WebhookSubscription\/(\d+)$/.exec(id) : null;
    return m ? of(shop).find((s) => s.number === Number(m[1])) : undefined;
  }

  function assertTopic(topic: unknown): string {
    const type = adminSchema().getType('WebhookSubscriptionTopic') as GraphQLEnumType;
    if (typeof topic === 'string' && type.getValue(topic)) return topic;
    throw new SubscriptionRequestError('Variable $topic of type WebhookSubscriptionTopic! was provided invalid value', {
      value: topic as string, problems: [{ path: [], explanation: `Expected ${JSON.stringify(topic)} to be one of: ${type.getValues().map((v) => v.name).join(', ')}` }],
    });
  }

  /** What is wrong with `input` for `topic` (userErrors), given the subscription being updated. */
  function problems(shop: SimulatedShop, topic: string, uri: string, name: string | null, self?: Subscription): JsonObject[] {
    const errors: JsonObject[] = [];
    if (!uri) errors.push({ field: ['webhookSubscription', 'uri'], message: "Address can't be blank" });
    else if (!ADDRESS.test(uri)) errors.push({ field: ['webhookSubscription', 'uri'], message: `Address protocol ${/^[a-z]+:\/?\/?/i.exec(uri)?.[0] ?? uri} is not supported` });
    else if (of(shop).some((s) => s !== self && s.topic === topic && s.uri === uri)) errors.push({ field: ['webhookSubscription', 'uri'], message: 'Address for this topic has already been taken' });
    if (name !== null && !NAME.test(name)) errors.push({ field: ['webhookSubscription', 'name'], message: 'Name can only contain up to 50 letters, numbers, underscores and hyphens' });
    else if (name !== null && of(shop).some((s) => s !== self && s.name === name)) errors.push({ field: ['webhookSubscription', 'name'], message: 'Name has already been taken' });
    return errors;
  }

  const text = (v: unknown) => (typeof v === 'string' ? v : null);

  return {
    /** `webhookSubscriptions(first, after, topics, uri, format)`: this app's subscriptions on the shop, oldest first. */
    list(shop: SimulatedShop, args: Record<string, unknown>): JsonObject[] {
      const topics = Array.isArray(args.topics) ? args.topics : null;
      const uri = text(args.uri) ?? text(args.callbackUrl);
      return of(shop)
        .filter((s) => (!topics || topics.includes(s.topic)) && (!uri || s.uri === uri) && (!args.format || s.format === args.format))
        .map(toObject);
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
      const now = init.clock();
      if (name === 'webhookSubscriptionDelete') {
        const s = find(shop, args.id);
        if (!s) return { deletedWebhookSubscriptionId: null, userErrors: [{ field: ['id'], message: NOT_FOUND }] };
        byShop.set(shop, of(shop).filter((x) => x !== s));
        return { deletedWebhookSubscriptionId: `gid://shopify/WebhookSubscription/${s.number}`, userErrors: [] };
      }
      const input = (args.webhookSubscription ?? {}) as Input;
      if (name === 'webhookSubscriptionCreate') {
        const topic = assertTopic(args.topic);
        const uri = text(input.uri) ?? text(input.callbackUrl) ?? '';
        const subName = text(input.name);
        const userErrors = problems(shop, topic, uri, subName);
        if (userErrors.length) return { webhookSubscription: null, userErrors };
        const s: Subscription = {
          number: next++, topic, uri, format: text(input.format) ?? 'JSON', name: subName,
          includeFields: Array.isArray(input.includeFields) ? input.includeFields.map(String) : [], filter: text(input.filter) || null,
          createdAtMs: now, updatedAtMs: now,
        };
        of(shop).push(s);
        return { webhookSubscription: toObject(s), userErrors: [] };
      }
      const s = find(shop, args.id);
      if (!s) return { webhookSubscription: null, userErrors: [{ field: ['id'], message: NOT_FOUND }] };
      const uri = text(input.uri) ?? text(input.callbackUrl) ?? s.uri;
      const subName = input.name === undefined ? s.name : text(input.name);
      const userErrors = problems(shop, s.topic, uri, subName, s);
      if (userErrors.length) return { webhookSubscription: null, userErrors };
      Object.assign(s, {
        uri, name: subName, format: text(input.format) ?? s.format, updatedAtMs: now,
        ...(Array.isArray(input.includeFields) ? { includeFields: input.includeFields.map(String) } : {}),
        ...(input.filter !== undefined ? { filter: text(input.filter) || null } : {}),
      });
      return { webhookSubscription: toObject(s), userErrors: [] };
    },
  };
}
