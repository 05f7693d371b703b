/**
 * Shopify's REST product bodies (listings, single reads and, modelled the same, webhooks) hold at
 * most 100 variants, while a product may have 2,048 (../shared/SHOPIFY-API.md). Written as REST
 * gives it, a product with 150 variants would lose 50 from the store: the writer removes the
 * variants a product no longer lists. A body at the cap is read again over GraphQL instead, by the
 * REST source and by `products/create|update` deliveries; without a way to read it, nothing is
 * written and the failure says why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRecord } from '../../src/importer/pages-listing.js';
import { silentLogger } from '../../src/logger.js';
import { getResource } from '../../src/resources/index.js';
import { createWebhookService } from '../../src/webhooks/index.js';
import { SECRET, signedDelivery, toRequest } from '../webhooks/helpers/deliveries.js';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';

let h: Harness;
const TENANT = 'rest-cap';
const VARIANTS = 150;

beforeAll(async () => {
  h = await createHarness({ shops: [{ customers: 2, products: 4, orders: 0 }] });
});
afterAll(async () => { await h?.close(); });

const liveVariants = async (productId: string) =>
  (await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_product_variants WHERE tenant_id = $1 AND product_id = $2::bigint AND deleted_at IS NULL`, [TENANT, productId]))[0]!.n;

describe('a product with more variants than REST shows', () => {
  it('is synced whole over REST, and a products/update delivery at the cap does not remove variants', async () => {
    const { shop, client } = await connectTenant(h, TENANT);
    const productId = String(shop.idOf('products', 1));
    shop.update('products', productId, (p) => {
      const first = (p.variants as Array<Record<string, unknown>>)[0]!;
      const variants = Array.from({ length: VARIANTS }, (_, i) => {
        const id = 990_000_000_000 + Number(productId) % 1_000_000 * 1_000 + i;
        return { ...first, id, admin_graphql_api_id: `gid://shopify/ProductVariant/${id}`, title: `Size ${i}`, sku: `CAP-${i}`, position: i + 1 };
      });
      return { ...p, variants };
    });
    // The simulator is faithful: REST shows 100 of them.
    const rest = await client.get<{ product: { variants: unknown[] } }>(`/products/${productId}.json`);
    expect(rest.product.variants).toHaveLength(100);

    const result = await importer(h, client, TENANT).importProducts({ source: 'rest', pageSize: 2 });
    expect(result).toMatchObject({ status: 'succeeded', failed: 0 });
    expect(await liveVariants(productId)).toBe(VARIANTS);

    // A delivery of the same product as REST shows it (100 variants), newer than what is stored.
    const body = { ...rest.product, updated_at: new Date(Date.now() + 60_000).toISOString() };
    const send = async (service: ReturnType<typeof createWebhookService>, webhookId: string) => {
      const res = await service.handler(toRequest(signedDelivery('products/update', body, { shop: shop.domain, webhookId })));
      expect(res.status).toBe(200);
      await service.processPending();
    };
    // Without a way to read the product again: nothing written, the delivery kept as failed with the reason.
    const blind = createWebhookService(h.db.database, { secrets: SECRET, keyRing: h.keyRing, logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0 });
    try {
      await send(blind, 'cap-blind');
      const [row] = await h.db.query<{ status: string; last_error: string }>(`SELECT status, last_error FROM shopify_webhook_inbox WHERE webhook_id = 'cap-blind'`);
      expect(row!.status).not.toBe('processed');
      expect(row!.last_error).toMatch(/WEBHOOK_REFETCH_UNAVAILABLE|no client can fetch it/);
      expect(await liveVariants(productId)).toBe(VARIANTS);
    } finally {
      await blind.stop();
    }
    // With one (the ingestion service passes its client): the product is read again, every variant kept.
    const fetched: string[] = [];
    const reading = createWebhookService(h.db.database, {
      secrets: SECRET, keyRing: h.keyRing, logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0,
      fetchRecord: (_tenant, resource, id, gid) => { fetched.push(String(gid ?? id)); return fetchRecord(client, getResource(resource), gid ?? id); },
    });
    try {
      await send(reading, 'cap-read');
      expect(fetched).toEqual([`gid://shopify/Product/${productId}`]);
      expect(await liveVariants(productId)).toBe(VARIANTS);
      // A product under the cap is written from its body, as before: no read.
      const small = await client.get<{ product: Record<string, unknown> }>(`/products/${shop.idOf('products', 2)}.json`);
      const res = await reading.handler(toRequest(signedDelivery('products/update', { ...small.product, title: 'From the body', updated_at: new Date(Date.now() + 60_000).toISOString() }, { shop: shop.domain, webhookId: 'small' })));
      expect(res.status).toBe(200);
      await reading.processPending();
      expect(fetched).toHaveLength(1);
      const [title] = await h.db.query<{ title: string }>(`SELECT title FROM shopify_products WHERE tenant_id = $1 AND id = $2::bigint`, [TENANT, String(shop.idOf('products', 2))]);
      expect(title!.title).toBe('From the body');
    } finally {
      await reading.stop();
    }
  }, 60_000);
});
