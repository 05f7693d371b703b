/**
 * Listing of a singleton resource (`GraphqlSource.singleton`: the shop): one query for the one
 * object, written through the frame's pipeline like any record. Full and incremental runs are the
 * same, since there is nothing to page and reading it costs a few points.
 */
import { SPANS } from '../telemetry/instruments.js';
import { ImportError } from './errors.js';
import { completeRecord, queryKeepingPartialData } from './pages-listing.js';
import { singletonQuery } from './queries.js';
import { updatedAtOf, type RunFrame } from './run-frame.js';
import type { GraphqlImportClient } from './types.js';

/** Reads the object into the frame's pipeline; returns its `updated_at` (ms) once committed, or null. */
export async function singletonListing(frame: RunFrame, client: GraphqlImportClient): Promise<number | null> {
  const field = frame.resource.graphql.connection;
  const withheld = new Set<string>();
  let committed: number | null = null;
  const pipeline = frame.pipeline<number | null>('complete', (updatedAt) => { committed = updatedAt; });
  frame.openListingSpan(SPANS.page, { 'shopify_ingest.page.singleton': field });
  try {
    frame.observedAt = frame.deps.clock();
    const data = await queryKeepingPartialData<Record<string, unknown>>(client, singletonQuery(frame.resource), {}, frame.options.signal, withheld);
    frame.pages++;
    const node = data?.[field];
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      throw new ImportError(`${frame.name} of tenant ${frame.tenantId}: Shopify returned no ${field} object`, { code: 'SHOPIFY_BAD_RESPONSE' });
    }
    await completeRecord(frame.resource, client, node as Record<string, unknown>, withheld, frame.options.signal, () => { frame.pages++; });
    frame.total = 1;
    await pipeline.add(frame.recordUnit(node, updatedAtOf(node)));
  } catch (error) {
    frame.fail(error);
  }
  await frame.endPipeline(pipeline);
  frame.closeListingSpan(frame.failed ?? undefined);
  if (withheld.size > 0) frame.warnings.push(`Shopify withheld fields (${[...withheld].sort().join(', ')}): stored as null`);
  return committed;
}
