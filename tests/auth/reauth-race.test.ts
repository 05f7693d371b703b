/**
 * A renewal that fails with the tenant's OLD refresh token (revoked when the merchant
 * uninstalled) while the merchant re-authorises (updateTenant, another process) must not mark the
 * freshly re-authorised tenant `needs_reauth`: the credentials stored last work.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signSessionToken } from '../../src/auth/index.js';
import { createStoredTokenSource } from '../../src/auth/stored-token-source.js';
import { createKeyRing } from '../../src/crypto/index.js';
import { createIngestionService, type IngestionService } from '../../src/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { RESOURCE_NAMES } from '../../src/resources/index.js';

const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const CLIENT_ID = 'rv-reauth-app';
const SECRET = `rv_secret_${randomBytes(6).toString('hex')}`;
const QUIET = '0 0 1 1 *';
const quiet = { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { schedule: QUIET }])), fullSync: { schedule: QUIET } };
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });

let db: TestDatabase;
let sim: ShopifySimulator;
let service: IngestionService;

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_auth_reauth_race' });
  sim = await createShopifySimulator({ seed: 4, unthrottled: true, apiSecret: SECRET, oauth: { clientId: CLIENT_ID }, shops: [{ domain: 'rv-reauth.myshopify.com', customers: 3 }] });
  service = createIngestionService(db.database, {
    env: { ENCRYPTION_KEY, SHOPIFY_API_KEY: CLIENT_ID, SHOPIFY_API_SECRET: SECRET, LOG_LEVEL: 'silent' },
    scheduler: { enabled: false, syncConfig: quiet }, healthCheckIntervalMs: 0,
    clientDefaults: { retryOptions: { retries: 0, minTimeout: 10, maxTimeout: 50 } },
  });
  await service.initialize();
}, 60_000);
afterAll(async () => {
  await service?.shutdown({ timeoutMs: 1000 }).catch(() => {});
  await sim?.stop();
  await db?.drop();
});

it('a renewal failing with the old refresh token does not undo a concurrent re-authorisation', { timeout: 60_000 }, async () => {
  const shop = sim.shops[0];
  const session = () => signSessionToken({ shop: shop.domain, apiKey: CLIENT_ID, apiSecret: SECRET });
  await service.addTenant('t', { shopDomain: shop.domain, sessionToken: session() }, { client: { baseUrl: shop.baseUrl } });
  const old = await service.store.getTenant('t');
  const oldToken = keyRing.decrypt(old!.accessTokenEnc!, 't');

  // The merchant uninstalls: the old refresh token is revoked, the old access token refused.
  sim.oauth.revokeRefreshTokens(shop);
  sim.oauth.expireAccessTokens(shop);

  // Process A (a sync) got a 401 and renews. While its refresh request is on its way, the merchant
  // reinstalls and the host (process B) stores new credentials with updateTenant.
  let reauthorised = false;
  const reauthCalls: string[] = [];
  const sourceA = createStoredTokenSource({
    tenantId: 't', store: service.store, keyRing, resolveApp: () => ({ clientId: CLIENT_ID, clientSecrets: [SECRET] }), baseUrl: shop.baseUrl,
    onReauthRequired: (t) => { reauthCalls.push(t.reason); },
    fetch: async (url, init) => {
      if (!reauthorised) {
        reauthorised = true;
        await service.updateTenant('t', { shopDomain: shop.domain, sessionToken: session() });
      }
      return globalThis.fetch(url, init);
    },
  });
  const got = await sourceA.onUnauthorized(oldToken).catch((e: { code?: string }) => e.code);
  expect(reauthorised).toBe(true);

  // The tenant's stored credentials are the new, working ones: it must not be needs_reauth, and A uses them.
  const now = await service.store.getTenant('t');
  const newToken = keyRing.decrypt(now!.accessTokenEnc!, 't');
  expect(newToken).not.toBe(oldToken);
  expect(got).toBe(newToken);
  const probe = await fetch(`${shop.baseUrl}/admin/api/2026-10/graphql.json`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-access-token': newToken }, body: JSON.stringify({ query: '{ shop { name } }' }) });
  expect(probe.status).toBe(200); // the stored credentials work
  expect({ authStatus: now!.authStatus, authError: now!.authError, onReauthRequired: reauthCalls }).toEqual({ authStatus: 'ok', authError: null, onReauthRequired: [] });
});
