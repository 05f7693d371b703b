/**
 * `shopify-ingest retry-failures`: fetches the records of outstanding failures again from Shopify
 * (by id, up to 100 per request) and writes them the way a sync does. What fails again is recorded
 * again under a run of its own; a record Shopify no longer has leaves the list (nothing to import).
 */
import KSUID from 'ksuid';
import type { IngestionService } from '../service.js';
import { ShopifyTransformer } from '../transform/index.js';
import { RESOURCE_ADAPTERS, shopifyIdOf, type ResourceAdapter } from '../importer/resources.js';
import type { ResourceType } from '../store/rows.js';
import type { PrismaLike } from '../store/prisma-like.js';
import { forgetFailures, listOutstandingFailures, type OutstandingFailure } from '../store/failures.js';

/** Shopify's `ids` filter takes a comma-separated list; 100 keeps URLs short and fits one page (limit 250). */
const IDS_PER_REQUEST = 100;

/** What a retry of one tenant's resource did. */
export interface RetryOutcome {
  tenantId: string;
  resource: ResourceType;
  runId: string;
  /** Failures retried (records with a readable id). */
  retried: number;
  imported: number;
  /** Failed again (recorded under `runId`). */
  failed: number;
  /** Gone from Shopify since: their failures were dropped. */
  gone: number;
  /** Failures without a record id: they cannot be fetched again. */
  withoutId: number;
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 2000 ? message.slice(0, 2000) : message;
}

/** Retries every outstanding failure matching the filter; one run per tenant and resource. */
export async function retryFailures(
  service: IngestionService,
  prisma: PrismaLike,
  filter: { tenantId?: string; resource?: string; signal?: AbortSignal },
): Promise<RetryOutcome[]> {
  const failures = await listOutstandingFailures(prisma, { tenantId: filter.tenantId, resource: filter.resource, limit: 10_000 });
  const groups = new Map<string, OutstandingFailure[]>();
  for (const failure of failures) {
    const key = `${failure.tenantId}\u0000${failure.resource}`;
    groups.set(key, [...(groups.get(key) ?? []), failure]);
  }
  const outcomes: RetryOutcome[] = [];
  for (const group of groups.values()) {
    if (filter.signal?.aborted) break;
    const { tenantId, resource } = group[0]!;
    if (!(resource in RESOURCE_ADAPTERS)) continue;
    outcomes.push(await retryGroup(service, prisma, tenantId, resource as ResourceType, group, filter.signal));
  }
  return outcomes;
}

async function retryGroup(
  service: IngestionService,
  prisma: PrismaLike,
  tenantId: string,
  resource: ResourceType,
  failures: OutstandingFailure[],
  signal: AbortSignal | undefined,
): Promise<RetryOutcome> {
  const adapter = RESOURCE_ADAPTERS[resource] as ResourceAdapter<unknown>;
  const client = await service.getClient(tenantId);
  const transformer = new ShopifyTransformer({ keyRing: service.keyRing });
  const store = service.store;
  const ids = [...new Set(failures.filter((f) => f.shopifyId !== null).map((f) => f.shopifyId!))];
  const runId = KSUID.randomSync().string;
  const outcome: RetryOutcome = { tenantId, resource, runId, retried: ids.length, imported: 0, failed: 0, gone: 0, withoutId: failures.length - ids.length };
  await store.startRun({ id: runId, tenantId, resource, mode: 'incremental', options: { retryFailures: true, ids: ids.length } });
  let status: 'succeeded' | 'failed' | 'cancelled' = 'succeeded';
  let runError: string | null = null;
  try {
    for (let i = 0; i < ids.length; i += IDS_PER_REQUEST) {
      if (signal?.aborted) { status = 'cancelled'; runError = 'interrupted'; break; }
      const chunk = ids.slice(i, i + IDS_PER_REQUEST);
      const found = new Set<bigint>();
      const units: unknown[] = [];
      const again: Array<{ shopifyId: bigint | null; reason: string }> = [];
      for await (const page of client.pages<unknown>(adapter.path, { ...adapter.baseQuery, ids: chunk.join(','), limit: 250 })) {
        for (const raw of page) {
          const id = shopifyIdOf(raw);
          if (id !== null) found.add(id);
          try {
            units.push(adapter.transform(transformer, raw, tenantId));
          } catch (error) {
            again.push({ shopifyId: id, reason: reasonOf(error) });
          }
        }
      }
      if (units.length > 0) {
        try {
          const written = await adapter.write(store, tenantId, units);
          outcome.imported += written.written + written.stale;
        } catch (error) {
          // One bad row fails the batch statement: write one by one to find it, keep the others.
          for (const unit of units) {
            try {
              const written = await adapter.write(store, tenantId, [unit]);
              outcome.imported += written.written + written.stale;
            } catch (single) {
              again.push({ shopifyId: idOfUnit(unit), reason: reasonOf(single) });
            }
          }
          void error;
        }
      }
      if (again.length > 0) {
        await store.recordFailures(runId, tenantId, resource, again);
        outcome.failed += again.length;
      }
      const gone = chunk.filter((id) => !found.has(id));
      if (gone.length > 0) {
        await forgetFailures(prisma, tenantId, resource, gone);
        outcome.gone += gone.length;
      }
    }
  } catch (error) {
    status = 'failed';
    runError = reasonOf(error);
    throw error;
  } finally {
    await store.finishRun(runId, tenantId, {
      status,
      error: runError,
      counts: { fetched: outcome.retried - outcome.gone, imported: outcome.imported, failed: outcome.failed },
    });
  }
  return outcome;
}

/** The Shopify id of a transformed unit (a customer row, or a bundle of one order / product). */
function idOfUnit(unit: unknown): bigint | null {
  const u = unit as { id?: unknown; orders?: Array<{ id?: unknown }>; products?: Array<{ id?: unknown }> };
  const id = u.id ?? u.orders?.[0]?.id ?? u.products?.[0]?.id;
  return typeof id === 'bigint' ? id : null;
}
