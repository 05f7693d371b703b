import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { createDatabaseHandle } from '../../src/store/index.js';
import { createInboxWorker, createWebhookInbox, type InboxDelivery, type InboxRow } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_wh_inbox' });
  await db.query(`INSERT INTO shopify_tenants (id, shop_domain, access_token_enc) VALUES ('t1', 'one.myshopify.com', 'x'), ('t2', 'two.myshopify.com', 'x')`);
});
afterAll(async () => { await db?.drop(); });
beforeEach(async () => { await db.query('DELETE FROM shopify_webhook_inbox'); });

let seq = 0;
const delivery = (over: Partial<InboxDelivery> = {}): InboxDelivery => ({
  id: `row-${++seq}`, tenantId: 't1', webhookId: `wh-${seq}`, eventId: null, topic: 'orders/create', shopDomain: 'one.myshopify.com',
  apiVersion: '2025-07', triggeredAt: new Date('2025-01-01T00:00:00Z'), bodyEnc: 'sealed', receivedAt: new Date('2025-01-01T00:00:01Z'), ...over,
});

describe('webhook inbox', () => {
  it('inserts, groups concurrent inserts, counts duplicates per (tenant, webhook id), and refuses a webhook id held by another tenant', async () => {
    const inbox = createWebhookInbox(db.database);
    await insertsAndCountsDuplicates(inbox);
  });

  it('writes through the pool of a database handle, with the same results', async () => {
    const pool = new pg.Pool({ connectionString: db.url });
    const statements: string[] = [];
    const query = pool.query.bind(pool) as (text: string, values?: unknown[]) => Promise<pg.QueryResult>;
    const counted = { query: (text: string, values?: unknown[]) => { statements.push(text); return query(text, values); } };
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    try {
      const inbox = createWebhookInbox(createDatabaseHandle(prisma, { pool: counted }));
      await insertsAndCountsDuplicates(inbox);
      expect(statements.filter((sql) => sql.includes('INSERT INTO shopify_webhook_inbox')).length).toBeGreaterThan(0);
      const [stored] = await db.query(`SELECT id FROM shopify_webhook_inbox WHERE webhook_id = 'B'`);
      expect(await inbox.get(stored!.id)).toMatchObject({
        webhookId: 'B', topic: 'orders/create', apiVersion: '2025-07', bodyEnc: 'sealed', eventId: null,
        triggeredAt: new Date('2025-01-01T00:00:00Z'), receivedAt: new Date('2025-01-01T00:00:01Z'), nextAttemptAt: new Date('2025-01-01T00:00:01Z'),
      });
    } finally {
      await prisma.$disconnect();
      await pool.end();
    }
  });

  async function insertsAndCountsDuplicates(inbox: ReturnType<typeof createWebhookInbox>): Promise<void> {
    const settled = await Promise.allSettled([
      inbox.insert(delivery({ webhookId: 'A' })),
      inbox.insert(delivery({ webhookId: 'A' })),
      inbox.insert(delivery({ webhookId: 'A', tenantId: 't2', shopDomain: 'two.myshopify.com' })),
      inbox.insert(delivery({ webhookId: 'B' })),
      inbox.insert(delivery({ webhookId: 'A' })),
      inbox.insert(delivery({ webhookId: 'C', tenantId: 't2', shopDomain: 'two.myshopify.com' })),
    ]);
    // Shopify's webhook ids are unique per delivery: t1's id A under t2 is a replay, refused.
    expect(settled[2]).toMatchObject({ status: 'rejected', reason: { code: 'WEBHOOK_REPLAYED' } });
    const results = settled.map((r) => (r.status === 'fulfilled' ? r.value : null));
    // Concurrent statements race for t1/A: exactly one of its three deliveries is the insert.
    const a1 = [results[0]!, results[1]!, results[4]!];
    expect(a1.filter((r) => r.inserted)).toHaveLength(1);
    expect(new Set(a1.map((r) => r.id)).size).toBe(1);
    expect([results[3]!.inserted, results[5]!.inserted]).toEqual([true, true]);
    const later = await inbox.insert(delivery({ webhookId: 'B' }));
    expect(later).toEqual({ id: results[3]!.id, inserted: false });
    const rows = await db.query(`SELECT tenant_id, webhook_id, duplicates, status FROM shopify_webhook_inbox ORDER BY tenant_id, webhook_id`);
    expect(rows).toEqual([
      { tenant_id: 't1', webhook_id: 'A', duplicates: 2, status: 'pending' },
      { tenant_id: 't1', webhook_id: 'B', duplicates: 1, status: 'pending' },
      { tenant_id: 't2', webhook_id: 'C', duplicates: 0, status: 'pending' },
    ]);
    expect(await inbox.countByStatus()).toEqual({ pending: 3, processing: 0, processed: 0, failed: 0 });
    expect(await inbox.countByStatus('t2')).toEqual({ pending: 1, processing: 0, processed: 0, failed: 0 });
  }

  it('claims with SKIP LOCKED: two workers never get the same row; an expired lock is taken over', async () => {
    const inbox = createWebhookInbox(db.database);
    await Promise.all(Array.from({ length: 30 }, () => inbox.insert(delivery())));
    const now = new Date('2025-01-01T00:01:00Z');
    const [a, b] = await Promise.all([
      inbox.claim({ workerId: 'a', limit: 20, now, lockTimeoutMs: 60_000 }),
      inbox.claim({ workerId: 'b', limit: 20, now, lockTimeoutMs: 60_000 }),
    ]);
    const ids = [...a, ...b].map((r) => r.id);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    expect(a.every((r) => r.status === 'processing' && r.lockedBy === 'a' && r.attempts === 1)).toBe(true);
    // Worker a "crashes"; within the lock timeout nobody can take its rows, after it someone does.
    expect(await inbox.claim({ workerId: 'c', limit: 50, now: new Date(now.getTime() + 30_000), lockTimeoutMs: 60_000 })).toHaveLength(0);
    const taken = await inbox.claim({ workerId: 'c', limit: 50, now: new Date(now.getTime() + 61_000), lockTimeoutMs: 60_000 });
    expect(taken).toHaveLength(30);
    expect(taken[0]!.attempts).toBe(2);
    // The crashed worker can no longer mark them.
    expect(await inbox.complete(a.map((r) => r.id), 'a', now)).toBe(0);
    expect(await inbox.complete(taken.map((r) => r.id), 'c', now, { clearBody: true })).toBe(30);
    const [row] = await db.query(`SELECT status, body_enc, locked_by FROM shopify_webhook_inbox LIMIT 1`);
    expect(row).toEqual({ status: 'processed', body_enc: null, locked_by: null });
  });
});

describe('inbox worker', () => {
  it('retries with exponential backoff, then leaves the row failed; replay resets it', async () => {
    const inbox = createWebhookInbox(db.database);
    let now = new Date('2025-01-01T00:00:02Z');
    const failures: Array<{ final: boolean }> = [];
    let fail = true;
    const seen: InboxRow[] = [];
    const worker = createInboxWorker({
      inbox, workerId: 'w', maxAttempts: 3, backoff: { baseMs: 1000, maxMs: 60_000 }, clock: () => now, random: () => 0,
      process: async (rows) => { seen.push(...rows); return new Map(fail ? rows.map((r) => [r.id, new Error('boom')]) : []); },
      onFailed: (_row, _e, final) => failures.push({ final }),
    });
    const { id } = await inbox.insert(delivery());
    expect(await worker.runOnce()).toBe(1);
    let row = (await inbox.get(id))!;
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lastError: 'Error: boom', lockedBy: null });
    expect(row.nextAttemptAt.getTime() - now.getTime()).toBe(1000);
    expect(await worker.runOnce()).toBe(0); // not due yet
    now = new Date(now.getTime() + 1000);
    expect(await worker.runOnce()).toBe(1);
    row = (await inbox.get(id))!;
    expect(row.nextAttemptAt.getTime() - now.getTime()).toBe(2000);
    now = new Date(now.getTime() + 2000);
    await worker.runOnce();
    row = (await inbox.get(id))!;
    expect(row).toMatchObject({ status: 'failed', attempts: 3 });
    expect(failures).toEqual([{ final: false }, { final: false }, { final: true }]);
    now = new Date(now.getTime() + 3_600_000);
    expect(await worker.runOnce()).toBe(0); // failed rows stay put

    fail = false;
    expect(await inbox.replay(id, now)).toBe('ok');
    expect(await worker.drain()).toBe(1);
    row = (await inbox.get(id))!;
    expect(row).toMatchObject({ status: 'processed', attempts: 1, lastError: null, bodyEnc: null });
    expect(await inbox.replay(id, now)).toBe('no_body');
    expect(await inbox.replay('nope', now)).toBe('not_found');
  });

  it('getStatus: how long the batch in flight has taken (worker clock), the last claim error until a claim succeeds, and a crashed loop', async () => {
    const real = createWebhookInbox(db.database);
    let claimFails = false;
    const inbox = { ...real, claim: (o: Parameters<typeof real.claim>[0]) => (claimFails ? Promise.reject(new Error('connection refused')) : real.claim(o)) };
    let now = new Date('2025-01-01T00:00:02Z');
    let release: () => void = () => {};
    const entered: string[] = [];
    const worker = createInboxWorker({
      inbox, workerId: 'w-status', pollIntervalMs: 20, clock: () => now,
      process: async (rows) => { entered.push(...rows.map((r) => r.id)); await new Promise<void>((r) => { release = r; }); return new Map(); },
    });
    expect(worker.getStatus()).toEqual({ running: false, busyForMs: null, lastError: null, lastErrorAt: null, crashed: null });
    const { id } = await real.insert(delivery());
    worker.start();
    await expect.poll(() => entered).toEqual([id]);
    now = new Date(now.getTime() + 90_000);
    expect(worker.getStatus()).toMatchObject({ running: true, busyForMs: 90_000, lastError: null });
    release();
    await expect.poll(() => worker.getStatus().busyForMs).toBeNull();

    claimFails = true;
    await expect.poll(() => worker.getStatus().lastError).toBe('Error: connection refused');
    expect(worker.getStatus()).toMatchObject({ running: true, lastErrorAt: now, crashed: null });
    claimFails = false;
    await expect.poll(() => worker.getStatus().lastError).toBeNull();
    await worker.stop();
    expect(worker.getStatus().running).toBe(false);

    // A logger that throws while the loop reports a failed claim ends the loop: the worker says it crashed.
    const crashing = createInboxWorker({
      inbox: { ...real, claim: () => Promise.reject(new Error('down')) }, workerId: 'w-crash', pollIntervalMs: 20,
      logger: { debug() {}, info() {}, warn() {}, error(message: string) { if (message.startsWith('webhook worker could not')) throw new Error('logger broke'); } },
      process: async () => new Map(),
    });
    crashing.start();
    await expect.poll(() => crashing.getStatus().crashed).toBe('Error: logger broke');
    expect(crashing.getStatus().running).toBe(false);
    await crashing.stop();
  });

  it('is woken at once by wake(), polls otherwise, and picks up rows left from before start', async () => {
    const inbox = createWebhookInbox(db.database);
    await inbox.insert(delivery({ receivedAt: new Date('2020-01-01T00:00:00Z') }));
    const processed: string[] = [];
    const worker = createInboxWorker({
      inbox, workerId: 'w2', pollIntervalMs: 60_000,
      process: async (rows) => { processed.push(...rows.map((r) => r.webhookId)); return new Map(); },
    });
    worker.start();
    await expect.poll(() => processed.length).toBe(1);
    const started = Date.now();
    const d = delivery({ receivedAt: new Date() });
    await inbox.insert(d);
    worker.wake();
    await expect.poll(() => processed.length).toBe(2);
    expect(Date.now() - started).toBeLessThan(5000);
    await worker.stop();
    expect(worker.running).toBe(false);
    expect(await inbox.countByStatus()).toMatchObject({ processed: 2, pending: 0 });
  });

  it('keeps its claim while a batch outlasts the lock timeout: no other worker takes the rows and applies them again', async () => {
    // Found by tests/cluster: a live worker whose batch took longer than lockTimeoutMs (a loaded host)
    // lost its rows to another worker, and both applied them. The claim is renewed while it is held.
    const inbox = createWebhookInbox(db.database);
    await Promise.all(Array.from({ length: 3 }, () => inbox.insert(delivery({ receivedAt: new Date(Date.now() - 1000) }))));
    const lockTimeoutMs = 300;
    let release!: () => void;
    const applying = new Promise<void>((resolve) => { release = resolve; });
    const applied: string[] = [];
    const slow = createInboxWorker({
      inbox, workerId: 'slow', lockTimeoutMs,
      process: async (rows) => { applied.push(...rows.map((r) => `slow:${r.webhookId}`)); await applying; return new Map(); },
    });
    const batch = slow.runOnce();
    await expect.poll(() => applied.length).toBe(3);
    // Well past the lock timeout, three times over: another worker finds nothing to take over.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, lockTimeoutMs));
      expect(await inbox.claim({ workerId: 'other', limit: 10, now: new Date(), lockTimeoutMs })).toEqual([]);
    }
    release();
    expect(await batch).toBe(3);
    const rows = await db.query(`SELECT status, attempts, locked_by FROM shopify_webhook_inbox`);
    expect(rows).toEqual(Array.from({ length: 3 }, () => ({ status: 'processed', attempts: 1, locked_by: null })));
    // A claim that is not renewed (its worker died) is still taken over after the timeout.
    await inbox.insert(delivery({ receivedAt: new Date(Date.now() - 1000) }));
    expect(await inbox.claim({ workerId: 'dead', limit: 10, now: new Date(), lockTimeoutMs })).toHaveLength(1);
    await new Promise((r) => setTimeout(r, lockTimeoutMs + 50));
    expect(await inbox.claim({ workerId: 'other', limit: 10, now: new Date(), lockTimeoutMs })).toMatchObject([{ attempts: 2 }]);
  });

  it('while deferring applies only rows older than the cutoff, without a claim per wake(); drain() applies everything', async () => {
    const inbox = createWebhookInbox(db.database);
    let claims = 0;
    const counting = { ...inbox, claim: (o: Parameters<typeof inbox.claim>[0]) => { claims++; return inbox.claim(o); } };
    const old = delivery({ receivedAt: new Date(Date.now() - 120_000) });
    const fresh = delivery({ receivedAt: new Date() });
    await inbox.insert(old);
    await inbox.insert(fresh);
    let busy = true;
    const processed: string[] = [];
    const worker = createInboxWorker({
      inbox: counting, workerId: 'w-defer', pollIntervalMs: 300,
      deferUntilOlderThan: (now) => (busy ? new Date(now.getTime() - 60_000) : null),
      process: async (rows) => { processed.push(...rows.map((r) => r.webhookId)); return new Map(); },
    });
    worker.start();
    await expect.poll(() => processed).toEqual([old.webhookId]);
    const before = claims;
    for (let i = 0; i < 50; i++) { worker.wake(); await new Promise((r) => setImmediate(r)); }
    await new Promise((r) => setTimeout(r, 700));
    expect(processed).toEqual([old.webhookId]); // the fresh row waits
    expect(claims - before).toBeLessThanOrEqual(4); // polls every 300 ms, wakes ignored
    expect(claims - before).toBeGreaterThanOrEqual(1);
    busy = false;
    await expect.poll(() => processed, { timeout: 3000 }).toEqual([old.webhookId, fresh.webhookId]);
    const stopping = Date.now();
    await worker.stop();
    expect(Date.now() - stopping).toBeLessThan(300);

    // drain() is an explicit request: everything due, busy or not.
    const later = delivery({ receivedAt: new Date() });
    await inbox.insert(later);
    busy = true;
    expect(await worker.drain()).toBe(1);
    expect(processed.at(-1)).toBe(later.webhookId);
  });
  it('with wakeDelayMs, an idle worker claims once after the delay whatever the number of wakes', async () => {
    const inbox = createWebhookInbox(db.database);
    const claimedAt: number[] = [];
    const counting = { ...inbox, claim: (o: Parameters<typeof inbox.claim>[0]) => { claimedAt.push(Date.now()); return inbox.claim(o); } };
    const batches: string[][] = [];
    const worker = createInboxWorker({
      inbox: counting, workerId: 'w-delay', pollIntervalMs: 60_000, wakeDelayMs: 300,
      process: async (rows) => { batches.push(rows.map((r) => r.webhookId)); return new Map(); },
    });
    worker.start();
    await expect.poll(() => claimedAt.length).toBe(1); // the claim at start finds nothing, then idles
    await new Promise((r) => setTimeout(r, 20));
    const woken = Date.now();
    const rows = [delivery(), delivery(), delivery()];
    for (const row of rows) { await inbox.insert(row); worker.wake(); }
    await expect.poll(() => batches.length).toBe(1);
    expect(claimedAt).toHaveLength(2);
    expect(claimedAt[1]! - woken).toBeGreaterThanOrEqual(290);
    expect(batches[0]!.sort()).toEqual(rows.map((r) => r.webhookId).sort()); // all three in one claim
    await worker.stop();
  });
});
