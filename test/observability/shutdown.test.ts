// A bounded graceful stop of a real worker process (src/worker-main.ts): its activity is stuck in an
// Evrotrust call (a gate in front of the simulator holds /user/check/extended unanswered), SIGTERM
// arrives; the worker waits WORKER_SHUTDOWN_GRACE, then cancels the activity, whose HTTP request is
// aborted (the gate sees the connection close), and the process exits 0 within the grace plus a
// margin. A new worker then retries the activity and the signing completes, with one final state.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { generateKeyPair } from '../../src/evrotrust/keys';
import { SigningService } from '../../src/signings/service';
import type { MongoHandle } from '../../src/store/mongo';
import { startSimulator, SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER, type Simulator } from '../../simulator';
import { eventCount, finalSigning, pdf, sentTransactions, SIGNER_A, type SigningEnv } from '../helpers/signing-env';
import { temporalClient, testDatabase, testEnv } from '../helpers/stack';
import { waitFor } from '../helpers/wait';

const GRACE_MS = 2000;
/** Time the process may take beyond the grace: the drain after the cancel, closing connections. */
const MARGIN_MS = 5000;
const HELD_PATH = '/vendor/user/check/extended';

/** Forwards the vendor API to the simulator, except that while `hold` is on, HELD_PATH is never answered. */
interface Gate {
  url: string;
  hold: boolean;
  held: { at: number; closedAt?: number }[];
  forwarded: string[];
  close(): Promise<void>;
}

async function startGate(target: string): Promise<Gate> {
  const pending = new Set<ServerResponse>();
  const gate: Gate = { url: '', hold: true, held: [], forwarded: [], close: async () => {} };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (gate.hold && req.url === HELD_PATH) {
        const entry: { at: number; closedAt?: number } = { at: Date.now() };
        gate.held.push(entry);
        pending.add(res);
        res.on('close', () => {
          entry.closedAt = Date.now();
          pending.delete(res);
        });
        return; // never answered
      }
      gate.forwarded.push(req.url ?? '');
      const headers: Record<string, string> = {};
      for (const h of ['content-type', 'authorization', 'accept']) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      fetch(`${target}${req.url}`, { method: req.method ?? 'POST', headers, body: Buffer.concat(chunks) })
        .then(async (answer) => {
          const body = Buffer.from(await answer.arrayBuffer());
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/octet-stream' });
          res.end(body);
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  gate.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  gate.close = () =>
    new Promise((resolve) => {
      for (const res of pending) res.destroy();
      server.close(() => resolve());
    });
  return gate;
}

/** A TCP relay to MongoDB that can be frozen: once frozen, nothing more passes either way (a database that stopped answering). */
async function startFreezableRelay(target: {
  host: string;
  port: number;
}): Promise<{ port: number; freeze(): void; close(): Promise<void> }> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const server = createTcpServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk) => {
        if (!frozen) to.write(chunk);
      });
      from.on('error', () => to.destroy());
      from.on('close', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    freeze: () => void (frozen = true),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('graceful shutdown with a bound (worker process)', () => {
  let sim: Simulator;
  let gate: Gate;
  let mongo: MongoHandle;
  let temporal: { client: Client; close(): Promise<void> };
  let service: SigningService;
  let workerEnv: NodeJS.ProcessEnv;
  const workers: ChildProcess[] = [];
  const taskQueue = `shutdown-${randomUUID()}`;

  /** A worker process; resolves once it polls. `output` collects its stdout and stderr. */
  function startWorker(): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker-main.ts'], { env: workerEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    workers.push(child);
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return new Promise((resolve, reject) => {
      child.stdout?.on('data', (b: Buffer) => {
        output += b.toString();
        if (output.includes('worker polling')) resolve({ child, output: () => output, exited });
      });
      child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
      void exited.then((code) => reject(new Error(`worker exited early (${code}): ${output.slice(-800)}`)));
    });
  }

  before(async () => {
    sim = await startSimulator({ port: 0, processingMs: 100 });
    gate = await startGate(sim.url);
    mongo = await testDatabase();
    temporal = await temporalClient();
    const dir = mkdtempSync(join(tmpdir(), 'evrotrust-shutdown-'));
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, (await generateKeyPair()).privateKeyPem, { mode: 0o600 });
    workerEnv = {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: testEnv().temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      MONGODB_URI: `${testEnv().mongoUri.replace(/\/$/, '')}/${mongo.db.databaseName}`,
      EVROTRUST_BASE_URL: `${gate.url}/vendor`,
      EVROTRUST_VENDOR_NUMBER: SANDBOX_VENDOR_NUMBER,
      EVROTRUST_API_KEY: SANDBOX_API_KEY,
      EVROTRUST_PRIVATE_KEY_FILE: keyFile,
      CALLBACK_ALLOWED_IPS: '127.0.0.1',
      API_TOKEN: 'test-token-test-token',
      PUBLIC_BASE_URL: 'http://127.0.0.1:9',
      DATA_DIR: dir,
      WORKER_METRICS_ADDRESS: 'off', // no fixed port: other test runs share the machine
      WORKER_SHUTDOWN_GRACE: `${GRACE_MS / 1000}s`,
      SHUTDOWN_TIMEOUT: '20s',
    };
    service = new SigningService({
      db: mongo.db,
      temporal: temporal.client,
      taskQueue,
      defaultExpiryMs: 120_000,
      pollIntervalMs: 500,
      expiryGraceMs: 1000,
      processingRecheckMs: 150,
    });
  });
  after(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await gate?.close();
    await temporal?.close();
    await mongo?.close();
    await sim?.close();
  });

  it(
    'a stop that cannot finish (the database stopped answering mid-activity) is cut at SHUTDOWN_TIMEOUT with exit code 1',
    { timeout: 60_000 },
    async (t) => {
      const target = new URL(testEnv().mongoUri);
      const relay = await startFreezableRelay({ host: target.hostname, port: Number(target.port) });
      const BOUND_MS = 5000;
      const saved = workerEnv;
      workerEnv = {
        ...saved,
        TEMPORAL_TASK_QUEUE: `${taskQueue}-stuck`,
        MONGODB_URI: `mongodb://127.0.0.1:${relay.port}/${mongo.db.databaseName}`,
        WORKER_SHUTDOWN_GRACE: '1s',
        SHUTDOWN_TIMEOUT: `${BOUND_MS / 1000}s`,
      };
      try {
        const stuck = await startWorker();
        relay.freeze();
        const stuckService = new SigningService({
          db: mongo.db,
          temporal: temporal.client,
          taskQueue: `${taskQueue}-stuck`,
          defaultExpiryMs: 120_000,
          pollIntervalMs: 500,
          expiryGraceMs: 1000,
        });
        await stuckService.start({ document: { filename: 'c.pdf', content: pdf(randomUUID()) }, signers: [SIGNER_A] });
        // The first activity reads the signing through the frozen relay: a MongoDB call, which no abort signal reaches.
        await new Promise((r) => setTimeout(r, 2000));
        const stopAt = Date.now();
        stuck.child.kill('SIGTERM');
        const code = await stuck.exited;
        const took = Date.now() - stopAt;
        t.diagnostic(`SHUTDOWN_TIMEOUT ${BOUND_MS} ms: forced exit after ${took} ms, code ${code}`);
        assert.equal(code, 1, stuck.output().slice(-1500));
        assert.ok(took >= BOUND_MS - 200 && took < BOUND_MS + 3000, `exited ${took} ms after SIGTERM`);
        assert.match(stuck.output(), /not stopped within SHUTDOWN_TIMEOUT/);
      } finally {
        workerEnv = saved;
        await relay.close();
      }
    },
  );

  it(
    'SIGTERM during a stuck Evrotrust call: cancelled after the grace, exit 0 within the bound, and the signing completes on a new worker',
    { timeout: 120_000 },
    async (t) => {
      const first = await startWorker();
      const { id } = await service.start({ document: { filename: 'c.pdf', content: pdf(randomUUID()) }, signers: [SIGNER_A] });
      await waitFor(() => gate.held.length === 1 || undefined, 'the check call to be held at the gate');

      const stopAt = Date.now();
      first.child.kill('SIGTERM');
      const code = await first.exited;
      const took = Date.now() - stopAt;
      assert.equal(code, 0, `exit code; output:\n${first.output().slice(-1500)}`);
      assert.ok(took >= GRACE_MS - 200, `exited after ${took} ms: the activity in flight should have had its grace (${GRACE_MS} ms)`);
      assert.ok(took < GRACE_MS + MARGIN_MS, `exited after ${took} ms, over the grace + ${MARGIN_MS} ms`);

      // The request itself was aborted at the end of the grace, not left to its own 15 s timeout.
      const held = gate.held[0] as { at: number; closedAt?: number };
      assert.ok(held.closedAt !== undefined, 'the held Evrotrust request was not closed by the worker');
      const closedAfter = held.closedAt - stopAt;
      t.diagnostic(`grace ${GRACE_MS} ms: request aborted ${closedAfter} ms and process exited ${took} ms after SIGTERM`);
      assert.ok(closedAfter >= GRACE_MS - 200 && closedAfter < GRACE_MS + 2000, `request closed ${closedAfter} ms after SIGTERM`);
      const lines = first
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(
        lines.some((l) => l.msg === 'evrotrust call failed' && l.code === 'aborted' && l.endpoint === '/user/check/extended'),
        `no aborted Evrotrust call logged:\n${first.output().slice(-1500)}`,
      );
      assert.equal(await eventCount({ mongo }, id, 'signed', 'rejected', 'expired', 'withdrawn', 'failed'), 0, 'still pending');

      // A new worker retries the cancelled activity; the signing goes on and ends once.
      gate.hold = false;
      const second = await startWorker();
      const env = { service, mongo } as SigningEnv;
      const [tx] = await sentTransactions(env, id);
      assert.ok(gate.forwarded.includes(HELD_PATH), 'the check was retried through the gate');
      await sim.controls.sign(tx as string);
      const s = await finalSigning(env, id);
      assert.equal(s.status, 'signed');
      assert.equal(gate.held.length, 1);

      const idleStop = Date.now();
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
      assert.ok(Date.now() - idleStop < MARGIN_MS, 'an idle worker stops at once');
    },
  );
});
