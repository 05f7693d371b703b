/**
 * A recorded failure stays outstanding until a later write of its record, for every resource of
 * the registry (a new resource is covered without editing this file). Before, only customers,
 * products and orders were looked up: a failure of any other resource stayed listed for good, and
 * every `retry-failures` fetched and wrote it again. Real PostgreSQL, the simulator as Shopify,
 * `retry-failures` as the CLI runs it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import KSUID from 'ksuid';
import { createIngestionService, silentLogger, type IngestionService } from '../../src/index.js';
import { retryFailures } from '../../src/cli/retry-failures.js';
import { listOutstandingFailures } from '../../src/store/failures.js';
import { RESOURCES } from '../../src/resources/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const TENANT = 'failing';
const QUIET = '0 0 1 1 *';
const quietSyncConfig = { ...Object.fromEntries(RESOURCES.map((r) => [r.name, { schedule: QUIET }])), fullSync: { schedule: QUIET } };
let db: TestDatabase;
let simulator: ShopifySimulator;
let service: IngestionService;

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_failures_registry' });
  simulator = await createShopifySimulator({ seed: 5, unthrottled: true, timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ domain: 'failing-shop.myshopify.com', customers: 12, products: 6, orders: 30 }] });
  service = createIngestionService(db.prisma, {
    env: { ENCRYPTION_KEY: randomBytes(32).toString('hex') }, logger: silentLogger, healthCheckIntervalMs: 0,
    clientDefaults: { baseUrl: simulator.url }, scheduler: { syncConfig: quietSyncConfig },
  });
  await service.initialize();
  await service.addTenant(TENANT, { shopDomain: 'failing-shop.myshopify.com', accessToken: simulator.shops[0]!.accessToken });
  await service.importData(TENANT, 'all', { mode: 'full' });
}, 180_000);

afterAll(async () => {
  await service?.shutdown({ timeoutMs: 2_000 }).catch(() => {});
  await simulator?.stop();
  await db?.drop();
});

describe('outstanding failures, every resource', () => {
  it('a failure recorded for one record of each resource is listed until retry-failures writes the record again, then no more', async () => {
    // One record of each resource: the id a failure holds is the listed record's (for records
    // listed through another resource's, refunds through orders, the carrier's).
    const recorded: Array<{ resource: string; id: bigint }> = [];
    for (const resource of RESOURCES) {
      const column = resource.ridesOn?.column ?? 'id';
      const [row] = await db.prisma.$queryRawUnsafe<Array<{ id: string }>>(`SELECT "${column}"::text AS id FROM "${resource.root.table}" WHERE tenant_id = $1 ORDER BY "${column}" LIMIT 1`, TENANT);
      expect(row, `${resource.name} has rows to fail`).toBeDefined();
      const runId = KSUID.randomSync().string;
      await service.store.startRun({ id: runId, tenantId: TENANT, resource: resource.name, mode: 'incremental', options: {} });
      await service.store.recordFailures(runId, TENANT, resource.name, [{ shopifyId: BigInt(row!.id), reason: 'test: recorded by hand' }]);
      await service.store.finishRun(runId, TENANT, { status: 'succeeded', error: null, counts: { fetched: 1, imported: 0, failed: 1 } });
      recorded.push({ resource: resource.name, id: BigInt(row!.id) });
    }
    const before = await listOutstandingFailures(db.prisma, { tenantId: TENANT, limit: 1_000 });
    expect(before.map((f) => [f.resource, f.shopifyId]).sort()).toEqual(recorded.map((r) => [r.resource, r.id]).sort());

    const outcomes = await retryFailures(service, db.prisma, { tenantId: TENANT });
    const notImported = outcomes.filter((o) => o.imported !== 1 || o.failed !== 0).map((o) => o.resource);
    expect(notImported, 'every record was fetched and written again').toEqual([]);
    const after = await listOutstandingFailures(db.prisma, { tenantId: TENANT, limit: 1_000 });
    expect(after.map((f) => f.resource), 'failures still listed after their records were written').toEqual([]);
    // Nothing left to retry: a second retry-failures has no work.
    expect(await retryFailures(service, db.prisma, { tenantId: TENANT })).toEqual([]);
  }, 180_000);
});
