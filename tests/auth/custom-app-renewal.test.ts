/**
 * A Dev Dashboard custom app connected with explicit `clientCredentials: { clientId, clientSecret }`
 * (docs/configuration.md) must be able to get a new token when the first one expires. The custom app is
 * not (and need not be: initialize() skips tenants with their own secret) in the service's `apps`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createIngestionService, type IngestionService } from '../../src/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { RESOURCE_NAMES } from '../../src/resources/index.js';

const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const MAIN_ID = 'main-public-app';
const MAIN_SECRET = `main_${randomBytes(6).toString('hex')}`;
const CUSTOM_ID = 'dev-dashboard-custom-app';
const CUSTOM_SECRET = `custom_${randomBytes(6).toString('hex')}`;
const QUIET = '0 0 1 1 *';
const quiet = { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { schedule: QUIET }])), fullSync: { schedule: QUIET } };

let db: TestDatabase;
let sim: ShopifySimulator;
let service: IngestionService;

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_auth_custom_app' });
  // The simulated shop's token endpoint knows the custom app (its own client id and secret).
  sim = await createShopifySimulator({ seed: 3, unthrottled: true, apiSecret: MAIN_SECRET, oauth: { clientId: CUSTOM_ID, clientSecrets: [CUSTOM_SECRET], clientCredentialsTtlSeconds: 1 }, shops: [{ domain: 'custom-cc.myshopify.com', customers: 3 }] });
  service = createIngestionService(db.database, {
    env: { ENCRYPTION_KEY, SHOPIFY_API_KEY: MAIN_ID, SHOPIFY_API_SECRET: MAIN_SECRET, LOG_LEVEL: 'silent' },
    scheduler: { enabled: false, syncConfig: quiet }, healthCheckIntervalMs: 0, tokenRenewal: { renewBeforeMs: 0 },
    clientDefaults: { retryOptions: { retries: 0, minTimeout: 10, maxTimeout: 50 } },
  });
  await service.initialize();
}, 60_000);
afterAll(async () => {
  await service?.shutdown({ timeoutMs: 1000 }).catch(() => {});
  await sim?.stop();
  await db?.drop();
});

it('a tenant with its own client credentials gets a new token when the first expires', { timeout: 60_000 }, async () => {
  const shop = sim.shops[0];
  await service.addTenant('custom', { shopDomain: shop.domain, clientCredentials: { clientId: CUSTOM_ID, clientSecret: CUSTOM_SECRET } }, { client: { baseUrl: shop.baseUrl } });
  const grants = sim.oauth.stats.clientCredentials;
  await new Promise((r) => setTimeout(r, 1200)); // the 1 s token expires
  const client = await service.getClient('custom');
  const outcome = await client.graphql('{ shop { name } }').then(() => 'ok', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`);
  expect(outcome).toBe('ok');
  expect(sim.oauth.stats.clientCredentials).toBe(grants + 1);
});
