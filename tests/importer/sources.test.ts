/**
 * The same simulated shop synced three ways (REST pages, GraphQL pages, a GraphQL bulk operation)
 * into three tenants: every business column of every table is identical. Payloads differ by design
 * (each keeps what its API sent); PII columns are compared decrypted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES, tablesOf } from '../../src/resources/index.js';
import { createShopifyClient } from '../../src/client/index.js';
import { createStore } from '../../src/store/index.js';
import { createHarness, importer, type Harness } from './harness.js';
import { BOOKKEEPING_COLUMNS } from '../helpers/bookkeeping.js';

let h: Harness;
beforeAll(async () => { h = await createHarness({ shops: [{ customers: 120, products: 40, orders: 300, bigIds: true }], bulk: { startDelayMs: 10, rowsPerSecond: 1_000_000 } }); });
afterAll(async () => { await h?.close(); });

/** Columns that are not business data: bookkeeping, and the raw payload. */
const VOLATILE = new Set([...BOOKKEEPING_COLUMNS, 'payload']);

async function image(tenantId: string): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const resource of RESOURCES) {
    for (const table of tablesOf(resource)) {
      const rows = await h.db.query(`SELECT * FROM ${table.table} WHERE tenant_id = $1 ORDER BY ${table.conflict.map((c) => `"${c}"`).join(', ')}`, [tenantId]);
      out[table.table] = rows.map((row) => {
        const clean: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(row)) {
          if (VOLATILE.has(k)) continue;
          clean[k] = k.endsWith('_enc') && typeof v === 'string' ? h.keyRing.decrypt(v, tenantId) : v;
        }
        return clean;
      });
    }
  }
  return out;
}

/** A tenant on the harness's one shop (tenant rows need distinct shop domains; the client names the real one). */
async function tenantOnShop(tenantId: string) {
  const shop = h.sim.shops[0];
  await createStore(h.db.database).upsertTenant({ id: tenantId, shopDomain: `${tenantId}.myshopify.com`, accessTokenEnc: 'not-used-here' });
  return { client: createShopifyClient({ shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: shop.baseUrl, retryOptions: { retries: 8, minTimeout: 5, maxTimeout: 50 } }) };
}

describe('same rows whatever the source', { timeout: 240_000 }, () => {
  it('REST pages, GraphQL pages and a bulk operation give identical tables', async () => {
    const bulk = { minPollMs: 10, maxPollMs: 50 };
    const { client: restClient } = await tenantOnShop('via-rest');
    const viaRest = await importer(h, restClient, 'via-rest', { defaults: { source: 'rest' } }).importAll({ mode: 'full' });
    const { client: bulkClient } = await tenantOnShop('via-bulk');
    const viaBulk = await importer(h, bulkClient, 'via-bulk', { bulk }).importAll({ mode: 'full' });
    const { client: pageClient } = await tenantOnShop('via-pages');
    // A window covering everything, under the bulk threshold: listed with pages.
    const viaPages = await importer(h, pageClient, 'via-pages', { bulk }).importAll({ dateRange: { from: '1970-01-01T00:00:00Z' }, bulkThreshold: 1_000_000 });
    // REST lists only the resources Shopify's REST API can page; the others are compared GraphQL pages against bulk.
    const restTables = new Set(RESOURCES.filter((r) => r.rest).flatMap((r) => tablesOf(r).map((t) => t.table)));
    for (const resource of RESOURCES) {
      if (resource.rest) {
        expect(viaRest[resource.name]).toMatchObject({ status: 'succeeded', method: 'rest' });
        expect(viaBulk[resource.name]).toMatchObject({ status: 'succeeded', method: 'bulk' });
        expect(viaPages[resource.name]).toMatchObject({ status: 'succeeded', method: 'pages' });
      } else {
        expect(viaRest[resource.name]).toBeUndefined();
        expect(viaBulk[resource.name]).toMatchObject({ status: 'succeeded' });
        expect(viaPages[resource.name]).toMatchObject({ status: 'succeeded' });
      }
    }
    const rest = await image('via-rest');
    const pages = await image('via-pages');
    expect(rest.shopify_orders.length).toBe(300);
    expect(rest.shopify_order_line_items.length).toBeGreaterThan(300);
    expect(pages.shopify_inventory_levels.length).toBeGreaterThan(40);
    expect(pages.shopify_refunds.length).toBeGreaterThan(0);
    expect(pages.shopify_fulfillment_line_items.length).toBeGreaterThan(0);
    for (const [table, rows] of Object.entries(await image('via-bulk'))) expect(rows, `bulk: ${table}`).toEqual(restTables.has(table) ? rest[table] : pages[table]);
    for (const [table, rows] of Object.entries(pages)) if (restTables.has(table)) expect(rows, `pages: ${table}`).toEqual(rest[table]);
  });
});
