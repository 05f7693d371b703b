/**
 * Shopify's three mandatory privacy topics, held to docs/security.md and docs/webhooks.md for every
 * resource of the registry: a tenant holds a full sync of every resource of a simulated shop (some
 * draft orders and abandoned checkouts belong to a customer who also has orders), a second tenant
 * reads the same shop under another domain (the same ids), and signed deliveries go through the
 * real webhook service.
 *
 * - `customers/data_request` hands the host every row, in every resource with a `privacy` entry,
 *   that holds the customer's data: its id and its PII, decrypted.
 * - `customers/redact`: afterwards nothing of the customer's PII (email, phones, names, streets,
 *   from the simulator's customer, orders, drafts and checkouts) can be recovered from any table of
 *   the tenant even with the key (every `*_enc` column decrypted, every payload revealed, every
 *   inbox body opened), nor the email's blind index; other customers' PII is still there; the other
 *   tenant's rows, the same customer's included, are unchanged.
 * - `shop/redact`: afterwards no row of the tenant remains in any table that has a `tenant_id`
 *   (every registry table and the SDK's bookkeeping: checkpoints, runs, failures, inbox, listed ids,
 *   run locks, API notices), but the delivery's own inbox row, bodiless; the other tenant's rows are
 *   unchanged.
 *
 * Tables and matching rows come from the registry (`tablesOf`, `privacy`), and the bookkeeping
 * tables from the database's catalogue, so a new resource or table is covered without editing this.
 *
 * Found by this test: `customers/data_request` exported the customer and their orders only, not
 * their draft orders and abandoned checkouts (which hold their email, phone and addresses); and
 * `shop/redact` left the tenant's run locks (`shopify_run_locks`, not in the purge's table list).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseShopifyJson } from '../../src/json.js';
import { silentLogger } from '../../src/logger.js';
import { RESOURCES } from '../../src/resources/index.js';
import { tablesOf, type PrivacyDefinition, type ResourceDefinition, type TableDefinition } from '../../src/resources/definition.js';
import { recordApiNotice } from '../../src/store/api-notices.js';
import { createStore } from '../../src/store/index.js';
import { revealPayload } from '../../src/transform/index.js';
import { unpackBody } from '../../src/webhooks/body-codec.js';
import { createWebhookService, type CustomerDataExport, type WebhookService } from '../../src/webhooks/index.js';
import { connectTenant, createHarness, importer, type Harness } from '../importer/harness.js';
import { SECRET, signedDelivery, toRequest } from './helpers/deliveries.js';

type Row = Record<string, unknown>;
type Shop = Harness['sim']['shops'][number];

const A = 'privacy-a';
const B = 'privacy-b';
const DEFINITIONS = RESOURCES as unknown as readonly ResourceDefinition[];
const PRIVATE = DEFINITIONS.filter((r): r is ResourceDefinition & { privacy: PrivacyDefinition } => r.privacy !== null);

let h: Harness;
let shop: Shop;
let webhooks: WebhookService;
const exports: CustomerDataExport[] = [];
/** The customer whose data is requested and redacted, and what the simulated shop holds of them. */
let x: { id: string; orderIds: string[]; email: string; pii: string[] };
/** Other customers' emails. */
let others: string[];

const send = async (topic: string, body: unknown, options: Parameters<typeof signedDelivery>[2] = {}) => {
  const response = await webhooks.handler(toRequest(signedDelivery(topic, body, { shop: shop.domain, ...options })));
  expect(response.status, `${topic} answered`).toBe(200);
};

beforeAll(async () => {
  h = await createHarness({
    timeScale: 50, bulk: { startDelayMs: 20, rowsPerSecond: 100_000 },
    shops: [{ customers: 12, products: 10, orders: 60, draftOrders: 36, abandonedCheckouts: 36 }],
  });
  const connected = await connectTenant(h, A, 0);
  shop = connected.shop;
  // The generated shop has no refund order adjustments (shipping refunds): one, so every table of the registry has rows.
  const refunded = [...Array(shop.tables.orders.size).keys()].map((i) => shop.tables.orders.get(i) as Row | undefined)
    .find((o) => ((o?.refunds as Row[] | undefined) ?? []).length > 0)!;
  shop.update('orders', refunded.id as number, (o) => ({ ...o, refunds: (o.refunds as Row[]).map((r, k) => (k > 0 ? r : {
    ...r, order_adjustments: [{ id: 7_100_000_000_001, order_id: o.id, refund_id: r.id, kind: 'shipping_refund', reason: 'Shipping refund', amount: '-5.00', tax_amount: '0.00' }],
  })) }));
  // The same shop read by a second tenant under a domain of its own: the same ids in both.
  await createStore(h.db.database).upsertTenant({ id: B, shopDomain: 'privacy-b.myshopify.com', accessTokenEnc: 'not-used-here' });
  for (const tenant of [A, B]) {
    const all = await importer(h, connected.client, tenant, { bulk: { minPollMs: 10, maxPollMs: 50 } }).importAll();
    for (const [name, r] of Object.entries(all)) expect(r.status, `${tenant} ${name}: ${JSON.stringify(r.error ?? null)}`).toBe('succeeded');
  }
  webhooks = createWebhookService(h.db.database, {
    secrets: SECRET, keyRing: h.keyRing, logger: silentLogger, worker: { autoStart: false }, tenantCacheTtlMs: 0,
    onDataRequest: (_tenant, data) => { exports.push(data); },
  });
  ({ x, others } = chooseCustomer());
}, 240_000);
afterAll(async () => { await webhooks?.stop(); await h?.close(); });

// ---- what the simulated shop holds of each buyer --------------------------------------------

const PII_KEYS = new Set(['email', 'contact_email', 'phone', 'first_name', 'last_name', 'firstName', 'lastName', 'address1', 'emailAddress', 'phoneNumber']);
/** PII values of a record (at any depth), and `name` of addresses and persons. */
function piiOf(record: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(record)) for (const v of record) piiOf(v, out);
  else if (record !== null && typeof record === 'object') {
    const o = record as Row;
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === 'string' && v.length > 2 && (PII_KEYS.has(k) || (k === 'name' && ('address1' in o || 'first_name' in o || 'firstName' in o)))) out.add(v);
      else piiOf(v, out);
    }
  }
  return out;
}
/** Every string of a record, at any depth. */
const stringsOf = (record: unknown): string[] => (typeof record === 'string' ? [record] : Array.isArray(record) ? record.flatMap(stringsOf)
  : record !== null && typeof record === 'object' ? Object.values(record).flatMap(stringsOf) : []);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `token` as a whole word of `text` (a name is not found inside another word, nor a phone inside a longer number). */
const occurs = (text: string, token: string) => new RegExp(`(?<![\\p{L}\\p{N}])${escape(token)}(?![\\p{L}\\p{N}])`, 'u').test(text);

const customerIdOf = (v: unknown) => (v && typeof v === 'object' ? String((v as Row).id).replace(/^gid:\/\/shopify\/Customer\//, '') : null);

/**
 * X: a customer with orders, draft orders and abandoned checkouts whose email, names and a street
 * appear in no other buyer's record (so finding one after the redact is a leak, not a namesake).
 */
function chooseCustomer(): { x: typeof x; others: string[] } {
  const customers = [...Array(shop.tables.customers.size).keys()].map((i) => shop.tables.customers.get(i) as Row | undefined).filter((c): c is Row => !!c);
  const orders = [...Array(shop.tables.orders.size).keys()].map((i) => shop.tables.orders.get(i) as Row | undefined).filter((o): o is Row => !!o);
  const drafts = shop.drafts.draftIds().map((id) => shop.drafts.draftNode(id));
  const checkouts = shop.drafts.checkoutIds().map((id) => shop.drafts.checkoutNode(id));
  const recordsOf = (id: string) => ({
    own: [customers.find((c) => String(c.id) === id)!, ...orders.filter((o) => customerIdOf(o.customer) === id), ...drafts.filter((d) => customerIdOf(d.customer) === id), ...checkouts.filter((c) => customerIdOf(c.customer) === id)],
    orders: orders.filter((o) => customerIdOf(o.customer) === id).map((o) => String(o.id)),
    drafts: drafts.filter((d) => customerIdOf(d.customer) === id).length,
    checkouts: checkouts.filter((c) => customerIdOf(c.customer) === id).length,
  });
  for (const customer of customers) {
    const id = String(customer.id);
    const mine = recordsOf(id);
    if (mine.orders.length === 0 || mine.drafts === 0 || mine.checkouts === 0) continue;
    const elsewhere = [...customers, ...orders, ...drafts, ...checkouts].filter((r) => !mine.own.includes(r)).flatMap(stringsOf).join('\n');
    const pii = [...piiOf(mine.own)].filter((token) => !occurs(elsewhere, token));
    const street = [customer.default_address, ...((customer.addresses as Row[] | undefined) ?? [])].some((a) => a && pii.includes(String((a as Row).address1)));
    if (![customer.email, customer.first_name, customer.last_name].every((v) => pii.includes(String(v))) || !street) continue;
    return {
      x: { id, orderIds: mine.orders, email: String(customer.email), pii },
      others: customers.filter((c) => c !== customer && typeof c.email === 'string').map((c) => String(c.email)),
    };
  }
  throw new Error('no customer of the simulated shop has orders, drafts and checkouts and PII of their own: change the shop\'s sizes');
}

// ---- what the database holds ------------------------------------------------------------------

/** Every table with a `tenant_id` column: the registry's tables and the SDK's bookkeeping. */
async function tenantTables(): Promise<string[]> {
  return (await h.db.query<{ t: string }>(`SELECT DISTINCT table_name AS t FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'tenant_id' ORDER BY 1`)).map((r) => r.t);
}

/** Every value stored for a tenant, decrypted: `[where, text]` per column of every row of every table (`*_enc` opened, payloads revealed, inbox bodies unpacked). */
async function decrypted(tenant: string): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for (const table of await tenantTables()) {
    for (const { row } of await h.db.query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM "${table}" t WHERE tenant_id = $1`, [tenant])) {
      const record = parseShopifyJson(row) as Row;
      const where = `${table}[${String(record.id ?? record.order_id ?? '')}]`;
      for (const [column, value] of Object.entries(record)) {
        if (value === null) continue;
        let text: string;
        if (column === 'body_enc') text = unpackBody(h.keyRing.decrypt(String(value), tenant));
        else if (column.endsWith('_enc')) text = h.keyRing.decrypt(String(value), tenant);
        else if (column === 'payload') text = JSON.stringify(revealPayload(value, tenant, h.keyRing), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
        else text = typeof value === 'string' ? value : JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
        out.push([`${where}.${column}`, text]);
      }
    }
  }
  return out;
}
const findIn = (values: Array<[string, string]>, token: string) => values.filter(([, text]) => occurs(text, token)).map(([where]) => where);

/** Every row of a tenant as stored (ciphertext and all), by table: compared before and after to show nothing changed. */
async function rawRows(tenant: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of await tenantTables()) {
    out[table] = (await h.db.query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM "${table}" t WHERE tenant_id = $1 ORDER BY 1`, [tenant])).map((r) => r.row);
  }
  return out;
}

const columnsOf = (table: TableDefinition) => table.columns.map((c) => c.column);
/** The root rows of a resource that are the customer's (the registry's rule: by customer, or named in the request). */
async function rowsOfCustomer(tenant: string, resource: ResourceDefinition & { privacy: PrivacyDefinition }): Promise<Row[]> {
  const { customerColumn, listedInRequest } = resource.privacy;
  const rows = await h.db.query<{ row: string }>(
    `SELECT to_jsonb(t)::text AS row FROM "${resource.root.table}" t WHERE tenant_id = $1 AND ("${customerColumn}" = $2::bigint ${listedInRequest ? 'OR id = ANY($3::bigint[])' : ''})`,
    listedInRequest ? [tenant, x.id, x.orderIds] : [tenant, x.id]);
  return rows.map((r) => parseShopifyJson(r.row) as Row);
}

async function processed(topic: string): Promise<void> {
  await webhooks.processPending();
  expect(await h.db.query(`SELECT status, last_error FROM shopify_webhook_inbox WHERE tenant_id = $1 AND topic = $2`, [A, topic])).toEqual([{ status: 'processed', last_error: null }]);
}

describe('privacy topics, for every resource of the registry', { timeout: 120_000 }, () => {
  it('every resource with a table holding a customer id has a privacy entry naming a column of its root', () => {
    for (const resource of DEFINITIONS) {
      const holds = tablesOf(resource).filter((t) => columnsOf(t).includes('customer_id')).map((t) => t.table);
      if (holds.length > 0) expect(resource.privacy, `${resource.name}: ${holds.join(', ')} hold customer ids, so customers/redact must know the resource`).not.toBeNull();
      if (resource.privacy) expect(columnsOf(resource.root), `${resource.name}.privacy.customerColumn`).toContain(resource.privacy.customerColumn);
    }
    expect(PRIVATE.map((r) => r.name)).toEqual(expect.arrayContaining(['customers', 'orders', 'draftOrders', 'abandonedCheckouts']));
  });

  it('both tenants hold the customer in every resource with a privacy entry, with their PII', async () => {
    for (const tenant of [A, B]) {
      for (const resource of PRIVATE) expect((await rowsOfCustomer(tenant, resource)).length, `${tenant} ${resource.name} rows of the customer`).toBeGreaterThan(0);
      const stored = await decrypted(tenant);
      for (const token of x.pii) expect(findIn(stored, token), `${tenant} stores ${token}`).not.toEqual([]);
    }
  });

  it('customers/data_request hands the host every row of the customer, in every resource that holds their data, decrypted', async () => {
    await send('customers/data_request', {
      shop_id: 1, shop_domain: shop.domain, customer: { id: Number(x.id), email: x.email, phone: null },
      orders_requested: x.orderIds.map(Number), data_request: { id: 77 },
    });
    await processed('customers/data_request');
    expect(exports).toHaveLength(1);
    const text = JSON.stringify(exports[0], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    expect(exports[0]!.dataRequestId).toBe('77');
    for (const resource of PRIVATE) {
      for (const row of await rowsOfCustomer(A, resource)) {
        const label = `${resource.name} ${String(row.id)}`;
        expect(occurs(text, String(row.id)), `${label} is in the export`).toBe(true);
        for (const [column, value] of Object.entries(row)) {
          if (!column.endsWith('_enc') || value === null) continue;
          const plain = h.keyRing.decrypt(String(value), A);
          const leaves = /^[[{]/.test(plain) ? stringsOf(JSON.parse(plain)) : [plain];
          for (const leaf of leaves.filter((s) => s.length > 2)) expect(text, `${label}.${column} (decrypted) is in the export`).toContain(JSON.stringify(leaf).slice(1, -1));
        }
      }
    }
  });

  it('customers/redact leaves nothing of the customer recoverable with the key in any table, keeps other customers, and leaves the other tenant as it was', async () => {
    const otherTenant = await rawRows(B);
    const before = await decrypted(A);
    const othersStored = others.filter((e) => findIn(before, e).length > 0);
    expect(othersStored.length, 'other customers stored').toBeGreaterThan(3);
    const hash = h.keyRing.blindIndex(x.email);
    expect(findIn(before, hash)).not.toEqual([]);

    await send('customers/redact', { shop_id: 1, shop_domain: shop.domain, customer: { id: Number(x.id), email: x.email, phone: null }, orders_to_redact: x.orderIds.map(Number) });
    await processed('customers/redact');

    const after = await decrypted(A);
    const leaks = [...x.pii, hash].map((token) => ({ token, at: findIn(after, token) })).filter((l) => l.at.length > 0);
    expect(leaks, 'PII of the redacted customer still recoverable').toEqual([]);
    // Registry-wide: the customer's rows have no PII column left, their payloads no sealed blob.
    for (const resource of PRIVATE) {
      const rows = await rowsOfCustomer(A, resource);
      expect(rows.length, `${resource.name}: the customer's rows stay (analytics)`).toBeGreaterThan(0);
      for (const row of rows) {
        const label = `${resource.name} ${String(row.id)}`;
        for (const [column, value] of Object.entries(row)) if (/_(enc|hash)$/.test(column)) expect(value, `${label}.${column}`).toBeNull();
        expect(JSON.stringify(row.payload, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)), `${label}.payload`).not.toContain('"_pii"');
        expect((row.payload as Row).redacted, `${label}.payload.redacted`).toBe(true);
      }
    }
    // Targeted: every other customer's PII is where it was.
    expect(othersStored.filter((e) => findIn(after, e).length === 0), 'other customers\' emails lost').toEqual([]);
    // The other tenant (the same ids) is untouched, row for row.
    expect(await rawRows(B)).toEqual(otherTenant);
  });

  it('shop/redact deletes every row of the tenant in every table the SDK owns, and nothing of the other tenant', async () => {
    const store = createStore(h.db.database);
    // What a crashed or interrupted process leaves behind, for both tenants: a run lock, a reconciliation's listed ids, a
    // recorded failure, an API notice, a delivery not applied yet.
    for (const tenant of [A, B]) {
      await store.acquireRunLock({ tenantId: tenant, resource: 'orders', runId: `crashed-${tenant}`, now: new Date(), ttlMs: 3_600_000 });
      await store.addListedIds(tenant, 'customers', `listing-${tenant}`, [1n, 2n]);
      const [run] = await store.listRuns(tenant, { limit: 1 });
      await store.recordFailures(run!.id, tenant, run!.resource, [{ shopifyId: 1n, reason: 'malformed' }]);
      await recordApiNotice(h.db.database.prisma, tenant, { kind: 'deprecated', requestedVersion: '2026-10', servedVersion: '2026-10', reason: 'a field', request: 'POST /graphql.json' }, new Date());
    }
    await send('customers/update', { id: 424242, updated_at: '2030-01-01T00:00:00Z', email: 'queued@example.com' }, { webhookId: 'queued-before-redact' });
    const tables = await tenantTables();
    for (const resource of DEFINITIONS) for (const { table } of tablesOf(resource)) expect(tables, `${resource.name}'s table`).toContain(table);
    // Every table holds rows of the tenant, so the check below is not vacuous.
    for (const table of tables) {
      const [{ n }] = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}" WHERE tenant_id = $1`, [A]);
      expect(n, `${table} rows of ${A} before shop/redact`).toBeGreaterThan(0);
    }
    const otherTenant = await rawRows(B);

    await send('shop/redact', { shop_id: 1, shop_domain: shop.domain }, { webhookId: 'shop-redact' });
    await webhooks.processPending();

    const left: Record<string, number> = {};
    for (const table of tables) {
      const [{ n }] = await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}" WHERE tenant_id = $1 ${table === 'shopify_webhook_inbox' ? `AND webhook_id <> 'shop-redact'` : ''}`, [A]);
      if (n > 0) left[table] = n;
    }
    expect(left, 'rows of the redacted tenant left').toEqual({});
    // The delivery's own row stays (a failure would send it back to pending), processed and bodiless.
    expect(await h.db.query(`SELECT status, body_enc FROM shopify_webhook_inbox WHERE tenant_id = $1`, [A])).toEqual([{ status: 'processed', body_enc: null }]);
    expect(await h.db.query(`SELECT is_active, access_token_enc, refresh_token_enc, client_secret_enc FROM shopify_tenants WHERE id = $1`, [A]))
      .toEqual([{ is_active: false, access_token_enc: null, refresh_token_enc: null, client_secret_enc: null }]);
    expect(await rawRows(B)).toEqual(otherTenant);
  });
});
