// `npm start`: the whole service. Starts what the configuration does not point elsewhere
// (Temporal dev server, FerretDB, the Evrotrust simulator), then the worker, the callback relay and
// the HTTP server, prints the URLs, and stops everything cleanly on Ctrl-C / SIGTERM.
import { loadConfigOrExit } from './config';
import { DEFAULT_EMBEDDED_PORTS, startRuntime, type EmbeddedPorts, type Runtime } from './runtime';
import { startService } from './service';
import { createWorker } from './worker';

// Test-only knobs: the embedded servers' fixed ports, so a test or a drill can run `npm start`
// beside a developer's own without fighting over 7233/8233/27017/8090.
const PORT_VARS: Record<keyof EmbeddedPorts, string> = {
  temporal: 'EMBEDDED_TEMPORAL_PORT',
  temporalUi: 'EMBEDDED_TEMPORAL_UI_PORT',
  mongodb: 'EMBEDDED_MONGODB_PORT',
  simulator: 'EMBEDDED_SIMULATOR_PORT',
};

function embeddedPortsOrExit(env: NodeJS.ProcessEnv): EmbeddedPorts {
  const ports = { ...DEFAULT_EMBEDDED_PORTS };
  for (const [key, name] of Object.entries(PORT_VARS) as [keyof EmbeddedPorts, string][]) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
      console.error(`${name}: expected a port number 1-65535`);
      process.exit(1);
    }
    ports[key] = Number(raw);
  }
  return ports;
}

/** Copies of one Ctrl-C arrive within milliseconds; a deliberate second press comes later. */
const DUPLICATE_SIGNAL_WINDOW_MS = 3000;
/** Overall bound on a graceful stop (the servers' guards allow 8 s each on top of the drain). */
const SHUTDOWN_TIMEOUT_MS = 30_000;

let firstSignalAt: number | undefined;
let pendingSignal: NodeJS.Signals | undefined;
let onStop: ((reason: string) => void) | undefined;

/**
 * Leaves without the graceful stop. The embedded servers still stop: each runs under
 * scripts/lib/guard.cjs, which stops its server when our end of its pipe closes, i.e. when we exit.
 */
function forceExit(why: string): never {
  console.error(`[stop] ${why}: exiting now; the embedded servers stop with this process`);
  process.exit(1);
}

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

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const ports = embeddedPortsOrExit(process.env);

  const started = Date.now();
  const rt: Runtime = await startRuntime(config, { embedded: true, ports, log: (l) => console.log(`[start] ${l}`) });
  const worker = await createWorker({
    connection: rt.workerConnection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: rt.activities,
  });
  const workerRun = worker.run();

  const { close: closeService } = await startService(rt, config);

  const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  console.log(`
evrotrust-signing is running (${((Date.now() - started) / 1000).toFixed(1)} s)
  service          http://${shown}:${config.port}   (health /healthz, /readyz, metrics /metrics)
  business API     http://${shown}:${config.port}/v1/signings   Authorization: Bearer ${config.apiToken ? '<API_TOKEN>' : rt.apiToken}
  callbacks        ${config.publicBaseUrl}/evrotrust/callback/…
  Temporal         ${config.temporal.address ?? `127.0.0.1:${ports.temporal}`}${rt.temporalUiUrl ? `   Web UI ${rt.temporalUiUrl}` : ''}
  MongoDB          ${config.mongodb.uri ? '(MONGODB_URI)' : `mongodb://127.0.0.1:${ports.mongodb}/${config.mongodb.dbName}`}
  Evrotrust        ${rt.simulator ? `simulator ${rt.simulator.vendorBaseUrl}   signer's phone ${rt.simulator.url}/` : config.evrotrust.baseUrl}
Press Ctrl-C to stop.`);

  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[stop] ${reason}: stopping… (Ctrl-C again after ${DUPLICATE_SIGNAL_WINDOW_MS / 1000} s forces it)`);
    setTimeout(() => forceExit(`not stopped within ${SHUTDOWN_TIMEOUT_MS / 1000} s`), SHUTDOWN_TIMEOUT_MS).unref();
    await closeService(); // the reconciler, the HTTP server and the callback relay
    // The SDK also shuts the worker down on SIGINT/SIGTERM by itself; only ask when it has not.
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun.catch(() => {});
    await rt.close(); // returns once the embedded servers have exited and freed their ports
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
}

main().catch((err: unknown) => {
  console.error(`evrotrust-signing: cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
