// OpenTelemetry tracing through Temporal's interceptors, off unless OTEL_EXPORTER_OTLP_ENDPOINT is
// set: a span for each workflow start (client), each workflow run and activity scheduled (the
// workflow interceptor module in the bundle, exported through the `exporter` sink), and each
// activity execution (worker), linked through Temporal headers. Spans carry Temporal ids and
// types only (workflow id `signing-<id>`, run id, activity type): inputs never become attributes.
//
// The workflow interceptor module is always in the bundle (src/worker-bundle.ts), so one bundle
// serves both cases; with tracing off its `exporter` sink is a no-op, which keeps the worker from
// logging "unregistered external sink" at every workflow task.
import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  type OpenTelemetryWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
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

let installed = false;

export class TracingAlreadyInstalledError extends Error {
  constructor() {
    super('tracing is already set up in this process: it registers the global OpenTelemetry provider, once');
    this.name = 'TracingAlreadyInstalledError';
  }
}

/** Tracing from its options; off (no-op interceptors and sink) without an endpoint or exporter. */
export function createTracing(options: TracingOptions): Tracing {
  if (!options.otlpEndpoint && !options.exporter) return OFF;
  if (installed) throw new TracingAlreadyInstalledError();
  installed = true;
  const resource = new Resource({ 'service.name': options.serviceName });
  const processor = options.exporter
    ? new SimpleSpanProcessor(options.exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.otlpEndpoint}/v1/traces` }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  // Global context and propagation: the interceptors inject the active span into Temporal headers
  // and open child spans under it, which needs an async context manager (none is registered by default).
  provider.register({
    contextManager: new AsyncLocalStorageContextManager().enable(),
    propagator: new W3CTraceContextPropagator(),
  });
  const tracer: Tracer = trace.getTracer('evrotrust-signing');
  return {
    enabled: true,
    clientInterceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer })] },
    activityInterceptors: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: { exporter: makeWorkflowExporter(processor, resource) },
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      installed = false;
    },
  };
}
