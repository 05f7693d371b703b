/**
 * Shared set-up of the importer integration tests: a real PostgreSQL database (createTestDatabase),
 * a real simulator over HTTP, the real client, store, transformer and key ring.
 */
import { randomBytes } from 'node:crypto';
import { createShopifyClient } from '../../src/client/index.js';
import { createKeyRing, type KeyRing } from '../../src/crypto/index.js';
import { createImportService, type ImportServiceOptions } from '../../src/importer/index.js';
import { parseShopifyJson } from '../../src/json.js';
import { createStore } from '../../src/store/index.js';
import type { ResourceType } from '../../src/store/rows.js';
import { createShopifySimulator, type ShopifySimulator, type ShopifySimulatorOptions } from '../../src/testing/index.js';
import { revealPayload } from '../../src/transform/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

export const SIZES = { customers: 300, products: 100, orders: 1000 };

export interface Harness {
  db: TestDatabase;
  sim: ShopifySimulator;
  keyRing: KeyRing;
  encryptionKey: string;
  close(): Promise<void>;
}

export async function createHarness(simOptions: ShopifySimulatorOptions = {}): Promise<Harness> {
  const encryptionKey = randomBytes(32).toString('base64');
  const keyRing = createKeyRing({ key: encryptionKey });
  const db = await createTestDatabase({ prefix: 'si_importer' });
  const sim = await createShopifySimulator({ seed: 7, unthrottled: true, shops: [{ ...SIZES }], ...simOptions });
  return {
    db, sim, keyRing, encryptionKey,
    async close() { await sim.stop(); await db.drop(); },
  };
}

/** A tenant row (the synced tables reference it) and a client for shop `shopIndex`. */
export async function connectTenant(h: Harness, tenantId: string, shopIndex = 0, clientOptions: Record<string, unknown> = {}) {
  const shop = h.sim.shops[shopIndex];
  await createStore(h.db.database).upsertTenant({ id: tenantId, shopDomain: shop.domain, accessTokenEnc: 'not-used-here' });
  const client = createShopifyClient({
    shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: shop.baseUrl,
    retryOptions: { retries: 8, minTimeout: 5, maxTimeout: 50 }, ...clientOptions,
  });
  return { shop, client };
}

export function importer(h: Harness, client: Parameters<typeof createImportService>[1], tenantId: string, options: ImportServiceOptions = {}) {
  return createImportService(h.db.database, client, tenantId, { keyRing: h.keyRing, ...options });
}

/** Every record the shop currently has, by id (read over the API, ids exact). */
export async function shopRecords(client: ReturnType<typeof createShopifyClient>, resource: ResourceType): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  const query = resource === 'orders' ? { status: 'any', limit: 250 } : { limit: 250 };
  for await (const page of client.pages<Record<string, unknown>>(`/${resource}.json`, query)) {
    for (const r of page) out.set(String(r.id), r);
  }
  return out;
}

/** Stored, not deleted records with their payload decrypted, by id. */
export async function storedRecords(h: Harness, tenantId: string, resource: ResourceType): Promise<Map<string, Record<string, unknown>>> {
  const rows = await h.db.query<{ id: string; payload: string }>(
    `SELECT id::text AS id, payload::text AS payload FROM shopify_${resource} WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY id`, [tenantId]);
  const out = new Map<string, Record<string, unknown>>();
  for (const r of rows) out.set(r.id, revealPayload(parseShopifyJson(r.payload), tenantId, h.keyRing) as Record<string, unknown>);
  return out;
}

/** A comparable image of everything a sync wrote for a tenant: PII decrypted, bookkeeping columns (the bulk operation's sync_tag, observed_at) dropped. */
export async function databaseImage(h: Harness, tenantId: string): Promise<Record<string, unknown[]>> {
  const image = await rawImage(h, tenantId);
  for (const rows of Object.values(image)) for (const row of rows as Array<Record<string, unknown>>) { delete row.sync_tag; delete row.observed_at; }
  return image;
}

async function rawImage(h: Harness, tenantId: string): Promise<Record<string, unknown[]>> {
  const dec = (v: string | null) => (v === null ? null : h.keyRing.decrypt(v, tenantId));
  const reveal = (p: string) => revealPayload(parseShopifyJson(p), tenantId, h.keyRing);
  const image: Record<string, unknown[]> = {};
  const customers = await h.db.query(`SELECT *, id::text AS id, payload::text AS payload FROM shopify_customers t WHERE tenant_id = $1 ORDER BY t.id`, [tenantId]);
  image.customers = customers.map(({ synced_at, email_enc, first_name_enc, last_name_enc, phone_enc, addresses_enc, payload, ...rest }) =>
    ({ ...rest, email: dec(email_enc), firstName: dec(first_name_enc), lastName: dec(last_name_enc), phone: dec(phone_enc), addresses: dec(addresses_enc), payload: reveal(payload) }));
  const orders = await h.db.query(`SELECT *, id::text AS id, customer_id::text AS customer_id, payload::text AS payload FROM shopify_orders t WHERE tenant_id = $1 ORDER BY t.id`, [tenantId]);
  image.orders = orders.map(({ synced_at, email_enc, phone_enc, payload, ...rest }) => ({ ...rest, email: dec(email_enc), phone: dec(phone_enc), payload: reveal(payload) }));
  for (const [table, order, hasPayload] of [['shopify_products', 'id', true], ['shopify_product_variants', 'id', true], ['shopify_order_line_items', 'id', true], ['shopify_order_events', 'order_id, type, source_id', false]] as const) {
    const rows = await h.db.query(`SELECT *${hasPayload ? ', payload::text AS payload' : ''} FROM ${table} t WHERE tenant_id = $1 ORDER BY ${order.split(', ').map((c) => `t.${c}`).join(', ')}`, [tenantId]);
    image[table] = rows.map(({ synced_at, payload, ...rest }) => ({ ...rest, ...(hasPayload ? { payload: reveal(payload) } : {}) }));
  }
  return image;
}

/** Pick n distinct random elements (deterministic with a seeded random). */
export function sample<T>(items: T[], n: number, random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, n);
}

export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
