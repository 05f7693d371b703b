/**
 * Mounting the adapters with something that is not a webhook service fails at once with advice;
 * an unexpected failure while answering is logged with its cause, not only answered 500.
 */
import { describe, expect, it, vi } from 'vitest';
import express from 'express';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { shopifyWebhooks } from '../../src/adapters/express.js';
import { shopifyWebhooksPlugin } from '../../src/adapters/fastify.js';
import { createNextPagesWebhookHandler, createNextWebhookHandler } from '../../src/adapters/next.js';
import { ConfigError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';

const broken = (logger?: Logger) => ({
  handler: async () => { throw new Error('inbox table is gone'); },
  handleDelivery: async () => { throw new Error('inbox table is gone'); },
  ...(logger ? { logger } : {}),
});

function recordingLogger(): Logger & { errors: Array<{ message: string; context: unknown }> } {
  const errors: Array<{ message: string; context: unknown }> = [];
  const noop = () => {};
  return { errors, debug: noop, info: noop, warn: noop, error: (message: string, context?: unknown) => { errors.push({ message, context }); } } as never;
}

describe('mounting the adapters', () => {
  it('an undefined service (webhooks mounted before initialize) is a ConfigError at mount time, saying what to pass', async () => {
    for (const mount of [
      () => shopifyWebhooks(undefined as never),
      () => createNextWebhookHandler(undefined as never),
      () => createNextPagesWebhookHandler({} as never),
    ]) {
      expect(mount).toThrow(ConfigError);
      expect(mount).toThrow(/no webhook service to mount .*shopifyService\.webhooks after `await shopifyService\.initialize\(\)`/);
    }
    const app = Fastify();
    await expect(app.register(shopifyWebhooksPlugin, { service: undefined as never }).ready()).rejects.toThrow(/shopifyWebhooksPlugin \(shopify-ingest\/fastify\): no webhook service/);
    await app.close();
  });

  it('an unexpected failure is logged with its cause (service logger, else stderr) and answered 500', async () => {
    const logger = recordingLogger();
    const app = express();
    app.post('/hook', shopifyWebhooks(broken(logger) as never));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(500);
      expect(logger.errors).toHaveLength(1);
      expect(logger.errors[0]!.message).toMatch(/webhook delivery failed unexpectedly/);
      expect(String((logger.errors[0]!.context as { error: Error }).error.message)).toBe('inbox table is gone');
    } finally {
      server.close();
    }

    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const res = await createNextWebhookHandler(broken() as never).POST(new Request('http://x/hook', { method: 'POST', body: '{}' }));
      expect(res.status).toBe(500);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch(/\[shopify-ingest\] createNextWebhookHandler \(shopify-ingest\/next\): webhook delivery failed unexpectedly; answered 500: Error: inbox table is gone/);
    } finally {
      stderr.mockRestore();
    }
  });
});
