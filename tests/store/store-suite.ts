import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError, TenantError } from '../../src/errors.js';
import { parseShopifyJson } from '../../src/json.js';
import { createStore, type DatabaseHandle, type IngestStore, type PrismaLike } from '../../src/store/index.js';
import { at, customer, event, lineItem, mergeBundles, order, orderBundle, product, variant } from './rows.js';

export interface OpenedDatabase {
  prisma: PrismaLike;
  /** What the SDK is given (the PrismaClient itself, or a handle with a pool). */
  database: PrismaLike | DatabaseHandle;
  close(): Promise<void>;
}

/**
 * The store's behaviour, run against each backend (PostgreSQL through adapter-pg, embedded PGlite).
 * Each test uses its own tenant ids, so tests do not depend on each other's rows.
 */
export function defineStoreSuite(backend: string, open: () => Promise<OpenedDatabase>): void {
  describe(`store on ${backend}`, () => {
    let db: OpenedDatabase;
    let store: IngestStore;
    let sql: <T = Record<string, unknown>>(query: string, ...values: unknown[]) => Promise<T[]>;
    let tenantSeq = 0;

    /** A fresh tenant (row in shopify_tenants) per test. */
    async function tenant(label = 't'): Promise<string> {
      const id = `${label}-${++tenantSeq}-${Math.random().toString(36).slice(2, 8)}`;
      await store.upsertTenant({ id, shopDomain: `${id}.myshopify.com`, accessTokenEnc: 'enc:token' });
      return id;
    }

    const customerRows = (tenantId: string) =>
      sql<{ id: string; payload: string; email_enc: string | null; shopify_updated_at: Date; deleted_at: Date | null; total_spent: string | null }>(
        `SELECT id::text, payload::text, email_enc, shopify_updated_at, deleted_at, total_spent::text FROM shopify_customers WHERE tenant_id = $1 ORDER BY id`,
        tenantId,
      );
    const lineItemIds = async (tenantId: string, orderId: bigint) =>
      (await sql<{ id: string }>(`SELECT id::text FROM shopify_order_line_items WHERE tenant_id = $1 AND order_id = $2::bigint ORDER BY id`, tenantId, orderId.toString())).map((r) => r.id);

    beforeAll(async () => {
      db = await open();
      store = createStore(db.database);
      sql = (query, ...values) => db.prisma.$queryRawUnsafe(query, ...values);
    }, 180_000);
    afterAll(async () => {
      await db?.close();
    });

    describe('idempotency', () => {
      it('writes the same customer batch twice to the same rows', async () => {
        const t = await tenant();
        const batch = [customer(t, 1n), customer(t, 2n, { totalSpent: '0.10' }), customer(t, 3n, { deletedAt: null, tags: null })];
        expect(await store.upsertCustomers(t, batch)).toEqual({ written: 3, stale: 0 });
        const first = await customerRows(t);
        expect(await store.upsertCustomers(t, batch)).toEqual({ written: 3, stale: 0 });
        expect(await customerRows(t)).toEqual(first);
        expect(first.map((r) => r.total_spent)).toEqual(['19.9900', '0.1000', '19.9900']);
      });

      it('writes the same order bundle twice to the same orders, line items and events', async () => {
        const t = await tenant();
        const bundle = mergeBundles(orderBundle(t, 10n), orderBundle(t, 11n, 2));
        const first = await store.upsertOrders(t, bundle);
        expect(first).toMatchObject({ written: 2, stale: 0 });
        const snapshot = () => sql(`SELECT o.id::text, o.total_price::text, (SELECT count(*)::int FROM shopify_order_line_items l WHERE l.tenant_id = o.tenant_id AND l.order_id = o.id) AS lines,
          (SELECT count(*)::int FROM shopify_order_events e WHERE e.tenant_id = o.tenant_id AND e.order_id = o.id) AS events FROM shopify_orders o WHERE o.tenant_id = $1 ORDER BY o.id`, t);
        const before = await snapshot();
        await store.upsertOrders(t, bundle);
        expect(await snapshot()).toEqual(before);
        expect(before).toEqual([
          { id: '10', total_price: '33.3000', lines: 3, events: 2 },
          { id: '11', total_price: '33.3000', lines: 2, events: 2 },
        ]);
        expect(await store.countRecords(t)).toMatchObject({ customers: 0, products: 0, variants: 0, orders: 2, lineItems: 5 });
      });

      it('stores any text exactly: quotes, backslashes, JSON look-alikes, non-ASCII, and payload text cannot reach other fields', async () => {
        const t = await tenant();
        const tricky = 'a "quoted" \\ back\\slash, tab\t, newline\n, cr\r, \\N, \\t, é ☃ 😀, },{"0":"999","1":"x';
        const payload = JSON.stringify({ id: 5, note: tricky, nested: { s: '"},{"0":"6"' } });
        // `\N` alone is COPY's null marker: as text it must stay text, and a real null must stay null.
        expect(await store.upsertCustomers(t, [customer(t, 5n, { tags: tricky, payload, phoneEnc: '\\N' }), customer(t, 6n, { tags: '\\N', phoneEnc: null })])).toEqual({ written: 2, stale: 0 });
        const rows = await sql<{ id: string; tags: string; note: string | null; nested: string | null; phone_enc: string | null }>(
          `SELECT id::text, tags, payload->>'note' AS note, payload->'nested'->>'s' AS nested, phone_enc FROM shopify_customers WHERE tenant_id = $1 ORDER BY id`, t);
        expect(rows).toEqual([
          { id: '5', tags: tricky, note: tricky, nested: '"},{"0":"6"', phone_enc: '\\N' },
          { id: '6', tags: '\\N', note: 'v1', nested: null, phone_enc: null },
        ]);
      });

      it('writes a batch larger than one streamed chunk completely and exactly', async () => {
        const t = await tenant();
        const big = 'x'.repeat(2000);
        const batch = Array.from({ length: 300 }, (_, i) => customer(t, BigInt(1000 + i), { payload: JSON.stringify({ id: 1000 + i, note: `${i}:${big}` }) }));
        expect(await store.upsertCustomers(t, batch)).toEqual({ written: 300, stale: 0 });
        const rows = await sql<{ n: number; bad: number }>(
          `SELECT count(*)::int AS n, count(*) FILTER (WHERE payload->>'note' <> (id - 1000)::text || ':' || repeat('x', 2000))::int AS bad FROM shopify_customers WHERE tenant_id = $1`, t);
        expect(rows).toEqual([{ n: 300, bad: 0 }]);
      });

      it('keeps the newest version when a batch repeats an id, without ON CONFLICT errors', async () => {
        const t = await tenant();
        const v1 = customer(t, 7n, { shopifyUpdatedAt: at('2024-03-01T00:00:00Z'), payload: '{"v":1}' });
        const v3 = customer(t, 7n, { shopifyUpdatedAt: at('2024-03-03T00:00:00Z'), payload: '{"v":3}' });
        const v2 = customer(t, 7n, { shopifyUpdatedAt: at('2024-03-02T00:00:00Z'), payload: '{"v":2}' });
        expect(await store.upsertCustomers(t, [v1, v3, v2])).toEqual({ written: 1, stale: 2 });
        expect((await customerRows(t))[0].payload).toBe('{"v": 3}');

        const o1 = orderBundle(t, 20n, 2, { shopifyUpdatedAt: at('2024-03-01T00:00:00Z') });
        const o2 = orderBundle(t, 20n, 2, { shopifyUpdatedAt: at('2024-03-02T00:00:00Z'), totalPrice: '99.00' });
        const result = await store.upsertOrders(t, mergeBundles(o2, o1));
        expect(result).toMatchObject({ written: 1, stale: 1 });
        const [row] = await sql<{ total_price: string }>(`SELECT total_price::text FROM shopify_orders WHERE tenant_id = $1`, t);
        expect(row.total_price).toBe('99.0000');
        expect(await lineItemIds(t, 20n)).toEqual(['201', '202']);
      });
    });

    describe('versions', () => {
      it('never lets an older update overwrite a newer one; an equal one rewrites', async () => {
        const t = await tenant();
        await store.upsertCustomers(t, [customer(t, 1n, { shopifyUpdatedAt: at('2024-05-02T00:00:00Z'), payload: '{"v":"new"}' })]);
        expect(await store.upsertCustomers(t, [customer(t, 1n, { shopifyUpdatedAt: at('2024-05-01T00:00:00Z'), payload: '{"v":"old"}' })])).toEqual({ written: 0, stale: 1 });
        expect((await customerRows(t))[0].payload).toBe('{"v": "new"}');
        expect(await store.upsertCustomers(t, [customer(t, 1n, { shopifyUpdatedAt: at('2024-05-02T00:00:00Z'), payload: '{"v":"same-time"}' })])).toEqual({ written: 1, stale: 0 });
        expect((await customerRows(t))[0].payload).toBe('{"v": "same-time"}');
      });

      it('breaks a tie of updated_at by when each version was observed, in every write form; a version without observed_at wins the tie', async () => {
        const t = await tenant();
        const second = at('2024-05-02T10:00:00Z');
        const observed = (ms: number) => new Date(second.getTime() + ms);
        const v = (label: string, observedAt: Date | null, over: Partial<Parameters<typeof customer>[2]> = {}) =>
          ({ ...customer(t, 1n, { shopifyUpdatedAt: second, payload: `{"v":"${label}"}`, ...over }), observedAt });
        const stored = async () => {
          const [row] = await sql<{ payload: string; observed_at: Date | null }>(`SELECT payload::text, observed_at FROM shopify_customers WHERE tenant_id = $1 AND id = 1`, t);
          return { payload: row.payload, observedAt: row.observed_at?.toISOString() ?? null };
        };
        // Version B, raised 700 ms into the second, stored first; version A (200 ms) arrives after it.
        await store.writeRows(t, 'customers', { customers: [v('B', observed(700))] });
        expect(await store.writeRows(t, 'customers', { customers: [v('A', observed(200))] })).toMatchObject({ written: 0, stale: 1 });
        expect(await stored()).toEqual({ payload: '{"v": "B"}', observedAt: observed(700).toISOString() });
        // The same in a bulk batch, and in a bulk batch asked to be copied straight in (it gives way to the rule).
        expect(await store.writeRows(t, 'customers', { customers: [v('A', observed(200))] }, { mode: 'bulk' })).toMatchObject({ written: 0, stale: 1 });
        expect(await store.writeRows(t, 'customers', { customers: [v('A', observed(200))] }, { mode: 'bulk', direct: true })).toMatchObject({ written: 0, stale: 1 });
        // Both in one batch, older last: the one observed later is kept.
        expect(await store.writeRows(t, 'customers', { customers: [v('C', observed(900)), v('A', observed(200))] })).toMatchObject({ written: 1, stale: 1 });
        expect((await stored()).payload).toBe('{"v": "C"}');
        // Observed at the same time: a rewrite (the same version replayed).
        expect(await store.writeRows(t, 'customers', { customers: [v('C2', observed(900))] })).toMatchObject({ written: 1 });
        // A newer updated_at wins whenever it was observed.
        const next = new Date(second.getTime() + 1000);
        expect(await store.writeRows(t, 'customers', { customers: [v('D', observed(-60_000), { shopifyUpdatedAt: next })] })).toMatchObject({ written: 1 });
        expect(await stored()).toEqual({ payload: '{"v": "D"}', observedAt: observed(-60_000).toISOString() });
        // Rows that do not say when they were observed (the seed's upsert API): the tie rewrites, as before.
        expect(await store.upsertCustomers(t, [customer(t, 1n, { shopifyUpdatedAt: next, payload: '{"v":"E"}' })])).toEqual({ written: 1, stale: 0 });
        expect(await stored()).toEqual({ payload: '{"v": "E"}', observedAt: null });
        expect(await store.writeRows(t, 'customers', { customers: [v('F', observed(-120_000), { shopifyUpdatedAt: next })] })).toMatchObject({ written: 1 });
        expect((await stored()).payload).toBe('{"v": "F"}');
      });

      it('breaks a tie of a versioned child (variants) the same way', async () => {
        const t = await tenant();
        const second = at('2024-05-02T10:00:00Z');
        const bundle = (productUpdatedAt: Date, price: string, observedMs: number) => {
          const observedAt = new Date(second.getTime() + observedMs);
          return {
            products: [{ ...product(t, 9n, { shopifyUpdatedAt: productUpdatedAt }), observedAt }],
            variants: [{ ...variant(t, 9n, 91n, { shopifyUpdatedAt: second, price }), observedAt }],
          };
        };
        await store.writeRows(t, 'products', bundle(second, '2.00', 800));
        // The product's newer version wins; its variant, the same second but observed earlier, does not.
        expect(await store.writeRows(t, 'products', bundle(new Date(second.getTime() + 1000), '1.00', 100))).toMatchObject({ written: 1, stale: 0 });
        const [row] = await sql<{ price: string }>(`SELECT price::text FROM shopify_product_variants WHERE tenant_id = $1 AND id = 91`, t);
        expect(row.price).toBe('2.0000');
      });

      it('leaves line items and events of an order whose incoming version lost untouched', async () => {
        const t = await tenant();
        await store.upsertOrders(t, orderBundle(t, 30n, 3, { shopifyUpdatedAt: at('2024-05-02T00:00:00Z') }));
        const stale = {
          orders: [order(t, 30n, { shopifyUpdatedAt: at('2024-05-01T00:00:00Z'), totalPrice: '1.00' })],
          lineItems: [lineItem(t, 30n, 309n)],
          events: [event(t, 30n, 'cancelled')],
        };
        expect(await store.upsertOrders(t, stale)).toMatchObject({ written: 0, stale: 1, lineItems: 0, lineItemsRemoved: 0 });
        expect(await lineItemIds(t, 30n)).toEqual(['301', '302', '303']);
        const types = await sql<{ type: string }>(`SELECT type FROM shopify_order_events WHERE tenant_id = $1 ORDER BY type`, t);
        expect(types.map((r) => r.type)).toEqual(['created', 'paid']);
      });

      it('replaces the line items and events of an order whose newer version won', async () => {
        const t = await tenant();
        await store.upsertOrders(t, orderBundle(t, 40n, 3));
        const next = {
          orders: [order(t, 40n, { shopifyUpdatedAt: at('2024-06-01T00:00:00Z') })],
          lineItems: [lineItem(t, 40n, 401n, { quantity: 5 }), lineItem(t, 40n, 402n), lineItem(t, 40n, 409n)],
          events: [event(t, 40n, 'created'), event(t, 40n, 'refunded', { sourceId: 999n, amount: '5.00' })],
        };
        expect(await store.upsertOrders(t, next)).toMatchObject({ written: 1, lineItems: 3, lineItemsRemoved: 1, events: 2, eventsRemoved: 1 });
        expect(await lineItemIds(t, 40n)).toEqual(['401', '402', '409']);
        const [li] = await sql<{ quantity: number }>(`SELECT quantity FROM shopify_order_line_items WHERE tenant_id = $1 AND id = 401`, t);
        expect(li.quantity).toBe(5);
        const events = await sql<{ type: string; source_id: string; amount: string | null }>(
          `SELECT type, source_id::text, amount::text FROM shopify_order_events WHERE tenant_id = $1 ORDER BY type`, t);
        expect(events).toEqual([{ type: 'created', source_id: '40', amount: null }, { type: 'refunded', source_id: '999', amount: '5.0000' }]);
      });
    });

    describe('tombstones', () => {
      it('tombstones a stored row; older and newer live versions never resurrect it', async () => {
        const t = await tenant();
        await store.upsertCustomers(t, [customer(t, 1n, { shopifyUpdatedAt: at('2024-01-02T00:00:00Z') })]);
        expect(await store.markDeleted(t, 'customers', [1n], at('2024-01-03T00:00:00Z'))).toBe(1);
        expect(await store.markDeleted(t, 'customers', [1n], at('2024-01-04T00:00:00Z'))).toBe(0);
        expect(await store.upsertCustomers(t, [customer(t, 1n, { shopifyUpdatedAt: at('2024-01-02T12:00:00Z') })])).toEqual({ written: 0, stale: 1 });
        expect(await store.upsertCustomers(t, [customer(t, 1n, { shopifyUpdatedAt: at('2024-01-09T00:00:00Z') })])).toEqual({ written: 0, stale: 1 });
        const [row] = await customerRows(t);
        expect(row.deleted_at).toEqual(at('2024-01-03T00:00:00Z'));
        expect(row.shopify_updated_at).toEqual(at('2024-01-03T00:00:00Z'));
        expect(await store.countRecords(t)).toMatchObject({ customers: 0 });
        expect(await store.countRecords(t, { includeDeleted: true })).toMatchObject({ customers: 1 });
      });

      it('lists stored live ids by keyset range, older than a time, for one tenant only', async () => {
        const t = await tenant();
        const other = await tenant('other');
        const big = 820982911946154508n;
        await store.upsertCustomers(t, [1n, 2n, 3n, 4n, big].map((id) => customer(t, id, { shopifyUpdatedAt: at('2024-01-01T00:00:00Z') })));
        await store.upsertCustomers(t, [customer(t, 5n, { shopifyUpdatedAt: at('2024-06-01T00:00:00Z') })]);
        await store.upsertCustomers(other, [customer(other, 6n, { shopifyUpdatedAt: at('2024-01-01T00:00:00Z') })]);
        await store.markDeleted(t, 'customers', [3n], at('2024-02-01T00:00:00Z'));
        const before = at('2024-03-01T00:00:00Z');
        expect(await store.listStoredIds(t, 'customers', { afterId: null, upToId: null, changedBefore: before, limit: 100 })).toEqual([1n, 2n, 4n, big]);
        expect(await store.listStoredIds(t, 'customers', { afterId: null, upToId: null, changedBefore: before, limit: 2 })).toEqual([1n, 2n]);
        expect(await store.listStoredIds(t, 'customers', { afterId: 2n, upToId: 4n, changedBefore: before, limit: 100 })).toEqual([4n]);
        expect(await store.listStoredIds(t, 'customers', { afterId: 4n, upToId: null, changedBefore: at('2030-01-01T00:00:00Z'), limit: 100 })).toEqual([5n, big]);
        await expect(store.listStoredIds('', 'customers', { afterId: null, upToId: null, changedBefore: before, limit: 1 })).rejects.toMatchObject({ code: 'TENANT_REQUIRED' });
      });

      it('tombstones a never-seen id, so a create that arrives later loses', async () => {
        const t = await tenant();
        expect(await store.markDeleted(t, 'orders', [50n, 50n], at('2024-02-01T00:00:00Z'))).toBe(1);
        expect(await store.existingIds(t, 'orders', [50n, 51n])).toEqual(new Set([50n]));
        const late = await store.upsertOrders(t, orderBundle(t, 50n, 2, { shopifyUpdatedAt: at('2024-01-31T00:00:00Z') }));
        expect(late).toMatchObject({ written: 0, stale: 1, lineItems: 0 });
        expect(await lineItemIds(t, 50n)).toEqual([]);
        const [row] = await sql<{ deleted_at: Date; payload: string }>(`SELECT deleted_at, payload::text FROM shopify_orders WHERE tenant_id = $1`, t);
        expect(row).toEqual({ deleted_at: at('2024-02-01T00:00:00Z'), payload: '{"id": 50}' });
      });

      it('does not tombstone a row changed after the delete time', async () => {
        const t = await tenant();
        await store.upsertCustomers(t, [customer(t, 1n, { shopifyUpdatedAt: at('2024-03-05T00:00:00Z') })]);
        expect(await store.markDeleted(t, 'customers', [1n], at('2024-03-04T00:00:00Z'))).toBe(0);
        expect((await customerRows(t))[0].deleted_at).toBeNull();
      });

      it('accepts a tombstone through upsert when it is not older', async () => {
        const t = await tenant();
        await store.upsertCustomers(t, [customer(t, 1n)]);
        const tomb = customer(t, 1n, { shopifyUpdatedAt: at('2024-01-05T00:00:00Z'), deletedAt: at('2024-01-05T00:00:00Z') });
        expect(await store.upsertCustomers(t, [tomb])).toEqual({ written: 1, stale: 0 });
        expect((await customerRows(t))[0].deleted_at).toEqual(at('2024-01-05T00:00:00Z'));
      });

      it('tombstones variants a product update no longer lists, and all variants of a deleted product', async () => {
        const t = await tenant();
        await store.upsertProducts(t, { products: [product(t, 60n)], variants: [variant(t, 60n, 601n), variant(t, 60n, 602n)] });
        const next = await store.upsertProducts(t, {
          products: [product(t, 60n, { shopifyUpdatedAt: at('2024-02-01T00:00:00Z'), title: 'Renamed' })],
          variants: [variant(t, 60n, 601n, { shopifyUpdatedAt: at('2024-02-01T00:00:00Z'), price: '12.50' })],
        });
        expect(next).toMatchObject({ written: 1, variants: 1, variantsRemoved: 1 });
        const variants = () => sql<{ id: string; price: string; deleted_at: Date | null }>(
          `SELECT id::text, price::text, deleted_at FROM shopify_product_variants WHERE tenant_id = $1 ORDER BY id`, t);
        expect(await variants()).toEqual([
          { id: '601', price: '12.5000', deleted_at: null },
          { id: '602', price: '10.0000', deleted_at: at('2024-02-01T00:00:00Z') },
        ]);
        expect(await store.markDeleted(t, 'products', [60n], at('2024-03-01T00:00:00Z'))).toBe(1);
        expect((await variants()).map((v) => v.deleted_at)).toEqual([at('2024-03-01T00:00:00Z'), at('2024-02-01T00:00:00Z')]);
        expect(await store.countRecords(t)).toMatchObject({ products: 0, variants: 0 });
      });
    });

    describe('bulk operation output (children matched to parents by tag)', () => {
      const tag = 'bulk:901';
      const tagged = <T extends object>(rows: T[], t = tag) => rows.map((r) => ({ ...r, syncTag: t }));

      it('writes children arriving in later batches, in any order, only for parents the same operation wrote', async () => {
        const t = await tenant();
        const a = orderBundle(t, 1n, 3);
        const b = orderBundle(t, 2n, 2);
        // Batch 1: both parents (their lines carry no line items) and one child of order 2 that came early.
        const first = await store.writeRows(t, 'orders', { orders: tagged([...a.orders, ...b.orders].map((o) => ({ ...o, lineItemCount: null }))), lineItems: tagged([b.lineItems[1]]), events: [...a.events, ...b.events] }, { mode: 'bulk' });
        expect(first.written).toBe(2);
        expect(first.tables.written.lineItems).toBe(1);
        // Batch 2: the rest, shuffled.
        const second = await store.writeRows(t, 'orders', { lineItems: tagged([a.lineItems[2], b.lineItems[0], a.lineItems[0], a.lineItems[1]]) }, { mode: 'bulk' });
        expect(second.tables.written.lineItems).toBe(4);
        expect(await lineItemIds(t, 1n)).toEqual(['11', '12', '13']);
        expect(await lineItemIds(t, 2n)).toEqual(['21', '22']);
        expect(await sql(`SELECT count(*)::int AS n FROM shopify_order_events WHERE tenant_id = $1`, t)).toEqual([{ n: 4 }]);
      });

      it('skips children of a parent stored in a newer version by someone else, and counts orphans', async () => {
        const t = await tenant();
        // A webhook stored order 5 at a newer version, with its own line items.
        await store.upsertOrders(t, orderBundle(t, 5n, 1, { shopifyUpdatedAt: at('2024-03-01T00:00:00Z') }));
        const stale = orderBundle(t, 5n, 2);
        const r = await store.writeRows(t, 'orders', { orders: tagged(stale.orders), lineItems: tagged(stale.lineItems), events: stale.events }, { mode: 'bulk' });
        expect(r.written).toBe(0);
        expect(r.tables.skipped.lineItems).toBe(2);
        expect(r.tables.orphans.lineItems).toBe(0);
        expect(await lineItemIds(t, 5n)).toEqual(['51']);
        const orphan = await store.writeRows(t, 'orders', { lineItems: tagged([lineItem(t, 77n, 771n)]) }, { mode: 'bulk' });
        expect(orphan.tables.orphans.lineItems).toBe(1);
        expect(await sql(`SELECT count(*)::int AS n FROM shopify_order_line_items WHERE tenant_id = $1 AND order_id = 77`, t)).toEqual([{ n: 0 }]);
      });

      it('direct writes (a first backfill) store the same rows and counts as the upsert, and give way to it whenever the upsert would do more than insert', async () => {
        // On a pool the rows are copied straight into the tables; through Prisma (no pool) there is no direct form.
        const pooled = typeof (db.database as { pool?: { connect?: unknown } | null }).pool?.connect === 'function';
        const [d, u] = [await tenant('direct'), await tenant('upsert')];
        const batches = (t: string) => {
          const a = orderBundle(t, 1n, 3);
          const b = orderBundle(t, 2n, 2);
          return [
            { orders: tagged([...a.orders, ...b.orders].map((o) => ({ ...o, lineItemCount: null }))), lineItems: tagged([b.lineItems[1]]), events: [...a.events, ...b.events, event(t, 1n, 'created')] },
            { lineItems: tagged([a.lineItems[2], b.lineItems[0], a.lineItems[0], a.lineItems[1]]) },
          ];
        };
        const outcomes: Array<[unknown, unknown]> = [];
        for (const [k, rows] of batches(d).entries()) {
          const direct = await store.writeRows(d, 'orders', rows as never, { mode: 'bulk', direct: true });
          const upsert = await store.writeRows(u, 'orders', batches(u)[k] as never, { mode: 'bulk' });
          expect(direct.direct).toBe(pooled);
          outcomes.push([{ ...direct, direct: undefined }, upsert]);
        }
        for (const [direct, upsert] of outcomes) expect(direct).toEqual(upsert);
        const tables = async (t: string) => ({
          orders: await sql(`SELECT id::text, name, total_price::text, line_item_count, sync_tag, deleted_at, shopify_updated_at, payload::text, (synced_at > now() - interval '1 hour') AS synced FROM shopify_orders WHERE tenant_id = $1 ORDER BY id`, t),
          lineItems: await sql(`SELECT id::text, order_id::text, title, price::text, sync_tag, payload::text FROM shopify_order_line_items WHERE tenant_id = $1 ORDER BY id`, t),
          events: await sql(`SELECT order_id::text, type, source_id::text, occurred_at, amount::text FROM shopify_order_events WHERE tenant_id = $1 ORDER BY order_id, type, source_id`, t),
        });
        const stored = await tables(d);
        expect(stored).toEqual(await tables(u));
        expect(stored.lineItems).toHaveLength(5);
        expect(stored.orders.map((o) => o.synced)).toEqual([true, true]);

        // The same batch again (a file resumed before a batch committed out of order was checkpointed):
        // its rows are stored, so the upsert writes it, as it would have.
        const again = await store.writeRows(d, 'orders', batches(d)[0] as never, { mode: 'bulk', direct: true });
        expect(again).toMatchObject({ written: 2, direct: false });
        expect(await tables(d)).toEqual(stored);
        // A child whose parent someone else stored in a newer version (a webhook, no tag): skipped, as by the upsert.
        await store.upsertOrders(d, orderBundle(d, 5n, 1, { shopifyUpdatedAt: at('2024-03-01T00:00:00Z') }));
        const skipped = await store.writeRows(d, 'orders', { lineItems: tagged([lineItem(d, 5n, 58n)]) }, { mode: 'bulk', direct: true });
        expect(skipped).toMatchObject({ direct: false, tables: { written: { lineItems: 0 }, skipped: { lineItems: 1 }, orphans: { lineItems: 0 } } });
        // A child whose parent is not stored at all: an orphan, as by the upsert.
        const orphan = await store.writeRows(d, 'orders', { lineItems: tagged([lineItem(d, 77n, 771n)]) }, { mode: 'bulk', direct: true });
        expect(orphan).toMatchObject({ direct: false, tables: { written: { lineItems: 0 }, orphans: { lineItems: 1 } } });
        // New parents and children after all that are copied straight in again.
        const later = orderBundle(d, 8n, 1);
        const fresh = await store.writeRows(d, 'orders', { orders: tagged(later.orders), lineItems: tagged(later.lineItems), events: later.events }, { mode: 'bulk', direct: true });
        expect(fresh).toMatchObject({ written: 1, direct: pooled, tables: { written: { orders: 1, lineItems: 1, events: 2 } } });
        expect(await lineItemIds(d, 5n)).toEqual(['51']);
        expect(await sql(`SELECT count(*)::int AS n FROM shopify_order_line_items WHERE tenant_id = $1 AND order_id = 77`, d)).toEqual([{ n: 0 }]);
        // A child whose parent the same batch writes needs no probe (direct-pg.ts, parentsToProbe): the
        // upsert takes it whatever the parent's tag or tombstone, and so does the direct write, still direct.
        for (const [id, over, parentTag] of [[11n, {}, 'other-operation'], [12n, { deletedAt: at('2024-02-01T00:00:00Z') }, tag]] as const) {
          const batch = (t: string) => ({ orders: tagged(orderBundle(t, id, 1, over).orders, parentTag), lineItems: tagged([lineItem(t, id, id * 10n + 1n)]) });
          const viaDirect = await store.writeRows(d, 'orders', batch(d), { mode: 'bulk', direct: true });
          const viaUpsert = await store.writeRows(u, 'orders', batch(u), { mode: 'bulk' });
          expect(viaDirect).toEqual({ ...viaUpsert, direct: pooled });
          expect(viaDirect.tables.written).toMatchObject({ orders: 1, lineItems: 1 });
          expect(await lineItemIds(d, id)).toEqual([`${id}1`]);
        }
        // Customers (no children): a stored customer makes the batch fall back to the version rule.
        await store.upsertCustomers(d, [customer(d, 3n, { shopifyUpdatedAt: at('2025-01-01T00:00:00Z'), totalSpent: '5.00' })]);
        const customers = await store.writeRows(d, 'customers', { customers: [customer(d, 3n), customer(d, 4n)] }, { mode: 'bulk', direct: true });
        expect(customers).toMatchObject({ written: 1, stale: 1, direct: false });
        expect((await customerRows(d)).map((r) => [r.id, r.total_spent])).toEqual([['3', '5.0000'], ['4', '19.9900']]);
        const newCustomers = await store.writeRows(d, 'customers', { customers: [customer(d, 6n), customer(d, 7n)] }, { mode: 'bulk', direct: true });
        expect(newCustomers).toMatchObject({ written: 2, stale: 0, direct: pooled });
      });

      it('finalizeBulk removes the children the operation did not list and recounts line_item_count; tombstones missing variants', async () => {
        const t = await tenant();
        await store.upsertOrders(t, orderBundle(t, 9n, 3));
        await store.upsertProducts(t, { products: [product(t, 3n)], variants: [variant(t, 3n, 31n), variant(t, 3n, 32n)] });
        // The operation lists order 9 with line items 91 and 93 only, product 3 with variant 31 only.
        const o = orderBundle(t, 9n, 3);
        await store.writeRows(t, 'orders', { orders: tagged(o.orders.map((x) => ({ ...x, lineItemCount: null }))), events: o.events, lineItems: tagged([o.lineItems[0], o.lineItems[2]]) }, { mode: 'bulk' });
        await store.writeRows(t, 'products', { products: tagged([product(t, 3n)]), variants: tagged([variant(t, 3n, 31n)]) }, { mode: 'bulk' });
        expect(await lineItemIds(t, 9n)).toEqual(['91', '92', '93']);
        const done = await store.finalizeBulk(t, 'orders', tag, { chunkSize: 1 });
        expect(done.removed).toEqual({ lineItems: 1 });
        expect(await lineItemIds(t, 9n)).toEqual(['91', '93']);
        expect(await sql(`SELECT line_item_count FROM shopify_orders WHERE tenant_id = $1 AND id = 9`, t)).toEqual([{ line_item_count: 2 }]);
        expect(done.recounted).toEqual({ lineItems: 1 });
        // A count already right is not rewritten (the bulk reader writes most orders with theirs).
        const version = async () => (await sql(`SELECT xmin::text AS v FROM shopify_orders WHERE tenant_id = $1 AND id = 9`, t))[0];
        const before = await version();
        expect((await store.finalizeBulk(t, 'orders', tag)).recounted).toEqual({ lineItems: 0 });
        expect(await version()).toEqual(before);
        expect((await store.finalizeBulk(t, 'products', tag))).toEqual({ removed: { variants: 1 }, recounted: {} });
        expect(await sql(`SELECT id::text, deleted_at IS NOT NULL AS deleted FROM shopify_product_variants WHERE tenant_id = $1 ORDER BY id`, t)).toEqual([{ id: '31', deleted: false }, { id: '32', deleted: true }]);
        // Another tenant's rows with the same tag are not touched.
        expect((await store.finalizeBulk(`${t}-other`, 'orders', tag)).removed).toEqual({ lineItems: 0 });
      });

      it('finalizeBulk for new parents: only the listed parents are recounted, and only where the count is wrong', async () => {
        const t = await tenant();
        const o = orderBundle(t, 9n, 3);
        const p = orderBundle(t, 8n, 2);
        // Order 9 written with a count of 1 (two of its items came after it), order 8 with its right count.
        await store.writeRows(t, 'orders', { orders: tagged([{ ...o.orders[0], lineItemCount: 1 }, { ...p.orders[0], lineItemCount: 2 }]), lineItems: tagged([...o.lineItems, ...p.lineItems]) }, { mode: 'bulk' });
        const count = async (id: number) => (await sql(`SELECT line_item_count FROM shopify_orders WHERE tenant_id = $1 AND id = ${id}`, t))[0];
        expect(await store.finalizeBulk(t, 'orders', tag, { newParents: { recount: [9n, 8n, 9n] }, chunkSize: 1 })).toEqual({ removed: { lineItems: 0 }, recounted: { lineItems: 1 } });
        expect(await count(9)).toEqual({ line_item_count: 3 });
        expect(await count(8)).toEqual({ line_item_count: 2 });
        // A parent not listed is left as it is (the caller lists every parent with late children).
        await sql(`UPDATE shopify_orders SET line_item_count = 7 WHERE tenant_id = $1 AND id = 8`, t);
        expect((await store.finalizeBulk(t, 'orders', tag, { newParents: { recount: [9n] } })).recounted).toEqual({ lineItems: 0 });
        expect(await count(8)).toEqual({ line_item_count: 7 });
        expect(await store.finalizeBulk(t, 'orders', tag, { newParents: { recount: [] } })).toEqual({ removed: { lineItems: 0 }, recounted: { lineItems: 0 } });
      });
    });

    describe('inferred deletions (id reconciliation)', () => {
      it('tombstones stored ids a complete listing lacks; a later version of the record makes it live again', async () => {
        const t = await tenant();
        await store.upsertCustomers(t, [customer(t, 1n), customer(t, 2n), customer(t, 3n)]);
        await store.addListedIds(t, 'customers', 'L1', [1n, 3n]);
        expect(await store.tombstoneUnlisted(t, 'customers', 'L1', at('2024-06-01T00:00:00Z'))).toBe(1);
        await store.clearListedIds(t, 'customers', 'L1');
        expect((await customerRows(t)).map((r) => [r.id, r.deleted_at !== null])).toEqual([['1', false], ['2', true], ['3', false]]);
        // Shopify lists customer 2 again (same version): the inference was wrong, it is live again.
        expect(await store.upsertCustomers(t, [customer(t, 2n)])).toEqual({ written: 1, stale: 0 });
        expect((await customerRows(t)).find((r) => r.id === '2')!.deleted_at).toBeNull();
        // A tombstone from Shopify itself (a delete webhook or event) is not revocable that way.
        await store.markDeleted(t, 'customers', [2n], at('2024-06-02T00:00:00Z'));
        expect(await store.upsertCustomers(t, [customer(t, 2n, { shopifyUpdatedAt: at('2024-06-03T00:00:00Z') })])).toEqual({ written: 0, stale: 1 });
        expect(await sql(`SELECT count(*)::int AS n FROM shopify_listed_ids WHERE tenant_id = $1`, t)).toEqual([{ n: 0 }]);
      });
    });

    describe('atomic orders', () => {
      it('writes nothing when one line item in the batch violates a constraint', async () => {
        const t = await tenant();
        const good = orderBundle(t, 70n);
        const bad = orderBundle(t, 71n);
        bad.lineItems[1] = { ...bad.lineItems[1], quantity: null as unknown as number };
        const error = await store.upsertOrders(t, mergeBundles(good, bad, orderBundle(t, 72n))).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).message).toMatch(/^\[shopify-ingest\] upsertOrders failed/);
        expect(await store.countRecords(t, { includeDeleted: true })).toMatchObject({ orders: 0, lineItems: 0 });
        expect(await sql(`SELECT 1 FROM shopify_order_events WHERE tenant_id = $1`, t)).toEqual([]);
      });

      it('keeps the previous versions intact when an update batch fails', async () => {
        const t = await tenant();
        await store.upsertOrders(t, orderBundle(t, 80n, 2));
        const update = orderBundle(t, 80n, 3, { shopifyUpdatedAt: at('2024-09-01T00:00:00Z'), totalPrice: '1.00' });
        update.lineItems[2] = { ...update.lineItems[2], price: 'not-a-number' };
        await expect(store.upsertOrders(t, update)).rejects.toBeInstanceOf(StoreError);
        const [o] = await sql<{ total_price: string }>(`SELECT total_price::text FROM shopify_orders WHERE tenant_id = $1`, t);
        expect(o.total_price).toBe('33.3000');
        expect(await lineItemIds(t, 80n)).toEqual(['801', '802']);
      });

      it('lets concurrent writers of overlapping batches finish, newest version winning', async () => {
        const t = await tenant();
        const ids = Array.from({ length: 200 }, (_, i) => BigInt(i + 1));
        const writer = (day: number, reverse: boolean) => {
          const bundles = ids.map((id) => orderBundle(t, id, 2, { shopifyUpdatedAt: at(`2024-04-0${day}T00:00:00Z`), totalPrice: `${day}.00` }));
          return store.upsertOrders(t, mergeBundles(...(reverse ? bundles.reverse() : bundles)));
        };
        await Promise.all([writer(1, false), writer(3, true), writer(2, false), writer(3, false)]);
        const totals = await sql<{ total_price: string; n: number }>(
          `SELECT total_price::text, count(*)::int AS n FROM shopify_orders WHERE tenant_id = $1 GROUP BY 1`, t);
        expect(totals).toEqual([{ total_price: '3.0000', n: 200 }]);
        expect(await store.countRecords(t)).toMatchObject({ orders: 200, lineItems: 400 });
      });

      it('refuses line items whose order is not in the batch', async () => {
        const t = await tenant();
        const bundle = orderBundle(t, 90n);
        bundle.lineItems.push(lineItem(t, 91n, 911n));
        await expect(store.upsertOrders(t, bundle)).rejects.toMatchObject({ code: 'ORPHAN_ROWS' });
        expect(await store.countRecords(t)).toMatchObject({ orders: 0 });
      });
    });

    describe('tenant isolation', () => {
      it("never reads or writes another tenant's rows", async () => {
        const a = await tenant('a');
        const b = await tenant('b');
        await store.upsertCustomers(b, [customer(b, 1n, { payload: '{"tenant":"b"}' })]);
        await store.upsertOrders(b, orderBundle(b, 5n));
        await store.upsertCustomers(a, [customer(a, 1n, { payload: '{"tenant":"a"}', shopifyUpdatedAt: at('2030-01-01T00:00:00Z') })]);
        await store.upsertOrders(a, orderBundle(a, 5n, 1, { shopifyUpdatedAt: at('2030-01-01T00:00:00Z') }));
        await store.markDeleted(a, 'customers', [1n], at('2031-01-01T00:00:00Z'));
        expect((await customerRows(b))[0]).toMatchObject({ payload: '{"tenant": "b"}', deleted_at: null });
        expect(await lineItemIds(b, 5n)).toEqual(['51', '52', '53']);
        expect(await store.countRecords(b)).toMatchObject({ customers: 1, products: 0, variants: 0, orders: 1, lineItems: 3 });
        expect(await store.countRecords(a)).toMatchObject({ customers: 0, products: 0, variants: 0, orders: 1, lineItems: 1 });
        expect(await store.existingIds(a, 'orders', [5n, 6n])).toEqual(new Set([5n]));
        await store.purgeTenant(a);
        expect(Object.values(await store.countRecords(a, { includeDeleted: true })).every((n) => n === 0)).toBe(true);
        expect(await store.countRecords(b)).toMatchObject({ customers: 1, products: 0, variants: 0, orders: 1, lineItems: 3 });
      });

      it('refuses a row of another tenant passed to a write', async () => {
        const a = await tenant('a');
        const b = await tenant('b');
        await expect(store.upsertCustomers(a, [customer(b, 1n)])).rejects.toMatchObject({ code: 'TENANT_MISMATCH' });
        await expect(store.upsertOrders(a, { ...orderBundle(a, 1n), lineItems: [lineItem(b, 1n, 11n)] })).rejects.toMatchObject({ code: 'TENANT_MISMATCH' });
        expect(await store.countRecords(b)).toMatchObject({ customers: 0, orders: 0 });
      });

      it('refuses every call without a tenant id', async () => {
        const calls: Array<(id: string) => Promise<unknown>> = [
          (id) => store.upsertCustomers(id, []),
          (id) => store.upsertProducts(id, { products: [], variants: [] }),
          (id) => store.upsertOrders(id, { orders: [], lineItems: [], events: [] }),
          (id) => store.markDeleted(id, 'orders', [1n], new Date()),
          (id) => store.existingIds(id, 'orders', [1n]),
          (id) => store.countRecords(id),
          (id) => store.redactCustomer(id, 1n),
          (id) => store.purgeTenant(id),
          (id) => store.upsertTenant({ id, shopDomain: 'x.myshopify.com', accessTokenEnc: 'x' }),
          (id) => store.getTenant(id),
          (id) => store.setTenantActive(id, false),
          (id) => store.deactivateTenantUninstalledAt(id, new Date()),
          (id) => store.setTenantSyncStatus(id, 'idle'),
          (id) => store.getCheckpoint(id, 'orders'),
          (id) => store.saveCheckpoint(id, 'orders', { cursor: 'x' }),
          (id) => store.startRun({ id: 'r', tenantId: id, resource: 'orders', mode: 'full' }),
          (id) => store.updateRunCounts('r', id, { fetched: 1 }),
          (id) => store.finishRun('r', id, { status: 'succeeded' }),
          (id) => store.closeInterruptedRuns(id, 'orders', 'r', 'x'),
          (id) => store.acquireRunLock({ tenantId: id, resource: 'orders', runId: 'r', now: new Date(), ttlMs: 1000 }),
          (id) => store.renewRunLock({ tenantId: id, resource: 'orders', runId: 'r', now: new Date(), ttlMs: 1000 }),
          (id) => store.releaseRunLock({ tenantId: id, resource: 'orders', runId: 'r' }),
          (id) => store.recordFailures('r', id, 'orders', [{ shopifyId: 1n, reason: 'x' }]),
          (id) => store.listRuns(id),
          (id) => store.listFailures(id, 'r'),
        ];
        for (const call of calls) {
          for (const bad of ['', '   ', undefined as unknown as string]) {
            const error = await call(bad).catch((e: unknown) => e);
            expect(error).toBeInstanceOf(TenantError);
            expect((error as TenantError).code).toBe('TENANT_REQUIRED');
          }
        }
      });
    });

    describe('bigint ids', () => {
      it('round-trips ids above 2^53 exactly, in columns and in the jsonb payload', async () => {
        const t = await tenant();
        const big = 820982911946154508n;
        const max = 9223372036854775807n;
        const payload = `{"id":${big},"customer":{"id":${max}},"line_items":[{"id":${big + 1n}}],"price":"19.99"}`;
        await store.upsertCustomers(t, [customer(t, max, { payload: `{"id":${max}}` })]);
        await store.upsertOrders(t, {
          orders: [order(t, big, { customerId: max, payload })],
          lineItems: [lineItem(t, big, big + 1n, { productId: big + 2n, variantId: big + 3n })],
          events: [event(t, big, 'created', { sourceId: big })],
        });
        expect(await store.existingIds(t, 'customers', [max, max - 1n])).toEqual(new Set([max]));
        expect(await store.existingIds(t, 'orders', [big, big - 1n])).toEqual(new Set([big]));
        const [o] = await sql<{ id: bigint; customer_id: bigint; payload: string }>(`SELECT id, customer_id, payload::text FROM shopify_orders WHERE tenant_id = $1`, t);
        expect(o.id).toBe(big);
        expect(o.customer_id).toBe(max);
        const parsed = parseShopifyJson<{ id: bigint; customer: { id: bigint }; line_items: { id: bigint }[] }>(o.payload);
        expect(parsed.id).toBe(big);
        expect(parsed.customer.id).toBe(max);
        expect(parsed.line_items[0].id).toBe(big + 1n);
        const [li] = await sql<{ id: string; product_id: string; variant_id: string }>(
          `SELECT id::text, product_id::text, variant_id::text FROM shopify_order_line_items WHERE tenant_id = $1`, t);
        expect(li).toEqual({ id: (big + 1n).toString(), product_id: (big + 2n).toString(), variant_id: (big + 3n).toString() });
        expect(await store.markDeleted(t, 'orders', [big], at('2025-01-01T00:00:00Z'))).toBe(1);
        const [tomb] = await sql<{ payload: string }>(`SELECT payload::text FROM shopify_orders WHERE tenant_id = $1 AND deleted_at IS NOT NULL`, t);
        expect(parseShopifyJson<{ id: bigint }>(tomb.payload).id).toBe(big);
      });
    });

    describe('privacy', () => {
      it("redactCustomer erases that customer's PII and their orders' PII, nobody else's", async () => {
        const t = await tenant();
        await store.upsertCustomers(t, [customer(t, 1n), customer(t, 2n)]);
        await store.upsertOrders(t, mergeBundles(
          orderBundle(t, 100n, 1, { customerId: 1n }),
          orderBundle(t, 101n, 1, { customerId: null }),
          orderBundle(t, 102n, 1, { customerId: 2n }),
        ));
        await store.redactCustomer(t, 1n, [101n]);
        const customers = await sql<{ id: string; email_enc: string | null; email_hash: string | null; first_name_enc: string | null; payload: string }>(
          `SELECT id::text, email_enc, email_hash, first_name_enc, payload::text FROM shopify_customers WHERE tenant_id = $1 ORDER BY id`, t);
        expect(customers[0]).toEqual({ id: '1', email_enc: null, email_hash: null, first_name_enc: null, payload: '{"id": 1, "redacted": true}' });
        expect(customers[1]).toMatchObject({ id: '2', email_enc: 'enc:mail-2', first_name_enc: 'enc:first' });
        const orders = await sql<{ id: string; email_enc: string | null; payload: string }>(
          `SELECT id::text, email_enc, payload::text FROM shopify_orders WHERE tenant_id = $1 ORDER BY id`, t);
        for (const o of orders.slice(0, 2)) {
          expect(o.email_enc).toBeNull();
          expect(JSON.parse(o.payload)).toEqual({ id: Number(o.id), total_price: '33.30', redacted: true });
        }
        expect(orders[2].email_enc).toBe('enc:mail');
        expect(JSON.parse(orders[2].payload)).toHaveProperty('email', 'a@example.com');
      });

      it('purgeTenant deletes every row of the tenant, and the tenant with includeTenant', async () => {
        const t = await tenant();
        await store.upsertCustomers(t, [customer(t, 1n)]);
        await store.upsertProducts(t, { products: [product(t, 2n)], variants: [variant(t, 2n, 21n)] });
        await store.upsertOrders(t, orderBundle(t, 3n));
        await store.saveCheckpoint(t, 'orders', { cursor: 'c' });
        await store.startRun({ id: `run-${t}`, tenantId: t, resource: 'orders', mode: 'full' });
        await store.recordFailures(`run-${t}`, t, 'orders', [{ shopifyId: 1n, reason: 'bad' }]);
        await store.purgeTenant(t);
        expect(Object.values(await store.countRecords(t, { includeDeleted: true })).every((n) => n === 0)).toBe(true);
        expect(await store.getCheckpoint(t, 'orders')).toBeNull();
        expect(await store.listRuns(t)).toEqual([]);
        expect(await store.getTenant(t)).not.toBeNull();
        await store.purgeTenant(t, { includeTenant: true });
        expect(await store.getTenant(t)).toBeNull();
      });
    });

    describe('tenants', () => {
      it('creates, updates, finds and lists tenants', async () => {
        const id = `tn-${Math.random().toString(36).slice(2, 8)}`;
        const created = await store.upsertTenant({ id, shopDomain: `${id}.myshopify.com`, accessTokenEnc: 'enc:1', name: 'Shop', config: { syncEvery: '1h' } });
        expect(created).toMatchObject({ id, name: 'Shop', isActive: true, syncStatus: 'idle', config: { syncEvery: '1h' }, lastSyncAt: null });
        expect(created.createdAt).toBeInstanceOf(Date);
        const updated = await store.upsertTenant({ id, shopDomain: `${id}.myshopify.com`, accessTokenEnc: 'enc:2' });
        expect(updated).toMatchObject({ accessTokenEnc: 'enc:2', name: 'Shop', config: { syncEvery: '1h' } });
        expect(await store.getTenantByShop(`${id.toUpperCase()}.MYSHOPIFY.COM`)).toMatchObject({ id });
        await store.setTenantActive(id, false);
        expect((await store.listTenants({ activeOnly: true })).map((x) => x.id)).not.toContain(id);
        expect((await store.listTenants()).map((x) => x.id)).toContain(id);
        await store.setTenantActive(id, true);
        await store.setTenantSyncStatus(id, 'error', { error: 'boom' });
        expect(await store.getTenant(id)).toMatchObject({ syncStatus: 'error', lastError: 'boom' });
        await store.setTenantSyncStatus(id, 'idle', { lastSyncAt: at('2024-01-01T00:00:00Z'), error: null });
        expect(await store.getTenant(id)).toMatchObject({ syncStatus: 'idle', lastError: null, lastSyncAt: at('2024-01-01T00:00:00Z'), isActive: true });
        await expect(store.setTenantActive('missing-tenant', true)).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
        await expect(store.upsertTenant({ id: `${id}-other`, shopDomain: `${id}.myshopify.com`, accessTokenEnc: 'x' })).rejects.toMatchObject({ code: 'TENANT_SHOP_IN_USE' });
      });

      it('an uninstall deactivates only the installation it was triggered in (activation time compared)', async () => {
        const t = await tenant();
        const activatedAt = async () => (await sql<{ at: Date }>(`SELECT activated_at AS at FROM shopify_tenants WHERE id = $1`, t))[0]!.at;
        const first = await activatedAt();
        expect(first).toBeInstanceOf(Date);
        // Triggered before the (re)activation: a late delivery of an earlier installation.
        expect(await store.deactivateTenantUninstalledAt(t, new Date(first.getTime() - 1_000))).toBe(false);
        expect((await store.getTenant(t))?.isActive).toBe(true);
        // Triggered after it: deactivates (and again, for a repeated delivery).
        expect(await store.deactivateTenantUninstalledAt(t, new Date(first.getTime() + 1_000))).toBe(true);
        expect((await store.getTenant(t))?.isActive).toBe(false);
        expect(await store.deactivateTenantUninstalledAt(t, new Date(first.getTime() + 2_000))).toBe(true);
        // Activated again: the activation time moves, and an uninstall from before it is a late one.
        await new Promise((r) => setTimeout(r, 5));
        await store.setTenantActive(t, true);
        const second = await activatedAt();
        expect(second.getTime()).toBeGreaterThan(first.getTime());
        expect(await store.deactivateTenantUninstalledAt(t, new Date(second.getTime() - 1))).toBe(false);
        expect((await store.getTenant(t))?.isActive).toBe(true);
        // A tenant stored before activated_at existed (NULL): an uninstall deactivates it, as it always did.
        await sql(`UPDATE shopify_tenants SET activated_at = NULL WHERE id = $1`, t);
        expect(await store.deactivateTenantUninstalledAt(t, new Date(0))).toBe(true);
        expect((await store.getTenant(t))?.isActive).toBe(false);
        await expect(store.deactivateTenantUninstalledAt('missing-tenant', new Date())).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
      });
    });

    describe('sync state', () => {
      it('round-trips checkpoints, patching only the fields given', async () => {
        const t = await tenant();
        expect(await store.getCheckpoint(t, 'orders')).toBeNull();
        await store.saveCheckpoint(t, 'orders', { watermark: at('2024-01-01T00:00:00Z'), cursor: 'page-2', runId: 'r1' });
        await store.saveCheckpoint(t, 'orders', { cursor: null });
        const cp = await store.getCheckpoint(t, 'orders');
        expect(cp).toMatchObject({ tenantId: t, resource: 'orders', watermark: at('2024-01-01T00:00:00Z'), cursor: null, runId: 'r1', fullSyncCompletedAt: null });
        expect(cp?.updatedAt).toBeInstanceOf(Date);
        await store.saveCheckpoint(t, 'orders', { fullSyncCompletedAt: at('2024-02-01T00:00:00Z') });
        expect(await store.getCheckpoint(t, 'orders')).toMatchObject({ watermark: at('2024-01-01T00:00:00Z'), fullSyncCompletedAt: at('2024-02-01T00:00:00Z') });
        expect(await store.getCheckpoint(t, 'customers')).toBeNull();
      });

      it('a fenced checkpoint write lands only while its run holds the run lock', async () => {
        const t = await tenant();
        const lock = (runId: string, now: Date) => ({ tenantId: t, resource: 'orders' as const, runId, now, ttlMs: 60_000 });
        // No lock at all: refused, nothing created.
        expect(await store.saveCheckpoint(t, 'orders', { cursor: 'a-1', runId: 'a' }, { heldBy: 'a' })).toBe(false);
        expect(await store.getCheckpoint(t, 'orders')).toBeNull();
        const t0 = at('2024-01-01T00:00:00Z');
        expect(await store.acquireRunLock(lock('a', t0))).toEqual({ acquired: true });
        expect(await store.saveCheckpoint(t, 'orders', { cursor: 'a-1', runId: 'a' }, { heldBy: 'a' })).toBe(true);
        // Expired but not taken: still its own (as a renewal sees it).
        expect(await store.saveCheckpoint(t, 'orders', { cursor: 'a-2' }, { heldBy: 'a' })).toBe(true);
        // Taken over once expired: the stale run's write is refused, the new run's lands.
        expect(await store.acquireRunLock(lock('b', at('2024-01-01T00:02:00Z')))).toEqual({ acquired: true });
        expect(await store.saveCheckpoint(t, 'orders', { cursor: 'b-1', runId: 'b' }, { heldBy: 'b' })).toBe(true);
        expect(await store.saveCheckpoint(t, 'orders', { cursor: 'a-3', runId: 'a', watermark: t0 }, { heldBy: 'a' })).toBe(false);
        expect(await store.getCheckpoint(t, 'orders')).toMatchObject({ cursor: 'b-1', runId: 'b', watermark: null });
        // Released: refused too. An unfenced write (outside a run) always lands.
        await store.releaseRunLock({ tenantId: t, resource: 'orders', runId: 'b' });
        expect(await store.saveCheckpoint(t, 'orders', { cursor: null }, { heldBy: 'b' })).toBe(false);
        expect(await store.saveCheckpoint(t, 'orders', { cursor: null })).toBe(true);
        expect(await store.getCheckpoint(t, 'orders')).toMatchObject({ cursor: null, runId: 'b' });
        // Another tenant's or resource's lock is not this one's.
        expect(await store.acquireRunLock({ ...lock('c', t0), resource: 'customers' })).toEqual({ acquired: true });
        expect(await store.saveCheckpoint(t, 'orders', { cursor: 'c-1' }, { heldBy: 'c' })).toBe(false);
      });

      it('a fenced checkpoint write is refused once the tenant is deactivated (by any process), lock held or not', async () => {
        const t = await tenant();
        const t0 = at('2024-01-01T00:00:00Z');
        expect(await store.acquireRunLock({ tenantId: t, resource: 'orders', runId: 'a', now: t0, ttlMs: 60_000 })).toEqual({ acquired: true });
        expect(await store.saveCheckpoint(t, 'orders', { cursor: 'a-1', runId: 'a' }, { heldBy: 'a' })).toBe(true);
        expect(await store.deactivateTenantUninstalledAt(t, new Date(Date.now() + 60_000))).toBe(true);
        expect(await store.saveCheckpoint(t, 'orders', { cursor: 'a-2', watermark: t0 }, { heldBy: 'a' })).toBe(false);
        expect(await store.getCheckpoint(t, 'orders')).toMatchObject({ cursor: 'a-1', watermark: null });
        // Active again (installed again): the run that holds the lock writes again; unfenced writes always land.
        await store.setTenantActive(t, true);
        expect(await store.saveCheckpoint(t, 'orders', { cursor: 'a-3' }, { heldBy: 'a' })).toBe(true);
        await store.setTenantActive(t, false);
        expect(await store.saveCheckpoint(t, 'orders', { cursor: null })).toBe(true);
        expect(await store.getCheckpoint(t, 'orders')).toMatchObject({ cursor: null });
      });

      it('round-trips runs and failures', async () => {
        const t = await tenant();
        const other = await tenant();
        await store.startRun({ id: `r1-${t}`, tenantId: t, resource: 'orders', mode: 'full', options: { pageSize: 250 } });
        await store.updateRunCounts(`r1-${t}`, t, { fetched: 10, imported: 9 });
        await store.updateRunCounts(`r1-${t}`, other, { fetched: 999 });
        await store.recordFailures(`r1-${t}`, t, 'orders', [{ shopifyId: 820982911946154508n, reason: 'bad total' }, { shopifyId: null, reason: 'unparseable page' }]);
        await store.finishRun(`r1-${t}`, t, { status: 'succeeded', counts: { fetched: 12, imported: 10, skipped: 1, failed: 1 } });
        await store.startRun({ id: `r2-${t}`, tenantId: t, resource: 'customers', mode: 'incremental' });
        const runs = await store.listRuns(t);
        expect(runs.map((r) => r.id).sort()).toEqual([`r1-${t}`, `r2-${t}`]);
        const r1 = runs.find((r) => r.id === `r1-${t}`)!;
        expect(r1).toMatchObject({ status: 'succeeded', mode: 'full', fetched: 12, imported: 10, skipped: 1, failed: 1, error: null, options: { pageSize: 250 } });
        expect(r1.finishedAt).toBeInstanceOf(Date);
        expect(await store.listRuns(t, { resource: 'customers' })).toMatchObject([{ id: `r2-${t}`, status: 'running', fetched: 0, finishedAt: null }]);
        expect(await store.listRuns(other)).toEqual([]);
        // Only runs still marked running are closed as interrupted: of that tenant and resource, never the current run.
        expect(await store.closeInterruptedRuns(other, 'customers', 'r3', 'interrupted')).toBe(0);
        expect(await store.closeInterruptedRuns(t, 'orders', 'r3', 'interrupted')).toBe(0);
        expect(await store.closeInterruptedRuns(t, 'customers', `r2-${t}`, 'interrupted')).toBe(0);
        expect(await store.closeInterruptedRuns(t, 'customers', 'r3', 'interrupted')).toBe(1);
        expect(await store.listRuns(t, { resource: 'customers' })).toMatchObject([{ id: `r2-${t}`, status: 'cancelled', error: 'interrupted', finishedAt: expect.any(Date) }]);
        expect((await store.listRuns(t, { resource: 'orders' }))[0]).toMatchObject({ status: 'succeeded', error: null });
        const failures = await store.listFailures(t, `r1-${t}`);
        expect(failures.map(({ shopifyId, reason }) => ({ shopifyId, reason }))).toEqual([
          { shopifyId: 820982911946154508n, reason: 'bad total' },
          { shopifyId: null, reason: 'unparseable page' },
        ]);
        expect(await store.listFailures(other, `r1-${t}`)).toEqual([]);
      });

      it('grants a run lock to one run per tenant and resource until it expires or is released', async () => {
        const t = await tenant();
        const other = await tenant();
        const t0 = at('2024-06-01T00:00:00Z');
        const later = (ms: number) => new Date(t0.getTime() + ms);
        const lock = (runId: string, now: Date, extra: { tenantId?: string; resource?: 'orders' | 'customers' } = {}) =>
          ({ tenantId: extra.tenantId ?? t, resource: extra.resource ?? 'orders', runId, now, ttlMs: 60_000 });

        expect(await store.acquireRunLock(lock('a', t0))).toEqual({ acquired: true });
        // Held: refused, naming the holder; the holder itself may ask again.
        expect(await store.acquireRunLock(lock('b', later(1000)))).toEqual({ acquired: false, runId: 'a', acquiredAt: t0, expiresAt: later(60_000) });
        expect(await store.acquireRunLock(lock('a', later(1000)))).toEqual({ acquired: true });
        // Other resources and other tenants are independent.
        expect(await store.acquireRunLock(lock('c', later(1000), { resource: 'customers' }))).toEqual({ acquired: true });
        expect(await store.acquireRunLock(lock('d', later(1000), { tenantId: other }))).toEqual({ acquired: true });
        // Renewing extends it; only the holder can renew.
        expect(await store.renewRunLock(lock('a', later(50_000)))).toBe(true);
        expect(await store.renewRunLock(lock('b', later(50_000)))).toBe(false);
        expect(await store.acquireRunLock(lock('b', later(100_000)))).toMatchObject({ acquired: false, runId: 'a', expiresAt: later(110_000) });
        // Expired (its holder stopped renewing): the next run takes it, and the old holder can no longer renew.
        expect(await store.acquireRunLock(lock('b', later(110_000)))).toEqual({ acquired: true });
        expect(await store.renewRunLock(lock('a', later(110_001)))).toBe(false);
        // Release by a non-holder does nothing; by the holder it frees the lock at once.
        await store.releaseRunLock({ tenantId: t, resource: 'orders', runId: 'a' });
        expect(await store.acquireRunLock(lock('e', later(110_002)))).toMatchObject({ acquired: false, runId: 'b' });
        await store.releaseRunLock({ tenantId: t, resource: 'orders', runId: 'b' });
        expect(await store.acquireRunLock(lock('e', later(110_003)))).toEqual({ acquired: true });
      });

      it('refuses to renew the run lock of a deactivated tenant, so a run in another process stops (app/uninstalled)', async () => {
        const t = await tenant();
        const now = at('2024-06-01T00:00:00Z');
        const lock = { tenantId: t, resource: 'orders' as const, runId: 'r1', now, ttlMs: 60_000 };
        expect(await store.acquireRunLock(lock)).toEqual({ acquired: true });
        expect(await store.renewRunLock(lock)).toBe(true);
        await store.setTenantActive(t, false);
        expect(await store.renewRunLock(lock)).toBe(false);
      });

      it('lets exactly one of many concurrent runs take a free run lock', async () => {
        const t = await tenant();
        const now = at('2024-06-01T00:00:00Z');
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
          store.acquireRunLock({ tenantId: t, resource: 'orders', runId: `run-${i}`, now, ttlMs: 60_000 })));
        const winners = results.flatMap((r, i) => (r.acquired ? [`run-${i}`] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) if (!r.acquired) expect(r.runId).toBe(winners[0]);
      });

      it('keeps a run lock as a row of shopify_run_locks, not of the scheduler leases; of two runs asking at once, exactly one gets it', async () => {
        const t = await tenant();
        const now = at('2024-06-01T00:00:00Z');
        const until = new Date(now.getTime() + 60_000);
        const results = await Promise.all(['run-a', 'run-b'].map((runId) =>
          store.acquireRunLock({ tenantId: t, resource: 'products', runId, now, ttlMs: 60_000 })));
        const winner = results[0]!.acquired ? 'run-a' : 'run-b';
        expect(results.filter((r) => r.acquired)).toHaveLength(1);
        expect(results.find((r) => !r.acquired)).toEqual({ acquired: false, runId: winner, acquiredAt: now, expiresAt: until });
        expect(await sql(`SELECT tenant_id, resource, run_id, acquired_at, expires_at FROM shopify_run_locks WHERE tenant_id = $1`, t))
          .toEqual([{ tenant_id: t, resource: 'products', run_id: winner, acquired_at: now, expires_at: until }]);
        expect(await sql(`SELECT job_id FROM shopify_scheduler_leases WHERE holder IN ('run-a', 'run-b') OR job_id LIKE '%' || $1`, t)).toEqual([]);
        // Released: the row is gone (a scheduler lease would stay as the record of its tick).
        await store.releaseRunLock({ tenantId: t, resource: 'products', runId: winner });
        expect(await sql(`SELECT run_id FROM shopify_run_locks WHERE tenant_id = $1`, t)).toEqual([]);
      });
    });
  });
}
