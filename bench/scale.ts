// How the cost of a signing grows with the number of signings already pending, on the embedded
// stack (Temporal dev server, FerretDB on the embedded store's backend — PostgreSQL where it answers,
// scripts/lib/ferret-store.ts — the simulator, the service's own worker and HTTP routes, in this process).
//
// Starts N signings, C at a time, through SigningService and leaves them pending (as 5,000 employees
// who have not signed yet). Per window of W signings it prints the throughput and start → sent
// p50 / p99 (sent = Evrotrust holds the request and its transaction id is stored). Then, at that
// population: sign → signed (the signer presses Sign, the callback arrives, `signed` is final with
// the file stored), the callback acknowledgement (a real callback POST from an allowed address until
// its 200), and GET /v1/signings/:id over HTTP, each beside its floor measured in the same run
// (GET /healthz on the same server, a MongoDB ping).
//
//   npm run bench -- bench/scale.ts [--signings 10000] [--concurrency 20] [--window 1000] [--store auto|sqlite]
//                                   [--temporal dev|server]
// --temporal server runs Temporal Server itself on PostgreSQL (scripts/lib/temporal-server.ts) in place
// of the dev server, for populations beyond what the dev server's single SQLite connection carries.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import { registerCallbacks } from '../src/callbacks';
import { buildServer } from '../src/http/server';
import { ServiceMetrics } from '../src/http/metrics';
import { createEvrotrustClient } from '../src/evrotrust/client';
import { generateKeyPair } from '../src/evrotrust/keys';
import { SigningService } from '../src/signings/service';
import { signingApiRoutes } from '../src/signings/routes';
import { startSimulator, SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER } from '../simulator';
import { connectMongo, ensureIndexes } from '../src/store/mongo';
import { freePort, startTemporal } from '../scripts/lib/stack';
import { startScratchStore } from '../scripts/lib/ferret-store';
import { startTemporalServerOnPostgres } from '../scripts/lib/temporal-server';
import { createWorker, WORKFLOW_CACHE_SIZE } from '../src/worker';
import { tracingOff } from '../src/telemetry/tracing';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
}
const SIGNINGS = arg('signings', 10_000);
const CONCURRENCY = arg('concurrency', 20);
const WINDOW = arg('window', Math.max(1, Math.round(SIGNINGS / 10)));
const SAMPLES = arg('samples', 30);
const storeArg = process.argv.includes('--store') ? process.argv[process.argv.indexOf('--store') + 1] : 'auto';
if (storeArg !== 'auto' && storeArg !== 'sqlite') throw new Error('--store must be auto or sqlite');
const temporalArg = process.argv.includes('--temporal') ? process.argv[process.argv.indexOf('--temporal') + 1] : 'dev';
if (temporalArg !== 'dev' && temporalArg !== 'server')
  throw new Error('--temporal must be dev (the CLI dev server) or server (Temporal Server on PostgreSQL)');
const API_TOKEN = 'bench-token-0123456789abcdef';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};
const ms = (x: number) => `${x >= 100 ? x.toFixed(0) : x.toFixed(1)} ms`;

async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function timeIt(n: number, op: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op();
    out.push(performance.now() - t);
  }
  return out;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'evrotrust-scale-'));
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const [temporal, store] = await Promise.all([
    freePort().then((port) =>
      temporalArg === 'server'
        ? startTemporalServerOnPostgres({ port, logDir: work })
        : startTemporal({ port, logDir: work }).then((t) => ({ ...t, backend: 'Temporal dev server (CLI v1.5.1, SQLite)' })),
    ),
    freePort().then((port) => startScratchStore({ port, logDir: work, backend: storeArg as 'auto' | 'sqlite' })),
  ]);
  console.log(`store: FerretDB on ${store.backend} (${store.reason}); ${temporal.backend} ${temporal.address}`);
  const sim = await startSimulator({ port: 0, processingMs: 200, callbackSourceAddress: '127.0.0.2' });
  const mongo = await connectMongo(store.uri, 'bench');
  await ensureIndexes(mongo.db);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const taskQueue = `scale-${randomUUID()}`;
  const service = new SigningService({
    db: mongo.db,
    temporal: client,
    taskQueue,
    defaultExpiryMs: 7 * 86_400_000,
    pollIntervalMs: 86_400_000,
  });
  const metrics = new ServiceMetrics({ defaultMetrics: false });
  const app = await buildServer({
    health: { temporal: async () => {}, mongodb: async () => {} },
    plugins: [
      (a) => registerCallbacks(a, { db: mongo.db, allowedIps: ['127.0.0.2'], metrics, temporalClient: client }),
      async (a) => {
        await a.register(signingApiRoutes, { service, apiToken: API_TOKEN });
      },
    ],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const publicBaseUrl = `http://127.0.0.1:${port}`;
  const keys = await generateKeyPair();
  const evrotrust = createEvrotrustClient({
    baseUrl: sim.vendorBaseUrl,
    vendorNumber: SANDBOX_VENDOR_NUMBER,
    apiKey: SANDBOX_API_KEY,
    publicKeyPem: keys.publicKeyPem,
  });
  const workerConnection = await NativeConnection.connect({ address: temporal.address });
  const worker = await createWorker({
    connection: workerConnection,
    namespace: 'default',
    taskQueue,
    activities: createActivities({ db: mongo.db, evrotrust, privateKeyPem: keys.privateKeyPem, publicBaseUrl }),
    shutdownGraceMs: 5000,
    tracing: tracingOff,
  });
  const running = worker.run();
  console.log(`${SIGNINGS} signings, ${CONCURRENCY} at a time, windows of ${WINDOW}; worker cache ${WORKFLOW_CACHE_SIZE} workflows`);

  const pdf = Buffer.from('%PDF-1.4\n% scale bench\n%%EOF\n');
  const ids: { id: string; tx: string }[] = [];
  const sentMs: number[] = new Array<number>(SIGNINGS);
  const windowStart: number[] = [];
  let next = 0;
  const startOne = async (n: number) => {
    const t0 = performance.now();
    const { id } = await service.start({
      document: { filename: `contract-${n}.pdf`, content: pdf },
      signers: [{ identificationNumber: '7501010010' }],
    });
    const tx = await until(async () => (await service.get(id)).signers[0]?.transactionId ?? undefined);
    sentMs[n] = performance.now() - t0;
    ids.push({ id, tx });
  };
  console.log('| signings already started | start → sent throughput | start → sent p50 / p99 | wall | RSS |');
  console.log('| --- | --- | --- | --- | --- |');
  const t0 = performance.now();
  const printWindow = (w: number) => {
    const from = w * WINDOW;
    const to = Math.min(SIGNINGS, from + WINDOW);
    const xs = sentMs.slice(from, to);
    const secs = (performance.now() - (windowStart[w] ?? t0)) / 1000;
    console.log(
      `| ${from.toLocaleString('en')}–${to.toLocaleString('en')} | ${(xs.length / secs).toFixed(1)} /s | ${ms(pct(xs, 50))} / ${ms(pct(xs, 99))} | ${((performance.now() - t0) / 1000).toFixed(0)} s | ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB |`,
    );
  };
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < SIGNINGS) {
        const n = next++;
        if (n % WINDOW === 0) windowStart[n / WINDOW] = performance.now();
        await startOne(n);
        // a window is printed when all of its signings are sent (they finish out of order)
        for (let w = 0; w * WINDOW < SIGNINGS; w++) {
          const end = Math.min(SIGNINGS, (w + 1) * WINDOW);
          if (sentMs.slice(w * WINDOW, end).filter((x) => x !== undefined).length === end - w * WINDOW && !printed.has(w)) {
            printed.add(w);
            printWindow(w);
          }
        }
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  console.log(`all ${SIGNINGS} pending after ${wall.toFixed(0)} s (${(SIGNINGS / wall).toFixed(1)} signings/s)`);

  // ---- at this population ----
  const pick = (i: number) => ids[(i * 7919) % ids.length] as { id: string; tx: string };
  const headers = { authorization: `Bearer ${API_TOKEN}` };
  const health = await timeIt(SAMPLES, async () => (await fetch(`${publicBaseUrl}/healthz`)).arrayBuffer());
  let g = 0;
  const get = await timeIt(SAMPLES, async () => {
    const r = await fetch(`${publicBaseUrl}/v1/signings/${pick(g++).id}`, { headers });
    if (r.status !== 200) throw new Error(`GET answered ${r.status}`);
    await r.arrayBuffer();
  });
  const ping = await timeIt(SAMPLES, () => mongo.db.command({ ping: 1 }));
  // A "still pending" callback (status 1) for a pending signing, as Evrotrust sends on a reminder:
  // the route stores it and answers; the workflow then confirms the status and keeps waiting.
  let c = 0;
  const ack = await timeIt(SAMPLES, async () => {
    const { tx } = pick(1000 + c++);
    const r = await postCallback(port, { transactionID: tx, status: 1 });
    if (r !== 200) throw new Error(`callback answered ${r}`);
  });
  let s = 0;
  const signed = await timeIt(Math.min(SAMPLES, 20), async () => {
    const { id, tx } = pick(5000 + s++);
    await sim.controls.sign(tx);
    await until(async () => ((await service.get(id)).status === 'signed' ? true : undefined));
  });
  console.log(`\nat ${SIGNINGS.toLocaleString('en')} pending (p50 / p99 of ${SAMPLES}; signed: of ${signed.length}):`);
  console.log('| what | p50 | p99 | floor in the same run |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| GET /v1/signings/:id (HTTP) | ${ms(pct(get, 50))} | ${ms(pct(get, 99))} | GET /healthz ${ms(pct(health, 50))} |`);
  console.log(`| callback POST → 200 | ${ms(pct(ack, 50))} | ${ms(pct(ack, 99))} | MongoDB ping ${ms(pct(ping, 50))} |`);
  console.log(`| sign → signed (callback, status, download, stored) | ${ms(pct(signed, 50))} | ${ms(pct(signed, 99))} | |`);

  worker.shutdown();
  await running;
  await workerConnection.close();
  await app.close();
  await connection.close();
  await mongo.close();
  await sim.close();
  await Promise.all([temporal.stop(), store.stop()]);
  rmSync(work, { recursive: true, force: true });
}
const printed = new Set<number>();

/** One callback as Evrotrust sends it: a fresh connection from 127.0.0.2 (an allowed address). */
function postCallback(port: number, body: object): Promise<number> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        localAddress: '127.0.0.2',
        method: 'POST',
        path: '/evrotrust/callback/document/ready',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
