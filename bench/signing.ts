// End-to-end latency of a signing through the whole real stack, as a person would feel it:
// Temporal dev server and FerretDB (started here via scripts/lib/stack.ts), the simulator, a worker,
// the callback routes and relay. For N signings started C at a time, it prints
//   start → sent      (the service accepted it until Evrotrust holds the request), and
//   sign → signed     (the signer pressed Sign until `signed` is final in MongoDB with the file stored),
// each as p50 / p90 / max, plus the wall time. Polling is set to 10 min, so every outcome comes by callback.
//
//   npm run bench -- bench/signing.ts [--signings 40] [--concurrency 10]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { registerCallbacks } from '../src/callbacks';
import { buildServer } from '../src/http/server';
import { ServiceMetrics } from '../src/http/metrics';
import { createEvrotrustClient } from '../src/evrotrust/client';
import { generateKeyPair } from '../src/evrotrust/keys';
import { SigningService } from '../src/signings/service';
import { startSimulator, SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER } from '../simulator';
import { connectMongo, ensureIndexes } from '../src/store/mongo';
import { freePort, startFerretDb, startTemporal } from '../scripts/lib/stack';
import { workflowSource } from '../src/worker-bundle';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}
const SIGNINGS = arg('signings', 40);
const CONCURRENCY = arg('concurrency', 10);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const line = (name: string, xs: number[]) =>
  console.log(
    `${name.padEnd(16)} p50 ${pct(xs, 50).toFixed(0)} ms   p90 ${pct(xs, 90).toFixed(0)} ms   max ${Math.max(...xs).toFixed(0)} ms`,
  );

async function until<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'evrotrust-bench-'));
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const [temporal, ferret] = await Promise.all([
    freePort().then((port) => startTemporal({ port, logDir: work })),
    freePort().then((port) => startFerretDb({ port, logDir: work })),
  ]);
  const sim = await startSimulator({ port: 0, processingMs: 200, callbackSourceAddress: '127.0.0.2' });
  const mongo = await connectMongo(ferret.uri, 'bench');
  await ensureIndexes(mongo.db);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const metrics = new ServiceMetrics({ defaultMetrics: false });
  const app = await buildServer({
    health: { temporal: async () => {}, mongodb: async () => {} },
    plugins: [(a) => registerCallbacks(a, { db: mongo.db, allowedIps: ['127.0.0.2'], metrics, temporalClient: client })],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const publicBaseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const keys = await generateKeyPair();
  const evrotrust = createEvrotrustClient({
    baseUrl: sim.vendorBaseUrl,
    vendorNumber: SANDBOX_VENDOR_NUMBER,
    apiKey: SANDBOX_API_KEY,
    publicKeyPem: keys.publicKeyPem,
  });
  const taskQueue = `bench-${randomUUID()}`;
  const workerConnection = await NativeConnection.connect({ address: temporal.address });
  const workflows = workflowSource();
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    ...workflows.code,
    interceptors: { workflowModules: workflows.workflowModules },
    activities: createActivities({ db: mongo.db, evrotrust, privateKeyPem: keys.privateKeyPem, publicBaseUrl }),
  });
  const running = worker.run();
  const service = new SigningService({ db: mongo.db, temporal: client, taskQueue, defaultExpiryMs: 3_600_000, pollIntervalMs: 600_000 });

  const toSent: number[] = [];
  const toSigned: number[] = [];
  const pdf = Buffer.from('%PDF-1.4\n% bench\n%%EOF\n');
  const started = performance.now();
  let next = 0;
  const one = async () => {
    const t0 = performance.now();
    const { id } = await service.start({
      document: { filename: 'bench.pdf', content: pdf },
      signers: [{ identificationNumber: '7501010010' }],
    });
    const tx = await until(async () => (await service.get(id)).signers[0]?.transactionId ?? undefined);
    toSent.push(performance.now() - t0);
    const t1 = performance.now();
    await sim.controls.sign(tx);
    await until(async () => ((await service.get(id)).status === 'signed' ? true : undefined));
    toSigned.push(performance.now() - t1);
  };
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < SIGNINGS) {
        next += 1;
        await one();
      }
    }),
  );
  const wall = (performance.now() - started) / 1000;

  console.log(`${SIGNINGS} signings, ${CONCURRENCY} at a time, ${wall.toFixed(1)} s wall (${(SIGNINGS / wall).toFixed(2)} signings/s)`);
  line('start → sent', toSent);
  line('sign → signed', toSigned);

  worker.shutdown();
  await running;
  await workerConnection.close();
  await app.close();
  await connection.close();
  await mongo.close();
  await sim.close();
  await Promise.all([temporal.stop(), ferret.stop()]);
  rmSync(work, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
