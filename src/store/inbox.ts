/**
 * SQL of the webhook inbox (`shopify_webhook_inbox`): every delivery is INSERTed here before Shopify
 * gets its 200, then claimed, processed and marked by workers. Several processes may share the table:
 * claims use `FOR UPDATE SKIP LOCKED`, so a row is held by one worker at a time, and a claim expires
 * (`locked_at` older than the lock timeout) so rows held by a crashed worker are picked up again.
 */
import { StoreError } from '../errors.js';
import { recordsetFrom, recordsetJson, type ColumnSpec } from './columns.js';
import { batchRunnerFor, resolveDatabase, type DatabaseHandle } from './database-handle.js';
import type { PrismaLike, SqlExecutor } from './prisma-like.js';
import { pgCodeOf, storeFailure } from './store-errors.js';

/** A delivery as the handler stores it (body already encrypted). */
export interface InboxDelivery {
  /** Inbox row id (a ksuid). */
  id: string;
  /** The tenant whose shop sent it. */
  tenantId: string;
  /** `X-Shopify-Webhook-Id`: unique per tenant, the deduplication key. */
  webhookId: string;
  /** `X-Shopify-Event-Id`, when sent. */
  eventId: string | null;
  /** The topic. */
  topic: string;
  /** The shop. */
  shopDomain: string;
  /** `X-Shopify-API-Version` of the body. */
  apiVersion: string | null;
  /** `X-Shopify-Triggered-At`. */
  triggeredAt: Date | null;
  /** The raw body, encrypted by the key ring. */
  bodyEnc: string;
  /** When it was stored. */
  receivedAt: Date;
}

/** Where a delivery stands: waiting, claimed by a worker, done, or out of attempts (dead letter). */
export type InboxStatus = 'pending' | 'processing' | 'processed' | 'failed';

/** One inbox row. */
export interface InboxRow extends Omit<InboxDelivery, 'bodyEnc'> {
  /** The encrypted body; null once dropped (redacted, or not kept after processing). */
  bodyEnc: string | null;
  /** Where it stands. */
  status: InboxStatus;
  /** Processing attempts so far. */
  attempts: number;
  /** Why the last attempt failed. */
  lastError: string | null;
  /** Not processed before this time (retry backoff). */
  nextAttemptAt: Date;
  /** When a worker claimed it. */
  lockedAt: Date | null;
  /** Which worker claimed it. */
  lockedBy: string | null;
  /** Deliveries of the same webhook id received again (acknowledged, not processed again). */
  duplicates: number;
  /** When it was processed. */
  processedAt: Date | null;
}

/** Result of storing one delivery: `inserted` is false for a duplicate (same tenant and webhook id). */
export interface InboxInsertResult {
  id: string;
  inserted: boolean;
}

export interface ClaimOptions {
  workerId: string;
  limit: number;
  now: Date;
  /** A `processing` row locked longer ago than this is considered abandoned and claimed again. */
  lockTimeoutMs: number;
  /** Claim only pending rows due at or before this time (default `now`): lets a busy process apply older deliveries only. */
  dueBefore?: Date;
  /**
   * A row whose claim expired after this many attempts is marked `failed` instead of claimed again:
   * its worker died during each of them, so it would otherwise kill workers forever. Default: no limit.
   */
  maxAttempts?: number;
}

/** Data access for the inbox. Create with {@link createWebhookInbox}. */
export interface WebhookInbox {
  /**
   * Stores a delivery durably; a duplicate increments `duplicates` instead. Concurrent calls are
   * grouped into one multi-row INSERT (group commit), so throughput does not cost one round trip each.
   * A delivery the database refuses fails alone (the rest of its INSERT is written again without
   * it); one whose tenant no longer exists, or is no longer the delivery's shop's, rejects with code `TENANT_NOT_FOUND`.
   */
  insert(delivery: InboxDelivery): Promise<InboxInsertResult>;
  /**
   * Claims up to `limit` due rows (pending and due, or processing with an expired lock). Rows with an
   * expired lock and no attempts left (`maxAttempts`) are marked `failed` instead.
   */
  claim(options: ClaimOptions): Promise<InboxRow[]>;
  /** Renews the claim of rows this worker still holds (`locked_at = now`), so a batch that takes longer than the lock timeout is not taken over. */
  renew(ids: string[], workerId: string, now: Date): Promise<number>;
  /** Marks claimed rows processed; `clearBody` drops the encrypted body (nothing kept that is not needed). */
  complete(ids: string[], workerId: string, now: Date, options?: { clearBody?: boolean }): Promise<number>;
  /** Records a failed attempt: back to `pending` at `nextAttemptAt`, or `failed` for good when `final`. */
  fail(id: string, workerId: string, error: string, nextAttemptAt: Date, final: boolean): Promise<void>;
  /** Resets a row to pending (attempts 0). Returns 'ok', 'not_found', 'no_body' or 'processing'. */
  replay(id: string, now: Date): Promise<'ok' | 'not_found' | 'no_body' | 'processing'>;
  /** One row by id, or null. */
  get(id: string): Promise<InboxRow | null>;
  /** Row counts by status (all tenants, or one). */
  countByStatus(tenantId?: string): Promise<Record<InboxStatus, number>>;
  /** Deletes a tenant's inbox rows (shop/redact), except `keepId` (the delivery being processed). */
  purgeTenant(tenantId: string, keepId?: string): Promise<number>;
  /**
   * Erases the stored bodies of a tenant's rows for which `mentions(bodyEnc)` is true (customers/redact),
   * except `keepId` and rows being processed right now. A row still waiting (pending or failed) is
   * closed as processed with `last_error` saying why: applying it would store the erased data again.
   * Pages through the tenant's rows 500 at a time. Returns how many bodies were erased.
   * `inBatch`: rows being processed in the caller's own batch (already applied): their bodies are erased too.
   */
  eraseBodies(tenantId: string, mentions: (bodyEnc: string) => boolean, keepId?: string, inBatch?: readonly string[]): Promise<number>;
}

const FIELDS: Array<[column: string, field: string]> = [
  ['id', 'id'], ['tenant_id', 'tenantId'], ['webhook_id', 'webhookId'], ['event_id', 'eventId'], ['topic', 'topic'],
  ['shop_domain', 'shopDomain'], ['api_version', 'apiVersion'], ['triggered_at', 'triggeredAt'], ['body_enc', 'bodyEnc'],
  ['status', 'status'], ['attempts', 'attempts'], ['last_error', 'lastError'], ['next_attempt_at', 'nextAttemptAt'],
  ['locked_at', 'lockedAt'], ['locked_by', 'lockedBy'], ['duplicates', 'duplicates'], ['received_at', 'receivedAt'],
  ['processed_at', 'processedAt'],
];
const columns = (alias = '') => FIELDS.map(([c, f]) => `${alias}${c} AS "${f}"`).join(', ');

const INSERT_COLUMNS: readonly ColumnSpec<InboxDelivery>[] = [
  { column: 'id', type: 'text', value: (d) => d.id },
  { column: 'tenant_id', type: 'text', value: (d) => d.tenantId },
  { column: 'webhook_id', type: 'text', value: (d) => d.webhookId },
  { column: 'event_id', type: 'text', value: (d) => d.eventId },
  { column: 'topic', type: 'text', value: (d) => d.topic },
  { column: 'shop_domain', type: 'text', value: (d) => d.shopDomain },
  { column: 'api_version', type: 'text', value: (d) => d.apiVersion },
  { column: 'triggered_at', type: 'timestamptz', value: (d) => d.triggeredAt },
  { column: 'body_enc', type: 'text', value: (d) => d.bodyEnc },
  { column: 'received_at', type: 'timestamptz', value: (d) => d.receivedAt },
];

const INSERT_SQL = `INSERT INTO shopify_webhook_inbox
    (id, tenant_id, webhook_id, event_id, topic, shop_domain, api_version, triggered_at, body_enc, received_at, next_attempt_at, status)
  SELECT t.id, t.tenant_id, t.webhook_id, t.event_id, t.topic, t.shop_domain, t.api_version, t.triggered_at, t.body_enc,
         t.received_at, t.received_at, 'pending'
    FROM ${recordsetFrom(INSERT_COLUMNS, 1, 't')}
   -- Stored only while the tenant is still the shop's: a process may cache the shop as the tenant's
   -- after it moved to another shop (or was deleted), and the delivery is no longer its data.
   WHERE EXISTS (SELECT 1 FROM shopify_tenants s WHERE s.id = t.tenant_id AND lower(s.shop_domain) = lower(t.shop_domain))
   -- Nor when its webhook id was received for another tenant: the HMAC does not cover the shop's
   -- header, and Shopify's webhook ids are unique per delivery, so that is a captured delivery
   -- replayed under another shop's name.
     AND NOT EXISTS (SELECT 1 FROM shopify_webhook_inbox o WHERE o.webhook_id = t.webhook_id AND o.tenant_id <> t.tenant_id)
  ON CONFLICT (tenant_id, webhook_id) DO UPDATE SET duplicates = shopify_webhook_inbox.duplicates + 1
  RETURNING id, tenant_id AS "tenantId", webhook_id AS "webhookId", (xmax = 0) AS inserted`;

/**
 * SQLSTATE classes of errors one row causes: data exceptions (22), integrity constraints (23: a
 * tenant deleted meanwhile) and program limits (54: a key over the btree row size).
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
const ROW_ERROR_CLASSES = new Set(['22', '23', '54']);
const FOREIGN_KEY_VIOLATION = '23503';

function causedByARow(error: unknown): boolean {
  const code = pgCodeOf(error);
  return code !== undefined && ROW_ERROR_CLASSES.has(code.slice(0, 2));
}

/** A delivery the INSERT's shop check left out: its tenant is gone or is another shop's now (answered as an unknown shop). */
function notTheShopsTenant(delivery: InboxDelivery): StoreError {
  return new StoreError(`inbox insert failed (tenant ${delivery.tenantId}): the tenant no longer exists or is no longer shop ${delivery.shopDomain}'s`, {
    code: 'TENANT_NOT_FOUND', retryable: false, details: { operation: 'inbox insert', tenantId: delivery.tenantId, shopDomain: delivery.shopDomain },
  });
}

/** A delivery whose webhook id was received for another tenant (a replay under another shop's header). */
function replayedForAnotherShop(delivery: InboxDelivery): StoreError {
  return new StoreError(`inbox insert refused (tenant ${delivery.tenantId}): webhook ${delivery.webhookId} was already received for another shop`, {
    code: 'WEBHOOK_REPLAYED', retryable: false, details: { operation: 'inbox insert', tenantId: delivery.tenantId, shopDomain: delivery.shopDomain, webhookId: delivery.webhookId },
  });
}

/** The error a refused delivery rejects with; the only foreign key of the inbox is its tenant's. */
function insertFailure(delivery: InboxDelivery, error: unknown): StoreError {
  if (pgCodeOf(error) === FOREIGN_KEY_VIOLATION) {
    return storeFailure('inbox insert', delivery.tenantId, error, { shopDomain: delivery.shopDomain }, 'TENANT_NOT_FOUND');
  }
  return storeFailure('inbox insert', delivery.tenantId, error, { shopDomain: delivery.shopDomain });
}

interface PendingInsert {
  delivery: InboxDelivery;
  resolve: (result: InboxInsertResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Inbox data access over a PrismaClient (raw SQL on `shopify_webhook_inbox` only).
 *
 * @param options.maxBatch most deliveries written by one INSERT (default 500)
 * @param options.maxInFlight most INSERT statements running at once (default 2; keep it below the pool size).
 *   Fewer statements in flight means more rows per statement: each statement has a fixed cost on
 *   both sides (~0.5 ms of client CPU through Prisma, as much in PostgreSQL), measured in bench/webhooks.ts.
 * @example
 * ```ts
 * const inbox = createWebhookInbox(prisma);
 * const rows = await inbox.claim({ workerId: 'w1', limit: 50, now: new Date(), lockTimeoutMs: 60_000 });
 * ```
 */
export function createWebhookInbox(database: PrismaLike | SqlExecutor | DatabaseHandle, options: { maxBatch?: number; maxInFlight?: number } = {}): WebhookInbox {
  const handle = resolveDatabase(database);
  const db: SqlExecutor = handle.prisma;
  const maxBatch = options.maxBatch ?? 500;
  const maxInFlight = options.maxInFlight ?? 2;
  let queue: PendingInsert[] = [];
  let inFlight = 0;
  let scheduled = false;
  const writes = batchRunnerFor(handle);

  async function insertMany(batch: PendingInsert[]): Promise<void> {
    // Within one statement a key may appear once (ON CONFLICT cannot touch a row twice), so repeats
    // of a key inside the batch wait for the first one and are reported as duplicates.
    const firstByKey = new Map<string, PendingInsert>();
    const repeats: Array<{ item: PendingInsert; first: PendingInsert }> = [];
    // A webhook id under a second tenant in the same statement would not see the first's row: it
    // goes in a statement after this one, which refuses it.
    const tenantOfWebhook = new Map<string, string>();
    const afterThis: PendingInsert[] = [];
    for (const item of batch) {
      const owner = tenantOfWebhook.get(item.delivery.webhookId);
      if (owner !== undefined && owner !== item.delivery.tenantId) { afterThis.push(item); continue; }
      tenantOfWebhook.set(item.delivery.webhookId, item.delivery.tenantId);
      const key = `${item.delivery.tenantId}\u0000${item.delivery.webhookId}`;
      const first = firstByKey.get(key);
      if (first) repeats.push({ item, first });
      else firstByKey.set(key, item);
    }
    const unique = [...firstByKey.values()];
    let rows: Array<{ id: string; tenantId: string; webhookId: string; inserted: boolean }>;
    try {
      // One JSON parameter for the batch, like the store's writes (see recordsetJson), sent straight to
      // the handle's pool when it has one (createDatabaseHandle): the inbox write is the one
      // thing between a delivery and its 200.
      rows = await writes.all<{ id: string; tenantId: string; webhookId: string; inserted: boolean }>(INSERT_SQL, [recordsetJson(INSERT_COLUMNS, unique.map((u) => u.delivery))]);
    } catch (error) {
      await insertedWithout([...unique, ...repeats.map((r) => r.item)], error);
      if (afterThis.length > 0) await insertMany(afterThis);
      return;
    }
    const byKey = new Map(rows.map((r) => [`${r.tenantId}\u0000${r.webhookId}`, r]));
    const refusals = await refusalsOf(unique.filter((item) => !byKey.has(`${item.delivery.tenantId}\u0000${item.delivery.webhookId}`)));
    for (const item of unique) {
      const row = byKey.get(`${item.delivery.tenantId}\u0000${item.delivery.webhookId}`);
      if (!row) item.reject(refusals.get(item)!);
      else item.resolve({ id: row.id, inserted: Boolean(row.inserted) });
    }
    for (const { item, first } of repeats) {
      const row = byKey.get(`${first.delivery.tenantId}\u0000${first.delivery.webhookId}`);
      if (!row) { item.reject(refusals.get(first)!); continue; }
      try {
        await db.$executeRawUnsafe(`UPDATE shopify_webhook_inbox SET duplicates = duplicates + 1 WHERE id = $1`, row.id);
        item.resolve({ id: row.id, inserted: false });
      } catch (error) {
        item.reject(insertFailure(item.delivery, error));
      }
    }
    if (afterThis.length > 0) await insertMany(afterThis);
  }

  /**
   * Why the INSERT left each of these deliveries out: its webhook id was received for another
   * tenant (a replay), or its tenant is gone or another shop's now. One query for all of them; if it
   * fails, each is refused with that failure (answered 503: Shopify delivers it again).
   */
  async function refusalsOf(refused: PendingInsert[]): Promise<Map<PendingInsert, StoreError>> {
    const out = new Map<PendingInsert, StoreError>();
    if (refused.length === 0) return out;
    let taken: Array<{ webhookId: string; tenantId: string }>;
    try {
      taken = await db.$queryRawUnsafe<Array<{ webhookId: string; tenantId: string }>>(
        'SELECT DISTINCT webhook_id AS "webhookId", tenant_id AS "tenantId" FROM shopify_webhook_inbox WHERE webhook_id = ANY($1::text[])',
        [...new Set(refused.map((item) => item.delivery.webhookId))],
      );
    } catch (error) {
      for (const item of refused) out.set(item, insertFailure(item.delivery, error));
      return out;
    }
    for (const item of refused) {
      const replayed = taken.some((t) => t.webhookId === item.delivery.webhookId && t.tenantId !== item.delivery.tenantId);
      out.set(item, replayed ? replayedForAnotherShop(item.delivery) : notTheShopsTenant(item.delivery));
    }
    return out;
  }

  /**
   * A failed INSERT fails as a whole: when a row caused it (an over-long key, a tenant deleted since
   * its shop was looked up), the batch is written again in halves, so only that delivery is refused
   * and the others sharing its statement still get their 200. Any other failure (connection lost)
   * is the same for every row: all are refused at once, without a statement per row.
   */
  async function insertedWithout(batch: PendingInsert[], error: unknown): Promise<void> {
    if (batch.length === 1 || !causedByARow(error)) {
      for (const item of batch) item.reject(insertFailure(item.delivery, error));
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await insertMany(batch.slice(0, half));
    await insertMany(batch.slice(half));
  }

  // Several statements may be in flight at once (each on its own pooled connection), so a slow
  // commit does not hold every other delivery; under load each statement carries many rows.
  async function flush(): Promise<void> {
    inFlight += 1;
    try {
      while (queue.length > 0) {
        const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
        queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
        try {
          await insertMany(batch);
        } catch (error) {
          for (const item of batch) item.reject(error);
        }
      }
    } finally {
      inFlight -= 1;
    }
  }

  return {
    insert(delivery) {
      return new Promise<InboxInsertResult>((resolve, reject) => {
        queue.push({ delivery, resolve, reject });
        // Written once the current event-loop turn ends, so deliveries whose bodies arrived in the same
        // turn share a statement (no timer: nothing waits longer than that turn). While `maxInFlight`
        // statements run, it joins the next one instead.
        if (!scheduled && inFlight < maxInFlight) {
          scheduled = true;
          setImmediate(() => { scheduled = false; if (queue.length > 0 && inFlight < maxInFlight) void flush(); });
        }
      });
    },

    async claim({ workerId, limit, now, lockTimeoutMs, dueBefore, maxAttempts }) {
      const expired = new Date(now.getTime() - lockTimeoutMs);
      const due = dueBefore && dueBefore < now ? dueBefore : now;
      // A claim that expired means its worker died (or stalled) on the row. A row that takes its
      // worker down every time (a body that exhausts memory, a handler that exits) would be claimed
      // forever, so once it has no attempts left it is dead-lettered like any other failure, in the
      // same statement: the claim below skips exactly those rows.
      return db.$queryRawUnsafe<InboxRow[]>(
        `WITH abandoned AS (
           UPDATE shopify_webhook_inbox AS d
              SET status = 'failed', locked_at = NULL, locked_by = NULL,
                  last_error = 'its worker died during attempt ' || d.attempts || ' of ' || $6::int
                    || ' (the claim expired without the row being marked): not claimed again'
            WHERE d.id IN (SELECT id FROM shopify_webhook_inbox
                            WHERE status = 'processing' AND locked_at < $3::timestamptz AND attempts >= $6::int
                            FOR UPDATE SKIP LOCKED)
         )
         UPDATE shopify_webhook_inbox AS w
            SET status = 'processing', locked_at = $1::timestamptz, locked_by = $2, attempts = w.attempts + 1
           FROM (SELECT id FROM shopify_webhook_inbox
                  WHERE (status = 'pending' AND next_attempt_at <= $5::timestamptz)
                     OR (status = 'processing' AND locked_at < $3::timestamptz AND ($6::int IS NULL OR attempts < $6::int))
                  ORDER BY next_attempt_at, received_at
                  LIMIT $4
                  FOR UPDATE SKIP LOCKED) AS c
          WHERE w.id = c.id
      RETURNING ${columns('w.')}`,
        now.toISOString(), workerId, expired.toISOString(), limit, due.toISOString(), maxAttempts ?? null,
      ).then((rows) => rows.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime()));
    },

    async renew(ids, workerId, now) {
      if (ids.length === 0) return 0;
      return db.$executeRawUnsafe(
        `UPDATE shopify_webhook_inbox SET locked_at = $3::timestamptz
          WHERE id = ANY($1::text[]) AND locked_by = $2 AND status = 'processing'`,
        ids, workerId, now.toISOString(),
      );
    },

    async complete(ids, workerId, now, opts = {}) {
      if (ids.length === 0) return 0;
      return db.$executeRawUnsafe(
        `UPDATE shopify_webhook_inbox
            SET status = 'processed', processed_at = $3::timestamptz, locked_at = NULL, locked_by = NULL, last_error = NULL,
                body_enc = CASE WHEN $4 THEN NULL ELSE body_enc END
          WHERE id = ANY($1::text[]) AND locked_by = $2`,
        ids, workerId, now.toISOString(), opts.clearBody ?? false,
      );
    },

    async fail(id, workerId, error, nextAttemptAt, final) {
      await db.$executeRawUnsafe(
        `UPDATE shopify_webhook_inbox
            SET status = $4, last_error = $3, next_attempt_at = $5::timestamptz, locked_at = NULL, locked_by = NULL
          WHERE id = $1 AND locked_by = $2`,
        id, workerId, error.slice(0, 4000), final ? 'failed' : 'pending', nextAttemptAt.toISOString(),
      );
    },

    async replay(id, now) {
      const updated = await db.$executeRawUnsafe(
        `UPDATE shopify_webhook_inbox
            SET status = 'pending', attempts = 0, last_error = NULL, next_attempt_at = $2::timestamptz,
                locked_at = NULL, locked_by = NULL, processed_at = NULL
          WHERE id = $1 AND body_enc IS NOT NULL AND status <> 'processing'`,
        id, now.toISOString(),
      );
      if (updated > 0) return 'ok';
      const rows = await db.$queryRawUnsafe<Array<{ status: string; hasBody: boolean }>>(
        `SELECT status, body_enc IS NOT NULL AS "hasBody" FROM shopify_webhook_inbox WHERE id = $1`, id,
      );
      if (rows.length === 0) return 'not_found';
      return rows[0]!.hasBody ? 'processing' : 'no_body';
    },

    async get(id) {
      const rows = await db.$queryRawUnsafe<InboxRow[]>(`SELECT ${columns()} FROM shopify_webhook_inbox WHERE id = $1`, id);
      return rows[0] ?? null;
    },

    async countByStatus(tenantId) {
      const rows = await db.$queryRawUnsafe<Array<{ status: InboxStatus; n: number }>>(
        `SELECT status, count(*)::int AS n FROM shopify_webhook_inbox WHERE ($1::text IS NULL OR tenant_id = $1) GROUP BY status`,
        tenantId ?? null,
      );
      const out: Record<InboxStatus, number> = { pending: 0, processing: 0, processed: 0, failed: 0 };
      for (const r of rows) out[r.status] = Number(r.n);
      return out;
    },

    async purgeTenant(tenantId, keepId) {
      return db.$executeRawUnsafe(
        `DELETE FROM shopify_webhook_inbox WHERE tenant_id = $1 AND ($2::text IS NULL OR id <> $2)`, tenantId, keepId ?? null,
      );
    },

    async eraseBodies(tenantId, mentions, keepId, inBatch = []) {
      let after = '';
      let erased = 0;
      const batch = [...inBatch];
      for (;;) {
        const rows = await db.$queryRawUnsafe<Array<{ id: string; bodyEnc: string }>>(
          `SELECT id, body_enc AS "bodyEnc" FROM shopify_webhook_inbox
            WHERE tenant_id = $1 AND id > $2 AND body_enc IS NOT NULL AND (status <> 'processing' OR id = ANY($4::text[])) AND ($3::text IS NULL OR id <> $3)
            ORDER BY id LIMIT 500`,
          tenantId, after, keepId ?? null, batch,
        );
        if (rows.length === 0) return erased;
        after = rows[rows.length - 1]!.id;
        const ids = rows.filter((r) => mentions(r.bodyEnc)).map((r) => r.id);
        if (ids.length === 0) continue;
        erased += await db.$executeRawUnsafe(
          `UPDATE shopify_webhook_inbox SET body_enc = NULL,
             last_error = CASE WHEN status IN ('pending', 'failed') THEN 'not applied: its body was erased by customers/redact' ELSE last_error END,
             processed_at = CASE WHEN status IN ('pending', 'failed') THEN now() ELSE processed_at END,
             status = CASE WHEN status IN ('pending', 'failed') THEN 'processed' ELSE status END
           WHERE tenant_id = $1 AND id = ANY($2::text[]) AND (status <> 'processing' OR id = ANY($3::text[]))`,
          tenantId, ids, batch,
        );
      }
    },
  };
}

/** A customer's stored rows, PII columns still encrypted (for customers/data_request). */
export interface StoredCustomerData {
  customer: Record<string, unknown> | null;
  orders: Array<Record<string, unknown>>;
}

/**
 * Reads what is stored about one customer and the given orders (plus the customer's own orders), for
 * `customers/data_request`. Numbers and payloads come back as text so ids and money stay exact.
 */
export async function readStoredCustomerData(db: SqlExecutor, tenantId: string, customerId: bigint, orderIds: bigint[]): Promise<StoredCustomerData> {
  const customers = await db.$queryRawUnsafe<Array<Record<string, unknown>>>(
    `SELECT id::text AS id, email_enc AS "emailEnc", first_name_enc AS "firstNameEnc", last_name_enc AS "lastNameEnc",
            phone_enc AS "phoneEnc", addresses_enc AS "addressesEnc", state, tags, currency, orders_count AS "ordersCount",
            total_spent::text AS "totalSpent", shopify_created_at AS "shopifyCreatedAt", shopify_updated_at AS "shopifyUpdatedAt",
            deleted_at AS "deletedAt", payload::text AS payload
       FROM shopify_customers WHERE tenant_id = $1 AND id = $2::bigint`,
    tenantId, customerId.toString(),
  );
  const orders = await db.$queryRawUnsafe<Array<Record<string, unknown>>>(
    `SELECT id::text AS id, name, customer_id::text AS "customerId", email_enc AS "emailEnc", phone_enc AS "phoneEnc",
            financial_status AS "financialStatus", fulfillment_status AS "fulfillmentStatus", currency,
            total_price::text AS "totalPrice", processed_at AS "processedAt", shopify_created_at AS "shopifyCreatedAt",
            payload::text AS payload
       FROM shopify_orders
      WHERE tenant_id = $1 AND (customer_id = $2::bigint OR id = ANY($3::bigint[]))
      ORDER BY id`,
    tenantId, customerId.toString(), orderIds.map((id) => id.toString()),
  );
  return { customer: customers[0] ?? null, orders };
}
