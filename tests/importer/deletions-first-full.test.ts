/**
 * docs/importing.md: "Deletions are found for every resource"; destroy events (orders) are read
 * "since the last successful probe". A windowed run (`dateRange`, the seed's scheduled orders job)
 * stores records but leaves the checkpoint alone; the first full sync then probes no events
 * (no `since`) and marks deletions checked up to its start. When that first probe fails, the next
 * run reads the same span (found by review: it read only from the failed run's new watermark on).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTenant, createHarness, importer, type Harness } from '../importer/harness.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
beforeAll(async () => {
  h = await createHarness({ timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ customers: 5, products: 0, orders: 20 }, { customers: 5, products: 0, orders: 20 }] });
});
afterAll(async () => { await h?.close(); });

describe('deletions before the first full sync', { timeout: 120_000 }, () => {
  it('an order stored by a windowed run and deleted before the first full sync is tombstoned', async () => {
    const { client, shop } = await connectTenant(h, 'ff1', 0);
    let offsetMs = 0; // the importer's clock: moved forward to stand for time passing
    const service = importer(h, client, 'ff1', { bulk: BULK, clock: () => new Date(Date.now() + offsetMs) });
    const windowed = await service.importOrders({ dateRange: { from: '2000-01-01T00:00:00Z', to: new Date(Date.now() + 3_600_000).toISOString() } });
    expect(windowed).toMatchObject({ status: 'succeeded', imported: 20 });

    const gone = String(shop.idOf('orders', 4));
    shop.delete('orders', gone); // the orders/delete webhook is lost
    offsetMs = 10 * 60_000; // the first full sync runs 10 minutes later
    expect(await service.importOrders()).toMatchObject({ status: 'succeeded', mode: 'full' });
    offsetMs = 40 * 60_000;
    expect(await service.importOrders()).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    offsetMs = 24 * 3_600_000;
    expect(await service.importOrders({ mode: 'full' })).toMatchObject({ status: 'succeeded', mode: 'full' });

    const row = (await h.db.query<{ gone: boolean }>(`SELECT deleted_at IS NOT NULL AS gone FROM shopify_orders WHERE tenant_id = 'ff1' AND id = $1`, [gone]))[0];
    expect(row.gone, 'order deleted at Shopify (destroy event on record) is tombstoned').toBe(true);
  });

  it('a first probe that failed is read again, the year before the first full sync included', async () => {
    const { client, shop } = await connectTenant(h, 'ff2', 1);
    let failEvents = false;
    const faulty = Object.create(client) as typeof client;
    faulty.graphql = (async (query: string, variables?: Record<string, unknown>, options?: { signal?: AbortSignal }) => {
      if (failEvents && /ShopifyIngestDestroyEvents/.test(query)) throw new Error('simulated 503 on the events query');
      return client.graphql(query, variables, options);
    }) as typeof client.graphql;
    let offsetMs = 0;
    const service = importer(h, faulty, 'ff2', { bulk: BULK, clock: () => new Date(Date.now() + offsetMs) });
    // Rows stored before the first full sync (a windowed run; webhooks would do the same).
    expect(await service.importOrders({ dateRange: { from: '2000-01-01T00:00:00Z', to: new Date(Date.now() + 3_600_000).toISOString() } })).toMatchObject({ status: 'succeeded', imported: 20 });
    const gone = String(shop.idOf('orders', 4));
    shop.delete('orders', gone); // the orders/delete webhook is lost

    offsetMs = 10 * 60_000;
    failEvents = true;
    const full = await service.importOrders();
    expect(full).toMatchObject({ status: 'succeeded', mode: 'full' });
    expect(full.warnings.join(' ')).toMatch(/deletion probe failed/);

    failEvents = false;
    offsetMs = 40 * 60_000;
    expect(await service.importOrders()).toMatchObject({ status: 'succeeded', mode: 'incremental', deleted: 1 });
    const row = (await h.db.query<{ gone: boolean }>(`SELECT deleted_at IS NOT NULL AS gone FROM shopify_orders WHERE tenant_id = 'ff2' AND id = $1`, [gone]))[0];
    expect(row.gone, 'order deleted at Shopify before the full sync is tombstoned once a probe succeeds').toBe(true);
  });
});
