/**
 * Draft orders and abandoned checkouts (+ line items) end to end: the simulator (Shopify 2026-10)
 * into PostgreSQL. A full sync by bulk operation (line items as scattered `__parentId` lines),
 * paged listings that must store the same rows, incremental syncs (drafts paged by `UPDATED_AT`,
 * checkouts filtered by `updated_at` in id order: their connection has no `UPDATED_AT` sort key),
 * deletions (a draft's destroy event, id reconciliation on full syncs), PII held as ciphertext,
 * customers/redact scrubbing both, and docs/schema.md's example queries run on the rows.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/index.js';
import type { JsonObject } from '../../src/testing/generator.js';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';

let h: Harness;
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000 };
const RESOURCES = ['draftOrders', 'abandonedCheckouts'] as const;
beforeAll(async () => {
  h = await createHarness({
    timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 },
    shops: [
      { customers: 8, products: 10, orders: 12, draftOrders: 12, abandonedCheckouts: 14, name: 'Drafts Shop' },
      { customers: 8, products: 10, orders: 12, draftOrders: 9, abandonedCheckouts: 9, bigIds: true },
    ],
  });
});
afterAll(async () => { await h?.close(); });

const q = <T extends Record<string, any> = Record<string, unknown>>(sql: string, params: unknown[] = []) => h.db.query<T>(sql, params);
type Shop = Harness['sim']['shops'][number];

/** Shopify's decimal as the numeric(20,4) column prints it. */
const dec4 = (amount: unknown) => (amount === null || amount === undefined ? null : Number(amount).toFixed(4));
const bag = (node: JsonObject, key: string) => node[key] as { shopMoney: { amount: string }; presentmentMoney: { amount: string; currencyCode: string } };

/** What the simulator holds, as the columns an analyst reads (live records, line items by parent). */
function expectedDrafts(shop: Shop) {
  return shop.drafts.draftIds().map((id) => {
    const n = shop.drafts.draftNode(id);
    const items = (n.lineItems as { nodes: JsonObject[] }).nodes;
    return {
      id: String(id), status: String(n.status).toLowerCase(), order_id: n.order ? String((n.order as JsonObject).id).split('/').pop() : null,
      total_price: dec4(bag(n, 'totalPriceSet').shopMoney.amount), total_price_presentment: dec4(bag(n, 'totalPriceSet').presentmentMoney.amount),
      presentment_currency: n.presentmentCurrencyCode, line_item_count: items.length,
      lines: items.map((li) => `${String(li.id).split('/').pop()}:${li.quantity}:${dec4(bag(li, 'originalUnitPriceSet').shopMoney.amount)}:${li.variant ? String((li.variant as JsonObject).id).split('/').pop() : null}`).sort(),
    };
  });
}
async function storedDrafts(tenant: string) {
  const rows = await q<Record<string, any>>(`SELECT d.id::text AS id, d.status, d.order_id::text AS order_id, d.total_price::text AS total_price, d.total_price_presentment::text AS total_price_presentment,
      d.presentment_currency, d.line_item_count,
      coalesce((SELECT array_agg(l.id::text || ':' || l.quantity || ':' || l.price::text || ':' || coalesce(l.variant_id::text, 'null') ORDER BY 1) FROM shopify_draft_order_line_items l
        WHERE l.tenant_id = d.tenant_id AND l.draft_order_id = d.id), '{}') AS lines
    FROM shopify_draft_orders d WHERE d.tenant_id = $1 AND d.deleted_at IS NULL ORDER BY d.id`, [tenant]);
  return rows.map((r): Record<string, any> => ({ ...r, lines: [...r.lines].sort() }));
}
function expectedCheckouts(shop: Shop) {
  return shop.drafts.checkoutIds().map((id) => {
    const n = shop.drafts.checkoutNode(id);
    const items = (n.lineItems as { nodes: JsonObject[] }).nodes;
    return {
      id: String(id), completed: n.completedAt !== null, total_price: dec4(bag(n, 'totalPriceSet').shopMoney.amount),
      total_price_presentment: dec4(bag(n, 'totalPriceSet').presentmentMoney.amount), line_item_count: items.length,
      lines: items.map((li) => `${String(li.id).split('/').pop()}:${li.quantity}:${dec4(bag(li, 'discountedTotalPriceSet').shopMoney.amount)}`).sort(),
    };
  });
}
async function storedCheckouts(tenant: string) {
  const rows = await q<Record<string, any>>(`SELECT c.id::text AS id, c.completed_at IS NOT NULL AS completed, c.total_price::text AS total_price,
      c.total_price_presentment::text AS total_price_presentment, c.line_item_count,
      coalesce((SELECT array_agg(l.id::text || ':' || l.quantity || ':' || l.discounted_total::text ORDER BY 1) FROM shopify_abandoned_checkout_line_items l
        WHERE l.tenant_id = c.tenant_id AND l.checkout_id = c.id), '{}') AS lines
    FROM shopify_abandoned_checkouts c WHERE c.tenant_id = $1 AND c.deleted_at IS NULL ORDER BY c.id`, [tenant]);
  return rows.map((r): Record<string, any> => ({ ...r, lines: [...r.lines].sort() }));
}

describe('draft orders and abandoned checkouts against the simulator', { timeout: 240_000 }, () => {
  it('full sync by bulk operation, PII as ciphertext, incremental syncs, deletions, redact, and the docs\' example queries', async () => {
    const { client, shop } = await connectTenant(h, 'd1', 0);
    const service = importer(h, client, 'd1', { bulk: BULK });
    const full = await service.importAll({ resources: [...RESOURCES] });
    for (const name of RESOURCES) expect(full[name], name).toMatchObject({ status: 'succeeded', mode: 'full', method: 'bulk', failed: 0 });
    expect(await storedDrafts('d1')).toEqual(expectedDrafts(shop));
    expect(await storedCheckouts('d1')).toEqual(expectedCheckouts(shop));
    const statuses = new Set((await storedDrafts('d1')).map((d) => d.status));
    expect(statuses).toEqual(new Set(['open', 'invoice_sent', 'completed']));
    expect((await storedDrafts('d1')).some((d) => d.total_price !== d.total_price_presentment)).toBe(true);

    // PII: ciphertext in the *_enc columns, none of it in clear anywhere in the rows.
    const withBuyer = shop.drafts.draftIds().map((id) => shop.drafts.draftNode(id)).find((n) => n.email && n.phone && n.shippingAddress)!;
    const draftId = String(withBuyer.legacyResourceId);
    const [d] = await q<Record<string, string | null>>(`SELECT email_enc, email_hash, phone_enc, shipping_address_enc, billing_address_enc, invoice_url_enc, note_enc, shipping_country_code, customer_id::text AS customer_id, payload::text AS payload
      FROM shopify_draft_orders WHERE tenant_id = 'd1' AND id = $1`, [draftId]);
    expect(h.keyRing.decrypt(d.email_enc!, 'd1')).toBe(withBuyer.email);
    expect(d.email_hash).toBe(h.keyRing.blindIndex(String(withBuyer.email)));
    expect(h.keyRing.decrypt(d.phone_enc!, 'd1')).toBe(withBuyer.phone);
    const shipping = withBuyer.shippingAddress as JsonObject;
    expect(JSON.parse(h.keyRing.decrypt(d.shipping_address_enc!, 'd1')!)).toMatchObject({ address1: shipping.address1, first_name: shipping.firstName, zip: shipping.zip });
    expect(h.keyRing.decrypt(d.invoice_url_enc!, 'd1')).toBe(withBuyer.invoiceUrl);
    expect(d.shipping_country_code).toBe(shipping.countryCodeV2);
    const rowText = JSON.stringify(d);
    for (const clear of [withBuyer.email, withBuyer.phone, shipping.address1, shipping.zip, shipping.lastName, withBuyer.invoiceUrl]) expect(rowText).not.toContain(String(clear));
    const buyerCheckout = shop.drafts.checkoutIds().map((id) => shop.drafts.checkoutNode(id)).find((n) => (n.customer as JsonObject | null)?.defaultEmailAddress && n.shippingAddress)!;
    const checkoutId = String(buyerCheckout.id).split('/').pop()!;
    const [c] = await q<Record<string, string | null>>(`SELECT email_enc, email_hash, recovery_url_enc, shipping_address_enc, customer_id::text AS customer_id, payload::text AS payload FROM shopify_abandoned_checkouts WHERE tenant_id = 'd1' AND id = $1`, [checkoutId]);
    const checkoutEmail = ((buyerCheckout.customer as JsonObject).defaultEmailAddress as JsonObject).emailAddress as string;
    expect(h.keyRing.decrypt(c.email_enc!, 'd1')).toBe(checkoutEmail);
    expect(h.keyRing.decrypt(c.recovery_url_enc!, 'd1')).toBe(buyerCheckout.abandonedCheckoutUrl);
    const checkoutText = JSON.stringify(c);
    for (const clear of [checkoutEmail, (buyerCheckout.shippingAddress as JsonObject).address1, buyerCheckout.abandonedCheckoutUrl]) expect(checkoutText).not.toContain(String(clear));

    // docs/schema.md's example queries run on these tables.
    const doc = readFileSync(new URL('../../docs/schema.md', import.meta.url), 'utf8');
    const conversion = /Draft orders by status[\s\S]*?```sql\n([\s\S]*?)```/.exec(doc)![1];
    const byStatus = await q<{ status: string; drafts: number; value: string }>(conversion, ['d1']);
    expect(byStatus.map((r) => r.status).sort()).toEqual(['completed', 'invoice_sent', 'open']);
    expect(byStatus.reduce((n, r) => n + Number(r.drafts), 0)).toBe(shop.drafts.draftIds().length);
    const abandonment = /Abandoned revenue by week[\s\S]*?```sql\n([\s\S]*?)```/.exec(doc)![1];
    const weeks = await q<{ week: Date; checkouts: number; recovered: number; abandoned_value: string }>(abandonment, ['d1']);
    expect(weeks.reduce((n, r) => n + Number(r.checkouts), 0)).toBe(shop.drafts.checkoutIds().length);
    expect(weeks.reduce((n, r) => n + Number(r.recovered), 0)).toBe(expectedCheckouts(shop).filter((x) => x.completed).length);
    const topVariants = /Most abandoned variants[\s\S]*?```sql\n([\s\S]*?)```/.exec(doc)![1];
    expect((await q(topVariants, ['d1'])).length).toBeGreaterThan(0);
    const draftLines = /Draft order line items per product[\s\S]*?```sql\n([\s\S]*?)```/.exec(doc)![1];
    expect((await q(draftLines, ['d1'])).length).toBeGreaterThan(0);

    // Incremental: drafts created, changed, invoiced and completed; checkouts created, changed, recovered,
    // and one not abandoned yet (not listed).
    const [d0, d1] = shop.drafts.draftIds();
    const created = shop.drafts.createDraft();
    shop.drafts.updateDraft(d0, { quantity: 7, addLine: true });
    shop.drafts.sendInvoice(created);
    const newOrder = BigInt(shop.create('orders').id as number);
    shop.drafts.completeDraft(d1, newOrder);
    const [c0, c1] = shop.drafts.checkoutIds();
    const newCheckout = shop.drafts.createCheckout();
    const pending = shop.drafts.createCheckout({ abandoned: false });
    shop.drafts.updateCheckout(c0, { quantity: 5, removeLine: true });
    shop.drafts.recoverCheckout(c1);
    const inc = await service.importAll({ resources: [...RESOURCES] });
    for (const name of RESOURCES) expect(inc[name], name).toMatchObject({ status: 'succeeded', mode: 'incremental', method: 'pages', failed: 0 });
    // Only the changed ones are read (the overlap may re-read a few).
    expect(inc.draftOrders.fetched).toBeLessThan(shop.drafts.draftIds().length);
    expect(inc.abandonedCheckouts.fetched).toBeLessThan(shop.drafts.checkoutIds().length);
    expect(await storedDrafts('d1')).toEqual(expectedDrafts(shop));
    expect(await storedCheckouts('d1')).toEqual(expectedCheckouts(shop));
    expect((await storedDrafts('d1')).find((x) => x.id === String(d1))).toMatchObject({ status: 'completed', order_id: String(newOrder) });
    expect((await storedCheckouts('d1')).map((x) => x.id)).toContain(String(newCheckout));
    expect((await storedCheckouts('d1')).map((x) => x.id)).not.toContain(String(pending));
    expect((await storedDrafts('d1')).map((x) => x.id)).toContain(String(created));

    // Deletions: a draft with a destroy event (incremental); a draft and a checkout whose delete
    // webhooks were lost and that have no event (full sync: id reconciliation).
    const [, , d2, d3] = shop.drafts.draftIds();
    shop.drafts.deleteDraft(d2, { event: true, webhook: false });
    expect(await service.importResource('draftOrders')).toMatchObject({ status: 'succeeded', deleted: 1 });
    shop.drafts.deleteDraft(d3, { webhook: false });
    const [, , c2] = shop.drafts.checkoutIds();
    shop.drafts.deleteCheckout(c2, { webhook: false });
    expect(await service.importResource('draftOrders', { mode: 'full' })).toMatchObject({ status: 'succeeded', deleted: 1 });
    expect(await service.importResource('abandonedCheckouts', { mode: 'full' })).toMatchObject({ status: 'succeeded', deleted: 1 });
    for (const [table, id] of [['shopify_draft_orders', d2], ['shopify_draft_orders', d3], ['shopify_abandoned_checkouts', c2]] as const) {
      expect((await q<{ gone: boolean }>(`SELECT deleted_at IS NOT NULL AS gone FROM ${table} WHERE tenant_id = 'd1' AND id = $1`, [String(id)]))[0].gone, `${table} ${id}`).toBe(true);
    }
    expect(await storedDrafts('d1')).toEqual(expectedDrafts(shop));
    expect(await storedCheckouts('d1')).toEqual(expectedCheckouts(shop));

    // customers/redact: the customer's drafts and checkouts lose every PII column and payload blob; analytics stay.
    const customerId = d.customer_id ?? c.customer_id!;
    await createStore(h.db.database).redactCustomer('d1', BigInt(customerId));
    const drafts = await q<Record<string, unknown>>(`SELECT email_enc, email_hash, phone_enc, shipping_address_enc, billing_address_enc, note_enc, invoice_url_enc, total_price, payload::text AS payload FROM shopify_draft_orders WHERE tenant_id = 'd1' AND customer_id = $1`, [customerId]);
    const checkouts = await q<Record<string, unknown>>(`SELECT email_enc, email_hash, phone_enc, shipping_address_enc, billing_address_enc, note_enc, recovery_url_enc, total_price, payload::text AS payload FROM shopify_abandoned_checkouts WHERE tenant_id = 'd1' AND customer_id = $1`, [customerId]);
    expect(drafts.length + checkouts.length).toBeGreaterThan(0);
    for (const row of [...drafts, ...checkouts]) {
      for (const [k, v] of Object.entries(row)) if (/_(enc|hash)$/.test(k)) expect(v, k).toBeNull();
      expect(row.total_price).not.toBeNull();
      expect(row.payload).not.toContain('_pii');
      expect(JSON.parse(row.payload as string)).toMatchObject({ redacted: true });
    }
    const others = await q<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_draft_orders WHERE tenant_id = 'd1' AND customer_id <> $1 AND email_enc IS NOT NULL`, [customerId]);
    expect(others[0].n).toBeGreaterThan(0);
  });

  it('paged listings (below bulkThreshold) store what the bulk operation stores; ids above 2^53 exact', async () => {
    const { client, shop } = await connectTenant(h, 'd2', 1);
    const paged = await importer(h, client, 'd2', { bulk: BULK }).importAll({ resources: [...RESOURCES], dateRange: { from: '1970-01-01T00:00:00Z' }, bulkThreshold: 1_000_000, pageSize: 3 });
    for (const name of RESOURCES) expect(paged[name], name).toMatchObject({ status: 'succeeded', method: 'pages', failed: 0 });
    expect(shop.drafts.draftIds()[0] > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(await storedDrafts('d2')).toEqual(expectedDrafts(shop));
    expect(await storedCheckouts('d2')).toEqual(expectedCheckouts(shop));
  });
});
