/**
 * docs/observability.md, held for every resource of the registry and every webhook topic it
 * handles (a resource or topic added to the registry is covered without editing this file). The
 * facade syncs the simulator into real PostgreSQL with the OTel SDK's in-memory exporters attached:
 *
 * - each resource's full sync (bulk operation, or one query for a singleton), incremental sync
 *   (pages, or a bulk operation where the registry says so), scheduled job and, where it has one,
 *   REST source emits the documented spans (run -> page or bulk file -> batch write) with their
 *   documented attributes, and the documented metrics whose counts equal what PostgreSQL holds
 *   afterwards; a dry run is traced and timed but counts nothing;
 * - records that cannot be transformed (chosen with a seeded random) are counted `failed`, as many
 *   as `shopify_sync_failures` holds, and every batch span says what it wrote;
 * - a run that fails ends its spans with status ERROR and `error.type`, and is timed as `failed`;
 * - the API exchanges counted equal the requests the simulated shop answered, by kind and status,
 *   and so do the throttled answers of a shop whose buckets another app emptied;
 * - every webhook topic is counted accepted, duplicate or dropped with its tenant and topic, timed
 *   with that outcome (an unexpected error too), and a delivery that cannot be applied is a dead
 *   letter of its topic;
 * - no metric carries an attribute (or a value) docs/observability.md does not list, nor an id.
 *
 * REGISTRY_TELEMETRY_SEED=<n> replays a run (the seed is printed).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyClient } from '../../src/client/index.js';
import { createKeyRing } from '../../src/crypto/index.js';
import { createImportService, type ImportTransformer } from '../../src/importer/index.js';
import { createIngestionService, type ImportResult, type IngestionService, type IngestionServiceOptions } from '../../src/index.js';
import { silentLogger } from '../../src/logger.js';
import type { ResourceDefinition, TableDefinition } from '../../src/resources/definition.js';
import type { ResourceType } from '../../src/store/rows.js';
import { RESOURCE_NAMES, RESOURCE_TOPICS, RESOURCES, topicAction } from '../../src/resources/index.js';
import { createTelemetry } from '../../src/telemetry/index.js';
import { createStore } from '../../src/store/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { ShopifyTransformer } from '../../src/transform/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seededRandom } from '../importer/harness.js';
import { signedDelivery } from '../webhooks/helpers/deliveries.js';
import { collectors, histogramCount, idOf, parentOf, points, total, type Attrs, type Collectors, type Metrics } from './collectors.js';

const SEED = Number(process.env.REGISTRY_TELEMETRY_SEED ?? Math.floor(Math.random() * 1_000_000));
console.log(`registry-telemetry: seed ${SEED} (REGISTRY_TELEMETRY_SEED=${SEED} replays this run)`);
const random = seededRandom(SEED);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOC = readFileSync(path.join(root, 'docs/observability.md'), 'utf8');

const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const CLIENT_ID = 'otel-registry-app';
const SECRET = `otel_registry_${randomBytes(6).toString('hex')}`;
const env = { ENCRYPTION_KEY, SHOPIFY_API_KEY: CLIENT_ID, SHOPIFY_API_SECRET: SECRET, LOG_LEVEL: 'silent' };
const QUIET = '0 0 1 1 *';
const quiet = { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { schedule: QUIET }])), fullSync: { schedule: QUIET } };

/** Synced by the facade: full, incremental, REST, failing runs. */
const MAIN = 'otel-reg-main.myshopify.com';
/** Synced by an importer whose transformer refuses some records. */
const FLAWED = 'otel-reg-flawed.myshopify.com';
/** Receives a delivery of every topic. */
const HOOKS = 'otel-reg-hooks.myshopify.com';
/** Its tenant syncs only the shop: every other resource's topic is dropped. */
const HOOKS_OFF = 'otel-reg-hooks-off.myshopify.com';
/** On a simulator that enforces Shopify's rate limits. */
const THROTTLED = 'otel-reg-throttled.myshopify.com';
const SMALL = { customers: 4, products: 3, orders: 6, locations: 2, draftOrders: 2, abandonedCheckouts: 2 };

const A = {
  tenant: 'shopify_ingest.tenant', resource: 'shopify_ingest.resource', table: 'shopify_ingest.table', outcome: 'shopify_ingest.outcome',
  mode: 'shopify_ingest.sync.mode', method: 'shopify_ingest.sync.method', status: 'shopify_ingest.sync.status', source: 'shopify_ingest.sync.source',
  kind: 'shopify_ingest.api.kind', statusClass: 'shopify_ingest.api.status_class', topic: 'shopify_ingest.webhook.topic', reason: 'shopify_ingest.webhook.reason',
  errorType: 'error.type',
} as const;
const M = {
  records: 'shopify_ingest.sync.records', rows: 'shopify_ingest.sync.rows', duration: 'shopify_ingest.sync.duration', batch: 'shopify_ingest.sync.batch.duration',
  requests: 'shopify_ingest.api.requests', deliveries: 'shopify_ingest.webhook.deliveries', ack: 'shopify_ingest.webhook.ack.duration', dead: 'shopify_ingest.webhook.dead_lettered',
} as const;
const S = { run: 'shopify_ingest.sync', page: 'shopify_ingest.sync.page', file: 'shopify_ingest.sync.bulk_file', batch: 'shopify_ingest.sync.batch' } as const;
const STATUS_ERROR = 2;

// ---------------------------------------------------------------------------------------------
// What docs/observability.md says.

const full = (a: string) => (a === 'error.type' ? a : `shopify_ingest.${a}`);
/** Metric name -> the attribute keys its row of the metrics table lists. */
const DOCUMENTED_METRICS = new Map<string, Set<string>>();
for (const line of DOC.split('\n')) {
  const match = /^\| `(shopify_ingest\.[^`]+)` \| (?:counter|histogram|gauge) \| `[^`]+` \|([^|]*)\|/.exec(line);
  if (match) DOCUMENTED_METRICS.set(match[1]!, new Set(match[2]!.split(',').map((a) => a.trim()).filter(Boolean).map(full)));
}
/** The reasons of the `webhook.reason` table. */
const DOCUMENTED_REASONS = new Set([...DOC.matchAll(/^\| `([a-z_]+)` \| \d{3} \|/gm)].map((m) => m[1]!));
/** The span names of the traces table. */
const TRACES = DOC.slice(DOC.indexOf('## Traces'), DOC.indexOf('## Cardinality'));
const DOCUMENTED_SPANS = new Set([...TRACES.matchAll(/^\| `(shopify_ingest\.[a-z_.]+)` \|/gm)].map((m) => m[1]!));
const TABLE_KEYS = new Map(RESOURCES.map((r) => [r.name as string, new Set([r.root, ...r.children].map((t) => t.key))]));
/** The values the attributes table allows. */
const DOCUMENTED_VALUES: Record<string, (value: unknown, point: Attrs, metric: string) => boolean> = {
  [A.tenant]: (v) => typeof v === 'string' && TENANTS.includes(v),
  [A.resource]: (v) => RESOURCE_NAMES.includes(v as never),
  [A.table]: (v, p) => TABLE_KEYS.get(p[A.resource] as string)?.has(v as string) === true,
  [A.outcome]: (v, _p, metric) => ({
    [M.records]: ['written', 'skipped', 'failed'], 'shopify_ingest.token.renewals': ['ok', 'failed'],
    [M.deliveries]: ['accepted', 'duplicate', 'dropped', 'rejected'], [M.ack]: ['accepted', 'duplicate', 'dropped', 'rejected'],
  }[metric] ?? []).includes(v as string),
  [A.mode]: (v) => ['full', 'incremental'].includes(v as string),
  [A.method]: (v) => ['bulk', 'pages', 'rest'].includes(v as string),
  [A.status]: (v) => ['succeeded', 'failed', 'cancelled'].includes(v as string),
  [A.kind]: (v) => ['rest', 'graphql'].includes(v as string),
  [A.statusClass]: (v) => ['2xx', '3xx', '4xx', '5xx', 'error'].includes(v as string),
  'shopify_ingest.api.throttle': (v) => ['http_429', 'graphql_throttled'].includes(v as string),
  [A.topic]: (v) => RESOURCE_TOPICS.includes(v as string),
  [A.reason]: (v) => DOCUMENTED_REASONS.has(v as string),
};

// ---------------------------------------------------------------------------------------------

let db: TestDatabase;
let sim: ShopifySimulator;
let otel: Collectors;
let service: IngestionService;
const services: IngestionService[] = [];
const TENANTS = ['main', 'flawed', 'hooks', 'hooks-off', 'throttled'];
/** Ids a metric must never carry (run ids, bulk operation ids, webhook ids, shop domains). */
const ids = new Set<string>([MAIN, FLAWED, HOOKS, HOOKS_OFF, THROTTLED]);

function makeService(options: IngestionServiceOptions): IngestionService {
  const s = createIngestionService(db.database, {
    env, logger: silentLogger, clientDefaults: { baseUrl: sim.url, retryOptions: { retries: 2, minTimeout: 5, maxTimeout: 20 } },
    scheduler: { enabled: false, syncConfig: quiet }, healthCheckIntervalMs: 0, bulk: { minPollMs: 10, maxPollMs: 50 },
    ...options,
  });
  services.push(s);
  return s;
}

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_otel_reg' });
  sim = await createShopifySimulator({
    seed: SEED, unthrottled: true, apiSecret: SECRET, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 },
    shops: [MAIN, FLAWED, HOOKS, HOOKS_OFF].map((domain) => ({ domain, ...SMALL })),
  });
  otel = collectors();
  service = makeService({
    telemetry: { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider },
    // Deliveries are applied when the test says so; one that cannot be applied is a dead letter at once.
    webhooks: { maxAttempts: 1, worker: { autoStart: false } },
  });
  await service.initialize();
  await service.addTenant('main', { shopDomain: MAIN, accessToken: sim.shop(MAIN).accessToken });
}, 60_000);

afterAll(async () => {
  for (const s of services) await s.shutdown({ timeoutMs: 2_000 }).catch(() => {});
  await otel?.shutdown();
  await sim?.stop();
  await db?.drop();
});

// ---------------------------------------------------------------------------------------------
// What PostgreSQL holds.

const columnsOf = new Map<string, Set<string>>();
async function hasColumn(table: string, column: string): Promise<boolean> {
  if (!columnsOf.has(table)) {
    const rows = await db.query<{ c: string }>('SELECT column_name AS c FROM information_schema.columns WHERE table_name = $1', [table]);
    columnsOf.set(table, new Set(rows.map((r) => r.c)));
  }
  return columnsOf.get(table)!.has(column);
}

/**
 * Rows of each table of `resource` a run wrote, as PostgreSQL holds them: rows stamped `synced_at`
 * during the run, and for tables without that column the live rows of the parents it wrote (a
 * record is always written whole).
 */
async function storedRows(tenant: string, resource: ResourceDefinition, run: ImportResult): Promise<Record<string, number>> {
  // PostgreSQL stamps microseconds, the run's times are milliseconds.
  const window = [tenant, run.startedAt, new Date(new Date(run.finishedAt).getTime() + 1)];
  const written = new Map<string, string>();
  const out: Record<string, number> = {};
  for (const table of [resource.root, ...resource.children] as TableDefinition[]) {
    const live = (await hasColumn(table.table, 'deleted_at')) ? ' AND t.deleted_at IS NULL' : '';
    let where: string;
    if (table.syncedAt) where = `t.tenant_id = $1 AND t.synced_at BETWEEN $2 AND $3${live}`;
    else {
      const child = resource.children.find((c) => c.key === table.key)!;
      where = `t.tenant_id = $1 AND t."${child.parentColumn}" IN (${written.get(child.parent)})${live}`;
    }
    written.set(table.key, `SELECT t.id FROM "${table.table}" t WHERE ${where}`);
    const [{ n }] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table.table}" t WHERE ${where}`, window);
    out[table.key] = n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Spans and metrics of one run.

const tenantOf = (run: ImportResult) => run.tenantId;
const attr = (span: ReadableSpan, key: string) => span.attributes[`shopify_ingest.${key}`];

/** The run's spans, checked against the traces table; returns its listings (pages, bulk files) and batches. */
function checkTrace(c: Collectors, run: ImportResult, source: 'graphql' | 'rest') {
  const label = `${run.resource} ${run.mode} ${run.method} (${run.runId})`;
  const spans = c.spans();
  const runSpan = spans.find((s) => s.name === S.run && s.attributes['shopify_ingest.sync.run_id'] === run.runId);
  expect(runSpan, label).toBeDefined();
  ids.add(run.runId);
  expect(parentOf(runSpan!), label).toBeUndefined();
  expect(runSpan!.attributes, label).toMatchObject({
    [A.tenant]: tenantOf(run), [A.resource]: run.resource, [A.source]: source, 'shopify_ingest.sync.dry_run': false,
    [A.mode]: run.mode, [A.method]: run.method, [A.status]: run.status,
    'shopify_ingest.sync.fetched': run.fetched, 'shopify_ingest.sync.imported': run.imported, 'shopify_ingest.sync.pages': run.pages,
  });
  const inRun = spans.filter((s) => s !== runSpan && s.spanContext().traceId === runSpan!.spanContext().traceId);
  for (const span of inRun) {
    expect(DOCUMENTED_SPANS.has(span.name), `${label}: ${span.name} is documented`).toBe(true);
    expect(span.attributes, `${label}: ${span.name}`).toMatchObject({ [A.tenant]: tenantOf(run), [A.resource]: run.resource });
  }
  const listings = inRun.filter((s) => s.name === S.page || s.name === S.file);
  const batches = inRun.filter((s) => s.name === S.batch);
  expect(listings.length + batches.length, `${label}: only pages, bulk files and batches under a run`).toBe(inRun.length);
  for (const listing of listings) expect(parentOf(listing), `${label}: ${listing.name} is a child of the run`).toBe(idOf(runSpan!));
  const files = listings.filter((s) => s.name === S.file);
  for (const file of files) {
    ids.add(String(attr(file, 'bulk.operation')));
    for (const key of ['bulk.operation', 'bulk.partial', 'bulk.from_line', 'bulk.lines', 'bulk.expired']) expect(attr(file, key), `${label}: bulk file ${key}`).toBeDefined();
  }
  const pages = listings.filter((s) => s.name === S.page);
  for (const page of pages) {
    const kinds = ['page.first', 'page.records', 'page.singleton', 'page.reread_truncated'].filter((k) => attr(page, k) !== undefined);
    expect(kinds, `${label}: a page says what it is`).toHaveLength(1);
    if (run.method === 'rest') expect(kinds, label).toEqual(['page.records']);
    else expect(kinds, label).not.toContain('page.records');
  }
  if (run.method === 'bulk') expect(files.length, `${label}: a bulk operation's file`).toBeGreaterThanOrEqual(run.status === 'succeeded' ? 1 : 0);
  else expect(files, `${label}: no bulk file without a bulk operation`).toEqual([]);
  if (run.method !== 'bulk' && run.status === 'succeeded') expect(pages.length, `${label}: pages`).toBeGreaterThanOrEqual(1);
  // Every batch hangs under the page or file it was cut from, and says what it wrote.
  const listingIds = new Set(listings.map(idOf));
  for (const batch of batches) {
    expect(listingIds.has(parentOf(batch)!), `${label}: batch under ${spans.find((s) => idOf(s) === parentOf(batch))?.name ?? 'nothing'}`).toBe(true);
    for (const key of ['batch.units', 'batch.records', 'batch.written']) expect(typeof attr(batch, key), `${label}: batch ${key}`).toBe('number');
  }
  expect(batches.reduce((n, b) => n + Number(attr(b, 'batch.written') ?? 0), 0), `${label}: written by its batches`).toBe(run.imported);
  return { runSpan: runSpan!, listings, pages, files, batches };
}

/** The run's metrics (`after` minus `before`), checked against its result and against PostgreSQL. */
async function checkMetrics(before: Metrics, after: Metrics, run: ImportResult, trace: ReturnType<typeof checkTrace>): Promise<void> {
  const label = `${run.resource} ${run.mode} ${run.method} (${run.runId})`;
  const resource = RESOURCES.find((r) => r.name === run.resource)! as unknown as ResourceDefinition;
  const where = { [A.tenant]: tenantOf(run), [A.resource]: run.resource };
  const delta = (name: string, w: Attrs) => total(after, name, w) - total(before, name, w);
  const histogramDelta = (name: string, w: Attrs) => histogramCount(after, name, w) - histogramCount(before, name, w);
  expect({
    written: delta(M.records, { ...where, [A.outcome]: 'written' }),
    skipped: delta(M.records, { ...where, [A.outcome]: 'skipped' }),
    failed: delta(M.records, { ...where, [A.outcome]: 'failed' }),
  }, `${label}: records`).toEqual({ written: run.imported, skipped: run.skipped, failed: run.failed });
  // One duration per run, with its mode, method and status.
  expect(histogramDelta(M.duration, where), `${label}: runs timed`).toBe(1);
  expect(histogramDelta(M.duration, { ...where, [A.mode]: run.mode, [A.method]: run.method, [A.status]: run.status }), `${label}: timed with mode, method, status`).toBe(1);
  expect(histogramDelta(M.batch, where), `${label}: batch writes timed`).toBe(trace.batches.length);
  if (run.status !== 'succeeded') return;
  // Rows counted per table are the rows PostgreSQL holds from the run. A record a bulk file
  // truncated is written from the file, then again whole (its root row twice, unless one of the two
  // could not be transformed; its children again).
  const stored = await storedRows(tenantOf(run), resource, run);
  const reread = trace.pages.reduce((n, p) => n + Number(attr(p, 'page.reread_truncated') ?? 0), 0);
  for (const table of [resource.root, ...resource.children]) {
    const counted = delta(M.rows, { ...where, [A.table]: table.key });
    if (reread === 0) expect(counted, `${label}: ${table.key} rows`).toBe(stored[table.key]);
    else {
      expect(counted, `${label}: ${table.key} rows`).toBeGreaterThanOrEqual(stored[table.key]!);
      if (table === resource.root && run.failed === 0) expect(counted, `${label}: ${table.key} rows`).toBe(stored[table.key]! + reread);
      else if (table === resource.root) expect(counted, `${label}: ${table.key} rows`).toBeLessThanOrEqual(stored[table.key]! + reread);
    }
  }
  // A resource riding on another counts the carriers as records; any other, its root rows.
  if (!resource.ridesOn) expect(run.imported, `${label}: records written are root rows stored`).toBe(stored[resource.root.key]);
}

/** Admin API exchanges counted for a tenant equal those the simulated shop answered, by kind and status class. */
async function checkRequests(c: Collectors, tenant: string, domain: string, simulator: ShopifySimulator = sim): Promise<void> {
  const m = await c.metrics();
  const stats = simulator.stats(domain);
  const classes: Record<string, number> = {};
  for (const [status, n] of Object.entries(stats.byStatus)) classes[`${String(status)[0]}xx`] = (classes[`${String(status)[0]}xx`] ?? 0) + n;
  const where = { [A.tenant]: tenant };
  expect({ graphql: total(m, M.requests, { ...where, [A.kind]: 'graphql' }), rest: total(m, M.requests, { ...where, [A.kind]: 'rest' }) }, `${tenant}: requests by kind`)
    .toEqual({ graphql: stats.graphqlRequests, rest: stats.restRequests });
  const counted: Record<string, number> = {};
  for (const p of points(m, M.requests, where)) counted[p.attributes[A.statusClass] as string] = (counted[p.attributes[A.statusClass] as string] ?? 0) + (p.value as number);
  expect(counted, `${tenant}: requests by status class`).toEqual(classes);
}

// ---------------------------------------------------------------------------------------------

describe('every resource of the registry, through the facade', { timeout: 240_000 }, () => {
  it('full syncs: documented spans and attributes; records and rows counted are what PostgreSQL holds', async () => {
    for (const resource of RESOURCES) {
      const before = await otel.metrics();
      const run = await service.importData('main', resource.name, { mode: 'full', batchSize: 3 }) as ImportResult;
      expect(run).toMatchObject({ mode: 'full', status: 'succeeded', method: resource.graphql.singleton ? 'pages' : 'bulk' });
      // Records listed (a resource riding on orders lists orders, with or without refunds...).
      expect(run.fetched, `${resource.name}: something to count`).toBeGreaterThan(0);
      await checkMetrics(before, await otel.metrics(), run, checkTrace(otel, run, 'graphql'));
    }
    await checkRequests(otel, 'main', MAIN);
  });

  it('incremental syncs: documented spans and attributes; counts equal what PostgreSQL holds', async () => {
    const shop = sim.shop(MAIN);
    for (const kind of ['customers', 'products', 'orders'] as const) {
      for (let i = 0; i < 2; i++) shop.update(kind, shop.idOf(kind, i), { tags: `otel-registry-${i}` });
    }
    shop.fulfillOrder(shop.idOf('orders', 2));
    const runs: ImportResult[] = [];
    for (const resource of RESOURCES) {
      const before = await otel.metrics();
      const run = await service.importData('main', resource.name, { batchSize: 2 }) as ImportResult;
      expect(run, resource.name).toMatchObject({ mode: 'incremental', status: 'succeeded' });
      await checkMetrics(before, await otel.metrics(), run, checkTrace(otel, run, 'graphql'));
      runs.push(run);
    }
    // Records changed since the full sync were paged and written.
    expect(runs.filter((r) => r.method === 'pages').reduce((n, r) => n + r.imported, 0)).toBeGreaterThanOrEqual(6);
    await checkRequests(otel, 'main', MAIN);
  });

  it('the REST source of every resource that has one: pages with their records, batches under them', async () => {
    const rest = RESOURCES.filter((r) => r.rest);
    expect(rest.length).toBeGreaterThan(0);
    for (const resource of rest) {
      const before = await otel.metrics();
      const run = await service.importData('main', resource.name, { mode: 'full', source: 'rest', batchSize: 2 }) as ImportResult;
      expect(run, resource.name).toMatchObject({ mode: 'full', method: 'rest', status: 'succeeded' });
      await checkMetrics(before, await otel.metrics(), run, checkTrace(otel, run, 'rest'));
    }
    await checkRequests(otel, 'main', MAIN);
  });

  it('dry runs: traced and timed as runs, counting no record, row or batch write', async () => {
    for (const resource of RESOURCES) {
      const before = await otel.metrics();
      const run = await service.importData('main', resource.name, { dryRun: true, batchSize: 2 }) as ImportResult;
      expect(run, resource.name).toMatchObject({ dryRun: true, status: 'succeeded' });
      const span = otel.spans().find((s) => s.name === S.run && s.attributes['shopify_ingest.sync.run_id'] === run.runId);
      expect(span?.attributes, resource.name).toMatchObject({ 'shopify_ingest.sync.dry_run': true, [A.mode]: run.mode, [A.method]: run.method, [A.status]: 'succeeded' });
      const after = await otel.metrics();
      const where = { [A.tenant]: 'main', [A.resource]: resource.name };
      expect({
        records: total(after, M.records, where) - total(before, M.records, where),
        rows: total(after, M.rows, where) - total(before, M.rows, where),
        batches: histogramCount(after, M.batch, where) - histogramCount(before, M.batch, where),
        runs: histogramCount(after, M.duration, where) - histogramCount(before, M.duration, where),
      }, resource.name).toEqual({ records: 0, rows: 0, batches: 0, runs: 1 });
    }
  });

  it('scheduled runs: each resource\'s job is traced and measured as a run of its own', async () => {
    for (const resource of RESOURCES) {
      const before = await otel.metrics();
      const run = await service.scheduler!.runJobNow(`${resource.name}-sync-main`) as ImportResult;
      expect(run, resource.name).toMatchObject({ resource: resource.name, status: 'succeeded' });
      await checkMetrics(before, await otel.metrics(), run, checkTrace(otel, run, 'graphql'));
    }
  });

  /** A failed run's error and spans: ERROR with the SDK's error code on the run and on the page whose request failed. */
  async function checkFailedRun(before: Metrics, outcome: unknown, source: 'graphql' | 'rest'): Promise<ReturnType<typeof checkTrace>> {
    const error = outcome as { code?: string; result?: ImportResult } | null;
    expect(error).not.toBeNull();
    expect(typeof error!.code).toBe('string');
    const run = error!.result!;
    const label = `${run.resource} ${source}`;
    expect(run, label).toMatchObject({ status: 'failed' });
    const trace = checkTrace(otel, run, source);
    expect(trace.runSpan.status.code, `${label}: run span status`).toBe(STATUS_ERROR);
    expect(trace.runSpan.attributes[A.errorType], `${label}: run error.type`).toBe(error!.code);
    expect(trace.runSpan.events.map((e) => e.name), `${label}: exception recorded`).toContain('exception');
    const failed = trace.listings.filter((s) => s.status.code === STATUS_ERROR);
    // A bulk operation that could not be created has no file; a listing by pages failed at a page.
    if (run.method !== 'bulk') expect(failed.map((s) => s.name), `${label}: the failed page`).toEqual([S.page]);
    for (const span of failed) {
      expect(span.attributes[A.errorType], `${label}: ${span.name} error.type`).toBe(error!.code);
      // The page whose request failed read nothing: no batch was cut from it.
      expect(trace.batches.filter((b) => parentOf(b) === idOf(span)).map((b) => attr(b, 'batch.records')), `${label}: batches of the failed page`).toEqual([]);
    }
    await checkMetrics(before, await otel.metrics(), run, trace);
    return trace;
  }

  it('a run that fails: spans end in ERROR with error.type, the duration is recorded failed, 5xx answers are counted', async () => {
    sim.faults.configure({ rates: { server_error: 1 }, shops: [MAIN] });
    try {
      for (const resource of RESOURCES) {
        const before = await otel.metrics();
        await checkFailedRun(before, await service.importData('main', resource.name, { batchSize: 2 }).then(() => null, (e: unknown) => e), 'graphql');
      }
    } finally {
      sim.faults.clear();
    }
    await checkRequests(otel, 'main', MAIN);
  });

  it('a REST listing that fails after its first page: the failed page is the span in ERROR, not the page before it', async () => {
    for (const resource of RESOURCES.filter((r) => r.rest)) {
      // The first page of the listing is answered, every later request of it fails.
      const listing = new RegExp(`^${resource.rest!.path.slice(1).replace(/\./g, '\\.')}$`);
      sim.faults.configure({ script: ['none'], rates: { server_error: 1 }, shops: [MAIN], paths: listing });
      try {
        const before = await otel.metrics();
        const outcome = await service.importData('main', resource.name, { mode: 'full', source: 'rest', pageSize: 2, batchSize: 2 }).then(() => null, (e: unknown) => e);
        const trace = await checkFailedRun(before, outcome, 'rest');
        expect(trace.pages.length, `${resource.name}: the first page and the failed one`).toBe(2);
        expect(trace.pages.filter((p) => p.status.code !== STATUS_ERROR).map((p) => attr(p, 'page.records')), resource.name).toEqual([2]);
      } finally {
        sim.faults.clear();
      }
    }
    await checkRequests(otel, 'main', MAIN);
  });
});

describe('records that cannot be transformed', { timeout: 240_000 }, () => {
  it('are counted failed, as many as shopify_sync_failures holds; every batch says what it wrote', async () => {
    const c = collectors();
    const keyRing = createKeyRing({ key: ENCRYPTION_KEY });
    const inner = new ShopifyTransformer({ keyRing });
    const firsts = new Set<string>();
    // The first record of each resource, and about a third of the others, cannot be transformed.
    const transformer: ImportTransformer = {
      toRows(resource, data, tenantId) {
        const first = !firsts.has(resource);
        firsts.add(resource);
        if (first || random() < 0.3) throw new Error(`refused by the test (${resource})`);
        return inner.toRows(resource, data, tenantId);
      },
      childRow: (...args) => inner.childRow(...args),
    };
    await createStore(db.database).upsertTenant({ id: 'flawed', shopDomain: FLAWED, accessTokenEnc: 'not-used-here' });
    const telemetry = createTelemetry({ meterProvider: c.meterProvider, tracerProvider: c.tracerProvider });
    const client = createShopifyClient({
      shopDomain: FLAWED, accessToken: sim.shop(FLAWED).accessToken, baseUrl: sim.url, retryOptions: { retries: 2, minTimeout: 5, maxTimeout: 20 },
      telemetry: telemetry.forTenant('flawed'),
    });
    const importer = createImportService(db.database, client, 'flawed', { keyRing, transformer, logger: silentLogger, bulk: { minPollMs: 10, maxPollMs: 50 }, telemetry });
    try {
      for (const resource of RESOURCES) {
        const before = await c.metrics();
        const run = await importer.importResource(resource.name as ResourceType, { mode: 'full', batchSize: 3 });
        expect(run, resource.name).toMatchObject({ status: 'succeeded' });
        expect(run.failed, `${resource.name}: failures`).toBeGreaterThanOrEqual(1);
        const [{ n }] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM shopify_sync_failures WHERE run_id = $1`, [run.runId]);
        expect(run.failed, `${resource.name}: failures stored`).toBe(n);
        await checkMetrics(before, await c.metrics(), run, checkTrace(c, run, 'graphql'));
      }
      await checkRequests(c, 'flawed', FLAWED);
      await checkCardinality(c);
    } finally {
      await c.shutdown();
    }
  });
});

describe('throttling', { timeout: 120_000 }, () => {
  it('every answer asking to slow down is counted as the shop gave it; GraphQL points spent and available', async () => {
    // Rate limits enforced, 500 times faster than Shopify's.
    const limited = await createShopifySimulator({ seed: SEED, timeScale: 500, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ domain: THROTTLED, ...SMALL }] });
    const c = collectors();
    const telemetry = createTelemetry({ meterProvider: c.meterProvider, tracerProvider: c.tracerProvider });
    const client = createShopifyClient({
      shopDomain: THROTTLED, accessToken: limited.shop(THROTTLED).accessToken, baseUrl: limited.url, leakRate: 100,
      retryOptions: { retries: 2, minTimeout: 5, maxTimeout: 20 }, telemetry: telemetry.forTenant('throttled'),
    });
    try {
      await createStore(db.database).upsertTenant({ id: 'throttled', shopDomain: THROTTLED, accessTokenEnc: 'not-used-here' });
      const importer = createImportService(db.database, client, 'throttled', { keyRing: createKeyRing({ key: ENCRYPTION_KEY }), logger: silentLogger, bulk: { minPollMs: 10, maxPollMs: 50 }, telemetry });
      // Another app empties the shop's buckets just before each sync.
      for (const resource of RESOURCES) {
        limited.faults.script('storm');
        expect(await importer.importResource(resource.name as ResourceType, { mode: 'full' }), resource.name).toMatchObject({ status: 'succeeded' });
      }
      for (const resource of RESOURCES.filter((r) => r.rest)) {
        limited.faults.script('storm');
        expect(await importer.importResource(resource.name as ResourceType, { mode: 'full', source: 'rest' }), resource.name).toMatchObject({ status: 'succeeded' });
      }
      const stats = limited.stats(THROTTLED);
      expect(stats.throttled + stats.graphqlThrottled).toBeGreaterThan(0);
      const m = await c.metrics();
      const where = { [A.tenant]: 'throttled' };
      expect({
        rest429: total(m, 'shopify_ingest.api.throttles', { ...where, [A.kind]: 'rest', 'shopify_ingest.api.throttle': 'http_429' }),
        graphql429: total(m, 'shopify_ingest.api.throttles', { ...where, [A.kind]: 'graphql', 'shopify_ingest.api.throttle': 'http_429' }),
        graphqlThrottled: total(m, 'shopify_ingest.api.throttles', { ...where, [A.kind]: 'graphql', 'shopify_ingest.api.throttle': 'graphql_throttled' }),
      }).toEqual({ rest429: stats.throttled, graphql429: 0, graphqlThrottled: stats.graphqlThrottled });
      await checkRequests(c, 'throttled', THROTTLED, limited);
      expect(total(m, 'shopify_ingest.graphql.points.spent', where)).toBeGreaterThan(0);
      const available = points(m, 'shopify_ingest.graphql.points.available', where);
      expect(available).toHaveLength(1);
      expect(available[0]!.value).toBeGreaterThanOrEqual(0);
      await checkCardinality(c);
    } finally {
      await client.close();
      await c.shutdown();
      await limited.stop();
    }
  });
});

describe('every webhook topic of the registry', { timeout: 120_000 }, () => {
  const post = async (topic: string, body: unknown, shop: string, webhookId: string, secret = SECRET): Promise<number> => {
    ids.add(webhookId);
    const d = signedDelivery(topic, body, { shop, webhookId, secret });
    const res = await service.webhooks!.handler(new Request('http://localhost/webhooks', { method: 'POST', headers: d.headers, body: d.body }));
    await res.arrayBuffer();
    return res.status;
  };
  /** A body naming a record of the topic's resource (REST shape: id, its gid, times). */
  const bodyOf = (topic: string, n: number) => {
    const type = topicAction(topic)!.resource.graphql.type;
    const id = 7_000_000 + n;
    const at = new Date().toISOString();
    return { id, admin_graphql_api_id: `gid://shopify/${type}/${id}`, created_at: at, updated_at: at };
  };
  const drain = async () => { for (let i = 0; i < 50 && (await service.webhooks!.processPending()) > 0; i++) { /* until empty */ } };

  it('deliveries: accepted, duplicate or dropped with tenant and topic, rejected with neither; each timed with its outcome', async () => {
    await service.addTenant('hooks', { shopDomain: HOOKS, accessToken: sim.shop(HOOKS).accessToken });
    // Syncs only the shop: a topic of any other resource is acknowledged and dropped.
    await service.addTenant('hooks-off', { shopDomain: HOOKS_OFF, accessToken: sim.shop(HOOKS_OFF).accessToken }, { resources: ['shop'] });
    const off = RESOURCE_TOPICS.filter((t) => topicAction(t)!.resource.name !== 'shop');
    const before = await otel.metrics();
    for (const [i, topic] of RESOURCE_TOPICS.entries()) {
      expect(await post(topic, bodyOf(topic, i), HOOKS, `reg-${i}`), topic).toBe(200);
      expect(await post(topic, bodyOf(topic, i), HOOKS, `reg-${i}`), `${topic} again`).toBe(200);
      expect(await post(topic, bodyOf(topic, i), HOOKS_OFF, `reg-off-${i}`), `${topic} off`).toBe(200);
    }
    expect(await post(RESOURCE_TOPICS[0]!, bodyOf(RESOURCE_TOPICS[0]!, 0), HOOKS, 'reg-forged', 'not-the-secret')).toBe(401);
    const m = await otel.metrics();
    const delta = (w: Attrs) => total(m, M.deliveries, w) - total(before, M.deliveries, w);
    for (const topic of RESOURCE_TOPICS) {
      const on = { [A.tenant]: 'hooks', [A.topic]: topic };
      expect({ accepted: delta({ ...on, [A.outcome]: 'accepted' }), duplicate: delta({ ...on, [A.outcome]: 'duplicate' }) }, topic).toEqual({ accepted: 1, duplicate: 1 });
      const dropped = off.includes(topic);
      const offWhere = { [A.tenant]: 'hooks-off', [A.topic]: topic };
      expect({ accepted: delta({ ...offWhere, [A.outcome]: 'accepted' }), dropped: delta({ ...offWhere, [A.outcome]: 'dropped' }) }, `${topic} (hooks-off)`)
        .toEqual({ accepted: dropped ? 0 : 1, dropped: dropped ? 1 : 0 });
    }
    for (const p of points(m, M.deliveries)) {
      const keys = Object.keys(p.attributes).sort();
      if (p.attributes[A.outcome] === 'rejected') expect(keys).toEqual([A.outcome, A.reason].sort());
      else expect(keys).toEqual([A.outcome, A.tenant, A.topic].sort());
    }
    // Every answer is timed, with the outcome it was counted with.
    for (const outcome of ['accepted', 'duplicate', 'dropped', 'rejected']) {
      const counted = delta({ [A.outcome]: outcome });
      expect(histogramCount(m, M.ack, { [A.outcome]: outcome }) - histogramCount(before, M.ack, { [A.outcome]: outcome }), `ack of ${outcome} deliveries`).toBe(counted);
    }
    expect(delta({ [A.outcome]: 'dropped' })).toBe(off.length);
  });

  it('an unexpected error while receiving: counted rejected (error) without tenant or topic, and its answer timed', async () => {
    const before = await otel.metrics();
    const d = signedDelivery(RESOURCE_TOPICS[0]!, bodyOf(RESOURCE_TOPICS[0]!, 0), { shop: HOOKS, webhookId: 'reg-broken', secret: SECRET });
    const headers = new Map(Object.entries(d.headers));
    // The body stream breaks half way (a client that hangs up).
    await expect(service.webhooks!.handleDelivery({
      method: 'POST', header: (name) => headers.get(name), readBody: async () => { throw new Error('socket hang up'); }, discardBody: () => {},
    })).rejects.toThrow('socket hang up');
    const m = await otel.metrics();
    const rejected = { [A.outcome]: 'rejected' };
    expect(total(m, M.deliveries, { ...rejected, [A.reason]: 'error' }) - total(before, M.deliveries, { ...rejected, [A.reason]: 'error' })).toBe(1);
    for (const p of points(m, M.deliveries, rejected)) expect(Object.keys(p.attributes).sort()).toEqual([A.outcome, A.reason].sort());
    expect(histogramCount(m, M.ack, rejected) - histogramCount(before, M.ack, rejected), 'its answer (500) timed').toBe(1);
  });

  it('apply: a delivery that cannot be applied is a dead letter of its topic, as many as the inbox holds', async () => {
    const before = await otel.metrics();
    await drain();
    const m = await otel.metrics();
    const deadOf = (all: Metrics, topic: string) => total(all, M.dead, { [A.tenant]: 'hooks', [A.topic]: topic });
    const failedRows = async () => new Map((await db.query<{ topic: string; n: number }>(
      `SELECT topic, count(*)::int AS n FROM shopify_webhook_inbox WHERE tenant_id = 'hooks' AND status = 'failed' GROUP BY topic`)).map((r) => [r.topic, r.n]));
    let failed = await failedRows();
    for (const topic of RESOURCE_TOPICS) expect(deadOf(m, topic) - deadOf(before, topic), `${topic}: dead letters counted`).toBe(failed.get(topic) ?? 0);

    // A handler of the app that throws fails every delivery: each topic has one dead letter more.
    service.webhooks!.onAny(() => { throw new Error('the app cannot handle it'); });
    for (const [i, topic] of RESOURCE_TOPICS.entries()) expect(await post(topic, bodyOf(topic, 1000 + i), HOOKS, `reg-fail-${i}`), topic).toBe(200);
    await drain();
    const previous = failed;
    failed = await failedRows();
    const after = await otel.metrics();
    for (const topic of RESOURCE_TOPICS) {
      expect((failed.get(topic) ?? 0) - (previous.get(topic) ?? 0), `${topic}: dead letter stored`).toBe(1);
      expect(deadOf(after, topic) - deadOf(m, topic), `${topic}: dead letter counted`).toBe(1);
    }
    for (const p of points(after, M.dead)) expect(Object.keys(p.attributes).sort()).toEqual([A.tenant, A.topic].sort());
  });
});

describe('cardinality', { timeout: 120_000 }, () => {
  it('the "Cardinality" section counts the resources, tables and topics of the registry', () => {
    const counted = /\((\d+) resources, (\d+) tables, (\d+) webhook topics\)/.exec(DOC)?.slice(1).map(Number);
    expect(counted).toEqual([RESOURCES.length, RESOURCES.reduce((n, r) => n + 1 + r.children.length, 0), RESOURCE_TOPICS.length]);
  });

  it('no metric carries an attribute or value docs/observability.md does not list, nor an id', async () => {
    await checkCardinality(otel);
  });

  it('tenantAttribute: false: no metric of any resource\'s sync names the tenant; its spans do', async () => {
    const c = collectors();
    const anonymous = makeService({ telemetry: { meterProvider: c.meterProvider, tracerProvider: c.tracerProvider, tenantAttribute: false }, webhooks: { enabled: false } });
    await anonymous.initialize();
    try {
      for (const resource of RESOURCES) {
        const run = await anonymous.importData('main', resource.name, { batchSize: 5 }) as ImportResult;
        expect(run.status, resource.name).toBe('succeeded');
        const span = c.spans().find((s) => s.attributes['shopify_ingest.sync.run_id'] === run.runId);
        expect(span?.attributes[A.tenant], resource.name).toBe('main');
      }
      const m = await c.metrics();
      const all = [...m.values()].flatMap((metric) => metric.dataPoints.map((p) => ({ name: metric.descriptor.name, attributes: p.attributes })));
      expect(all.filter((p) => p.name === M.duration)).not.toEqual([]);
      expect(all.filter((p) => p.attributes[A.tenant] !== undefined)).toEqual([]);
      await checkCardinality(c);
    } finally {
      await c.shutdown();
    }
  });
});

/** Every point of every metric: documented attribute keys and values only, and no id anywhere. */
async function checkCardinality(c: Collectors): Promise<void> {
  const m = await c.metrics();
  expect(m.size).toBeGreaterThan(0);
  for (const metric of m.values()) {
    const name = metric.descriptor.name;
    const documented = DOCUMENTED_METRICS.get(name);
    expect(documented, `${name} is documented`).toBeDefined();
    for (const p of metric.dataPoints) {
      const attributes = p.attributes as Attrs;
      for (const [key, value] of Object.entries(attributes)) {
        expect(documented!.has(key), `${name} carries ${key}`).toBe(true);
        expect(ids.has(String(value)), `${name}: ${key}=${String(value)} is an id`).toBe(false);
        if (key !== A.errorType) expect(DOCUMENTED_VALUES[key]?.(value, attributes, name), `${name}: ${key}=${String(value)} is a documented value`).toBe(true);
      }
    }
  }
  // Per tenant, at most the series the "Cardinality" section counts from the registry.
  const tables = RESOURCES.reduce((n, r) => n + 1 + r.children.length, 0);
  for (const tenant of TENANTS) {
    const series = (name: string) => points(m, name, { [A.tenant]: tenant }).length;
    expect(series(M.records), `${tenant}: sync.records`).toBeLessThanOrEqual(RESOURCES.length * 3);
    expect(series(M.rows), `${tenant}: sync.rows`).toBeLessThanOrEqual(tables);
    expect(series(M.batch), `${tenant}: sync.batch.duration`).toBeLessThanOrEqual(RESOURCES.length);
    expect(series(M.requests), `${tenant}: api.requests`).toBeLessThanOrEqual(2 * 5);
    expect(series(M.deliveries), `${tenant}: webhook.deliveries`).toBeLessThanOrEqual(RESOURCE_TOPICS.length * 3);
  }
}
