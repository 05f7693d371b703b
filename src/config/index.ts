/**
 * Configuration from the seed's environment variables or options, validated at start.
 * @module config
 */
export { loadConfig, requireFor, webhookSecretsOf, authOptionsOf, CONFIG_VARIABLES } from './load-config.js';
export type { IngestionConfig, ConfigFeature, LoadConfigOptions } from './load-config.js';
export { parseList } from './parse.js';
export { findSecrets, assertNoSecrets } from './log-safety.js';
