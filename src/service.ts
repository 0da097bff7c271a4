// The service without its worker: the business API, the callback routes with their relay, health,
// metrics, and the reconciler, composed once from the Dependencies. src/run.ts adds the worker to it
// (npm start, src/main.ts); the fault drills run it alone (scripts/drills/service-main.ts) so the worker can be
// killed apart from it.
import type { FastifyInstance } from 'fastify';
import type { Config } from './config';
import { signingApiRoutes } from './signings/routes';
import { registerCallbacks } from './callbacks';
import { buildServer } from './http/server';
import { metricsRoutes, ServiceMetrics } from './http/metrics';
import type { Dependencies } from './dependencies';
import { Reconciler } from './signings/reconciler';
import { RetentionJob } from './signings/retention';
import { SigningService } from './signings/service';
import { signingsPageRoutes } from './ui/routes';

export interface RunningService {
  app: FastifyInstance;
  service: SigningService;
  reconciler: Reconciler;
  /** Deletes personal data and signed files of final signings past their retention. */
  retention: RetentionJob;
  /** Stops the reconciler and the retention job, then the HTTP server (which also stops the callback relay). */
  close(): Promise<void>;
}

export async function startService(rt: Dependencies, config: Config, opts: { logLevel?: string } = {}): Promise<RunningService> {
  const metrics = new ServiceMetrics();
  const service = new SigningService({
    db: rt.mongo.db,
    temporal: rt.temporal,
    taskQueue: config.temporal.taskQueue,
    defaultExpiryMs: config.signingDefaultExpiryMs,
    pollIntervalMs: config.signingPollIntervalMs,
    expiryGraceMs: config.signingExpiryGraceMs,
    notify: {
      secretConfigured: rt.notifySecret !== undefined,
      ...(config.notify.defaultUrl ? { defaultUrl: config.notify.defaultUrl } : {}),
      giveUpAfterMs: config.notify.giveUpAfterMs,
    },
  });
  const app = await buildServer({
    limits: config.http,
    // The process's logger (LOG_FORMAT, LOG_LEVEL); the relay, reconciler and retention job log through app.log.
    loggerInstance: opts.logLevel ? rt.logger.child({}, { level: opts.logLevel }) : rt.logger,
    health: {
      temporal: async () => void (await rt.temporalConnection.workflowService.getSystemInfo({})),
      mongodb: async () => void (await rt.mongo.db.command({ ping: 1 })),
    },
    plugins: [
      async (a) =>
        void (await a.register(metricsRoutes, { metrics, ...(config.http.metricsToken ? { token: config.http.metricsToken } : {}) })),
      // With the Temporal client, registerCallbacks also runs the relay (with the app's logger).
      (a) =>
        registerCallbacks(a, {
          db: rt.mongo.db,
          allowedIps: config.callbackAllowedIps,
          trustProxy: config.trustProxy,
          metrics,
          temporalClient: rt.temporal,
        }),
      async (a) =>
        void (await a.register(signingApiRoutes, {
          service,
          apiToken: rt.apiToken,
          uploadLimit: config.http.uploadLimit,
          rateLimit: { max: config.http.apiRateLimit, windowMs: config.http.apiRateLimitWindowMs },
        })),
      async (a) =>
        void (await a.register(signingsPageRoutes, {
          namespace: config.temporal.namespace,
          ...(config.temporalUiUrl ? { temporalUiUrl: config.temporalUiUrl } : {}),
        })),
    ],
  });
  await app.listen({ host: config.host, port: config.port });
  // Repairs pending signings that no workflow run looks after (terminated runs, failed starts).
  const reconciler = new Reconciler({
    service,
    temporal: rt.temporal,
    taskQueue: config.temporal.taskQueue,
    intervalMs: config.reconcileIntervalMs,
    logger: app.log,
  });
  reconciler.start();
  const retention = new RetentionJob({
    store: service.store,
    personalDataMs: config.retention.personalDataMs,
    signedDocumentMs: config.retention.signedDocumentMs,
    intervalMs: config.retention.sweepIntervalMs,
    logger: app.log,
  });
  retention.start();
  return {
    app,
    service,
    reconciler,
    retention,
    async close() {
      await reconciler.stop();
      await retention.stop();
      await app.close().catch(() => {});
    },
  };
}
