/** The test helper that keeps a test's run clear of the default schedule's minutes (tests/helpers/schedules.ts). */
import { describe, expect, it } from 'vitest';
import { clearOfScheduledMinutes, scheduledMinutes } from '../helpers/schedules.js';
import { DEFAULT_SYNC_CONFIG } from '../../src/scheduler/index.js';

describe('scheduledMinutes / clearOfScheduledMinutes', () => {
  it('reads the minutes the default schedule fires in', () => {
    const minutes = scheduledMinutes(DEFAULT_SYNC_CONFIG);
    for (const m of [0, 15, 20, 30]) expect(minutes.has(m)).toBe(true);
    expect(minutes.has(10)).toBe(false);
    expect([...scheduledMinutes({ a: { schedule: '*/20 * * * *' }, b: { schedule: '5,7 * * * *' }, c: { enabled: false, schedule: '9 * * * *' } })].sort((x, y) => x - y)).toEqual([0, 5, 7, 20, 40]);
    expect(scheduledMinutes({ a: { schedule: '*/5 * * * * *' } }).size).toBe(60);
  });

  it('returns at once in a clear window and refuses when no window can be clear', async () => {
    const at = (iso: string) => () => Date.parse(iso);
    await expect(clearOfScheduledMinutes(DEFAULT_SYNC_CONFIG, 150_000, at('2026-12-04T10:05:10Z'))).resolves.toBe(0);
    await expect(clearOfScheduledMinutes({ a: { schedule: '* * * * *' } }, 1_000, at('2026-12-04T10:05:10Z'))).rejects.toThrow(/no clear window/);
  });

  it('waits past a scheduled minute inside the window, and past one that has just begun', async () => {
    for (const start of ['2026-12-04T10:13:50Z', '2026-12-04T10:30:20Z']) {
      let t = Date.parse(start);
      const waits: number[] = [];
      const originalSetTimeout = globalThis.setTimeout;
      // Time passes only when the helper sleeps.
      globalThis.setTimeout = ((fn: () => void, ms: number) => { waits.push(ms); t += ms; return originalSetTimeout(fn, 0); }) as typeof setTimeout;
      try {
        const waited = await clearOfScheduledMinutes(DEFAULT_SYNC_CONFIG, 150_000, () => t);
        expect(waited).toBeGreaterThan(0);
        // Clear: no scheduled minute from the start of the current minute to the window's end.
        for (let b = Math.floor(t / 60_000) * 60_000; b <= t + 150_000; b += 60_000) expect(scheduledMinutes(DEFAULT_SYNC_CONFIG).has(new Date(b).getUTCMinutes())).toBe(false);
      } finally {
        globalThis.setTimeout = originalSetTimeout;
      }
    }
  });
});
