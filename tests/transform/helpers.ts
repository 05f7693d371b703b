import { createKeyRing, type KeyRing } from '../../src/crypto/index.js';
import { parseShopifyJson } from '../../src/json.js';
import { ShopifyTransformer } from '../../src/transform/index.js';
import { readFixture } from '../helpers/db.js';

export const TEST_KEY = '5f'.repeat(32);
export const ring: KeyRing = createKeyRing({ key: TEST_KEY });
export const transformer = new ShopifyTransformer({ keyRing: ring });

export const WEBHOOK_FIXTURES = [
  'customers.create', 'customers.update', 'customers.delete',
  'products.create', 'products.update', 'products.delete',
  'orders.create', 'orders.updated', 'orders.delete',
] as const;

/** A captured webhook's body, parsed as the SDK parses raw bodies. */
export async function webhookBody(name: string): Promise<any> {
  return parseShopifyJson<{ body: unknown }>(await readFixture(`captured-hookdeck-2024-10/${name}.json`)).body;
}

export async function restOrdersPage(): Promise<any[]> {
  return parseShopifyJson<{ orders: any[] }>(await readFixture('rest-orders-page.json')).orders;
}

/** A row with every *Enc column decrypted and the payload dropped, for comparing rows across shapes. */
export function plain<T extends object>(row: T, tenantId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === 'payload') continue;
    if (key.endsWith('Enc') && typeof value === 'string') out[key.slice(0, -3)] = ring.decrypt(value, tenantId);
    else out[key] = value;
  }
  return out;
}

/** Every string leaf of a JSON value (to list the PII a fixture holds). */
export function strings(value: unknown, keys: ReadonlySet<string>, out: Set<string> = new Set(), key = ''): Set<string> {
  if (Array.isArray(value)) for (const v of value) strings(v, keys, out, key);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) strings(v, keys, out, k);
  else if ((typeof value === 'string' || typeof value === 'number') && keys.has(key) && value !== '') out.add(String(value));
  return out;
}
