// End-to-end latency of a signing through the whole real stack, as a person would feel it:
// Temporal dev server and FerretDB on SQLite (bench/lib/service.ts), the simulator, the service's worker,
// the callback routes and relay. For N signings started C at a time, it prints
//   start → sent      (the service accepted it until Evrotrust holds the request), and
//   sign → signed     (the signer pressed Sign until `signed` is final in MongoDB with the file stored),
// each as p50 / p90 / max, plus the wall time. Polling is set to 10 min, so every outcome comes by callback.
//
//   npm run bench -- bench/signing.ts [--signings 40] [--concurrency 10]
import { intArg } from './lib/args';
import { pct, until } from './lib/stats';
import { startBenchService } from './lib/service';

const SIGNINGS = intArg('signings', 40);
const CONCURRENCY = intArg('concurrency', 10);

const line = (name: string, xs: number[]) =>
  console.log(
    `${name.padEnd(16)} p50 ${pct(xs, 50).toFixed(0)} ms   p90 ${pct(xs, 90).toFixed(0)} ms   max ${Math.max(...xs).toFixed(0)} ms`,
  );

async function main(): Promise<void> {
  // SQLite, as the README's figure for this bench was measured (bench/scale.ts compares the backends)
  const bench = await startBenchService({
    store: 'sqlite',
    temporal: 'dev',
    defaultExpiryMs: 3_600_000,
    pollIntervalMs: 600_000,
    sdkLogLevel: 'WARN',
  });
  const { service, sim } = bench;
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

  await bench.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
