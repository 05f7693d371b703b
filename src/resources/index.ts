/** The resource registry (see docs/architecture.md). */
export { RESOURCES, RESOURCE_NAMES, RESOURCE_TOPICS, getResource, isResourceName, topicAction } from './registry.js';
export type { ResourceName, TopicAction } from './registry.js';
export { defineResource, tablesOf } from './definition.js';
export type {
  ResourceDefinition, TableDefinition, ChildTableDefinition, RowSet, RowContext, ChildRowContext, NestedConnection,
  GraphqlSource, RestSource, DeletionSource, WebhookTopics, ScheduleDefaults,
} from './definition.js';
