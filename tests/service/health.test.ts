/**
 * getHealthStatus() against a real PostgreSQL database and the simulator: every check starts
 * healthy, breaks when exactly its part is broken (the status changes, with that check's reason
 * and no other), and recovers once the part is fixed. Time moves through an injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCE_NAMES } from '../../src/resources/index.js';
import { randomBytes } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { createIngestionService, silentLogger, type HealthStatus, type IngestionService } from '../../src/index.js';
import { createShopifySimulator, type ShopifySimulator } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const API_SECRET = `health_secret_${randomBytes(6).toString('hex')}`;
const env = { ENCRYPTION_KEY, SHOPIFY_API_SECRET: API_SECRET };
// Schedules that never fire while the tests run (1 January): no tick races the assertions.
const QUIET = '0 0 1 1 *';
const quietSyncConfig = { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { schedule: QUIET }])), fullSync: { schedule: QUIET } };
const ALPHA = 'alpha-health.myshopify.com';
const BETA = 'beta-health.myshopify.com';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let db: TestDatabase;
let simulator: ShopifySimulator;
let service: IngestionService;
let now = Date.now();
const clock = () => new Date(now);
const extra: Array<{ shutdown(): Promise<void> } | PrismaClient> = [];

/** Only `name` is unhealthy or degraded, and its reason matches. */
function onlyBroken(health: HealthStatus, name: keyof HealthStatus['checks'], reason: RegExp): void {
  const broken = Object.entries(health.checks).filter(([, c]) => c.status !== 'healthy').map(([n]) => n);
  expect(broken, health.reasons.join('\n')).toEqual([name]);
  expect(health.checks[name].reason).toMatch(reason);
  expect(health.reasons).toEqual([`${name}: ${health.checks[name].reason}`]);
}

function allHealthy(health: HealthStatus): void {
  expect(health.reasons).toEqual([]);
  expect(health.status).toBe('healthy');
}

async function insertInbox(row: { id: string; status: string; receivedAt: Date; nextAttemptAt: Date; attempts?: number; lastError?: string }): Promise<void> {
  await db.query(
    `INSERT INTO shopify_webhook_inbox (id, tenant_id, webhook_id, topic, shop_domain, body_enc, status, attempts, last_error, next_attempt_at, received_at)
     VALUES ($1, 'alpha', $1, 'orders/create', $2, 'sealed', $3, $4, $5, $6, $7)`,
    [row.id, ALPHA, row.status, row.attempts ?? 0, row.lastError ?? null, row.nextAttemptAt, row.receivedAt],
  );
}

beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_health' });
  simulator = await createShopifySimulator({
    seed: 18, apiSecret: API_SECRET, unthrottled: true,
    shops: [{ domain: ALPHA, customers: 4, products: 2, orders: 3 }, { domain: BETA, customers: 2, products: 1, orders: 1 }],
  });
  service = createIngestionService(db.database, {
    env, logger: silentLogger, clock,
    clientDefaults: { baseUrl: simulator.url, retryOptions: { retries: 0 } },
    scheduler: { syncConfig: quietSyncConfig, leaseTtlMs: 5_000 },
    healthCheckIntervalMs: 0,
    bulk: { minPollMs: 10, maxPollMs: 50 },
    health: { inbox: { maxWaiting: 2, maxAgeMs: 10 * 60_000 } },
  });
  await service.initialize();
  await service.addTenant('alpha', { shopDomain: ALPHA, accessToken: simulator.shop(ALPHA).accessToken });
  await service.importData('alpha', 'all');
});

afterAll(async () => {
  for (const x of extra) await ('shutdown' in x ? x.shutdown() : x.$disconnect()).catch(() => {});
  await service?.shutdown({ timeoutMs: 2_000 }).catch(() => {});
  await simulator?.stop();
  await db?.drop();
});

describe('getHealthStatus: every check breaks and recovers', () => {
  it('starts healthy, with a reason for every check and the seed fields kept', async () => {
    const health = await service.checkHealth();
    allHealthy(health);
    expect(Object.keys(health.checks).sort()).toEqual(['credentials', 'database', 'deadLetters', 'inbox', 'scheduler', 'syncs', 'webhookWorker']);
    for (const check of Object.values(health.checks)) {
      expect(check.status).toBe('healthy');
      expect(check.reason.length).toBeGreaterThan(5);
      expect(check.checkedAt).toBe(new Date(now).toISOString());
    }
    expect(health.checks.syncs.reason).toMatch(new RegExp(`1 tenant, ${RESOURCE_NAMES.length} resources`));
    expect(health.services).toMatchObject({
      database: { reachable: true, checkedAt: expect.any(String) }, clients: 1,
      scheduler: { enabled: true, totalJobs: RESOURCE_NAMES.length + 1, runningJobs: 0 }, webhooks: { enabled: true }, tenants: { needsReauth: [] },
    });
    expect(health.uptime).toBeGreaterThanOrEqual(0);
  });

  it('database: unreachable is unhealthy, the other database checks say they were not checked; back when it answers', async () => {
    // The same database, except that queries go to a port nothing listens on while `down`.
    const dead = new PrismaClient({ adapter: new PrismaPg({ connectionString: 'postgresql://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 2_000 }) });
    extra.push(dead);
    let down = false;
    const flaky = new Proxy(db.prisma, {
      get(target, prop) {
        const source = down && (prop === '$queryRawUnsafe' || prop === '$executeRawUnsafe') ? dead : target;
        const value = Reflect.get(source, prop, source) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(source) : value;
      },
    });
    const s = createIngestionService(flaky, { env, logger: silentLogger, clock, scheduler: { enabled: false, syncConfig: quietSyncConfig }, webhooks: { enabled: false }, healthCheckIntervalMs: 0 });
    extra.push(s);
    await s.initialize();
    allHealthy(await s.checkHealth());

    down = true;
    const health = await s.checkHealth();
    expect(health.status).toBe('unhealthy');
    expect(health.checks.database).toMatchObject({ status: 'unhealthy', reason: expect.stringMatching(/^unreachable: /), latencyMs: null });
    expect(health.services.database).toMatchObject({ reachable: false, error: expect.stringMatching(/unreachable/) });
    for (const name of ['inbox', 'deadLetters', 'syncs', 'credentials'] as const) {
      expect(health.checks[name]).toMatchObject({ status: 'degraded', reason: expect.stringMatching(/not checked: the database is unreachable/) });
    }
    // getHealthStatus() keeps answering from the last check, without a query.
    expect(s.getHealthStatus().status).toBe('unhealthy');

    down = false;
    allHealthy(await s.checkHealth());
    expect(s.getHealthStatus().services.database.reachable).toBe(true);
  });

  it('scheduler: stopped while configured to run is degraded; started again is healthy', async () => {
    await service.scheduler!.stopScheduler();
    onlyBroken(service.getHealthStatus(), 'scheduler', /stopped .*no scheduled sync runs/);
    expect(service.getHealthStatus().checks.scheduler).toMatchObject({ expected: true, running: false });
    await service.scheduler!.startScheduler();
    allHealthy(await service.checkHealth());
  });

  it('webhookWorker: a stopped worker is degraded; started again is healthy', async () => {
    await service.webhooks!.stop();
    const health = await service.checkHealth();
    onlyBroken(health, 'webhookWorker', /stopped .*deliveries are stored but not applied/);
    expect(health.checks.webhookWorker).toMatchObject({ configured: true, running: false });
    service.webhooks!.start();
    allHealthy(await service.checkHealth());
  });

  it('inbox: a delivery waiting longer than maxAgeMs, or more waiting than maxWaiting, is degraded; applied, healthy again', async () => {
    const later = new Date(now + DAY); // not claimed by the running worker meanwhile
    await insertInbox({ id: 'old-1', status: 'pending', receivedAt: new Date(now - HOUR), nextAttemptAt: later, attempts: 3, lastError: 'TypeError: boom' });
    let health = await service.checkHealth();
    onlyBroken(health, 'inbox', /oldest \(orders\/create for alpha, old-1\) has waited 60 min .*after 3 attempts: TypeError: boom/);
    expect(health.checks.inbox).toMatchObject({ waiting: 1, oldest: { id: 'old-1', attempts: 3 }, oldestAgeMs: HOUR });

    // Young, but too many (maxWaiting 2).
    await db.query(`UPDATE shopify_webhook_inbox SET received_at = $1 WHERE id = 'old-1'`, [new Date(now - 1_000)]);
    for (const id of ['new-1', 'new-2']) await insertInbox({ id, status: 'pending', receivedAt: new Date(now - 1_000), nextAttemptAt: later });
    health = await service.checkHealth();
    onlyBroken(health, 'inbox', /^backlog: 3 deliveries waiting \(more than 2\)$/);

    await db.query(`UPDATE shopify_webhook_inbox SET status = 'processed', processed_at = now() WHERE id IN ('old-1', 'new-1', 'new-2')`);
    allHealthy(await service.checkHealth());
  });

  it('deadLetters: a delivery out of attempts is degraded, naming it; once dealt with, healthy', async () => {
    await insertInbox({ id: 'dead-1', status: 'failed', receivedAt: new Date(now - 1_000), nextAttemptAt: new Date(now), attempts: 8, lastError: 'Error: handler exploded' });
    const health = await service.checkHealth();
    onlyBroken(health, 'deadLetters', /^1 delivery failed for good \(orders\/create\); newest dead-1: Error: handler exploded\. Fix the cause, then webhooks\.replayWebhook\(id\)$/);
    expect(health.checks.deadLetters).toMatchObject({ count: 1, newest: [{ id: 'dead-1', tenantId: 'alpha', attempts: 8 }] });
    await db.query(`DELETE FROM shopify_webhook_inbox WHERE id = 'dead-1'`);
    allHealthy(await service.checkHealth());
  });

  it('syncs: a failed sync is degraded, naming the tenant and resource; the next successful one clears it', async () => {
    simulator.faults.configure({ rates: { server_error: 1 }, shops: [ALPHA] });
    try {
      await expect(service.importData('alpha', 'customers')).rejects.toThrow();
    } finally {
      simulator.faults.clear();
    }
    const health = await service.checkHealth();
    onlyBroken(health, 'syncs', /^failed: alpha\/customers \(.+\)$/);
    expect(health.checks.syncs).toMatchObject({ tenants: ['alpha'], failing: [{ tenantId: 'alpha', resource: 'customers', runId: expect.any(String) }], stalled: [], overdue: [] });

    await service.importData('alpha', 'customers');
    allHealthy(await service.checkHealth());
  });

  it('syncs: a run whose lock expired, or that ran longer than maxRunMs, is stalled; a live run is not', async () => {
    // Started after every earlier run of the resource, one minute before the service's now.
    now = Date.now() + 60_000;
    await db.query(`INSERT INTO shopify_sync_runs (id, tenant_id, resource, mode, status, started_at) VALUES ('run-stuck', 'alpha', 'products', 'incremental', 'running', $1)`, [new Date(now - 60_000)]);
    let health = await service.checkHealth();
    onlyBroken(health, 'syncs', /^stalled: alpha\/products \(run run-stuck started 60 s ago, its run lock expired: the process running it stopped\)$/);
    expect(health.checks.syncs.stalled).toEqual([{ tenantId: 'alpha', resource: 'products', runId: 'run-stuck', startedAt: new Date(now - 60_000).toISOString(), why: 'lock-lost' }]);

    // Its process renews the lock: a live run.
    await db.query(`INSERT INTO shopify_run_locks (tenant_id, resource, run_id, acquired_at, expires_at) VALUES ('alpha', 'products', 'run-stuck', $1, $2)`, [new Date(now - 60_000), new Date(now + 2 * DAY)]);
    allHealthy(await service.checkHealth());

    // Seven hours later it still runs, lock held: longer than the default maxRunMs (6 h).
    now += 7 * HOUR;
    health = await service.checkHealth();
    onlyBroken(health, 'syncs', /^stalled: alpha\/products \(run run-stuck started 7 h ago, longer than 6 h\)$/);
    expect(health.checks.syncs.stalled[0]!.why).toBe('too-long');

    // The next run closes it (closeInterruptedRuns) and releases the lock.
    await db.query(`UPDATE shopify_sync_runs SET status = 'cancelled', finished_at = now() WHERE id = 'run-stuck'`);
    await db.query(`DELETE FROM shopify_run_locks WHERE tenant_id = 'alpha' AND resource = 'products'`);
    allHealthy(await service.checkHealth());
  });

  it('syncs: no success for staleAfterIntervals x the schedule is overdue, for a tenant that never synced too', async () => {
    // Monthly orders for beta (interval 31 days): overdue after 3 of them. Nothing fires during the test.
    await service.addTenant('beta', { shopDomain: BETA, accessToken: simulator.shop(BETA).accessToken }, { syncConfig: { orders: { schedule: '0 0 1 * *' } } });
    await service.importData('beta', 'orders');
    allHealthy(await service.checkHealth());
    now += 60 * DAY;
    allHealthy(await service.checkHealth());

    now += 40 * DAY; // 100 days since the last success: more than 3 x 31 days
    let health = await service.checkHealth();
    onlyBroken(health, 'syncs', /^overdue: beta\/orders \(last success 100 days ago, scheduled every 31 days\)$/);
    expect(health.checks.syncs).toMatchObject({ tenants: ['beta'], overdue: [{ tenantId: 'beta', resource: 'orders', intervalMs: 31 * DAY }] });

    // A successful run (recorded at the service's time) clears it.
    await db.query(`INSERT INTO shopify_sync_runs (id, tenant_id, resource, mode, status, started_at, finished_at) VALUES ('beta-ok', 'beta', 'orders', 'incremental', 'succeeded', $1, $1)`, [new Date(now)]);
    allHealthy(await service.checkHealth());

    // A tenant that never synced counts from when it was added.
    await db.query(`DELETE FROM shopify_sync_runs WHERE tenant_id = 'beta'`);
    health = await service.checkHealth();
    onlyBroken(health, 'syncs', /^overdue: beta\/orders \(never synced, scheduled every 31 days\)$/);
    await db.query(`INSERT INTO shopify_sync_runs (id, tenant_id, resource, mode, status, started_at, finished_at) VALUES ('beta-ok-2', 'beta', 'orders', 'incremental', 'succeeded', $1, $1)`, [new Date(now)]);
    allHealthy(await service.checkHealth());
  });

  it('credentials: a tenant needing re-authorisation is degraded, named; authorised again, healthy', async () => {
    await db.query(`UPDATE shopify_tenants SET auth_status = 'needs_reauth', auth_error = 'refresh token revoked' WHERE id = 'beta'`);
    const health = await service.checkHealth();
    onlyBroken(health, 'credentials', /^1 tenant must authorise the app again \(updateTenant\): beta$/);
    expect(health.checks.credentials.needsReauth).toEqual(['beta']);
    expect(health.services.tenants.needsReauth).toEqual(['beta']);
    await db.query(`UPDATE shopify_tenants SET auth_status = 'ok', auth_error = NULL WHERE id = 'beta'`);
    allHealthy(await service.checkHealth());
  });

  it('after shutdown the scheduler and the webhook worker say why they stopped', async () => {
    const s = createIngestionService(db.database, { env, logger: silentLogger, clock, clientDefaults: { baseUrl: simulator.url }, scheduler: { syncConfig: quietSyncConfig }, healthCheckIntervalMs: 0 });
    await s.initialize();
    allHealthy(await s.checkHealth());
    await s.shutdown({ timeoutMs: 1_000 });
    const health = s.getHealthStatus();
    expect(health.status).toBe('degraded');
    expect(health.checks.scheduler.reason).toMatch(/shutting down or was shut down/);
    expect(health.checks.webhookWorker.reason).toMatch(/shutting down or was shut down/);
  });
});
