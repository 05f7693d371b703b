/**
 * A tenant moved to another shop (addTenant/updateTenant with a different shopDomain), through the
 * facade with a real PostgreSQL database and the Shopify simulator over HTTP:
 * - another process still holding the tenant's client for the old shop never sends the new shop's
 *   token there, renews nothing, leaves the tenant `ok` (TENANT_SHOP_CHANGED), and its next
 *   getClient is the new shop's;
 * - in the process that moves it, the tenant's running import (old shop) stops, and no further
 *   request reaches the old shop.
 * Each test has its own tenant and shops; they share the database and the simulator.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestionService, signSessionToken, type IngestionService, type IngestionServiceOptions } from '../../src/index.js';
import { RESOURCE_NAMES } from '../../src/resources/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const QUIET = '0 0 1 1 *';
const quietSyncConfig = { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { schedule: QUIET }])), fullSync: { schedule: QUIET } };
const CLIENT_ID = 'moved-shop-app';
const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const API_SECRET = `moved_shop_${randomBytes(6).toString('hex')}`;

interface SentRequest { url: string; token: string | null }

let db: TestDatabase;
let sim: ShopifySimulator;
const sent: SentRequest[] = [];
// While set, requests to URLs starting with `held.origin` wait for `held.release` (a run caught mid-request).
let held: { origin: string; reached: () => void; release: Promise<void> } | null = null;
const services: IngestionService[] = [];

async function recordingFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const url = String(input instanceof Request ? input.url : input);
  sent.push({ url, token: new Headers(init?.headers).get('x-shopify-access-token') });
  if (held && url.startsWith(held.origin)) {
    held.reached();
    await held.release;
  }
  return fetch(input, init);
}

/** One process of the app: its own service on the shared database. */
async function startProcess(): Promise<IngestionService> {
  const options: IngestionServiceOptions = {
    env: { ENCRYPTION_KEY, SHOPIFY_API_KEY: CLIENT_ID, SHOPIFY_API_SECRET: API_SECRET, LOG_LEVEL: 'silent' },
    scheduler: { enabled: false, syncConfig: quietSyncConfig },
    healthCheckIntervalMs: 0,
    clientDefaults: { retryOptions: { retries: 0, minTimeout: 10, maxTimeout: 50 }, fetch: recordingFetch },
  };
  const service = createIngestionService(db.database, options);
  await service.initialize();
  services.push(service);
  return service;
}

const shop = (domain: string) => sim.shops.find((s) => s.domain === domain)!;
const codeOf = (error: unknown) => (error as { code?: string } | null)?.code;

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_tenant_moved_shop' });
  sim = await createShopifySimulator({
    seed: 3, unthrottled: true, apiSecret: API_SECRET, oauth: { clientId: CLIENT_ID },
    shops: [
      { domain: 'old-a.myshopify.com', customers: 3 }, { domain: 'new-a.myshopify.com', customers: 3 },
      { domain: 'old-b.myshopify.com', customers: 30 }, { domain: 'new-b.myshopify.com', customers: 3 },
    ],
  });
}, 60_000);

afterAll(async () => {
  for (const service of services) await service.shutdown({ timeoutMs: 1000 }).catch(() => {});
  await sim?.stop();
  await db?.drop();
});

describe('a tenant moved to another shop', { timeout: 60_000 }, () => {
  it("another process's client of the old shop never gets the new shop's token, and the tenant stays ok", async () => {
    const oldShop = shop('old-a.myshopify.com');
    const newShop = shop('new-a.myshopify.com');
    const p1 = await startProcess();
    const sessionToken = signSessionToken({ shop: oldShop.domain, apiKey: CLIENT_ID, apiSecret: API_SECRET });
    await p1.addTenant('moved-a', { shopDomain: oldShop.domain, sessionToken }, { client: { baseUrl: oldShop.baseUrl } });
    // Process 2 restores the tenant's client (old shop) and uses it.
    const p2 = await startProcess();
    const staleClient = await p2.getClient('moved-a');
    await staleClient.graphql('{ shop { name } }');

    // Process 1 moves the tenant to the new shop, with a static token.
    await p1.addTenant('moved-a', { shopDomain: newShop.domain, accessToken: newShop.accessToken }, { client: { baseUrl: newShop.baseUrl } });
    // The old shop's token ends (uninstall, expiry): process 2's client gets a 401 there.
    sim.oauth.expireAccessTokens(oldShop);
    sent.length = 0;
    const failures: unknown[] = [];
    for (let i = 0; i < 2; i++) await staleClient.graphql('{ shop { name } }').catch((error: unknown) => failures.push(error));

    const toOldShop = sent.filter((s) => s.url.startsWith(oldShop.baseUrl));
    expect(toOldShop.filter((s) => s.token === newShop.accessToken), "requests to the old shop carrying the new shop's token").toEqual([]);
    expect(failures.map(codeOf)).toEqual(['TENANT_SHOP_CHANGED', 'TENANT_SHOP_CHANGED']);
    const tenant = await p1.getTenant('moved-a');
    expect({ authStatus: tenant?.authStatus, shopDomain: tenant?.shopDomain }, 'the tenant, valid for its new shop').toEqual({ authStatus: 'ok', shopDomain: newShop.domain });

    // Process 2 dropped the stale client: its next one is the new shop's, with the new shop's token.
    const client = await p2.getClient('moved-a');
    expect(client.shopDomain).toBe(newShop.domain);
    sent.length = 0;
    await client.graphql('{ shop { name } }');
    expect(sent.map((s) => ({ toNewShop: s.url.startsWith(newShop.baseUrl), newToken: s.token === newShop.accessToken }))).toEqual([{ toNewShop: true, newToken: true }]);
  });

  it('stops the running import of the old shop in the process that moves the tenant', async () => {
    const oldShop = shop('old-b.myshopify.com');
    const newShop = shop('new-b.myshopify.com');
    const service = await startProcess();
    await service.addTenant('moved-b', { shopDomain: oldShop.domain, accessToken: oldShop.accessToken }, { client: { baseUrl: oldShop.baseUrl } });

    // The import's next request to the old shop waits until the tenant has moved.
    let release!: () => void;
    const reached = new Promise<void>((resolve) => {
      held = { origin: oldShop.baseUrl, reached: resolve, release: new Promise<void>((r) => { release = r; }) };
    });
    const run = service.importData('moved-b', 'customers', { batchSize: 5 });
    const settled = run.then(() => null, (error: unknown) => error);
    await reached;
    try {
      await service.addTenant('moved-b', { shopDomain: newShop.domain, accessToken: newShop.accessToken }, { client: { baseUrl: newShop.baseUrl } });
    } finally {
      held = null;
      sent.length = 0;
      release();
    }

    const error = await settled;
    expect(codeOf(error), 'the run of the old shop was stopped').toBe('IMPORT_ABORTED');
    expect(sent.filter((s) => s.url.startsWith(oldShop.baseUrl)).map((s) => s.url), 'requests to the old shop after the move').toEqual([]);
    expect((await service.getClient('moved-b')).shopDomain).toBe(newShop.domain);
  });
});
