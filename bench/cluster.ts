/**
 * Several processes (issue #20): 3 instances of a host app (tests/cluster/fixtures/host.ts: Express +
 * the facade, PostgreSQL, the Redis cluster limiter) share 100 simulated tenants (a throttled
 * simulator, standard plan, in this process). Prints:
 * - scheduled runs, and runs of one tick on more than one instance (duplicates);
 * - HTTP 429 and GraphQL THROTTLED answers at the simulator;
 * - time to take over after one instance is killed (SIGKILL) mid-work: its scheduler leases, its
 *   running sync (run lock) and its claimed webhook deliveries;
 * - webhook throughput with 1 and with 3 instances (acknowledged/s and applied/s).
 *
 * Knobs (env): BENCH_TENANTS (100), BENCH_SCHEDULE ('*\/15 * * * * *'), BENCH_STEADY_S (45),
 * BENCH_DELIVERIES (3000), BENCH_BIG_ORDERS (6000: tenant-0's first orders sync, a bulk operation of
 * 150 s at the simulator's 40 records/s, is the one running when its instance is killed), BENCH_LEASE_TTL_MS (10000), BENCH_INBOX_LOCK_MS (10000).
 */
import os from 'node:os';
import {
  appliesByWebhook, createWorld, customerUpdate, deliver, inboxCounts, rateFigures, runsPerTick, startHost, until,
  type Delivery, type Host,
} from '../tests/cluster/fixtures/cluster.js';

const env = process.env;
const TENANTS = Number(env.BENCH_TENANTS ?? 100);
const SCHEDULE = env.BENCH_SCHEDULE ?? '*/15 * * * * *';
const STEADY_S = Number(env.BENCH_STEADY_S ?? 45);
const DELIVERIES = Number(env.BENCH_DELIVERIES ?? 3000);
const LEASE_TTL_MS = Number(env.BENCH_LEASE_TTL_MS ?? 10_000);
const INBOX_LOCK_MS = Number(env.BENCH_INBOX_LOCK_MS ?? 10_000);
const BIG_ORDERS = Number(env.BENCH_BIG_ORDERS ?? 6000);
const RUN_LOCK_TTL_MS = 30_000; // the importer's default; the facade keeps it

const started = Date.now();
const say = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const load = () => os.loadavg().map((n) => n.toFixed(1)).join(' ');

console.log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${load()}, ${new Date().toISOString()}`);
console.log(`${TENANTS} tenants, 3 instances, schedule ${SCHEDULE} (customers, products, orders), scheduler lease ${LEASE_TTL_MS} ms, run lock ${RUN_LOCK_TTL_MS} ms, inbox claim ${INBOX_LOCK_MS} ms`);

const world = await createWorld({ tenants: TENANTS, shop: { customers: 10, products: 5, orders: 10 }, bigOrders: BIG_ORDERS, bulkRowsPerSecond: 40, prefix: 'si_bench_cluster' });
const hosts: Host[] = [];
try {
  say('tenants added');
  const hostEnv = { SCHEDULE, LEASE_TTL_MS: String(LEASE_TTL_MS), INBOX_LOCK_TIMEOUT_MS: String(INBOX_LOCK_MS), INBOX_POLL_MS: '3000' };
  hosts.push(...await Promise.all(['a', 'b', 'c'].map((id) => startHost(world, id, hostEnv))));
  say(`3 instances ready; load average ${load()}`);

  // Every tenant's first (full) syncs, then a steady window.
  const firstRuns = TENANTS * 3 - 1; // tenant-0's orders sync is the long one, killed below
  await until(() => hosts.flatMap((h) => h.events).filter((e) => e.ev === 'sync-end').length >= firstRuns, 'the first syncs', 600_000);
  say(`first syncs done; load average ${load()}`);
  const steadyFrom = rateFigures(world.sim);
  await new Promise((r) => setTimeout(r, STEADY_S * 1000));
  const steadyTo = rateFigures(world.sim);
  say(`steady window of ${STEADY_S} s: ${steadyTo.requests - steadyFrom.requests} requests, ${steadyTo.graphqlThrottled - steadyFrom.graphqlThrottled} THROTTLED, ${steadyTo.http429 - steadyFrom.http429} × 429; load average ${load()}`);

  // Kill the instance running tenant-0's long sync, once it has claimed deliveries it never finishes.
  const first = world.tenants[0]!;
  const bigStart = hosts.flatMap((h) => h.events).find((e) => e.ev === 'sync-start' && e.tenantId === first.id && e.resource === 'orders')!;
  const bigRunId = String(bigStart.runId);
  const victim = hosts.find((h) => h.id === bigStart.instance)!;
  const survivors = hosts.filter((h) => h !== victim);
  await until(async () => (await world.db.query("SELECT 1 FROM shopify_sync_checkpoints WHERE tenant_id = $1 AND resource = 'orders' AND run_id = $2 AND cursor IS NOT NULL", [first.id, bigRunId])).length === 1, 'the bulk operation in the checkpoint', 60_000);
  const [running] = await world.db.query<{ status: string }>('SELECT status FROM shopify_sync_runs WHERE id = $1', [bigRunId]);
  victim.send('hang');
  await victim.waitFor((e) => e.ev === 'hanging', 'hang');
  const stuck: Delivery[] = [];
  const claimedByVictim = async () => (await world.db.query("SELECT 1 FROM shopify_webhook_inbox WHERE status = 'processing' AND locked_by = $1", [victim.id])).length > 0;
  for (let round = 0; round < 5 && !(await claimedByVictim()); round++) {
    const batch = Array.from({ length: 5 }, (_, n) => customerUpdate(world.tenants[(n + 1) % TENANTS]!.domain, 50_000 + stuck.length + n));
    stuck.push(...batch);
    await deliver(world, batch.map((delivery) => ({ delivery, url: victim.url })));
    await until(claimedByVictim, 'claimed by the victim', 3000).catch(() => {});
  }
  const killedAt = Date.now();
  await victim.kill();
  const claimed = await world.db.query<{ id: string }>("SELECT id FROM shopify_webhook_inbox WHERE status = 'processing' AND locked_by = $1", [victim.id]);
  const leases = await world.db.query<{ job_id: string }>('SELECT job_id FROM shopify_scheduler_leases WHERE holder = $1 AND expires_at > $2', [victim.id, new Date(killedAt)]);
  say(`killed instance ${victim.id} (tenant-0's orders sync ${running?.status ?? '?'}, ${leases.length} live scheduler leases, ${claimed.length} claimed deliveries)`);
  await until(async () => (await world.db.query("SELECT 1 FROM shopify_webhook_inbox WHERE status <> 'processed'")).length === 0, 'the claimed deliveries', 120_000);
  const successor = async () => (await world.db.query<{ id: string; started_at: Date; resumed: string | null }>(
    "SELECT id, started_at, options->>'resumedFrom' AS resumed FROM shopify_sync_runs WHERE tenant_id = $1 AND resource = 'orders' AND started_at > $2 AND status = 'succeeded' ORDER BY started_at LIMIT 1",
    [first.id, new Date(killedAt)]))[0];
  await until(async () => Boolean(await successor()), 'the successor of the killed sync', 180_000);
  const next = (await successor())!;
  const leaseTakeovers: number[] = [];
  for (const { job_id: jobId } of leases) {
    const [row] = await world.db.query<{ at: Date | null }>('SELECT min(acquired_at) AS at FROM shopify_scheduler_leases WHERE job_id = $1 AND holder <> $2 AND acquired_at > $3', [jobId, victim.id, new Date(killedAt)]);
    if (row?.at) leaseTakeovers.push(row.at.getTime() - killedAt);
  }
  const [{ last }] = await world.db.query<{ last: Date | null }>('SELECT max(processed_at) AS last FROM shopify_webhook_inbox WHERE id = ANY($1::text[])', [claimed.map((c) => c.id)]);
  const takeover = {
    leases: leaseTakeovers.length ? `${(Math.min(...leaseTakeovers) / 1000).toFixed(1)}–${(Math.max(...leaseTakeovers) / 1000).toFixed(1)} s (${leaseTakeovers.length} jobs; TTL ${LEASE_TTL_MS / 1000} s, ticks every 15 s)` : 'none',
    run: `${((next.started_at.getTime() - killedAt) / 1000).toFixed(1)} s (run lock TTL ${RUN_LOCK_TTL_MS / 1000} s), ${next.resumed === bigRunId ? 'resumed its bulk operation' : 'started afresh'}`,
    inbox: last ? `${((last.getTime() - killedAt) / 1000).toFixed(1)} s (claim timeout ${INBOX_LOCK_MS / 1000} s, poll 3 s)` : 'none claimed',
  };
  say(`taken over: leases ${takeover.leases}; sync ${takeover.run}; deliveries ${takeover.inbox}`);

  // A last tick with the survivors, then the cluster's books.
  const settled = Date.now();
  await Promise.all(survivors.map((h) => h.waitFor((e) => e.ev === 'sync-end' && e.t > settled + 15_000, 'a later tick', 120_000)));
  await Promise.all(survivors.map((h) => h.stop()));
  const perTick = runsPerTick(hosts);
  const duplicates = [...perTick.values()].filter((on) => on.length > 1).length;
  const rate = rateFigures(world.sim);
  const applied = appliesByWebhook(hosts);
  const [{ orders }] = await world.db.query<{ orders: number }>('SELECT count(*)::int AS orders FROM shopify_orders WHERE tenant_id = $1', [first.id]);
  const runs = await world.db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM shopify_sync_runs GROUP BY status');
  say(`scheduled runs ${[...perTick.values()].reduce((n, on) => n + on.length, 0)} over ${perTick.size} (job, tick) pairs; duplicates ${duplicates}; sync runs ${runs.map((r) => `${r.status} ${r.n}`).join(', ')}`);
  say(`simulator: ${rate.requests} requests, ${rate.graphqlThrottled} THROTTLED, ${rate.http429} × 429; tenant-0 orders stored ${orders} of ${BIG_ORDERS}; deliveries applied twice ${[...applied.values()].filter((on) => on.length > 1).length}, not applied ${stuck.filter((d) => !applied.has(d.webhookId)).length}`);

  // Webhook throughput: the same burst at 1 instance, then at 3 (scheduler off, only webhooks).
  await world.db.query('TRUNCATE shopify_webhook_inbox');
  for (const count of [1, 3]) {
    const webHosts = await Promise.all(Array.from({ length: count }, (_, i) => startHost(world, `w${count}-${i}`, { SCHEDULER: '0', INBOX_POLL_MS: '1000' })));
    hosts.push(...webHosts);
    const burst = Array.from({ length: DELIVERIES }, (_, n) => customerUpdate(world.tenants[n % TENANTS]!.domain, 100_000 * count + n));
    const before = await inboxCounts(world);
    const t0 = Date.now();
    const statuses = await deliver(world, burst.map((delivery, n) => ({ delivery, url: webHosts[n % count]!.url })), 32);
    const ackedMs = Date.now() - t0;
    const target = (before.processed ?? 0) + DELIVERIES;
    await until(async () => ((await inboxCounts(world)).processed ?? 0) >= target, 'the burst applied', 300_000);
    const appliedMs = Date.now() - t0;
    const ok = statuses.filter((s) => s === 200).length;
    const twice = [...appliesByWebhook(webHosts).values()].filter((on) => on.length > 1).length;
    say(`webhooks, ${count} instance${count > 1 ? 's' : ''}: ${DELIVERIES} deliveries, ${ok} acknowledged in ${(ackedMs / 1000).toFixed(1)} s = ${Math.round(ok / (ackedMs / 1000))}/s; all applied after ${(appliedMs / 1000).toFixed(1)} s = ${Math.round(DELIVERIES / (appliedMs / 1000))}/s, ${twice} applied twice; load average ${load()}`);
    await Promise.all(webHosts.map((h) => h.stop()));
  }
} finally {
  await Promise.all(hosts.map((h) => h.kill()));
  await world.stop();
}
process.exit(0);
