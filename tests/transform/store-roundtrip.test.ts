/**
 * Transformed fixtures written by the real store into real PostgreSQL: ids exact beyond 2^53, money
 * exact, times UTC, and no plaintext PII anywhere in a dump of the tables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { skipFileWithoutFixtures } from '../helpers/fixtures.js';
import { revealPayload } from '../../src/transform/index.js';
import { restOrdersPage, ring, strings, transformer, webhookBody } from './helpers.js';

const T = 'tenant-roundtrip';
let db: TestDatabase;
const samples = skipFileWithoutFixtures();

beforeAll(async () => {
  if (!samples) return;
  db = await createTestDatabase({ prefix: 'si_transform' });
  const store = createStore(db.database);
  await store.upsertTenant({ id: T, shopDomain: 'roundtrip.myshopify.com', accessTokenEnc: ring.encrypt('shpat_x', T) });
  const [restOrder] = await restOrdersPage();
  await store.upsertOrders(T, transformer.transformOrdersBatch([restOrder, await webhookBody('orders.create')], T));
  await store.upsertCustomers(T, transformer.transformCustomersBatch([await webhookBody('customers.create'), restOrder.customer], T).customers);
  await store.upsertProducts(T, transformer.transformProductsBatch([await webhookBody('products.create')], T));
});

afterAll(async () => { await db?.drop(); });

describe('rows in PostgreSQL', () => {
  it('keeps ids beyond 2^53, money and UTC times exact', async () => {
    const orders = await db.query(`select id::text, customer_id::text, total_price::text, total_refunded::text, to_char(shopify_created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') as created from shopify_orders where tenant_id = $1 order by id`, [T]);
    expect(orders).toEqual([
      { id: '450789469', customer_id: '207119551', total_price: '598.9400', total_refunded: '209.0000', created: '2008-01-10T16:00:00' },
      { id: '820982911946154508', customer_id: '115310627314723954', total_price: '388.0000', total_refunded: '0.0000', created: '2022-01-01T00:00:00' },
    ]);
    const payloadIds = await db.query(`select payload->>'id' as id, payload->'line_items'->0->>'id' as line from shopify_orders where tenant_id = $1 order by id`, [T]);
    expect(payloadIds[1]).toEqual({ id: '820982911946154508', line: '866550311766439020' });
    const lines = await db.query(`select id::text, order_id::text, price::text from shopify_order_line_items where tenant_id = $1 order by order_id, id`, [T]);
    expect(lines.map((l) => l.id)).toEqual(['466157049', '518995019', '703073504', '141249953214522974', '866550311766439020']);
    const variants = await db.query(`select id::text, product_id::text, price::text from shopify_product_variants where tenant_id = $1 order by id`, [T]);
    expect(variants).toEqual([
      { id: '642667041472713922', product_id: '788032119674292922', price: '19.9900' },
      { id: '757650484644203962', product_id: '788032119674292922', price: '19.9900' },
    ]);
  });

  it('holds no plaintext PII in any table, and decrypts back', async () => {
    const [restOrder] = await restOrdersPage();
    const sources = [restOrder, await webhookBody('orders.create'), await webhookBody('customers.create')];
    const pii = new Set<string>();
    for (const source of sources) strings(source, new Set(['email', 'contact_email', 'phone', 'first_name', 'last_name', 'address1', 'zip', 'company', 'browser_ip', 'name']), pii);
    for (const notPii of ['#1001', '#9999', 'IPod Nano - 8gb', 'IPod Nano - 8GB', 'IPod Nano - 8gb - green', 'IPod Nano - 8gb - red', 'IPod Nano - 8gb - black', 'IPod Nano - 8GB', '#1001.0', 'State Tax', 'Generic Shipping', 'Free Shipping', 'custom engraving', 'colour', 'Custom Engraving Front', 'Custom Engraving Back']) pii.delete(notPii);
    expect(pii.has('bob.norman@mail.example.com') && pii.has('Steve Shipper') && pii.has('40202')).toBe(true);
    const tables = ['shopify_orders', 'shopify_order_line_items', 'shopify_order_events', 'shopify_customers', 'shopify_products', 'shopify_product_variants'];
    let dump = '';
    for (const table of tables) {
      const rows = await db.query(`select t::text as row from ${table} t where tenant_id = $1`, [T]);
      dump += rows.map((r) => r.row).join('\n');
    }
    dump = dump.replace(/v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, '<enc>');
    expect(dump.length).toBeGreaterThan(10_000);
    for (const value of pii) expect(dump, `plaintext ${JSON.stringify(value)} in the database`).not.toContain(value);

    const [customer] = await db.query(`select email_enc, email_hash, payload::text from shopify_customers where tenant_id = $1 and id = 706405506930370084`, [T]);
    expect(ring.decrypt(customer.email_enc, T)).toBe('bob@biller.com');
    expect(customer.email_hash).toBe(ring.blindIndex('bob@biller.com'));
    const [order] = await db.query(`select payload::text from shopify_orders where tenant_id = $1 and id = 450789469`, [T]);
    expect(revealPayload(order.payload, T, ring)).toEqual(restOrder);
  });
});
