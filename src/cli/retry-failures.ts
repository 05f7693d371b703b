/**
 * `shopify-ingest retry-failures`: fetches the records of outstanding failures again from Shopify
 * (one GraphQL `node` query per record, nested connections completed, as `orders/edited` does) and
 * writes them the way a sync does. What fails again is recorded again under a run of its own; a
 * record Shopify no longer has leaves the list (nothing to import).
 */
import KSUID from 'ksuid';
import type { IngestionService } from '../service.js';
import { ShopifyTransformer } from '../transform/index.js';
import { fetchRecord } from '../importer/pages-listing.js';
import { getResource, isResourceName } from '../resources/registry.js';
import { graphqlSourcesOf, type ResourceDefinition } from '../resources/definition.js';
import type { ResourceType } from '../store/rows.js';
import type { PrismaLike } from '../store/prisma-like.js';
import { forgetFailures, listOutstandingFailures, type OutstandingFailure } from '../store/failures.js';
import { redactText } from '../logger.js';
import { stampObserved } from '../store/resource-writer.js';

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
  const message = redactText(error instanceof Error ? error.message : String(error));
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
    if (!isResourceName(resource)) continue;
    outcomes.push(await retryGroup(service, prisma, tenantId, resource, group, filter.signal));
  }
  return outcomes;
}

// A failure holds the record's numeric id only. A resource listed by several GraphQL listings
// (metafields: one per owner type) is asked for through each in turn: through the first alone, a
// customer's metafields were not found and their failure dropped as if Shopify had deleted it.
async function fetchAgain(client: Awaited<ReturnType<IngestionService['getClient']>>, definition: ResourceDefinition, id: bigint, signal: AbortSignal | undefined): Promise<Record<string, unknown> | null> {
  for (const source of graphqlSourcesOf(definition)) {
    const record = await fetchRecord(client, source === definition.graphql ? definition : { ...definition, graphql: source }, id, signal);
    if (record !== null) return record;
  }
  return null;
}

async function retryGroup(
  service: IngestionService,
  prisma: PrismaLike,
  tenantId: string,
  resource: ResourceType,
  failures: OutstandingFailure[],
  signal: AbortSignal | undefined,
): Promise<RetryOutcome> {
  const definition = getResource(resource);
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
    const gone: bigint[] = [];
    for (const id of ids) {
      if (signal?.aborted) { status = 'cancelled'; runError = 'interrupted'; break; }
      const sentAt = new Date();
      const record = await fetchAgain(client, definition, id, signal);
      if (record === null) { gone.push(id); continue; }
      try {
        await store.writeRows(tenantId, resource, stampObserved(definition, transformer.toRows(resource, record, tenantId), sentAt));
        outcome.imported += 1;
      } catch (error) {
        await store.recordFailures(runId, tenantId, resource, [{ shopifyId: id, reason: reasonOf(error) }]);
        outcome.failed += 1;
      }
    }
    if (gone.length > 0) {
      await forgetFailures(prisma, tenantId, resource, gone);
      outcome.gone += gone.length;
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
