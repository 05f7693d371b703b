/**
 * A delivery whose worker dies on it every time (its claim expires, it is never marked) must be
 * dead-lettered after maxAttempts like any other failure, not claimed forever.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInboxWorker, createWebhookInbox, type InboxDelivery } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_wh_abandoned' });
  await db.query(`INSERT INTO shopify_tenants (id, shop_domain, access_token_enc) VALUES ('t1', 'one.myshopify.com', 'x')`);
});
afterAll(async () => { await db?.drop(); });
beforeEach(async () => { await db.query('DELETE FROM shopify_webhook_inbox'); });

let seq = 0;
const delivery = (): InboxDelivery => ({
  id: `ab-${++seq}`, tenantId: 't1', webhookId: `wh-ab-${seq}`, eventId: null, topic: 'products/update', shopDomain: 'one.myshopify.com',
  apiVersion: '2025-07', triggeredAt: null, bodyEnc: 'sealed', receivedAt: new Date('2025-01-01T00:00:00Z'),
});
const LOCK_MS = 60_000;
const at = (minutes: number) => new Date(Date.parse('2025-01-01T00:00:00Z') + minutes * 60_000);

describe('abandoned claims', () => {
  it('a row whose claim expired with no attempts left is marked failed, not claimed again', async () => {
    const inbox = createWebhookInbox(db.database);
    const { id } = await inbox.insert(delivery());
    let claims = 0;
    // Each "worker" claims the row and dies: the next claim comes after the lock timeout.
    for (let i = 0; i < 6; i++) {
      const rows = await inbox.claim({ workerId: `crashing-${i}`, limit: 10, now: at(2 * i), lockTimeoutMs: LOCK_MS, maxAttempts: 3 });
      claims += rows.length;
    }
    expect(claims).toBe(3);
    expect(await inbox.get(id)).toMatchObject({
      status: 'failed', attempts: 3, lockedAt: null, lockedBy: null,
      lastError: 'its worker died during attempt 3 of 3 (the claim expired without the row being marked): not claimed again',
    });
    expect(await inbox.replay(id, at(20))).toBe('ok'); // dead letters replay as usual
    expect(await inbox.claim({ workerId: 'w', limit: 10, now: at(20), lockTimeoutMs: LOCK_MS, maxAttempts: 3 })).toHaveLength(1);
  });

  it('a row with attempts left is taken over as before, and a claim without maxAttempts has no limit', async () => {
    const inbox = createWebhookInbox(db.database);
    await inbox.insert(delivery());
    for (let i = 0; i < 5; i++) {
      expect(await inbox.claim({ workerId: `w${i}`, limit: 10, now: at(2 * i), lockTimeoutMs: LOCK_MS })).toHaveLength(1);
    }
    expect(await inbox.claim({ workerId: 'w', limit: 10, now: at(12), lockTimeoutMs: LOCK_MS, maxAttempts: 7 })).toHaveLength(1);
  });

  it('the worker dead-letters a row abandoned after its last attempt, with its maxAttempts', async () => {
    const inbox = createWebhookInbox(db.database);
    const { id } = await inbox.insert(delivery());
    let now = at(0);
    const processed: string[] = [];
    const worker = createInboxWorker({
      inbox, workerId: 'survivor', maxAttempts: 2, lockTimeoutMs: LOCK_MS, clock: () => now,
      process: async (rows) => { processed.push(...rows.map((r) => r.id)); return new Map(); },
    });
    await inbox.claim({ workerId: 'dead-1', limit: 10, now, lockTimeoutMs: LOCK_MS });
    now = at(2);
    await inbox.claim({ workerId: 'dead-2', limit: 10, now, lockTimeoutMs: LOCK_MS });
    now = at(4);
    expect(await worker.runOnce()).toBe(0);
    expect(processed).toEqual([]);
    expect(await inbox.get(id)).toMatchObject({ status: 'failed', attempts: 2 });
  });
});
