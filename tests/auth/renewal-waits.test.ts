/**
 * Waiting for another renewer. (1) A renewer that stalled past its lease (a slow token endpoint) while
 * another process took the lease must not hand back the stored token (the one Shopify just refused):
 * it waits for the new holder's token, as any other waiter does. (2) A caller's abort signal ends its
 * wait for a renewal held elsewhere (src/abort.ts: every wait of a call given a signal stops with it);
 * the renewal goes on for the tenant's other callers.
 */
import { expect, it } from 'vitest';
import { useAuthService } from './helpers/auth-service.js';
import { signSessionToken } from '../../src/auth/index.js';
import { createStoredTokenSource } from '../../src/auth/stored-token-source.js';

const h = useAuthService({ prefix: 'si_auth_renewal_waits', clientId: 'renewal-waits-app', seed: 8, shops: [{ domain: 'rw-lease.myshopify.com', customers: 3 }, { domain: 'rw-abort.myshopify.com', customers: 3 }] });
const { keyRing, clientId: CLIENT_ID, secret: SECRET } = h;

async function tenant(id: string, n: number) {
  const shop = h.sim.shops[n];
  await h.service.addTenant(id, { shopDomain: shop.domain, sessionToken: signSessionToken({ shop: shop.domain, apiKey: CLIENT_ID, apiSecret: SECRET }) }, { client: { baseUrl: shop.baseUrl } });
  const stored = async () => keyRing.decrypt((await h.service.store.getTenant(id))!.accessTokenEnc!, id);
  /** A process's token source whose token requests take `delayMs` to reach Shopify. */
  const source = (delayMs: number, leaseTtlMs: number) => createStoredTokenSource({
    tenantId: id, store: h.service.store, keyRing, resolveApp: () => ({ clientId: CLIENT_ID, clientSecrets: [SECRET] }), baseUrl: shop.baseUrl, leaseTtlMs,
    fetch: async (input, init) => { await new Promise((r) => setTimeout(r, delayMs)); return fetch(input, init); },
  });
  return { stored, source };
}

it('a renewer whose lease was taken over meanwhile ends with the new holder\'s token, not the refused one', { timeout: 60_000 }, async () => {
  const { stored, source } = await tenant('lease', 0);
  const refused = await stored();
  // A's token request (1.5 s) outlasts its 1 s lease; B takes the lease when it runs out and is still
  // renewing (0.8 s) when A's answer arrives and A finds the lease gone.
  const a = source(1500, 1000);
  const b = source(800, 1000);
  const fromA = a.onUnauthorized(refused);
  await new Promise((r) => setTimeout(r, 1050));
  const fromB = b.onUnauthorized(refused);
  const [tokenA, tokenB] = await Promise.all([fromA, fromB]);
  const now = await stored();
  expect(now).not.toBe(refused);
  expect({ a: tokenA === now, b: tokenB === now }).toEqual({ a: true, b: true });
  expect(b.renewals).toBe(1);
  expect(a.renewals).toBe(0);
});

it('getToken(signal) stops waiting for a renewal another process holds when the signal fires', { timeout: 60_000 }, async () => {
  const { stored, source } = await tenant('abort', 1);
  const before = await stored();
  // The token expired and a crashed process holds the renewal lease for 3 more seconds.
  await h.db.query(`UPDATE shopify_tenants SET access_token_expires_at = now() - interval '1 second', renewal_holder = 'crashed', renewal_until = now() + interval '3 seconds' WHERE id = 'abort'`);
  const waiter = source(0, 3000);
  const started = Date.now();
  const outcome = await waiter.getToken(AbortSignal.timeout(100)).then(() => 'token', (e: Error) => e.name);
  expect({ outcome, promptly: Date.now() - started < 1000 }).toEqual({ outcome: 'TimeoutError', promptly: true });
  // Without a signal the wait goes on until the lease runs out, then this process renews.
  const token = await waiter.getToken();
  expect(token).not.toBe(before);
  expect(token).toBe(await stored());
});
