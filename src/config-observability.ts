// Logs, metrics, tracing and the bounds of a graceful stop: their environment variables, parsed and
// bounded here and merged into src/config.ts's schema, so a bad value stops the process like every
// other variable (exit 1, one line naming it). Kept apart so these knobs are in one place.
import { isIP } from 'node:net';
import { z } from 'zod';
import { describeBounds, parseDuration, withinBounds, type DurationBounds } from './lib/duration';

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The worker's drain: long enough for an upload in flight to finish, short enough for a rolling deploy. */
export const WORKER_SHUTDOWN_GRACE_BOUNDS: DurationBounds = { minMs: 1_000, maxMs: 600_000 };
/** The whole stop (HTTP, relay, worker drain, connections); must exceed the grace. */
export const SHUTDOWN_TIMEOUT_BOUNDS: DurationBounds = { minMs: 5_000, maxMs: 1_800_000 };
export const DEFAULT_WORKER_METRICS_ADDRESS = '127.0.0.1:9464';

/** `host:port` the SDK's Prometheus exporter can bind: an IP address (IPv6 in brackets) or a host name. */
export function isBindAddress(text: string): boolean {
  const m = /^(\[([^\]]+)\]|[^:[\]\s]+):(\d{1,5})$/.exec(text);
  if (!m) return false;
  const port = Number(m[3]);
  if (port > 65535) return false;
  if (m[2] !== undefined) return isIP(m[2]) === 6;
  return isIP(m[1] as string) === 4 || /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(m[1] as string);
}

function boundedDuration(bounds: DurationBounds, example: string) {
  const expected = `a whole-unit duration ${describeBounds(bounds)}, e.g. ${example}`;
  return z
    .string()
    .refine((s) => {
      const ms = parseDuration(s);
      return ms !== undefined && withinBounds(ms, bounds);
    }, expected)
    .transform((s) => parseDuration(s) as number);
}

export const observabilitySchema = {
  LOG_FORMAT: z.enum(LOG_FORMATS, { message: 'json or pretty' }).default('json'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  WORKER_METRICS_ADDRESS: z
    .string()
    .trim()
    .refine((s) => s === 'off' || isBindAddress(s), 'host:port to serve the worker metrics on, e.g. 0.0.0.0:9464, or off')
    .default(DEFAULT_WORKER_METRICS_ADDRESS),
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .string()
    .trim()
    .refine((s) => {
      try {
        const u = new URL(s);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    }, 'the http(s) base URL of an OTLP/HTTP collector, e.g. http://127.0.0.1:4318')
    .optional(),
  OTEL_SERVICE_NAME: z.string().trim().min(1).default('evrotrust-signing'),
  WORKER_SHUTDOWN_GRACE: boundedDuration(WORKER_SHUTDOWN_GRACE_BOUNDS, '10s').default(10_000),
  SHUTDOWN_TIMEOUT: boundedDuration(SHUTDOWN_TIMEOUT_BOUNDS, '30s').default(30_000),
} as const;

export const OBSERVABILITY_EXPECTED: Record<keyof typeof observabilitySchema, string> = {
  LOG_FORMAT: 'json or pretty',
  LOG_LEVEL: `one of ${LOG_LEVELS.join(', ')}`,
  WORKER_METRICS_ADDRESS: 'host:port to serve the worker metrics on, e.g. 0.0.0.0:9464, or off',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'the http(s) base URL of an OTLP/HTTP collector, e.g. http://127.0.0.1:4318',
  OTEL_SERVICE_NAME: 'a service name for traces, e.g. evrotrust-signing',
  WORKER_SHUTDOWN_GRACE: `a whole-unit duration ${describeBounds(WORKER_SHUTDOWN_GRACE_BOUNDS)}, e.g. 10s`,
  SHUTDOWN_TIMEOUT: `a whole-unit duration ${describeBounds(SHUTDOWN_TIMEOUT_BOUNDS)}, e.g. 30s`,
};

export interface ObservabilityConfig {
  logFormat: LogFormat;
  logLevel: LogLevel;
  /** Where the worker process serves the SDK's Prometheus metrics; null: not served. */
  workerMetricsAddress: string | null;
  /** Tracing is on when set: spans go to `<endpoint>/v1/traces` (OTLP/HTTP). */
  otlpEndpoint?: string;
  serviceName: string;
}

export interface ShutdownConfig {
  /** The worker's shutdownGraceTime: activities in flight get this long before they are cancelled. */
  workerGraceMs: number;
  /** After this the process exits by itself (code 1), stopped or not. */
  timeoutMs: number;
}

type Parsed = { [K in keyof typeof observabilitySchema]: z.output<(typeof observabilitySchema)[K]> };

/** The parsed variables, or the variable and expectation of a cross-check that fails. */
export function observabilityFrom(
  p: Parsed,
): { observability: ObservabilityConfig; shutdown: ShutdownConfig } | { variable: string; expectation: string } {
  if (p.SHUTDOWN_TIMEOUT <= p.WORKER_SHUTDOWN_GRACE) {
    return {
      variable: 'SHUTDOWN_TIMEOUT',
      expectation: 'expected more than WORKER_SHUTDOWN_GRACE (the stop also closes HTTP and the connections after the drain)',
    };
  }
  return {
    observability: {
      logFormat: p.LOG_FORMAT,
      logLevel: p.LOG_LEVEL,
      workerMetricsAddress: p.WORKER_METRICS_ADDRESS === 'off' ? null : p.WORKER_METRICS_ADDRESS,
      ...(p.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined ? { otlpEndpoint: p.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '') } : {}),
      serviceName: p.OTEL_SERVICE_NAME,
    },
    shutdown: { workerGraceMs: p.WORKER_SHUTDOWN_GRACE, timeoutMs: p.SHUTDOWN_TIMEOUT },
  };
}
