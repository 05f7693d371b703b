/**
 * A Dev Dashboard custom app connected with explicit `clientCredentials: { clientId, clientSecret }`
 * (docs/configuration.md) must be able to get a new token when the first one expires. The custom app is
 * not (and need not be: initialize() skips tenants with their own secret) in the service's `apps`.
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { useAuthService } from './helpers/auth-service.js';

const CUSTOM_ID = 'dev-dashboard-custom-app';
const CUSTOM_SECRET = `custom_${randomBytes(6).toString('hex')}`;
// The simulated shop's token endpoint knows the custom app (its own client id and secret).
const h = useAuthService({
  prefix: 'si_auth_custom_app', clientId: 'main-public-app', seed: 3, shops: [{ domain: 'custom-cc.myshopify.com', customers: 3 }],
  oauth: { clientId: CUSTOM_ID, clientSecrets: [CUSTOM_SECRET], clientCredentialsTtlSeconds: 1 }, service: { tokenRenewal: { renewBeforeMs: 0 } },
});

it('a tenant with its own client credentials gets a new token when the first expires', { timeout: 60_000 }, async () => {
  const shop = h.sim.shops[0];
  await h.service.addTenant('custom', { shopDomain: shop.domain, clientCredentials: { clientId: CUSTOM_ID, clientSecret: CUSTOM_SECRET } }, { client: { baseUrl: shop.baseUrl } });
  const grants = h.sim.oauth.stats.clientCredentials;
  await new Promise((r) => setTimeout(r, 1200)); // the 1 s token expires
  const client = await h.service.getClient('custom');
  const outcome = await client.graphql('{ shop { name } }').then(() => 'ok', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`);
  expect(outcome).toBe('ok');
  expect(h.sim.oauth.stats.clientCredentials).toBe(grants + 1);
});
