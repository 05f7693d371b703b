import { vi } from 'vitest';

// Captured before any test fakes the timers: settle() waits for I/O in real time.
const realSetTimeout = globalThis.setTimeout;

/**
 * A fake clock for the scheduler's tests.
 *
 * node-cron 4 takes no clock: its Runner reads the time with `new Date()` and waits for the next
 * tick with `setTimeout` (node_modules/node-cron/dist/_shared.js, `Runner.start`). The scheduler's
 * own clock defaults to `new Date()`, and its lease heartbeats and cleanup use `setInterval`. Faking
 * exactly these globals runs the production node-cron, overlap checks and lease coordinator on
 * simulated time. `setImmediate`, `process.nextTick`, `queueMicrotask` and `performance` stay
 * real, so database and network I/O complete as usual while the clock stands still.
 */
export interface FakeClock {
  /**
   * Moves the clock `ms` forward, firing each timer due on the way at its own time and letting
   * promises settle after each one (vitest's `advanceTimersByTimeAsync`).
   */
  advance(ms: number): Promise<void>;
  /** Moves the clock forward to `at` (see {@link FakeClock.advance}). */
  advanceTo(at: Date | string): Promise<void>;
  /** The fake time. */
  now(): Date;
  /** Puts the real timers back. */
  restore(): void;
}

/**
 * Fakes `Date`, `setTimeout`, `clearTimeout`, `setInterval` and `clearInterval`, starting at `start`.
 *
 * @example
 * ```ts
 * const clock = useFakeClock('2030-01-01T03:17:20Z');
 * await scheduler.startScheduler();
 * await clock.advanceTo('2030-01-01T03:30:00Z'); // the *\/15 job has run once
 * clock.restore();
 * ```
 */
export function useFakeClock(start: Date | string): FakeClock {
  vi.useFakeTimers({ now: new Date(start), toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  const clock: FakeClock = {
    async advance(ms) {
      await vi.advanceTimersByTimeAsync(ms);
    },
    async advanceTo(at) {
      const ms = new Date(at).getTime() - Date.now();
      if (ms < 0) throw new Error(`advanceTo(${new Date(at).toISOString()}): the clock is already at ${clock.now().toISOString()}`);
      await clock.advance(ms);
    },
    now: () => new Date(),
    restore: () => { vi.useRealTimers(); },
  };
  return clock;
}

/**
 * Waits, in real time and without moving a fake clock, until `done()` holds: for database or
 * network I/O started by a tick to finish. `timeoutMs` only bounds a failing test.
 */
export async function settle(done: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`settle: still waiting after ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => realSetTimeout(resolve, 5));
  }
}
