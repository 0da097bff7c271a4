// Runs the whole service in this process — the worker, the callback relay, the reconciler and the
// HTTP server — prints where it listens, and stops it all cleanly on Ctrl-C / SIGTERM. Used by
// src/main.ts (production: every server at an address) and scripts/start.ts (`npm start`, which
// first starts its embedded stack and passes it in as `extras`).
import type { Config } from './config';
import { openDependencies, type Dependencies, type Endpoints } from './dependencies';
import { createLogger } from './log';
import { startService } from './service';
import { installWorkerRuntime } from './telemetry/runtime';
import { createWorker } from './worker';

/** What a caller started before the service (npm start's embedded servers). */
export interface Prepared {
  endpoints: Endpoints;
  /** Extra lines for the banner, e.g. the Temporal Web UI and the simulator's signer page. */
  banner?: { temporal?: string; mongodb?: string; evrotrust?: string };
  /** Stops what was prepared, after the service stopped. */
  close(): Promise<void>;
}

/** Copies of one Ctrl-C arrive within milliseconds; a deliberate second press comes later. */
const DUPLICATE_SIGNAL_WINDOW_MS = 3000;

/**
 * Leaves without the graceful stop. Embedded servers still stop: each runs under
 * scripts/lib/guard.cjs, which stops its server when our end of its pipe closes, i.e. when we exit.
 */
function forceExit(why: string): never {
  console.error(`[stop] ${why}: exiting now`);
  process.exit(1);
}

export function runService(config: Config, prepare?: () => Promise<Prepared>): void {
  let firstSignalAt: number | undefined;
  let pendingSignal: NodeJS.Signals | undefined;
  let onStop: ((reason: string) => void) | undefined;
  // Registered before anything starts, so that the SDK's own handler (installed with the worker)
  // never leaves a signal unanswered; one during start-up stops the service as soon as it is up.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (firstSignalAt !== undefined) {
        // One Ctrl-C arrives twice (the terminal signals the whole group, npm forwards it again):
        // a copy within the window is that same Ctrl-C, not a request to abandon the stop.
        if (Date.now() - firstSignalAt < DUPLICATE_SIGNAL_WINDOW_MS) return;
        forceExit(`${signal} again while stopping`);
      }
      firstSignalAt = Date.now();
      if (onStop) onStop(signal);
      else pendingSignal = signal;
    });
  }

  const main = async (): Promise<void> => {
    const started = Date.now();
    const logger = createLogger({ format: config.observability.logFormat, level: config.observability.logLevel });
    // Before any NativeConnection: the SDK's metrics and logs are configured once per process.
    installWorkerRuntime({ metricsAddress: config.observability.workerMetricsAddress, logger });
    const prepared = prepare ? await prepare() : undefined;
    let deps: Dependencies;
    try {
      deps = await openDependencies(config, prepared?.endpoints, { logger });
    } catch (err) {
      await prepared?.close();
      throw err;
    }
    const worker = await createWorker({
      connection: deps.workerConnection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      activities: deps.activities,
      shutdownGraceMs: config.shutdown.workerGraceMs,
      tracing: deps.tracing,
    });
    const workerRun = worker.run();
    const { close: closeService } = await startService(deps, config);

    const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    console.log(`
evrotrust-signing is running (${((Date.now() - started) / 1000).toFixed(1)} s)
  service          http://${shown}:${config.port}   (health /healthz, /readyz, metrics /metrics)
  worker metrics   ${config.observability.workerMetricsAddress ? `http://${config.observability.workerMetricsAddress}/metrics` : 'off'}
  business API     http://${shown}:${config.port}/v1/signings   Authorization: Bearer ${config.apiToken ? '<API_TOKEN>' : deps.apiToken}
  callbacks        ${config.publicBaseUrl}/evrotrust/callback/…
  Temporal         ${prepared?.banner?.temporal ?? config.temporal.address}
  MongoDB          ${prepared?.banner?.mongodb ?? '(MONGODB_URI)'}
  Evrotrust        ${prepared?.banner?.evrotrust ?? config.evrotrust.baseUrl ?? `simulator ${config.sandboxSimulatorUrl}/vendor`}
Press Ctrl-C to stop.`);

    let stopping = false;
    const stop = async (reason: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`\n[stop] ${reason}: stopping… (Ctrl-C again after ${DUPLICATE_SIGNAL_WINDOW_MS / 1000} s forces it)`);
      // SHUTDOWN_TIMEOUT bounds the whole stop: the worker's drain (WORKER_SHUTDOWN_GRACE, then its
      // activities are cancelled) and the rest; past it the process exits with code 1 by itself.
      const bound = config.shutdown.timeoutMs;
      setTimeout(() => forceExit(`not stopped within ${bound / 1000} s (SHUTDOWN_TIMEOUT)`), bound).unref();
      await closeService(); // the reconciler, the HTTP server and the callback relay
      // The SDK also shuts the worker down on SIGINT/SIGTERM by itself; only ask when it has not.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun.catch(() => {});
      await deps.close();
      await prepared?.close(); // returns once embedded servers have exited and freed their ports
      console.log('[stop] stopped cleanly');
      process.exit(0);
    };
    onStop = (reason) => void stop(reason);
    if (pendingSignal) void stop(pendingSignal);
    workerRun.catch(async (err: unknown) => {
      if (stopping) return;
      console.error(`worker stopped: ${err instanceof Error ? err.message : String(err)}`);
      await stop('worker failure');
    });
  };

  main().catch((err: unknown) => {
    console.error(`evrotrust-signing: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
