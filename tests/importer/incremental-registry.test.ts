/**
 * Every resource's incremental sync, held to what a user expects of it (docs/importing.md,
 * "Incremental syncs"): after records change at Shopify (updated, created, deleted; for resources
 * that ride on orders or live in child tables, through the order or the parent), an incremental run
 * stores the same rows as a fresh full sync of the changed shop; the same run stopped after its
 * first committed page and run again resumes and ends with the same rows; and the watermark never
 * passes the run's start minus `safetyMarginMs`, so a record Shopify stamped inside that margin, or
 * right after a run started, is listed by the next run even without an overlap.
 *
 * Deletions Shopify's events do not record (customers, locations, inventory items, discounts,
 * abandoned checkouts) are found by id reconciliation on full syncs only, by design (webhooks carry
 * them in between; docs/importing.md, "Deletions webhooks missed"): for those the incremental run
 * is expected to leave the deleted record live, and only its rows may differ from the full sync's.
 * The simulator has no way to create a collection: collections are updated and deleted here only.
 *
 * Found by this test: a deleted order's refunds, transactions and fulfillments stayed live through
 * their own runs, full or incremental (only the orders run's destroy-event probe tombstoned them),
 * so a tenant syncing them without orders, or between two orders runs, kept them. Their runs now
 * read the orders' destroy events (run.ts, `findDeletions`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportError, ImportResult } from '../../src/importer/index.js';
import { RESOURCES } from '../../src/resources/index.js';
import { tablesOf, type ResourceDefinition } from '../../src/resources/definition.js';
import { createStore } from '../../src/store/index.js';
import { connectTenant, createHarness, importer, type Harness } from './harness.js';
import { createRegistryChanges, type Changed } from './registry-changes.js';
import { registryImage } from './registry-image.js';

let h: Harness;
/** Both clocks (the importer's and the simulated Shopify's) run this far ahead of the wall clock: moved for time to pass. */
let clockOffsetMs = 0;
/** The simulated Shopify's clock runs this far from the importer's: moved to stamp a change at a chosen time. */
let stampOffsetMs = 0;
const importerClock = () => new Date(Date.now() + clockOffsetMs);
const BULK = { minPollMs: 10, maxPollMs: 50, minWindowMs: 60_000, regroupLines: 10 };
/** The default `safetyMarginMs` (docs/importing.md). */
const MARGIN_MS = 60_000;
beforeAll(async () => {
  h = await createHarness({
    timeScale: 50, bulk: { startDelayMs: 50, rowsPerSecond: 50_000 }, shops: [{ customers: 30, products: 16, orders: 80 }],
    clock: () => Date.now() + clockOffsetMs + stampOffsetMs,
  });
});
afterAll(async () => { await h?.close(); });

type Client = Awaited<ReturnType<typeof connectTenant>>['client'];

/**
 * More tenants reading the same shop (their rows are compared): a shop domain belongs to one tenant,
 * so these are registered under a domain of their own; the importer talks to the client's shop.
 */
async function addTenant(tenant: string): Promise<void> {
  await createStore(h.db.database).upsertTenant({ id: tenant, shopDomain: `${tenant.toLowerCase()}.myshopify.com`, accessTokenEnc: 'not-used-here' });
}

const CHANGES = createRegistryChanges(() => Date.now() + clockOffsetMs + stampOffsetMs);

const definitionOf = (name: string) => RESOURCES.find((r) => r.name === name) as unknown as ResourceDefinition;
/** Deletions only a full sync's id reconciliation finds (no destroy events): an incremental run leaves the record live. */
const reconcileOnly = (d: ResourceDefinition) => d.deletions.eventSubjectType === null && d.deletions.reconcileIds;

const image = (tenant: string, definition: ResourceDefinition) => registryImage(h.db, h.keyRing, tenant, definition);
type Image = Awaited<ReturnType<typeof image>>;

/** Empties a tenant's tables and checkpoint of a resource and runs a full sync: what a fresh full sync of the shop stores. */
async function freshFull(client: Client, tenant: string, name: string): Promise<Image> {
  const definition = definitionOf(name);
  for (const { table } of [...tablesOf(definition)].reverse()) await h.db.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenant]);
  await h.db.query(`DELETE FROM shopify_sync_checkpoints WHERE tenant_id = $1 AND resource = $2`, [tenant, name]);
  const full = await importer(h, client, tenant, { bulk: BULK, clock: importerClock }).importResource(name as never, { mode: 'full' });
  expect(full, JSON.stringify(full.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'full' });
  return image(tenant, definition);
}

/**
 * The incremental image equals the full sync's, but for rows of records whose deletion only a full
 * sync can find (`reconcileOnly`): those are still live after the incremental run, as documented.
 */
function expectSameRows(actual: Image, expected: Image, definition: ResourceDefinition, changed: Changed, label: string): void {
  if (!reconcileOnly(definition) || changed.deleted.length === 0) { expect(actual, label).toEqual(expected); return; }
  const references = (row: Record<string, unknown>) => changed.deleted.some((id) => Object.values(row).map(String).includes(id));
  const rootTable = tablesOf(definition)[0].table;
  for (const id of changed.deleted) expect(Object.values(actual[rootTable]).some((row) => String(row.id) === id), `${label}: ${id} deleted at Shopify stays live until a full sync`).toBe(true);
  const kept: Image = {};
  for (const [table, rows] of Object.entries(actual)) {
    kept[table] = Object.fromEntries(Object.entries(rows).filter(([key, row]) => key in expected[table] || !references(row)));
  }
  expect(kept, label).toEqual(expected);
}

async function watermarkOf(tenant: string, name: string): Promise<Date | null> {
  const [row] = await h.db.query<{ watermark: Date | null }>(`SELECT watermark FROM shopify_sync_checkpoints WHERE tenant_id = $1 AND resource = $2`, [tenant, name]);
  return row?.watermark ?? null;
}
/** docs/importing.md, `safetyMarginMs`: the watermark stays at least that far behind the run's start. */
async function expectWatermarkBehind(tenant: string, name: string, run: ImportResult): Promise<void> {
  const watermark = await watermarkOf(tenant, name);
  expect(watermark, `${name} watermark after a ${run.mode} run`).not.toBeNull();
  expect(watermark!.getTime(), `${name} watermark after a ${run.mode} run started at ${run.startedAt.toISOString()}`).toBeLessThanOrEqual(run.startedAt.getTime() - MARGIN_MS);
}

/** Runs `fn` with the simulated Shopify's clock at `at`: what it changes is stamped then. */
function stampedAt(at: number, fn: () => void): void {
  stampOffsetMs = at - importerClock().getTime();
  try { fn(); } finally { stampOffsetMs = 0; }
}

const PAGE_SIZE = 2;
const NAMES = RESOURCES.map((r) => r.name);

describe('incremental syncs, for every resource', { timeout: 240_000 }, () => {
  it('every resource has a change here', () => {
    expect(Object.keys(CHANGES).sort()).toEqual([...NAMES].sort());
  });

  it.each(NAMES)('%s: an incremental run (stopped and resumed, or not) stores what a full sync of the changed shop stores; the watermark stays behind the safety margin', async (name) => {
    const definition = definitionOf(name);
    const singleton = definition.graphql.singleton === true;
    // One tenant per role, for every resource: each resource has its own tables and checkpoint.
    const [plain, stopped, reference] = ['inc', 'stop', 'ref'];
    const { client, shop } = await connectTenant(h, plain, 0);
    for (const tenant of [stopped, reference]) await addTenant(tenant);
    const service = (tenant: string) => importer(h, client, tenant, { bulk: BULK, clock: importerClock });

    // Both tenants start from a full sync of the shop as it was.
    let listed = 0;
    for (const tenant of [plain, stopped]) {
      const full = await service(tenant).importResource(name, { mode: 'full' });
      expect(full, JSON.stringify(full.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'full' });
      await expectWatermarkBehind(tenant, name, full);
      listed = full.fetched;
    }
    const before = await image(plain, definition);
    expect(Object.keys(before[tablesOf(definition)[0].table]).length, 'the shop has records of this resource').toBeGreaterThan(singleton ? 0 : 2);

    // 1. Records change at Shopify; an incremental run (pages unless Shopify counts more than bulkThreshold).
    const changed = CHANGES[name].change(shop);
    const incremental = await service(plain).importResource(name, { mode: 'incremental' });
    expect(incremental, JSON.stringify(incremental.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'incremental', failed: 0 });
    await expectWatermarkBehind(plain, name, incremental);
    // Pages (Shopify counts far fewer changes than bulkThreshold), but for a connection listed whole
    // that has no count query (inventory items): a bulk operation. Only what changed is listed, unless
    // the resource is listed whole.
    const whole = definition.graphql.incremental === 'everything' || singleton;
    expect(incremental.method).toBe(whole && !definition.graphql.count && !singleton ? 'bulk' : 'pages');
    if (!whole) expect(incremental.fetched, 'records listed by the incremental run').toBeLessThan(listed);
    const afterIncremental = await image(plain, definition);
    expect(afterIncremental, 'the incremental run changed something').not.toEqual(before);
    const expected = await freshFull(client, reference, name);
    expectSameRows(afterIncremental, expected, definition, changed, 'incremental run vs full sync');

    // 2. The same incremental run stopped after its first committed batch, then run again: resumed.
    // The shop is one query: nothing to stop part-way.
    if (!singleton) {
      const controller = new AbortController();
      const stop = await service(stopped).importResource(name, {
        mode: 'incremental', pageSize: PAGE_SIZE, batchSize: 1, concurrency: 1, signal: controller.signal,
        onProgress: (p) => { if (p.imported >= 1) controller.abort(); },
      }).catch((e: ImportError) => e);
      expect(stop, 'the first run was stopped').toMatchObject({ code: 'IMPORT_ABORTED' });
      const resumed = await service(stopped).importResource(name, { pageSize: PAGE_SIZE });
      expect(resumed, JSON.stringify(resumed.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'incremental', resumed: true, failed: 0 });
      await expectWatermarkBehind(stopped, name, resumed);
      expectSameRows(await image(stopped, definition), expected, definition, changed, 'stopped and resumed incremental run vs full sync');
    }

    // 3. Without an overlap, the safety margin alone keeps what Shopify stamped near a run's start.
    // Time passes (what follows is stamped well after this test's changes); a record changes just
    // before the run, which lists it (the newest change it saw); then two records it did not see:
    // one stamped inside the margin before its start (Shopify's search index had not shown it yet;
    // not for the shop, a single record whose time cannot go back), one right after its start (its
    // listing had passed it).
    clockOffsetMs += 10 * 60_000;
    CHANGES[name].touch(shop, 0);
    const quiet = await service(plain).importResource(name, { mode: 'incremental', overlapMs: 0 });
    expect(quiet, JSON.stringify(quiet.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'incremental' });
    await expectWatermarkBehind(plain, name, quiet);
    const start = quiet.startedAt.getTime();
    if (!singleton) stampedAt(start - MARGIN_MS / 2, () => CHANGES[name].touch(shop, 1));
    stampedAt(start + 1000, () => CHANGES[name].touch(shop, 2));
    const next = await service(plain).importResource(name, { mode: 'incremental', overlapMs: 0 });
    expect(next, JSON.stringify(next.error ?? null)).toMatchObject({ status: 'succeeded', mode: 'incremental', failed: 0 });
    await expectWatermarkBehind(plain, name, next);
    expectSameRows(await image(plain, definition), await freshFull(client, reference, name), definition, changed, 'records stamped near the previous run\'s start');
  });
});
