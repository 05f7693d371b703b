/**
 * Every resource of the registry synced by several processes at once (fixtures/host.ts: three real
 * host processes on one PostgreSQL, one Redis and one simulated Shopify throttled as a standard plan).
 * For each resource, in registry order:
 *
 * 1. The three hosts ask for the same tenant's sync at the same moment (`auto`, each waiting for the
 *    run lock); the first to hold it is killed with SIGKILL after a seeded random delay. The other two
 *    take the lock over once it expired, resume from the killed run's checkpoint (`auto` resumes it)
 *    and then run the incremental. Right after the kill, the other tenant's sync of the same resource
 *    runs at once (wait 0): a tenant's lock never blocks another tenant.
 * 2. The shop changes (registry-changes.ts), and the three ask for a full sync at the same moment
 *    without waiting: each either runs or is refused with IMPORT_ALREADY_RUNNING.
 * After each: runs of the resource never overlap (the runs table, and the simulator's bulk operations:
 * none started while another of the same query ran, but the killed process's), the run killed is
 * closed by the run that followed it, and every table of the resource holds what a clean full sync of
 * the same shop writes (a second database, synced in this process): nothing lost, nothing twice.
 *
 * Then the other tenant's shop changes every resource with webhook topics, its deliveries go to the
 * three hosts (each delivery twice, and once more to another host): each is applied once, by one of
 * several workers. At the end no request of any process was throttled (GraphQL and REST budgets shared
 * through Redis). One seed per run, printed; replay it with CLUSTER_REGISTRY_SEED=<n> (the kill
 * delays; where they land still depends on timing). CLUSTER_REGISTRY_ONLY=<resource,...> runs some
 * resources only; CLUSTER_REGISTRY_DEBUG=1 prints the hosts' recent events every 10 s.
 *
 * Found by this test: the Redis-shared GraphQL budget reserved a process's own cost estimate, a
 * 50-point default for a query it had never sent, so ~1,000-point page queries went into a bucket
 * other processes had drained and were THROTTLED (22 in the first run; see cluster-graphql-limiter.ts).
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createShopifyClient } from '../../src/client/index.js';
import { createKeyRing } from '../../src/crypto/index.js';
import { silentLogger } from '../../src/logger.js';
import { createImportService } from '../../src/importer/index.js';
import { tablesOf, type ResourceDefinition } from '../../src/resources/definition.js';
import { getResource, RESOURCES, RESOURCE_TOPICS, topicAction } from '../../src/resources/index.js';
import { createStore } from '../../src/store/index.js';
import type { ResourceType } from '../../src/store/rows.js';
import type { JsonObject } from '../../src/testing/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seededRandom } from '../importer/harness.js';
import { createRegistryChanges } from '../importer/registry-changes.js';
import { registryImage } from '../importer/registry-image.js';
import { appliesByWebhook, createWorld, rateFigures, startHost, until, type Host, type HostEvent, type World } from './fixtures/cluster.js';

const SEED = process.env.CLUSTER_REGISTRY_SEED ? Number(process.env.CLUSTER_REGISTRY_SEED) : Date.now() % 100_000;
/** Run lock TTL of the hosts: a killed holder blocks the resource at most this long. */
const RUN_LOCK_TTL_MS = 1500;
/** The kill lands this long (seeded, uniform) after the holder's run started. */
const KILL_WINDOW_MS = 2000;
const HOST_ENV = { SCHEDULER: '0', RUN_LOCK_TTL_MS: String(RUN_LOCK_TTL_MS), INBOX_POLL_MS: '200', INBOX_LOCK_TIMEOUT_MS: '10000', BULK_POLL_MS: '50' };
/**
 * Enough records for the registry's changes (registry-changes.ts): `change` picks orders up to index
 * ~30 (tenant-0's shop), `touch` up to ~55 (tenant-1's, the webhooks').
 */
const SHOP = { customers: 30, products: 16, orders: 56 };
const TENANT0_ORDERS = 36;

let world: World;
let ref: TestDatabase;
/** Hosts alive now (three), and every host started (for their events). */
let live: Host[] = [];
const started: Host[] = [];
let refClient: ReturnType<typeof createShopifyClient>;
/** What the reference syncs' client warned of (throttling). */
const refWarnings: HostEvent[] = [];
const keyRing = () => createKeyRing({ key: world.encryptionKey });

beforeAll(async () => {
  console.log(`registry-cluster: seed ${SEED} (replay with CLUSTER_REGISTRY_SEED=${SEED})`);
  world = await createWorld({ tenants: 2, shop: SHOP, bigOrders: TENANT0_ORDERS, bulkRowsPerSecond: 100, prefix: 'si_cluster_registry', webhooks: { duplicateRate: 1 },
    // A standard plan's bucket (two 1,000-point queries fill it, so processes must share it), restoring
    // at Plus's 1,000/s so a registry's worth of syncs takes a few minutes, not ten.
    graphql: { maximumAvailable: 2000, restoreRate: 1000 },
  });
  // The reference: clean full syncs of tenant-0's shop, in a database of its own, by this process
  // (through the same Redis budget as the hosts, so it cannot make them throttled).
  ref = await createTestDatabase({ prefix: 'si_cluster_ref' });
  const shop = world.sim.shops[0]!;
  await createStore(ref.database).upsertTenant({ id: world.tenants[0]!.id, shopDomain: shop.domain, accessTokenEnc: 'not-used-here' });
  refClient = createShopifyClient({
    shopDomain: shop.domain, accessToken: shop.accessToken, baseUrl: shop.baseUrl,
    redis: { clientOptions: { host: '127.0.0.1', port: 6379 }, prefix: world.redisPrefix },
    logger: { ...silentLogger, warn: (message, meta) => void refWarnings.push({ ev: 'warn', instance: 'test', t: Date.now(), message, ...meta }) },
  });
  live = await Promise.all(['a', 'b', 'c'].map((id) => startHost(world, id, HOST_ENV)));
  started.push(...live);
}, 180_000);
afterAll(async () => {
  await Promise.all(started.map((h) => h.kill()));
  await refClient?.close();
  await ref?.drop();
  await world?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends `import` to a host; resolves with its outcome (`import-end` or `import-failed`), or null when the host died first. */
function importOn(host: Host, tenantId: string, resource: string, mode: string, waitMs: number): Promise<HostEvent | null> {
  const before = new Set(host.events);
  host.send(`import ${tenantId} ${resource} ${mode} ${waitMs}`);
  return host.waitFor((e) => !before.has(e) && (e.ev === 'import-end' || e.ev === 'import-failed') && e.tenantId === tenantId && e.resource === resource, `${resource} import of ${tenantId}`, 120_000)
    .catch((error: unknown) => { if (host.exited) return null; throw error; });
}

type Operation = { id: string; query: string; status: string; createdAt: string; completedAt: string | null };
/** The bulk operations of tenant-0's shop (this app's), by id. */
async function operations(): Promise<Map<string, Operation>> {
  const data = await refClient.graphql<{ bulkOperations: { nodes: Operation[] } }>('{ bulkOperations(first: 250) { nodes { id query status createdAt completedAt } } }');
  return new Map(data.bulkOperations.nodes.map((n) => [n.id, n]));
}
/** Pairs of operations of one query that ran at the same time (Shopify's times are whole seconds: a strict overlap). */
function overlaps(ops: Operation[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const a of ops) {
    for (const b of ops) {
      if (a.id >= b.id || a.query !== b.query) continue;
      const [first, second] = Date.parse(a.createdAt) <= Date.parse(b.createdAt) ? [a, b] : [b, a];
      if (first.completedAt === null || Date.parse(second.createdAt) < Date.parse(first.completedAt)) out.push([first.id, second.id]);
    }
  }
  return out;
}

interface RunRow { id: string; status: string; error: string | null; started_at: Date; finished_at: Date | null; resumed_from: string | null }
async function runsOf(tenantId: string, resource: string): Promise<RunRow[]> {
  return world.db.query<RunRow>(`SELECT id, status, error, started_at, finished_at, options->>'resumedFrom' AS resumed_from FROM shopify_sync_runs
    WHERE tenant_id = $1 AND resource = $2 ORDER BY started_at, id`, [tenantId, resource]);
}
/** Runs (of one tenant and resource) that were running at the same time. */
function overlappingRuns(runs: RunRow[]): string[] {
  const out: string[] = [];
  for (let k = 1; k < runs.length; k++) {
    const previous = runs[k - 1]!;
    if (previous.finished_at === null || previous.finished_at > runs[k]!.started_at) out.push(`${previous.id} (${previous.status}, until ${previous.finished_at?.toISOString() ?? 'never'}) and ${runs[k]!.id} (from ${runs[k]!.started_at.toISOString()})`);
  }
  return out;
}

/** A clean full sync of `resource` into the reference database, then both images; equal when nothing was lost or written twice. */
async function compareWithCleanSync(definition: ResourceDefinition): Promise<void> {
  const tenantId = world.tenants[0]!.id;
  const clean = await createImportService(ref.database, refClient, tenantId, { keyRing: keyRing(), bulk: { minPollMs: 50, maxPollMs: 250 } })
    .importResource(definition.name as ResourceType, { mode: 'full' });
  expect(clean.status).toBe('succeeded');
  const expected = await registryImage(ref, keyRing(), tenantId, definition);
  const actual = await registryImage(world.db, keyRing(), tenantId, definition);
  for (const { table } of tablesOf(definition)) {
    const want = expected[table] ?? {};
    const got = actual[table] ?? {};
    const missing = Object.keys(want).filter((k) => !(k in got));
    const extra = Object.keys(got).filter((k) => !(k in want));
    const differing = Object.keys(want).filter((k) => k in got && JSON.stringify(got[k], big) !== JSON.stringify(want[k], big));
    expect({ table, missing: missing.slice(0, 5), extra: extra.slice(0, 5), differing: differing.slice(0, 3).map((k) => ({ key: k, want: JSON.stringify(want[k], big).slice(0, 400), got: JSON.stringify(got[k], big).slice(0, 400) })) })
      .toEqual({ table, missing: [], extra: [], differing: [] });
  }
  expect(Object.values(expected).reduce((n, rows) => n + Object.keys(rows).length, 0), 'the shop has records of this resource').toBeGreaterThan(0);
}
const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

const CHANGES = createRegistryChanges();
/** Kills of the run holder that landed while its run was going (the rest landed after it ended). */
const killedMidRun: string[] = [];

const ONLY = process.env.CLUSTER_REGISTRY_ONLY?.split(',');
describe(`every resource synced by three processes at once, the lock holder killed (seed ${SEED}; replay with CLUSTER_REGISTRY_SEED=${SEED})`, () => {
  it.each(RESOURCES.map((r, i) => [r.name, i] as const).filter(([n]) => !ONLY || ONLY.includes(n)))('%s', async (name, index) => {
    const t = Date.now();
    if (process.env.CLUSTER_REGISTRY_DEBUG) {
      const dump = setInterval(() => console.log(`[${name} +${Date.now() - t} ms]`, JSON.stringify(started.flatMap((h) => h.events.filter((e) => e.t >= t && e.ev !== 'applied')).slice(-12))), 10_000);
      dump.unref();
      onTestFinished(() => clearInterval(dump));
    }
    const definition = getResource(name);
    const random = seededRandom(SEED * 100 + index);
    const [t0, t1] = world.tenants as [World['tenants'][0], World['tenants'][0]];
    const killAfterMs = Math.floor(random() * KILL_WINDOW_MS);

    // 1. Three processes at once, waiting for the lock; the holder is killed.
    const opsBefore = await operations();
    const hosts = [...live];
    const asked = hosts.map((h) => importOn(h, t0.id, name, 'auto', 60_000));
    const first = await Promise.any(hosts.map((h) => {
      const before = new Set(h.events);
      return h.waitFor((e) => !before.has(e) && e.ev === 'sync-start' && e.tenantId === t0.id && e.resource === name, `${name} sync-start`, 60_000);
    }));
    const holder = hosts.find((h) => h.id === first.instance)!;
    await sleep(killAfterMs);
    const killedRunId = String(first.runId);
    const [checkpoint] = await world.db.query<{ run_id: string | null; cursor: string | null }>('SELECT run_id, cursor FROM shopify_sync_checkpoints WHERE tenant_id = $1 AND resource = $2', [t0.id, name]);
    await holder.kill();
    // Whether the run was still going is what its row says now that its process is gone (the
    // host's `sync-end` line may be lost with the process after the run was recorded as ended),
    // read again a moment later: a commit the server had received before the kill may land after.
    const statusOfKilledRun = async () => (await world.db.query<{ status: string }>('SELECT status FROM shopify_sync_runs WHERE id = $1', [killedRunId]))[0]?.status;
    const midRun = await statusOfKilledRun() === 'running' && (await sleep(250), await statusOfKilledRun()) === 'running';
    // A kill between the checkpoint read above and the kill may move the cursor on: read again (the holder is gone).
    const [left] = await world.db.query<{ run_id: string | null; cursor: string | null }>('SELECT run_id, cursor FROM shopify_sync_checkpoints WHERE tenant_id = $1 AND resource = $2', [t0.id, name]);
    const cursorLeft = midRun && left?.run_id === killedRunId && left.cursor !== null;
    console.log(`registry-cluster ${name}: holder ${holder.id} killed ${killAfterMs} ms after its run ${killedRunId} started (${midRun ? 'mid-run' : 'after it ended'}${cursorLeft ? ', a cursor left' : ''}; checkpoint before the kill: ${checkpoint?.cursor ? 'cursor' : 'none'})`);
    if (midRun) killedMidRun.push(name);
    const opsAtKill = await operations();
    live = live.filter((h) => h !== holder);
    const replacement = startHost(world, `${holder.id}${index}`, HOST_ENV);
    // Whatever this case's outcome, the next one has three hosts and afterAll stops this one.
    let joined = false;
    onTestFinished(async () => {
      if (joined) return;
      const host = await replacement;
      live.push(host);
      started.push(host);
    });

    // The other tenant's sync of the same resource runs now, whoever holds tenant-0's lock.
    const lockHeld = await world.db.query('SELECT run_id FROM shopify_run_locks WHERE tenant_id = $1 AND resource = $2 AND expires_at > now()', [t0.id, name]);
    const otherTenant = await importOn(live[0]!, t1.id, name, 'auto', 0);
    expect(otherTenant, `tenant-1's ${name} sync while tenant-0's lock is ${lockHeld.length ? 'held' : 'free'}`).toMatchObject({ ev: 'import-end', status: 'succeeded' });

    const outcomes = await Promise.all(asked);
    const survivors = hosts.filter((h) => h !== holder).map((h) => outcomes[hosts.indexOf(h)]);
    expect(survivors.map((o) => o && { ev: o.ev, status: o.status, code: o.code, message: o.message })).toEqual(survivors.map(() => ({ ev: 'import-end', status: 'succeeded', code: undefined, message: undefined })));

    // One run at a time: the runs table, and the simulator's operations.
    const runs = await runsOf(t0.id, name);
    expect(overlappingRuns(runs)).toEqual([]);
    expect(runs.filter((r) => r.status !== 'succeeded').map((r) => ({ id: r.id, status: r.status, error: r.error })))
      .toEqual(midRun ? [{ id: killedRunId, status: 'cancelled', error: expect.stringMatching(/^interrupted; (resumed|followed) by run \S+$/) }] : []);
    expect(runs).toHaveLength(3);
    if (cursorLeft) {
      const next = runs[runs.findIndex((r) => r.id === killedRunId) + 1]!;
      expect(next.resumed_from, 'the run after the killed one resumed its checkpoint').toBe(killedRunId);
    }
    const opsAfter = await operations();
    const roundOps = [...opsAfter.values()].filter((op) => !opsBefore.has(op.id));
    // The killed process's operation may still run when the next run starts another.
    const sameTime = overlaps(roundOps).filter(([a, b]) => opsAtKill.has(a) === opsAtKill.has(b));
    expect(sameTime).toEqual([]);
    await compareWithCleanSync(definition);

    // 2. The shop changes; three full syncs asked at once, none waiting: each runs, or is refused.
    CHANGES[name]!.change(world.sim.shops[0]!);
    live.push(await replacement);
    started.push(live.at(-1)!);
    joined = true;
    const opsBefore2 = await operations();
    const refused = await Promise.all(live.map((h) => importOn(h, t0.id, name, 'full', 0)));
    const summary = refused.map((o) => (o?.ev === 'import-end' ? String(o.status) : String(o?.code)));
    expect(summary.filter((s) => s !== 'succeeded' && s !== 'IMPORT_ALREADY_RUNNING'), JSON.stringify(refused)).toEqual([]);
    expect(summary).toContain('succeeded');
    expect(overlappingRuns(await runsOf(t0.id, name))).toEqual([]);
    const ops2 = [...(await operations()).values()].filter((op) => !opsBefore2.has(op.id));
    expect(overlaps(ops2)).toEqual([]);
    await compareWithCleanSync(definition);
  }, 120_000);

  it('the kills landed mid-run for some resources', () => {
    console.log(`registry-cluster: killed mid-run for ${killedMidRun.length} of ${RESOURCES.length} resources: ${killedMidRun.join(', ')}`);
    expect(killedMidRun.length).toBeGreaterThan(0);
  });
});

describe('webhook deliveries of every resource\'s topics, several workers', () => {
  it('apply each delivery once, whichever process received it and however often', async () => {
    const shop = world.sim.shops[1]!;
    const tenant = world.tenants[1]!;
    // Each topic's deliveries go to one host (in turn); the simulator sends each twice.
    RESOURCE_TOPICS.forEach((topic, k) => shop.subscribe(topic, live[k % live.length]!.url));
    const changes = createRegistryChanges();
    const withTopics = RESOURCES.filter((r) => r.webhooks.upsert.length + r.webhooks.delete.length + r.webhooks.refetch.length > 0);
    for (const resource of withTopics) {
      changes[resource.name]!.change(shop);
      changes[resource.name]!.touch(shop, 0);
      // Records Shopify lists inside another's (refunds in orders) change through their carrier, whose
      // webhook is the carrier's: their own topics carry one of the carrier's items.
      const definition = resource as unknown as ResourceDefinition;
      if (!definition.ridesOn) continue;
      const field = definition.graphql.lists?.[0]?.field;
      const carrier = definition.ridesOn.resource as 'orders';
      for (let i = 0, sent = 0; i < shop.tables[carrier].size && sent < definition.webhooks.refetch.length; i++) {
        const record = shop.find(carrier, shop.idOf(carrier, i));
        const items = field ? (record?.[field] as JsonObject[] | undefined) ?? [] : [];
        if (!items.length) continue;
        world.sim.webhooks.deliver(shop, definition.webhooks.refetch[sent]!.topic, items.at(-1)!);
        sent++;
      }
    }
    await world.sim.webhooks.waitForDeliveries(60_000);
    const sent = world.sim.webhooks.deliveries.filter((d) => d.shop === shop.domain);
    expect(sent.filter((d) => !d.ok).map((d) => ({ topic: d.topic, status: d.status, error: d.error }))).toEqual([]);
    // Each delivery once more, to another host than Shopify sent it to.
    const firsts = [...new Map(sent.map((d) => [d.webhookId, d])).values()];
    const statuses = await Promise.all(firsts.map(async (d) => {
      const other = live[(live.findIndex((h) => h.url === d.address) + 1) % live.length]!;
      const response = await fetch(other.url, { method: 'POST', headers: d.headers, body: d.body });
      await response.arrayBuffer();
      return response.status;
    }));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    await until(async () => (await world.db.query("SELECT 1 FROM shopify_webhook_inbox WHERE tenant_id = $1 AND status IN ('pending', 'processing')", [tenant.id])).length === 0,
      'every delivery applied', 60_000);

    const inbox = await world.db.query<{ webhook_id: string; topic: string; status: string; attempts: number; duplicates: number; last_error: string | null }>(
      'SELECT webhook_id, topic, status, attempts, duplicates, last_error FROM shopify_webhook_inbox WHERE tenant_id = $1', [tenant.id]);
    expect(inbox.filter((r) => r.status !== 'processed' || r.attempts !== 1 || r.last_error !== null)).toEqual([]);
    expect(inbox.map((r) => r.webhook_id).sort()).toEqual(firsts.map((d) => d.webhookId).sort());
    expect(inbox.filter((r) => r.duplicates < 2)).toEqual([]);
    const applied = appliesByWebhook(started);
    expect(firsts.filter((d) => applied.get(d.webhookId)?.length !== 1).map((d) => [d.topic, applied.get(d.webhookId)])).toEqual([]);
    // Several workers applied them.
    const appliers = new Set(firsts.flatMap((d) => applied.get(d.webhookId) ?? []));
    expect(appliers.size).toBeGreaterThan(1);
    // Every resource with topics had deliveries of its own topics applied.
    const topics = new Set(inbox.map((r) => r.topic));
    expect(withTopics.filter((r) => ![...topics].some((t) => topicAction(t)?.resource.name === r.name)).map((r) => r.name)).toEqual([]);
  }, 120_000);

  it('no process was throttled: the budget is shared', () => {
    const rate = rateFigures(world.sim);
    expect(rate.requests).toBeGreaterThan((ONLY?.length ?? RESOURCES.length) * 10);
    // Each throttled answer with the run its process was in (the last it started).
    const throttles = [...started.flatMap((h) => h.events.filter((e) => e.ev === 'warn' && /throttled|429/.test(String(e.message)))
      .map((e) => ({ ...e, during: h.events.filter((x) => x.ev === 'sync-start' && x.t <= e.t).map((x) => `${String(x.tenantId)} ${String(x.resource)} ${String(x.mode)}`).at(-1) }))), ...refWarnings];
    expect({ graphqlThrottled: rate.graphqlThrottled, http429: rate.http429 }, JSON.stringify(throttles).slice(0, 3000)).toEqual({ graphqlThrottled: 0, http429: 0 });
  });
});
