/**
 * A sync that ends with records it could not import: exit 4 and where they are; `failures` lists
 * them; `retry-failures` fetches them again from Shopify (the simulator), imports what is fixed,
 * drops what Shopify deleted, and records again what still fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { cli } from './helpers.js';

const SHOP = 'failing-store.myshopify.com';
let db: TestDatabase;
let simulator: ShopifySimulator;
let env: Record<string, string>;

interface FailureJson { tenantId: string; resource: string; shopifyId: string; runId: string; reason: string }

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_cli_failures' });
  simulator = await createShopifySimulator({ seed: 11, unthrottled: true, shops: [{ domain: SHOP, customers: 10, products: 4, orders: 60 }] });
  env = { ENCRYPTION_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent', DATABASE_URL: db.url };
  const add = await cli(['tenants', 'add', 'fails', '--shop', SHOP, '--token', simulator.shops[0]!.accessToken, '--base-url', simulator.url], env);
  expect(add.code, add.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await simulator?.stop();
  await db?.drop();
});

describe('failed records, end to end', () => {
  it('exit 4 says where the failures are; failures lists them; retry-failures imports the fixed, drops the deleted, records the rest again', async () => {
    const shop = simulator.shops[0]!;
    const [fixed, deleted, broken] = [shop.idOf('orders', 5), shop.idOf('orders', 17), shop.idOf('orders', 40)];
    for (const id of [fixed, deleted, broken]) shop.update('orders', id, { total_price: 'twelve dollars' });

    const sync = await cli(['sync', 'fails', 'orders'], env);
    expect(sync.code).toBe(4);
    expect(sync.stdout).toMatch(/^orders\s+succeeded\s+fetched 60 imported 57 skipped 0 failed 3/);
    expect(sync.stderr).toMatch(/3 record\(s\) could not be imported \(orders: 3 in run \S+\)/);
    expect(sync.stderr).toContain('shopify_sync_failures');
    expect(sync.stderr).toContain('shopify-ingest failures --tenant fails');
    expect(sync.stderr).toContain('shopify-ingest retry-failures --tenant fails');

    const listed = await cli(['failures', '--tenant', 'fails', '--json'], env);
    expect(listed.code).toBe(0);
    const { ok, failures } = JSON.parse(listed.stdout) as { ok: boolean; failures: FailureJson[] };
    expect(ok).toBe(true);
    expect(failures.map((f) => f.shopifyId).sort()).toEqual([fixed, deleted, broken].map(String).sort());
    for (const f of failures) expect(f).toMatchObject({ tenantId: 'fails', resource: 'orders', reason: expect.stringMatching(/total_price/) });
    expect(JSON.parse((await cli(['failures', '--resource', 'customers', '--json'], env)).stdout)).toEqual({ ok: true, failures: [] });
    const human = await cli(['failures', '--tenant', 'fails'], env);
    expect(human.stdout).toContain(String(broken));
    expect(human.stdout).toMatch(/3 record\(s\)\. Fetch and import them again: shopify-ingest retry-failures --tenant fails/);

    shop.update('orders', fixed, { total_price: '12.00' });
    shop.delete('orders', deleted);
    const retry = await cli(['retry-failures', '--tenant', 'fails', '--json'], env);
    expect(retry.code).toBe(4);
    const outcome = JSON.parse(retry.stdout) as { ok: boolean; outcomes: Array<Record<string, unknown>> };
    expect(outcome.ok).toBe(false);
    expect(outcome.outcomes).toEqual([expect.objectContaining({ tenantId: 'fails', resource: 'orders', retried: 3, imported: 1, failed: 1, gone: 1, withoutId: 0 })]);
    const retryRun = String(outcome.outcomes[0]!.runId);
    expect((await db.query(`SELECT total_price::text AS p FROM shopify_orders WHERE tenant_id = 'fails' AND id = $1`, [String(fixed)]))).toEqual([{ p: '12.0000' }]);
    const [run] = await db.query(`SELECT status, imported, failed, options FROM shopify_sync_runs WHERE id = $1`, [retryRun]);
    expect(run).toMatchObject({ status: 'succeeded', imported: 1, failed: 1 });

    const still = (JSON.parse((await cli(['failures', '--tenant', 'fails', '--json'], env)).stdout) as { failures: FailureJson[] }).failures;
    expect(still).toEqual([expect.objectContaining({ shopifyId: String(broken), runId: retryRun })]);

    shop.update('orders', broken, { total_price: '1.50' });
    const last = await cli(['retry-failures', '--tenant', 'fails'], env);
    expect(last.code).toBe(0);
    expect(last.stdout).toMatch(/fails orders: 1 retried, 1 imported, 0 failed again, 0 gone from Shopify/);
    expect(JSON.parse((await cli(['failures', '--json'], env)).stdout)).toEqual({ ok: true, failures: [] });
    expect((await cli(['retry-failures'], env)).stdout).toBe('no outstanding failures to retry\n');
  });

  it('a failure fixed by a later ordinary sync is no longer listed', async () => {
    const shop = simulator.shops[0]!;
    const id = shop.idOf('orders', 22);
    shop.update('orders', id, { total_price: 'n/a' });
    expect((await cli(['sync', 'fails', 'orders', '--mode', 'full'], env)).code).toBe(4);
    expect((JSON.parse((await cli(['failures', '--json'], env)).stdout) as { failures: FailureJson[] }).failures.map((f) => f.shopifyId)).toEqual([String(id)]);
    shop.update('orders', id, { total_price: '3.00' });
    expect((await cli(['sync', 'fails', 'orders'], env)).code).toBe(0);
    expect(JSON.parse((await cli(['failures', '--json'], env)).stdout)).toEqual({ ok: true, failures: [] });
  });
});
