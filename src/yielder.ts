/**
 * Cooperative time slicing for CPU-bound loops that share the event loop with request handling
 * (the in-process webhook worker beside the acknowledgements): `await pause()` after each item
 * gives the event loop a turn (`setImmediate`, so pending I/O runs first) once the current stretch
 * of work has lasted `sliceMs`, and costs nothing otherwise.
 *
 * @example
 * ```ts
 * const pause = createYielder(5);
 * for (const row of rows) { work(row); await pause(); }
 * ```
 */
export function createYielder(sliceMs = 5, now: () => number = () => performance.now()): () => Promise<void> {
  let since = now();
  return async () => {
    if (now() - since < sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = now();
  };
}
