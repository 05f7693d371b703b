/**
 * docs/importing.md: `safetyMarginMs` is "how far behind now a watermark stays (Shopify's search
 * index lags writes by seconds)"; `overlapMs` is a separate, optional (min 0) re-read. The data
 * watermark honours the margin; the destroy-events probe's watermark (`deletionsCheckedAt`) is set
 * to the probe's start, `now`, ignoring it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTenant, createHarness, importer, type Harness } from '../importer/harness.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
const LAG_MS = 3000;
beforeAll(async () => {
  h = await createHarness({ timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ customers: 5, products: 0, orders: 20 }] });
});
afterAll(async () => { await h?.close(); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('destroy-event probe and the search index lag', { timeout: 120_000 }, () => {
  it('an order deleted seconds before a probe is tombstoned by a later run (overlapMs 0, default safety margin)', async () => {
    const { client, shop } = await connectTenant(h, 'dm1', 0);
    // Shopify's search index lags writes by seconds: an event is searchable LAG_MS after it happened.
    const lagging = Object.create(client) as typeof client;
    lagging.graphql = (async (query: string, variables?: Record<string, unknown>, options?: { signal?: AbortSignal }) => {
      const data = await client.graphql<any>(query, variables, options);
      if (/ShopifyIngestDestroyEvents/.test(query) && data?.events?.nodes) {
        data.events.nodes = data.events.nodes.filter((e: { createdAt: string }) => Date.parse(e.createdAt) <= Date.now() - LAG_MS);
      }
      return data;
    }) as typeof client.graphql;
    const service = importer(h, lagging, 'dm1', { bulk: BULK, defaults: { overlapMs: 0 } });
    expect(await service.importOrders()).toMatchObject({ status: 'succeeded', mode: 'full' });
    expect(await service.importOrders()).toMatchObject({ status: 'succeeded', mode: 'incremental' });

    const gone = String(shop.idOf('orders', 4));
    shop.delete('orders', gone); // its orders/delete webhook is not delivered (no endpoint)
    await sleep(1200);
    // The probe runs while the destroy event is not yet searchable.
    expect(await service.importOrders()).toMatchObject({ status: 'succeeded', mode: 'incremental', deleted: 0 });
    await sleep(LAG_MS);
    // Long after the event became searchable.
    const later = await service.importOrders();
    expect(later.status).toBe('succeeded');
    const row = (await h.db.query<{ gone: boolean }>(`SELECT deleted_at IS NOT NULL AS gone FROM shopify_orders WHERE tenant_id = 'dm1' AND id = $1`, [gone]))[0];
    expect(row.gone, 'order deleted at Shopify is tombstoned').toBe(true);
  });
});
