/**
 * Refunds, transactions and fulfillments (resources that ride on orders) against the simulator and
 * PostgreSQL: a full sync by bulk operation and an incremental one by pages write every row with
 * exact amounts; connections inside list fields (refund line items, order adjustments, fulfillment
 * line items), which bulk queries cannot select, are fetched afterwards and nothing is missed, also
 * past one page; a deleted order takes its refunds, transactions and fulfillments with it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/testing/generator.js';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';
import { listItemsPerQuery } from '../../src/importer/pages-listing.js';
import { getResource } from '../../src/resources/registry.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
beforeAll(async () => {
  h = await createHarness({ timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ customers: 30, products: 20, orders: 150, bigIds: true }] });
});
afterAll(async () => { await h?.close(); });

/** `12.3` -> `12.3000`: what numeric(20,4) gives back as text. */
const dec4 = (v: unknown) => { const [w, f = ''] = String(v).split('.'); return `${w}.${f.padEnd(4, '0')}`; };
/** Exact sum of decimal strings (BigInt on 4 decimals). */
const sumDec = (values: unknown[]) => {
  const total = values.reduce<bigint>((n, v) => { const [w, f = ''] = String(v).split('.'); return n + BigInt(w + f.padEnd(4, '0')); }, 0n);
  const s = total.toString().padStart(5, '0');
  return `${s.slice(0, -4)}.${s.slice(-4)}`;
};
const set = (shop: string, presentment: string, currency = 'EUR') => ({ shop_money: { amount: shop, currency_code: 'USD' }, presentment_money: { amount: presentment, currency_code: currency } });

/** Test-only ids far above the generator's (child ids of order i are base + 16 i + k). */
const BIG = 9_100_000_000_000_000_000n;
/** Line item ids of the big order (the simulator derives fulfillment line item ids as 4 × line item id + k). */
const LINE = 2_000_000_000_000_000_000n;

/** An order with 60 line items, a refund of all of them (more than a page of refundLineItems) with two adjustments, and a 30-line fulfillment. */
function makeBig(o: JsonObject): JsonObject {
  const base = (o.line_items as JsonObject[])[0];
  const lines = Array.from({ length: 60 }, (_, k) => ({ ...base, id: LINE + BigInt(k), admin_graphql_api_id: `gid://shopify/LineItem/${LINE + BigInt(k)}`, quantity: 1, price: '1.25' }));
  const refund = {
    id: BIG + 1000n, admin_graphql_api_id: `gid://shopify/Refund/${BIG + 1000n}`, created_at: o.updated_at, processed_at: o.updated_at, note: 'all of it',
    order_id: o.id, transactions: [{ id: BIG + 2000n, admin_graphql_api_id: `gid://shopify/OrderTransaction/${BIG + 2000n}`, amount: '98765432109876.5432', kind: 'refund', status: 'success', gateway: 'bogus', created_at: o.updated_at, processed_at: o.updated_at, parent_id: null, test: false, error_code: null }],
    total_refunded_set: set('98765432109876.5432', '91234567890123.4567'),
    order_adjustments: [
      { id: BIG + 3000n, reason: 'refund_discrepancy', amount_set: set('-0.0100', '-0.0092'), tax_amount_set: set('0.00', '0.00') },
      { id: BIG + 3001n, reason: 'restock', amount_set: set('-5.00', '-4.60'), tax_amount_set: set('-0.30', '-0.27') },
    ],
    refund_line_items: lines.map((li, k) => ({
      id: BIG + 4000n + BigInt(k), line_item_id: li.id, location_id: 655_441_491n, quantity: 1, restock_type: k % 2 ? 'return' : 'no_restock',
      subtotal_set: set('1.25', '1.15'), total_tax_set: set('0.0750', '0.0690'), line_item: li,
    })),
  };
  const fulfillment = {
    id: BIG + 5000n, admin_graphql_api_id: `gid://shopify/Fulfillment/${BIG + 5000n}`, created_at: o.updated_at, updated_at: o.updated_at, status: 'success',
    location_id: 655_441_491n, name: `${String(o.name)}.9`, tracking_company: 'DHL', tracking_number: 'JD0001', tracking_numbers: ['JD0001', 'JD0002'],
    tracking_url: 'https://dhl.example/JD0001', tracking_urls: ['https://dhl.example/JD0001', 'https://dhl.example/JD0002'], shipment_status: 'delivered',
    line_items: lines.slice(0, 30),
  };
  return { ...o, line_items: lines, refunds: [...(o.refunds as JsonObject[]), refund], fulfillments: [...(o.fulfillments as JsonObject[]), fulfillment] };
}

async function rows(tenant: string, table: string, where = 'TRUE'): Promise<Array<Record<string, unknown>>> {
  return h.db.query(`SELECT * FROM ${table} WHERE tenant_id = $1 AND ${where}`, [tenant]);
}
const count = async (tenant: string, table: string, where = 'TRUE') => (await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1 AND ${where}`, [tenant]))[0].n;

/** What the shop holds now, counted from its REST records (independently of the SDK and of the simulator's GraphQL). */
function expected(shop: Harness['sim']['shops'][number]) {
  const out = { refunds: 0, refundLines: 0, adjustments: 0, transactions: 0, fulfillments: 0, fulfillmentLines: 0 };
  for (let i = 0; i < shop.tables.orders.size; i++) {
    const o = shop.tables.orders.get(i);
    if (!o) continue;
    const refunds = (o.refunds as JsonObject[]) ?? [];
    out.refunds += refunds.length;
    for (const r of refunds) {
      out.refundLines += (r.refund_line_items as unknown[]).length;
      out.adjustments += (r.order_adjustments as unknown[]).length;
    }
    out.transactions += new Set([...(o.transactions as JsonObject[]), ...refunds.flatMap((r) => r.transactions as JsonObject[])].map((t) => String(t.id))).size;
    const fulfillments = (o.fulfillments as JsonObject[]) ?? [];
    out.fulfillments += fulfillments.length;
    for (const f of fulfillments) out.fulfillmentLines += (f.line_items as unknown[]).length;
  }
  return out;
}

async function stored(tenant: string) {
  const live = 'deleted_at IS NULL';
  return {
    refunds: await count(tenant, 'shopify_refunds', live),
    refundLines: await count(tenant, 'shopify_refund_line_items', `refund_id IN (SELECT id FROM shopify_refunds WHERE tenant_id = '${tenant}' AND ${live})`),
    adjustments: await count(tenant, 'shopify_refund_order_adjustments', `refund_id IN (SELECT id FROM shopify_refunds WHERE tenant_id = '${tenant}' AND ${live})`),
    transactions: await count(tenant, 'shopify_order_transactions', live),
    fulfillments: await count(tenant, 'shopify_fulfillments', live),
    fulfillmentLines: await count(tenant, 'shopify_fulfillment_line_items', `fulfillment_id IN (SELECT id FROM shopify_fulfillments WHERE tenant_id = '${tenant}' AND ${live})`),
  };
}

describe('refunds, transactions and fulfillments through their orders', { timeout: 240_000 }, () => {
  it('full by bulk operation, then incremental by pages: every row, exact amounts, nested connections past a page, tombstones with the order', async () => {
    const { client, shop } = await connectTenant(h, 'm1', 0);
    const bigOrder = shop.idOf('orders', 7);
    shop.update('orders', bigOrder, makeBig);
    const service = importer(h, client, 'm1', { bulk: BULK });

    const full = await service.importAll();
    for (const name of ['orders', 'refunds', 'transactions', 'fulfillments'] as const) {
      expect(full[name], name).toMatchObject({ status: 'succeeded', mode: 'full', method: 'bulk', failed: 0 });
    }
    const want = expected(shop);
    expect(want.refunds).toBeGreaterThan(10);
    // The items of many orders share each nodes(ids:) query (as many as fit under 1,000 points), plus
    // a few follow-ups for the big refund and fulfillment: not a query per order.
    for (const [name, n] of [['refunds', want.refunds], ['fulfillments', want.fulfillments]] as const) {
      const perQuery = listItemsPerQuery(getResource(name).graphql.lists![0]!);
      expect(full[name]!.pages, name).toBeLessThanOrEqual(Math.ceil(n / perQuery) + 3);
    }
    expect(want.fulfillments).toBeGreaterThan(10);
    expect(await stored('m1')).toEqual(want);

    // The refund with 60 line items (refundLineItems pages of 25): all of them, exact in both currencies.
    const [refund] = await rows('m1', 'shopify_refunds', `id = ${BIG + 1000n}`);
    expect(refund).toMatchObject({
      order_id: String(bigOrder), note: 'all of it', total_refunded: '98765432109876.5432', total_refunded_presentment: '91234567890123.4567',
      currency: 'USD', presentment_currency: 'EUR', deleted_at: null,
    });
    const lines = await rows('m1', 'shopify_refund_line_items', `refund_id = ${BIG + 1000n} ORDER BY id`);
    expect(lines).toHaveLength(60);
    expect(lines[1]).toMatchObject({
      id: String(BIG + 4001n), order_id: String(bigOrder), line_item_id: String(LINE + 1n), location_id: '655441491', quantity: 1, restock_type: 'return',
      subtotal: '1.2500', subtotal_presentment: '1.1500', total_tax: '0.0750', total_tax_presentment: '0.0690',
    });
    expect(await rows('m1', 'shopify_refund_order_adjustments', `refund_id = ${BIG + 1000n} ORDER BY id`)).toMatchObject([
      { id: String(BIG + 3000n), reason: 'refund_discrepancy', amount: '-0.0100', amount_presentment: '-0.0092', tax_amount: '0.0000' },
      { id: String(BIG + 3001n), reason: 'restock', amount: '-5.0000', amount_presentment: '-4.6000', tax_amount: '-0.3000', tax_amount_presentment: '-0.2700' },
    ]);
    // The 30-line fulfillment (fulfillmentLineItems pages of 25), tracking from the first entry.
    const [fulfillment] = await rows('m1', 'shopify_fulfillments', `id = ${BIG + 5000n}`);
    expect(fulfillment).toMatchObject({
      order_id: String(bigOrder), status: 'success', display_status: 'delivered', location_id: '655441491', total_quantity: 30,
      tracking_company: 'DHL', tracking_number: 'JD0001', tracking_url: 'https://dhl.example/JD0001',
    });
    expect(fulfillment.delivered_at).not.toBeNull();
    expect(await count('m1', 'shopify_fulfillment_line_items', `fulfillment_id = ${BIG + 5000n}`)).toBe(30);

    // Every seeded transaction, amounts exact; the cardholder's name (paymentDetails.name, receiptJson) is not stored.
    const sample = shop.find('orders', shop.idOf('orders', 3))!;
    for (const t of sample.transactions as JsonObject[]) {
      const [row] = await rows('m1', 'shopify_order_transactions', `id = ${String(t.id)}`);
      expect(row).toMatchObject({ order_id: String(sample.id), kind: String(t.kind), status: 'success', gateway: String(t.gateway), amount: dec4(t.amount), amount_presentment: dec4(t.amount), test: false });
    }
    const billing = sample.billing_address as JsonObject;
    expect(await count('m1', 'shopify_order_transactions', `payload::text LIKE '%${String(billing.last_name)}%'`)).toBe(0);
    // A generated refund: total = its refund transactions, exactly.
    const refunded = [...Array(shop.tables.orders.size).keys()].map((i) => shop.tables.orders.get(i)).find((o) => o && (o.refunds as unknown[]).length && o.id !== bigOrder)!;
    const r0 = (refunded.refunds as JsonObject[])[0];
    expect((await rows('m1', 'shopify_refunds', `id = ${String(r0.id)}`))[0]).toMatchObject({ total_refunded: dec4(sumDec((r0.transactions as JsonObject[]).map((t) => t.amount))) });

    // docs/schema.md's example query runs on these tables.
    const doc = readFileSync(new URL('../../docs/schema.md', import.meta.url), 'utf8');
    const netSales = /Net sales by day[\s\S]*?```sql\n([\s\S]*?)```/.exec(doc)![1];
    const days = await h.db.query<{ day: Date; net_sales: string }>(netSales, ['m1']);
    expect(days.length).toBeGreaterThan(0);
    expect(days.some((d) => d.net_sales.startsWith('-98765432'))).toBe(true);

    // Incremental: a second refund, a changed fulfillment, a deleted order.
    const changed = shop.idOf('orders', 20);
    shop.update('orders', changed, (o) => {
      const li = (o.line_items as JsonObject[])[0];
      const f = (o.fulfillments as JsonObject[])[0];
      const later = new Date(Date.parse(String(o.updated_at)) + 60_000).toISOString();
      return {
        ...o,
        refunds: [...(o.refunds as JsonObject[]), {
          id: BIG + 6000n, created_at: later, processed_at: later, note: 'late', order_id: o.id, order_adjustments: [],
          transactions: [{ id: BIG + 6001n, amount: '0.01', kind: 'refund', status: 'success', gateway: 'manual', created_at: later, processed_at: later, parent_id: null, test: false }],
          refund_line_items: [{ id: BIG + 6002n, line_item_id: li.id, quantity: 1, restock_type: 'cancel', subtotal_set: set('0.01', '0.01', 'USD'), total_tax_set: set('0.00', '0.00', 'USD') }],
        }],
        fulfillments: f ? [{ ...f, tracking_company: 'FedEx', updated_at: later }] : o.fulfillments,
      };
    });
    const gone = shop.idOf('orders', 7);
    shop.delete('orders', gone);
    const inc = await service.importAll();
    for (const name of ['orders', 'refunds', 'transactions', 'fulfillments'] as const) {
      expect(inc[name], name).toMatchObject({ status: 'succeeded', mode: 'incremental', method: 'pages', failed: 0 });
    }
    expect(inc.refunds.fetched).toBeLessThan(150);
    expect((await rows('m1', 'shopify_refund_line_items', `id = ${BIG + 6002n}`))[0]).toMatchObject({ refund_id: String(BIG + 6000n), restock_type: 'cancel', subtotal: '0.0100' });
    expect(await count('m1', 'shopify_order_transactions', `id = ${BIG + 6001n} AND amount = 0.01`)).toBe(1);
    if ((shop.find('orders', changed)!.fulfillments as unknown[]).length) {
      expect(await count('m1', 'shopify_fulfillments', `order_id = ${String(changed)} AND tracking_company = 'FedEx'`)).toBe(1);
    }
    // The deleted order's refunds, transactions and fulfillments are tombstoned with it.
    for (const table of ['shopify_refunds', 'shopify_order_transactions', 'shopify_fulfillments']) {
      expect(await count('m1', table, `order_id = ${String(gone)} AND deleted_at IS NULL`), table).toBe(0);
      expect(await count('m1', table, `order_id = ${String(gone)} AND deleted_at IS NOT NULL`), table).toBeGreaterThan(0);
    }
    expect(await stored('m1')).toEqual(expected(shop));

    // skipExisting skips records already stored; an order's refunds are not that record: a new refund
    // of an order whose first refund is stored is still written.
    shop.update('orders', changed, (o) => ({
      ...o, refunds: [...(o.refunds as JsonObject[]), { id: BIG + 7000n, created_at: o.updated_at, processed_at: o.updated_at, order_id: o.id, order_adjustments: [], transactions: [], refund_line_items: [] }],
    }));
    expect(await service.importResource('refunds', { skipExisting: true })).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    expect(await count('m1', 'shopify_refunds', `id = ${BIG + 7000n} AND order_id = ${String(changed)}`)).toBe(1);
  });

  it("the simulator rejects a connection inside a list field in a bulk query, with Shopify's error", async () => {
    const { client } = await connectTenant(h, 'm1', 0);
    const data = await client.graphql<{ bulkOperationRunQuery: { bulkOperation: unknown; userErrors: Array<{ message: string }> } }>(
      'mutation M($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id } userErrors { field message } } }',
      { q: '{ orders { edges { node { id refunds { id refundLineItems { edges { node { id } } } } } } } }' },
    );
    expect(data.bulkOperationRunQuery.bulkOperation).toBeNull();
    expect(data.bulkOperationRunQuery.userErrors[0].message).toMatch(/connection field within a list field/);
  });
});
