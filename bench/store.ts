// FerretDB's lookup cost as a collection grows, on the embedded store's two backends: SQLite, and
// PostgreSQL with the GIN index mirror (scripts/lib/ferret-store.ts). A plain driver loop on one
// collection shaped like `signings` (a unique `_id`, an indexed `status` and `reference`), measured at
// each size; the floor is a `ping` round trip to the same server in the same run.
//
//   npm run bench -- bench/store.ts [--sizes 1000,10000,30000] [--samples 200]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Collection, type Document } from 'mongodb';
import { freePort } from '../scripts/lib/stack';
import { startScratchStore } from '../scripts/lib/ferret-store';
import { intArg, intListArg } from './lib/args';
import { timeEach } from './lib/stats';

const SIZES = intListArg('sizes', [1000, 10000, 30000]);
const SAMPLES = intArg('samples', 200);

async function median(samples: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const t = (await timeEach(samples, op)).sort((x, y) => x - y);
  return t[Math.floor(t.length / 2)] ?? NaN;
}

async function fill(c: Collection<Document>, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 500) {
    const docs = [];
    for (let j = i; j < Math.min(to, i + 500); j++)
      docs.push({
        _id: `sig-${j}`,
        status: j % 10 === 0 ? 'signed' : 'pending',
        reference: `ref-${j}`,
        method: 'app',
        createdAt: new Date(),
        signers: [{ transactionId: `tx-${j}`, status: 'pending' }],
      });
    await c.insertMany(docs as Document[]);
  }
}

async function run(backend: 'sqlite' | 'auto'): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-store-'));
  const store = await startScratchStore({ port: await freePort(), logDir: work, backend });
  const client = await MongoClient.connect(store.uri);
  try {
    const c = client.db('bench').collection('signings');
    await c.createIndex({ status: 1 });
    await c.createIndex({ reference: 1 }, { unique: true });
    console.log(`\n${store.backend}`);
    console.log('| documents | ping (floor) | findOne _id | findOne reference | updateOne _id | ms |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    let have = 0;
    for (const size of SIZES) {
      await fill(c, have, size);
      have = size;
      const pick = (i: number) => (i * 7919) % size;
      const ping = await median(SAMPLES, () => client.db('admin').command({ ping: 1 }));
      const byId = await median(SAMPLES, (i) => c.findOne({ _id: `sig-${pick(i)}` } as Document));
      const byRef = await median(SAMPLES, (i) => c.findOne({ reference: `ref-${pick(i)}` }));
      const upd = await median(SAMPLES, (i) => c.updateOne({ _id: `sig-${pick(i)}` } as Document, { $set: { touchedAt: new Date() } }));
      console.log(
        `| ${size.toLocaleString('en')} | ${ping.toFixed(2)} | ${byId.toFixed(2)} | ${byRef.toFixed(2)} | ${upd.toFixed(2)} | median of ${SAMPLES} |`,
      );
    }
  } finally {
    await client.close();
    await store.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await run('auto');
  await run('sqlite');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
