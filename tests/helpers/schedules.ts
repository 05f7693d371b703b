/**
 * A scheduler `syncConfig` that schedules only what it names: every registry resource is disabled
 * first. Without this a test keeps every other resource's default schedule (inventory at :15,
 * discounts at :20, orders every 30 minutes, …), and a run that crosses such a minute starts jobs
 * the test never asked for.
 */
import cron from 'node-cron';
import { RESOURCE_NAMES } from '../../src/resources/index.js';

export function onlyScheduled<T extends Record<string, unknown>>(config: T): Record<string, { enabled: false }> & T {
  return { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { enabled: false as const }])), ...config };
}

/**
 * The minutes of the hour at which an enabled job of `config` may fire: its cron's minute field as
 * node-cron (the scheduler's own parser) reads it; hours and days are ignored, so this errs on the
 * side of more minutes.
 */
export function scheduledMinutes(config: Record<string, { enabled?: boolean; schedule?: string }>): Set<number> {
  const minutes = new Set<number>();
  for (const job of Object.values(config)) {
    if (job.enabled !== false && job.schedule) for (const m of cron.parse(job.schedule).minute) minutes.add(m);
  }
  return minutes;
}

/**
 * Waits until the next `windowMs` hold no minute in which a job of `config` may fire (nor is one
 * still in its first minute), for a test that must run the default schedule as written (the
 * seed's README samples) and must not have scheduled runs start beside its own. Returns the ms waited.
 */
export async function clearOfScheduledMinutes(config: Record<string, { enabled?: boolean; schedule?: string }>, windowMs: number, now: () => number = Date.now): Promise<number> {
  const minutes = scheduledMinutes(config);
  if (minutes.size === 60) throw new Error('every minute is scheduled: there is no clear window');
  const started = now();
  for (;;) {
    const t = now();
    const first = Math.floor(t / 60_000) * 60_000;
    let conflict = -1;
    for (let boundary = first; boundary <= t + windowMs; boundary += 60_000) {
      if (minutes.has(new Date(boundary).getUTCMinutes())) conflict = boundary;
    }
    if (conflict < 0) return t - started;
    await new Promise((resolve) => setTimeout(resolve, conflict + 61_000 - t));
  }
}
