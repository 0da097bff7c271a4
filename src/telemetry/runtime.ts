// Temporal's Runtime (the SDK's native core) for a process that runs a worker: installed once,
// before any NativeConnection exists, with the SDK's Prometheus exporter on WORKER_METRICS_ADDRESS
// (worker task slots, poll and schedule-to-start latencies, workflow and activity counters — every
// series prefixed `temporal_`, and the workflows' own `metricMeter` counters) and the SDK's logs —
// its TypeScript side, its native core, workflow and activity context loggers — sent to our logger.
import { Runtime, type LogLevel as TemporalLogLevel, type LogMetadata, type Logger as TemporalLogger } from '@temporalio/worker';
import type { Logger } from '../log';

export class RuntimeAlreadyInstalledError extends Error {
  constructor() {
    super("Temporal's Runtime is already installed in this process: install it once, before any worker or NativeConnection");
    this.name = 'RuntimeAlreadyInstalledError';
  }
}

/**
 * The bundler's webpack statistics (a multi-line table per bundle) arrive at INFO through the same
 * logger as everything else; they say nothing an operator needs, so they go to DEBUG. A bundle
 * with warnings stays visible at WARN, and a failed one is logged at ERROR by the SDK.
 */
export function bundlerLevel(level: TemporalLogLevel, message: string): TemporalLogLevel {
  if (level !== 'INFO' || !/\bwebpack \d+\.\d+\.\d+ compiled\b/.test(message)) return level;
  return /compiled with \d+ warnings?/.test(message) ? 'WARN' : 'DEBUG';
}

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** The SDK's Logger interface over a pino logger (message and metadata, metadata first in pino). */
export function temporalLogger(logger: Logger): TemporalLogger {
  const log = (level: TemporalLogLevel, message: string, meta?: LogMetadata): void => {
    const lvl = bundlerLevel(level, message);
    logger[PINO_LEVEL[lvl]](meta ?? {}, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

export interface WorkerRuntimeOptions {
  /** host:port of the Prometheus exporter (GET /metrics there); null: no metrics server. */
  metricsAddress: string | null;
  logger: Logger;
}

/** Installs the Runtime; throws RuntimeAlreadyInstalledError when this process already has one. */
export function installWorkerRuntime(options: WorkerRuntimeOptions): Runtime {
  if (Runtime._instance !== undefined) throw new RuntimeAlreadyInstalledError();
  try {
    return Runtime.install({
      logger: temporalLogger(options.logger.child({ component: 'temporal' })),
      telemetryOptions: {
        // The native core's own warnings and errors, through the same logger rather than raw to stderr.
        logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
        ...(options.metricsAddress !== null ? { metrics: { prometheus: { bindAddress: options.metricsAddress } } } : {}),
      },
    });
  } catch (err) {
    // The exporter binds at install: a port in use stops the start with a line naming the variable.
    if (options.metricsAddress !== null && /prometheus/i.test((err as Error).message)) {
      throw new MetricsBindError(options.metricsAddress, (err as Error).message);
    }
    throw err;
  }
}

export class MetricsBindError extends Error {
  constructor(
    readonly address: string,
    reason: string,
  ) {
    super(`WORKER_METRICS_ADDRESS: cannot serve the worker metrics on ${address} (${reason}); expected a free host:port, or off`);
    this.name = 'MetricsBindError';
  }
}
