// The worker alone, for deployments that run workers apart from the HTTP service (and for the
// crash and shutdown tests): `node --import tsx src/worker-main.ts`. Needs TEMPORAL_ADDRESS and
// MONGODB_URI (and, in sandbox mode, the simulator at SANDBOX_SIMULATOR_URL). Serves the SDK's
// Prometheus metrics at WORKER_METRICS_ADDRESS (/metrics).
import { loadConfigOrExit } from './config';
import { openDependencies } from './dependencies';
import { createLogger } from './log';
import { installWorkerRuntime } from './telemetry/runtime';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ format: config.observability.logFormat, level: config.observability.logLevel });
  // Before any NativeConnection: the SDK's metrics and logs are configured once per process.
  installWorkerRuntime({ metricsAddress: config.observability.workerMetricsAddress, logger });
  const rt = await openDependencies(config, {}, { logger });
  const worker = await createWorker({
    connection: rt.workerConnection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: rt.activities,
    shutdownGraceMs: config.shutdown.workerGraceMs,
    tracing: rt.tracing,
  });
  // The SDK shuts the worker down on SIGINT/SIGTERM (activities get WORKER_SHUTDOWN_GRACE, then are
  // cancelled); SHUTDOWN_TIMEOUT bounds the whole stop, after which the process leaves with code 1.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.info({ signal, graceMs: config.shutdown.workerGraceMs }, 'worker stopping');
      setTimeout(() => {
        logger.error({ timeoutMs: config.shutdown.timeoutMs }, 'worker not stopped within SHUTDOWN_TIMEOUT: exiting now');
        process.exit(1);
      }, config.shutdown.timeoutMs).unref();
    });
  }
  logger.info(
    { taskQueue: config.temporal.taskQueue, metrics: config.observability.workerMetricsAddress ?? 'off', tracing: rt.tracing.enabled },
    'worker polling',
  );
  // run() resolves once the worker drained.
  await worker.run();
  await rt.close();
  logger.info('worker stopped cleanly');
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(`worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
