/**
 * A scheduler `syncConfig` that schedules only what it names: every registry resource is disabled
 * first. Without this a test keeps every other resource's default schedule (inventory at :15,
 * discounts at :20, orders every 30 minutes, …), and a run that crosses such a minute starts jobs
 * the test never asked for.
 */
import { RESOURCE_NAMES } from '../../src/resources/index.js';

export function onlyScheduled<T extends Record<string, unknown>>(config: T): Record<string, { enabled: false }> & T {
  return { ...Object.fromEntries(RESOURCE_NAMES.map((name) => [name, { enabled: false as const }])), ...config };
}
