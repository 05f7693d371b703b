import { ShopifyIngestError } from '../errors.js';
import type { WebhookEvent, WebhookTopic } from './topics.js';

/** A handler for one topic; the event's payload is typed by the topic. */
export type WebhookHandlerFn<T extends string = string> = (event: WebhookEvent<T>) => unknown | Promise<unknown>;

/**
 * Thrown (and passed to `onError` handlers) when handlers fail: `WEBHOOK_HANDLER_FAILED`, with
 * every failure in `errors` (the first is also the `cause`) and the event.
 */
export class WebhookHandlerAggregateError extends ShopifyIngestError {
  /** What each failing handler threw. */
  readonly errors: unknown[];
  /**
   * @param errors What each failing handler threw.
   * @param event The delivery whose handlers failed.
   * @internal
   */
  constructor(errors: unknown[], readonly event: WebhookEvent) {
    super('WEBHOOK_HANDLER_FAILED', `${errors.length} handler(s) failed for webhook ${event.topic} (${event.webhookId}): ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`, {
      cause: errors[0], details: { topic: event.topic, webhookId: event.webhookId, failures: errors.length },
    });
    this.errors = errors;
  }
}

/** Registration API shared by the dispatcher and the webhook service. */
export interface WebhookEmitter {
  /** Adds a handler for one topic or several. Known topics get a typed payload. */
  on<T extends WebhookTopic>(topic: T | T[], handler: WebhookHandlerFn<T>): void;
  /** Adds a handler for topics the SDK does not type (the payload is a plain object). */
  on(topic: string | string[], handler: WebhookHandlerFn): void;
  /** Adds a handler for every topic. */
  onAny(handler: WebhookHandlerFn): void;
  /** Adds an error handler, called with the aggregate error of a failed dispatch. */
  onError(handler: (error: WebhookHandlerAggregateError) => unknown | Promise<unknown>): void;
  /** Removes a handler added with `on`. */
  removeListener(topic: string | string[], handler: WebhookHandlerFn<never>): void;
}

export interface WebhookDispatcher extends WebhookEmitter {
  /**
   * Runs the topic's handlers and `onAny` handlers concurrently. When any fails, `onError` handlers
   * run and a {@link WebhookHandlerAggregateError} carrying the event is thrown.
   */
  dispatch(event: WebhookEvent): Promise<void>;
  /** True when a handler would run for this topic. */
  hasHandlers(topic: string): boolean;
}

/**
 * A dispatcher after octokit/webhooks.js: `on(topic | topic[])`, `onAny`, `onError`, failures
 * gathered into one {@link WebhookHandlerAggregateError} carrying the event.
 *
 * @example
 * ```ts
 * const d = createWebhookDispatcher();
 * d.on(['orders/create', 'orders/paid'], (event) => notify(event.payload.name));
 * d.onError((error) => logger.error(error.message, { topic: error.event.topic }));
 * ```
 */
export function createWebhookDispatcher(): WebhookDispatcher {
  const byTopic = new Map<string, WebhookHandlerFn[]>();
  const any: WebhookHandlerFn[] = [];
  const errorHandlers: Array<(error: WebhookHandlerAggregateError) => unknown> = [];

  const dispatcher: WebhookDispatcher = {
    on(topic: string | string[], handler: WebhookHandlerFn) {
      for (const t of Array.isArray(topic) ? topic : [topic]) {
        const list = byTopic.get(t) ?? [];
        list.push(handler);
        byTopic.set(t, list);
      }
    },
    onAny(handler) {
      any.push(handler);
    },
    onError(handler) {
      errorHandlers.push(handler);
    },
    removeListener(topic, handler) {
      for (const t of Array.isArray(topic) ? topic : [topic]) {
        const list = byTopic.get(t);
        if (!list) continue;
        const i = list.indexOf(handler as WebhookHandlerFn);
        if (i >= 0) list.splice(i, 1);
      }
    },
    hasHandlers(topic) {
      return any.length > 0 || (byTopic.get(topic)?.length ?? 0) > 0;
    },
    async dispatch(event) {
      const handlers = [...(byTopic.get(event.topic) ?? []), ...any];
      if (handlers.length === 0) return;
      const results = await Promise.allSettled(handlers.map(async (h) => h(event)));
      const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
      if (errors.length === 0) return;
      const aggregate = new WebhookHandlerAggregateError(errors, event);
      await Promise.allSettled(errorHandlers.map(async (h) => h(aggregate)));
      throw aggregate;
    },
  };
  return dispatcher;
}
