import { DEFAULT_API_VERSION } from '../../src/client/config.js';
import type { Logger } from '../../src/logger.js';

/** Virtual time: `sleep` advances the clock instantly and records the requested delays. */
export function virtualTime(start = 1_700_000_000_000) {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    // Sleeps that overlap in time overlap on this clock too: a sleep started at t resolves with the
    // clock at (at least) t + ms, as real timers would, instead of concurrent sleeps adding up.
    sleep: async (ms: number) => {
      sleeps.push(ms);
      const until = t + ms;
      await Promise.resolve();
      t = Math.max(t, until);
    },
    advance(ms: number) {
      t += ms;
    },
    sleeps,
  };
}

/** A logger that records its calls. */
export function recordingLogger() {
  const lines: Array<{ level: string; message: string; meta?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, meta?: Record<string, unknown>) => void lines.push({ level, message, meta });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

export const SHOP = 'test-shop.myshopify.com';
export const ORIGIN = `https://${SHOP}`;
export const TOKEN = 'shpat_test_token_123';
export const API = `/admin/api/${DEFAULT_API_VERSION}`;
