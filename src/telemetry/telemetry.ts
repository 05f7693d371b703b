/**
 * OpenTelemetry metrics and traces, through `@opentelemetry/api` when it is installed (an optional
 * peer dependency) and nothing at all when it is not: the module is looked up once, when the
 * service is created, and a failed lookup leaves a no-op {@link Telemetry} that costs a property
 * read per call site. Providers can be injected; by default the global ones of the API are used, so
 * register your SDK before creating the service (the API has no proxy for meter providers).
 *
 * One instance is created by the facade and handed down explicitly (client, importer, webhooks,
 * token renewal): no module-level state. Instruments are listed in instruments.ts.
 */
import { createRequire } from 'node:module';
import { silentLogger, type Logger } from '../logger.js';
import { ATTR, INSTRUMENTS, type CounterKey, type HistogramKey, type InstrumentKey } from './instruments.js';

/** Attribute values the SDK records. */
export type Attributes = Record<string, string | number | boolean>;

/** The facade's `telemetry` option (docs/observability.md). */
export interface TelemetryOptions {
  /** Default: `@opentelemetry/api`'s global one. */
  meterProvider?: { getMeter(name: string): unknown };
  /** Default: `@opentelemetry/api`'s global one. */
  tracerProvider?: { getTracer(name: string): unknown };
  /** Tenant attribute on metrics (default true). */
  tenantAttribute?: boolean;
  /**
   * Loads `@opentelemetry/api` (default: `require` from this package); tests make it fail.
   * @internal
   */
  require?: (id: string) => unknown;
  /**
   * Current time in ms, for the age of gauge values (default `Date.now`).
   * @internal
   */
  now?: () => number;
}

// The parts of @opentelemetry/api the SDK uses, structurally, so its types need not be installed.
interface CounterLike { add(value: number, attributes?: Attributes): void }
interface HistogramLike { record(value: number, attributes?: Attributes): void }
interface ObservableLike { readonly __observable?: never }
interface BatchResultLike { observe(observable: ObservableLike, value: number, attributes?: Attributes): void }
type BatchCallback = (result: BatchResultLike) => void | Promise<void>;
interface MeterLike {
  createCounter(name: string, options: object): CounterLike;
  createHistogram(name: string, options: object): HistogramLike;
  createObservableGauge(name: string, options: object): ObservableLike;
  addBatchObservableCallback(callback: BatchCallback, observables: ObservableLike[]): void;
  removeBatchObservableCallback(callback: BatchCallback, observables: ObservableLike[]): void;
}
interface SpanLike {
  setAttributes(attributes: Attributes): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(exception: Error | string): unknown;
  end(): void;
}
interface TracerLike { startSpan(name: string, options?: { attributes?: Attributes }, context?: unknown): SpanLike }
interface OtelApiLike {
  metrics?: { getMeterProvider(): { getMeter(name: string): unknown } };
  trace?: { getTracerProvider(): { getTracer(name: string): unknown }; setSpan(context: unknown, span: SpanLike): unknown };
  context?: { active(): unknown };
}

const SCOPE = 'shopify-ingest';
/** `SpanStatusCode.ERROR` of the API. */
const STATUS_ERROR = 2;
/** A tenant whose client reported nothing for this long drops out of the points gauge. */
const GAUGE_STALE_MS = 15 * 60_000;

/** What the inbox gauges read at each collection (the facade runs its health queries). */
export interface InboxSample {
  /** Deliveries pending or being processed. */
  waiting: number;
  /** Age of the oldest of them in seconds, 0 when none. */
  oldestAgeSeconds: number;
  /** Rows with status failed. */
  deadLetters: number;
}

/** A span, or nothing. */
export class TelemetrySpan {
  /** @internal */
  constructor(readonly span: SpanLike | null) {}

  /** Adds attributes. */
  set(attributes: Attributes): void {
    this.span?.setAttributes(attributes);
  }

  /** Ends the span; with an error, its status is ERROR and the exception is recorded. */
  end(error?: unknown): void {
    if (!this.span) return;
    if (error !== undefined) {
      const e = error instanceof Error ? error : new Error(String(error));
      this.span.recordException(e);
      const code = (error as { code?: unknown })?.code;
      this.span.setStatus({ code: STATUS_ERROR, message: e.message });
      if (typeof code === 'string') this.span.setAttributes({ [ATTR.errorType]: code });
    }
    this.span.end();
  }
}

/** A span that records nothing. */
export const NO_SPAN = new TelemetrySpan(null);

/** Shared by a Telemetry and the copies `forTenant` makes. */
interface Core {
  meter: MeterLike | null;
  tracer: TracerLike | null;
  api: OtelApiLike | null;
  tenantAttribute: boolean;
  counters: Map<InstrumentKey, CounterLike>;
  histograms: Map<InstrumentKey, HistogramLike>;
  gauges: Map<InstrumentKey, ObservableLike>;
  points: Map<string, { value: number; attributes: Attributes; at: number }>;
  now: () => number;
}

/**
 * The SDK's instruments and tracer, bound to base attributes (a tenant). Everything is a no-op when
 * `enabled` is false.
 */
export class Telemetry {
  private pointsKey: string | undefined;

  private constructor(private readonly core: Core | null, private readonly metricBase: Attributes, private readonly spanBase: Attributes) {}

  /** @internal */
  static create(core: Core | null): Telemetry {
    return new Telemetry(core, {}, {});
  }

  /** Whether anything is recorded. */
  get enabled(): boolean {
    return this.core !== null;
  }

  /** The same instruments with the tenant's attribute (on metrics only while `tenantAttribute` is on; spans always carry it). */
  forTenant(tenantId: string): Telemetry {
    if (!this.core) return this;
    const attribute = { [ATTR.tenant]: tenantId };
    return new Telemetry(this.core, this.core.tenantAttribute ? { ...this.metricBase, ...attribute } : this.metricBase, { ...this.spanBase, ...attribute });
  }

  /** Adds to a counter. */
  add(key: CounterKey, value: number, attributes?: Attributes): void {
    if (!this.core || value === 0) return;
    this.core.counters.get(key)?.add(value, attributes ? { ...this.metricBase, ...attributes } : this.metricBase);
  }

  /** Records a histogram value. */
  record(key: HistogramKey, value: number, attributes?: Attributes): void {
    if (!this.core) return;
    this.core.histograms.get(key)?.record(value, attributes ? { ...this.metricBase, ...attributes } : this.metricBase);
  }

  /** The GraphQL points the shop's bucket holds, as its last response said. */
  pointsAvailable(value: number): void {
    if (!this.core) return;
    this.pointsKey ??= JSON.stringify(this.metricBase);
    this.core.points.set(this.pointsKey, { value, attributes: this.metricBase, at: this.core.now() });
  }

  /** Starts a span (a child of `parent` when given). */
  startSpan(name: string, attributes: Attributes, parent?: TelemetrySpan | null): TelemetrySpan {
    const core = this.core;
    if (!core?.tracer) return NO_SPAN;
    const api = core.api;
    const context = parent?.span && api?.trace && api.context ? api.trace.setSpan(api.context.active(), parent.span) : undefined;
    return new TelemetrySpan(core.tracer.startSpan(name, { attributes: { ...this.spanBase, ...attributes } }, context));
  }

  /** Observes the inbox gauges with `sample` at each collection; returns a function that stops it. */
  observeInbox(sample: () => Promise<InboxSample | null>): () => void {
    const core = this.core;
    if (!core?.meter) return () => {};
    const depth = core.gauges.get('inboxDepth')!;
    const age = core.gauges.get('inboxOldestAge')!;
    const dead = core.gauges.get('deadLetters')!;
    const callback: BatchCallback = async (result) => {
      const s = await sample();
      if (!s) return;
      result.observe(depth, s.waiting);
      result.observe(age, s.oldestAgeSeconds);
      result.observe(dead, s.deadLetters);
    };
    core.meter.addBatchObservableCallback(callback, [depth, age, dead]);
    return () => core.meter!.removeBatchObservableCallback(callback, [depth, age, dead]);
  }
}

/** Telemetry that records nothing. */
export const NO_TELEMETRY: Telemetry = Telemetry.create(null);

function loadApi(load: (id: string) => unknown, logger: Logger): OtelApiLike | null {
  try {
    return load('@opentelemetry/api') as OtelApiLike;
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    // Not installed is the normal case of an optional peer; anything else is worth a line.
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') logger.warn('could not load @opentelemetry/api: telemetry is off', { error });
    return null;
  }
}

/**
 * Creates the SDK's telemetry: `false` turns it off; otherwise the injected providers, or the
 * global ones of `@opentelemetry/api` when it can be loaded, or nothing.
 *
 * @example
 * ```ts
 * const telemetry = createTelemetry({ meterProvider, tracerProvider, tenantAttribute: false });
 * telemetry.forTenant('t1').add('syncRecords', 100, { 'shopify_ingest.outcome': 'written' });
 * ```
 */
export function createTelemetry(options: TelemetryOptions | false | undefined, logger: Logger = silentLogger): Telemetry {
  if (options === false) return NO_TELEMETRY;
  const opts = options ?? {};
  const needsApi = !opts.meterProvider || !opts.tracerProvider;
  // The API is wanted for parent contexts even when both providers are injected.
  const api = loadApi(opts.require ?? createRequire(import.meta.url), needsApi ? logger : silentLogger);
  const meterProvider = opts.meterProvider ?? api?.metrics?.getMeterProvider();
  const tracerProvider = opts.tracerProvider ?? api?.trace?.getTracerProvider();
  if (!meterProvider && !tracerProvider) return NO_TELEMETRY;
  const core: Core = {
    meter: (meterProvider?.getMeter(SCOPE) as MeterLike | undefined) ?? null,
    tracer: (tracerProvider?.getTracer(SCOPE) as TracerLike | undefined) ?? null,
    api,
    tenantAttribute: opts.tenantAttribute !== false,
    counters: new Map(),
    histograms: new Map(),
    gauges: new Map(),
    points: new Map(),
    now: opts.now ?? Date.now,
  };
  const meter = core.meter;
  if (meter) {
    for (const [key, spec] of Object.entries(INSTRUMENTS) as Array<[InstrumentKey, (typeof INSTRUMENTS)[InstrumentKey]]>) {
      const base = { description: spec.description, unit: spec.unit };
      if (spec.kind === 'counter') core.counters.set(key, meter.createCounter(spec.name, base));
      else if (spec.kind === 'histogram') core.histograms.set(key, meter.createHistogram(spec.name, 'buckets' in spec ? { ...base, advice: { explicitBucketBoundaries: [...spec.buckets] } } : base));
      else core.gauges.set(key, meter.createObservableGauge(spec.name, base));
    }
    const points = core.gauges.get('pointsAvailable')!;
    meter.addBatchObservableCallback((result) => {
      const now = core.now();
      for (const [key, entry] of core.points) {
        if (now - entry.at > GAUGE_STALE_MS) core.points.delete(key);
        else result.observe(points, entry.value, entry.attributes);
      }
    }, [points]);
  }
  return Telemetry.create(core);
}
