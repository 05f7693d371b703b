import { hostname } from 'node:os';
import { keyRingFromEnv, type KeyRing } from '../crypto/index.js';
import { ConfigError } from '../errors.js';
import { parseShopifyJson } from '../json.js';
import type { Logger } from '../logger.js';
import { createJsonLogger } from '../logger.js';
import { createNodeWebhookHandler, type NodeHandler } from '../node/index.js';
import { createStore } from '../store/index.js';
import { createWebhookInbox, type InboxRow, type WebhookInbox } from '../store/inbox.js';
import type { PrismaLike } from '../store/prisma-like.js';
import { resolveDatabase, type DatabaseHandle } from '../store/database-handle.js';
import type { IngestStore } from '../store/types.js';
import { ShopifyTransformer } from '../transform/index.js';
import { createYielder } from '../yielder.js';
import { packBody, unpackBody } from './body-codec.js';
import { applyWebhookEvents, type ApplyHooks, type WebhookTransformer } from './apply.js';
import { createWebhookDispatcher, type WebhookEmitter } from './dispatcher.js';
import { WebhookError } from './errors.js';
import { createWebhookCore, DEFAULT_MAX_BODY_BYTES, webRequestHandler, type AppWebhookSecrets, type ResolvedTenant, type WebhookCore } from './handler.js';
import { createInboxIdFactory } from './inbox-id.js';
import { createInboxWorker, type InboxWorker, type InboxWorkerStatus } from './inbox-worker.js';
import { createRateMeter } from './rate-meter.js';
import { INACTIVE_TENANT_TOPICS, type WebhookEvent } from './topics.js';
import { ATTR, instrumentWebhookCore, NO_TELEMETRY, type Telemetry } from '../telemetry/index.js';
import { enabledResources, isDisabledTopic } from '../resources/tenant-resources.js';
import type { ResourceName } from '../resources/registry.js';

const PRIVACY_TOPICS = new Set(['customers/redact', 'customers/data_request', 'shop/redact']);

/** How the in-process inbox worker of {@link createWebhookService} runs. */
export interface WebhookWorkerOptions {
  /** Start the in-process worker on the first accepted delivery (default true). Set false to run it yourself. */
  autoStart?: boolean;
  /** Rows claimed at once (default 100). */
  batchSize?: number;
  /** How often the inbox is polled when no delivery wakes the worker (default 1000 ms). */
  pollIntervalMs?: number;
  /** A claim older than this is taken over: the worker holding it is presumed dead (default 5 min). */
  lockTimeoutMs?: number;
  /** Retry backoff of attempt n: min(maxMs, baseMs * 2^(n-1)) plus up to 20 % jitter. */
  backoff?: {
    /** First delay (default 2 s). */
    baseMs?: number;
    /** Longest delay (default 15 min). */
    maxMs?: number;
  };
  /** Recorded in `locked_by`; default `<hostname>:<pid>:<random>`. */
  workerId?: string;
  /**
   * An idle worker woken by a delivery waits this long before it claims (default 100 ms), so
   * deliveries arriving together are applied together and a burst is recognised (ackPriority)
   * before the worker starts on it.
   */
  wakeDelayMs?: number;
  /**
   * Acknowledgements first. While this process accepts more than `abovePerSecond` deliveries a
   * second (default 500), the in-process worker applies only deliveries received at least
   * `maxDelayMs` ago (default 30 s); newer ones wait in the inbox until the burst ends or they are
   * that old. Applying a delivery costs about twice the CPU of acknowledging it, so doing both at
   * once under a burst slows the acknowledgements Shopify is waiting for (measured in
   * bench/webhooks.ts). Nothing is lost either way: deferred deliveries are stored. `false` applies
   * every delivery as soon as possible, busy or not.
   */
  ackPriority?: false | {
    /** Deliveries per second above which applying is deferred (default 500). */
    abovePerSecond?: number;
    /** Deliveries older than this are applied anyway (default 30 s). */
    maxDelayMs?: number;
  };
}

/** Options of {@link createWebhookService}. */
export interface WebhookServiceOptions extends ApplyHooks {
  /**
   * The default app's client secret(s) accepted for the HMAC. Default: `SHOPIFY_API_SECRET` (and
   * `SHOPIFY_API_SECRET_PREVIOUS`). They verify deliveries of every tenant not of one of `apps`.
   */
  secrets?: string | string[];
  /** Further apps: each app's secrets verify deliveries of its own tenants only (the tenant's `clientId`). */
  apps?: AppWebhookSecrets[];
  /** Same as `secrets` (the name Shopify's docs use). */
  apiSecret?: string;
  /** Encrypts inbox bodies (tenant id as associated data). Default: `keyRingFromEnv()`. */
  keyRing?: KeyRing;
  /** Default: `new ShopifyTransformer({ keyRing })`, the importer's transformer. */
  transformer?: WebhookTransformer;
  /**
   * Default: `createStore(prisma)`, the importer's store.
   * @internal
   */
  store?: IngestStore;
  /** Where the service logs (default: silent). */
  logger?: Logger;
  /** The current time (tests inject one). */
  clock?: () => Date;
  /** Random numbers for backoff jitter (tests inject one). */
  random?: () => number;
  /** Largest accepted body (default 2 MiB). */
  maxBodyBytes?: number;
  /** Processing attempts before a delivery stays `failed` (default 25: ~4 h of backoff). */
  maxAttempts?: number;
  /** The in-process worker that applies stored deliveries. */
  worker?: WebhookWorkerOptions;
  /** Inbox writes: most deliveries per INSERT (500) and most INSERTs in flight (2; keep below the pool size). */
  inbox?: {
    /** Most deliveries per INSERT (default 500). */
    maxBatch?: number;
    /** Most INSERTs in flight (default 2). */
    maxInFlight?: number;
  };
  /** How long a shop -> tenant lookup is cached (default 5 s; unknown shops 1 s). */
  tenantCacheTtlMs?: number;
  /** Keep the encrypted body of processed deliveries (default false: only unprocessed and failed ones keep it, for replay). */
  keepProcessedBodies?: boolean;
  /** Environment read for defaults (tests inject one). */
  env?: Record<string, string | undefined>;
  /**
   * Delivery metrics (the facade passes its own).
   * @internal
   */
  telemetry?: Telemetry;
}

/** Counters since this service was created (`pending` counts the shared inbox). */
export interface WebhookStats {
  /** Deliveries accepted (200) by this process, duplicates included. */
  received: number;
  /** Duplicate deliveries acknowledged without being stored again. */
  duplicates: number;
  /** Deliveries acknowledged unstored: topics of resources the tenant does not sync. */
  dropped: number;
  /** Deliveries applied and handled by this process. */
  processed: number;
  /** Failed processing attempts (retried or final). */
  failed: number;
  /** Rows waiting in the inbox (pending or processing), all processes. */
  pending: number;
  /** Rows that exhausted their attempts (status `failed`), all processes. */
  deadLetters: number;
}

export interface WebhookService extends WebhookEmitter {
  /** The Web-standard endpoint: `(Request) => Promise<Response>`. */
  readonly handler: (request: Request) => Promise<Response>;
  /** The same endpoint for Node `(req, res)`: reads the body straight from the socket, no Web `Request`. */
  readonly nodeHandler: NodeHandler;
  /** The same endpoint without a transport (what `handler` and `nodeHandler` wrap; the Node adapters call it directly). */
  readonly handleDelivery: WebhookCore;
  /** Logs the cause of a 500 an adapter answered (misconfigured mount, unexpected error), once, with this service's logger. */
  reportError(error: unknown): void;
  /** Largest accepted body, for adapters that buffer before calling the handler. */
  readonly maxBodyBytes: number;
  /** Starts the in-process worker (rows left unprocessed by a previous run are picked up first). */
  start(): void;
  /** Stops the worker after the batch in flight. */
  stop(): Promise<void>;
  /** Whether the in-process worker runs, how long its batch in flight has taken, and its last error. */
  getWorkerStatus(): InboxWorkerStatus;
  /** Processes every due row now; returns how many were claimed. */
  processPending(): Promise<number>;
  /** Puts a stored delivery back to pending (after a fix), attempts reset. */
  replayWebhook(id: string): Promise<void>;
  /** Counters of this process and the inbox's pending count. */
  getStats(): Promise<WebhookStats>;
  /**
   * The inbox data access (inspection, tests).
   * @internal
   */
  readonly inbox: WebhookInbox;
  /**
   * Drops this process's cached shop -> tenant lookups of these shops (the facade calls it when a tenant is added, moved or removed).
   * @internal
   */
  forgetShops(...shopDomains: string[]): void;
}

function secretsFrom(options: WebhookServiceOptions, env: Record<string, string | undefined>): string[] {
  const given = options.secrets ?? options.apiSecret;
  const list = given !== undefined
    ? (Array.isArray(given) ? given : [given])
    : [env.SHOPIFY_API_SECRET, env.SHOPIFY_API_SECRET_PREVIOUS];
  const secrets = list.filter((s): s is string => typeof s === 'string' && s.length > 0);
  if (secrets.length === 0 && !(options.apps ?? []).some((a) => a.secrets.some(Boolean))) {
    throw new ConfigError('createWebhookService: no webhook secret; pass `secrets` (or `apps`) or set SHOPIFY_API_SECRET');
  }
  return secrets;
}

/**
 * The webhook service: verifies, stores durably, then processes Shopify webhooks through the
 * importer's transformers and store, and dispatches them to your handlers.
 *
 * Deliveries are acknowledged once INSERTed into `shopify_webhook_inbox` (body encrypted); an
 * in-process worker applies them (create/update/delete topics, `app/uninstalled`, the privacy
 * topics) and then runs your handlers. Failures are retried with backoff and kept for replay.
 *
 * @example
 * ```ts
 * const webhooks = createWebhookService(prisma, { secrets: process.env.SHOPIFY_API_SECRET! });
 * webhooks.on('orders/paid', async (event) => notify(event.tenantId, event.payload.name));
 * webhooks.onError((error) => logger.error(error.message));
 * app.post('/webhooks/shopify', shopifyWebhooks(webhooks)); // from 'shopify-ingest/express'
 * webhooks.start();
 * ```
 */
export function createWebhookService(database: PrismaLike | DatabaseHandle, options: WebhookServiceOptions = {}): WebhookService {
  const db = resolveDatabase(database);
  const prisma = db.prisma;
  const env = options.env ?? process.env;
  const secrets = secretsFrom(options, env);
  const logger = options.logger ?? createJsonLogger();
  const clock = options.clock ?? (() => new Date());
  // Resolved now, so a missing ENCRYPTION_KEY fails at start-up rather than on the first webhook.
  const keyRing = options.keyRing ?? keyRingFromEnv(env);
  const store = options.store ?? createStore(db);
  const transformer = options.transformer ?? new ShopifyTransformer({ keyRing: keyRing });
  const inbox = createWebhookInbox(db, options.inbox);
  const dispatcher = createWebhookDispatcher();
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const ttl = options.tenantCacheTtlMs ?? 5000;
  // Lookups in flight are shared, so a burst for one shop costs one query, not one per delivery.
  const tenantCache = new Map<string, { lookup: Promise<{ tenantId: string | null; clientId: string | null; active: boolean; resources: readonly ResourceName[] }>; expires: number }>();
  const stats = { received: 0, duplicates: 0, dropped: 0, processed: 0, failed: 0 };
  const workerOptions = options.worker ?? {};
  const telemetry = options.telemetry ?? NO_TELEMETRY;
  const workerId = workerOptions.workerId ?? `${hostname()}:${process.pid}:${(options.random ?? Math.random)().toString(36).slice(2, 8)}`;

  async function resolveTenant(shopDomain: string, topic: string): Promise<ResolvedTenant | null> {
    const tenant = await lookupTenant(shopDomain);
    if (!tenant.tenantId) return null;
    return tenant.active || INACTIVE_TENANT_TOPICS.includes(topic) ? { tenantId: tenant.tenantId, clientId: tenant.clientId } : null;
  }

  function lookupTenant(shopDomain: string) {
    const now = clock().getTime();
    let entry = tenantCache.get(shopDomain);
    if (!entry || entry.expires <= now) {
      const cached = {
        lookup: store.getTenantByShop(shopDomain).then((t) => ({ tenantId: t?.id ?? null, clientId: t?.clientId ?? null, active: t?.isActive ?? false, resources: enabledResources(t?.config) })),
        expires: now + ttl,
      };
      entry = cached;
      tenantCache.set(shopDomain, cached);
      // A failed lookup is not cached; an unknown shop is remembered for at most a second.
      cached.lookup.then((t) => { if (!t.tenantId) cached.expires = now + Math.min(ttl, 1000); }, () => { if (tenantCache.get(shopDomain) === cached) tenantCache.delete(shopDomain); });
    }
    return entry.lookup;
  }

  // Keys are the shops as their deliveries name them; a lookup matches any case (getTenantByShop).
  function forgetShops(...shopDomains: string[]): void {
    const forgotten = new Set(shopDomains.map((shop) => shop.toLowerCase()));
    for (const shop of tenantCache.keys()) if (forgotten.has(shop.toLowerCase())) tenantCache.delete(shop);
  }

  const nextInboxId = createInboxIdFactory();

  function toEvent(row: InboxRow): WebhookEvent {
    if (row.bodyEnc === null) throw new WebhookError('WEBHOOK_BODY_NOT_RETAINED', `webhook ${row.id} has no stored body`, { topic: row.topic });
    const payload = parseShopifyJson<Record<string, unknown>>(unpackBody(keyRing.decrypt(row.bodyEnc, row.tenantId)));
    return {
      id: row.id, topic: row.topic, tenantId: row.tenantId, shopDomain: row.shopDomain, webhookId: row.webhookId,
      eventId: row.eventId, apiVersion: row.apiVersion, triggeredAt: row.triggeredAt, receivedAt: row.receivedAt,
      attempt: row.attempts, payload,
    } as WebhookEvent;
  }

  async function processRows(rows: InboxRow[]): Promise<Map<string, unknown>> {
    const failures = new Map<string, unknown>();
    const events: WebhookEvent[] = [];
    const pause = createYielder(); // acknowledgements get a turn at least every 5 ms
    for (const row of rows) {
      try { events.push(toEvent(row)); } catch (error) { failures.set(row.id, error); }
      await pause();
    }
    const applied = await applyWebhookEvents({
      db: prisma, store, inbox, transformer, keyRing: keyRing, logger, clock,
      hooks: {
        onDataRequest: options.onDataRequest,
        fetchRecord: options.fetchRecord,
        onTenantDeactivated: async (tenantId) => {
          // Dropped whole: the next delivery of any shop looks its tenant up again.
          tenantCache.clear();
          await options.onTenantDeactivated?.(tenantId);
        },
      },
    }, events);
    for (const [id, error] of applied.failures) failures.set(id, error);
    for (const event of events) {
      if (failures.has(event.id) || applied.skipped.has(event.id)) continue;
      try { await dispatcher.dispatch(event); } catch (error) { failures.set(event.id, error); }
    }
    return failures;
  }

  // Deliveries accepted per second, for ackPriority.
  // A short window, so a burst is seen within the worker's wake delay, before it starts applying.
  const accepted = createRateMeter({ windowMs: 200, buckets: 10 });
  const ackPriority = workerOptions.ackPriority === false ? null : {
    abovePerSecond: workerOptions.ackPriority?.abovePerSecond ?? 500,
    maxDelayMs: workerOptions.ackPriority?.maxDelayMs ?? 30_000,
  };

  const worker: InboxWorker = createInboxWorker({
    inbox,
    process: processRows,
    workerId,
    batchSize: workerOptions.batchSize,
    pollIntervalMs: workerOptions.pollIntervalMs,
    wakeDelayMs: workerOptions.wakeDelayMs ?? 100,
    lockTimeoutMs: workerOptions.lockTimeoutMs,
    maxAttempts: options.maxAttempts,
    backoff: workerOptions.backoff,
    // Privacy deliveries name a customer: never kept, whatever keepProcessedBodies says.
    clearBodyOnSuccess: options.keepProcessedBodies ? (row) => PRIVACY_TOPICS.has(row.topic) : true,
    clock,
    random: options.random,
    logger,
    onProcessed: (n) => { stats.processed += n; },
    onFailed: (row, _error, final) => {
      stats.failed += 1;
      if (final) telemetry.forTenant(row.tenantId).add('deadLettered', 1, { [ATTR.topic]: row.topic });
    },
    deferUntilOlderThan: ackPriority
      ? (now) => (accepted.perSecond(now.getTime()) > ackPriority.abovePerSecond ? new Date(now.getTime() - ackPriority.maxDelayMs) : null)
      : undefined,
  });

  const handleDelivery = instrumentWebhookCore(createWebhookCore({
    secrets,
    apps: options.apps,
    maxBodyBytes,
    logger,
    resolveTenant,
    async accept(delivery) {
      const receivedAt = clock();
      // A disabled resource's topic (its subscription not removed yet, or app-specific in the toml):
      // acknowledged so Shopify does not retry it for 4 hours, and not stored.
      if (isDisabledTopic(delivery.topic, (await lookupTenant(delivery.shopDomain)).resources)) {
        stats.received += 1;
        stats.dropped += 1;
        telemetry.forTenant(delivery.tenantId).add('webhookDeliveries', 1, { [ATTR.outcome]: 'dropped', [ATTR.topic]: delivery.topic });
        return { id: '', inserted: false, dropped: true };
      }
      const result = await inbox.insert({
        id: nextInboxId(receivedAt),
        tenantId: delivery.tenantId,
        webhookId: delivery.webhookId,
        eventId: delivery.eventId,
        topic: delivery.topic,
        shopDomain: delivery.shopDomain,
        apiVersion: delivery.apiVersion,
        triggeredAt: delivery.triggeredAt,
        // The inbox must not hold plaintext PII: the body is sealed for its tenant.
        bodyEnc: keyRing.encrypt(packBody(delivery.rawBody), delivery.tenantId),
        receivedAt,
      }).catch((error: unknown) => {
        // The tenant was removed, or moved to another shop (in another process), while its shop was
        // cached here: the insert refused it (404, like an unknown shop); the next delivery looks the shop up again.
        if ((error as { code?: unknown } | null)?.code === 'TENANT_NOT_FOUND') tenantCache.delete(delivery.shopDomain);
        throw error;
      });
      stats.received += 1;
      accepted.mark(receivedAt.getTime());
      telemetry.forTenant(delivery.tenantId).add('webhookDeliveries', 1, { [ATTR.outcome]: result.inserted ? 'accepted' : 'duplicate', [ATTR.topic]: delivery.topic });
      if (!result.inserted) stats.duplicates += 1;
      else if (workerOptions.autoStart !== false && !worker.running) worker.start();
      if (result.inserted) worker.wake();
      return result;
    },
  }), telemetry);

  const reportError = (error: unknown) => {
    // By code, not class: an adapter may come from another copy of the package (ESM and CJS builds).
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'WEBHOOK_RAW_BODY_UNAVAILABLE') {
      logger.error('webhook answered 500: the route is mounted behind a JSON body parser, so no delivery can be verified', { code, advice: (error as Error).message });
    } else if (code === 'WEBHOOK_REQUEST_ABORTED') {
      // The sender gave up mid-body (Shopify closes after 5 s and retries): not a fault of the app.
      logger.debug('webhook request closed by the sender before its body was complete', { code });
    } else {
      logger.error('webhook answered 500: unexpected error', { error });
    }
  };
  const handler = webRequestHandler(handleDelivery, reportError);
  const nodeHandler = createNodeWebhookHandler(handleDelivery, { onError: reportError });

  return {
    handler,
    nodeHandler,
    handleDelivery,
    reportError,
    maxBodyBytes,
    inbox,
    forgetShops,
    on: dispatcher.on,
    onAny: dispatcher.onAny,
    onError: dispatcher.onError,
    removeListener: dispatcher.removeListener,
    start: () => worker.start(),
    stop: () => worker.stop(),
    getWorkerStatus: () => worker.getStatus(),
    processPending: () => worker.drain(),
    async replayWebhook(id) {
      const result = await inbox.replay(id, clock());
      if (result === 'not_found') throw new WebhookError('WEBHOOK_NOT_FOUND', `replayWebhook: no inbox row ${id}`);
      if (result === 'no_body') throw new WebhookError('WEBHOOK_BODY_NOT_RETAINED', `replayWebhook: inbox row ${id} was processed and its body dropped (set keepProcessedBodies to replay processed deliveries)`);
      if (result === 'processing') throw new WebhookError('WEBHOOK_BUSY', `replayWebhook: inbox row ${id} is being processed right now`);
      worker.wake();
    },
    async getStats() {
      const counts = await inbox.countByStatus();
      return { ...stats, pending: counts.pending + counts.processing, deadLetters: counts.failed };
    },
  };
}
