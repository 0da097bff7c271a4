// The OpenTelemetry side of src/telemetry/tracing.ts, loaded only when tracing is on: these
// packages cost ~19 MiB resident, which a process with tracing off (the default) does not pay.
import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { Tracing, TracingOptions } from './tracing';

let installed = false;

export class TracingAlreadyInstalledError extends Error {
  constructor() {
    super('tracing is already set up in this process: it registers the global OpenTelemetry provider, once');
    this.name = 'TracingAlreadyInstalledError';
  }
}

/** Tracing on: registers the global provider, context manager and propagator (once per process). */
export function startTracing(options: TracingOptions): Tracing {
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
