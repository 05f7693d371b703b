/**
 * Trimmed bodies: a subscription with `include_fields` delivers only some fields. A body lacking a
 * child list the resource's REST shape always carries (its GraphQL connections: products' `variants`,
 * orders' `line_items`) is not the whole record: written as sent it would remove every stored child
 * and null the columns it leaves out. It is read again (`fetchRecord`), as a capped body is; without
 * a client it fails with WEBHOOK_REFETCH_UNAVAILABLE and stays in the inbox, nothing changed.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { manualWebhookService, sendSigned } from './helpers/deliveries.js';

let db: TestDatabase;

const service = (over: Parameters<typeof manualWebhookService>[1] = {}) => manualWebhookService(db.database, over);
const send = sendSigned;

const variant = (id: number, productId: number, title: string) =>
  ({ id, product_id: productId, title, price: '1.00', created_at: '2024-01-01T00:00:00Z', updated_at: '2024-02-01T00:00:00Z' });
const product = (id: number, title: string, updatedAt: string) =>
  ({ id, title, handle: `h-${id}`, status: 'active', created_at: '2024-01-01T00:00:00Z', updated_at: updatedAt, variants: [variant(id * 10 + 1, id, 'a'), variant(id * 10 + 2, id, 'b')], options: [], images: [] });
const trimmed = (id: number, title: string) => ({ id, title, updated_at: '2024-03-01T00:00:00Z' });

const variants = async () => db.query(`SELECT id::text, deleted_at IS NOT NULL AS deleted FROM shopify_product_variants WHERE tenant_id = 't1' ORDER BY id`);
const products = async () => db.query(`SELECT id::text, title, handle FROM shopify_products WHERE tenant_id = 't1' ORDER BY id`);

beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_wh_partial' }); });
afterAll(async () => { await db?.drop(); });
beforeEach(async () => {
  await db.query('DELETE FROM shopify_tenants');
  await db.query('DELETE FROM shopify_webhook_inbox');
  await createStore(db.database).upsertTenant({ id: 't1', shopDomain: 'shop.myshopify.com', accessTokenEnc: 'x' });
});

describe('a products/update body without its variants', () => {
  it('without a client to read it again: nothing changes, the delivery waits for a client (WEBHOOK_REFETCH_UNAVAILABLE)', async () => {
    const s = service();
    await send(s, 'products/create', product(50, 't', '2024-02-01T00:00:00Z'));
    await s.processPending();

    await send(s, 'products/update', trimmed(50, 'renamed'), { webhookId: 'trimmed' });
    await s.processPending();

    expect(await variants()).toEqual([{ id: '501', deleted: false }, { id: '502', deleted: false }]);
    expect(await products()).toEqual([{ id: '50', title: 't', handle: 'h-50' }]);
    const [row] = await db.query(`SELECT status <> 'processed' AS waiting, last_error FROM shopify_webhook_inbox WHERE webhook_id = 'trimmed'`);
    expect(row).toMatchObject({ waiting: true, last_error: expect.stringContaining('no client can fetch it') });
  });

  it('with fetchRecord: the record read again is written whole, for each trimmed body of a batch', async () => {
    const fetched: string[] = [];
    const s = service({ fetchRecord: async (_tenantId, resource, id) => { fetched.push(`${resource}/${id}`); return product(Number(id), `fetched ${id}`, '2024-03-01T00:00:00Z'); } });
    await send(s, 'products/create', product(50, 't', '2024-02-01T00:00:00Z'));
    await send(s, 'products/create', product(60, 't', '2024-02-01T00:00:00Z'));
    await s.processPending();

    // Two of one resource in one batch would otherwise be written together as they are.
    await send(s, 'products/update', trimmed(50, 'renamed'));
    await send(s, 'products/update', trimmed(60, 'renamed'));
    await s.processPending();

    expect(fetched.sort()).toEqual(['products/50', 'products/60']);
    expect(await products()).toEqual([{ id: '50', title: 'fetched 50', handle: 'h-50' }, { id: '60', title: 'fetched 60', handle: 'h-60' }]);
    expect((await variants()).filter((v) => v.deleted)).toEqual([]);
  });

  it('a body that lists its variants is written as sent, without reading it again', async () => {
    const fetched: string[] = [];
    const s = service({ fetchRecord: async (_tenantId, resource, id) => { fetched.push(`${resource}/${id}`); return null; } });
    await send(s, 'products/update', product(70, 'sent', '2024-02-01T00:00:00Z'));
    await s.processPending();
    expect(fetched).toEqual([]);
    expect(await products()).toEqual([{ id: '70', title: 'sent', handle: 'h-70' }]);
  });
});

describe('an orders/updated body without its line_items', () => {
  it('keeps the stored line items (the order is read again)', async () => {
    const order = { id: 80, name: '#1001', email: 'a@example.com', currency: 'USD', total_price: '2.00', created_at: '2024-01-01T00:00:00Z', updated_at: '2024-02-01T00:00:00Z', line_items: [{ id: 801, title: 'x', quantity: 1, price: '2.00' }] };
    const s = service();
    await send(s, 'orders/create', order);
    await s.processPending();

    await send(s, 'orders/updated', { id: 80, updated_at: '2024-03-01T00:00:00Z', note: 'trimmed' });
    await s.processPending();

    expect(await db.query(`SELECT id::text FROM shopify_order_line_items WHERE tenant_id = 't1'`)).toEqual([{ id: '801' }]);
    expect(await db.query(`SELECT name FROM shopify_orders WHERE tenant_id = 't1'`)).toEqual([{ name: '#1001' }]);
  });
});
