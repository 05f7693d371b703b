/**
 * Waiting for another renewer. (1) A renewer that stalled past its lease (a slow token endpoint) while
 * another process took the lease must not hand back the stored token (the one Shopify just refused):
 * it waits for the new holder's token, as any other waiter does. (2) A caller's abort signal ends its
 * wait for a renewal held elsewhere (src/abort.ts: every wait of a call given a signal stops with it);
 * the renewal goes on for the tenant's other callers.
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
const CLIENT_ID = 'renewal-waits-app';
const SECRET = `rw_secret_${randomBytes(6).toString('hex')}`;
const QUIET = '0 0 1 1 *';
const quiet = { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { schedule: QUIET }])), fullSync: { schedule: QUIET } };
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });

let db: TestDatabase;
let sim: ShopifySimulator;
let service: IngestionService;

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_auth_renewal_waits' });
  sim = await createShopifySimulator({ seed: 8, unthrottled: true, apiSecret: SECRET, oauth: { clientId: CLIENT_ID }, shops: [{ domain: 'rw-lease.myshopify.com', customers: 3 }, { domain: 'rw-abort.myshopify.com', customers: 3 }] });
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

async function tenant(id: string, n: number) {
  const shop = sim.shops[n];
  await service.addTenant(id, { shopDomain: shop.domain, sessionToken: signSessionToken({ shop: shop.domain, apiKey: CLIENT_ID, apiSecret: SECRET }) }, { client: { baseUrl: shop.baseUrl } });
  const stored = async () => keyRing.decrypt((await service.store.getTenant(id))!.accessTokenEnc!, id);
  /** A process's token source whose token requests take `delayMs` to reach Shopify. */
  const source = (delayMs: number, leaseTtlMs: number) => createStoredTokenSource({
    tenantId: id, store: service.store, keyRing, resolveApp: () => ({ clientId: CLIENT_ID, clientSecrets: [SECRET] }), baseUrl: shop.baseUrl, leaseTtlMs,
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
  await db.query(`UPDATE shopify_tenants SET access_token_expires_at = now() - interval '1 second', renewal_holder = 'crashed', renewal_until = now() + interval '3 seconds' WHERE id = 'abort'`);
  const waiter = source(0, 3000);
  const started = Date.now();
  const outcome = await waiter.getToken(AbortSignal.timeout(100)).then(() => 'token', (e: Error) => e.name);
  expect({ outcome, promptly: Date.now() - started < 1000 }).toEqual({ outcome: 'TimeoutError', promptly: true });
  // Without a signal the wait goes on until the lease runs out, then this process renews.
  const token = await waiter.getToken();
  expect(token).not.toBe(before);
  expect(token).toBe(await stored());
});
