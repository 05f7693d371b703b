import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createClientManager, type ClientManager } from '../../src/client/index.js';
import { createKeyRing } from '../../src/crypto/index.js';
import { createStore } from '../../src/store/index.js';
import { createSchedulerService, type SchedulerService } from '../../src/scheduler/index.js';
import { settle } from '../helpers/fake-clock.js';
import { onlyScheduled } from '../helpers/schedules.js';

/**
 * The default runner end to end: scheduler -> importer -> real client -> simulator over HTTP -> PostgreSQL.
 * On real time (the client's rate limiter, retries and Prisma's transactions all use timers); the
 * orders job's tick comes within a second.
 */
describe('default job runner (the importer)', () => {
  let db: TestDatabase;
  let sim: ShopifySimulator;
  let clients: ClientManager;
  let scheduler: SchedulerService;

  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'si_sched_imp' });
    // Bulk operations finish in milliseconds and are polled as often (the defaults poll Shopify
    // every second or more, which made this test wait half a minute).
    sim = await createShopifySimulator({ seed: 11, unthrottled: true, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ customers: 40, products: 15, orders: 60 }] });
    const shop = sim.shops[0];
    await createStore(db.database).upsertTenant({ id: 't1', shopDomain: shop.domain, accessTokenEnc: 'not-used-here' });
    clients = createClientManager({ retryOptions: { retries: 3, minTimeout: 5, maxTimeout: 20 } });
    clients.addClient('t1', { shopDomain: shop.domain, accessToken: shop.accessToken }, { baseUrl: shop.baseUrl });
    scheduler = createSchedulerService(db.database, clients, {
      importServiceOptions: { keyRing: createKeyRing({ key: randomBytes(32).toString('hex') }), bulk: { minPollMs: 10, maxPollMs: 50 } },
      syncConfig: onlyScheduled({ orders: { schedule: '* * * * * *' }, customers: { enabled: false }, products: { enabled: false }, fullSync: { enabled: false } }),
    });
  });
  afterAll(async () => {
    await scheduler?.stopScheduler({ waitMs: 5000, abortRunning: true });
    await clients?.close();
    await sim?.stop();
    await db?.drop();
  });

  it('imports a tenant found in the client manager, on demand and on schedule', async () => {
    await scheduler.startScheduler();
    expect(scheduler.getStatus().jobs.map((j) => j.id)).toContain('fullSync-sync-t1');
    const result = await scheduler.runJobNow('fullSync-sync-t1') as Record<string, { status: string; imported: number }>;
    expect(result.customers).toMatchObject({ status: 'succeeded', imported: 40 });
    expect(result.products).toMatchObject({ status: 'succeeded', imported: 15 });
    expect(result.orders).toMatchObject({ status: 'succeeded', imported: 60 });
    const [counts] = await db.query<{ c: number; p: number; o: number }>(
      "SELECT (SELECT count(*)::int FROM shopify_customers WHERE tenant_id = 't1') AS c, (SELECT count(*)::int FROM shopify_products WHERE tenant_id = 't1') AS p, (SELECT count(*)::int FROM shopify_orders WHERE tenant_id = 't1') AS o");
    expect(counts).toEqual({ c: 40, p: 15, o: 60 });
    // The weekly job stays a full sync after the first one (customers' deletions are only found by a full listing).
    const again = await scheduler.runJobNow('fullSync-sync-t1') as Record<string, { status: string; mode: string }>;
    expect(again.customers).toMatchObject({ status: 'succeeded', mode: 'full' });
    expect(again.orders).toMatchObject({ status: 'succeeded', mode: 'full' });

    // the orders job ticks every second with its 7-day window; a tick that met the full sync's
    // orders run holding the resource lock was skipped, not failed
    const ordersJob = () => scheduler.getStatus().jobs.find((j) => j.id === 'orders-sync-t1')!;
    await settle(() => ordersJob().lastFinishedAt !== null && !ordersJob().running, 'a scheduled orders run', 60_000);
    const orders = ordersJob();
    expect(orders.failureCount).toBe(0);
    expect(orders.lastError).toBeNull();
    expect(orders.lastResult).toMatchObject({ status: 'succeeded', resource: 'orders', tenantId: 't1' });

    // A resource beyond the seed's three runs by its registry name, like the others.
    expect(await scheduler.runJobNow('locations-sync-t1')).toMatchObject({ status: 'succeeded', resource: 'locations', tenantId: 't1' });
    // Two full syncs of every resource are some 30 bulk operations the simulator keeps running for at
    // least 150 ms each: 12 s on an idle machine, over 30 s beside the rest of the suite on two cores.
  }, 120_000);
});
