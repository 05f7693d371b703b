/**
 * Credentials handed to addTenant. (1) An expiring offline token taken over from another store (a
 * session storage being migrated) is often past its hour while its refresh token is good for weeks:
 * the tenant must be added (the access token renewed first), not refused as invalid. (2) A session
 * token is checked against the injected clock, like everything else. (3) A bad expiry names the
 * option the caller actually gave.
 */
import { expect, it } from 'vitest';
import { useAuthService } from './helpers/auth-service.js';
import { signSessionToken } from '../../src/auth/index.js';
import { obtainCredentials } from '../../src/auth/credentials.js';

const h = useAuthService({ prefix: 'si_auth_obtain', clientId: 'obtain-app', seed: 9, shops: [{ domain: 'obtain-migrated.myshopify.com', customers: 3 }] });
const { keyRing, clientId: CLIENT_ID, secret: SECRET } = h;
const app = () => ({ clientId: CLIENT_ID, clientSecrets: [SECRET] });

it('an expiring token whose access token expired is renewed with its refresh token and the tenant added', { timeout: 60_000 }, async () => {
  const shop = h.sim.shops[0];
  const session = signSessionToken({ shop: shop.domain, apiKey: CLIENT_ID, apiSecret: SECRET });
  const res = await fetch(`${shop.baseUrl}/admin/oauth/access_token`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: CLIENT_ID, client_secret: SECRET, grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: session, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token', requested_token_type: 'urn:shopify:params:oauth:token-type:offline-access-token', expiring: '1' }),
  });
  const given = await res.json() as { access_token: string; refresh_token: string };
  h.sim.oauth.expireAccessTokens(shop);
  const refreshes = h.sim.oauth.stats.refreshes;
  const added = await h.service.addTenant('migrated', {
    shopDomain: shop.domain, accessToken: given.access_token, refreshToken: given.refresh_token, expiresAt: new Date(Date.now() - 60_000), refreshTokenExpiresIn: 80 * 86_400,
  }, { client: { baseUrl: shop.baseUrl } }).then((t) => t.authStatus, (e: { code?: string }) => e.code);
  expect(added).toBe('ok');
  expect(h.sim.oauth.stats.refreshes).toBe(refreshes + 1);
  const row = (await h.service.store.getTenant('migrated'))!;
  // The renewed pair is stored (the rotated refresh token included), and it works.
  expect(keyRing.decrypt(row.accessTokenEnc!, 'migrated')).not.toBe(given.access_token);
  expect(keyRing.decrypt(row.refreshTokenEnc!, 'migrated')).not.toBe(given.refresh_token);
  expect(row.accessTokenExpiresAt!.getTime()).toBeGreaterThan(Date.now());
  await expect((await h.service.getClient('migrated')).graphql('{ shop { name } }')).resolves.toBeTruthy();
});

it('a session token is verified with the injected clock', async () => {
  const at = new Date('2026-01-01T00:00:00Z');
  const sessionToken = signSessionToken({ shop: 'clock.myshopify.com', apiKey: CLIENT_ID, apiSecret: SECRET, now: at });
  const tokenEndpoint = (async () => new Response(JSON.stringify({ access_token: 'shpat_clock', expires_in: 3600, refresh_token: 'shprt_clock', refresh_token_expires_in: 7_776_000 }), { status: 200 })) as typeof fetch;
  const obtained = await obtainCredentials({ shopDomain: 'clock.myshopify.com', sessionToken }, 'clock.myshopify.com', { label: 'clock', resolveApp: app, fetch: tokenEndpoint, now: () => at.getTime() + 1000 });
  expect(obtained.kind).toBe('expiring');
  expect(obtained.tokens.accessTokenExpiresAt!.getTime()).toBe(at.getTime() + 1000 + 3600_000);
});

it('a bad expiry is reported under the name of the option given', async () => {
  const base = { shopDomain: 'names.myshopify.com', accessToken: 'shpat_n', refreshToken: 'shprt_n' };
  const input = { label: 'names', resolveApp: app };
  await expect(obtainCredentials({ ...base, expiresIn: 'soon' as unknown as number }, base.shopDomain, input)).rejects.toThrow(/expiresIn must be a number/);
  await expect(obtainCredentials({ ...base, expiresIn: 3600, refreshTokenExpiresIn: 'later' as unknown as number }, base.shopDomain, input)).rejects.toThrow(/ refreshTokenExpiresIn must be a number/);
});
