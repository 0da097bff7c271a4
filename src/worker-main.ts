// The worker alone, for deployments that run workers apart from the HTTP service (and for the
// crash tests): `node --import tsx src/worker-main.ts`. Needs TEMPORAL_ADDRESS and MONGODB_URI
// (and, in sandbox mode, the simulator at SANDBOX_SIMULATOR_URL).
import { loadConfigOrExit } from './config';
import { openDependencies } from './dependencies';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const rt = await openDependencies(config);
  const worker = await createWorker({
    connection: rt.workerConnection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: rt.activities,
  });
  console.log(`worker polling ${config.temporal.taskQueue}`);
  // The SDK shuts the worker down on SIGINT/SIGTERM; run() resolves once it drained.
  await worker.run();
  await rt.close();
}

main().catch((err: unknown) => {
  console.error(`worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
