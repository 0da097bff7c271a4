// Runs the service in this process, in one of three roles — `all` (the worker, the callback relay,
// the reconciler, the retention job and the HTTP server), `api` (all but the worker) or `worker`
// (the worker alone) — prints what runs where, and stops it cleanly on Ctrl-C / SIGTERM, within one
// bound, the same way for every role. Used by src/main.ts (all), src/api-main.ts (api),
// src/worker-main.ts (worker) and scripts/start.ts (`npm start`: all, after starting its embedded
// stack, which it passes in as `prepare`).
import type { Worker } from '@temporalio/worker';
import type { Config } from './config';
import { openDependencies, type Dependencies, type Endpoints } from './dependencies';
import { createLogger } from './log';
import { startService, type RunningService } from './service';
import { describeTemporalConnection } from './temporal/connection';

/** What this process runs: everything, the HTTP side only, or the Temporal worker only. */
export type Role = 'all' | 'api' | 'worker';

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

export interface RunOptions {
  /** Default `all`. */
  role?: Role;
  /** Starts what the service needs first (npm start's embedded servers). */
  prepare?: () => Promise<Prepared>;
}

export function runService(config: Config, options: RunOptions = {}): void {
  const { role = 'all', prepare } = options;
  const runsWorker = role !== 'api';
  const runsApi = role !== 'worker';
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
    if (runsWorker) {
      // Before any NativeConnection: the SDK's metrics (WORKER_METRICS_ADDRESS) and logs, once per process.
      const { installWorkerRuntime } = await import('./telemetry/runtime');
      installWorkerRuntime({ metricsAddress: config.observability.workerMetricsAddress, logger });
    }
    const prepared = prepare ? await prepare() : undefined;
    let deps: Dependencies;
    try {
      deps = await openDependencies(config, prepared?.endpoints, { worker: runsWorker, logger });
    } catch (err) {
      await prepared?.close();
      throw err;
    }
    let worker: Worker | undefined;
    if (runsWorker) {
      // Loaded only where a worker runs: @temporalio/worker brings webpack and the native runtime along.
      const { createServiceWorker } = await import('./worker');
      worker = await createServiceWorker(deps);
    }
    const workerRun = worker?.run();
    const service: RunningService | undefined = runsApi ? await startService(deps, config) : undefined;

    const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const lines = [`evrotrust-signing${role === 'all' ? '' : ` (${role})`} is running (${((Date.now() - started) / 1000).toFixed(1)} s)`];
    if (service) {
      lines.push(
        `  service          http://${shown}:${config.port}   (health /healthz, /readyz, metrics /metrics)`,
        `  business API     http://${shown}:${config.port}/v1/signings   Authorization: Bearer ${config.apiToken ? '<API_TOKEN>' : deps.apiToken}`,
        `  callbacks        ${config.publicBaseUrl}/evrotrust/callback/…`,
        `  API docs         http://${shown}:${config.port}/docs`,
        `  signings page    http://${shown}:${config.port}/ui/   (with the API token)`,
      );
    }
    // "worker polling" is what the drills and the crash test wait for.
    if (worker) {
      lines.push(`  worker polling   ${config.temporal.taskQueue}`);
      const metrics = config.observability.workerMetricsAddress;
      lines.push(`  worker metrics   ${metrics ? `http://${metrics}/metrics` : 'off (WORKER_METRICS_ADDRESS)'}`);
    }
    // Where the webhook secret is, never the secret itself.
    const notifySecret = deps.notifySecret;
    lines.push(
      `  notifications    ${notifySecret ? `signed with ${notifySecret.file ? `the secret in ${notifySecret.file}` : 'NOTIFY_SECRET'}${config.notify.defaultUrl ? ', default URL NOTIFY_URL' : ''}` : 'off (NOTIFY_SECRET unset)'}`,
    );
    if (deps.tracing.enabled) lines.push(`  tracing          ${config.observability.otlpEndpoint}/v1/traces`);
    lines.push(
      `  Temporal         ${prepared?.banner?.temporal ?? describeTemporalConnection(config.temporal)}`,
      `  MongoDB          ${prepared?.banner?.mongodb ?? '(MONGODB_URI)'}`,
      `  Evrotrust        ${prepared?.banner?.evrotrust ?? config.evrotrust.baseUrl ?? `simulator ${config.sandboxSimulatorUrl}/vendor`}`,
      'Press Ctrl-C to stop.',
    );
    console.log(`\n${lines.join('\n')}`);

    let stopping = false;
    const stop = async (reason: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`\n[stop] ${reason}: stopping… (Ctrl-C again after ${DUPLICATE_SIGNAL_WINDOW_MS / 1000} s forces it)`);
      // SHUTDOWN_TIMEOUT bounds the whole stop: the worker's drain (activities get WORKER_SHUTDOWN_GRACE,
      // then are cancelled) and the rest; past it the process exits with code 1 by itself.
      const bound = config.shutdown.timeoutMs;
      setTimeout(() => forceExit(`not stopped within SHUTDOWN_TIMEOUT (${bound / 1000} s)`), bound).unref();
      await service?.close(); // the reconciler, the retention job, the HTTP server and the callback relay
      // The SDK also shuts the worker down on SIGINT/SIGTERM by itself; only ask when it has not.
      if (worker?.getState() === 'RUNNING') worker.shutdown();
      await workerRun?.catch(() => {});
      await deps.close();
      await prepared?.close(); // returns once embedded servers have exited and freed their ports
      console.log('[stop] stopped cleanly');
      process.exit(0);
    };
    onStop = (reason) => void stop(reason);
    if (pendingSignal) void stop(pendingSignal);
    workerRun?.catch(async (err: unknown) => {
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
