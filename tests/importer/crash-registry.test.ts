/**
 * Every resource's full sync (bulk) killed with SIGKILL in a real child process, at seeded random
 * points spread over the run: while its operation runs, mid-file, near the end of the file, and
 * while the operation is finalised and deletions are found. Run again, it must (a) start no second
 * bulk operation for a window whose operation was still usable, (b) end with the tables a clean
 * sync of the same shop writes, and (c) report `resumed` whenever a cursor was left. The in-process
 * model is bulk-resume-registry.test.ts (one abort, mid-file); resume-bulk.test.ts kills orders only.
 *
 * One seed per run, printed; replay it with CRASH_SEED=<n>.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseShopifyJson } from '../../src/json.js';
import { bulkIdsQuery } from '../../src/importer/queries.js';
import { getResource, RESOURCES } from '../../src/resources/index.js';
import { graphqlSourcesOf, tablesOf, type ResourceDefinition } from '../../src/resources/definition.js';
import type { ResourceType } from '../../src/store/rows.js';
import { revealPayload } from '../../src/transform/index.js';
import type { PausePoint } from './fixtures/sync-child.js';
import { connectTenant, createHarness, importer, seededRandom, type Harness } from './harness.js';
import { BOOKKEEPING_COLUMNS } from '../helpers/bookkeeping.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const SEED = process.env.CRASH_SEED ? Number(process.env.CRASH_SEED) : Date.now() % 100_000;
const TENANT = 'crash';
const TIME_SCALE = 50;
/** The children's run-lock TTL: a killed child blocks the resource this long (resume.test.ts). */
const LOCK_TTL_MS = 300;
/**
 * How long (wall ms) an operation stays CREATED when a kill is aimed at it running: longer than a
 * restart takes (a child starts in ~2 s on two busy cores), so the next run finds it still running.
 */
const RUNNING_MS = 5_000;
const BATCH = 3;
/** As bulk-resume-registry.test.ts: records wait 10 lines for their children, so small files commit mid-way. */
const REGROUP_LINES = 10;
const BULK = { minPollMs: 20, maxPollMs: 100, regroupLines: REGROUP_LINES };

const PHASES = ['running', 'mid-file', 'near-end', 'finalising'] as const;
type Phase = (typeof PHASES)[number];
/** Every pair of phases, in run order: resource i is killed in pair (i + seed) % 6, so a run covers each phase. */
const PAIRS: Array<[Phase, Phase]> = PHASES.flatMap((a, i) => PHASES.slice(i + 1).map((b) => [a, b] as [Phase, Phase]));

const BULK_RESOURCES = RESOURCES.filter((r) => !r.graphql.singleton).map((r) => r.name);

/** A point of `phase` the resource's run reaches (see `PausePoint` in fixtures/sync-child.ts). */
function pointIn(phase: Phase, definition: ResourceDefinition, random: () => number): PausePoint {
  // Listings by bulk operation (metafields' last owner, the shop, is one query).
  const listings = graphqlSourcesOf(definition).filter((s) => !s.singleton).length;
  const nth = () => 1 + Math.floor(random() * listings);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  switch (phase) {
    // Every operation a child starts stays CREATED for RUNNING_MS: at most the second listing's.
    case 'running': return random() < 0.5 ? { point: 'start', n: 1 + Math.floor(random() * Math.min(listings, 2)) } : { point: 'poll', n: 1 + Math.floor(random() * 3) };
    case 'mid-file': return { point: 'file', n: nth(), fraction: 0.15 + random() * 0.6 };
    case 'near-end': return random() < 0.25 ? { point: 'file-end', n: nth() } : { point: 'file', n: nth(), fraction: 0.85 + random() * 0.149 };
    case 'finalising': {
      const carrier = definition.ridesOn ? getResource(definition.ridesOn.resource) : definition;
      const points: PausePoint['point'][] = ['finalize', 'finalized', 'finish'];
      if (carrier.deletions.eventSubjectType) points.push('events');
      if (definition.deletions.reconcileIds) points.push('reconcile-start', 'listed', 'tombstone');
      const point = pick(points);
      return point === 'finalize' || point === 'finalized' ? { point, n: nth() } : { point };
    }
  }
}

/** Points that need the operation to be running when the next run starts. */
const aimsAtRunning = (p: PausePoint) => p.point === 'start' || p.point === 'poll' || p.point === 'reconcile-start';

let h: Harness;
let resultDir: string;
beforeAll(async () => {
  console.log(`crash-registry: seed ${SEED} (replay with CRASH_SEED=${SEED})`);
  resultDir = mkdtempSync(path.join(os.tmpdir(), 'crash-registry-'));
  h = await createHarness({ timeScale: TIME_SCALE, bulk: { startDelayMs: 50, rowsPerSecond: 50_000, resultDir }, shops: [{ customers: 20, products: 12, orders: 100 }] });
});
afterAll(async () => {
  await h?.close();
  if (resultDir) rmSync(resultDir, { recursive: true, force: true });
});

interface ChildOutcome { paused: string | null; done: boolean; resumed: boolean; mode?: string; code: number | null; stderr: string }

/** Runs the resource's sync in a child; SIGKILLs it as soon as it reports it reached `pauseAt`. */
function runChild(resource: string, pauseAt: PausePoint | undefined): Promise<ChildOutcome> {
  const shop = h.sim.shops[0];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/sync-child.ts')], {
      cwd: root,
      env: {
        ...process.env, SYNC_DATABASE_URL: h.db.url, SYNC_SHOP: shop.domain, SYNC_TOKEN: shop.accessToken, SYNC_BASE_URL: shop.baseUrl, SYNC_TENANT: TENANT,
        SYNC_KEY: h.encryptionKey, SYNC_LOCK_TTL: String(LOCK_TTL_MS), SYNC_SOURCE: 'graphql', SYNC_BATCH: String(BATCH), SYNC_REGROUP_LINES: String(REGROUP_LINES),
        SYNC_RESOURCE: resource, SYNC_PAUSE_AT: pauseAt ? JSON.stringify(pauseAt) : '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const outcome: ChildOutcome = { paused: null, done: false, resumed: false, code: null, stderr: '' };
    let buffer = '';
    // A child that neither pauses nor finishes is a hang: killed, and the test fails on `done`.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl)) as { paused?: string; done?: boolean; resumed?: boolean; mode?: string };
        buffer = buffer.slice(nl + 1);
        if (line.paused && child.kill('SIGKILL')) outcome.paused = line.paused;
        if (line.done === true) Object.assign(outcome, { done: true, resumed: line.resumed === true, mode: line.mode });
      }
    });
    child.stderr.on('data', (c: Buffer) => { outcome.stderr += c.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => { clearTimeout(timer); outcome.code = code; resolve(outcome); });
  });
}

type Rows = Map<string, string>;
/**
 * Each table of the resource: row count, a digest of its primary keys, and one of every row's
 * business columns (everything but the bookkeeping ones: tenant, `synced_at`, `sync_tag`, `observed_at`; PII
 * decrypted, payloads revealed, a tombstone as a flag). `rows` keeps the rows to name a difference.
 */
async function tableImage(definition: ResourceDefinition): Promise<{ digest: Record<string, { rows: number; keys: string; data: string }>; rows: Record<string, Rows> }> {
  const digest: Record<string, { rows: number; keys: string; data: string }> = {};
  const all: Record<string, Rows> = {};
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  for (const { table, conflict } of tablesOf(definition)) {
    const columns = (await h.db.query<{ c: string }>(`SELECT column_name AS c FROM information_schema.columns WHERE table_name = $1`, [table])).map((r) => r.c);
    const payload = columns.includes('payload') ? ', payload::text AS payload' : '';
    const found = await h.db.query<Record<string, unknown>>(`SELECT *${payload} FROM ${table} WHERE tenant_id = $1`, [TENANT]);
    const rows: Rows = new Map();
    for (const row of found) {
      const business: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) {
        if (BOOKKEEPING_COLUMNS.includes(k)) continue;
        if (k === 'deleted_at') business[k] = v !== null;
        else if (k.endsWith('_enc')) business[k] = v === null ? null : h.keyRing.decrypt(String(v), TENANT);
        else if (k === 'payload' && typeof v === 'string') business[k] = revealPayload(parseShopifyJson(v), TENANT, h.keyRing);
        else business[k] = typeof v === 'bigint' ? v.toString() : v;
      }
      rows.set(conflict.map((c) => String(row[c])).join(':'), JSON.stringify(business, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    }
    const keys = [...rows.keys()].sort();
    digest[table] = { rows: rows.size, keys: md5(keys.join(',')), data: md5(keys.map((k) => rows.get(k)).join('\n')) };
    all[table] = rows;
  }
  return { digest, rows: all };
}

/** The first row that differs between two images, for the failure message. */
function firstDifference(expected: Record<string, Rows>, actual: Record<string, Rows>): string {
  for (const [table, rows] of Object.entries(expected)) {
    const got = actual[table] ?? new Map();
    for (const [key, row] of rows) if (got.get(key) !== row) return `${table} ${key}: expected ${row.slice(0, 600)}, got ${got.get(key)?.slice(0, 600) ?? 'no row'}`;
    for (const key of got.keys()) if (!rows.has(key)) return `${table} ${key}: not in the clean sync`;
  }
  return 'none';
}

describe(`a full sync killed with SIGKILL and run again, for every resource (seed ${SEED}; replay with CRASH_SEED=${SEED})`, { timeout: 120_000 }, () => {
  it.each(BULK_RESOURCES.map((name, i) => [name, i] as const))('%s', async (name, index) => {
    const definition = getResource(name);
    const ids = bulkIdsQuery(definition);
    const { client } = await connectTenant(h, TENANT);
    // The shop's bulk operations (this app's), by id: the records' listings and the id listings.
    type Operation = { id: string; query: string; status: string; createdAt: string; completedAt: string | null };
    const operations = async () => {
      const data = await client.graphql<{ bulkOperations: { nodes: Operation[] } }>('{ bulkOperations(first: 250) { nodes { id query status createdAt completedAt } } }');
      return new Map(data.bulkOperations.nodes.map((n) => [n.id, n]));
    };
    const newOps = (before: Map<string, Operation>, after: Map<string, Operation>, kind: 'ids' | 'data') => [...after.values()].filter((op) => (op.query === ids) === (kind === 'ids') && !before.has(op.id));
    const started = (before: Map<string, Operation>, after: Map<string, Operation>, kind: 'ids' | 'data') => newOps(before, after, kind).length;
    /** Ids of operations started while another of the same query had not completed. */
    const overlapping = (ops: Operation[]) => ops.filter((op) => ops.some((o) => o !== op && o.query === op.query && Date.parse(o.createdAt) <= Date.parse(op.createdAt)
      && (o.completedAt === null || Date.parse(op.createdAt) < Date.parse(o.completedAt)) && (o.createdAt !== op.createdAt || o.id < op.id))).map((op) => op.id);
    const cursorLeft = async () => (await h.db.query<{ cursor: string | null }>(`SELECT cursor FROM shopify_sync_checkpoints WHERE tenant_id = $1 AND resource = $2`, [TENANT, name]))[0]?.cursor ?? null;
    const reset = async () => { await h.db.query('DELETE FROM shopify_tenants WHERE id = $1', [TENANT]); await connectTenant(h, TENANT); };

    // The clean sync.
    await reset();
    const beforeClean = await operations();
    const clean = await importer(h, client, TENANT, { bulk: BULK }).importResource(name as ResourceType, { mode: 'full', batchSize: BATCH, concurrency: 3 });
    expect(clean, JSON.stringify(clean.error ?? null)).toMatchObject({ status: 'succeeded', method: 'bulk' });
    const cleanOps = started(beforeClean, await operations(), 'data');
    const expected = await tableImage(definition);
    expect(Object.values(expected.digest)[0].rows, 'the shop has records of this resource').toBeGreaterThan(1);

    // Killed at two points of two phases (the second run resumes the first), then run to the end.
    await reset();
    const random = seededRandom(SEED * 100 + index);
    const points = PAIRS[(index + SEED) % PAIRS.length].map((phase) => ({ phase, at: pointIn(phase, definition, random) }));
    const story: string[] = [];
    const before = await operations();
    let last: { resumed: boolean; mode?: string } | null = null;
    const killedAt: string[] = [];
    for (const [k, { phase, at }] of points.entries()) {
      const cursor = await cursorLeft();
      if (aimsAtRunning(at)) h.sim.graphql.configureBulk({ startDelayMs: RUNNING_MS * TIME_SCALE });
      const outcome = await runChild(name, at).finally(() => h.sim.graphql.configureBulk({ startDelayMs: 50 }));
      expect(outcome.stderr, `${name}: ${JSON.stringify(at)}`).not.toMatch(/Error/);
      story.push(`${phase} ${JSON.stringify(at)}: ${outcome.paused ? 'killed' : outcome.done ? 'finished first' : `exited ${outcome.code}`}`);
      if (k === 0) expect(outcome.paused, `${name}: the first run reaches ${JSON.stringify(at)}`).not.toBeNull();
      if (!outcome.paused) {
        // The resumed run ended before the point (it skipped the part of the run that reaches it).
        expect(outcome.done, `${name}: ${outcome.stderr}`).toBe(true);
        // (c) The run that found a cursor says it resumed.
        if (cursor !== null) expect(outcome.resumed, `${name}: a cursor was left (${story.join('; ')})`).toBe(true);
        last = outcome;
        break;
      }
      killedAt.push(outcome.paused);
      await new Promise((r) => setTimeout(r, LOCK_TTL_MS + 100));
    }
    const beforeLast = await operations();
    if (last === null) {
      const cursor = await cursorLeft();
      const again = await importer(h, client, TENANT, { bulk: BULK }).importResource(name as ResourceType, { batchSize: BATCH, concurrency: 3, waitForLockMs: 5_000 });
      expect(again, JSON.stringify(again.error ?? null)).toMatchObject({ status: 'succeeded' });
      // (c) The run that found a cursor says it resumed.
      if (cursor !== null) expect(again.resumed, `${name}: a cursor was left (${story.join('; ')})`).toBe(true);
      last = again;
    }
    const after = await operations();
    const detail = `${name}, seed ${SEED}: ${story.join('; ')}`;
    console.log(`crash-registry ${detail}`);

    // (a) No second operation for a window whose operation was still usable: as many as the clean
    // sync's (a run after a completed full sync is an incremental one, whose own listing is not counted).
    // A run killed right after Shopify answered a start, before the cursor named the operation, finds
    // it again by its query, running or completed meanwhile (the cursor says one was asked for). None may overlap.
    const dataOps = newOps(before, last.mode === 'full' ? after : beforeLast, 'data');
    const listed = dataOps.map((op) => `${op.id.replace(/.*\//, '#')} ${op.status} ${op.createdAt}..${op.completedAt ?? ''}`).join(', ');
    expect(overlapping(dataOps), `bulk operations listing records (${detail}): ${listed}`).toEqual([]);
    expect(dataOps.length, `bulk operations listing records (${detail}): ${listed}`).toBeGreaterThanOrEqual(cleanOps);
    expect(dataOps.length, `bulk operations listing records (${detail}): ${listed}`).toBeLessThanOrEqual(cleanOps);
    if (definition.deletions.reconcileIds) {
      // An id listing is not resumed (it must be as of the run): killed once it started, the next run
      // attaches to it while it runs, and lists again otherwise.
      const idOps = newOps(before, after, 'ids');
      expect(overlapping(idOps), `id listings (${detail})`).toEqual([]);
      expect(idOps.length, `id listings (${detail})`).toBeGreaterThanOrEqual(1);
      expect(idOps.length, `id listings (${detail})`).toBeLessThanOrEqual(1 + killedAt.filter((p) => ['reconcile-start', 'listed', 'tombstone', 'finish'].includes(p)).length);
    }

    // (b) The tables of a clean sync.
    const image = await tableImage(definition);
    expect(image.digest, `${detail}; first difference: ${firstDifference(expected.rows, image.rows)}`).toEqual(expected.digest);
    const running = await h.db.query(`SELECT id FROM shopify_sync_runs WHERE tenant_id = $1 AND status = 'running'`, [TENANT]);
    expect(running, detail).toEqual([]);
  });
});
