import { ConfigError } from '../errors.js';
import type { LogLevel } from '../logger.js';
import { parseKeyMaterial } from '../crypto/key-material.js';
import { createKeyRing } from '../crypto/key-ring.js';
import { DEFAULT_API_VERSION, assertApiVersion } from '../client/config.js';
import { DEFAULT_BATCH_SIZE } from '../importer/options.js';
import { parseList } from './parse.js';

/**
 * The SDK's configuration, from the seed's environment variables or options.
 *
 * @example
 * ```ts
 * const config = loadConfig({ logLevel: 'debug' });
 * config.defaultBatchSize; // 250 unless DEFAULT_BATCH_SIZE says otherwise
 * ```
 */
export interface IngestionConfig {
  /** SHOPIFY_API_KEY: the app's client id (audience of session tokens). */
  shopifyApiKey: string | undefined;
  /** SHOPIFY_API_SECRET: verifies webhooks and session tokens. */
  shopifyApiSecret: string | undefined;
  /** SHOPIFY_API_SECRET_PREVIOUS: the app secret before a rotation, still accepted for webhooks and session tokens. */
  shopifyApiSecretPrevious: string | undefined;
  /** HOST_NAME: the app's public host (e.g. for webhook subscription URLs). */
  hostName: string | undefined;
  /** ENCRYPTION_KEY: the 32-byte key PII is encrypted with. */
  encryptionKey: string | undefined;
  /** ENCRYPTION_PREVIOUS_KEYS: older encryption keys still needed to decrypt (comma-separated). */
  encryptionPreviousKeys: string[];
  /** BLIND_INDEX_KEY: key of the email blind index (required once previous keys are set). */
  blindIndexKey: string | undefined;
  /** DATABASE_URL: PostgreSQL; without it the CLI and demo use the embedded database. */
  databaseUrl: string | undefined;
  /** NODE_ENV (default `development`). */
  nodeEnv: string;
  /** LOG_LEVEL (default `info`). */
  logLevel: LogLevel;
  /** SHOPIFY_API_CALL_LIMIT: REST bucket size (default 40, Shopify's standard plan). */
  apiCallLimit: number;
  /** SHOPIFY_LEAK_RATE: REST requests per second the bucket drains (default 2). */
  leakRate: number;
  /** DEFAULT_BATCH_SIZE: rows per database write (default 250). */
  defaultBatchSize: number;
  /** DEFAULT_CONCURRENCY: batch writes in flight (default 3). */
  defaultConcurrency: number;
  /** SHOPIFY_API_VERSION: Admin API version. */
  apiVersion: string;
  /** SHOPIFY_WEBHOOK_SECRETS: extra webhook secrets accepted during a rotation (comma-separated). */
  webhookSecrets: string[];
  /** INGEST_API_KEYS: static keys accepted by the auth middleware (comma-separated). */
  ingestApiKeys: string[];
}

/** What a part of the SDK needs from the configuration, for {@link requireFor}. */
export type ConfigFeature = 'encryption' | 'webhooks' | 'sessionTokens' | 'auth' | 'database';

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /**
   * Features whose settings must be present. Default `['encryption']`: PII is always encrypted,
   * so an ingestion service cannot start without ENCRYPTION_KEY. Pass e.g. `['database']` for a
   * command that only migrates.
   */
  require?: readonly ConfigFeature[];
}

type Env = Record<string, string | undefined>;
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** One setting: its variable, its option name, how to parse it (or why it is invalid). */
interface Setting<K extends keyof IngestionConfig> {
  key: K;
  variable: string;
  parse(raw: unknown): { value: IngestionConfig[K] } | { error: string };
}

const str = (raw: unknown) => (raw === undefined || raw === null || raw === '' ? undefined : String(raw).trim() || undefined);

function integer(variable: string, min: number, max: number, fallback: number) {
  return (raw: unknown): { value: number } | { error: string } => {
    if (str(raw) === undefined) return { value: fallback };
    const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
    if (!Number.isInteger(n) || n < min || n > max) return { error: `${variable} must be an integer ${min}..${max} (got ${JSON.stringify(raw)})` };
    return { value: n };
  };
}

function list(raw: unknown): { value: string[] } {
  if (Array.isArray(raw)) return { value: raw.map(String).filter((s) => s.trim() !== '') };
  return { value: parseList(str(raw)) };
}

const SETTINGS: { [K in keyof IngestionConfig]: Setting<K> } = {
  shopifyApiKey: { key: 'shopifyApiKey', variable: 'SHOPIFY_API_KEY', parse: (raw) => ({ value: str(raw) }) },
  shopifyApiSecret: { key: 'shopifyApiSecret', variable: 'SHOPIFY_API_SECRET', parse: (raw) => ({ value: str(raw) }) },
  shopifyApiSecretPrevious: { key: 'shopifyApiSecretPrevious', variable: 'SHOPIFY_API_SECRET_PREVIOUS', parse: (raw) => ({ value: str(raw) }) },
  hostName: {
    key: 'hostName', variable: 'HOST_NAME',
    parse: (raw) => {
      const value = str(raw);
      if (value === undefined) return { value };
      const host = value.replace(/^https?:\/\//, '').replace(/\/+$/, '');
      return /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host) ? { value: host } : { error: `HOST_NAME must be a host name like app.example.com (got ${JSON.stringify(value)})` };
    },
  },
  encryptionKey: {
    key: 'encryptionKey', variable: 'ENCRYPTION_KEY',
    parse: (raw) => {
      const value = str(raw);
      if (value === undefined) return { value };
      // The crypto module's own rule, so config and key ring can never disagree; its message names the setting, never the value.
      try { parseKeyMaterial(value, 'ENCRYPTION_KEY'); } catch (error) { return { error: (error as Error).message.replace(/^\[shopify-ingest\] /, '') }; }
      return { value };
    },
  },
  encryptionPreviousKeys: { key: 'encryptionPreviousKeys', variable: 'ENCRYPTION_PREVIOUS_KEYS', parse: list },
  blindIndexKey: { key: 'blindIndexKey', variable: 'BLIND_INDEX_KEY', parse: (raw) => ({ value: str(raw) }) },
  databaseUrl: {
    key: 'databaseUrl', variable: 'DATABASE_URL',
    parse: (raw) => {
      const value = str(raw);
      if (value === undefined) return { value };
      let ok = false;
      try { ok = ['postgres:', 'postgresql:'].includes(new URL(value).protocol); } catch { ok = false; }
      // The URL may hold a password: never echo it.
      return ok ? { value } : { error: 'DATABASE_URL must be a postgres:// or postgresql:// URL' };
    },
  },
  nodeEnv: { key: 'nodeEnv', variable: 'NODE_ENV', parse: (raw) => ({ value: str(raw) ?? 'development' }) },
  logLevel: {
    key: 'logLevel', variable: 'LOG_LEVEL',
    parse: (raw) => {
      const value = str(raw)?.toLowerCase() ?? 'info';
      return (LOG_LEVELS as readonly string[]).includes(value)
        ? { value: value as LogLevel }
        : { error: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(raw)})` };
    },
  },
  apiCallLimit: { key: 'apiCallLimit', variable: 'SHOPIFY_API_CALL_LIMIT', parse: integer('SHOPIFY_API_CALL_LIMIT', 1, 10_000, 40) },
  leakRate: {
    key: 'leakRate', variable: 'SHOPIFY_LEAK_RATE',
    parse: (raw) => {
      if (str(raw) === undefined) return { value: 2 };
      const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
      return Number.isFinite(n) && n > 0 && n <= 1000 ? { value: n } : { error: `SHOPIFY_LEAK_RATE must be a number of requests per second > 0 (got ${JSON.stringify(raw)})` };
    },
  },
  defaultBatchSize: { key: 'defaultBatchSize', variable: 'DEFAULT_BATCH_SIZE', parse: integer('DEFAULT_BATCH_SIZE', 1, 250, DEFAULT_BATCH_SIZE) },
  defaultConcurrency: { key: 'defaultConcurrency', variable: 'DEFAULT_CONCURRENCY', parse: integer('DEFAULT_CONCURRENCY', 1, 32, 3) },
  apiVersion: {
    key: 'apiVersion', variable: 'SHOPIFY_API_VERSION',
    parse: (raw) => {
      const value = str(raw) ?? DEFAULT_API_VERSION;
      try { assertApiVersion(value); } catch { return { error: `SHOPIFY_API_VERSION must look like YYYY-MM or be "unstable" (got ${JSON.stringify(raw)})` }; }
      return { value };
    },
  },
  webhookSecrets: { key: 'webhookSecrets', variable: 'SHOPIFY_WEBHOOK_SECRETS', parse: list },
  ingestApiKeys: { key: 'ingestApiKeys', variable: 'INGEST_API_KEYS', parse: list },
};

/**
 * The environment variable behind each config field, e.g. for error messages and docs.
 *
 * @example
 * ```ts
 * CONFIG_VARIABLES.defaultBatchSize; // 'DEFAULT_BATCH_SIZE'
 * ```
 */
export const CONFIG_VARIABLES: Readonly<Record<keyof IngestionConfig, string>> = Object.freeze(
  Object.fromEntries(Object.values(SETTINGS).map((s) => [s.key, s.variable])) as Record<keyof IngestionConfig, string>,
);

/**
 * Reads and validates the configuration: options win over environment variables, defaults fill
 * the rest. Every invalid or missing setting is reported at once in one {@link ConfigError}
 * (`details.errors` lists them), so a deployment is fixed in one go. Values of secrets are never
 * echoed in messages.
 *
 * @example
 * ```ts
 * const config = loadConfig();                                  // process.env, ENCRYPTION_KEY required
 * const forWebhooks = loadConfig({}, process.env, { require: ['encryption', 'webhooks'] });
 * const custom = loadConfig({ defaultBatchSize: 50, logLevel: 'debug' });
 * ```
 */
export function loadConfig(overrides: Partial<IngestionConfig> = {}, env: Env = process.env, options: LoadConfigOptions = {}): IngestionConfig {
  const errors: string[] = [];
  const invalid = new Set<string>();
  const config = {} as Record<string, unknown>;
  for (const setting of Object.values(SETTINGS) as Array<Setting<keyof IngestionConfig>>) {
    const override = overrides[setting.key];
    const result = setting.parse(override !== undefined ? override : env[setting.variable]);
    if ('error' in result) {
      errors.push(result.error);
      invalid.add(setting.variable);
    } else config[setting.key] = result.value;
  }
  if (config.encryptionKey && (config.blindIndexKey || (config.encryptionPreviousKeys as string[]).length > 0)) {
    // The key ring's own rules (key forms, BLIND_INDEX_KEY once keys rotate), checked now rather than at the first encrypt.
    try {
      createKeyRing({ key: config.encryptionKey as string, previousKeys: config.encryptionPreviousKeys as string[], blindIndexKey: config.blindIndexKey as string | undefined });
    } catch (error) {
      errors.push((error as Error).message.replace(/^\[shopify-ingest\] /, ''));
    }
  }
  errors.push(...missingFor(config as unknown as IngestionConfig, options.require ?? ['encryption'], invalid));
  if (errors.length > 0) {
    throw new ConfigError(`invalid configuration: ${errors.join('; ')}`, { details: { errors } });
  }
  return config as unknown as IngestionConfig;
}

/** Missing settings of `features`; settings already reported as invalid are not reported twice. */
function missingFor(config: IngestionConfig, features: readonly ConfigFeature[], invalid: ReadonlySet<string> = new Set()): string[] {
  const errors: string[] = [];
  for (const feature of new Set(features)) {
    if (invalid.size > 0 && ['ENCRYPTION_KEY', 'SHOPIFY_API_KEY', 'SHOPIFY_API_SECRET', 'DATABASE_URL'].some((v) => invalid.has(v) && featureUses(feature, v))) continue;
    switch (feature) {
      case 'encryption':
        if (!config.encryptionKey) errors.push('ENCRYPTION_KEY is required: PII is always encrypted (generate one with `openssl rand -hex 32`)');
        break;
      case 'webhooks':
        if (webhookSecretsOf(config).length === 0) errors.push('SHOPIFY_API_SECRET (or SHOPIFY_WEBHOOK_SECRETS) is required to verify webhooks');
        break;
      case 'sessionTokens':
        if (!config.shopifyApiKey) errors.push('SHOPIFY_API_KEY is required to accept Shopify session tokens');
        if (!config.shopifyApiSecret) errors.push('SHOPIFY_API_SECRET is required to accept Shopify session tokens');
        break;
      case 'auth':
        if (!(config.shopifyApiKey && config.shopifyApiSecret) && config.ingestApiKeys.length === 0) {
          errors.push('the auth middleware needs SHOPIFY_API_KEY and SHOPIFY_API_SECRET (session tokens) or INGEST_API_KEYS (static keys)');
        }
        break;
      case 'database':
        if (!config.databaseUrl) errors.push('DATABASE_URL is required');
        break;
    }
  }
  return errors;
}

function featureUses(feature: ConfigFeature, variable: string): boolean {
  switch (feature) {
    case 'encryption': return variable === 'ENCRYPTION_KEY';
    case 'database': return variable === 'DATABASE_URL';
    case 'webhooks': return variable === 'SHOPIFY_API_SECRET';
    default: return variable === 'SHOPIFY_API_KEY' || variable === 'SHOPIFY_API_SECRET';
  }
}

/**
 * Checks that a loaded config has what `features` need; throws one {@link ConfigError} listing
 * everything missing. Lets a facade validate lazily, when a feature is first used.
 *
 * @example
 * ```ts
 * requireFor(config, ['webhooks']); // before mounting the webhook endpoint
 * ```
 */
export function requireFor(config: IngestionConfig, features: readonly ConfigFeature[]): IngestionConfig {
  const errors = missingFor(config, features);
  if (errors.length > 0) throw new ConfigError(`invalid configuration: ${errors.join('; ')}`, { details: { errors } });
  return config;
}

/**
 * All secrets that verify webhooks: SHOPIFY_API_SECRET first, then SHOPIFY_API_SECRET_PREVIOUS and
 * SHOPIFY_WEBHOOK_SECRETS, without duplicates.
 *
 * @example
 * ```ts
 * verifyWebhookHmac(rawBody, hmacHeader, webhookSecretsOf(loadConfig()));
 * ```
 */
export function webhookSecretsOf(config: Pick<IngestionConfig, 'shopifyApiSecret' | 'shopifyApiSecretPrevious' | 'webhookSecrets'>): string[] {
  return [...new Set([config.shopifyApiSecret, config.shopifyApiSecretPrevious, ...config.webhookSecrets].filter((s): s is string => Boolean(s)))];
}

/**
 * Auth middleware options from a config (see `createAuthMiddleware`).
 *
 * @example
 * ```ts
 * app.use('/api/shopify', createAuthMiddleware(authOptionsOf(loadConfig({}, process.env, { require: ['auth'] }))));
 * ```
 */
export function authOptionsOf(config: Pick<IngestionConfig, 'shopifyApiKey' | 'shopifyApiSecret' | 'shopifyApiSecretPrevious' | 'ingestApiKeys'>): {
  /** SHOPIFY_API_KEY (session tokens' audience). */
  apiKey?: string;
  /** The app secrets that verify session tokens. */
  apiSecret: string[];
  /** INGEST_API_KEYS. */
  apiKeys: string[];
  /** Always `{}`: the middleware must not read process.env. */
  env: Env;
} {
  const apiSecret = [config.shopifyApiSecret, config.shopifyApiSecretPrevious].filter((s): s is string => Boolean(s));
  // `env: {}`: the config already decided; the middleware must not fall back to process.env.
  return { apiKey: config.shopifyApiKey, apiSecret, apiKeys: config.ingestApiKeys, env: {} };
}
