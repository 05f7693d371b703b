import { describe, expect, it } from 'vitest';
import { authOptionsOf, loadConfig, parseList, requireFor, webhookSecretsOf, CONFIG_VARIABLES } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { createAuthMiddleware } from '../../src/auth/index.js';

const KEY = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

function configError(fn: () => unknown): ConfigError {
  try { fn(); } catch (e) { expect(e).toBeInstanceOf(ConfigError); return e as ConfigError; }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the seed\'s defaults', () => {
    expect(loadConfig({}, { ENCRYPTION_KEY: KEY })).toEqual({
      shopifyApiKey: undefined,
      shopifyApiSecret: undefined,
      shopifyApiSecretPrevious: undefined,
      hostName: undefined,
      encryptionKey: KEY,
      encryptionPreviousKeys: [],
      blindIndexKey: undefined,
      databaseUrl: undefined,
      nodeEnv: 'development',
      logLevel: 'info',
      apiCallLimit: 40,
      leakRate: 2,
      defaultBatchSize: 250,
      defaultConcurrency: 3,
      apiVersion: expect.stringMatching(/^\d{4}-\d{2}$/),
      webhookSecrets: [],
      ingestApiKeys: [],
    });
  });

  it('reads every seed variable from the environment', () => {
    const config = loadConfig({}, {
      SHOPIFY_API_KEY: 'key', SHOPIFY_API_SECRET: 'secret', HOST_NAME: 'https://app.example.com/',
      ENCRYPTION_KEY: 'your_32_character_encryption_ke_', DATABASE_URL: 'postgresql://u:p@localhost:5432/shoplytics',
      NODE_ENV: 'production', LOG_LEVEL: 'WARN', SHOPIFY_API_CALL_LIMIT: '80', SHOPIFY_LEAK_RATE: '4',
      DEFAULT_BATCH_SIZE: '250', DEFAULT_CONCURRENCY: '5', SHOPIFY_API_VERSION: '2025-07',
      SHOPIFY_WEBHOOK_SECRETS: 'old1, old2', INGEST_API_KEYS: 'k1,k2\nk3',
    });
    expect(config).toMatchObject({
      shopifyApiKey: 'key', shopifyApiSecret: 'secret', hostName: 'app.example.com', nodeEnv: 'production', logLevel: 'warn',
      apiCallLimit: 80, leakRate: 4, defaultBatchSize: 250, defaultConcurrency: 5, apiVersion: '2025-07',
      webhookSecrets: ['old1', 'old2'], ingestApiKeys: ['k1', 'k2', 'k3'], databaseUrl: 'postgresql://u:p@localhost:5432/shoplytics',
    });
  });

  it('lets options override the environment', () => {
    const config = loadConfig({ defaultBatchSize: 50, logLevel: 'debug', ingestApiKeys: ['x-1'] }, { ENCRYPTION_KEY: KEY, DEFAULT_BATCH_SIZE: '10', LOG_LEVEL: 'error', INGEST_API_KEYS: 'y' });
    expect(config).toMatchObject({ defaultBatchSize: 50, logLevel: 'debug', ingestApiKeys: ['x-1'] });
  });

  it('reports every invalid variable at once', () => {
    const error = configError(() => loadConfig({}, {
      ENCRYPTION_KEY: KEY, LOG_LEVEL: 'verbose', DEFAULT_BATCH_SIZE: '500', DEFAULT_CONCURRENCY: '2.5',
      SHOPIFY_API_CALL_LIMIT: 'forty', SHOPIFY_LEAK_RATE: '-1', SHOPIFY_API_VERSION: '2025-13', DATABASE_URL: 'mysql://root:hunter2@db/x', HOST_NAME: 'not a host',
    }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/^\[shopify-ingest\] invalid configuration: /);
    const errors = error.details.errors as string[];
    expect(errors).toEqual([
      'HOST_NAME must be a host name like app.example.com (got "not a host")',
      'DATABASE_URL must be a postgres:// or postgresql:// URL',
      'LOG_LEVEL must be one of debug, info, warn, error, silent (got "verbose")',
      'SHOPIFY_API_CALL_LIMIT must be an integer 1..10000 (got "forty")',
      'SHOPIFY_LEAK_RATE must be a number of requests per second > 0 (got "-1")',
      'DEFAULT_BATCH_SIZE must be an integer 1..250 (got "500")',
      'DEFAULT_CONCURRENCY must be an integer 1..32 (got "2.5")',
      'SHOPIFY_API_VERSION must look like YYYY-MM or be "unstable" (got "2025-13")',
    ]);
    for (const e of errors) expect(error.message).toContain(e);
    expect(error.message).not.toContain('hunter2');
  });

  it('requires ENCRYPTION_KEY by default and checks its form without echoing it', () => {
    expect(configError(() => loadConfig({}, {})).message).toMatch(/ENCRYPTION_KEY is required/);
    const short = configError(() => loadConfig({}, { ENCRYPTION_KEY: 'too-short-secret', LOG_LEVEL: 'loud' }));
    expect(short.details.errors).toEqual([
      expect.stringMatching(/^ENCRYPTION_KEY must be a 32-byte key/),
      expect.stringMatching(/^LOG_LEVEL/),
    ]);
    expect(short.message).not.toContain('too-short-secret');
    // a command that only needs the database
    expect(loadConfig({}, { DATABASE_URL: 'postgres://localhost/db' }, { require: ['database'] }).encryptionKey).toBeUndefined();
  });

  it('checks key rotation settings with the key ring\'s own rules', () => {
    const other = 'f'.repeat(64);
    expect(configError(() => loadConfig({}, { ENCRYPTION_KEY: KEY, ENCRYPTION_PREVIOUS_KEYS: other })).message).toMatch(/BLIND_INDEX_KEY is required once ENCRYPTION_PREVIOUS_KEYS is set/);
    expect(configError(() => loadConfig({}, { ENCRYPTION_KEY: KEY, ENCRYPTION_PREVIOUS_KEYS: 'short', BLIND_INDEX_KEY: other })).message).toMatch(/ENCRYPTION_PREVIOUS_KEYS\[0\] must be a 32-byte key/);
    expect(loadConfig({}, { ENCRYPTION_KEY: KEY, ENCRYPTION_PREVIOUS_KEYS: other, BLIND_INDEX_KEY: other })).toMatchObject({ encryptionPreviousKeys: [other], blindIndexKey: other });
  });

  it('requires what the features in use need', () => {
    const base = { ENCRYPTION_KEY: KEY };
    expect(configError(() => loadConfig({}, base, { require: ['encryption', 'webhooks', 'sessionTokens', 'database'] })).details.errors).toEqual([
      'SHOPIFY_API_SECRET (or SHOPIFY_WEBHOOK_SECRETS) is required to verify webhooks',
      'SHOPIFY_API_KEY is required to accept Shopify session tokens',
      'SHOPIFY_API_SECRET is required to accept Shopify session tokens',
      'DATABASE_URL is required',
    ]);
    const config = loadConfig({}, base);
    expect(() => requireFor(config, ['auth'])).toThrow(/INGEST_API_KEYS/);
    expect(requireFor(loadConfig({ ingestApiKeys: ['k'] }, base), ['auth']).ingestApiKeys).toEqual(['k']);
    expect(requireFor(loadConfig({}, { ...base, SHOPIFY_WEBHOOK_SECRETS: 'w' }), ['webhooks']).webhookSecrets).toEqual(['w']);
  });

  it('derives webhook secrets and auth options', () => {
    const config = loadConfig({}, { ENCRYPTION_KEY: KEY, SHOPIFY_API_KEY: 'k', SHOPIFY_API_SECRET: 'new', SHOPIFY_API_SECRET_PREVIOUS: 'prev', SHOPIFY_WEBHOOK_SECRETS: 'old,new', INGEST_API_KEYS: 'ops-1' });
    expect(webhookSecretsOf(config)).toEqual(['new', 'prev', 'old']);
    expect(authOptionsOf(config)).toMatchObject({ apiKey: 'k', apiSecret: ['new', 'prev'], apiKeys: ['ops-1'] });
    const auth = createAuthMiddleware(authOptionsOf(config));
    let passed = false;
    auth({ headers: { 'x-api-key': 'ops-1' } }, {}, () => { passed = true; });
    expect(passed).toBe(true);
  });

  it('documents every variable', () => {
    expect(Object.values(CONFIG_VARIABLES)).toEqual([
      'SHOPIFY_API_KEY', 'SHOPIFY_API_SECRET', 'SHOPIFY_API_SECRET_PREVIOUS', 'HOST_NAME', 'ENCRYPTION_KEY',
      'ENCRYPTION_PREVIOUS_KEYS', 'BLIND_INDEX_KEY', 'DATABASE_URL', 'NODE_ENV', 'LOG_LEVEL',
      'SHOPIFY_API_CALL_LIMIT', 'SHOPIFY_LEAK_RATE', 'DEFAULT_BATCH_SIZE', 'DEFAULT_CONCURRENCY', 'SHOPIFY_API_VERSION',
      'SHOPIFY_WEBHOOK_SECRETS', 'INGEST_API_KEYS',
    ]);
    expect(parseList(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(parseList(undefined)).toEqual([]);
  });
});
