/**
 * Rows encoded when read (src/store/encoded-rows.ts) written by the store into PostgreSQL: the same
 * tables as the same rows given as objects, copied straight in (a first backfill) or upserted, also
 * for a tenant id holding characters COPY's text format escapes (backslash, tab): a tenant id written
 * unescaped would land the rows under another tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createStore, type IngestStore } from '../../src/store/index.js';
import type { RowSet } from '../../src/resources/definition.js';
import { orderBundle } from './rows.js';

let db: TestDatabase;
let store: IngestStore;
beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_encoded' });
  store = createStore(db.database);
}, 180_000);
afterAll(async () => { await db?.drop(); });

const sql = <T = Record<string, unknown>>(query: string, ...values: unknown[]) => db.prisma.$queryRawUnsafe<T[]>(query, ...values);

async function tenant(id: string): Promise<string> {
  await store.upsertTenant({ id, shopDomain: `${id.replace(/[^a-z0-9]/g, '')}-${Date.now() % 100000}.myshopify.com`, accessTokenEnc: 'enc:token' });
  return id;
}

/** Two orders with line items and events, tagged as a bulk operation's rows; line items in a second batch. */
function batches(t: string): RowSet[] {
  const tag = 'op-1';
  const a = orderBundle(t, 1n, 3);
  const b = orderBundle(t, 2n, 2);
  const tagged = <T extends object>(rows: T[]) => rows.map((r) => ({ ...r, syncTag: tag }));
  return [
    { orders: tagged([...a.orders, ...b.orders]), events: [...a.events, ...b.events] },
    { lineItems: tagged([...a.lineItems, ...b.lineItems]) },
  ] as unknown as RowSet[];
}

function encode(rows: RowSet): RowSet {
  const encoder = store.rowEncoder!('orders')!;
  return Object.fromEntries(Object.entries(rows).map(([key, list]) => [key, list.map((row) => encoder.encode(key, row as Record<string, unknown>))]));
}

const tables = async (t: string) => ({
  orders: await sql(`SELECT id::text, name, total_price::text, line_item_count, sync_tag, shopify_updated_at, payload::text FROM shopify_orders WHERE tenant_id = $1 ORDER BY id`, t),
  lineItems: await sql(`SELECT id::text, order_id::text, title, price::text, sync_tag, payload::text FROM shopify_order_line_items WHERE tenant_id = $1 ORDER BY id`, t),
  events: await sql(`SELECT order_id::text, type, source_id::text, occurred_at, amount::text FROM shopify_order_events WHERE tenant_id = $1 ORDER BY order_id, type, source_id`, t),
});

describe('encoded rows written to PostgreSQL', () => {
  it('store the same tables as row objects, copied straight in or upserted, whatever the tenant id holds', async () => {
    expect(store.rowEncoder?.('orders')).not.toBeNull();
    for (const label of ['plain', 'back\\slash', 'tab\there']) {
      const [objects, direct, upsert] = [await tenant(`${label}-objects`), await tenant(`${label}-direct`), await tenant(`${label}-upsert`)];
      for (const rows of batches(objects)) await store.writeRows(objects, 'orders', rows, { mode: 'bulk' });
      for (const rows of batches(direct)) expect(await store.writeRows(direct, 'orders', encode(rows), { mode: 'bulk', direct: true })).toMatchObject({ direct: true });
      for (const rows of batches(upsert)) expect((await store.writeRows(upsert, 'orders', encode(rows), { mode: 'bulk' })).direct).toBeUndefined();
      const expected = await tables(objects);
      expect(expected.orders).toHaveLength(2);
      expect(expected.lineItems).toHaveLength(5);
      expect(await tables(direct), `${label}, copied straight in`).toEqual(expected);
      expect(await tables(upsert), `${label}, upserted`).toEqual(expected);
    }
    // Nothing landed under a tenant id the rows were not written for.
    const owners = await sql<{ tenant_id: string }>(`SELECT DISTINCT tenant_id FROM shopify_orders ORDER BY 1`);
    expect(owners.every((o) => /-(objects|direct|upsert)$/.test(o.tenant_id))).toBe(true);
    expect(owners).toHaveLength(9);
  });
});
