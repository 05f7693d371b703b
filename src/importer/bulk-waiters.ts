/**
 * Wakes bulk-operation polls when a `bulk_operations/finish` webhook arrives in this process, so a
 * sync reacts at once instead of at its next poll. Shopify does not guarantee that webhook, and it
 * may reach another instance, so the poll never relies on it.
 */
export interface BulkWaiters {
  /** Resolves when `notify(operationId)` is called; rejects when `signal` aborts. */
  wait(operationId: string, signal: AbortSignal): Promise<void>;
  /** An operation finished (from its webhook). */
  notify(operationId: string): void;
}

/**
 * @example
 * ```ts
 * const waiters = createBulkWaiters();
 * webhooks.on('bulk_operations/finish', (e) => waiters.notify(e.payload.admin_graphql_api_id));
 * createImportService(prisma, client, tenantId, { bulk: { wake: waiters.wait } });
 * ```
 */
export function createBulkWaiters(): BulkWaiters {
  const waiting = new Map<string, Set<() => void>>();
  return {
    wait(operationId, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal.aborted) { reject(signal.reason); return; }
        const set = waiting.get(operationId) ?? new Set();
        waiting.set(operationId, set);
        const done = () => { cleanup(); resolve(); };
        const onAbort = () => { cleanup(); reject(signal.reason); };
        const cleanup = () => {
          set.delete(done);
          if (set.size === 0) waiting.delete(operationId);
          signal.removeEventListener('abort', onAbort);
        };
        set.add(done);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    notify(operationId) {
      for (const done of [...(waiting.get(operationId) ?? [])]) done();
    },
  };
}
