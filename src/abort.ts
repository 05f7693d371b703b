/**
 * Waiting that stops when an `AbortSignal` fires. Every wait of a call that was given a signal (a
 * THROTTLED wait, a turn in a limiter's queue, a retry's backoff) goes through these, so aborting a
 * run ends it promptly instead of after the longest sleep in flight.
 */

/** A sleep: resolves after `ms`; may stop early (rejecting with the signal's reason) when given a signal. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** `setTimeout` as a promise; rejects with the signal's reason (and clears the timer) when it fires. */
export function timerSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return; }
    const onAbort = () => { clearTimeout(timer); reject(signal!.reason); };
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `promise`, or a rejection with the signal's reason as soon as the signal fires, whichever comes
 * first. The promise itself is not stopped (its rejection, if any, is then ignored).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error); },
    );
  });
}

/** A signal that fires when `own` does or, when given, the caller's `signal` does (whichever first). */
export function eitherSignal(signal: AbortSignal | undefined, own: AbortSignal): AbortSignal {
  return signal ? AbortSignal.any([signal, own]) : own;
}

/**
 * Sleeps `ms` with `sleep` (an injected one may ignore the signal), ending early with the signal's
 * reason when it fires.
 */
export function abortableSleep(sleep: Sleep, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return sleep(ms);
  if (signal.aborted) return Promise.reject(signal.reason);
  return untilAborted(sleep(ms, signal), signal);
}
