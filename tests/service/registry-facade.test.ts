/**
 * The facade, resource by resource of the registry (a new resource is covered without editing this
 * file): through `createIngestionService` on a real PostgreSQL database, with the simulator as
 * Shopify.
 *
 * 1. Tenant isolation: two tenants whose shops have the same record ids (two simulators of the same
 *    seed and options) are synced; tenant A's full resync, and its incremental runs after changes at
 *    A's shop, leave every table's rows of tenant B byte-identical, and each tenant's rows equal what
 *    a fresh full sync of its own shop stores.
 * 2. Every resource is reachable by name through every public entry point: `importData`,
 *    `getSyncStatus`, `checkHealth`, `getStatistics`, the scheduler's jobs and the CLI.
 * 3. A failed run of one resource shows in `getSyncStatus` and `checkHealth` for that resource only,
 *    and its next successful run clears it.
 *
 * Found by this test: `getSyncStatus()` said nothing per resource (docs/importing.md promises the
 * importer's stats: last run and checkpoint per resource), and its tenant-level `syncStatus` and
 * `lastError` were cleared by the success of any other resource (every `importData(tenant, 'all')`
 * with one failing resource ended `idle`, `healthStatus: true`); `shopify-ingest status` printed
 * three resources' counts.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/index.js';
import { createKeyRing } from '../../src/crypto/index.js';
import type { ImportError, ImportResult } from '../../src/importer/index.js';
import { createIngestionService, silentLogger, type IngestionService } from '../../src/index.js';
import { tablesOf, type ResourceDefinition } from '../../src/resources/definition.js';
import { RESOURCE_NAMES, RESOURCES, type ResourceName } from '../../src/resources/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createRegistryChanges } from '../importer/registry-changes.js';
import { registryImage } from '../importer/registry-image.js';

const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const API_SECRET = `registry_facade_${randomBytes(6).toString('hex')}`;
const env = { ENCRYPTION_KEY, SHOPIFY_API_SECRET: API_SECRET };
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });
const DEFINITIONS = RESOURCES as unknown as readonly ResourceDefinition[];
const NAMES = RESOURCE_NAMES;
// Schedules that never fire while the tests run (1 January): no tick races the assertions.
const QUIET = '0 0 1 1 *';
const quietSyncConfig = { ...Object.fromEntries(NAMES.map((name) => [name, { schedule: QUIET }])), fullSync: { schedule: QUIET } };
// The sizes of tests/importer/incremental-registry.test.ts, which the changes below are written for.
const SHOP = { customers: 30, products: 16, orders: 80 };
const SIMULATOR = { seed: 7, unthrottled: true, timeScale: 50, apiSecret: API_SECRET, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 } };
const A = 'tenant-a';
const B = 'tenant-b';
const REF_A = 'ref-a';
const REF_B = 'ref-b';

let db: TestDatabase;
let simA: ShopifySimulator;
let simB: ShopifySimulator;
let service: IngestionService;
const CHANGES = createRegistryChanges();

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_registry_facade' });
  // One shop each, same seed and options: the generator's ids depend on the seed and the shop's number only.
  simA = await createShopifySimulator({ ...SIMULATOR, shops: [{ domain: 'alpha-registry.myshopify.com', ...SHOP }] });
  simB = await createShopifySimulator({ ...SIMULATOR, shops: [{ domain: 'beta-registry.myshopify.com', ...SHOP }] });
  service = createIngestionService(db.database, {
    env, logger: silentLogger,
    clientDefaults: { retryOptions: { retries: 0 } },
    scheduler: { syncConfig: quietSyncConfig, leaseTtlMs: 5_000 },
    healthCheckIntervalMs: 0,
    bulk: { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000, regroupLines: 10 },
  });
  await service.initialize();
  const connect = async (tenant: string, sim: ShopifySimulator, domain?: string) => {
    const shop = sim.shops[0]!;
    // A reference tenant reads the same shop under a domain of its own (a domain belongs to one
    // tenant); the simulator finds the shop by its access token.
    await service.addTenant(tenant, { shopDomain: domain ?? shop.domain, accessToken: shop.accessToken }, { client: { baseUrl: domain ? sim.url : shop.baseUrl } });
  };
  await connect(A, simA);
  await connect(B, simB);
  await connect(REF_A, simA, 'ref-a-registry.myshopify.com');
  await connect(REF_B, simB, 'ref-b-registry.myshopify.com');
}, 120_000);

afterAll(async () => {
  await service?.shutdown({ timeoutMs: 2_000 }).catch(() => {});
  await simA?.stop();
  await simB?.stop();
  await db?.drop();
});

/** Every table with a `tenant_id` column (the registry's and the SDK's own: checkpoints, runs, ...). */
async function tenantTables(): Promise<string[]> {
  const rows = await db.query<{ t: string }>(`SELECT DISTINCT table_name AS t FROM information_schema.columns
    WHERE column_name = 'tenant_id' AND table_schema = current_schema() ORDER BY 1`);
  return rows.map((r) => r.t);
}

/** A digest of a tenant's rows, every column, per table (and its `shopify_tenants` row). */
async function digest(tenant: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const tables = await tenantTables();
  for (const table of tables) {
    const [row] = await db.query<{ n: number; d: string }>(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS d FROM "${table}" t WHERE tenant_id = $1`, [tenant]);
    out[table] = `${row!.n} rows ${row!.d}`;
  }
  const [own] = await db.query<{ d: string }>(`SELECT md5(t::text) AS d FROM shopify_tenants t WHERE id = $1`, [tenant]);
  out.shopify_tenants = own!.d;
  return out;
}

/**
 * Resources with no way to find deletions but webhooks (no destroy events, no id reconciliation, not
 * riding on another's records): metafields, whose deleted owners' rows stay as they were last listed
 * (src/resources/metafields.ts). A tenant's rows of such a resource may hold more than its shop.
 */
const keepsDeleted = (d: ResourceDefinition) => d.deletions.eventSubjectType === null && !d.deletions.reconcileIds && !d.ridesOn && !d.graphql.singleton;
type Image = Awaited<ReturnType<typeof registryImage>>;
/** `image` restricted to the rows (by key) `like` has. */
function withKeysOf(image: Image, like: Image): Image {
  return Object.fromEntries(Object.entries(image).map(([table, rows]) => [table, Object.fromEntries(Object.entries(rows).filter(([key]) => key in (like[table] ?? {})))]));
}

const succeeded = (result: unknown, label: string) => expect(result, label).toMatchObject({ status: 'succeeded', failed: 0 });

describe('the facade, for every resource of the registry', { timeout: 300_000 }, () => {
  it('every resource has a change at the simulated Shopify', () => {
    expect(Object.keys(CHANGES).sort()).toEqual([...NAMES].sort());
  });

  it('importData(tenant, name) syncs each resource of two shops with the same ids', async () => {
    for (const tenant of [A, B]) {
      for (const name of NAMES) {
        const result = await service.importData(tenant, name) as ImportResult;
        succeeded(result, `${tenant} ${name}`);
        expect(result).toMatchObject({ resource: name, tenantId: tenant, mode: 'full' });
      }
    }
    for (const definition of DEFINITIONS) {
      const ids = async (tenant: string) => (await db.query<{ id: string }>(`SELECT id::text AS id FROM ${definition.root.table} WHERE tenant_id = $1 ORDER BY id`, [tenant])).map((r) => r.id);
      const [a, b] = [await ids(A), await ids(B)];
      expect(a.length, `${definition.name}: records stored`).toBeGreaterThan(0);
      expect(a, `${definition.name}: both shops have the same ids`).toEqual(b);
    }
  });

  it('tenant A\'s full resync and incremental runs after changes at its shop leave every row of tenant B as it was; each tenant\'s rows are its own shop\'s', async () => {
    const tables = await tenantTables();
    for (const definition of DEFINITIONS) for (const t of tablesOf(definition)) expect(tables, `${definition.name}: ${t.table} is tenant-scoped`).toContain(t.table);
    const before = await digest(B);

    const full = await service.importData(A, 'all', { mode: 'full' });
    for (const name of NAMES) succeeded((full as Record<string, ImportResult>)[name], `full resync of ${name}`);
    expect(await digest(B), 'tenant B after tenant A\'s full resync').toEqual(before);

    for (const name of NAMES) CHANGES[name]!.change(simA.shops[0]!);
    for (const name of NAMES) succeeded(await service.importData(A, name, { mode: 'incremental' }), `incremental ${name}`);
    expect(await digest(B), 'tenant B after tenant A\'s incremental runs').toEqual(before);

    // Deletions without destroy events are found by a full sync only (docs/importing.md): one more
    // full resync, then A's rows are what a fresh full sync of its changed shop stores.
    await service.importData(A, 'all', { mode: 'full' });
    expect(await digest(B), 'tenant B after tenant A\'s second full resync').toEqual(before);
    for (const tenant of [REF_A, REF_B]) await service.importData(tenant, 'all', { mode: 'full' });
    for (const definition of DEFINITIONS) {
      const [a, refA] = [await registryImage(db, keyRing, A, definition), await registryImage(db, keyRing, REF_A, definition)];
      expect(keepsDeleted(definition) ? withKeysOf(a, refA) : a, `${definition.name}: tenant A's rows are its shop's`).toEqual(refA);
      const [b, refB] = [await registryImage(db, keyRing, B, definition), await registryImage(db, keyRing, REF_B, definition)];
      expect(b, `${definition.name}: tenant B's rows are its shop's`).toEqual(refB);
      expect(a, `${definition.name}: the change at A's shop is in A's rows only`).not.toEqual(b);
    }
  });

  it('getSyncStatus lists every resource with its stored count, last run and checkpoint', async () => {
    const status = await service.getSyncStatus();
    const a = status.find((s) => s.tenantId === A)!;
    expect(Object.keys(a.stats).sort()).toEqual([...NAMES].sort());
    for (const definition of DEFINITIONS) {
      const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${definition.root.table} WHERE tenant_id = $1 AND deleted_at IS NULL`, [A]);
      expect(a.stats[definition.name as ResourceName], `${definition.name}: stats`).toBe(row!.n);
    }
    expect(a).toMatchObject({ syncStatus: 'idle', lastError: null, healthStatus: true });
    expect(Object.keys(a.resources).sort()).toEqual([...NAMES].sort());
    for (const name of NAMES) {
      const entry = a.resources[name];
      expect(entry, name).toMatchObject({
        lastRun: { status: 'succeeded', mode: 'full', error: null, runId: expect.any(String), finishedAt: expect.any(String) },
        lastSuccessAt: expect.any(String),
        checkpoint: { watermark: expect.any(String), fullSyncCompletedAt: expect.any(String), resumePending: false },
      });
    }
  });

  it('checkHealth judges every tenant\'s every resource; getStatistics counts every table of every resource', async () => {
    const health = await service.checkHealth();
    expect(health.checks.syncs, health.reasons.join('\n')).toMatchObject({ status: 'healthy', failing: [], stalled: [], overdue: [] });
    expect(health.checks.syncs.reason).toContain(`4 tenants, ${4 * NAMES.length} resources`);

    const stats = await service.getStatistics();
    const keys = DEFINITIONS.flatMap((d) => tablesOf(d).map((t) => t.key));
    expect(Object.keys(stats.totalRecords).sort()).toEqual([...keys].sort());
    for (const definition of DEFINITIONS) expect(stats.totalRecords[definition.root.key], `${definition.name}: records of the four tenants`).toBeGreaterThan(0);
  });

  it('the scheduler has a job per resource whose schedule is enabled, for every tenant', () => {
    const jobs = new Map(service.scheduler!.getStatus().jobs.map((j) => [j.id, j]));
    for (const tenant of [A, B]) {
      for (const definition of DEFINITIONS) {
        const job = jobs.get(`${definition.name}-sync-${tenant}`);
        expect(job, `${definition.name}-sync-${tenant}`).toBeDefined();
        expect(job!.enabled, `${definition.name}-sync-${tenant} enabled`).toBe(definition.schedule.enabled);
      }
      expect(jobs.get(`fullSync-sync-${tenant}`)?.enabled).toBe(true);
    }
  });

  it('the CLI takes every resource by name: sync <tenant> <name>, failures --resource <name>; status shows each', async () => {
    const run = async (argv: string[]) => {
      const chunks: string[] = [];
      const sink = (into: string[]) => new Writable({ write(chunk, _encoding, done) { into.push(String(chunk)); done(); } });
      const errors: string[] = [];
      const code = await main([...argv, '--database-url', db.url], { stdout: sink(chunks), stderr: sink(errors), env: { ENCRYPTION_KEY, LOG_LEVEL: 'warn' } });
      return { code, stdout: chunks.join(''), stderr: errors.join('') };
    };
    for (const name of NAMES) {
      const sync = await run(['sync', B, name, '--json']);
      expect(sync, `sync ${B} ${name}`).toMatchObject({ code: 0 });
      const result = sync.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; results?: unknown }).find((e) => e.type === 'result');
      expect(JSON.stringify(result), `sync ${B} ${name}`).toContain(`"resource":"${name}"`);
      expect(await run(['failures', '--resource', name, '--json']), `failures --resource ${name}`).toMatchObject({ code: 0 });
    }
    const status = await run(['status']);
    expect(status.code).toBe(0);
    const line = status.stdout.split('\n').find((l) => l.startsWith(A))!;
    for (const definition of DEFINITIONS) expect(line, `status shows ${definition.name}`).toMatch(new RegExp(`\\b${definition.name} \\d+`));
  });

  it.each(NAMES)('a failed %s run shows in getSyncStatus and checkHealth for that resource only, until its next successful run', async (name) => {
    const other = NAMES.find((n) => n !== name)!;
    // Every request of A's shop answers 5xx while the run goes (the client does not retry here).
    simA.faults.configure({ rates: { server_error: 1 } });
    let error: ImportError | undefined;
    try {
      await service.importData(A, name, { mode: 'incremental' });
    } catch (e) {
      error = e as ImportError;
    } finally {
      simA.faults.clear();
    }
    expect(error, `${name} failed`).toBeDefined();
    expect(error!.code).toMatch(/^[A-Z0-9_]+$/);
    expect(error!.details).toMatchObject({ resource: name, tenantId: A });

    // The health check and the tenant's status name the failure, and no other tenant's.
    const failedOnly = async (label: string) => {
      const health = await service.checkHealth();
      expect(health.checks.syncs.failing.map((f) => `${f.tenantId}/${f.resource}`), `${label}: ${health.reasons.join('\n')}`).toEqual([`${A}/${name}`]);
      expect(health.checks.syncs.failing[0]!.runId).toBe(error!.details.runId);
      const status = await service.getSyncStatus();
      expect(status.find((s) => s.tenantId === A), `${label}: tenant A`).toMatchObject({ syncStatus: 'error', lastError: expect.any(String), healthStatus: false });
      for (const s of status.filter((x) => x.tenantId !== A)) expect(s, `${label}: ${s.tenantId}`).toMatchObject({ syncStatus: 'idle', lastError: null });
      return status.find((s) => s.tenantId === A)!;
    };
    await failedOnly('after the failure');
    // Another resource's success does not hide it.
    succeeded(await service.importData(A, other, { mode: 'incremental' }), other);
    const a = await failedOnly(`after a successful ${other} run`);
    // Per resource: that resource's last run failed, with the run's id; the others' succeeded.
    for (const n of NAMES) expect(a.resources[n].lastRun?.status, `tenant A, ${n}`).toBe(n === name ? 'failed' : 'succeeded');
    expect(a.resources[name]).toMatchObject({ lastRun: { runId: error!.details.runId, error: expect.any(String) }, lastError: a.resources[name].lastRun!.error });
    for (const n of NAMES.filter((x) => x !== name)) expect(a.resources[n].lastError, `tenant A, ${n}`).toBeNull();

    succeeded(await service.importData(A, name, { mode: 'incremental' }), `${name} again`);
    const health = await service.checkHealth();
    expect(health.checks.syncs, health.reasons.join('\n')).toMatchObject({ status: 'healthy', failing: [] });
    const recovered = (await service.getSyncStatus()).find((s) => s.tenantId === A)!;
    expect(recovered).toMatchObject({ syncStatus: 'idle', lastError: null, healthStatus: true });
    expect(recovered.resources[name]).toMatchObject({ lastRun: { status: 'succeeded', error: null }, lastError: null });
  });

  // The run's error code is stored (shopify_sync_runs.error_code) and named by both.
  it('a failed run\'s error code shows in getSyncStatus and checkHealth', async () => {
    const name = NAMES[0]!;
    simA.faults.configure({ rates: { server_error: 1 } });
    const error = await service.importData(A, name, { mode: 'incremental' }).catch((e: ImportError) => e).finally(() => simA.faults.clear()) as ImportError;
    expect(error.code, 'the run failed with a typed code').toMatch(/^SHOPIFY_/);
    const health = await service.checkHealth();
    expect(health.checks.syncs.failing[0]).toMatchObject({ resource: name, code: error.code });
    const a = (await service.getSyncStatus()).find((s) => s.tenantId === A)!;
    expect(a.resources[name].lastRun).toMatchObject({ errorCode: error.code });
  });
});
