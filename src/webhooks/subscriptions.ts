// Shop-specific webhook subscriptions (`webhookSubscriptionCreate` and friends), kept equal to what
// the SDK handles for a tenant: the topics of its enabled resources plus the lifecycle topics,
// delivered to one callback URI as JSON.
//
// Which subscriptions are the SDK's: those named `shopify-ingest-<topic>` (names are unique per
// shop, 2026-04+) and those delivering to the callback URI for a topic the SDK subscribes (with any
// resource enabled). Every other subscription of the app on the shop (another service of yours with
// its own endpoint, or the host's own topic such as carts/update pointed at the same route, as
// docs/webhooks.md allows) is reported as `foreign` and never touched: the SDK cannot tell it is
// stale rather than someone else's.
//
// One of the SDK's that trims payloads (`includeFields`) or filters deliveries (`filter`) is
// mismatched: the SDK stores whole records, and every change of them.
//
// Not here: the compliance topics (`customers/data_request`, `customers/redact`, `shop/redact`) are
// not in `WebhookSubscriptionTopic`: they can only be declared in the app's configuration
// (shopify.app.toml `compliance_topics`). Nor the API version of deliveries: it is the app's webhook
// version and cannot be set per subscription, so a mismatch is reported, not repaired.
// https://shopify.dev/docs/apps/build/webhooks/subscribe
// (Line comments: the published types carry the report type, and the size budget of index.d.ts is tight.)
import type { ResourceName } from '../resources/registry.js';
import { subscribedTopics } from './app-toml.js';

/** The part of a Shopify client the subscriptions use. */
export interface SubscriptionClient {
  graphql<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

/** A subscription in a report. */
interface Entry {
  /** Its gid. */
  id: string;
  /** `orders/create`. */
  topic: string;
  /** Where it delivers. */
  uri: string;
  /** Null when unnamed. */
  name: string | null;
}

/** A subscription as listed. */
export interface ListedSubscription extends Entry {
  format: string;
  apiVersion: string;
  /** Fields payloads are trimmed to (absent or empty: whole payloads). */
  includeFields?: string[];
  /** Search syntax deliveries must match (absent, null or empty: every delivery). */
  filter?: string | null;
}

/** A tenant's drift (docs/webhooks.md). */
export interface WebhookSubscriptionReport {
  /** The tenant. */
  tenantId: string;
  /** Their callback. */
  uri: string;
  /** Topics wanted. */
  topics: string[];
  /** Wanted, not subscribed. */
  missing: string[];
  /** The SDK's, wrong (`apiVersion`: the app's, not repaired). */
  mismatched: Array<Entry & {
    /** Why. */
    problems: Array<'uri' | 'format' | 'apiVersion' | 'includeFields' | 'filter'>;
  }>;
  /** The SDK's, not wanted. */
  extra: Entry[];
  /** Others': never changed. */
  foreign: Entry[];
  /** Nothing missing, mismatched or extra. */
  inSync: boolean;
  /** What `repair` did. */
  repaired: {
    /** Topics. */
    created: string[];
    /** Ids. */
    updated: string[];
    /** Ids. */
    deleted: string[];
    /** Refusals. */
    errors: string[];
  } | null;
}

/** What the subscriptions of one tenant should be. */
export interface SubscriptionTarget {
  /** The tenant (for the report). */
  tenantId: string;
  /** Where deliveries go. */
  uri: string;
  /** The tenant's enabled resources. */
  resources: readonly ResourceName[];
  /** The API version payloads should have (the SDK's). */
  apiVersion: string;
}

const NAME_PREFIX = 'shopify-ingest-';

/** `orders/partially_fulfilled` -> `ORDERS_PARTIALLY_FULFILLED` (Shopify's WebhookSubscriptionTopic). */
export const topicEnum = (topic: string): string => topic.replace('/', '_').toUpperCase();

/**
 * Every topic the SDK subscribes with any resource enabled, by enum value. Also tells its
 * subscriptions at the uri from the host's, and restores topics whose resource has an underscore
 * (`inventory_levels/update`): the enum alone does not say where the `/` goes.
 */
const KNOWN_TOPICS = new Map(subscribedTopics().map((t) => [topicEnum(t), t]));
const MULTI_WORD = /^(BULK_OPERATIONS|INVENTORY_ITEMS|INVENTORY_LEVELS|DRAFT_ORDERS|FULFILLMENT_ORDERS|FULFILLMENT_EVENTS|ORDER_TRANSACTIONS|CUSTOMER_GROUPS|SELLING_PLAN_GROUPS|PRODUCT_LISTINGS|APP_SUBSCRIPTIONS|RETURN_REQUESTS|SUBSCRIPTION_CONTRACTS|SUBSCRIPTION_BILLING_ATTEMPTS)_/;

/** `INVENTORY_LEVELS_UPDATE` -> `inventory_levels/update`: every topic the SDK handles exactly, others by their resource's name. */
export function restTopicOf(value: string): string {
  const known = KNOWN_TOPICS.get(value);
  if (known) return known;
  const resource = MULTI_WORD.exec(value)?.[1] ?? value.split('_')[0]!;
  return `${resource}/${value.slice(resource.length + 1)}`.toLowerCase();
}
/** The subscription name the SDK gives a topic: `shopify-ingest-orders-create`. */
export const subscriptionName = (topic: string): string => `${NAME_PREFIX}${topic.replace('/', '-')}`;

const FIELDS = 'id topic uri format name includeFields filter apiVersion { handle }';

export const LIST_SUBSCRIPTIONS_QUERY = `query ShopifyIngestWebhookSubscriptions($after: String) {
  webhookSubscriptions(first: 250, after: $after) { nodes { ${FIELDS} } pageInfo { hasNextPage endCursor } }
}`;
export const CREATE_SUBSCRIPTION_MUTATION = `mutation ShopifyIngestWebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $input: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $input) { webhookSubscription { id } userErrors { field message } }
}`;
export const UPDATE_SUBSCRIPTION_MUTATION = `mutation ShopifyIngestWebhookSubscriptionUpdate($id: ID!, $input: WebhookSubscriptionInput!) {
  webhookSubscriptionUpdate(id: $id, webhookSubscription: $input) { webhookSubscription { id } userErrors { field message } }
}`;
export const DELETE_SUBSCRIPTION_MUTATION = `mutation ShopifyIngestWebhookSubscriptionDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } }
}`;

type Node = { id: string; topic: string; uri: string; format: string; name: string | null; includeFields: string[]; filter: string | null; apiVersion: { handle: string } };
type Problem = WebhookSubscriptionReport['mismatched'][number]['problems'][number];
type UserErrors = { userErrors: Array<{ field: string[] | null; message: string }> };

/** Every shop-specific subscription of the app on the shop (app-specific ones from shopify.app.toml are not listed by Shopify). */
export async function listWebhookSubscriptions(client: SubscriptionClient): Promise<ListedSubscription[]> {
  const out: ListedSubscription[] = [];
  let after: string | null = null;
  do {
    const data: { webhookSubscriptions: { nodes: Node[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await client.graphql(LIST_SUBSCRIPTIONS_QUERY, { after });
    for (const n of data.webhookSubscriptions.nodes) {
      out.push({ id: n.id, topic: restTopicOf(n.topic), uri: n.uri, format: n.format, name: n.name ?? null, apiVersion: n.apiVersion.handle, includeFields: n.includeFields, filter: n.filter });
    }
    after = data.webhookSubscriptions.pageInfo.hasNextPage ? data.webhookSubscriptions.pageInfo.endCursor : null;
  } while (after);
  return out;
}

/** What is wrong with the subscription the SDK keeps for a topic. */
function problemsOf(s: ListedSubscription, target: SubscriptionTarget): Problem[] {
  const problems: Problem[] = [];
  if (s.uri !== target.uri) problems.push('uri');
  if (s.format !== 'JSON') problems.push('format');
  if (s.apiVersion !== target.apiVersion) problems.push('apiVersion');
  // A trimmed payload would be written as the whole record; a filtered topic leaves changes unstored.
  if (s.includeFields?.length) problems.push('includeFields');
  if (s.filter) problems.push('filter');
  return problems;
}

/**
 * Compares the listed subscriptions with the target. Per wanted topic the SDK keeps one of its own
 * subscriptions (preferring one that delivers to the uri, then one with its name); further ones of
 * its own are `extra`, as are its subscriptions for topics no longer wanted.
 */
export function planSubscriptions(target: SubscriptionTarget, listed: readonly ListedSubscription[]): Omit<WebhookSubscriptionReport, 'repaired'> {
  // Shopify's enum spells `orders/partially_fulfilled` ORDERS_PARTIALLY_FULFILLED: compare in that spelling.
  const topics = subscribedTopics(target.resources);
  const wanted = new Map(topics.map((t) => [topicEnum(t), t]));
  // At the uri, only the SDK's topics: hosts may point their own (carts/update) at the same route.
  const ours = (s: ListedSubscription) => Boolean(s.name?.startsWith(NAME_PREFIX)) || (s.uri === target.uri && KNOWN_TOPICS.has(topicEnum(s.topic)));
  const named = listed.map((s) => ({ ...s, topic: wanted.get(topicEnum(s.topic)) ?? s.topic }));
  const entry = (s: ListedSubscription): Entry => ({ id: s.id, topic: s.topic, uri: s.uri, name: s.name });
  const report: Omit<WebhookSubscriptionReport, 'repaired'> = { tenantId: target.tenantId, uri: target.uri, topics, missing: [], mismatched: [], extra: [], foreign: [], inSync: true };
  report.foreign = named.filter((s) => !ours(s)).map(entry);
  for (const topic of topics) {
    const candidates = named.filter((s) => ours(s) && s.topic === topic);
    const rank = (s: ListedSubscription) => (s.uri === target.uri ? 0 : 2) + (s.name === subscriptionName(topic) ? 0 : 1);
    const [keep, ...rest] = [...candidates].sort((a, b) => rank(a) - rank(b));
    if (!keep) { report.missing.push(topic); continue; }
    report.extra.push(...rest.map(entry));
    const problems = problemsOf(keep, target);
    if (problems.length) report.mismatched.push({ ...entry(keep), problems });
  }
  report.extra.push(...named.filter((s) => ours(s) && !topics.includes(s.topic)).map(entry));
  report.inSync = report.missing.length === 0 && report.mismatched.length === 0 && report.extra.length === 0;
  return report;
}

/**
 * Lists, compares and, with `repair`, deletes the extra subscriptions, updates the mismatched ones
 * (`uri`, `format`), recreates those with `includeFields` or a `filter` (deleted, then created
 * whole) and creates the missing ones, in that order (a deleted duplicate frees its name).
 * Idempotent: a second run finds nothing to do. Refusals (userErrors) are collected in
 * `repaired.errors`, not thrown; request failures are thrown.
 *
 * @example
 * ```ts
 * const report = await syncWebhookSubscriptions(client, { tenantId: 't1', uri: 'https://app.example.com/api/webhooks/shopify', resources: ['orders'], apiVersion: '2026-10' }, { repair: true });
 * ```
 */
export async function syncWebhookSubscriptions(client: SubscriptionClient, target: SubscriptionTarget, options: { repair?: boolean } = {}): Promise<WebhookSubscriptionReport> {
  const plan = planSubscriptions(target, await listWebhookSubscriptions(client));
  if (!options.repair) return { ...plan, repaired: null };
  const repaired = { created: [] as string[], updated: [] as string[], deleted: [] as string[], errors: [] as string[] };
  const refused = (topic: string, payload: UserErrors) => {
    for (const e of payload.userErrors) repaired.errors.push(`${topic}: ${e.message}`);
    return payload.userErrors.length > 0;
  };
  const remove = async (s: Entry) => {
    const data = await client.graphql<{ webhookSubscriptionDelete: UserErrors }>(DELETE_SUBSCRIPTION_MUTATION, { id: s.id });
    if (refused(s.topic, data.webhookSubscriptionDelete)) return false;
    repaired.deleted.push(s.id);
    return true;
  };
  const create = async (topic: string) => {
    const input = { uri: target.uri, format: 'JSON', name: subscriptionName(topic) };
    const data = await client.graphql<{ webhookSubscriptionCreate: UserErrors }>(CREATE_SUBSCRIPTION_MUTATION, { topic: topicEnum(topic), input });
    if (!refused(topic, data.webhookSubscriptionCreate)) repaired.created.push(topic);
  };
  for (const s of plan.extra) await remove(s);
  for (const s of plan.mismatched) {
    // Shopify does not document how an update clears includeFields or a filter: recreate the subscription whole.
    if (s.problems.includes('includeFields') || s.problems.includes('filter')) {
      if (await remove(s)) await create(s.topic);
      continue;
    }
    if (!s.problems.some((p) => p !== 'apiVersion')) continue;
    const data = await client.graphql<{ webhookSubscriptionUpdate: UserErrors }>(UPDATE_SUBSCRIPTION_MUTATION, { id: s.id, input: { uri: target.uri, format: 'JSON' } });
    if (!refused(s.topic, data.webhookSubscriptionUpdate)) repaired.updated.push(s.id);
  }
  for (const topic of plan.missing) await create(topic);
  return { ...plan, repaired };
}
