/**
 * Iterates `source` while already fetching its next item: the request for page n+1 is in flight
 * while page n is transformed and queued, so network time and CPU time overlap. Holds at most one
 * extra page. Closing the iteration early closes the source.
 *
 * @example
 * ```ts
 * for await (const page of lookahead(client.pages('/orders.json', { status: 'any' }))) handle(page);
 * ```
 */
export async function* lookahead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | null = iterator.next();
  try {
    while (pending !== null) {
      const current: IteratorResult<T> = await pending;
      if (current.done) { pending = null; return; }
      pending = iterator.next();
      // A rejection of the prefetch is seen on the next await; until then it must not be "unhandled".
      pending.catch(() => {});
      yield current.value;
    }
  } finally {
    if (pending) {
      // Stopped early: let the in-flight request settle, then close the source (its finally blocks run).
      await pending.catch(() => {});
      await iterator.return?.();
    }
  }
}

/**
 * Each item of `source` with the time its request began (`clock()` when it was asked for): what a
 * page's records are stamped with (`observed_at`, store/versioning.ts), also when {@link lookahead}
 * asks for it while the page before is still being written.
 */
export async function* timed<T>(source: AsyncIterable<T>, clock: () => Date): AsyncGenerator<{ value: T; sentAt: Date }> {
  const iterator = source[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      const sentAt = clock();
      const current = await iterator.next();
      if (current.done) { done = true; return; }
      yield { value: current.value, sentAt };
    }
  } finally {
    if (!done) await iterator.return?.();
  }
}
