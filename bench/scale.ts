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
//                                   [--temporal dev|server] [--seed 0] [--seed-concurrency 50] [--seed-window 10000]
//                                   [--workflow-threads N]
// --temporal server runs Temporal Server itself on PostgreSQL (scripts/lib/temporal-server.ts) in place
// of the dev server, for populations beyond what the dev server's single SQLite connection carries.
// --seed S adds S seeded pending signings (bench/lib/seed.ts: sent, then resumed as the reconciler
// would) between two halves of the --signings started in full, so the full path is measured at
// population 0 and again at S:
//   npm run bench -- bench/scale.ts --temporal server --seed 99000 --signings 1000 --window 250
import { request } from 'node:http';
import { WORKFLOW_CACHE_SIZE } from '../src/worker';
import { choiceArg, intArg } from './lib/args';
import { pct, timeEach, until } from './lib/stats';
import { BENCH_API_TOKEN, startBenchService } from './lib/service';
import { createSeeder } from './lib/seed';

const SIGNINGS = intArg('signings', 10_000);
const CONCURRENCY = intArg('concurrency', 20);
const WINDOW = intArg('window', Math.max(1, Math.round(SIGNINGS / 10)));
const SAMPLES = intArg('samples', 30);
const STORE = choiceArg('store', ['auto', 'sqlite'] as const, 'auto');
const TEMPORAL = choiceArg('temporal', ['dev', 'server'] as const, 'dev');
const SEED = process.argv.includes('--seed') ? intArg('seed', 1) : 0;
const SEED_CONCURRENCY = intArg('seed-concurrency', 50);
const SEED_WINDOW = intArg('seed-window', Math.max(1, Math.round(SEED / 10)));
const SEED_BATCH = Math.min(SEED_WINDOW, intArg('seed-batch', 500));
const WORKFLOW_THREADS = process.argv.includes('--workflow-threads') ? intArg('workflow-threads', 1) : undefined;

const ms = (x: number) => `${x >= 100 ? x.toFixed(0) : x.toFixed(1)} ms`;

async function main(): Promise<void> {
  const bench = await startBenchService({
    store: STORE,
    temporal: TEMPORAL,
    defaultExpiryMs: 7 * 86_400_000,
    pollIntervalMs: 86_400_000,
    sdkLogLevel: 'ERROR',
    ...(WORKFLOW_THREADS ? { workflowThreads: WORKFLOW_THREADS } : {}),
  });
  const { service, sim, mongo, baseUrl, port } = bench;
  console.log(bench.description);
  console.log(
    `${SIGNINGS} signings in full, ${CONCURRENCY} at a time, windows of ${WINDOW}` +
      (SEED > 0 ? `; ${SEED} seeded, ${SEED_CONCURRENCY} at a time, windows of ${SEED_WINDOW}` : '') +
      `; worker cache ${WORKFLOW_CACHE_SIZE} workflows`,
  );

  const pdf = Buffer.from('%PDF-1.4\n% scale bench\n%%EOF\n');
  const ids: { id: string; tx: string }[] = [];
  const startFull = async (n: number) => {
    const { id } = await service.start({
      document: { filename: `contract-${n}.pdf`, content: pdf },
      signers: [{ identificationNumber: '7501010010' }],
    });
    const tx = await until(async () => (await service.get(id)).signers[0]?.transactionId ?? undefined, { everyMs: 25 });
    ids.push({ id, tx });
  };
  const seeded: { id: string; tx: string }[] = [];

  console.log(
    '| signings already started | how | throughput | p50 / p99 (full: start → sent; seeded: → waiting) | wall | RSS (main heap used) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  const mib = (n: number) => (n / 2 ** 20).toFixed(0);
  // RSS includes the worker's workflow thread and the SDK's Rust core; heapUsed is this thread's JS alone.
  const memory = () => {
    const m = process.memoryUsage();
    return `${mib(m.rss)} MiB (${mib(m.heapUsed)})`;
  };
  const t0 = performance.now();
  let population = 0;
  const row = (from: number, how: string, xs: number[], secs: number) =>
    console.log(
      `| ${from.toLocaleString('en')}–${(from + xs.length).toLocaleString('en')} | ${how} | ${(xs.length / secs).toFixed(1)} /s | ${ms(pct(xs, 50))} / ${ms(pct(xs, 99))} | ${((performance.now() - t0) / 1000).toFixed(0)} s | ${memory()} |`,
    );
  /** Runs `count` of `op`, `concurrency` at a time, printing one row per window of `window`. */
  const phase = async (how: string, count: number, concurrency: number, window: number, op: (n: number) => Promise<void>) => {
    const base = population;
    const took: number[] = new Array<number>(count);
    const windowStart: number[] = [];
    const doneInWindow: number[] = [];
    let next = 0;
    const printWindow = (w: number) => {
      const from = w * window;
      row(base + from, how, took.slice(from, Math.min(count, from + window)), (performance.now() - (windowStart[w] ?? t0)) / 1000);
    };
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count) }, async () => {
        while (next < count) {
          const n = next++;
          if (n % window === 0) windowStart[n / window] = performance.now();
          const t = performance.now();
          await op(base + n);
          took[n] = performance.now() - t;
          // a window is printed when all of its signings are done (they finish out of order)
          const w = Math.floor(n / window);
          doneInWindow[w] = (doneInWindow[w] ?? 0) + 1;
          if (doneInWindow[w] === Math.min(window, count - w * window)) printWindow(w);
        }
      }),
    );
    population += count;
  };
  /** Seeds SEED signings in batches (bench/lib/seed.ts), at most two batches waiting for their runs at once. */
  const seedPhase = async () => {
    const seeder = await createSeeder({ ...bench, db: mongo.db, publicBaseUrl: baseUrl, concurrency: SEED_CONCURRENCY });
    seeded.push(seeder.template);
    population += 1;
    for (let from = 0; from < SEED; from += SEED_WINDOW) {
      const size = Math.min(SEED_WINDOW, SEED - from);
      const started = performance.now();
      const took: number[] = [];
      const inFlight: Promise<void>[] = [];
      for (let b = 0; b < size; b += SEED_BATCH) {
        if (inFlight.length >= 2) await inFlight.shift();
        const batchStart = performance.now();
        const batch = await seeder.seedBatch(Math.min(SEED_BATCH, size - b));
        for (const { signing } of batch) seeded.push(signing);
        inFlight.push(
          Promise.all(batch.map(({ waiting }) => waiting.then(() => void took.push(performance.now() - batchStart)))).then(() => undefined),
        );
      }
      await Promise.all(inFlight);
      row(population, 'seeded', took, (performance.now() - started) / 1000);
      population += size;
    }
  };
  if (SEED > 0) {
    const before = Math.ceil(SIGNINGS / 2);
    await phase('full', before, CONCURRENCY, WINDOW, startFull);
    await seedPhase();
    await phase('full', SIGNINGS - before, CONCURRENCY, WINDOW, startFull);
  } else {
    await phase('full', SIGNINGS, CONCURRENCY, WINDOW, startFull);
  }
  const wall = (performance.now() - t0) / 1000;
  console.log(`all ${population.toLocaleString('en')} pending after ${wall.toFixed(0)} s (${(population / wall).toFixed(1)} signings/s)`);

  // ---- at this population ----
  // Samples come from every pending signing, seeded or started in full.
  const everyone = [...ids, ...seeded];
  const pick = (i: number) => everyone[(i * 7919) % everyone.length] as { id: string; tx: string };
  const headers = { authorization: `Bearer ${BENCH_API_TOKEN}` };
  const health = await timeEach(SAMPLES, async () => (await fetch(`${baseUrl}/healthz`)).arrayBuffer());
  let g = 0;
  const get = await timeEach(SAMPLES, async () => {
    const r = await fetch(`${baseUrl}/v1/signings/${pick(g++).id}`, { headers });
    if (r.status !== 200) throw new Error(`GET answered ${r.status}`);
    await r.arrayBuffer();
  });
  const ping = await timeEach(SAMPLES, () => mongo.db.command({ ping: 1 }));
  // A "still pending" callback (status 1) for a pending signing, as Evrotrust sends on a reminder:
  // the route stores it and answers; the workflow then confirms the status and keeps waiting.
  let c = 0;
  const ack = await timeEach(SAMPLES, async () => {
    const { tx } = pick(1000 + c++);
    const r = await postCallback(port, { transactionID: tx, status: 1 });
    if (r !== 200) throw new Error(`callback answered ${r}`);
  });
  let s = 0;
  const signed = await timeEach(Math.min(SAMPLES, 20), async () => {
    const { id, tx } = pick(5000 + s++);
    await sim.controls.sign(tx);
    await until(async () => ((await service.get(id)).status === 'signed' ? true : undefined), { everyMs: 25 });
  });
  console.log(`\nat ${population.toLocaleString('en')} pending (p50 / p99 of ${SAMPLES}; signed: of ${signed.length}):`);
  console.log('| what | p50 | p99 | floor in the same run |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| GET /v1/signings/:id (HTTP) | ${ms(pct(get, 50))} | ${ms(pct(get, 99))} | GET /healthz ${ms(pct(health, 50))} |`);
  console.log(`| callback POST → 200 | ${ms(pct(ack, 50))} | ${ms(pct(ack, 99))} | MongoDB ping ${ms(pct(ping, 50))} |`);
  console.log(`| sign → signed (callback, status, download, stored) | ${ms(pct(signed, 50))} | ${ms(pct(signed, 99))} | |`);

  await bench.close();
}

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
