/**
 * Credentials that renew themselves, end to end: the facade on real PostgreSQL, the simulator's token
 * endpoint over real HTTP (expiring tokens with lifetimes of seconds, refresh-token rotation, faults).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signSessionToken } from '../../src/auth/index.js';
import { createStoredTokenSource } from '../../src/auth/stored-token-source.js';
import { createKeyRing } from '../../src/crypto/index.js';
import { createIngestionService, ShopifyIngestError, type IngestionService, type IngestionServiceOptions } from '../../src/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { testDatabaseConfig } from '../helpers/pg-config.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { RESOURCE_NAMES } from '../../src/resources/index.js';

const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const CLIENT_ID = 'creds-app';
const SECRET = `creds_secret_${randomBytes(6).toString('hex')}`;
const env = { ENCRYPTION_KEY, SHOPIFY_API_KEY: CLIENT_ID, SHOPIFY_API_SECRET: SECRET, LOG_LEVEL: 'silent' };
const QUIET = '0 0 1 1 *';
const quiet = { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { schedule: QUIET }])), fullSync: { schedule: QUIET } };
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });

let db: TestDatabase;
let sim: ShopifySimulator;
const services: IngestionService[] = [];

function service(options: IngestionServiceOptions = {}): IngestionService {
  const s = createIngestionService(db.database, {
    env, scheduler: { syncConfig: quiet, enabled: false }, healthCheckIntervalMs: 0, bulk: { minPollMs: 10, maxPollMs: 50 },
    clientDefaults: { retryOptions: { minTimeout: 10, maxTimeout: 50 } }, ...options,
  });
  services.push(s);
  return s;
}

/** An expiring offline token for shop `n`, issued by the simulator (what the host's OAuth callback would receive). */
async function oauthTokens(n: number) {
  const shop = sim.shops[n];
  const session = signSessionToken({ shop: shop.domain, apiKey: CLIENT_ID, apiSecret: SECRET });
  const res = await fetch(`${shop.baseUrl}/admin/oauth/access_token`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: CLIENT_ID, client_secret: SECRET, grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: session, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token', requested_token_type: 'urn:shopify:params:oauth:token-type:offline-access-token', expiring: '1' }),
  });
  expect(res.status).toBe(200);
  return res.json() as Promise<{ access_token: string; expires_in: number; refresh_token: string; refresh_token_expires_in: number; scope: string }>;
}

const row = async (tenantId: string) => (await db.query('SELECT * FROM shopify_tenants WHERE id = $1', [tenantId]))[0];

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_creds' });
  sim = await createShopifySimulator({
    seed: 21, unthrottled: true, apiSecret: SECRET, oauth: { clientId: CLIENT_ID, accessTokenTtlSeconds: 3600 },
    shops: Array.from({ length: 16 }, (_, i) => ({ domain: `creds-${i}.myshopify.com`, customers: 30, products: 10, orders: 40 })),
  });
}, 60_000);
afterAll(async () => {
  for (const s of services) await s.shutdown({ timeoutMs: 1000 }).catch(() => {});
  await sim?.stop();
  await db?.drop();
});
beforeEach(() => {
  sim.oauth.configure({ accessTokenTtlSeconds: 3600, rejectNonExpiring: false, clientSecrets: [SECRET] });
});

describe('credential kinds', { timeout: 120_000 }, () => {
  it('an expiring offline token is stored encrypted with both expiries and renewed before it expires, the rotated refresh token persisted first', async () => {
    const s = service({ tokenRenewal: { renewBeforeMs: 60_000 } });
    await s.initialize();
    const shop = sim.shops[0];
    const t = await oauthTokens(0);
    await s.addTenant('exp', { shopDomain: shop.domain, accessToken: t.access_token, refreshToken: t.refresh_token, expiresIn: 2, refreshTokenExpiresIn: t.refresh_token_expires_in }, { client: { baseUrl: shop.baseUrl } });
    const before = await row('exp');
    expect(before).toMatchObject({ token_kind: 'expiring', auth_status: 'ok' });
    expect(keyRing.decrypt(before.access_token_enc, 'exp')).toBe(t.access_token);
    expect(keyRing.decrypt(before.refresh_token_enc, 'exp')).toBe(t.refresh_token);
    expect(before.access_token_expires_at.getTime() - Date.now()).toBeLessThan(2_100);
    // A token that lives 2 s is renewed in the second half of its life (the margin is at most half of it).
    await new Promise((r) => setTimeout(r, 1_200));
    const refreshes = sim.oauth.stats.refreshes;
    const client = await s.getClient('exp');
    await client.graphql('{ shop { name } }');
    expect(sim.oauth.stats.refreshes).toBe(refreshes + 1);
    const after = await row('exp');
    expect(after.token_version).toBe(before.token_version + 1);
    expect(keyRing.decrypt(after.refresh_token_enc, 'exp')).not.toBe(t.refresh_token);
    expect(after.access_token_expires_at.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
    // No second renewal while the new token is fresh.
    await client.graphql('{ shop { name } }');
    expect(sim.oauth.stats.refreshes).toBe(refreshes + 1);
  });

  it('a 401 renews once and retries the request once', async () => {
    const s = service();
    await s.initialize();
    const shop = sim.shops[1];
    const t = await oauthTokens(1);
    await s.addTenant('e401', { shopDomain: shop.domain, accessToken: t.access_token, refreshToken: t.refresh_token, expiresIn: t.expires_in }, { client: { baseUrl: shop.baseUrl } });
    const client = await s.getClient('e401');
    sim.oauth.expireAccessTokens(shop);
    const refreshes = sim.oauth.stats.refreshes;
    const data = await client.graphql<{ shop: { name: string } }>('{ shop { name } }');
    expect(data.shop.name).toBe(shop.name);
    expect(sim.oauth.stats.refreshes).toBe(refreshes + 1);
  });

  it('a session token is exchanged for an expiring offline token (token exchange)', async () => {
    const s = service();
    await s.initialize();
    const shop = sim.shops[2];
    const sessionToken = signSessionToken({ shop: shop.domain, apiKey: CLIENT_ID, apiSecret: SECRET });
    const exchanges = sim.oauth.stats.exchanges;
    await s.addTenant('te', { shopDomain: shop.domain, sessionToken }, { client: { baseUrl: shop.baseUrl } });
    expect(sim.oauth.stats.exchanges).toBe(exchanges + 1);
    expect(await row('te')).toMatchObject({ token_kind: 'expiring' });
    expect((await row('te')).refresh_token_enc).toMatch(/^v1\./);
    // A session token for another shop is refused before anything is sent.
    const other = signSessionToken({ shop: sim.shops[3].domain, apiKey: CLIENT_ID, apiSecret: SECRET });
    await expect(s.addTenant('te2', { shopDomain: sim.shops[15].domain, sessionToken: other }, { client: { baseUrl: sim.shops[15].baseUrl } })).rejects.toThrow(/session token is for/);
  });

  it('client credentials: the SDK requests its own token and a new one when it expires (no refresh token)', async () => {
    const s = service({ tokenRenewal: { renewBeforeMs: 0 } });
    await s.initialize();
    const shop = sim.shops[3];
    sim.oauth.configure({ clientCredentialsTtlSeconds: 1 });
    await s.addTenant('cc', { shopDomain: shop.domain, clientCredentials: true }, { client: { baseUrl: shop.baseUrl } });
    expect(await row('cc')).toMatchObject({ token_kind: 'client_credentials', refresh_token_enc: null });
    const grants = sim.oauth.stats.clientCredentials;
    await new Promise((r) => setTimeout(r, 1100));
    const client = await s.getClient('cc');
    await client.graphql('{ shop { name } }');
    expect(sim.oauth.stats.clientCredentials).toBe(grants + 1);
    sim.oauth.configure({ clientCredentialsTtlSeconds: 86_400 });
  });

  it('addTenant tells refused credentials (not retryable) from an unreachable Shopify (retryable); nothing is saved', async () => {
    const s = service();
    await s.initialize();
    const shop = sim.shops[4];
    const refused = await s.addTenant('bad', { shopDomain: shop.domain, accessToken: 'shpat_wrong' }, { client: { baseUrl: shop.baseUrl } }).catch((e) => e);
    expect(refused).toMatchObject({ code: 'TENANT_CREDENTIALS_INVALID', retryable: false });
    const down = await s.addTenant('down', { shopDomain: shop.domain, accessToken: shop.accessToken }, { client: { baseUrl: 'http://127.0.0.1:9', timeoutMs: 500 } }).catch((e) => e);
    expect(down).toMatchObject({ code: 'TENANT_CREDENTIALS_UNVERIFIED', retryable: true });
    sim.faults.configure({ script: ['server_error', 'server_error', 'server_error'] });
    const failing = await s.addTenant('fivexx', { shopDomain: shop.domain, accessToken: shop.accessToken }, { client: { baseUrl: shop.baseUrl } }).catch((e) => e);
    sim.faults.clear();
    expect(failing).toMatchObject({ code: 'TENANT_CREDENTIALS_UNVERIFIED', retryable: true });
    expect(await db.query(`SELECT id FROM shopify_tenants WHERE id IN ('bad', 'down', 'fivexx')`)).toEqual([]);
  });
});

describe('renewal faults', { timeout: 120_000 }, () => {
  async function expiringTenant(s: IngestionService, id: string, n: number) {
    const shop = sim.shops[n];
    const t = await oauthTokens(n);
    await s.addTenant(id, { shopDomain: shop.domain, accessToken: t.access_token, refreshToken: t.refresh_token, expiresIn: t.expires_in }, { client: { baseUrl: shop.baseUrl } });
    sim.oauth.expireAccessTokens(shop);
    return { shop, client: await s.getClient(id) };
  }

  it('a 5xx, a malformed answer or a timeout of the token endpoint fails retryably and loses no credential; the next try works', async () => {
    const s = service({ tokenRenewal: { timeoutMs: 300 } });
    await s.initialize();
    const { client } = await expiringTenant(s, 'flaky', 5);
    for (const fault of ['server_error', 'malformed', 'timeout'] as const) {
      const before = await row('flaky');
      sim.oauth.fail(fault, fault, fault, fault, fault);
      const error = await client.graphql('{ shop { name } }').catch((e) => e);
      expect(error, fault).toMatchObject({ retryable: true });
      const now = await row('flaky');
      expect(now.refresh_token_enc).toBe(before.refresh_token_enc);
      expect(now.auth_status).toBe('ok');
      // The faults used up, the next call renews and works.
      for (let i = 0; i < 5 && (await client.graphql('{ shop { name } }').then(() => 'ok', () => 'failed')) === 'failed'; i++) { /* drains the queued faults */ }
      await expect(client.graphql('{ shop { name } }')).resolves.toBeTruthy();
      sim.oauth.expireAccessTokens(sim.shops[5]);
    }
  });

  it('an answer lost after Shopify rotated is recovered by refreshing again with the stored token; a token expired on arrival is renewed once more', async () => {
    const s = service();
    await s.initialize();
    const { client } = await expiringTenant(s, 'lost', 6);
    sim.oauth.fail('lost_response');
    await expect(client.graphql('{ shop { name } }')).resolves.toBeTruthy();
    sim.oauth.expireAccessTokens(sim.shops[6]);
    const refreshes = sim.oauth.stats.refreshes;
    sim.oauth.fail('expired_on_arrival');
    await expect(client.graphql('{ shop { name } }')).resolves.toBeTruthy();
    expect(sim.oauth.stats.refreshes).toBe(refreshes + 2);
    expect((await row('lost')).auth_status).toBe('ok');
  });

  it('two renewals racing (two processes share the tenant) make one refresh; nobody uses a rotated refresh token', async () => {
    const s = service();
    await s.initialize();
    const { shop } = await expiringTenant(s, 'race', 7);
    const store = s.store;
    const sources = Array.from({ length: 6 }, () => createStoredTokenSource({
      tenantId: 'race', store, keyRing, resolveApp: () => ({ clientId: CLIENT_ID, clientSecrets: [SECRET] }), baseUrl: shop.baseUrl,
    }));
    const [current] = await Promise.all(sources.map((source) => source.getToken()));
    const refreshes = sim.oauth.stats.refreshes;
    const refused = sim.oauth.stats.refused;
    // Shopify refused the current token everywhere at once: every source asks for a new one.
    const renewed = await Promise.all(sources.map((source) => source.onUnauthorized(current)));
    expect(new Set(renewed).size).toBe(1);
    expect(renewed[0]).not.toBe(current);
    expect(sim.oauth.stats.refreshes).toBe(refreshes + 1);
    expect(sim.oauth.stats.refused).toBe(refused);
  });

  it('a revoked refresh token moves the tenant to needs_reauth: typed error, callback, no scheduled runs; updateTenant resumes it', async () => {
    const reauth: string[] = [];
    const s = service({ onReauthRequired: (t) => { reauth.push(t.tenantId); } });
    await s.initialize();
    const { shop, client } = await expiringTenant(s, 'revoked', 8);
    sim.oauth.revokeRefreshTokens(shop);
    const error = await client.graphql('{ shop { name } }').catch((e) => e);
    expect(error).toMatchObject({ code: 'TENANT_NEEDS_REAUTH', retryable: false });
    expect(reauth).toEqual(['revoked']);
    expect(await row('revoked')).toMatchObject({ auth_status: 'needs_reauth' });
    expect((await s.getSyncStatus()).find((x) => x.tenantId === 'revoked')).toMatchObject({ authStatus: 'needs_reauth', healthStatus: false });
    expect(await s.checkHealth()).toMatchObject({ status: 'degraded', services: { tenants: { needsReauth: expect.arrayContaining(['revoked']) } } });
    await expect(s.importData('revoked', 'customers')).rejects.toMatchObject({ code: 'TENANT_NEEDS_REAUTH' });
    // importData('all') too: the root cause's code and retryability at the top, every failure listed.
    const all = await s.importData('revoked', 'all').catch((e: unknown) => e) as ShopifyIngestError;
    expect(all).toBeInstanceOf(ShopifyIngestError);
    expect(all).toMatchObject({ code: 'TENANT_NEEDS_REAUTH', retryable: false });
    expect(all.details.errors).toEqual(expect.arrayContaining([expect.objectContaining({ resource: 'customers', code: 'TENANT_NEEDS_REAUTH' })]));
    // A second failing call does not call the callback again nor hit the token endpoint.
    const refused = sim.oauth.stats.refused;
    await expect(client.graphql('{ shop { name } }')).rejects.toMatchObject({ code: 'TENANT_NEEDS_REAUTH' });
    expect(sim.oauth.stats.refused).toBe(refused);
    expect(reauth).toEqual(['revoked']);
    // The merchant opens the app again: a new session token re-authorises, syncing resumes.
    await s.updateTenant('revoked', { shopDomain: shop.domain, sessionToken: signSessionToken({ shop: shop.domain, apiKey: CLIENT_ID, apiSecret: SECRET }) });
    expect(await row('revoked')).toMatchObject({ auth_status: 'ok', token_kind: 'expiring' });
    const result = await s.importData('revoked', 'customers');
    expect(result).toMatchObject({ status: 'succeeded' });
  });

  it('the app secret rotated: the previous secret is still tried; a secret Shopify no longer accepts means needs_reauth', async () => {
    const NEW = `rotated_${randomBytes(4).toString('hex')}`;
    const s = service({ env: { ...env, SHOPIFY_API_SECRET: NEW, SHOPIFY_API_SECRET_PREVIOUS: SECRET } });
    await s.initialize();
    const { client } = await expiringTenant(s, 'rotating', 9);
    // Shopify still knows only the old secret: the new one is refused, the previous one works.
    await expect(client.graphql('{ shop { name } }')).resolves.toBeTruthy();
    sim.oauth.configure({ clientSecrets: [NEW] });
    sim.oauth.expireAccessTokens(sim.shops[9]);
    await expect(client.graphql('{ shop { name } }')).resolves.toBeTruthy();
  });

  it("public apps' non-expiring tokens are refused (2027-01-01): a static tenant moves to needs_reauth", async () => {
    const s = service();
    await s.initialize();
    const shop = sim.shops[10];
    await s.addTenant('legacy', { shopDomain: shop.domain, accessToken: shop.accessToken }, { client: { baseUrl: shop.baseUrl } });
    sim.oauth.configure({ rejectNonExpiring: true });
    const client = await s.getClient('legacy');
    await expect(client.graphql('{ shop { name } }')).rejects.toMatchObject({ code: 'TENANT_NEEDS_REAUTH' });
    expect((await row('legacy')).auth_error).toMatch(/static access token/);
  });

  it('a database dump holds no access token, refresh token or client secret in plain text', async () => {
    const secrets = new Set<string>();
    const s = service();
    await s.initialize();
    const shop = sim.shops[11];
    const t = await oauthTokens(11);
    await s.addTenant('dump', { shopDomain: shop.domain, accessToken: t.access_token, refreshToken: t.refresh_token, expiresIn: t.expires_in }, { client: { baseUrl: shop.baseUrl } });
    await s.addTenant('dump-cc', { shopDomain: sim.shops[12].domain, clientCredentials: { clientId: CLIENT_ID, clientSecret: SECRET } }, { client: { baseUrl: sim.shops[12].baseUrl } });
    for (const x of [t.access_token, t.refresh_token, SECRET, shop.accessToken]) secrets.add(x);
    for (const r of await db.query('SELECT id, access_token_enc, refresh_token_enc FROM shopify_tenants')) {
      if (r.access_token_enc) secrets.add(keyRing.decrypt(r.access_token_enc, r.id));
      if (r.refresh_token_enc) secrets.add(keyRing.decrypt(r.refresh_token_enc, r.id));
    }
    const c = testDatabaseConfig(db.name);
    const { stdout } = await promisify(execFile)('pg_dump', ['-h', c.host, '-p', String(c.port), '-U', c.user, '--data-only', db.name], { maxBuffer: 1 << 28, env: { ...process.env, PGPASSWORD: c.password ?? '' } });
    expect(stdout).toContain('COPY public.shopify_tenants');
    expect([...secrets].filter((x) => stdout.includes(x))).toEqual([]);
  });
});
