/**
 * Which resources a tenant syncs: `resources` in its stored config (`shopify_tenants.config`),
 * every resource of the registry when absent. The one place that reads it: the scheduler's jobs,
 * `importData(tenant, 'all')`, webhook subscriptions and the webhook endpoint (deliveries of a
 * disabled resource's topics are acknowledged and dropped) all ask here.
 */
import { ConfigError } from '../errors.js';
import { RESOURCE_NAMES, isResourceName, topicAction, type ResourceName } from './registry.js';

/** The resources enabled by a tenant's stored config, in registry order. */
export function enabledResources(config: unknown): readonly ResourceName[] {
  const listed = (config as { resources?: unknown } | null | undefined)?.resources;
  if (!Array.isArray(listed)) return RESOURCE_NAMES;
  return RESOURCE_NAMES.filter((name) => listed.includes(name));
}

/** Throws a `ConfigError` naming the known resources unless `resources` (when given) lists only registered ones. */
export function assertResourceList(resources: unknown, label: string): void {
  if (resources === undefined) return;
  if (!Array.isArray(resources) || resources.some((r) => !isResourceName(r))) {
    throw new ConfigError(`${label}: resources must list some of ${RESOURCE_NAMES.join(', ')} (got ${JSON.stringify(resources)})`);
  }
}

/** True when `topic` belongs to a resource the tenant does not sync (lifecycle and unknown topics never are). */
export function isDisabledTopic(topic: string, enabled: readonly ResourceName[]): boolean {
  const action = topicAction(topic);
  return action !== undefined && !enabled.includes(action.resource.name as ResourceName);
}
