/**
 * With the default options a failing delivery is retried for about as long as Shopify retries one
 * it got no 200 for (4 hours), not dead-lettered minutes after it arrived. Clock and jitter injected.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInboxWorker, createWebhookInbox, type InboxDelivery } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ prefix: 'si_wh_retry_window' });
  await db.query(`INSERT INTO shopify_tenants (id, shop_domain, access_token_enc) VALUES ('t1', 'one.myshopify.com', 'x')`);
});
afterAll(async () => { await db?.drop(); });
beforeEach(async () => { await db.query('DELETE FROM shopify_webhook_inbox'); });

const received = new Date('2026-01-01T00:00:00Z');
const delivery: InboxDelivery = {
  id: 'rw-1', tenantId: 't1', webhookId: 'wh-rw-1', eventId: null, topic: 'products/update', shopDomain: 'one.myshopify.com',
  apiVersion: '2025-07', triggeredAt: null, bodyEnc: 'sealed', receivedAt: received,
};

/** Runs the worker at each due time until the row is dead-lettered; returns when, and after how many attempts. */
async function untilDeadLettered(options: Partial<Parameters<typeof createInboxWorker>[0]>) {
  const inbox = createWebhookInbox(db.database);
  await inbox.insert(delivery);
  let now = received;
  const worker = createInboxWorker({
    inbox, workerId: 'w', clock: () => now, random: () => 0,
    process: async (rows) => new Map(rows.map((r) => [r.id, new Error('Shopify unreachable')])),
    ...options,
  });
  for (let i = 0; i < 100; i++) {
    expect(await worker.runOnce()).toBe(1);
    const row = (await inbox.get(delivery.id))!;
    if (row.status === 'failed') return { hours: (now.getTime() - received.getTime()) / 3_600_000, attempts: row.attempts };
    now = row.nextAttemptAt;
  }
  throw new Error('never dead-lettered');
}

describe('retry window', () => {
  it('by default a failing delivery is retried for about 4 hours (25 attempts) before it is dead-lettered', async () => {
    const { hours, attempts } = await untilDeadLettered({});
    expect(attempts).toBe(25);
    expect(hours).toBeGreaterThanOrEqual(4);
    expect(hours).toBeLessThan(4.1); // without jitter: 2 s doubling to 15 min, 24 waits
  });

  it('explicit maxAttempts and backoff still decide', async () => {
    const { hours, attempts } = await untilDeadLettered({ maxAttempts: 4, backoff: { baseMs: 60_000, maxMs: 120_000 } });
    expect(attempts).toBe(4);
    expect(hours * 60).toBeCloseTo(1 + 2 + 2, 6);
  });
});
