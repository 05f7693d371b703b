/**
 * customers/redact erases the inbox bodies that name the customer: by id, or by their email as a whole
 * string value (in any case). An email that merely contains theirs is another customer's
 * (jimbob@example.com is not bob@example.com): that customer's waiting delivery is still applied.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKeyRing } from '../../src/crypto/index.js';
import { createStore } from '../../src/store/index.js';
import type { WebhookService } from '../../src/webhooks/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ENCRYPTION_KEY, manualWebhookService, sendSigned } from './helpers/deliveries.js';

let db: TestDatabase;
const keyRing = createKeyRing({ key: ENCRYPTION_KEY });

const service = () => manualWebhookService(db.database);
const send = sendSigned;

const customer = (id: number, email: string) => `{"id":${id},"email":"${email}","first_name":"Bob","last_name":"B","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-02-01T00:00:00Z","state":"enabled","addresses":[],"tags":"","currency":"USD"}`;
const redactBob = { shop_id: 1, shop_domain: 'shop.myshopify.com', customer: { id: 222222222222, email: 'bob@example.com' }, orders_to_redact: [] };

beforeAll(async () => { db = await createTestDatabase({ prefix: 'si_wh_redact_email' }); });
afterAll(async () => { await db?.drop(); });
beforeEach(async () => {
  await db.query('DELETE FROM shopify_tenants');
  await db.query('DELETE FROM shopify_webhook_inbox');
  await createStore(db.database).upsertTenant({ id: 't1', shopDomain: 'shop.myshopify.com', accessTokenEnc: keyRing.encrypt('shpat_t1', 't1') });
});

/** Stores a delivery and leaves it waiting for its retry (its first attempt failed). */
async function waiting(s: WebhookService, topic: string, body: string): Promise<string> {
  await send(s, topic, body);
  const [claimed] = await s.inbox.claim({ workerId: 'w', limit: 10, now: new Date(), lockTimeoutMs: 60_000 });
  await s.inbox.fail(claimed!.id, 'w', 'transient', new Date(Date.now() + 1000), false);
  return claimed!.id;
}

const inboxRow = async (id: string) => (await db.query(`SELECT status = 'processed' AS closed, body_enc IS NOT NULL AS has_body FROM shopify_webhook_inbox WHERE id = $1`, [id]))[0];

describe('customers/redact and the waiting deliveries of other customers', () => {
  it('a delivery of jimbob@example.com is kept when bob@example.com is redacted, and applied at its retry', async () => {
    const s = service();
    const jimbob = await waiting(s, 'customers/update', customer(111111111111, 'jimbob@example.com'));

    await send(s, 'customers/redact', redactBob);
    await s.processPending();
    expect(await inboxRow(jimbob)).toEqual({ closed: false, has_body: true });

    await new Promise((r) => setTimeout(r, 1100));
    await s.processPending();
    expect(await db.query(`SELECT id::text FROM shopify_customers WHERE tenant_id = 't1'`)).toEqual([{ id: '111111111111' }]);
  });

  it('a delivery holding the redacted email as a value, in another case, is erased', async () => {
    const s = service();
    const other = await waiting(s, 'customers/update', customer(333333333333, 'BOB@Example.com'));

    await send(s, 'customers/redact', redactBob);
    await s.processPending();

    expect(await inboxRow(other)).toEqual({ closed: true, has_body: false });
  });
});
