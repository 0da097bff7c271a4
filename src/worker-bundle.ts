// How the workflows are bundled, in one place, so a pre-built bundle and one built from source at
// start agree: the workflows' entry and the workflow interceptor modules compiled into the bundle.
// (Minimal version from the observability work; the pre-built bundle's loader joins it here.)

/** The workflows' entry module. */
export const workflowsPath = require.resolve('../workflows');

/**
 * Compiled into every bundle. OpenTelemetry's workflow interceptors are always there: with tracing
 * off their spans go to a no-op sink (src/telemetry/tracing.ts), so one bundle serves both cases.
 */
export const workflowInterceptorModules: string[] = [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];
