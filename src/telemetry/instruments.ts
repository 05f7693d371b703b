/**
 * Every metric the SDK records, defined once: name, kind, unit (UCUM, as OpenTelemetry's semantic
 * conventions ask: `s` for durations, `{thing}` for counts) and the attributes it carries.
 * docs/observability.md lists the same table (a test keeps them equal).
 * https://opentelemetry.io/docs/specs/semconv/general/metrics/
 */

/** Attribute keys. `error.type` is OpenTelemetry's own; the others are the SDK's namespace. */
export const ATTR = {
  tenant: 'shopify_ingest.tenant',
  resource: 'shopify_ingest.resource',
  table: 'shopify_ingest.table',
  outcome: 'shopify_ingest.outcome',
  mode: 'shopify_ingest.sync.mode',
  source: 'shopify_ingest.sync.source',
  method: 'shopify_ingest.sync.method',
  status: 'shopify_ingest.sync.status',
  runId: 'shopify_ingest.sync.run_id',
  kind: 'shopify_ingest.api.kind',
  statusClass: 'shopify_ingest.api.status_class',
  throttle: 'shopify_ingest.api.throttle',
  topic: 'shopify_ingest.webhook.topic',
  reason: 'shopify_ingest.webhook.reason',
  errorType: 'error.type',
} as const;

export type InstrumentKind = 'counter' | 'histogram' | 'gauge';

export interface InstrumentSpec {
  name: string;
  kind: InstrumentKind;
  unit: string;
  description: string;
  /** Attribute keys it may carry (the tenant only while `tenantAttribute` is on). */
  attributes: readonly string[];
  /** Histogram bucket boundaries (the SDK's defaults are made for milliseconds). */
  buckets?: readonly number[];
}

const SECONDS_FAST = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SECONDS_SLOW = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200];

const T = ATTR.tenant;
const R = ATTR.resource;

/** The instruments, by the key code uses to record them. */
export const INSTRUMENTS = {
  syncRecords: { name: 'shopify_ingest.sync.records', kind: 'counter', unit: '{record}', description: 'Records a sync handled, by outcome: written, skipped (stored already or older), failed (could not be transformed)', attributes: [T, R, ATTR.outcome] },
  syncRows: { name: 'shopify_ingest.sync.rows', kind: 'counter', unit: '{row}', description: 'Rows a sync wrote, per table of the resource (root and child tables)', attributes: [T, R, ATTR.table] },
  syncDuration: { name: 'shopify_ingest.sync.duration', kind: 'histogram', unit: 's', description: 'Duration of sync runs', attributes: [T, R, ATTR.mode, ATTR.method, ATTR.status], buckets: SECONDS_SLOW },
  batchDuration: { name: 'shopify_ingest.sync.batch.duration', kind: 'histogram', unit: 's', description: 'Duration of one batch write (one statement, retries included)', attributes: [T, R], buckets: SECONDS_FAST },
  apiRequests: { name: 'shopify_ingest.api.requests', kind: 'counter', unit: '{request}', description: 'HTTP exchanges with the Admin API (every attempt, retries and throttled ones included)', attributes: [T, ATTR.kind, ATTR.statusClass] },
  apiDuration: { name: 'shopify_ingest.api.request.duration', kind: 'histogram', unit: 's', description: 'Duration of one Admin API exchange (rate-limit waits excluded)', attributes: [T, ATTR.kind, ATTR.statusClass], buckets: SECONDS_FAST },
  apiThrottles: { name: 'shopify_ingest.api.throttles', kind: 'counter', unit: '{response}', description: 'Responses that asked to slow down: HTTP 429 (REST or GraphQL) or GraphQL THROTTLED', attributes: [T, ATTR.kind, ATTR.throttle] },
  pointsSpent: { name: 'shopify_ingest.graphql.points.spent', kind: 'counter', unit: '{point}', description: 'GraphQL cost points spent (actualQueryCost)', attributes: [T] },
  pointsAvailable: { name: 'shopify_ingest.graphql.points.available', kind: 'gauge', unit: '{point}', description: "The shop's GraphQL bucket as its last response reported it (currentlyAvailable)", attributes: [T] },
  tokenRenewals: { name: 'shopify_ingest.token.renewals', kind: 'counter', unit: '{renewal}', description: 'Access token renewals this process made, ok or failed', attributes: [T, ATTR.outcome, ATTR.errorType] },
  webhookDeliveries: { name: 'shopify_ingest.webhook.deliveries', kind: 'counter', unit: '{delivery}', description: 'Webhook deliveries answered: accepted, duplicate, dropped (a resource the tenant does not sync), or rejected (with the reason)', attributes: [T, ATTR.outcome, ATTR.reason, ATTR.topic] },
  webhookAck: { name: 'shopify_ingest.webhook.ack.duration', kind: 'histogram', unit: 's', description: 'Time from a delivery reaching the handler to its answer (Shopify waits at most 5 s)', attributes: [ATTR.outcome], buckets: SECONDS_FAST },
  deadLettered: { name: 'shopify_ingest.webhook.dead_lettered', kind: 'counter', unit: '{delivery}', description: 'Deliveries this process failed for good (out of attempts)', attributes: [T, ATTR.topic] },
  inboxDepth: { name: 'shopify_ingest.webhook.inbox.depth', kind: 'gauge', unit: '{delivery}', description: 'Deliveries waiting in the inbox (pending or being processed), all processes', attributes: [] },
  inboxOldestAge: { name: 'shopify_ingest.webhook.inbox.oldest_age', kind: 'gauge', unit: 's', description: 'Age of the oldest waiting delivery (0 when none), all processes', attributes: [] },
  deadLetters: { name: 'shopify_ingest.webhook.dead_letters', kind: 'gauge', unit: '{delivery}', description: 'Dead letters in the inbox (status failed), all processes', attributes: [] },
} as const satisfies Record<string, InstrumentSpec>;

export type InstrumentKey = keyof typeof INSTRUMENTS;
export type CounterKey = { [K in InstrumentKey]: (typeof INSTRUMENTS)[K]['kind'] extends 'counter' ? K : never }[InstrumentKey];
export type HistogramKey = { [K in InstrumentKey]: (typeof INSTRUMENTS)[K]['kind'] extends 'histogram' ? K : never }[InstrumentKey];

/** Span names: a run, its pages or bulk files, their batch writes. */
export const SPANS = {
  run: 'shopify_ingest.sync',
  page: 'shopify_ingest.sync.page',
  bulkFile: 'shopify_ingest.sync.bulk_file',
  batch: 'shopify_ingest.sync.batch',
} as const;
