// Abuse benchmark (issue 11 item 7): a steady stream of valid callbacks (one every 20 ms from
// 127.0.0.2) first alone (the quiet floor), then while the port is attacked with
//   - six parallel 32 MiB bodies to an unknown path, over and over (half with Content-Length, half chunked);
//   - 32 MiB bodies to known routes (a callback route, POST /v1/signings/:id/otp);
//   - 20 slow bodies (one byte a second) held open until the request timeout;
//   - 10,000 generated malformed bodies across every route (bad JSON, deep nesting, __proto__,
//     wrong types, wrong content types, random bytes), 20 at a time.
// Prints the heap peak, the callbacks' acknowledgement p50/p99 in both runs, and the attack's answers
// by status code (a 5xx for bad input is a bug). The server is the service's own (buildServer, the
// callback routes on a FerretDB this script starts, the business API over a stub service that
// knows no signing) in this process, so the heap figure covers server and attacker together.
//
//   npm run bench -- bench/abuse.ts [--seconds 10]
//
// Then the download caps: each hostile download the simulator can serve (a 300 MiB zip bomb of ~300 KB,
// 1,000 entries, a header that lies) is fetched from its vendor API as the
// service does and decrypted with the default limits, beside a normal signed download as the floor.
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AddressInfo } from 'node:net';
import { freePort, startFerretDb } from '../scripts/lib/stack';
import { buildServer } from '../src/http/server';
import { registerCallbacks } from '../src/callbacks';
import { metricsRoutes, ServiceMetrics } from '../src/http/metrics';
import { signingApiRoutes } from '../src/signings/routes';
import { SigningNotFoundError } from '../src/signings/errors';
import type { SigningService } from '../src/signings/service';
import { connectMongo, ensureIndexes } from '../src/store/mongo';
import { decryptDownload } from '../src/evrotrust/decrypt';
import { DownloadTooLargeError } from '../src/evrotrust/limits';
import { samplePdf, sendOnline, startTestSimulator, vendorJson, vendorKeys } from '../test/simulator/helpers';

const MIB = 1024 * 1024;
const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg >= 0 ? Number(process.argv[secondsArg + 1]) : 10;
const TOKEN = 'abuse-bench-token-0123456789';
const CALLBACK = '/evrotrust/callback/document/ready';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Answer {
  status: number;
  ms: number;
}

function request(
  port: number,
  opts: { path: string; method?: string; from?: string; headers?: Record<string, string | number>; body?: Buffer },
): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: opts.path,
        method: opts.method ?? 'POST',
        localAddress: opts.from ?? '127.0.0.1',
        agent: false,
        headers: { ...(opts.body ? { 'content-length': opts.body.length } : {}), ...opts.headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(opts.body);
  });
}

/** `size` bytes of `[{},{},…` streamed with backpressure; the answer's status (0: connection closed first). */
function bigBody(port: number, path: string, size: number, chunked: boolean, headers: Record<string, string> = {}): Promise<Answer> {
  const chunk = Buffer.from('{},'.repeat(21846).slice(0, 64 * 1024));
  const started = performance.now();
  return new Promise((resolve) => {
    let sent = 0;
    let done = false;
    let status = 0;
    const finish = () => {
      if (done) return;
      done = true;
      resolve({ status, ms: performance.now() - started });
    };
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        localAddress: '127.0.0.2',
        agent: false,
        headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': size }), ...headers },
      },
      (res) => {
        status = res.statusCode ?? 0;
        res.resume();
        res.on('end', () => {
          req.destroy();
          finish();
        });
      },
    );
    req.on('error', finish);
    req.on('close', finish);
    const pump = () => {
      while (!done && sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!done) req.end();
    };
    pump();
  });
}

/** A body sent one byte a second until the server gives up on it. */
function slowBody(port: number): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(
        `POST /v1/signings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`,
      );
    });
    const drip = setInterval(() => socket.write('['), 1000);
    let got = '';
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(drip);
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1] ?? 0), ms: performance.now() - started });
    });
  });
}

const ROUTES: { method: string; path: string; from: string; auth: boolean }[] = [
  { method: 'POST', path: CALLBACK, from: '127.0.0.2', auth: false },
  { method: 'POST', path: '/evrotrust/callback/document/offline/ready', from: '127.0.0.2', auth: false },
  { method: 'POST', path: '/evrotrust/callback/t/abcdefghijklmnopqrstuvwxyz012345/document/ready', from: '127.0.0.2', auth: false },
  { method: 'POST', path: CALLBACK, from: '127.0.0.3', auth: false },
  { method: 'POST', path: '/v1/signings', from: '127.0.0.1', auth: true },
  { method: 'POST', path: '/v1/signings', from: '127.0.0.1', auth: false },
  { method: 'POST', path: '/v1/signings/abc/withdraw', from: '127.0.0.1', auth: true },
  { method: 'POST', path: '/v1/signings/abc/otp', from: '127.0.0.1', auth: true },
  { method: 'POST', path: '/v1/signings/abc/otp/resend', from: '127.0.0.1', auth: true },
  { method: 'GET', path: '/v1/signings/abc', from: '127.0.0.1', auth: true },
  { method: 'GET', path: '/v1/signings/..%2f..%2fetc', from: '127.0.0.1', auth: true },
  { method: 'POST', path: '/healthz', from: '127.0.0.1', auth: false },
  { method: 'POST', path: '/no/such/path', from: '127.0.0.1', auth: false },
];

/** The i-th generated malformed body: content type and bytes. */
function malformed(i: number): { type: string | undefined; body: Buffer } {
  const r = (n: number) => Math.floor(Math.abs(Math.sin(i * 9301 + n * 49297)) * 1e6);
  switch (i % 12) {
    case 0:
      return { type: 'application/json', body: Buffer.from('{"transactionID":'.slice(0, r(1) % 17)) };
    case 1:
      return { type: 'application/json', body: Buffer.from('['.repeat(5000 + (r(2) % 5000))) };
    case 2:
      return { type: 'application/json', body: Buffer.from(`{"a":${'{"a":'.repeat(2000)}1${'}'.repeat(2001)}`) };
    case 3:
      return { type: 'application/json', body: Buffer.from('{"__proto__":{"polluted":true},"transactionID":"1","status":2}') };
    case 4:
      return { type: 'application/json', body: Buffer.from('{"constructor":{"prototype":{"x":1}},"transactionID":"1","status":2}') };
    case 5:
      return { type: 'application/json', body: Buffer.from(JSON.stringify({ transactionID: r(3), status: 'two', document: [1] })) };
    case 6:
      return { type: 'application/json', body: Buffer.from(JSON.stringify({ transactionID: '1', status: 1e308, signers: 'x' })) };
    case 7:
      return { type: 'text/plain', body: Buffer.from('transactionID=1&status=2') };
    case 8:
      return { type: undefined, body: Buffer.from('{"transactionID":"1","status":2}') };
    case 9:
      return { type: 'application/json; charset=utf-16', body: Buffer.from('\xff\xfe{\0}\0', 'latin1') };
    case 10:
      return {
        type: 'multipart/form-data; boundary=x',
        body: Buffer.from('--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc'),
      };
    default:
      return { type: 'application/json', body: Buffer.from(Array.from({ length: 200 + (r(4) % 2000) }, (_, k) => (r(k) % 256) & 0xff)) };
  }
}

const pct = (values: number[], p: number): number => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function steadyCallbacks(port: number, untilMs: number): Promise<Answer[]> {
  const out: Answer[] = [];
  let n = 0;
  const inFlight: Promise<void>[] = [];
  while (Date.now() < untilMs) {
    const body = Buffer.from(JSON.stringify({ transactionID: String(100_000_000_000 + n++), status: 1 }));
    inFlight.push(
      request(port, { path: CALLBACK, from: '127.0.0.2', headers: { 'content-type': 'application/json' }, body }).then(
        (a) => void out.push(a),
      ),
    );
    await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.all(inFlight);
  return out;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'evrotrust-abuse-'));
  const ferret = await startFerretDb({ port: await freePort(), logDir: work });
  const mongo = await connectMongo(ferret.uri, 'abuse');
  await ensureIndexes(mongo.db);
  const metrics = new ServiceMetrics({ defaultMetrics: false });
  const stub = {
    get: async (id: string) => {
      throw new SigningNotFoundError(id);
    },
    events: async (id: string) => {
      throw new SigningNotFoundError(id);
    },
    withdraw: async (id: string) => {
      throw new SigningNotFoundError(id);
    },
    submitOtp: async (id: string) => {
      throw new SigningNotFoundError(id);
    },
    resendOtp: async (id: string) => {
      throw new SigningNotFoundError(id);
    },
    start: async () => ({ id: 'stub', status: 'pending', created: true }),
  } as unknown as SigningService;
  const app = await buildServer({
    limits: { requestTimeoutMs: 10_000, headersTimeoutMs: 5_000 },
    plugins: [
      (a) => registerCallbacks(a, { db: mongo.db, metrics, allowedIps: ['127.0.0.2'] }),
      async (a) => void (await a.register(metricsRoutes, { metrics })),
      async (a) => void (await a.register(signingApiRoutes, { service: stub, apiToken: TOKEN })),
    ],
    health: { temporal: async () => {}, mongodb: async () => void (await mongo.db.command({ ping: 1 })) },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;

  try {
    await steadyCallbacks(port, Date.now() + 1000); // warm-up
    gc();
    const quiet = await steadyCallbacks(port, Date.now() + SECONDS * 1000);

    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
    const until = Date.now() + SECONDS * 1000;
    const byStatus = new Map<string, number>();
    const count = (kind: string, a: Answer) => {
      const key = `${kind} ${a.status === 0 ? 'closed' : a.status}`;
      byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
    };
    const big = async (i: number) => {
      do count('32 MiB unknown path', await bigBody(port, `/no/such/path/${i}`, 32 * MIB, i % 2 === 1));
      while (Date.now() < until);
    };
    const bigKnown = async () => {
      do {
        count('32 MiB callback route', await bigBody(port, CALLBACK, 32 * MIB, false));
        count('32 MiB API otp route', await bigBody(port, '/v1/signings/abc/otp', 32 * MIB, true, { authorization: `Bearer ${TOKEN}` }));
      } while (Date.now() < until);
    };
    let next = 0;
    const fuzz = async () => {
      while (next < 10_000) {
        const i = next++;
        const route = ROUTES[i % ROUTES.length] as (typeof ROUTES)[number];
        const m = malformed(Math.floor(i / ROUTES.length));
        const headers: Record<string, string> = {};
        if (m.type) headers['content-type'] = m.type;
        if (route.auth) headers.authorization = `Bearer ${TOKEN}`;
        const a = await request(port, {
          path: route.path,
          method: route.method,
          from: route.from,
          headers,
          body: route.method === 'GET' ? undefined : m.body,
        });
        count('malformed', a);
      }
    };
    const slow = Array.from({ length: 20 }, () => slowBody(port).then((a) => count('slow body', a)));
    const [attacked] = await Promise.all([
      steadyCallbacks(port, until),
      ...Array.from({ length: 6 }, (_, i) => big(i)),
      bigKnown(),
      ...Array.from({ length: 20 }, fuzz),
      ...slow,
    ]);
    clearInterval(sampler);

    const line = (name: string, a: Answer[]) => {
      const ok = a.filter((x) => x.status === 200).length;
      const ms = a.map((x) => x.ms);
      return `${name.padEnd(16)} ${String(a.length).padStart(5)} callbacks, ${String(ok).padStart(5)} answered 200, ack p50 ${pct(ms, 50).toFixed(1).padStart(7)} ms, p99 ${pct(ms, 99).toFixed(1).padStart(7)} ms, max ${Math.max(
        ...ms,
      )
        .toFixed(1)
        .padStart(7)} ms`;
    };
    console.log(`abuse benchmark, ${SECONDS} s per run, server and attacker in one process (node ${process.version})`);
    console.log(line('quiet run', quiet));
    console.log(line('under attack', attacked));
    console.log(
      `heap: baseline ${(baseline / MIB).toFixed(1)} MiB, peak during the attack ${(peak / MIB).toFixed(1)} MiB (+${((peak - baseline) / MIB).toFixed(1)} MiB)`,
    );
    console.log('attack answers by status:');
    for (const [k, v] of [...byStatus.entries()].sort()) console.log(`  ${k.padEnd(30)} ${v}`);
    const fiveXX = [...byStatus.entries()].filter(([k]) => / 5\d\d$/.test(k)).reduce((s, [, v]) => s + v, 0);
    console.log(fiveXX === 0 ? 'no 5xx for bad input' : `${fiveXX} answers were 5xx: a bug`);
  } finally {
    await app.close();
    await mongo.close();
    await ferret.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Fetches and decrypts one download per kind; prints time, heap growth and the verdict of each. */
async function hostileDownloads(): Promise<void> {
  const sim = await startTestSimulator({ processingMs: 0 });
  try {
    console.log('downloads through the simulator, decrypted with the default limits:');
    // (The on-the-wire cap, DOWNLOAD_MAX_BYTES, is the Evrotrust client's: test/signing/limits-retention.test.ts.)
    const kinds = ['normal', 'zip-bomb', 'many-entries', 'lying-header'] as const;
    for (const kind of kinds) {
      const { transactionID } = await sendOnline(sim, { content: samplePdf(`bench ${kind}`) });
      if (kind !== 'normal') sim.controls.nextDownload(kind);
      await sim.controls.sign(transactionID);
      for (let i = 0; i < 100; i++) {
        const st = (await vendorJson(sim, '/document/status', { transactionID })).json as { status: number; isProcessing: boolean };
        if (st.status === 2 && !st.isProcessing) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      gc();
      const before = process.memoryUsage().heapUsed;
      const res = await vendorJson(sim, '/document/download', { transactionID });
      // Timed from here: the simulator (in this process) builds a bomb on first use, which is not ours.
      const started = performance.now();
      let verdict: string;
      try {
        const files = await decryptDownload(res.bytes, vendorKeys().privateKeyPem);
        verdict = `decrypted ${files.length} file(s), ${files.reduce((n, f) => n + f.content.length, 0)} bytes`;
      } catch (err) {
        verdict = err instanceof DownloadTooLargeError ? `refused: ${err.limit} (${err.actual} > ${err.max})` : `ERROR ${String(err)}`;
      }
      const ms = performance.now() - started;
      const grown = (process.memoryUsage().heapUsed - before) / MIB;
      console.log(
        `  ${kind.padEnd(14)} ${(res.bytes.length / 1024).toFixed(0).padStart(7)} KiB on the wire, ${ms.toFixed(1).padStart(7)} ms, heap ${grown >= 0 ? '+' : ''}${grown.toFixed(1)} MiB: ${verdict}`,
      );
    }
  } finally {
    await sim.close();
  }
}

main()
  .then(hostileDownloads)
  .then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
