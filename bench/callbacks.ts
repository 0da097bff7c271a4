// Acknowledgement latency of the callback endpoint: 1,000 valid callbacks, 50 in flight at a time,
// each on a fresh connection from 127.0.0.2 (as Evrotrust would connect), against the service's own
// HTTP server started in this process on a FerretDB this script starts (scripts/lib/stack.ts).
// Every 200 means the callback was durably inserted first.
//
//   npm run bench -- bench/callbacks.ts [--total 1000] [--concurrency 50] [--relay | --unknown] [--relay-concurrency 4]
//
// --relay also starts a Temporal dev server and the relay, so each stored callback is delivered at once,
// competing with the inserts: every transactionID is registered (`transactions`, `signings`) and maps
// to one of 10 running workflows (on a task queue no worker polls; they just collect the signals).
// --unknown does the same with transactionIDs that are never registered: every callback is then
// retried with backoff for the whole run (a storm that real traffic does not produce).
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { freePort, startFerretDb, startTemporal, type ManagedServer } from '../scripts/lib/stack';
import { buildServer } from '../src/http/server';
import { registerCallbacks } from '../src/callbacks';
import { startCallbackRelay, type CallbackRelay } from '../src/callbacks';
import { ServiceMetrics } from '../src/http/metrics';
import { connectMongo, ensureIndexes } from '../src/store/mongo';
import { CallbackInbox, callbackId } from '../src/callbacks/inbox';
import { SigningStore } from '../src/signings/store';
import { signingDoc } from '../test/helpers/signings';
import { SIGNING_WORKFLOW_TYPE, workflowIdFor } from '../workflows/definitions';
import type { Db } from 'mongodb';
import { intArg } from './lib/args';

const TOTAL = intArg('total', 1000);
const CONCURRENCY = intArg('concurrency', 50);
const UNKNOWN = process.argv.includes('--unknown');
const WITH_RELAY = UNKNOWN || process.argv.includes('--relay');
const WORKFLOWS = 10;
const RELAY_CONCURRENCY = intArg('relay-concurrency', 4);
const WARM_UP = 50;

function send(port: number, body: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/evrotrust/callback/document/ready',
        method: 'POST',
        localAddress: '127.0.0.2',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run(
  port: number,
  count: number,
  idPrefix: string,
): Promise<{ latencies: number[]; statuses: Map<number, number>; seconds: number }> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const body = JSON.stringify({ transactionID: `${idPrefix}${String(i).padStart(6, '0')}`, status: 2 });
      const r = await send(port, body);
      latencies.push(r.ms);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, lane));
  return { latencies, statuses, seconds: (performance.now() - started) / 1000 };
}

function percentile(sorted: number[], p: number): number {
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? NaN;
}

/** What the send activity would have left for each bench transaction: mapping, signing, workflow. */
async function registerSignings(db: Db, client: Client): Promise<void> {
  const taskQueue = `bench-no-worker-${process.pid}`;
  const store = new SigningStore(db);
  for (let w = 0; w < WORKFLOWS; w++) {
    const signingId = `bench-signing-${w}`;
    await store.create(signingDoc(signingId));
    await client.workflow.start(SIGNING_WORKFLOW_TYPE, { taskQueue, workflowId: workflowIdFor(signingId), args: [{ signingId }] });
    // Every WORKFLOWS-th bench transaction belongs to this signing.
    const transactionIds = Array.from({ length: Math.ceil((TOTAL - w) / WORKFLOWS) }, (_, k) => benchTransactionId(w + k * WORKFLOWS));
    await store.recordTransactions(signingId, workflowIdFor(signingId), null, transactionIds);
  }
}

const benchTransactionId = (i: number): string => `bench-${String(i).padStart(6, '0')}`;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-callbacks-'));
  const servers: ManagedServer[] = [];
  let relay: CallbackRelay | undefined;
  let connection: Connection | undefined;
  try {
    const ferret = await startFerretDb({ port: await freePort(), logDir: work });
    servers.push(ferret);
    const mongo = await connectMongo(ferret.uri, 'bench');
    await ensureIndexes(mongo.db);
    const metrics = new ServiceMetrics();
    if (WITH_RELAY) {
      const temporal = await startTemporal({ port: await freePort(), logDir: work });
      servers.push(temporal);
      connection = await Connection.connect({ address: temporal.address });
      const client = new Client({ connection });
      if (!UNKNOWN) await registerSignings(mongo.db, client);
      relay = startCallbackRelay({ db: mongo.db, temporalClient: client, metrics, concurrency: RELAY_CONCURRENCY });
    }
    const app = await buildServer({
      health: { temporal: async () => {}, mongodb: async () => {} },
      plugins: [(a) => registerCallbacks(a, { db: mongo.db, metrics, allowedIps: ['127.0.0.2'], relay })],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;

    await run(port, WARM_UP, 'warm-');
    const { latencies, statuses, seconds } = await run(port, TOTAL, 'bench-');
    const benchIds = Array.from({ length: TOTAL }, (_, i) =>
      callbackId({ transactionID: benchTransactionId(i), status: 2, rejectReason: null, tokenSigningId: null }),
    );
    const stored = (await new CallbackInbox(mongo.db).getMany(benchIds)).length;
    let delivery = '';
    if (WITH_RELAY && !UNKNOWN) {
      // Read progress from the relay's own counter: polling the store would compete with it.
      const t0 = performance.now();
      const deliveries = metrics.counter({ name: 'evrotrust_callback_deliveries_total', help: '', labelNames: ['result'] });
      for (;;) {
        const { values } = await deliveries.get();
        const delivered = values.find((v) => v.labels.result === 'delivered')?.value ?? 0;
        if (delivered >= TOTAL || performance.now() - t0 > 180_000) {
          delivery = `  delivered ${delivered}/${TOTAL} to their workflows ${((performance.now() - t0) / 1000).toFixed(1)} s after the last answer`;
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const sorted = [...latencies].sort((x, y) => x - y);
    const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
    const mode = UNKNOWN
      ? `relay on (${RELAY_CONCURRENCY} at a time), transactionIDs unknown (retried throughout)`
      : WITH_RELAY
        ? `relay on (${RELAY_CONCURRENCY} at a time), signals to ${WORKFLOWS} workflows`
        : 'no relay';
    console.log(`callbacks: ${TOTAL} valid callbacks, ${CONCURRENCY} in flight, fresh connection each, FerretDB 1.24 (SQLite), ${mode}`);
    console.log(`  answers   ${[...statuses].map(([s, n]) => `${n}×${s}`).join(', ')}; stored ${stored}`);
    console.log(
      `  latency   p50 ${fmt(percentile(sorted, 50))}  p90 ${fmt(percentile(sorted, 90))}  p99 ${fmt(percentile(sorted, 99))}  max ${fmt(sorted[sorted.length - 1] ?? NaN)}`,
    );
    console.log(`  throughput ${(TOTAL / seconds).toFixed(0)} callbacks/s (${seconds.toFixed(2)} s)`);
    if (delivery) console.log(delivery);
    await app.close();
    await relay?.stop();
    await mongo.close();
    if (statuses.get(200) !== TOTAL || stored !== TOTAL) process.exitCode = 1;
  } finally {
    await connection?.close();
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
