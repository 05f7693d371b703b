/**
 * What the framework adapters share when they mount: the service they were given is checked at
 * once (mounting `shopifyService.webhooks` before `initialize()` passes `undefined`, which used to
 * surface as a TypeError or a bare 500 on the first delivery), and an unexpected failure while
 * answering a delivery is logged with its cause before the 500 goes out.
 */
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { nodeHandlerFor, type NodeHandler, type NodeHandlerOptions, type NodeWebhookEndpoint } from '../node/index.js';

/** Throws a {@link ConfigError} that says what to pass, unless `service` is a webhook endpoint. */
export function assertWebhookEndpoint(adapter: string, service: unknown): asserts service is NodeWebhookEndpoint {
  const endpoint = service as Partial<NodeWebhookEndpoint> | null | undefined;
  if (!endpoint || (typeof endpoint.handler !== 'function' && typeof endpoint.handleDelivery !== 'function')) {
    throw new ConfigError(
      `${adapter}: no webhook service to mount (got ${endpoint === null ? 'null' : typeof endpoint}). Pass createWebhookService(prisma, { secrets }) `
      + 'or shopifyService.webhooks after `await shopifyService.initialize()` with SHOPIFY_API_SECRET set.',
    );
  }
}

/**
 * Logs the cause of a 500 once: through the service's `reportError` (a `createWebhookService()`
 * result logs with its logger), else its `logger`, else stderr.
 */
export function reportMountedFailure(adapter: string, service: unknown, error: unknown): void {
  const report = (service as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === 'function') {
    report.call(service, error);
    return;
  }
  const logger = (service as { logger?: Logger }).logger;
  if (logger) {
    logger.error('webhook delivery failed unexpectedly; answered 500', { adapter, error });
    return;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`[shopify-ingest] ${adapter}: webhook delivery failed unexpectedly; answered 500: ${detail}\n`);
}

/** The Node handler an adapter mounts: checked endpoint, failures logged. */
export function mountWebhookHandler(adapter: string, service: unknown, options: Omit<NodeHandlerOptions, 'onError'> = {}): NodeHandler {
  assertWebhookEndpoint(adapter, service);
  return nodeHandlerFor(service, { ...options, onError: (error) => reportMountedFailure(adapter, service, error) });
}
