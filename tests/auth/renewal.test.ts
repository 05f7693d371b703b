/**
 * Renewal across processes and over a long sync: real child processes race for one tenant's renewal
 * (one refresh happens, every process ends with the same new token), and a sync that outlives several
 * token lifetimes completes with no request refused for an expired token.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSessionToken } from '../../src/auth/index.js';
import { createIngestionService, type IngestionService } from '../../src/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { RESOURCE_NAMES } from '../../src/resources/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const CLIENT_ID = 'renew-app';
const SECRET = `renew_secret_${randomBytes(6).toString('hex')}`;
const env = { ENCRYPTION_KEY, SHOPIFY_API_KEY: CLIENT_ID, SHOPIFY_API_SECRET: SECRET, LOG_LEVEL: 'silent' };
const QUIET = '0 0 1 1 *';

let db: TestDatabase;
let sim: ShopifySimulator;
let service: IngestionService;

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_renew' });
  sim = await createShopifySimulator({ seed: 5, unthrottled: true, apiSecret: SECRET, oauth: { clientId: CLIENT_ID }, shops: [{ customers: 200, products: 60, orders: 600 }, { customers: 5 }] });
  service = createIngestionService(db.database, {
    env, healthCheckIntervalMs: 0, scheduler: { enabled: false, syncConfig: { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { schedule: QUIET }])), fullSync: { schedule: QUIET } } },
    clientDefaults: { retryOptions: { minTimeout: 10, maxTimeout: 50 } }, bulk: { minPollMs: 20, maxPollMs: 100 },
  });
  await service.initialize();
}, 60_000);
afterAll(async () => {
  await service?.shutdown({ timeoutMs: 1000 });
  await sim?.stop();
  await db?.drop();
});

function child(extra: Record<string, string>): Promise<{ rejected: string; token: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/renew-child.ts')], { cwd: root, env: { ...process.env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', stderr = '';
    p.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    p.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    p.on('error', reject);
    p.on('exit', () => { try { resolve({ ...JSON.parse(out.trim().split('\n').at(-1) ?? '{}'), stderr }); } catch (error) { reject(new Error(`child output: ${out} ${stderr}`)); } });
  });
}

describe('token renewal', { timeout: 180_000 }, () => {
  it('processes racing to renew one tenant make exactly one refresh and all use the new token', async () => {
    const shop = sim.shops[1];
    await service.addTenant('shared', { shopDomain: shop.domain, sessionToken: signSessionToken({ shop: shop.domain, apiKey: CLIENT_ID, apiSecret: SECRET }) }, { client: { baseUrl: shop.baseUrl } });
    const refreshes = sim.oauth.stats.refreshes;
    const refused = sim.oauth.stats.refused;
    const current = await (await service.getClient('shared')).graphql('{ shop { name } }').then(async () => {
      const row = (await db.query('SELECT access_token_enc FROM shopify_tenants WHERE id = $1', ['shared']))[0];
      return service.keyRing.decrypt(row.access_token_enc, 'shared');
    });
    const startAt = String(Date.now() + 4000);
    const results = await Promise.all(Array.from({ length: 4 }, () => child({
      RENEW_DATABASE_URL: db.url, RENEW_TENANT: 'shared', RENEW_KEY: ENCRYPTION_KEY, RENEW_CLIENT_ID: CLIENT_ID, RENEW_SECRET: SECRET, RENEW_BASE_URL: shop.baseUrl, RENEW_START_AT: startAt, RENEW_REJECTED: current,
    })));
    for (const r of results) expect(r.stderr).not.toMatch(/Error/);
    expect(new Set(results.map((r) => r.rejected)).size).toBe(1);
    expect(new Set(results.map((r) => r.token)).size).toBe(1);
    expect(results[0].token).not.toBe(results[0].rejected);
    expect(sim.oauth.stats.refreshes).toBe(refreshes + 1);
    expect(sim.oauth.stats.refused).toBe(refused);
    // The token every process ended with is the one stored, and it works.
    const client = await service.getClient('shared');
    await expect(client.graphql('{ shop { name } }')).resolves.toBeTruthy();
  });

  it('a full sync spanning several token lifetimes completes with no request refused for an expired token', async () => {
    const shop = sim.shops[0];
    sim.oauth.configure({ accessTokenTtlSeconds: 1 });
    await service.addTenant('long', { shopDomain: shop.domain, sessionToken: signSessionToken({ shop: shop.domain, apiKey: CLIENT_ID, apiSecret: SECRET }) }, { client: { baseUrl: shop.baseUrl } });
    const refreshes = sim.oauth.stats.refreshes;
    const expired = sim.oauth.stats.expiredTokenRequests;
    const started = Date.now();
    const rest = await service.importData('long', 'all', { source: 'rest', pageSize: 20 });
    const graphql = await service.importData('long', 'all', { mode: 'full' });
    const seconds = (Date.now() - started) / 1000;
    for (const result of [rest, graphql]) for (const r of Object.values(result)) expect(r).toMatchObject({ status: 'succeeded', failed: 0 });
    expect(seconds).toBeGreaterThan(3);
    expect(sim.oauth.stats.refreshes - refreshes).toBeGreaterThanOrEqual(3);
    expect(sim.oauth.stats.expiredTokenRequests).toBe(expired);
    expect(sim.oauth.stats.refused).toBe(0);
    sim.oauth.configure({ accessTokenTtlSeconds: 3600 });
  });
});
