/**
 * Webhook topics of refunds, transactions, fulfillments and orders against the simulator and
 * PostgreSQL: every topic the registry gives these resources has a case here (the test fails for a
 * topic without one). REST-shaped refund, transaction and fulfillment bodies name their order: it is
 * fetched again (GraphQL) and its rows written; order bodies are upserted; `orders/edited` refetches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRecord } from '../../src/importer/pages-listing.js';
import { stringifyShopifyJson } from '../../src/json.js';
import { silentLogger } from '../../src/logger.js';
import { getResource, RESOURCES } from '../../src/resources/index.js';
import type { JsonObject } from '../../src/testing/generator.js';
import { createWebhookService, type WebhookService } from '../../src/webhooks/index.js';
import { connectTenant, createHarness, type Harness } from '../importer/harness.js';
import { SECRET, signedDelivery, toRequest } from './helpers/deliveries.js';

let h: Harness;
let s: WebhookService;
let shop: Harness['sim']['shops'][number];
beforeAll(async () => {
  h = await createHarness({ shops: [{ customers: 20, products: 10, orders: 80, bigIds: true }] });
  const connected = await connectTenant(h, 'w1', 0);
  shop = connected.shop;
  s = createWebhookService(h.db.database, {
    secrets: SECRET, keyRing: h.keyRing, logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0,
    fetchRecord: (_tenantId, resource, id) => fetchRecord(connected.client, getResource(resource), id),
  });
});
afterAll(async () => { await h?.close(); });

let deliveries = 0;
async function deliver(topic: string, body: unknown): Promise<void> {
  const res = await s.handler(toRequest(signedDelivery(topic, stringifyShopifyJson(body), { shop: shop.domain, webhookId: `om-${++deliveries}` })));
  expect(res.status).toBe(200);
  expect(await s.processPending()).toBe(1);
  const [row] = await h.db.query<{ status: string; last_error: string | null }>(`SELECT status, last_error FROM shopify_webhook_inbox WHERE webhook_id = $1`, [`om-${deliveries}`]);
  expect(row, topic).toMatchObject({ status: 'processed', last_error: null });
}
const one = async (sql: string, params: unknown[] = []) => (await h.db.query<Record<string, unknown>>(sql, params))[0];
const n = async (sql: string, params: unknown[] = []) => Number((await one(sql, params))?.n);

/** The first order (by index) matching `test`. */
function orderWhere(test: (o: JsonObject) => boolean): JsonObject {
  for (let i = 0; i < shop.tables.orders.size; i++) {
    const o = shop.tables.orders.get(i);
    if (o && test(o)) return o;
  }
  throw new Error('no such order in the simulated shop');
}
const has = (key: string) => (o: JsonObject) => ((o[key] as unknown[]) ?? []).length > 0;

const CASES: Record<string, () => Promise<void>> = {
  'refunds/create': async () => {
    const order = orderWhere(has('refunds'));
    const refund = (order.refunds as JsonObject[])[0];
    await deliver('refunds/create', refund);
    expect(await one(`SELECT order_id::text, total_refunded::text FROM shopify_refunds WHERE tenant_id = 'w1' AND id = $1`, [String(refund.id)]))
      .toEqual({ order_id: String(order.id), total_refunded: expect.stringMatching(/^\d+\.\d{4}$/) });
    expect(await n(`SELECT count(*) AS n FROM shopify_refund_line_items WHERE tenant_id = 'w1' AND refund_id = $1`, [String(refund.id)])).toBe((refund.refund_line_items as unknown[]).length);
  },
  'order_transactions/create': async () => {
    const order = orderWhere(has('transactions'));
    const t = (order.transactions as JsonObject[])[0];
    await deliver('order_transactions/create', t);
    expect(await one(`SELECT order_id::text, kind, amount::text FROM shopify_order_transactions WHERE tenant_id = 'w1' AND id = $1`, [String(t.id)]))
      .toEqual({ order_id: String(order.id), kind: String(t.kind), amount: `${String(t.amount)}00` });
  },
  'fulfillments/create': async () => {
    const order = orderWhere(has('fulfillments'));
    const f = (order.fulfillments as JsonObject[])[0];
    await deliver('fulfillments/create', f);
    expect(await one(`SELECT order_id::text, tracking_number FROM shopify_fulfillments WHERE tenant_id = 'w1' AND id = $1`, [String(f.id)]))
      .toEqual({ order_id: String(order.id), tracking_number: f.tracking_number });
    expect(await n(`SELECT count(*) AS n FROM shopify_fulfillment_line_items WHERE tenant_id = 'w1' AND fulfillment_id = $1`, [String(f.id)])).toBe((f.line_items as unknown[]).length);
  },
  'fulfillments/update': async () => {
    const order = orderWhere(has('fulfillments'));
    const later = new Date(Date.now() + 60_000).toISOString();
    const next = shop.update('orders', order.id as bigint, (o) => ({ ...o, fulfillments: (o.fulfillments as JsonObject[]).map((f, k) => (k === 0 ? { ...f, tracking_company: 'FedEx', shipment_status: 'delivered', updated_at: later } : f)) }));
    const f = (next.fulfillments as JsonObject[])[0];
    await deliver('fulfillments/update', f);
    expect(await one(`SELECT tracking_company, display_status, delivered_at IS NOT NULL AS delivered FROM shopify_fulfillments WHERE tenant_id = 'w1' AND id = $1`, [String(f.id)]))
      .toEqual({ tracking_company: 'FedEx', display_status: 'delivered', delivered: true });
  },
  'orders/paid': async () => {
    const order = orderWhere((o) => o.financial_status === 'pending');
    await deliver('orders/paid', shop.markOrderPaid(order.id as bigint));
    expect(await one(`SELECT financial_status FROM shopify_orders WHERE tenant_id = 'w1' AND id = $1`, [String(order.id)])).toEqual({ financial_status: 'paid' });
  },
  'orders/cancelled': async () => {
    const order = orderWhere((o) => !o.cancelled_at);
    await deliver('orders/cancelled', shop.cancelOrder(order.id as bigint));
    expect(await one(`SELECT cancelled_at IS NOT NULL AS cancelled, cancel_reason FROM shopify_orders WHERE tenant_id = 'w1' AND id = $1`, [String(order.id)])).toEqual({ cancelled: true, cancel_reason: 'customer' });
  },
  'orders/fulfilled': async () => {
    const order = orderWhere((o) => o.fulfillment_status === null && !o.cancelled_at);
    await deliver('orders/fulfilled', shop.fulfillOrder(order.id as bigint));
    expect(await one(`SELECT fulfillment_status FROM shopify_orders WHERE tenant_id = 'w1' AND id = $1`, [String(order.id)])).toEqual({ fulfillment_status: 'fulfilled' });
  },
  'orders/partially_fulfilled': async () => {
    const order = orderWhere((o) => o.fulfillment_status === null && !o.cancelled_at && (o.line_items as unknown[]).length > 1);
    const next = shop.update('orders', order.id as bigint, (o) => ({ ...o, fulfillment_status: 'partial' }));
    await deliver('orders/partially_fulfilled', next);
    expect(await one(`SELECT fulfillment_status FROM shopify_orders WHERE tenant_id = 'w1' AND id = $1`, [String(order.id)])).toEqual({ fulfillment_status: 'partial' });
  },
  'orders/edited': async () => {
    const order = orderWhere((o) => (o.line_items as unknown[]).length > 1);
    await deliver('orders/create', order);
    shop.update('orders', order.id as bigint, (o) => ({ ...o, line_items: (o.line_items as unknown[]).slice(0, 1) }));
    // Shopify's orders/edited body: the edit, naming the order (https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-orders/edited).
    await deliver('orders/edited', { order_edit: { id: 1, app_id: null, created_at: new Date().toISOString(), committed_at: new Date().toISOString(), notify_customer: false, order_id: order.id, staff_note: '', user_id: null, line_items: { additions: [], removals: [] } } });
    expect(await n(`SELECT count(*) AS n FROM shopify_order_line_items WHERE tenant_id = 'w1' AND order_id = $1`, [String(order.id)])).toBe(1);
  },
};

describe('webhooks of refunds, transactions, fulfillments and orders', { timeout: 120_000 }, () => {
  it('every topic of these resources in the registry has a case here', () => {
    const topics = RESOURCES.filter((r) => r.name === 'orders' || r.ridesOn?.resource === 'orders')
      .flatMap((r) => [...r.webhooks.upsert, ...r.webhooks.refetch.map((t) => t.topic)])
      .filter((t) => t !== 'orders/create' && t !== 'orders/updated');
    expect(Object.keys(CASES).sort()).toEqual([...topics].sort());
  });
  for (const [topic, run] of Object.entries(CASES)) it(topic, run);
});
