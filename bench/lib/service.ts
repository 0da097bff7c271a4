// The whole service in the benchmark's own process, on a stack the benchmark starts: Temporal (the
// dev server, or Temporal Server on PostgreSQL), FerretDB (scripts/lib/ferret-store.ts), the
// simulator (callbacks from 127.0.0.2, the one allowed address), the callback routes and relay, the
// business API, and the service's worker (src/worker.ts's createWorker, so its cache bound applies).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { registerCallbacks } from '../../src/callbacks';
import { buildServer } from '../../src/http/server';
import { ServiceMetrics } from '../../src/http/metrics';
import { createEvrotrustClient } from '../../src/evrotrust/client';
import { generateKeyPair } from '../../src/evrotrust/keys';
import { SigningService, type SigningServiceOptions } from '../../src/signings/service';
import type { EvrotrustClient } from '../../src/evrotrust/client';
import { signingApiRoutes } from '../../src/signings/routes';
import { startSimulator, SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER, type Simulator } from '../../simulator';
import { connectMongo, ensureIndexes, type MongoHandle } from '../../src/store/mongo';
import { freePort, startTemporal } from '../../scripts/lib/stack';
import { startScratchStore } from '../../scripts/lib/ferret-store';
import { startTemporalServerOnPostgres } from '../../scripts/lib/temporal-server';
import { createWorker } from '../../src/worker';
import { tracingOff } from '../../src/telemetry/tracing';

export const BENCH_API_TOKEN = 'bench-token-0123456789abcdef';

export interface BenchServiceOptions {
  store: 'auto' | 'sqlite';
  temporal: 'dev' | 'server';
  defaultExpiryMs: number;
  pollIntervalMs: number;
  sdkLogLevel: LogLevel;
  /** Threads running workflow code in the worker (default: the SDK's). */
  workflowThreads?: number;
}

export interface BenchService {
  service: SigningService;
  /** The options `service` was built with, for another service on the same stack (bench/lib/seed.ts). */
  serviceOptions: SigningServiceOptions;
  /** The worker's Evrotrust client (talks to `sim`). */
  evrotrust: EvrotrustClient;
  /** Called with the signing id each time the worker's confirmStatus activity has asked Evrotrust. */
  onStatusConfirmed: (listener: ((signingId: string) => void) | undefined) => void;
  sim: Simulator;
  mongo: MongoHandle;
  /** The service's HTTP base URL (callbacks, /v1/signings with BENCH_API_TOKEN, /healthz). */
  baseUrl: string;
  port: number;
  /** What runs underneath, for the benchmark's first line. */
  description: string;
  close(): Promise<void>;
}

export async function startBenchService(opts: BenchServiceOptions): Promise<BenchService> {
  const work = mkdtempSync(join(tmpdir(), 'evrotrust-bench-'));
  Runtime.install({ logger: new DefaultLogger(opts.sdkLogLevel) });
  const [temporal, store] = await Promise.all([
    freePort().then((port) =>
      opts.temporal === 'server'
        ? startTemporalServerOnPostgres({ port, logDir: work })
        : startTemporal({ port, logDir: work }).then((t) => ({ ...t, backend: 'Temporal dev server (CLI v1.5.1, SQLite)' })),
    ),
    freePort().then((port) => startScratchStore({ port, logDir: work, backend: opts.store })),
  ]);
  const sim = await startSimulator({ port: 0, processingMs: 200, callbackSourceAddress: '127.0.0.2' });
  const mongo = await connectMongo(store.uri, 'bench');
  await ensureIndexes(mongo.db);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const taskQueue = `bench-${randomUUID()}`;
  const serviceOptions: SigningServiceOptions = {
    db: mongo.db,
    temporal: client,
    taskQueue,
    defaultExpiryMs: opts.defaultExpiryMs,
    pollIntervalMs: opts.pollIntervalMs,
  };
  const service = new SigningService(serviceOptions);
  const metrics = new ServiceMetrics({ defaultMetrics: false });
  const app = await buildServer({
    health: { temporal: async () => {}, mongodb: async () => {} },
    plugins: [
      (a) => registerCallbacks(a, { db: mongo.db, allowedIps: ['127.0.0.2'], metrics, temporalClient: client }),
      async (a) => {
        await a.register(signingApiRoutes, { service, apiToken: BENCH_API_TOKEN });
      },
    ],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const baseUrl = `http://127.0.0.1:${port}`;
  const keys = await generateKeyPair();
  const evrotrust = createEvrotrustClient({
    baseUrl: sim.vendorBaseUrl,
    vendorNumber: SANDBOX_VENDOR_NUMBER,
    apiKey: SANDBOX_API_KEY,
    publicKeyPem: keys.publicKeyPem,
  });
  const activities = createActivities({ db: mongo.db, evrotrust, privateKeyPem: keys.privateKeyPem, publicBaseUrl: baseUrl });
  let statusConfirmed: ((signingId: string) => void) | undefined;
  const { confirmStatus } = activities;
  activities.confirmStatus = async (input) => {
    const r = await confirmStatus(input);
    statusConfirmed?.(input.signingId);
    return r;
  };
  const workerConnection = await NativeConnection.connect({ address: temporal.address });
  const worker = await createWorker({
    connection: workerConnection,
    namespace: 'default',
    taskQueue,
    activities,
    shutdownGraceMs: 5000,
    tracing: tracingOff,
    ...(opts.workflowThreads ? { workflowThreads: opts.workflowThreads } : {}),
  });
  const running = worker.run();
  const close = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown(); // the SDK's own signal handler may have begun it
    await running;
    await workerConnection.close();
    await app.close();
    await connection.close();
    await mongo.close();
    await sim.close();
    await Promise.all([temporal.stop(), store.stop()]);
    rmSync(work, { recursive: true, force: true });
  };
  // Ctrl-C or a kill stops the servers and drops the benchmark's databases, then exits.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void close().finally(() => process.exit(130)));
  return {
    service,
    serviceOptions,
    evrotrust,
    onStatusConfirmed: (listener) => (statusConfirmed = listener),
    sim,
    mongo,
    baseUrl,
    port,
    description: `store: FerretDB on ${store.backend} (${store.reason}); ${temporal.backend} ${temporal.address}`,
    close,
  };
}
