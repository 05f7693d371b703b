/**
 * The `[webhooks]` block of a `shopify.app.toml` for the topics the SDK handles: app-specific
 * subscriptions, the way Shopify recommends (https://shopify.dev/docs/apps/build/webhooks/subscribe),
 * deployed with `shopify app deploy`. Topics come from the resource registry, the lifecycle topics
 * and the mandatory compliance topics, so the block always matches what the SDK applies.
 */
import { ConfigError } from '../errors.js';
import { DEFAULT_API_VERSION } from '../client/config.js';
import { RESOURCE_NAMES, RESOURCE_TOPICS, topicAction, type ResourceName } from '../resources/registry.js';
import { COMPLIANCE_TOPICS, LIFECYCLE_TOPICS } from './topics.js';

/** What {@link webhooksToml} writes. */
export interface WebhooksTomlOptions {
  /** Where Shopify delivers: an absolute `https://` URL, a `pubsub://project:topic` or an EventBridge ARN. */
  uri: string;
  /** `api_version` of the payloads (default the SDK's, `2026-10`). */
  apiVersion?: string;
  /** Resources whose topics to subscribe (default every resource of the registry). */
  resources?: readonly ResourceName[];
  /** The first line's comment (e.g. who generated it). */
  header?: string;
}

/** Shopify's CLI accepts only these delivery URIs in the app configuration file. */
const DELIVERY_URI = /^(https:\/\/[^\s"]+|pubsub:\/\/[^\s":]+:[^\s"]+|arn:aws:events:[^\s"]+)$/;

/** The topics of `resources` the SDK applies (registry order), then the lifecycle topics it acts upon. */
export function subscribedTopics(resources: readonly ResourceName[] = RESOURCE_NAMES): string[] {
  const ofResources = RESOURCE_TOPICS.filter((topic) => resources.includes(topicAction(topic)!.resource.name as ResourceName));
  return [...ofResources, ...LIFECYCLE_TOPICS];
}

/**
 * The `[webhooks]` block: one subscription with the resource and lifecycle topics, one with the
 * compliance topics (kept apart: Shopify's CLI has refused the two kinds in one subscription). No
 * `include_fields`: the SDK stores whole records, and a trimmed payload would store a partial one.
 *
 * @example
 * ```ts
 * webhooksToml({ uri: 'https://app.example.com/api/webhooks/shopify' });
 * ```
 */
export function webhooksToml(options: WebhooksTomlOptions): string {
  if (!DELIVERY_URI.test(options.uri)) {
    throw new ConfigError(`webhooks toml: the uri must be an absolute https:// URL (or pubsub://project:topic, or an EventBridge ARN), got ${JSON.stringify(options.uri)}`);
  }
  const apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
  if (!/^\d{4}-(01|04|07|10)$|^unstable$/.test(apiVersion)) throw new ConfigError(`webhooks toml: api version must be YYYY-MM (a quarter) or unstable, got ${JSON.stringify(apiVersion)}`);
  const resources = options.resources ?? RESOURCE_NAMES;
  const list = (topics: readonly string[]) => `[ ${topics.map((t) => JSON.stringify(t)).join(', ')} ]`;
  const uri = JSON.stringify(options.uri);
  return [
    ...(options.header ? [`# ${options.header}`] : []),
    `# Topics for: ${resources.join(', ')}. Whole payloads (no include_fields): the SDK stores complete records.`,
    '[webhooks]',
    `api_version = ${JSON.stringify(apiVersion)}`,
    '',
    '  [[webhooks.subscriptions]]',
    `  topics = ${list(subscribedTopics(resources))}`,
    `  uri = ${uri}`,
    '',
    '  [[webhooks.subscriptions]]',
    `  compliance_topics = ${list(COMPLIANCE_TOPICS)}`,
    `  uri = ${uri}`,
    '',
  ].join('\n');
}
