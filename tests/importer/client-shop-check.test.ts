/**
 * `createImportService(prisma, client, tenantId)` with a client of another shop than the tenant's
 * wrote that shop's records into the tenant (one tenant seeing another's data). A `ShopifyClient`
 * talking to the shop itself is now checked against the registered tenant before anything is sent.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyClient } from '../../src/client/index.js';
import { createKeyRing } from '../../src/crypto/index.js';
import { createImportService } from '../../src/importer/index.js';
import { createStore } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const keyRing = createKeyRing({ key: randomBytes(32).toString('base64') });
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_client_shop' });
  await createStore(db.database).upsertTenant({ id: 'shop-a', shopDomain: 'shop-a.myshopify.com', accessTokenEnc: 'x' });
}, 60_000);
afterAll(async () => {
  await db?.drop();
});

const runs = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM shopify_sync_runs WHERE tenant_id = $1', ['shop-a']))[0].n;

describe('the client of another shop', () => {
  it('is refused before anything is sent or recorded (CONFIG_INVALID)', async () => {
    let requests = 0;
    const fetch = (async () => { requests++; throw new Error('must not be called'); }) as unknown as typeof globalThis.fetch;
    const client = createShopifyClient({ shopDomain: 'shop-b.myshopify.com', accessToken: 'shpat_x', fetch, retryOptions: { retries: 0 } });
    const importer = createImportService(db.database, client, 'shop-a', { keyRing });
    const error = await importer.importOrders().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((error as Error).message).toContain('is for shop-b.myshopify.com, but the tenant\'s shop is shop-a.myshopify.com');
    expect(requests).toBe(0);
    expect(await runs()).toBe(0);
    await client.close();
  });

  it('of the same shop (any letter case) goes on to sync; behind a baseUrl the host is not checked', async () => {
    // A port nothing listens on: the run starts and fails on the network, past the check.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const same = createShopifyClient({ shopDomain: 'Shop-A.myshopify.com', accessToken: 'shpat_x', fetch: (async () => { throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }); }) as unknown as typeof globalThis.fetch, retryOptions: { retries: 0 } });
    const proxied = createShopifyClient({ shopDomain: 'shop-b.myshopify.com', accessToken: 'shpat_x', baseUrl: `http://127.0.0.1:${port}`, retryOptions: { retries: 0 } });
    for (const client of [same, proxied]) {
      const error = await createImportService(db.database, client, 'shop-a', { keyRing, sleep: async () => {} }).importOrders().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'SHOPIFY_NETWORK_ERROR' });
      await client.close();
    }
    expect(await runs()).toBe(2);
  });
});
