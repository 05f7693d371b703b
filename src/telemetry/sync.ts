/** A sync run's span and duration, opened before its lock is taken and closed with its result. */
import type { ImportResult } from '../importer/types.js';
import { ATTR, SPANS } from './instruments.js';
import type { Telemetry, TelemetrySpan } from './telemetry.js';

/** The span of one run and how to close it. */
export interface SyncRunTrace {
  /** Parent of the run's page, bulk file and batch spans. */
  span: TelemetrySpan;
  /** Records the duration (with mode, method and status) and ends the span. */
  end(result: ImportResult | null, error?: unknown): void;
}

export function startSyncRun(telemetry: Telemetry, run: { resource: string; source: string; runId: string; dryRun: boolean }): SyncRunTrace {
  const started = performance.now();
  const span = telemetry.startSpan(SPANS.run, { [ATTR.resource]: run.resource, [ATTR.source]: run.source, [ATTR.runId]: run.runId, 'shopify_ingest.sync.dry_run': run.dryRun });
  return {
    span,
    end(result, error) {
      const attributes = {
        [ATTR.resource]: run.resource,
        [ATTR.status]: result?.status ?? 'failed',
        ...(result ? { [ATTR.mode]: result.mode, [ATTR.method]: result.method } : {}),
      };
      telemetry.record('syncDuration', (performance.now() - started) / 1000, attributes);
      if (result) span.set({ ...attributes, 'shopify_ingest.sync.fetched': result.fetched, 'shopify_ingest.sync.imported': result.imported, 'shopify_ingest.sync.pages': result.pages });
      span.end(error);
    },
  };
}
