// The service without its worker, for the fault drills: src/service.ts (the HTTP API, the callback
// routes, the relay and the reconciler) on its own. The drills run the worker as its own process
// (src/worker-main.ts) so that it can be SIGKILLed alone. Needs TEMPORAL_ADDRESS and MONGODB_URI.
import { loadConfigOrExit } from '../../src/config';
import { openDependencies } from '../../src/dependencies';
import { startService } from '../../src/service';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const rt = await openDependencies(config);
  const running = await startService(rt, config, { logLevel: process.env.LOG_LEVEL ?? 'warn' });
  console.log(`drill service listening on ${config.host}:${config.port}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await running.close();
    await rt.close();
    process.exit(0);
  };
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => void stop());
}

main().catch((err: unknown) => {
  console.error(`drill service: cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
