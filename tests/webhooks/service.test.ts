import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { createKeyRing } from '../../src/crypto/index.js';
import { createStore } from '../../src/store/index.js';
import { ShopifyTransformer } from '../../src/transform/index.js';
import { ShopifyIngestError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { createWebhookService, WebhookHandlerAggregateError, type CustomerDataExport, type WebhookService } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { captureBody, ENCRYPTION_KEY, SECRET, signedDelivery, toRequest } from './helpers/deliveries.js';

let db: TestDatabase;
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });
const exports: CustomerDataExport[] = [];

function service(over: Parameters<typeof createWebhookService>[1] = {}): WebhookService {
  return createWebhookService(db.database, {
    secrets: SECRET, keyRing, logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0,
    onDataRequest: (_tenantId, data) => { exports.push(data); },
    ...over,
  });
}

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_wh_service' });
});
afterAll(async () => { await db?.drop(); });
beforeEach(async () => {
  await db.query('DELETE FROM shopify_tenants');
  await createStore(db.database).upsertTenant({ id: 't1', shopDomain: 'shop.myshopify.com', accessTokenEnc: 'x' });
  await createStore(db.database).upsertTenant({ id: 't2', shopDomain: 'other.myshopify.com', accessTokenEnc: 'x' });
});

const send = (s: WebhookService, topic: string, body: unknown, options: Parameters<typeof signedDelivery>[2] = {}) =>
  s.handler(toRequest(signedDelivery(topic, body, options)));

describe('createWebhookService', () => {
  it('acks after a durable, encrypted insert, then applies the order through the importer path', async () => {
    const s = service();
    const order = await captureBody('orders.create');
    const res = await send(s, 'orders/create', order);
    expect(res.status).toBe(200);
    const [row] = await db.query(`SELECT tenant_id, topic, status, body_enc, event_id FROM shopify_webhook_inbox`);
    expect(row).toMatchObject({ tenant_id: 't1', topic: 'orders/create', status: 'pending' });
    expect(row!.body_enc).not.toContain('jon@example.com');
    expect(keyRing.isEncrypted(row!.body_enc)).toBe(true);
    expect(await s.processPending()).toBe(1);
    // admin_graphql_api_id carries the exact id; the re-serialised numeric one lost precision.
    const orders = await db.query(`SELECT id::text, email_enc, total_price::text FROM shopify_orders WHERE tenant_id = 't1'`);
    expect(orders).toEqual([{ id: '820982911946154508', email_enc: expect.stringMatching(/^v1\./), total_price: Number(order.total_price).toFixed(4) }]);
    const [done] = await db.query(`SELECT status, body_enc, processed_at FROM shopify_webhook_inbox`);
    expect(done).toMatchObject({ status: 'processed', body_enc: null });
    expect(await s.getStats()).toMatchObject({ received: 1, duplicates: 0, processed: 1, failed: 0, pending: 0 });
  });

  it('orders/edited (an order_edit body) fetches the edited order again and applies it; without a way to fetch it, the delivery fails and stays for replay', async () => {
    const order = await captureBody('orders.create');
    const fetched: Array<[string, string, string]> = [];
    const edited = { ...order, updated_at: '2030-01-01T00:00:00Z', line_items: (order.line_items as unknown[]).slice(0, 1) };
    const s = service({ fetchRecord: async (tenantId, resource, id) => { fetched.push([tenantId, resource, String(id)]); return edited; } });
    await send(s, 'orders/create', order);
    await s.processPending();
    // Shopify's orders/edited body (https://shopify.dev/docs/api/webhooks?reference=toml#list-of-topics-orders/edited), 64-bit id as sent.
    const body = '{"order_edit":{"id":1,"app_id":null,"created_at":"2030-01-01T00:00:00Z","committed_at":"2030-01-01T00:00:00Z","notify_customer":false,"order_id":820982911946154508,"staff_note":"","user_id":null,"line_items":{"additions":[],"removals":[]}}}';
    expect((await send(s, 'orders/edited', body, { webhookId: 'edit-1' })).status).toBe(200);
    expect(await s.processPending()).toBe(1);
    expect(fetched).toEqual([['t1', 'orders', '820982911946154508']]);
    const items = await db.query(`SELECT count(*)::int AS n FROM shopify_order_line_items WHERE tenant_id = 't1' AND order_id = 820982911946154508`);
    expect(items).toEqual([{ n: 1 }]);
    const [done] = await db.query(`SELECT status FROM shopify_webhook_inbox WHERE webhook_id = 'edit-1'`);
    expect(done).toMatchObject({ status: 'processed' });

    const bare = service();
    await send(bare, 'orders/edited', body, { webhookId: 'edit-2' });
    await bare.processPending();
    const [failed] = await db.query(`SELECT status, last_error FROM shopify_webhook_inbox WHERE webhook_id = 'edit-2'`);
    expect(failed!.status).not.toBe('processed');
    expect(String(failed!.last_error)).toContain('no client can fetch it');
  });

  it('acknowledges a duplicate without processing it again', async () => {
    const s = service();
    const seen: string[] = [];
    s.on('customers/create', (e) => { seen.push(e.webhookId); });
    const d = signedDelivery('customers/create', await captureBody('customers.create'), { webhookId: 'same' });
    expect((await s.handler(toRequest(d))).status).toBe(200);
    await s.processPending();
    const again = await s.handler(toRequest(d));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ ok: true, duplicate: true });
    expect(await s.processPending()).toBe(0);
    expect(seen).toEqual(['same']);
    expect(await s.getStats()).toMatchObject({ received: 2, duplicates: 1, processed: 1 });
    const [row] = await db.query(`SELECT duplicates FROM shopify_webhook_inbox`);
    expect(row!.duplicates).toBe(1);
  });

  it('ignores an older orders/updated and accepts products/update before products/create', async () => {
    const s = service();
    const base = { id: 1001, name: '#1001', email: 'x@example.com', created_at: '2025-01-01T00:00:00Z', currency: 'USD', total_price: '10.00', line_items: [] };
    await send(s, 'orders/updated', { ...base, updated_at: '2025-01-03T00:00:00Z', financial_status: 'paid' });
    await send(s, 'orders/updated', { ...base, updated_at: '2025-01-02T00:00:00Z', financial_status: 'pending' });
    await s.processPending();
    await send(s, 'orders/create', { ...base, updated_at: '2025-01-01T00:00:00Z', financial_status: 'pending' });
    await s.processPending();
    expect(await db.query(`SELECT financial_status FROM shopify_orders`)).toEqual([{ financial_status: 'paid' }]);

    const product = await captureBody('products.create');
    await send(s, 'products/update', { ...product, title: 'Newer', updated_at: '2030-01-02T00:00:00Z' });
    await s.processPending();
    await send(s, 'products/create', { ...product, title: 'Older', updated_at: '2030-01-01T00:00:00Z' });
    await s.processPending();
    expect(await db.query(`SELECT title FROM shopify_products`)).toEqual([{ title: 'Newer' }]);
  });

  it('tombstones deletes so a late create does not resurrect the record', async () => {
    const s = service();
    await send(s, 'customers/delete', { id: 42 }, { triggeredAt: '2025-02-01T00:00:00Z' });
    await s.processPending();
    await send(s, 'customers/create', { id: 42, email: 'late@example.com', created_at: '2025-01-01T00:00:00Z', updated_at: '2025-01-01T00:00:00Z' });
    await s.processPending();
    const rows = await db.query(`SELECT id::text, deleted_at FROM shopify_customers`);
    expect(rows).toEqual([{ id: '42', deleted_at: new Date('2025-02-01T00:00:00Z') }]);
  });

  it('types handlers per topic; failures aggregate with the event, are retried, end failed, and replay', async () => {
    let now = new Date('2025-05-01T00:00:00Z');
    const s = service({ clock: () => now, maxAttempts: 2, worker: { autoStart: false, backoff: { baseMs: 1000 } }, random: () => 0 });
    const errors: WebhookHandlerAggregateError[] = [];
    let failing = true;
    const names: string[] = [];
    s.on(['orders/paid', 'orders/create'], (event) => { names.push(String(event.payload.name)); });
    s.on('orders/paid', () => { if (failing) throw new Error('crm down'); });
    s.onAny(() => { if (failing) throw new Error('audit down'); });
    s.onError((e) => { errors.push(e); });
    await send(s, 'orders/paid', { id: 7, name: '#7', created_at: '2025-01-01T00:00:00Z', updated_at: '2025-01-01T00:00:00Z', line_items: [] });
    await s.processPending();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ShopifyIngestError);
    expect(errors[0]).toMatchObject({ code: 'WEBHOOK_HANDLER_FAILED' });
    expect(errors[0].errors.length).toBeGreaterThan(0);
    expect(errors[0]!.errors.map((e) => (e as Error).message)).toEqual(['crm down', 'audit down']);
    expect(errors[0]!.event).toMatchObject({ topic: 'orders/paid', tenantId: 't1', attempt: 1, payload: { id: 7, name: '#7' } });
    now = new Date(now.getTime() + 1000);
    await s.processPending();
    const [row] = await db.query(`SELECT id, status, attempts, last_error FROM shopify_webhook_inbox`);
    expect(row).toMatchObject({ status: 'failed', attempts: 2 });
    expect(row!.last_error).toContain('crm down');
    expect(await s.getStats()).toMatchObject({ failed: 2, deadLetters: 1 });
    failing = false;
    await s.replayWebhook(row!.id);
    await s.processPending();
    expect((await db.query(`SELECT status FROM shopify_webhook_inbox`))[0]!.status).toBe('processed');
    expect(names).toEqual(['#7', '#7', '#7']);
    await expect(s.replayWebhook('missing')).rejects.toMatchObject({ code: 'WEBHOOK_NOT_FOUND' });
  });

  it('dispatches bulk_operations/finish and topics the SDK does not apply (onAny)', async () => {
    const s = service();
    const bulk: string[] = [];
    const any: string[] = [];
    s.on('bulk_operations/finish', (e) => { bulk.push(`${e.payload.admin_graphql_api_id} ${e.payload.status}`); });
    s.onAny((e) => { any.push(e.topic); });
    await send(s, 'bulk_operations/finish', { admin_graphql_api_id: 'gid://shopify/BulkOperation/1', status: 'completed', type: 'query' });
    await send(s, 'themes/publish', { id: 1, name: 'Dawn', role: 'main' });
    await s.processPending();
    expect(bulk).toEqual(['gid://shopify/BulkOperation/1 completed']);
    expect(any.sort()).toEqual(['bulk_operations/finish', 'themes/publish']);
  });

  it('app/uninstalled deactivates the tenant: later deliveries 404, privacy topics still accepted', async () => {
    const s = service();
    await send(s, 'app/uninstalled', { id: 1, domain: 'shop.myshopify.com' });
    await s.processPending();
    expect((await db.query(`SELECT is_active FROM shopify_tenants WHERE id = 't1'`))[0]!.is_active).toBe(false);
    expect((await send(s, 'orders/create', { id: 1 })).status).toBe(404);
    expect((await send(s, 'shop/redact', { shop_id: 1, shop_domain: 'shop.myshopify.com' })).status).toBe(200);
    expect((await send(s, 'orders/create', { id: 1 }, { shop: 'unknown.myshopify.com' })).status).toBe(404);
    expect(await db.query(`SELECT count(*)::int AS n FROM shopify_webhook_inbox WHERE topic = 'orders/create'`)).toEqual([{ n: 0 }]);
  });

  it('customers/redact erases the PII of the customer and their orders (tables and inbox)', async () => {
    const s = service({ keepProcessedBodies: true });
    const customer = await captureBody('customers.create');
    const order = await captureBody('orders.create');
    const customerId = /\d+$/.exec(customer.admin_graphql_api_id)![0];
    await send(s, 'customers/create', customer);
    await send(s, 'orders/create', order);
    await s.processPending();
    const before = await db.query(`SELECT email_enc, payload::text FROM shopify_customers`);
    expect(before[0]!.email_enc).toBeTruthy();
    // Raw JSON text: these ids do not fit a double.
    await send(s, 'customers/data_request', `{"shop_id":1,"shop_domain":"shop.myshopify.com","customer":{"id":${customerId}},"orders_requested":[820982911946154508],"data_request":{"id":9}}`);
    await s.processPending();
    expect(exports).toHaveLength(1);
    expect(exports[0]!.customer).toMatchObject({ id: customerId, email: customer.email, firstName: customer.first_name });
    expect(exports[0]!.orders.map((o) => o.id)).toContain('820982911946154508');
    expect(exports[0]!.dataRequestId).toBe('9');

    await send(s, 'customers/redact', `{"shop_id":1,"shop_domain":"shop.myshopify.com","customer":{"id":${customerId},"email":"${customer.email}"},"orders_to_redact":[820982911946154508]}`);
    await s.processPending();
    const [c] = await db.query(`SELECT email_enc, email_hash, first_name_enc, last_name_enc, phone_enc, addresses_enc, payload::text AS payload FROM shopify_customers`);
    expect(c).toMatchObject({ email_enc: null, email_hash: null, first_name_enc: null, last_name_enc: null, phone_enc: null, addresses_enc: null });
    expect(c!.payload).not.toMatch(/_pii|v1\./);
    const [o] = await db.query(`SELECT email_enc, phone_enc, payload::text AS payload FROM shopify_orders`);
    expect(o).toMatchObject({ email_enc: null, phone_enc: null });
    const bodies = await db.query(`SELECT topic, body_enc FROM shopify_webhook_inbox WHERE body_enc IS NOT NULL`);
    expect(bodies).toEqual([]);
  });

  it('shop/redact deletes all of the tenant data and inbox rows but its own, not other tenants', async () => {
    const s = service();
    await send(s, 'customers/create', await captureBody('customers.create'));
    await send(s, 'orders/create', await captureBody('orders.create'), { shop: 'other.myshopify.com' });
    await s.processPending();
    await send(s, 'shop/redact', { shop_id: 1, shop_domain: 'shop.myshopify.com' });
    await s.processPending();
    expect(await db.query(`SELECT tenant_id FROM shopify_customers`)).toEqual([]);
    expect(await db.query(`SELECT tenant_id FROM shopify_orders`)).toEqual([{ tenant_id: 't2' }]);
    expect(await db.query(`SELECT tenant_id, topic, status FROM shopify_webhook_inbox ORDER BY tenant_id`)).toEqual([
      { tenant_id: 't1', topic: 'shop/redact', status: 'processed' }, { tenant_id: 't2', topic: 'orders/create', status: 'processed' },
    ]);
  });

  it('several workers share the inbox without processing a row twice', async () => {
    const a = service({ worker: { autoStart: false, workerId: 'a', batchSize: 5 } });
    const b = service({ worker: { autoStart: false, workerId: 'b', batchSize: 5 } });
    const counts = new Map<string, number>();
    const count = (e: { webhookId: string }) => { counts.set(e.webhookId, (counts.get(e.webhookId) ?? 0) + 1); };
    a.onAny(count);
    b.onAny(count);
    await Promise.all(Array.from({ length: 40 }, (_, i) => send(a, 'customers/update', { id: 500 + i, updated_at: '2025-01-01T00:00:00Z', email: `c${i}@example.com` })));
    await Promise.all([a.processPending(), b.processPending(), a.processPending(), b.processPending()]);
    expect(counts.size).toBe(40);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(await db.query(`SELECT count(*)::int AS n FROM shopify_customers`)).toEqual([{ n: 40 }]);
  });

  it('the in-process worker processes right after the ack, and picks up rows left before start', async () => {
    const s = service({ worker: { autoStart: false, pollIntervalMs: 50 } });
    await send(s, 'customers/update', { id: 900, updated_at: '2025-01-01T00:00:00Z' });
    const live = service({ worker: { pollIntervalMs: 60_000 } });
    await send(live, 'customers/update', { id: 901, updated_at: '2025-01-01T00:00:00Z' });
    await expect.poll(async () => (await db.query(`SELECT count(*)::int AS n FROM shopify_customers`))[0]!.n).toBe(2);
    await live.stop();
  });

  it('acknowledgements first: above the rate, the worker leaves fresh deliveries for later; ackPriority false applies them at once', async () => {
    const customers = async () => (await db.query(`SELECT count(*)::int AS n FROM shopify_customers`))[0]!.n as number;
    // abovePerSecond 0: any acknowledgement in the rate window (200 ms) counts as busy, from the first one on.
    // The service's clock stands still during the burst, so every delivery stays inside the window
    // however slowly this machine sends them; moving it on by a second ends the burst.
    let now = Date.now();
    const busy = service({ clock: () => new Date(now), worker: { pollIntervalMs: 50, ackPriority: { abovePerSecond: 0, maxDelayMs: 60_000 } } });
    const sent = 10;
    for (let i = 0; i < sent; i++) expect((await send(busy, 'customers/update', { id: 1000 + i, updated_at: '2025-01-01T00:00:00Z' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 400)); // several polls: each one defers
    expect(await customers()).toBe(0);
    expect((await busy.getStats()).pending).toBe(sent);
    // Once the burst is over (the rate window has passed), the worker applies them at its next poll.
    now += 1000;
    await expect.poll(customers, { timeout: 5000 }).toBe(sent);
    await busy.stop();

    const eager = service({ worker: { pollIntervalMs: 60_000, ackPriority: false } });
    for (let i = 0; i < 10; i++) await send(eager, 'customers/update', { id: 2000 + i, updated_at: '2025-01-01T00:00:00Z' });
    await expect.poll(customers, { timeout: 2000 }).toBe(sent + 10);
    await eager.stop();
  });

  it('applying a batch gives the event loop a turn every few milliseconds (acknowledgements are not held up by the whole batch)', async () => {
    // A transformer that takes 3 ms of CPU per customer: 40 of them would hold the loop for 120 ms.
    const real = new ShopifyTransformer({ keyRing });
    const slow = Object.assign(Object.create(real), {
      transformCustomer(data: unknown, tenantId: string) {
        for (const end = performance.now() + 3; performance.now() < end;);
        return real.transformCustomer(data as never, tenantId);
      },
    });
    const s = service({ transformer: slow });
    for (let i = 0; i < 40; i++) await send(s, 'customers/update', { id: 3000 + i, updated_at: '2025-01-01T00:00:00Z' });
    let last = performance.now();
    let longest = 0;
    const ticker = setInterval(() => { const t = performance.now(); longest = Math.max(longest, t - last); last = t; }, 1);
    try {
      expect(await s.processPending()).toBe(40);
    } finally {
      clearInterval(ticker);
    }
    expect(longest).toBeLessThan(60);
    expect((await db.query(`SELECT count(*)::int AS n FROM shopify_customers WHERE id >= 3000 AND id < 3040`))[0]!.n).toBe(40);
  });

  it('answers 503 when the database is down (nothing acknowledged and lost)', async () => {
    const down = new PrismaClient({ adapter: new PrismaPg({ connectionString: 'postgresql://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 500 }) });
    const s = createWebhookService(down, { secrets: SECRET, keyRing, logger: silentLogger, worker: { autoStart: false } });
    const res = await send(s, 'orders/create', { id: 1 });
    expect(res.status).toBe(503);
    await down.$disconnect();
  });
});
