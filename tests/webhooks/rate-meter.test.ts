import { describe, expect, it } from 'vitest';
import { createRateMeter } from '../../src/webhooks/rate-meter.js';

describe('createRateMeter', () => {
  it('counts events of the last window only', () => {
    const meter = createRateMeter({ windowMs: 1000, buckets: 10 });
    expect(meter.perSecond(5_000)).toBe(0);
    meter.mark(5_000, 30);
    meter.mark(5_450, 20);
    expect(meter.perSecond(5_500)).toBe(50);
    // 5,000's bucket leaves the window at 6,000; 5,450's at 6,400.
    expect(meter.perSecond(6_050)).toBe(20);
    expect(meter.perSecond(6_450)).toBe(0);
  });

  it('scales to per second for other windows, and survives long gaps and a clock step back', () => {
    const meter = createRateMeter({ windowMs: 250, buckets: 5 });
    meter.mark(10_000, 10);
    expect(meter.perSecond(10_100)).toBe(40);
    expect(meter.perSecond(99_999_000)).toBe(0);
    meter.mark(99_999_000, 1);
    meter.mark(99_998_000, 1); // before the newest bucket: counted in it, not lost
    expect(meter.perSecond(99_999_010)).toBe(8);
  });
});
