/**
 * docs/importing.md: an inferred tombstone (id reconciliation) "is revocable: a record Shopify lists
 * again is live again". `skipExisting` (the seed's `importData(tenant, 'all', { skipExisting: true })`)
 * is documented as "skip records whose id is already stored".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/index.js';
import { connectTenant, createHarness, importer, type Harness } from '../importer/harness.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
beforeAll(async () => {
  h = await createHarness({ timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ customers: 20, products: 0, orders: 0 }, { customers: 20, products: 0, orders: 0 }] });
});
afterAll(async () => { await h?.close(); });

describe('inferred tombstone and skipExisting', { timeout: 120_000 }, () => {
  for (const skipExisting of [false, true]) it(`a customer Shopify lists again is live again (skipExisting: ${skipExisting})`, async () => {
    const tenant = skipExisting ? 'se1' : 'se0';
    const { client, shop } = await connectTenant(h, tenant, skipExisting ? 1 : 0);
    const service = importer(h, client, tenant, { bulk: BULK });
    expect(await service.importCustomers()).toMatchObject({ status: 'succeeded', mode: 'full' });

    // Given an inferred (revocable) tombstone on a customer Shopify still has: a listing that lacked it.
    const store = createStore(h.db.database);
    const kept = String(shop.idOf('customers', 5));
    const listed = (await h.db.query<{ id: string }>(`SELECT id::text AS id FROM shopify_customers WHERE tenant_id = $2 AND id <> $1`, [kept, tenant])).map((r) => BigInt(r.id));
    await store.addListedIds(tenant, 'customers', 'L', listed);
    expect(await store.tombstoneUnlisted(tenant, 'customers', 'L', new Date(Date.now() + 86_400_000))).toBe(1);
    await store.clearListedIds(tenant, 'customers', 'L');

    // Shopify lists it again in the next full sync.
    const full = await service.importCustomers({ mode: 'full', skipExisting });
    expect(full.status).toBe('succeeded');
    const row = (await h.db.query<{ live: boolean; inferred: boolean }>(`SELECT deleted_at IS NULL AS live, deletion_inferred AS inferred FROM shopify_customers WHERE tenant_id = $2 AND id = $1`, [kept, tenant]))[0];
    expect(row, 'customer listed again by Shopify').toEqual({ live: true, inferred: false });
  });
});
