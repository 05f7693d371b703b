/**
 * Webhook delivery as Shopify does it: a POST of the REST-shaped payload with Shopify's headers,
 * signed with the app secret; retried when the receiver answers non-2xx or not within 5 seconds,
 * up to 8 tries with exponential backoff. https://shopify.dev/docs/apps/build/webhooks/troubleshooting-webhooks
 * Duplicate and out-of-order deliveries, which Shopify warns receivers about, can be switched on.
 * Every attempt is recorded for assertions.
 */
import { createHmac } from 'node:crypto';
import { createRandom, hashString, uuidFrom, type Random } from './prng.js';
import type { Clock } from './clock.js';
import type { JsonObject } from './generator.js';
import type { ShopChange, SimulatedShop, WebhookTopic } from './shop.js';
import { stringifyShopifyJson } from '../json.js';
import type { Logger } from '../logger.js';
import { restBody } from './rest-api.js';

/** Delivery behaviour. */
export interface WebhookDeliveryOptions {
  /** Wall-clock ms a receiver has to answer before the attempt counts as failed (Shopify: 5 s). */
  timeoutMs?: number;
  /** Attempts per delivery, the first included (Shopify: 8). */
  maxAttempts?: number;
  /** Backoff before retry n is `backoffMs * 2^(n-1)` simulated ms, divided by timeScale. Default 60 000. */
  backoffMs?: number;
  /** Retry failed deliveries (default true). */
  retries?: boolean;
  /** Probability that a delivery is sent twice (same X-Shopify-Webhook-Id), as Shopify may. */
  duplicateRate?: number;
  /** Delay each first attempt by a random 0..maxDelayMs (wall ms) so deliveries arrive out of order. */
  outOfOrder?: {
    /** Each delivery waits a random time up to this before it is sent. */
    maxDelayMs: number;
  };
  /** Deliver at all (default true); when false, deliveries are only recorded as `skipped`. */
  enabled?: boolean;
  /** Attempts in flight at once (default 16); more wait in a queue, as Shopify paces deliveries. */
  concurrency?: number;
}

/** One attempt of one delivery. */
export interface WebhookDeliveryRecord {
  /** `X-Shopify-Webhook-Id` (the same on retries and duplicates). */
  webhookId: string;
  /** `X-Shopify-Event-Id`. */
  eventId: string;
  /** The topic. */
  topic: string;
  /** The shop that sent it. */
  shop: string;
  /** Where it was sent. */
  address: string;
  /** Attempt number (1 for the first try; Shopify retries failures with backoff). */
  attempt: number;
  /** An extra copy of a delivery already sent (`duplicateRate`). */
  duplicate: boolean;
  /** Raw body as sent (the HMAC covers exactly these bytes). */
  body: string;
  /** Headers sent. */
  headers: Record<string, string>;
  /** Receiver's HTTP status, when it answered. */
  status?: number;
  /** Network error or timeout message. */
  error?: string;
  /** The receiver answered 2xx in time. */
  ok: boolean;
  /** Not sent (the dispatcher was stopped first). */
  skipped?: boolean;
  /** When it was sent (epoch ms). */
  sentAt: number;
  /** How long the receiver took. */
  durationMs: number;
}

/**
 * Base64 HMAC-SHA256 of the raw body with the app secret: `X-Shopify-Hmac-Sha256`.
 * https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook
 *
 * @example
 * ```ts
 * signWebhookBody('{"foo": "bar"}', 'test_secret_key') // 'B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g='
 * ```
 */
export function signWebhookBody(body: string | Buffer, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

interface Job {
  shop: string;
  topic: string;
  address: string;
  body: string;
  webhookId: string;
  eventId: string;
  triggeredAt: string;
  attempt: number;
  duplicate: boolean;
}

/**
 * Creates the dispatcher the simulator uses; reachable as `simulator.webhooks`.
 *
 * @example
 * ```ts
 * sim.shops[0].subscribe('orders/updated', 'http://127.0.0.1:3000/webhooks');
 * sim.shops[0].markOrderPaid(orderId);
 * await sim.webhooks.waitForDeliveries();
 * sim.webhooks.deliveries.map((d) => [d.topic, d.status]);
 * ```
 */
export function createWebhookDispatcher(init: WebhookDeliveryOptions & {
  seed: number;
  apiSecret: string;
  apiVersion: string;
  timeScale: number;
  clock: Clock;
  fetch?: typeof fetch;
  logger: Logger;
}) {
  let options: WebhookDeliveryOptions = { ...init };
  const random: Random = createRandom(hashString(`webhooks:${init.seed}`));
  // Webhook ids drawn per shop: two simulators with one seed give their shops different ids, as
  // Shopify's are unique per delivery (the SDK refuses an id it holds for another shop as a replay).
  const idStreams = new Map<string, Random>();
  const webhookIdFor = (shop: string): string => {
    let stream = idStreams.get(shop);
    if (!stream) idStreams.set(shop, (stream = createRandom(hashString(`webhook-ids:${init.seed}:${shop}`))));
    return uuidFrom(stream);
  };
  const doFetch = init.fetch ?? globalThis.fetch;
  const deliveries: WebhookDeliveryRecord[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let pending = 0;
  let eventCounter = 0;
  let stopped = false;
  let idleWaiters: Array<() => void> = [];

  const settle = () => {
    if (pending === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  function later(ms: number, fn: () => void): void {
    const t = setTimeout(() => { timers.delete(t); fn(); }, Math.max(0, ms));
    timers.add(t);
  }

  async function attempt(job: Job): Promise<void> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'Shopify-Captain-Hook',
      'X-Shopify-Topic': job.topic,
      'X-Shopify-Hmac-Sha256': signWebhookBody(job.body, init.apiSecret),
      'X-Shopify-Shop-Domain': job.shop,
      'X-Shopify-API-Version': init.apiVersion,
      'X-Shopify-Webhook-Id': job.webhookId,
      'X-Shopify-Event-Id': job.eventId,
      'X-Shopify-Triggered-At': job.triggeredAt,
    };
    const record: WebhookDeliveryRecord = {
      webhookId: job.webhookId, eventId: job.eventId, topic: job.topic, shop: job.shop, address: job.address,
      attempt: job.attempt, duplicate: job.duplicate, body: job.body, headers, ok: false, sentAt: init.clock(), durationMs: 0,
    };
    deliveries.push(record);
    if (options.enabled === false) { record.skipped = true; return; }
    const started = performance.now();
    try {
      const res = await doFetch(job.address, {
        method: 'POST', headers, body: job.body, signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      record.status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      record.ok = res.status >= 200 && res.status < 300;
    } catch (error) {
      record.error = (error as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs ?? 5000} ms` : (error as Error).message;
    }
    record.durationMs = performance.now() - started;
    const max = options.maxAttempts ?? 8;
    if (!record.ok && options.retries !== false && job.attempt < max && !stopped) {
      const delay = ((options.backoffMs ?? 60_000) * 2 ** (job.attempt - 1)) / init.timeScale;
      pending++;
      later(delay, () => { run({ ...job, attempt: job.attempt + 1 }); });
    } else if (!record.ok) {
      init.logger.warn('simulated webhook delivery gave up', { topic: job.topic, address: job.address, attempts: job.attempt });
    }
  }

  const queue: Job[] = [];
  let active = 0;

  function pump(): void {
    while (active < Math.max(1, options.concurrency ?? 16) && queue.length && !stopped) {
      const job = queue.shift()!;
      active++;
      // attempt() records its own failures and never rejects.
      void attempt(job).finally(() => {
        active--;
        // After stop() zeroed the count, attempts still in flight must not drive it negative.
        pending = Math.max(0, pending - 1);
        settle();
        pump();
      });
    }
  }

  function run(job: Job): void {
    queue.push(job);
    pump();
  }

  function enqueue(job: Job): void {
    if (stopped) return;
    const copies = random() < (options.duplicateRate ?? 0) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      pending++;
      const delay = options.outOfOrder ? random() * options.outOfOrder.maxDelayMs : 0;
      const copy = { ...job, duplicate: c > 0 };
      if (delay > 0 || c > 0) later(delay, () => run(copy));
      else run(copy);
    }
  }

  /** Delivers one topic of a shop to every subscription of that topic. */
  function deliver(shop: SimulatedShop, topic: WebhookTopic | string, payload: JsonObject, eventId?: string): void {
    const subs = shop.subscriptions.filter((s) => s.topic === topic);
    if (!subs.length) return;
    const body = stringifyShopifyJson(restBody(topic.split('/')[0]!, payload));
    const event = eventId ?? String(++eventCounter + 1_000_000_000);
    const triggeredAt = new Date(init.clock()).toISOString();
    for (const sub of subs) {
      enqueue({ shop: shop.domain, topic, address: sub.address, body, webhookId: webhookIdFor(shop.domain), eventId: event, triggeredAt, attempt: 1, duplicate: false });
    }
  }

  return {
    /** Every attempt so far, in the order they were sent. */
    /** Every delivery attempt so far, in the order they were sent. */
    deliveries,
    /** Sends the webhooks of a change to the shop's subscriptions. */
    deliver,
    /** Delivers the topics of a mutation (one event id shared by its topics). */
    dispatchChange(shop: SimulatedShop, change: ShopChange): void {
      const eventId = String(++eventCounter + 1_000_000_000);
      for (const { topic, payload } of change.topics) deliver(shop, topic, payload, eventId);
    },
    /** Changes the delivery behaviour from now on. */
    configure(next: WebhookDeliveryOptions): void {
      options = { ...options, ...next };
    },
    /** Deliveries (including scheduled retries) not finished yet. */
    get pending(): number {
      return pending;
    },
    /** Resolves when no delivery or retry is pending; rejects after `timeoutMs` (default 10 s). */
    waitForDeliveries(timeoutMs = 10_000): Promise<void> {
      if (pending === 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`[shopify-ingest] simulator webhooks still pending after ${timeoutMs} ms (${pending} left)`)), timeoutMs);
        idleWaiters.push(() => { clearTimeout(t); resolve(); });
      });
    },
    /** Forgets recorded deliveries. */
    clear(): void {
      deliveries.length = 0;
    },
    /** Stops delivering: pending and retried deliveries are skipped. */
    stop(): void {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      queue.length = 0;
      pending = 0;
      settle();
    },
  };
}

/**
 * Sends a shop's changes to its subscriptions as signed webhooks (HMAC, headers, retries, duplicates, shuffling).
 */
export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;
