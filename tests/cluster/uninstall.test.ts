/**
 * app/uninstalled received by one instance while another runs the tenant's sync (issue #20): two
 * real host processes (fixtures/host.ts) on one PostgreSQL, one Redis and one simulated Shopify.
 * Instance A runs tenant-0's full orders sync (a bulk operation the simulator prepares slowly, so A
 * is polling it); the uninstall is delivered to instance B. A learns of it at its next run-lock
 * renewal (a third of `runLockTtlMs`, set short through the facade here; A applies no deliveries): its sync stops with
 * IMPORT_LOCK_LOST, A sends no further request for that shop, the data already written is kept,
 * and the other tenant is untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhookBody } from '../../src/testing/index.js';
import { createWorld, startHost, until, type Host, type World } from './fixtures/cluster.js';

const RUN_LOCK_TTL_MS = 1500; // renewed every 500 ms

let world: World;
const hosts: Host[] = [];
beforeAll(async () => {
  // 2,000 orders prepared at 100 a second: tenant-0's bulk operation runs ~20 s.
  world = await createWorld({ tenants: 2, shop: { customers: 5, products: 3, orders: 5 }, bigOrders: 2000, bulkRowsPerSecond: 100, prefix: 'si_uninstall' });
}, 120_000);
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.kill()));
  await world?.stop();
});

describe('app/uninstalled delivered to another instance', () => {
  it('stops the running sync at its next lock renewal, with no further request for the shop', async () => {
    const env = { SCHEDULER: '0', RUN_LOCK_TTL_MS: String(RUN_LOCK_TTL_MS), INBOX_POLL_MS: '200' };
    // Only B applies deliveries (A would abort its own run at once, the in-process path: tests/service/lifecycle.test.ts).
    const [a, b] = await Promise.all([startHost(world, 'a', { ...env, INBOX_WORKER: '0' }), startHost(world, 'b', env)]);
    hosts.push(a, b);
    const [tenant, other] = world.tenants;

    a.send(`import ${tenant!.id} orders`);
    await a.waitFor((e) => e.ev === 'sync-start' && e.tenantId === tenant!.id, 'sync-start', 30_000);
    // Let A start its bulk operation and poll it for a while.
    await until(() => world.sim.stats(tenant!.domain).graphqlRequests >= 3, 'A polling its bulk operation', 30_000);

    const body = JSON.stringify({ id: 1, name: 'Shop', domain: tenant!.domain, myshopify_domain: tenant!.domain });
    const response = await fetch(b.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', 'x-shopify-topic': 'app/uninstalled', 'x-shopify-shop-domain': tenant!.domain,
        'x-shopify-webhook-id': 'uninstall-cross-process', 'x-shopify-api-version': '2026-10', 'x-shopify-triggered-at': new Date().toISOString(),
        'x-shopify-hmac-sha256': signWebhookBody(body, world.secret),
      },
      body,
    });
    expect(response.status).toBe(200);
    await until(async () => (await world.db.query<{ is_active: boolean }>('SELECT is_active FROM shopify_tenants WHERE id = $1', [tenant!.id]))[0]?.is_active === false, 'tenant deactivated by B', 15_000);
    const deactivatedAt = Date.now();

    const failed = await a.waitFor((e) => e.ev === 'import-failed' && e.tenantId === tenant!.id, 'import-failed', 15_000);
    expect(failed.code, JSON.stringify(a.events.filter((e) => e.ev !== 'ready').slice(-8))).toBe('IMPORT_LOCK_LOST');
    // At the next renewal (every 500 ms) plus the time to unwind; far less than the ~20 s the operation still had to run.
    expect(failed.t - deactivatedAt).toBeLessThan(5000);
    expect(a.events.some((e) => e.ev === 'import-end' && e.tenantId === tenant!.id)).toBe(false);
    // B applied the delivery, A did not: A learnt of it through the database alone.
    expect(b.events.filter((e) => e.ev === 'applied').map((e) => e.topic)).toEqual(['app/uninstalled']);
    expect(a.events.filter((e) => e.ev === 'applied')).toEqual([]);

    // Nothing more is asked of Shopify for that shop once A stopped.
    const requestsAtStop = world.sim.stats(tenant!.domain).requests;
    await new Promise((r) => setTimeout(r, 2 * RUN_LOCK_TTL_MS));
    expect(world.sim.stats(tenant!.domain).requests).toBe(requestsAtStop);

    // The run is recorded as stopped, its lock released, the data kept (none was written yet, or what was stays).
    const runs = await world.db.query<{ status: string; error: string | null }>(`SELECT status, error FROM shopify_sync_runs WHERE tenant_id = $1 AND resource = 'orders' ORDER BY started_at DESC LIMIT 1`, [tenant!.id]);
    expect(runs[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/tenant was deactivated/) });
    expect(await world.db.query('SELECT 1 FROM shopify_run_locks WHERE tenant_id = $1', [tenant!.id])).toEqual([]);

    // The other tenant still syncs, through either instance.
    b.send(`import ${other!.id} orders`);
    const done = await b.waitFor((e) => (e.ev === 'import-end' || e.ev === 'import-failed') && e.tenantId === other!.id, 'other tenant import', 60_000);
    expect(done).toMatchObject({ ev: 'import-end', status: 'succeeded' });
  }, 180_000);
});
