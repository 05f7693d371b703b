/**
 * What the facade reports about each tenant's sync state, held to the registry: for every resource
 * (iterated, never named), driven through the real simulator and real PostgreSQL, `getSyncStatus()`,
 * `checkHealth()` and the run record (`getImportService(t).getImportStats()`) say exactly what
 * happened to that resource of that tenant, another tenant's state stays as it was, and the next
 * successful run clears what it should (a failure) and keeps what it should (the full sync's time,
 * the watermark).
 *
 * Situations: a full sync; a failed run (a fault drawn by seed: 5xx, a reset connection, a
 * malformed or truncated answer), its stable code; a `retry-failures` run that succeeds in between
 * (a few records fetched again: the failure stays, and so does the last success); a deletion probe
 * that fails (recorded, the run succeeds, retried and cleared by the next run); an app without
 * `read_all_orders` (every resource listed through orders says history is limited, on incremental
 * runs too); a REST listing that ends short (`LISTING_INCOMPLETE`).
 *
 * Random: the order of the resources and the fault of each failed run. HEALTH_REGISTRY_SEED=<n>
 * replays a run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createIngestionService, silentLogger, type ImportResult, type IngestionService, type ResourceSyncStatus, type TenantSyncStatus } from '../../src/index.js';
import { ERROR_CODES } from '../../src/error-codes.js';
import { RESOURCES, RESOURCE_NAMES, getResource } from '../../src/resources/index.js';
import { graphqlSourcesOf } from '../../src/resources/definition.js';
import { bulkIdsQuery } from '../../src/importer/queries.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { sample, seededRandom } from '../importer/harness.js';

const SEED = Number(process.env.HEALTH_REGISTRY_SEED ?? Math.floor(Math.random() * 1_000_000));
console.log(`health-registry: seed ${SEED} (HEALTH_REGISTRY_SEED=${SEED} replays this run)`);
const random = seededRandom(SEED);

const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const env = { ENCRYPTION_KEY, SHOPIFY_API_SECRET: `hr_secret_${randomBytes(6).toString('hex')}` };
const QUIET = '0 0 1 1 *';
const quietSyncConfig = { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { schedule: QUIET }])), fullSync: { schedule: QUIET } };
const ALPHA = 'alpha-hr.myshopify.com';
const BETA = 'beta-hr.myshopify.com';
const LIMITED = 'limited-hr.myshopify.com';
const PRIVATE = 'private-hr.myshopify.com';
const NARROW = 'narrow-hr.myshopify.com';
const SIZES = { customers: 4, products: 3, orders: 6, locations: 2, draftOrders: 2, abandonedCheckouts: 2 };

// The resources in a seeded order; each one's failed run draws its fault.
const ORDER = sample([...RESOURCE_NAMES], RESOURCE_NAMES.length, random);
const FAULTS = ['server_error', 'reset', 'malformed', 'truncated'] as const;
const FAULT_OF = new Map(ORDER.map((name) => [name, FAULTS[Math.floor(random() * FAULTS.length)]!]));
// The resources a tenant syncs (`resources` in its config): some, never all.
const NARROW_SYNCS = sample([...RESOURCE_NAMES], 1 + Math.floor(random() * (RESOURCE_NAMES.length - 1)), random);
console.log(`health-registry: order ${ORDER.join(', ')}; faults ${ORDER.map((n) => `${n}=${FAULT_OF.get(n)}`).join(', ')}; narrow syncs ${NARROW_SYNCS.join(', ')}`);

let db: TestDatabase;
let simulator: ShopifySimulator;
let service: IngestionService;

// What the network between the SDK and the simulator does to one shop's requests (besides the
// simulator's own faults): deletion probes answered 503, REST counts one too high.
const failProbes = new Set<string>();
const inflateCounts = new Set<string>();
const shopByToken = new Map<string, string>();
const ID_QUERIES = RESOURCES.map((r) => JSON.stringify(bulkIdsQuery(getResource(r.name))).slice(1, -1));
const unavailable = () => new Response(JSON.stringify({ errors: 'Service Unavailable' }), { status: 503, headers: { 'content-type': 'application/json' } });

const shim: typeof fetch = async (input, init) => {
  const request = new Request(input, init);
  const shop = shopByToken.get(request.headers.get('x-shopify-access-token') ?? '') ?? '';
  const url = new URL(request.url);
  if (failProbes.has(shop)) {
    if (url.pathname.endsWith('/events.json')) return unavailable();
    if (url.pathname.endsWith('/graphql.json')) {
      const body = await request.clone().text();
      if (body.includes('ShopifyIngestDestroyEvents') || (body.includes('bulkOperationRunQuery') && ID_QUERIES.some((q) => body.includes(q)))) return unavailable();
    }
  }
  if (inflateCounts.has(shop) && /\/count\.json$/.test(url.pathname)) {
    const answer = await fetch(request);
    const body = (await answer.json()) as { count: number };
    return new Response(JSON.stringify({ count: body.count + 1 }), { status: 200, headers: { 'content-type': 'application/json' } });
  }
  return fetch(request);
};

async function tenantStatus(tenantId: string): Promise<TenantSyncStatus> {
  const all = await service.getSyncStatus();
  return all.find((t) => t.tenantId === tenantId)!;
}

async function statusOf(tenantId: string, name: string): Promise<ResourceSyncStatus> {
  return (await tenantStatus(tenantId)).resources[name as keyof TenantSyncStatus['resources']];
}

/** The resource's latest run as the importer records it (warnings included). */
async function lastRunOf(tenantId: string, name: string) {
  const stats = await (await service.getImportService(tenantId)).getImportStats();
  return (stats as unknown as Record<string, { lastRun: { id: string; status: string; warnings: string[] } | null }>)[name]!.lastRun!;
}

async function failingOf(tenantId: string, name: string) {
  const health = await service.checkHealth();
  return health.checks.syncs.failing.filter((f) => f.tenantId === tenantId && f.resource === name);
}

async function runFails(tenantId: string, name: string, options: Record<string, unknown> = {}): Promise<{ code: string; message: string }> {
  const error = await service.importData(tenantId, name as never, options).then(() => null, (e: unknown) => e as { code: string; message: string });
  expect(error, `${tenantId}/${name} should fail`).not.toBeNull();
  return error!;
}

/** A code from the stable list (docs/errors.md), HTTP statuses included. */
function isStableCode(code: string): boolean {
  return code in ERROR_CODES || /^SHOPIFY_HTTP_\d{3}$/.test(code);
}

/** The resource is listed through the orders connection (itself, its carrier, or one of its listings). */
function listsOrders(name: string): boolean {
  return graphqlSourcesOf(getResource(name)).some((s) => s.connection === 'orders');
}

/** A deletion probe runs for it: destroy events (its own, or its carrier's), or id reconciliation. */
function probesDeletions(name: string): boolean {
  const r = getResource(name);
  const carrier = r.ridesOn ? getResource(r.ridesOn.resource) : r;
  return Boolean(carrier.deletions.eventSubjectType) || r.deletions.reconcileIds;
}

const iso = (s: string | null) => (s === null ? null : Date.parse(s));

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_health_reg' });
  simulator = await createShopifySimulator({
    seed: SEED % 10_000, apiSecret: env.SHOPIFY_API_SECRET, unthrottled: true, timeScale: 50,
    bulk: { startDelayMs: 20, rowsPerSecond: 50_000 },
    shops: [
      { domain: ALPHA, ...SIZES },
      { domain: BETA, ...SIZES },
      { domain: LIMITED, ...SIZES, scopes: ['read_customers', 'read_products', 'read_orders', 'read_inventory', 'read_locations', 'read_fulfillments', 'read_discounts', 'read_draft_orders'] },
      { domain: PRIVATE, ...SIZES, protectedCustomerData: false },
      { domain: NARROW, customers: 1, products: 1, orders: 1 },
    ],
  });
  for (const domain of [ALPHA, BETA, LIMITED, PRIVATE, NARROW]) shopByToken.set(simulator.shop(domain).accessToken, domain);
  service = createIngestionService(db.database, {
    env, logger: silentLogger,
    clientDefaults: { baseUrl: simulator.url, retryOptions: { retries: 0 }, fetch: shim },
    scheduler: { syncConfig: quietSyncConfig, leaseTtlMs: 5_000 },
    webhooks: { enabled: false },
    healthCheckIntervalMs: 0,
    bulk: { minPollMs: 10, maxPollMs: 50 },
  });
  await service.initialize();
  for (const [id, domain] of [['alpha', ALPHA], ['beta', BETA], ['limited', LIMITED], ['private', PRIVATE]] as const) {
    await service.addTenant(id, { shopDomain: domain, accessToken: simulator.shop(domain).accessToken });
  }
  await service.importData('beta', 'all');
}, 300_000);

afterAll(async () => {
  await service?.shutdown({ timeoutMs: 2_000 }).catch(() => {});
  await simulator?.stop();
  await db?.drop();
});

describe('sync status, resource by resource', () => {
  it.each(ORDER)('%s: full sync, a failed run with its code, a retry-failures run, the next incremental run; the other tenant untouched', { timeout: 180_000 }, async (name) => {
    const beta = await tenantStatus('beta');
    expect(beta.resources[name as keyof TenantSyncStatus['resources']].lastRun?.status).toBe('succeeded');

    // A full sync.
    const full = await service.importData('alpha', name as never, { mode: 'full' }) as ImportResult;
    let s = await statusOf('alpha', name);
    expect(s.lastRun).toMatchObject({ runId: full.runId, status: 'succeeded', mode: 'full', error: null, errorCode: null });
    expect(s.lastError).toBeNull();
    expect(s.lastSuccessAt).toBe(s.lastRun!.finishedAt);
    expect(s.checkpoint).toMatchObject({ resumePending: false });
    expect(s.checkpoint!.fullSyncCompletedAt).not.toBeNull();
    expect(iso(s.checkpoint!.fullSyncCompletedAt)!).toBeGreaterThanOrEqual(full.startedAt.getTime());
    if (s.checkpoint!.watermark !== null) expect(iso(s.checkpoint!.watermark)!).toBeLessThanOrEqual(full.startedAt.getTime());
    expect(await failingOf('alpha', name)).toEqual([]);
    const afterFull = s;

    // A failed run: its stable code, the error until a run succeeds; the checkpoint keeps its times.
    const fault = FAULT_OF.get(name)!;
    simulator.faults.configure({ rates: { [fault]: 1 }, shops: [ALPHA] });
    let error: { code: string; message: string };
    try {
      error = await runFails('alpha', name);
    } finally {
      simulator.faults.clear();
    }
    expect(isStableCode(error.code), `${fault}: ${error.code}`).toBe(true);
    s = await statusOf('alpha', name);
    expect(s.lastRun).toMatchObject({ status: 'failed', mode: 'incremental', errorCode: error.code });
    expect(s.lastRun!.error).toBeTruthy();
    expect(s.lastError).toBe(s.lastRun!.error);
    expect(s.lastSuccessAt).toBe(afterFull.lastSuccessAt);
    expect(s.checkpoint).toMatchObject({ watermark: afterFull.checkpoint!.watermark, fullSyncCompletedAt: afterFull.checkpoint!.fullSyncCompletedAt });
    const failedRun = s.lastRun!.runId;
    const failedError = s.lastRun!.error;
    expect(await failingOf('alpha', name)).toEqual([expect.objectContaining({ runId: failedRun, code: error.code, error: s.lastRun!.error })]);
    const tenant = await tenantStatus('alpha');
    expect({ syncStatus: tenant.syncStatus, lastError: tenant.lastError, healthStatus: tenant.healthStatus }).toEqual({ syncStatus: 'error', lastError: s.lastError, healthStatus: false });

    // A `retry-failures` run (a few records fetched again), recorded as it records itself, does not clear it.
    await db.query(`INSERT INTO shopify_sync_runs (id, tenant_id, resource, mode, status, options, finished_at) VALUES ($1, 'alpha', $2, 'incremental', 'succeeded', '{"retryFailures": true, "ids": 1}', now())`, [`retry-${name}`, name]);
    s = await statusOf('alpha', name);
    expect(s.lastRun).toMatchObject({ runId: `retry-${name}`, status: 'succeeded' });
    expect({ lastError: s.lastError, lastSuccessAt: s.lastSuccessAt }).toEqual({ lastError: failedError, lastSuccessAt: afterFull.lastSuccessAt });
    expect((await failingOf('alpha', name)).map((f) => f.runId)).toEqual([failedRun]);

    // The other tenant: exactly as before.
    expect(await tenantStatus('beta')).toEqual(beta);
    expect((await service.checkHealth()).checks.syncs.failing.filter((f) => f.tenantId === 'beta')).toEqual([]);

    // The next incremental run clears the failure, keeps the full sync's time, moves the watermark forward only.
    const inc = await service.importData('alpha', name as never) as ImportResult;
    expect(inc).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    s = await statusOf('alpha', name);
    expect(s.lastRun).toMatchObject({ runId: inc.runId, status: 'succeeded', mode: 'incremental', error: null, errorCode: null });
    expect(s.lastError).toBeNull();
    expect(s.lastSuccessAt).toBe(s.lastRun!.finishedAt);
    expect(s.checkpoint).toMatchObject({ fullSyncCompletedAt: afterFull.checkpoint!.fullSyncCompletedAt, resumePending: false });
    if (afterFull.checkpoint!.watermark !== null) expect(iso(s.checkpoint!.watermark)!).toBeGreaterThanOrEqual(iso(afterFull.checkpoint!.watermark)!);
    expect(await failingOf('alpha', name)).toEqual([]);
    expect((await tenantStatus('alpha')).lastError).toBeNull();
    expect(await tenantStatus('beta')).toEqual(beta);
  });
});

describe('deletion probes, resource by resource', () => {
  it.each(ORDER)('%s: a failed probe is recorded and said, the records still sync; the next run probes again and clears it', { timeout: 180_000 }, async (name) => {
    const beta = await tenantStatus('beta');
    await service.importData('alpha', name as never);
    const before = await statusOf('alpha', name);
    failProbes.add(ALPHA);
    let probed: ImportResult;
    try {
      // Full: id reconciliation runs too (resources without destroy events probe only that way).
      probed = await service.importData('alpha', name as never, { mode: 'full' }) as ImportResult;
    } finally {
      failProbes.delete(ALPHA);
    }
    const s = await statusOf('alpha', name);
    // The data path is not held back: the run succeeded and the full sync completed.
    expect(probed.status).toBe('succeeded');
    expect(s.lastRun).toMatchObject({ runId: probed.runId, status: 'succeeded', mode: 'full', error: null });
    expect(s.lastError).toBeNull();
    expect(iso(s.checkpoint!.fullSyncCompletedAt)!).toBeGreaterThan(iso(before.checkpoint!.fullSyncCompletedAt)!);
    const run = await lastRunOf('alpha', name);
    const said = run.warnings.filter((w) => /deletion probe failed \(retried next run\)/.test(w));
    const cp = async () => (await db.query<{ deletion_error: string | null }>(`SELECT deletion_error FROM shopify_sync_checkpoints WHERE tenant_id = 'alpha' AND resource = $1`, [name]))[0]!.deletion_error;
    if (probesDeletions(name)) {
      expect(said, `${name}: ${run.warnings.join(' | ')}`).toHaveLength(1);
      expect(probed.warnings).toEqual(run.warnings);
      // getSyncStatus() says it too.
      expect((await statusOf('alpha', name)).lastRun!.warnings).toEqual(run.warnings);
      expect(await cp()).toMatch(/503|unavailable/i);
    } else {
      expect(said).toEqual([]);
      expect(await cp()).toBeNull();
    }

    // The next run (incremental) probes again; it succeeds, so the warning and the error are gone.
    const next = await service.importData('alpha', name as never) as ImportResult;
    expect(next).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    expect((await lastRunOf('alpha', name)).warnings.filter((w) => /deletion probe/.test(w))).toEqual([]);
    expect((await statusOf('alpha', name)).lastRun!.warnings.filter((w) => /deletion probe/.test(w))).toEqual([]);
    expect(await cp()).toBeNull();
    expect(await tenantStatus('beta')).toEqual(beta);
  });
});

describe('read_all_orders missing', () => {
  it.each(ORDER)('%s: said by every run of a resource listed through orders, full or incremental, and by no other', { timeout: 180_000 }, async (name) => {
    const full = await service.importData('limited', name as never, { mode: 'full' }) as ImportResult;
    const inc = await service.importData('limited', name as never) as ImportResult;
    for (const result of [full, inc]) {
      expect(result.status).toBe('succeeded');
      const limited = result.warnings.filter((w) => /read_all_orders/.test(w));
      expect(limited, `${name} ${result.mode}: ${result.warnings.join(' | ')}`).toHaveLength(listsOrders(name) ? 1 : 0);
    }
    expect((await lastRunOf('limited', name)).warnings).toEqual(inc.warnings);
    expect((await statusOf('limited', name)).lastRun!.warnings).toEqual(inc.warnings);
    // An app with the scope is told nothing of the kind.
    const alpha = await service.importData('alpha', name as never) as ImportResult;
    expect(alpha.warnings.filter((w) => /read_all_orders/.test(w))).toEqual([]);
  });
});

describe('protected customer data withheld', () => {
  const withheldBy = new Map<string, string[]>();
  it.each(ORDER)('%s: the records sync; a full (bulk) and an incremental (paged) run name the same withheld fields', { timeout: 180_000 }, async (name) => {
    const full = await service.importData('private', name as never, { mode: 'full' }) as ImportResult;
    // Something changed since: the incremental run lists it (a run that lists nothing is withheld nothing).
    const shop = simulator.shop(PRIVATE);
    for (const kind of ['customers', 'orders', 'products'] as const) shop.update(kind, shop.idOf(kind, 0), { note: `touched before the ${name} run` });
    const inc = await service.importData('private', name as never) as ImportResult;
    const withheld = (r: ImportResult) => r.warnings.filter((w) => /withheld/.test(w)).map((w) => /\(([^)]*)\)/.exec(w)?.[1] ?? w);
    expect(full.status).toBe('succeeded');
    expect(inc.status).toBe('succeeded');
    expect(withheld(inc), `${name}: full ${full.warnings.join(' | ')}; incremental ${inc.warnings.join(' | ')}`).toEqual(withheld(full));
    expect((await lastRunOf('private', name)).warnings).toEqual(inc.warnings);
    expect((await statusOf('private', name)).lastRun!.warnings).toEqual(inc.warnings);
    // The same resource of an approved app is told nothing of the kind.
    expect((await service.importData('alpha', name as never) as ImportResult).warnings.filter((w) => /withheld/.test(w))).toEqual([]);
    withheldBy.set(name, withheld(full));
  });
  it('some resource says it (the simulator withholds customers\' and orders\' personal fields)', () => {
    expect([...withheldBy.values()].some((fields) => fields.length > 0), JSON.stringify([...withheldBy])).toBe(true);
  });
});

const REST_NAMES = ORDER.filter((name) => getResource(name).rest !== null);

describe('an incomplete REST listing', () => {
  it.each(REST_NAMES)('%s: LISTING_INCOMPLETE in the status and the health check, a resume pending; the next run clears it', { timeout: 180_000 }, async (name) => {
    const beta = await tenantStatus('beta');
    await service.importData('alpha', name as never);
    const before = await statusOf('alpha', name);
    inflateCounts.add(ALPHA);
    let error: { code: string };
    try {
      error = await runFails('alpha', name, { source: 'rest', mode: 'full' });
    } finally {
      inflateCounts.delete(ALPHA);
    }
    expect(error.code).toBe('LISTING_INCOMPLETE');
    let s = await statusOf('alpha', name);
    expect(s.lastRun).toMatchObject({ status: 'failed', mode: 'full', errorCode: 'LISTING_INCOMPLETE' });
    expect(s.lastError).toBe(s.lastRun!.error);
    expect(s.checkpoint).toMatchObject({ watermark: before.checkpoint!.watermark, fullSyncCompletedAt: before.checkpoint!.fullSyncCompletedAt });
    expect(await failingOf('alpha', name)).toEqual([expect.objectContaining({ code: 'LISTING_INCOMPLETE' })]);
    expect(await tenantStatus('beta')).toEqual(beta);

    await service.importData('alpha', name as never, { source: 'rest' });
    s = await statusOf('alpha', name);
    expect(s.lastRun).toMatchObject({ status: 'succeeded', errorCode: null });
    expect(s.lastError).toBeNull();
    expect(s.checkpoint!.resumePending).toBe(false);
    expect(await failingOf('alpha', name)).toEqual([]);
  });
});

describe('the tenant runs', () => {
  it.each(ORDER)('%s: running while its run holds the lock, whatever the tenant row says; not after its process died', { timeout: 60_000 }, async (name) => {
    const runId = `live-${name}`;
    const now = new Date();
    // Another resource's run ended meanwhile: the tenant row says idle.
    await db.query(`UPDATE shopify_tenants SET sync_status = 'idle' WHERE id = 'alpha'`);
    await db.query(`INSERT INTO shopify_sync_runs (id, tenant_id, resource, mode, status, started_at) VALUES ($1, 'alpha', $2, 'incremental', 'running', $3)`, [runId, name, now]);
    await db.query(`INSERT INTO shopify_run_locks (tenant_id, resource, run_id, acquired_at, expires_at) VALUES ('alpha', $1, $2, $3, $4)
                    ON CONFLICT (tenant_id, resource) DO UPDATE SET run_id = excluded.run_id, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`,
    [name, runId, now, new Date(now.getTime() + 3_600_000)]);
    try {
      let alpha = await tenantStatus('alpha');
      expect(alpha.resources[name as keyof TenantSyncStatus['resources']].lastRun).toMatchObject({ runId, status: 'running', finishedAt: null });
      expect(alpha.syncStatus).toBe('running');
      expect((await tenantStatus('beta')).syncStatus).toBe('idle');

      // Its process died (the lock expired), and the tenant row was left saying running.
      await db.query(`UPDATE shopify_run_locks SET expires_at = $2 WHERE run_id = $1`, [runId, new Date(now.getTime() - 1_000)]);
      await db.query(`UPDATE shopify_tenants SET sync_status = 'running' WHERE id = 'alpha'`);
      alpha = await tenantStatus('alpha');
      expect(alpha.syncStatus).toBe('idle');
      expect((await service.checkHealth()).checks.syncs.stalled).toEqual([expect.objectContaining({ tenantId: 'alpha', resource: name, runId, why: 'lock-lost' })]);
    } finally {
      await db.query(`UPDATE shopify_sync_runs SET status = 'cancelled', finished_at = now() WHERE id = $1`, [runId]);
      await db.query(`DELETE FROM shopify_run_locks WHERE run_id = $1`, [runId]);
      await db.query(`UPDATE shopify_tenants SET sync_status = 'idle' WHERE id = 'alpha'`);
    }
  });
});

describe('a tenant that syncs some resources', () => {
  it('is overdue and failing only for those it syncs, whatever the others\' runs say', { timeout: 60_000 }, async () => {
    await service.addTenant('narrow', { shopDomain: NARROW, accessToken: simulator.shop(NARROW).accessToken }, { resources: [...NARROW_SYNCS] });
    const others = RESOURCE_NAMES.filter((name) => !NARROW_SYNCS.includes(name));
    try {
      // Added four years ago and never synced: every resource it syncs is overdue (quiet schedules run yearly).
      await db.query(`UPDATE shopify_tenants SET created_at = now() - interval '4 years' WHERE id = 'narrow'`);
      let syncs = (await service.checkHealth()).checks.syncs;
      expect(syncs.overdue.filter((o) => o.tenantId === 'narrow').map((o) => o.resource).sort()).toEqual([...NARROW_SYNCS].sort());

      // A failed run of each resource (recorded as the importer records one; the others' from before their removal).
      for (const name of RESOURCE_NAMES) {
        await db.query(`INSERT INTO shopify_sync_runs (id, tenant_id, resource, mode, status, error, error_code, finished_at) VALUES ($1, 'narrow', $2, 'incremental', 'failed', $3, 'SHOPIFY_HTTP_503', now())`,
          [`narrow-${name}`, name, `[shopify-ingest] ${name} failed`]);
      }
      syncs = (await service.checkHealth()).checks.syncs;
      expect(syncs.failing.filter((f) => f.tenantId === 'narrow').map((f) => f.resource).sort()).toEqual([...NARROW_SYNCS].sort());
      let narrow = await tenantStatus('narrow');
      // Each resource says what its runs say; the tenant fails for the resources it syncs only.
      for (const name of RESOURCE_NAMES) expect(narrow.resources[name as keyof TenantSyncStatus['resources']].lastError).toBe(`[shopify-ingest] ${name} failed`);
      expect(narrow).toMatchObject({ syncStatus: 'error', healthStatus: false });
      expect(NARROW_SYNCS.map((name) => `[shopify-ingest] ${name} failed`)).toContain(narrow.lastError);

      // Its own resources recover; the others' old failures leave it healthy.
      await db.query(`DELETE FROM shopify_sync_runs WHERE tenant_id = 'narrow' AND resource = ANY($1::text[])`, [[...NARROW_SYNCS]]);
      await db.query(`UPDATE shopify_tenants SET created_at = now() WHERE id = 'narrow'`);
      syncs = (await service.checkHealth()).checks.syncs;
      expect(syncs.failing.filter((f) => f.tenantId === 'narrow')).toEqual([]);
      expect(syncs.overdue.filter((f) => f.tenantId === 'narrow')).toEqual([]);
      narrow = await tenantStatus('narrow');
      expect({ syncStatus: narrow.syncStatus, lastError: narrow.lastError }).toEqual({ syncStatus: 'idle', lastError: null });
      for (const name of others) expect(narrow.resources[name as keyof TenantSyncStatus['resources']].lastRun?.status).toBe('failed');
    } finally {
      await service.removeTenant('narrow');
    }
  });
});
