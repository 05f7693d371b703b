/**
 * The resource registry: every resource the SDK syncs, in dependency order. Adding a resource is one
 * new file in this folder, one line here and its name in names.ts, and a migration for its tables
 * (docs/architecture.md).
 */
import { ConfigError } from '../errors.js';
import { collections } from './collections.js';
import { customers } from './customers.js';
import type { ResourceDefinition } from './definition.js';
import { inventory } from './inventory.js';
import { locations } from './locations.js';
import type { ResourceName } from './names.js';
import { orders } from './orders.js';
import { products } from './products.js';
import { shop } from './shop.js';
import { refunds } from './refunds.js';
import { orderTransactions } from './order-transactions.js';
import { fulfillments } from './fulfillments.js';
import { metafields } from './metafields.js';
import { discounts } from './discounts.js';
import { draftOrders } from './draft-orders.js';
import { abandonedCheckouts } from './abandoned-checkouts.js';

/** Every resource, dependencies first: `all` syncs them in this order. */
export const RESOURCES = Object.freeze([customers, products, orders, shop, locations, inventory, collections, refunds, orderTransactions, fulfillments, metafields, discounts, draftOrders, abandonedCheckouts] as const);

export type { ResourceName } from './names.js';

/** Fails to compile when {@link ResourceName} and the registry disagree, either way. */
type SameNames<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const namesAgree: SameNames<ResourceName, (typeof RESOURCES)[number]['name']> = true;
void namesAgree;

/** Names of every resource, in registry order. */
export const RESOURCE_NAMES: readonly ResourceName[] = Object.freeze(RESOURCES.map((r) => r.name as ResourceName));

const BY_NAME = new Map<string, ResourceDefinition>(RESOURCES.map((r) => [r.name, r as unknown as ResourceDefinition]));

/** True when `name` names a registered resource. */
export function isResourceName(name: unknown): name is ResourceName {
  return typeof name === 'string' && BY_NAME.has(name);
}

/**
 * The description of one resource; throws a `ConfigError` naming the known ones for anything else.
 *
 * @example
 * ```ts
 * getResource('orders').graphql.connection; // 'orders'
 * ```
 */
export function getResource(name: string): ResourceDefinition {
  const resource = BY_NAME.get(name);
  if (!resource) throw new ConfigError(`unknown resource ${JSON.stringify(name)}: expected one of ${RESOURCE_NAMES.join(', ')}`);
  return resource;
}

/** What a webhook topic does to which resource, from the registry. */
export type TopicAction =
  | { kind: 'upsert'; resource: ResourceDefinition }
  | { kind: 'delete'; resource: ResourceDefinition }
  | { kind: 'refetch'; resource: ResourceDefinition; idOf(body: Record<string, unknown>): bigint | null; gidOf?(body: Record<string, unknown>): string | null };

const TOPIC_ACTIONS = new Map<string, TopicAction>();
for (const resource of BY_NAME.values()) {
  for (const topic of resource.webhooks.upsert) TOPIC_ACTIONS.set(topic, { kind: 'upsert', resource });
  for (const topic of resource.webhooks.delete) TOPIC_ACTIONS.set(topic, { kind: 'delete', resource });
  for (const { topic, idOf, gidOf } of resource.webhooks.refetch) TOPIC_ACTIONS.set(topic, { kind: 'refetch', resource, idOf, gidOf });
}

/** The registry's action for a webhook topic, or undefined for topics no resource handles. */
export function topicAction(topic: string): TopicAction | undefined {
  return TOPIC_ACTIONS.get(topic);
}

/** Every webhook topic a resource handles, in registry order. */
export const RESOURCE_TOPICS: readonly string[] = Object.freeze([...TOPIC_ACTIONS.keys()]);
