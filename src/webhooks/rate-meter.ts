/**
 * Counts events over a sliding window (in fixed buckets, so memory and cost stay constant whatever
 * the rate): how many deliveries this process acknowledged in the last second, say.
 *
 * @example
 * ```ts
 * const meter = createRateMeter();
 * meter.mark(Date.now());
 * meter.perSecond(Date.now()); // 1
 * ```
 */
export interface RateMeter {
  /** Records `count` events at `nowMs`. */
  mark(nowMs: number, count?: number): void;
  /** Events per second over the window ending at `nowMs`. */
  perSecond(nowMs: number): number;
}

export function createRateMeter(options: { windowMs?: number; buckets?: number } = {}): RateMeter {
  const windowMs = options.windowMs ?? 1000;
  const size = options.buckets ?? 10;
  const bucketMs = windowMs / size;
  const counts = new Array<number>(size).fill(0);
  /** Index (time / bucketMs) of the newest bucket written; older ones within the window are still valid. */
  let newest = -Infinity;

  /** Zeroes the buckets that fell out of the window between the newest write and `index`. */
  function advance(index: number): void {
    if (index <= newest) return;
    const stale = Math.min(size, index - newest);
    for (let k = 1; k <= stale; k++) counts[(((index - stale + k) % size) + size) % size] = 0;
    newest = index;
  }

  return {
    mark(nowMs, count = 1) {
      const index = Math.floor(nowMs / bucketMs);
      advance(index);
      // A time before the newest bucket (a clock step back) counts in the newest one.
      const at = index < newest ? newest : index;
      counts[((at % size) + size) % size] += count;
    },
    perSecond(nowMs) {
      advance(Math.floor(nowMs / bucketMs));
      let total = 0;
      for (const c of counts) total += c;
      return (total * 1000) / windowMs;
    },
  };
}
