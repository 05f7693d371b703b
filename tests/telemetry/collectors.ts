/**
 * OpenTelemetry's in-memory exporters behind a meter and a tracer provider, and helpers to read
 * what they recorded: the metrics as of now (cumulative), counter sums and histogram counts of the
 * points whose attributes include some values, and span parentage.
 */
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

export type Attrs = Record<string, string | number | boolean>;
export type Metrics = Map<string, MetricData>;
export interface Point { attributes: Attrs; value: unknown }

/** A meter and tracer provider with in-memory exporters, and readers for them. */
export function collectors() {
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exported only when asked (forceFlush): the interval is never reached.
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  return {
    meterProvider,
    tracerProvider,
    spans: (): ReadableSpan[] => spanExporter.getFinishedSpans(),
    /** The metrics as of now, by name. */
    async metrics(): Promise<Metrics> {
      metricExporter.reset();
      await reader.forceFlush();
      const exported = metricExporter.getMetrics();
      const last = exported[exported.length - 1];
      return new Map((last?.scopeMetrics ?? []).flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
    },
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

export type Collectors = ReturnType<typeof collectors>;

/** Data points of a metric whose attributes include `where`. */
export function points(all: Metrics, name: string, where: Attrs = {}): Point[] {
  const metric = all.get(name);
  return (metric?.dataPoints ?? []).filter((dp) => Object.entries(where).every(([k, v]) => dp.attributes[k] === v)) as Point[];
}

/** The sum of a counter's points matching `where`. */
export function total(all: Metrics, name: string, where: Attrs = {}): number {
  return points(all, name, where).reduce((n, dp) => n + (dp.value as number), 0);
}

/** The number of values a histogram recorded for points matching `where`. */
export function histogramCount(all: Metrics, name: string, where: Attrs = {}): number {
  return points(all, name, where).reduce((n, dp) => n + (dp.value as { count: number }).count, 0);
}

export const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
export const idOf = (span: ReadableSpan): string => span.spanContext().spanId;
