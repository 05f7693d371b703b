/**
 * Renewal edge cases. (1) A renewal failing with the tenant's old refresh token (revoked when the
 * merchant uninstalled) while the merchant re-authorises (updateTenant, another process) must not
 * mark the freshly re-authorised tenant `needs_reauth`: the credentials stored last work.
 * (2) docs/configuration.md: "renews the access token 5 minutes before it expires
 * (tokenRenewal.renewBeforeMs, default 5 minutes, at most half the token's life)". A token issued
 * 59 minutes ago with 1 minute left must be renewed by a process that reads it from the database,
 * whatever else wrote the tenant row in between (a sync's status update).
 */
import { expect, it } from 'vitest';
import { useAuthService } from './helpers/auth-service.js';
import { signSessionToken } from '../../src/auth/index.js';
import { createStoredTokenSource } from '../../src/auth/stored-token-source.js';

const h = useAuthService({ prefix: 'si_auth_renewal_edges', clientId: 'renewal-edges-app', seed: 6, shops: [{ domain: 'rv-margin-a.myshopify.com', customers: 3 }, { domain: 'rv-margin-b.myshopify.com', customers: 3 }, { domain: 'rv-margin-c.myshopify.com', customers: 3 }, { domain: 'rv-margin-d.myshopify.com', customers: 3 }, { domain: 'rv-reauth.myshopify.com', customers: 3 }] });
const { keyRing, clientId: CLIENT_ID, secret: SECRET } = h;

/** A tenant whose hour-long token was issued 59 minutes ago (as stored by the renewal that made it). */
async function agedTenant(id: string, n: number) {
  const shop = h.sim.shops[n];
  await h.service.addTenant(id, { shopDomain: shop.domain, sessionToken: signSessionToken({ shop: shop.domain, apiKey: CLIENT_ID, apiSecret: SECRET }) }, { client: { baseUrl: shop.baseUrl } });
  await h.db.query(`UPDATE shopify_tenants SET access_token_expires_at = now() + interval '60 seconds', access_token_issued_at = now() - interval '3540 seconds', updated_at = now() - interval '3540 seconds' WHERE id = $1`, [id]);
  const stored = keyRing.decrypt((await h.service.store.getTenant(id))!.accessTokenEnc!, id);
  const source = createStoredTokenSource({ tenantId: id, store: h.service.store, keyRing, resolveApp: () => ({ clientId: CLIENT_ID, clientSecrets: [SECRET] }), baseUrl: shop.baseUrl });
  return { stored, source };
}

it('control: with nothing else written to the row, the token in its last 5 minutes is renewed', { timeout: 60_000 }, async () => {
  const { stored, source } = await agedTenant('control', 0);
  const refreshes = h.sim.oauth.stats.refreshes;
  expect(await source.getToken()).not.toBe(stored);
  expect(h.sim.oauth.stats.refreshes).toBe(refreshes + 1);
});

it('after a sync status update of the row, the token in its last 5 minutes is still renewed', { timeout: 60_000 }, async () => {
  const { stored, source } = await agedTenant('synced', 1);
  // A sync finished (any process): setTenantSyncStatus bumps updated_at, nothing about the token changed.
  await h.service.store.setTenantSyncStatus('synced', 'idle', { lastSyncAt: new Date() });
  const refreshes = h.sim.oauth.stats.refreshes;
  const token = await source.getToken();
  expect({ renewed: token !== stored, refreshes: h.sim.oauth.stats.refreshes - refreshes }).toEqual({ renewed: true, refreshes: 1 });
});

it('a short-lived token is not renewed before half its life; one whose issue time is unknown gets the whole margin', { timeout: 60_000 }, async () => {
  const { stored: young, source: youngSource } = await agedTenant('young', 2);
  // Issued now, 60 s of life: half of it (30 s) is the margin, not 5 minutes.
  await h.db.query(`UPDATE shopify_tenants SET access_token_expires_at = now() + interval '60 seconds', access_token_issued_at = now() WHERE id = 'young'`);
  const before = h.sim.oauth.stats.refreshes;
  expect(await youngSource.getToken()).toBe(young);
  expect(h.sim.oauth.stats.refreshes).toBe(before);
  // A row written before the issue time was recorded: 4 minutes left is inside the 5-minute margin.
  const { stored: legacy, source: legacySource } = await agedTenant('legacy', 3);
  await h.db.query(`UPDATE shopify_tenants SET access_token_expires_at = now() + interval '240 seconds', access_token_issued_at = NULL, updated_at = now() WHERE id = 'legacy'`);
  expect(await legacySource.getToken()).not.toBe(legacy);
  expect(h.sim.oauth.stats.refreshes).toBe(before + 1);
});

it('a renewal failing with the old refresh token does not undo a concurrent re-authorisation', { timeout: 60_000 }, async () => {
  const shop = h.sim.shops[4];
  const session = () => signSessionToken({ shop: shop.domain, apiKey: CLIENT_ID, apiSecret: SECRET });
  await h.service.addTenant('t', { shopDomain: shop.domain, sessionToken: session() }, { client: { baseUrl: shop.baseUrl } });
  const old = await h.service.store.getTenant('t');
  const oldToken = keyRing.decrypt(old!.accessTokenEnc!, 't');

  // The merchant uninstalls: the old refresh token is revoked, the old access token refused.
  h.sim.oauth.revokeRefreshTokens(shop);
  h.sim.oauth.expireAccessTokens(shop);

  // Process A (a sync) got a 401 and renews. While its refresh request is on its way, the merchant
  // reinstalls and the host (process B) stores new credentials with updateTenant.
  let reauthorised = false;
  const reauthCalls: string[] = [];
  const sourceA = createStoredTokenSource({
    tenantId: 't', store: h.service.store, keyRing, resolveApp: () => ({ clientId: CLIENT_ID, clientSecrets: [SECRET] }), baseUrl: shop.baseUrl,
    onReauthRequired: (t) => { reauthCalls.push(t.reason); },
    fetch: async (url, init) => {
      if (!reauthorised) {
        reauthorised = true;
        await h.service.updateTenant('t', { shopDomain: shop.domain, sessionToken: session() });
      }
      return globalThis.fetch(url, init);
    },
  });
  const got = await sourceA.onUnauthorized(oldToken).catch((e: { code?: string }) => e.code);
  expect(reauthorised).toBe(true);

  // The tenant's stored credentials are the new, working ones: it must not be needs_reauth, and A uses them.
  const now = await h.service.store.getTenant('t');
  const newToken = keyRing.decrypt(now!.accessTokenEnc!, 't');
  expect(newToken).not.toBe(oldToken);
  expect(got).toBe(newToken);
  const probe = await fetch(`${shop.baseUrl}/admin/api/2026-10/graphql.json`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-access-token': newToken }, body: JSON.stringify({ query: '{ shop { name } }' }) });
  expect(probe.status).toBe(200); // the stored credentials work
  expect({ authStatus: now!.authStatus, authError: now!.authError, onReauthRequired: reauthCalls }).toEqual({ authStatus: 'ok', authError: null, onReauthRequired: [] });
});
