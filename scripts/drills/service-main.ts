// The service without its worker, for the fault drills: the HTTP API, the callback routes and the
// relay, composed as src/main.ts composes them. The drills run the worker as its own process
// (src/worker-main.ts) so that it can be SIGKILLed alone. Needs TEMPORAL_ADDRESS and MONGODB_URI.
// Keep in step with src/main.ts when the service's composition changes.
import { loadConfigOrExit } from '../../src/config';
import { signingApiRoutes } from '../../src/http/api';
import { registerCallbacks } from '../../src/http/callbacks';
import { buildServer } from '../../src/http/server';
import { metricsRoutes, ServiceMetrics } from '../../src/metrics';
import { SigningService } from '../../src/signings/service';
import { startRuntime } from '../../src/runtime';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const rt = await startRuntime(config, { embedded: false });
  const metrics = new ServiceMetrics();
  const service = new SigningService({
    db: rt.mongo.db,
    temporal: rt.temporal,
    taskQueue: config.temporal.taskQueue,
    defaultExpiryMs: config.signingDefaultExpiryMs,
    pollIntervalMs: config.signingPollIntervalMs,
  });
  const app = await buildServer({
    logger: { level: process.env.LOG_LEVEL ?? 'warn' },
    health: {
      temporal: async () => void (await rt.temporalConnection.workflowService.getSystemInfo({})),
      mongodb: async () => void (await rt.mongo.db.command({ ping: 1 })),
    },
    plugins: [
      async (a) => void (await a.register(metricsRoutes, { metrics })),
      (a) => registerCallbacks(a, { db: rt.mongo.db, allowedIps: config.callbackAllowedIps, trustProxy: config.trustProxy, metrics, temporalClient: rt.temporal }),
      async (a) => void (await a.register(signingApiRoutes, { service, apiToken: rt.apiToken })),
    ],
  });
  await app.listen({ host: config.host, port: config.port });
  console.log(`drill service listening on ${config.host}:${config.port}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await app.close().catch(() => {});
    await rt.close();
    process.exit(0);
  };
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => void stop());
}

main().catch((err: unknown) => {
  console.error(`drill service: cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
