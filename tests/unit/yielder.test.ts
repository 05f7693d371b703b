import { describe, expect, it } from 'vitest';
import { createYielder } from '../../src/yielder.js';

describe('createYielder', () => {
  it('gives the event loop a turn only once a stretch of work has lasted the slice', async () => {
    let now = 0;
    const pause = createYielder(5, () => now);
    const order: string[] = [];
    setImmediate(() => order.push('immediate'));
    now = 4;
    await pause();
    order.push('under the slice');
    now = 5;
    await pause();
    order.push('after yielding');
    // The stretch restarts after a yield.
    setImmediate(() => order.push('second immediate'));
    now = 9;
    await pause();
    order.push('still under');
    expect(order).toEqual(['under the slice', 'immediate', 'after yielding', 'still under']);
    await new Promise((r) => setImmediate(r));
    expect(order.at(-1)).toBe('second immediate');
  });
});
