/**
 * Fault injection: Shopify's bad days on demand. Each API request draws at most one fault, from a
 * scripted sequence first (consumed in arrival order), then by rate from a seeded stream, so a
 * run with the same seed and request order sees the same faults.
 */
import { createRandom, hashString, type Random } from './prng.js';

/**
 * - `server_error`: a 5xx (500/502/503/504 in turn) with Shopify's JSON error body;
 * - `reset`: headers and part of the body are sent, then the connection is destroyed;
 * - `slow`: the answer is delayed by `slowMs` (wall-clock, not time-scaled: client timeouts are wall-clock);
 * - `malformed`: a 200 whose body is not JSON (an HTML error page, as proxies send);
 * - `truncated`: a 200 whose JSON stops halfway (Content-Length matches what is sent);
 * - `storm`: another app fills the shop's bucket first, so this request (and the next ones) get 429.
 */
export type FaultKind = 'server_error' | 'reset' | 'slow' | 'malformed' | 'truncated' | 'storm';

/** Every fault the simulator can inject. */
export const FAULT_KINDS: readonly FaultKind[] = ['server_error', 'reset', 'slow', 'malformed', 'truncated', 'storm'];

/** Which faults to inject, how often, where. */
export interface FaultOptions {
  /** Probability per API request of each fault (the sum must be <= 1). */
  rates?: Partial<Record<FaultKind, number>>;
  /** Faults for the next requests, in order (`'none'` lets one through); used before rates. */
  script?: Array<FaultKind | 'none'>;
  /** Delay of `slow` responses in ms (default 2000). */
  slowMs?: number;
  /** Only these shops (domains) get faults; default all. */
  shops?: string[];
  /** Only requests whose path (after `/admin/api/{version}/`) matches get faults; default all. */
  paths?: RegExp;
}

/**
 * Creates the fault decider.
 *
 * @example
 * ```ts
 * const faults = createFaultInjector(7, { rates: { server_error: 0.1 } });
 * faults.draw('a.myshopify.com', 'orders.json') // 'server_error' about one time in ten
 * ```
 */
export function createFaultInjector(seed: number, initial: FaultOptions = {}) {
  let options: FaultOptions = { ...initial };
  let script: Array<FaultKind | 'none'> = [...(initial.script ?? [])];
  let random: Random = createRandom(hashString(`faults:${seed}`));
  let serverErrorTurn = 0;
  const counts: Record<FaultKind, number> = { server_error: 0, reset: 0, slow: 0, malformed: 0, truncated: 0, storm: 0 };

  return {
    /** Faults injected so far, per kind. */
    counts,
    /** Replaces the options (and the script). */
    configure(next: FaultOptions): void {
      options = { ...next };
      script = [...(next.script ?? [])];
    },
    /** Appends faults to the script. */
    script(...faults: Array<FaultKind | 'none'>): void {
      script.push(...faults);
    },
    /** Removes every fault (rates and script). */
    clear(): void {
      options = {};
      script = [];
    },
    /** Restarts the fault sequence from another seed. */
    reseed(next: number): void {
      random = createRandom(hashString(`faults:${next}`));
    },
    /** Delay of `slow` answers in ms. */
    get slowMs(): number {
      return options.slowMs ?? 2000;
    },
    /** Status of the next `server_error` (500, 502, 503, 504 in turn). */
    nextServerErrorStatus(): number {
      const statuses = [500, 502, 503, 504];
      return statuses[serverErrorTurn++ % statuses.length];
    },
    /** Decides the fault of one request (undefined = none) and counts it. */
    draw(shopDomain: string, path: string): FaultKind | undefined {
      if (options.shops && !options.shops.includes(shopDomain)) return undefined;
      if (options.paths && !options.paths.test(path)) return undefined;
      let fault: FaultKind | undefined;
      if (script.length) {
        const next = script.shift()!;
        fault = next === 'none' ? undefined : next;
      } else if (options.rates) {
        const u = random();
        let acc = 0;
        for (const kind of FAULT_KINDS) {
          acc += options.rates[kind] ?? 0;
          if (u < acc) { fault = kind; break; }
        }
      }
      if (fault) counts[fault]++;
      return fault;
    },
  };
}

/** Decides, per request, whether a fault is injected (seeded: the same seed gives the same faults). */
export type FaultInjector = ReturnType<typeof createFaultInjector>;
