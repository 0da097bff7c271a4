// OpenTelemetry tracing through Temporal's interceptors, off unless OTEL_EXPORTER_OTLP_ENDPOINT is
// set: a span for each workflow start (client), each workflow run and activity scheduled (the
// workflow interceptor module in the bundle, exported through the `exporter` sink), and each
// activity execution (worker), linked through Temporal headers. Spans carry Temporal ids and
// types only (workflow id `signing-<id>`, run id, activity type): inputs never become attributes.
//
// The workflow interceptor module is only in the traced bundle (src/worker-bundle.ts); with tracing
// off the `exporter` sink is still registered (a no-op), so a worker given the traced bundle anyway
// does not log "unregistered external sink" at every workflow task.
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import type { ClientInterceptors } from '@temporalio/client';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';

export type TracingSinks = InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }>;

export interface Tracing {
  enabled: boolean;
  /** For the Temporal Client: spans around workflow start (and signals, queries). */
  clientInterceptors: ClientInterceptors;
  /** For the worker: a span around each activity execution, linked to the workflow's. */
  activityInterceptors: ActivityInterceptorsFactory[];
  /** For the worker: where the workflow interceptor module sends its spans. */
  sinks: TracingSinks;
  /** Flushes and stops the exporter. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  serviceName: string;
  /** Tracing on: spans go to `<otlpEndpoint>/v1/traces` over OTLP/HTTP, in batches. */
  otlpEndpoint?: string;
  /** Tracing on, spans to this exporter one by one (tests: an InMemorySpanExporter). */
  exporter?: SpanExporter;
}

const OFF: Tracing = {
  enabled: false,
  clientInterceptors: {},
  activityInterceptors: [],
  sinks: { exporter: { export: { fn: () => undefined, callDuringReplay: false } } },
  shutdown: async () => {},
};

/** Tracing from its options; off (no-op interceptors and sink) without an endpoint or exporter. */
export async function createTracing(options: TracingOptions): Promise<Tracing> {
  if (!options.otlpEndpoint && !options.exporter) return OFF;
  const { startTracing } = await import('./tracing-otel');
  return startTracing(options);
}

/** Tracing off, without loading OpenTelemetry. */
export const tracingOff: Tracing = OFF;
