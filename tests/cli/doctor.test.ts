/**
 * `shopify-ingest doctor` against a real database filled by a real service: a tenant synced over an
 * API version the simulator no longer supports (it answers with a newer one, as Shopify does) with
 * a query that selects a deprecated field, then doctor's report read back through the CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createIngestionService, silentLogger, type IngestionService } from '../../src/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { readApiNotices } from '../../src/store/api-notices.js';
import { createShopifyClient } from '../../src/client/index.js';
import type { ApiNotice } from '../../src/client/api-notice.js';
import { cli } from './helpers.js';
import { RESOURCES } from '../../src/resources/registry.js';

const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const OLD = 'doctor-old.myshopify.com';
const FRESH = 'doctor-fresh.myshopify.com';
const HOST_NAME = 'ingest.example.com';

let db: TestDatabase;
let simulator: ShopifySimulator;
let service: IngestionService;

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_doctor' });
  simulator = await createShopifySimulator({
    seed: 3, unthrottled: true,
    supportedVersions: ['2026-01', '2026-04', '2026-07', '2026-10', '2027-01'],
    shops: [{ domain: OLD, customers: 6, products: 2, orders: 3 }, { domain: FRESH, customers: 4, products: 2, orders: 2 }],
  });
  service = createIngestionService(db.database, {
    env: { ENCRYPTION_KEY, HOST_NAME }, logger: silentLogger, clientDefaults: { baseUrl: simulator.url }, bulk: { minPollMs: 10, maxPollMs: 50 },
    scheduler: { enabled: false }, webhooks: { enabled: false }, healthCheckIntervalMs: 0,
  });
  await service.initialize();
}, 120_000);

afterAll(async () => {
  await service?.shutdown({ timeoutMs: 2_000 }).catch(() => {});
  await simulator?.stop();
  await db?.drop();
});

describe('API notices', () => {
  it('the client reports a fall-forward version and the deprecations a query uses, each at most hourly', async () => {
    let now = Date.parse('2026-12-04T00:00:00Z');
    const notices: ApiNotice[] = [];
    const shop = simulator.shop(OLD);
    const client = createShopifyClient({ shopDomain: OLD, accessToken: shop.accessToken, baseUrl: simulator.url, apiVersion: '2025-07', now: () => now, onApiNotice: (n) => notices.push(n) });
    try {
      const query = '{ customers(first: 1) { nodes { id addresses(first: 1) { city } } } }';
      await client.graphql(query);
      await client.graphql(query);
      expect(notices).toEqual([
        { kind: 'deprecated', requestedVersion: '2025-07', servedVersion: '2026-01', reason: 'Customer.addresses', request: 'POST /graphql.json' },
        { kind: 'version_mismatch', requestedVersion: '2025-07', servedVersion: '2026-01', reason: null, request: 'POST /graphql.json' },
      ]);
      now += 3_600_001;
      await client.graphql('{ shop { name } }');
      expect(notices.map((n) => n.kind)).toEqual(['deprecated', 'version_mismatch', 'version_mismatch']);
    } finally {
      await client.close();
    }
  });

  it('a supported version and a query without deprecated fields report nothing', async () => {
    const notices: ApiNotice[] = [];
    const client = createShopifyClient({ shopDomain: FRESH, accessToken: simulator.shop(FRESH).accessToken, baseUrl: simulator.url, apiVersion: '2026-10', onApiNotice: (n) => notices.push(n) });
    try {
      await client.graphql('{ shop { name } customers(first: 2) { nodes { id } } }');
      expect(notices).toEqual([]);
    } finally {
      await client.close();
    }
  });
});

describe('shopify-ingest doctor', () => {
  it('reports the fall-forward, the deprecation, missing scopes, a failed sync and dead letters; exit 1', { timeout: 180_000 }, async () => {
    await service.addTenant('old', { shopDomain: OLD, accessToken: simulator.shop(OLD).accessToken, apiVersion: '2025-07' });
    // With its client's base URL stored, so the CLI's own service reaches the simulator too.
    await service.addTenant('fresh', { shopDomain: FRESH, accessToken: simulator.shop(FRESH).accessToken }, { client: { baseUrl: simulator.url } });
    // A full sync is a bulk operation (its query travels as a string); the incremental one after it
    // pages with the registry's query, which selects the deprecated Customer.addresses.
    await service.importData('old', 'customers');
    await service.importData('old', 'customers', { mode: 'incremental' });
    await service.importData('fresh', 'all');
    await service.importData('fresh', 'customers', { mode: 'incremental' });
    // Notices are recorded as the client reports them (off the request path): wait for the rows.
    const deadline = Date.now() + 10_000;
    // Both tenants' rows: waiting for 'old' alone let 'fresh' be read before its row landed (CI, once).
    while (((await readApiNotices(db.prisma, 'old')).length < 2 || (await readApiNotices(db.prisma, 'fresh')).length < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const stored = await readApiNotices(db.prisma, 'old');
    expect(stored.map((n) => [n.kind, n.servedVersion, n.reason]).sort()).toEqual([['deprecated', '2026-01', 'Customer.addresses'], ['version_mismatch', '2026-01', null]]);
    // The fresh tenant's customers query selects the same deprecated field: reported, but no version problem.
    expect((await readApiNotices(db.prisma, 'fresh')).map((n) => n.kind)).toEqual(['deprecated']);

    // Every scope the registry's resources need; 'old' lacks read_orders and has write_products for read_products.
    const all = [...new Set(RESOURCES.flatMap((r) => [...r.scopes]))];
    await db.query(`UPDATE shopify_tenants SET scopes = $1 WHERE id = 'old'`, [all.filter((s) => s !== 'read_orders').map((s) => (s === 'read_products' ? 'write_products' : s)).join(',')]);
    await db.query(`UPDATE shopify_tenants SET scopes = $1 WHERE id = 'fresh'`, [all.join(',')]);
    await db.query(
      `INSERT INTO shopify_webhook_inbox (id, tenant_id, webhook_id, topic, shop_domain, api_version, body_enc, received_at, next_attempt_at, status, attempts)
       VALUES ('dl-1', 'old', 'w-1', 'orders/create', $1, '2026-10', 'x', now(), now(), 'failed', 8)`, [OLD]);

    const env = { LOG_LEVEL: 'warn' };
    const run = await cli(['doctor', '--json', '--database-url', db.url], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    const { ok, tenants } = JSON.parse(run.stdout) as { ok: boolean; tenants: Array<{ tenantId: string; scopes: { missing: string[]; granted: string[] }; apiVersion: { requested: string; answeredBy: string[] }; inbox: { deadLetters: number }; syncs: Array<{ resource: string; lastSuccessAt: string | null }>; findings: Array<{ severity: string; area: string; message: string }> }> };
    expect(ok).toBe(false); // as the exit code says: something needs action
    const old = tenants.find((t) => t.tenantId === 'old')!;
    expect(old.apiVersion).toEqual({ requested: '2025-07', answeredBy: ['2026-01'] });
    expect(old.scopes.missing).toEqual(['read_orders']); // write_products grants read_products
    expect(old.inbox.deadLetters).toBe(1);
    expect(old.syncs.find((s) => s.resource === 'customers')!.lastSuccessAt).not.toBeNull();
    expect(old.syncs.find((s) => s.resource === 'orders')!.lastSuccessAt).toBeNull();
    const problems = old.findings.filter((f) => f.severity === 'problem').map((f) => f.area).sort();
    expect(problems).toEqual(['api', 'inbox', 'scopes']);
    expect(old.findings).toContainEqual(expect.objectContaining({ severity: 'warning', area: 'api', message: expect.stringContaining('Customer.addresses') }));
    expect(old.findings).toContainEqual(expect.objectContaining({ severity: 'warning', area: 'credentials', message: expect.stringContaining('2027-01-01') }));
    expect(old.findings).toContainEqual(expect.objectContaining({ severity: 'warning', area: 'sync', message: 'orders: never synced' }));

    const fresh = tenants.find((t) => t.tenantId === 'fresh')!;
    expect(fresh.findings.filter((f) => f.severity === 'problem')).toEqual([]);
    expect(fresh.scopes.missing).toEqual([]);

    // One tenant, as text; a healthy tenant alone exits 0.
    const text = await cli(['doctor', '--tenant', 'old', '--database-url', db.url], env);
    expect(text.stdout).toContain('old  doctor-old.myshopify.com  active');
    expect(text.stdout).toContain('✗ api: requested API version 2025-07 is no longer supported: Shopify answered with 2026-01');
    await db.query(`DELETE FROM shopify_api_notices WHERE tenant_id = 'fresh'`);
    const healthy = await cli(['doctor', '--tenant', 'fresh', '--database-url', db.url], env);
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toContain('! credentials: static (non-expiring) token');
    expect((await cli(['doctor', '--tenant', 'nobody', '--database-url', db.url], env)).code).toBe(2);

    // A tenant that turned orders off (TenantConfig.resources) needs no read_orders and is not told of orders' syncs.
    await db.query(`UPDATE shopify_tenants SET config = config || '{"resources":["customers","products"]}'::jsonb WHERE id = 'old'`);
    const narrowed = JSON.parse((await cli(['doctor', '--tenant', 'old', '--json', '--database-url', db.url], env)).stdout) as { tenants: Array<{ scopes: { needed: string[]; missing: string[] }; findings: Array<{ area: string; message: string }> }> };
    expect(narrowed.tenants[0]!.scopes).toMatchObject({ needed: ['read_customers', 'read_products'], missing: [] });
    expect(narrowed.tenants[0]!.findings.filter((f) => f.area === 'sync' && f.message.startsWith('orders'))).toEqual([]);
  });

  it('--subscriptions asks Shopify for the drift of each active tenant: missing topics are a problem until repaired', { timeout: 120_000 }, async () => {
    const env = { ENCRYPTION_KEY, HOST_NAME, LOG_LEVEL: 'warn' };
    type Report = { tenants: Array<{ tenantId: string; subscriptions?: { inSync: boolean; missing: string[]; extra: string[] }; findings: Array<{ severity: string; area: string; message: string }> }> };
    const before = await cli(['doctor', '--subscriptions', '--tenant', 'fresh', '--json', '--database-url', db.url], env);
    expect(before.code).toBe(1);
    const drift = (JSON.parse(before.stdout) as Report).tenants[0]!;
    expect(drift.subscriptions!.inSync).toBe(false);
    expect(drift.subscriptions!.missing).toEqual(expect.arrayContaining(['orders/create', 'app/uninstalled']));
    expect(drift.findings).toContainEqual(expect.objectContaining({ severity: 'problem', area: 'webhooks' }));

    await service.verifyWebhookSubscriptions('fresh', { repair: true });
    const after = await cli(['doctor', '--subscriptions', '--tenant', 'fresh', '--json', '--database-url', db.url], env);
    const repaired = (JSON.parse(after.stdout) as Report).tenants[0]!;
    expect(repaired.subscriptions).toMatchObject({ missing: [], extra: [] });
    // What is left is the app's webhook API version (the simulator's app answers in another one): a warning, not a problem.
    expect(repaired.findings.filter((f) => f.area === 'webhooks').map((f) => f.severity)).toEqual(repaired.subscriptions!.inSync ? [] : ['warning']);
    expect(after.code).toBe(0);
    // Without --subscriptions nothing is asked of Shopify.
    expect((JSON.parse((await cli(['doctor', '--tenant', 'fresh', '--json', '--database-url', db.url], env)).stdout) as Report).tenants[0]!.subscriptions).toBeUndefined();
  });

  it('shop/redact purges the tenant\'s notices with its data', async () => {
    await service.store.purgeTenant('old');
    expect(await readApiNotices(db.prisma, 'old')).toEqual([]);
  });
});
