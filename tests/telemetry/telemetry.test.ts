/**
 * OpenTelemetry end to end: the facade syncs the simulator into real PostgreSQL and receives real
 * webhook deliveries through the Express adapter, with the OTel SDK's in-memory exporters
 * attached. The counters must equal the rows in the database, the spans must nest run -> page or
 * bulk file -> batch write, and refused or repeated deliveries must be counted as such.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { metrics, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestionService, type ImportAllResult, type ImportResult, type IngestionService, type IngestionServiceOptions } from '../../src/index.js';
import { silentLogger } from '../../src/logger.js';
import { RESOURCES } from '../../src/resources/registry.js';
import { graphqlSourcesOf } from '../../src/resources/definition.js';
import { createTelemetry } from '../../src/telemetry/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { BULK_CODES_LIMIT } from '../../src/testing/discounts.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { RESOURCE_NAMES } from '../../src/resources/index.js';
import { collectors, histogramCount, idOf, parentOf, points, total, type Collectors } from './collectors.js';

const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const CLIENT_ID = 'otel-app';
const SECRET = `otel_secret_${randomBytes(6).toString('hex')}`;
const env = { ENCRYPTION_KEY, SHOPIFY_API_KEY: CLIENT_ID, SHOPIFY_API_SECRET: SECRET, LOG_LEVEL: 'silent' };
const QUIET = '0 0 1 1 *';
const quiet = { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { schedule: QUIET }])), fullSync: { schedule: QUIET } };
const ALPHA = 'otel-alpha.myshopify.com';
const BETA = 'otel-beta.myshopify.com';

let db: TestDatabase;
let sim: ShopifySimulator;
let otel: Collectors;
let service: IngestionService;
let server: Server;
let webhookUrl: string;
const services: IngestionService[] = [];

function makeService(options: IngestionServiceOptions): IngestionService {
  const s = createIngestionService(db.database, {
    env, logger: silentLogger, clientDefaults: { baseUrl: sim.url, retryOptions: { minTimeout: 10, maxTimeout: 50 } },
    scheduler: { enabled: false, syncConfig: quiet }, healthCheckIntervalMs: 0, bulk: { minPollMs: 10, maxPollMs: 50 },
    tokenRenewal: { renewBeforeMs: 0 },
    ...options,
  });
  services.push(s);
  return s;
}

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_otel' });
  sim = await createShopifySimulator({
    seed: 20, unthrottled: true, apiSecret: SECRET, oauth: { clientId: CLIENT_ID, accessTokenTtlSeconds: 3600 },
    shops: [{ domain: ALPHA, customers: 40, products: 8, orders: 30 }, { domain: BETA, customers: 3, products: 1, orders: 1 }],
  });
  otel = collectors();
  service = makeService({ telemetry: { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider } });
  await service.initialize();
  await service.addTenant('alpha', { shopDomain: ALPHA, accessToken: sim.shop(ALPHA).accessToken });
  const app = express();
  service.setupWebhookEndpoints(app, { path: '/webhooks', parseJson: false });
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`;
}, 60_000);

afterAll(async () => {
  for (const s of services) await s.shutdown({ timeoutMs: 2_000 }).catch(() => {});
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await otel?.shutdown();
  await sim?.stop();
  await db?.drop();
});

// Syncs every registry resource (batches of 7): minutes on a loaded machine.
describe('telemetry of the facade (in-memory exporters, PostgreSQL, simulator)', { timeout: 180_000 }, () => {
  let full: ImportAllResult;

  it('a full sync: rows and records counted equal the rows stored; spans nest run -> bulk file -> batch write', async () => {
    full = await service.importData('alpha', 'all', { mode: 'full', batchSize: 7 }) as ImportAllResult;
    const m = await otel.metrics();
    for (const resource of RESOURCES) {
      const result = full[resource.name as keyof ImportAllResult];
      // A connection is backfilled by a bulk operation; a singleton (the shop) is one query.
      const method = resource.graphql.singleton ? 'pages' : 'bulk';
      expect(result.method).toBe(method);
      const where = { 'shopify_ingest.tenant': 'alpha', 'shopify_ingest.resource': resource.name };
      // A discount whose bulk output Shopify truncated (codes beyond BULK_CODES_LIMIT) is written twice:
      // from the file (the record and its first codes), then whole from a paged re-read.
      const [{ truncated }] = resource.name === 'discounts'
        ? await db.query<{ truncated: number }>(`SELECT count(*)::int AS truncated FROM shopify_discounts WHERE tenant_id = 'alpha' AND codes_count > ${BULK_CODES_LIMIT}`)
        : [{ truncated: 0 }];
      const rewritten: Record<string, number> = { discounts: truncated, discountCodes: truncated * BULK_CODES_LIMIT };
      if (resource.name === 'discounts') expect(truncated).toBeGreaterThan(0);
      for (const table of [resource.root, ...resource.children]) {
        const [{ n }] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table.table}" WHERE tenant_id = 'alpha'`);
        const twice = resource.name === 'discounts' ? rewritten[table.key] ?? 0 : 0;
        expect(total(m, 'shopify_ingest.sync.rows', { ...where, 'shopify_ingest.table': table.key }), `${resource.name}.${table.key}`).toBe(n + twice);
      }
      const [{ n: roots }] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${resource.root.table}" WHERE tenant_id = 'alpha'`);
      expect(roots).toBeGreaterThan(0);
      expect(total(m, 'shopify_ingest.sync.records', { ...where, 'shopify_ingest.outcome': 'written' })).toBe(roots);
      expect(result.imported).toBe(roots);
      expect(histogramCount(m, 'shopify_ingest.sync.duration', { ...where, 'shopify_ingest.sync.status': 'succeeded', 'shopify_ingest.sync.mode': 'full', 'shopify_ingest.sync.method': method })).toBe(1);
    }
    // Every row of the child tables was counted too: not only the roots.
    expect(total(m, 'shopify_ingest.sync.rows', { 'shopify_ingest.table': 'lineItems' })).toBeGreaterThan(0);

    expect(total(m, 'shopify_ingest.api.requests', { 'shopify_ingest.tenant': 'alpha', 'shopify_ingest.api.kind': 'graphql', 'shopify_ingest.api.status_class': '2xx' })).toBeGreaterThan(RESOURCES.length);
    expect(total(m, 'shopify_ingest.graphql.points.spent', { 'shopify_ingest.tenant': 'alpha' })).toBeGreaterThan(0);
    const available = points(m, 'shopify_ingest.graphql.points.available', { 'shopify_ingest.tenant': 'alpha' });
    expect(available).toHaveLength(1);
    expect(available[0]!.value).toBeGreaterThan(0);

    const spans = otel.spans();
    for (const resource of RESOURCES.filter((r) => r.graphql.singleton)) {
      const result = full[resource.name as keyof ImportAllResult];
      const run = spans.find((s) => s.name === 'shopify_ingest.sync' && s.attributes['shopify_ingest.sync.run_id'] === result.runId)!;
      expect(run.attributes).toMatchObject({ 'shopify_ingest.resource': resource.name, 'shopify_ingest.sync.method': 'pages', 'shopify_ingest.sync.status': 'succeeded' });
    }
    for (const resource of RESOURCES.filter((r) => !r.graphql.singleton)) {
      const result = full[resource.name as keyof ImportAllResult];
      const run = spans.find((s) => s.name === 'shopify_ingest.sync' && s.attributes['shopify_ingest.sync.run_id'] === result.runId)!;
      expect(run.attributes).toMatchObject({
        'shopify_ingest.tenant': 'alpha', 'shopify_ingest.resource': resource.name, 'shopify_ingest.sync.mode': 'full',
        'shopify_ingest.sync.source': 'graphql', 'shopify_ingest.sync.method': 'bulk', 'shopify_ingest.sync.status': 'succeeded',
      });
      expect(parentOf(run)).toBeUndefined();
      const files = spans.filter((s) => s.name === 'shopify_ingest.sync.bulk_file' && parentOf(s) === idOf(run));
      expect(files.length).toBeGreaterThanOrEqual(1);
      for (const file of files) expect(file.attributes).toMatchObject({ 'shopify_ingest.tenant': 'alpha', 'shopify_ingest.resource': resource.name, 'shopify_ingest.bulk.partial': false });
      // Discounts whose bulk output was truncated are read again under a page span of the run; the
      // shop's metafields (one of metafields' listings) are one query, under a page span too.
      const pagesOf = (attribute: string) => spans.filter((s) => s.name === 'shopify_ingest.sync.page' && parentOf(s) === idOf(run) && s.attributes[attribute] !== undefined);
      const rereads = pagesOf('shopify_ingest.page.reread_truncated');
      expect(rereads.length).toBe(resource.name === 'discounts' ? 1 : 0);
      const singles = pagesOf('shopify_ingest.page.singleton');
      expect(singles.length).toBe(graphqlSourcesOf(resource).filter((g) => g.singleton).length);
      const fileIds = new Set([...files, ...rereads, ...singles].map(idOf));
      const batches = spans.filter((s) => s.name === 'shopify_ingest.sync.batch' && s.attributes['shopify_ingest.resource'] === resource.name && s.spanContext().traceId === run.spanContext().traceId);
      // batchSize 7: a batch per 7 records (several for most resources), each a child of its file, none directly under the run.
      // A resource riding on orders counts orders as records and writes their refunds (or transactions...) as rows: any number per batch.
      expect(batches.length).toBeGreaterThanOrEqual(resource.ridesOn ? 1 : Math.max(1, Math.ceil(result.imported / 7)));
      for (const batch of batches) expect(fileIds.has(parentOf(batch)!), `${resource.name}: batch under ${spans.find((s) => idOf(s) === parentOf(batch))?.name}`).toBe(true);
      expect(batches.reduce((n, b) => n + Number(b.attributes['shopify_ingest.batch.written'] ?? 0), 0)).toBe(result.imported);
    }
  });

  it('an incremental sync by pages: run -> page -> batch write; its records are counted on top', async () => {
    const shop = sim.shop(ALPHA);
    for (let i = 0; i < 3; i++) shop.update('customers', shop.idOf('customers', i), { tags: `otel-${i}` });
    const before = total(await otel.metrics(), 'shopify_ingest.sync.records', { 'shopify_ingest.resource': 'customers', 'shopify_ingest.outcome': 'written' });
    const result = await service.importData('alpha', 'customers', { batchSize: 2 }) as ImportResult;
    expect(result).toMatchObject({ mode: 'incremental', method: 'pages', status: 'succeeded' });
    expect(result.imported).toBeGreaterThanOrEqual(3);
    const m = await otel.metrics();
    expect(total(m, 'shopify_ingest.sync.records', { 'shopify_ingest.resource': 'customers', 'shopify_ingest.outcome': 'written' }) - before).toBe(result.imported);
    expect(histogramCount(m, 'shopify_ingest.sync.duration', { 'shopify_ingest.resource': 'customers', 'shopify_ingest.sync.mode': 'incremental', 'shopify_ingest.sync.method': 'pages' })).toBe(1);

    const spans = otel.spans();
    const run = spans.find((s) => s.name === 'shopify_ingest.sync' && s.attributes['shopify_ingest.sync.run_id'] === result.runId)!;
    expect(run.attributes).toMatchObject({ 'shopify_ingest.sync.mode': 'incremental', 'shopify_ingest.sync.method': 'pages', 'shopify_ingest.tenant': 'alpha' });
    const pages = spans.filter((s) => s.name === 'shopify_ingest.sync.page' && parentOf(s) === idOf(run));
    expect(pages.length).toBeGreaterThanOrEqual(1);
    const pageIds = new Set(pages.map(idOf));
    const batches = spans.filter((s) => s.name === 'shopify_ingest.sync.batch' && s.spanContext().traceId === run.spanContext().traceId);
    expect(batches.length).toBeGreaterThanOrEqual(2);
    for (const batch of batches) expect(pageIds.has(parentOf(batch)!)).toBe(true);
    expect(batches.reduce((n, b) => n + Number(b.attributes['shopify_ingest.batch.written'] ?? 0), 0)).toBe(result.imported);
  });

  it('webhooks through the Express adapter: accepted, duplicate and bad-HMAC deliveries counted with their reason; ack latency timed', async () => {
    const shop = sim.shop(ALPHA);
    shop.subscribe('customers/update', webhookUrl);
    shop.update('customers', shop.idOf('customers', 5), { tags: 'webhook-1' });
    shop.update('customers', shop.idOf('customers', 6), { tags: 'webhook-2' });
    await sim.webhooks.waitForDeliveries(30_000);
    const sent = sim.webhooks.deliveries.filter((d) => d.topic === 'customers/update');
    expect(sent.map((d) => d.ok)).toEqual([true, true]);
    const replay = sent[0]!;
    // The same delivery again (Shopify may send one twice), then one whose HMAC does not verify.
    const again = await fetch(webhookUrl, { method: 'POST', headers: replay.headers, body: replay.body });
    expect(await again.json()).toEqual({ ok: true, duplicate: true });
    const forged = await fetch(webhookUrl, { method: 'POST', headers: { ...replay.headers, 'x-shopify-hmac-sha256': Buffer.from('forged').toString('base64') }, body: replay.body.replace('webhook-1', 'evil') });
    expect(forged.status).toBe(401);

    const m = await otel.metrics();
    expect(total(m, 'shopify_ingest.webhook.deliveries', { 'shopify_ingest.outcome': 'accepted', 'shopify_ingest.tenant': 'alpha', 'shopify_ingest.webhook.topic': 'customers/update' })).toBe(2);
    expect(total(m, 'shopify_ingest.webhook.deliveries', { 'shopify_ingest.outcome': 'duplicate', 'shopify_ingest.tenant': 'alpha', 'shopify_ingest.webhook.topic': 'customers/update' })).toBe(1);
    const rejected = points(m, 'shopify_ingest.webhook.deliveries', { 'shopify_ingest.outcome': 'rejected' });
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ value: 1, attributes: { 'shopify_ingest.webhook.reason': 'invalid_hmac' } });
    // Nothing the sender wrote is trusted before verification: no tenant, no topic.
    expect(Object.keys(rejected[0]!.attributes).sort()).toEqual(['shopify_ingest.outcome', 'shopify_ingest.webhook.reason']);
    expect(histogramCount(m, 'shopify_ingest.webhook.ack.duration')).toBe(4);
    expect(histogramCount(m, 'shopify_ingest.webhook.ack.duration', { 'shopify_ingest.outcome': 'rejected' })).toBe(1);
  });

  it('inbox gauges: depth and age of the oldest waiting delivery, dead letters, read at collection', async () => {
    await expect.poll(async () => (await service.webhooks!.getStats()).pending, { timeout: 20_000 }).toBe(0);
    let m = await otel.metrics();
    expect(points(m, 'shopify_ingest.webhook.inbox.depth')[0]?.value).toBe(0);
    expect(points(m, 'shopify_ingest.webhook.inbox.oldest_age')[0]?.value).toBe(0);
    expect(points(m, 'shopify_ingest.webhook.dead_letters')[0]?.value).toBe(0);

    // A delivery waiting for 30 s and a dead letter, as another process may have left them.
    await service.webhooks!.stop();
    await db.query(`INSERT INTO shopify_webhook_inbox (id, tenant_id, webhook_id, topic, shop_domain, body_enc, status, attempts, last_error, next_attempt_at, received_at)
                    VALUES ('waits-1', 'alpha', 'waits-1', 'orders/create', $1, 'sealed', 'pending', 1, NULL, now() + interval '1 hour', now() - interval '30 seconds'),
                           ('dead-1', 'alpha', 'dead-1', 'orders/create', $1, 'sealed', 'failed', 8, 'boom', now(), now())`, [ALPHA]);
    m = await otel.metrics();
    expect(points(m, 'shopify_ingest.webhook.inbox.depth')[0]?.value).toBe(1);
    const age = points(m, 'shopify_ingest.webhook.inbox.oldest_age')[0]?.value as number;
    expect(age).toBeGreaterThanOrEqual(29);
    expect(age).toBeLessThan(60);
    expect(points(m, 'shopify_ingest.webhook.dead_letters')[0]?.value).toBe(1);
    await db.query(`DELETE FROM shopify_webhook_inbox WHERE id IN ('waits-1', 'dead-1')`);
    service.webhooks!.start();
  });

  it('token renewals are counted per tenant, ok or failed', async () => {
    sim.oauth.configure({ clientCredentialsTtlSeconds: 1 });
    const shop = sim.shop(BETA);
    await service.addTenant('beta', { shopDomain: BETA, clientCredentials: true }, { client: { baseUrl: shop.baseUrl } });
    await new Promise((r) => setTimeout(r, 1100));
    await (await service.getClient('beta')).graphql('{ shop { name } }');
    sim.oauth.configure({ clientCredentialsTtlSeconds: 86_400 });
    const m = await otel.metrics();
    expect(total(m, 'shopify_ingest.token.renewals', { 'shopify_ingest.tenant': 'beta', 'shopify_ingest.outcome': 'ok' })).toBe(1);
    expect(total(m, 'shopify_ingest.token.renewals', { 'shopify_ingest.outcome': 'failed' })).toBe(0);
  });
});

describe('without @opentelemetry/api, or turned off', () => {
  it('a loader that cannot resolve the module leaves telemetry off, and a sync works as before', async () => {
    // Global providers are registered, so anything recorded through the API would show up here.
    const global = collectors();
    metrics.setGlobalMeterProvider(global.meterProvider);
    trace.setGlobalTracerProvider(global.tracerProvider);
    try {
      const notInstalled = () => { throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' }); };
      expect(createTelemetry({ require: notInstalled }).enabled).toBe(false);
      expect(createTelemetry(false).enabled).toBe(false);
      const without = makeService({ telemetry: { require: notInstalled }, webhooks: { enabled: false } });
      await without.initialize();
      const result = await without.importData('alpha', 'products', { mode: 'full' }) as ImportResult;
      expect(result.status).toBe('succeeded');
      expect(result.imported).toBeGreaterThan(0);
      expect(global.spans()).toEqual([]);
      expect((await global.metrics()).size).toBe(0);

      // The same with the module there: the global providers are the default.
      const withGlobal = makeService({ webhooks: { enabled: false } });
      await withGlobal.initialize();
      const again = await withGlobal.importData('alpha', 'products', { mode: 'full' }) as ImportResult;
      expect(global.spans().filter((s) => s.name === 'shopify_ingest.sync')).toHaveLength(1);
      expect(total(await global.metrics(), 'shopify_ingest.sync.records', { 'shopify_ingest.resource': 'products', 'shopify_ingest.outcome': 'written' })).toBe(again.imported);
    } finally {
      metrics.disable();
      trace.disable();
      await global.shutdown();
    }
  });

  it('tenantAttribute: false drops the tenant from metrics; spans keep it', async () => {
    const c = collectors();
    const telemetry = createTelemetry({ meterProvider: c.meterProvider, tracerProvider: c.tracerProvider, tenantAttribute: false }).forTenant('t-1');
    telemetry.add('syncRecords', 5, { 'shopify_ingest.resource': 'orders', 'shopify_ingest.outcome': 'written' });
    telemetry.startSpan('shopify_ingest.sync', { 'shopify_ingest.resource': 'orders' }).end();
    const [point] = points(await c.metrics(), 'shopify_ingest.sync.records');
    expect(point).toMatchObject({ value: 5, attributes: { 'shopify_ingest.resource': 'orders', 'shopify_ingest.outcome': 'written' } });
    expect(point!.attributes['shopify_ingest.tenant']).toBeUndefined();
    expect(c.spans()[0]!.attributes['shopify_ingest.tenant']).toBe('t-1');
    await c.shutdown();
  });
});
