// The listener's limits over real HTTP (issue 11): large bodies to unknown paths are refused without
// being read while callbacks keep being answered, with the heap bounded; header and request
// timeouts; overload answered 503 with Retry-After but never on callbacks or health; the business
// API's rate limit (and none on callbacks); /metrics behind METRICS_TOKEN; /readyz without details.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/http/server';
import { metricsRoutes, ServiceMetrics } from '../../src/http/metrics';
import { registerCallbacks } from '../../src/callbacks';
import { signingApiRoutes } from '../../src/signings/routes';
import { SigningNotFoundError } from '../../src/signings/errors';
import type { SigningService } from '../../src/signings/service';
import type { MongoHandle } from '../../src/store/mongo';
import { testDatabase } from '../helpers/stack';
import { newTransactionId, post, startCallbackApp, type CallbackApp } from '../callbacks/helpers';

const MIB = 1024 * 1024;
const CALLBACK = '/evrotrust/callback/document/ready';
const TOKEN = 'limits-test-token-0123456789';

/** The heap bound this test states: the attack may grow the server's heap by at most this much. */
const HEAP_BOUND = 64 * MIB;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** POSTs `size` bytes of `[{},{},…` to `path`, streamed with backpressure (one 64 KiB chunk held). */
function streamBody(port: number, path: string, size: number, chunked: boolean): Promise<{ status: number; sent: number }> {
  const chunk = Buffer.from('{},'.repeat(Math.ceil((64 * 1024) / 3)).slice(0, 64 * 1024));
  return new Promise((resolve) => {
    let sent = 0;
    let done = false;
    let status = 0;
    const finish = () => {
      if (!done) {
        done = true;
        resolve({ status, sent });
      }
    };
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': size }) },
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
        if (!req.write(sent === chunk.length ? Buffer.concat([Buffer.from('['), chunk.subarray(1)]) : chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!done) req.end();
    };
    pump();
  });
}

describe('HTTP limits', () => {
  let mongo: MongoHandle;

  before(async () => {
    mongo = await testDatabase();
  });
  after(async () => {
    await mongo?.close();
  });

  describe('six parallel 32 MiB POSTs to an unknown path', () => {
    let a: CallbackApp;
    const bytesRead: number[] = [];
    before(async () => {
      // Overload shedding off: this is about the body limit (a 503 from an event loop slowed by a busy
      // machine answered instead of the 413 under test, in fresh-clone CI); overload has its own test below.
      a = await startCallbackApp({ db: mongo.db, host: '127.0.0.1', limits: { overloadMaxEventLoopDelayMs: 0 } });
      a.app.server.on('connection', (socket: net.Socket) => socket.on('close', () => bytesRead.push(socket.bytesRead)));
    });
    after(async () => {
      await a?.close();
    });

    it('are refused without being read; the heap stays within 64 MiB; callbacks keep being answered 200 quickly', async (t) => {
      // Warm up (first request compiles routes, schemas, the store's connection).
      assert.equal((await post(a.port, CALLBACK, { transactionID: newTransactionId(), status: 1 })).status, 200);
      gc();
      const baseline = process.memoryUsage().heapUsed;
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);

      const attackUntil = Date.now() + 3000;
      const attackAnswers: { status: number; sent: number }[] = [];
      const attacker = async (i: number) => {
        do attackAnswers.push(await streamBody(a.port, `/no/such/path/${i}`, 32 * MIB, i % 2 === 1));
        while (Date.now() < attackUntil);
      };
      const callbacks: { status: number; ms: number }[] = [];
      const caller = async () => {
        while (Date.now() < attackUntil) {
          const res = await post(a.port, CALLBACK, { transactionID: newTransactionId(), status: 1 });
          callbacks.push({ status: res.status, ms: res.ms });
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      await Promise.all([...Array.from({ length: 6 }, (_, i) => attacker(i)), caller()]);
      clearInterval(sampler);
      gc();
      const afterHeap = process.memoryUsage().heapUsed;

      // Every oversized body got 413 from the small global limit, the client could not send it all.
      assert.ok(attackAnswers.length >= 6);
      for (const ans of attackAnswers) assert.equal(ans.status, 413);
      // The server read at most a few socket buffers of each (Content-Length over the limit: none of
      // the body is parsed; chunked: 64 KiB), then closed the connection.
      const attackSockets = bytesRead.filter((n) => n > 16 * 1024);
      assert.ok(attackSockets.length >= 6, `${attackSockets.length} attack connections seen`);
      assert.ok(Math.max(...attackSockets) < 4 * MIB, `a connection read ${Math.max(...attackSockets)} bytes`);

      // Callbacks kept flowing through the attack (about 100 on a quiet machine; 16 seen on a loaded one).
      assert.ok(callbacks.length >= 10, `${callbacks.length} callbacks sent`);
      for (const c of callbacks) assert.equal(c.status, 200);
      const worst = Math.max(...callbacks.map((c) => c.ms));
      assert.ok(worst < 1000, `slowest callback ${worst.toFixed(0)} ms`);

      const growth = peak - baseline;
      t.diagnostic(
        `${attackAnswers.length} attack POSTs, ${callbacks.length} callbacks (slowest ${worst.toFixed(0)} ms); ` +
          `heap baseline ${(baseline / MIB).toFixed(1)} MiB, peak +${(growth / MIB).toFixed(1)} MiB, after gc +${((afterHeap - baseline) / MIB).toFixed(1)} MiB; ` +
          `largest read ${(Math.max(...attackSockets) / 1024).toFixed(0)} KiB`,
      );
      assert.ok(growth < HEAP_BOUND, `heap grew by ${(growth / MIB).toFixed(1)} MiB`);
    });
  });

  describe('timeouts', () => {
    let app: FastifyInstance;
    let port: number;
    before(async () => {
      app = await buildServer({
        health: { temporal: async () => {}, mongodb: async () => {} },
        limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, idleTimeoutMs: 1000, connectionTimeoutMs: 10_000 },
      });
      app.post('/echo', async (req) => ({ got: req.body }));
      await app.listen({ host: '127.0.0.1', port: 0 });
      port = (app.server.address() as AddressInfo).port;
    });
    after(async () => {
      await app?.close();
    });

    /** Opens a socket, writes `text`, then waits for the server to answer or close; the answer's first line and when. */
    const stall = (text: string): Promise<{ firstLine: string; ms: number }> =>
      new Promise((resolve) => {
        const started = Date.now();
        const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
        let got = '';
        socket.on('data', (d) => (got += d.toString('latin1')));
        socket.on('close', () => resolve({ firstLine: got.split('\r\n')[0] ?? '', ms: Date.now() - started }));
        socket.on('error', () => {});
      });

    it('headers not finished within HTTP_HEADERS_TIMEOUT: 408 and the connection closed', async () => {
      const r = await stall('POST /echo HTTP/1.1\r\nHost: x\r\n');
      assert.match(r.firstLine, /^(HTTP\/1\.1 408|)/);
      assert.ok(r.ms >= 900 && r.ms < 4000, `closed after ${r.ms} ms`);
    });

    it('a body not finished within HTTP_REQUEST_TIMEOUT: 408 and the connection closed', async () => {
      const r = await stall('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
      assert.match(r.firstLine, /^(HTTP\/1\.1 408|)/);
      assert.ok(r.ms >= 1900 && r.ms < 5000, `closed after ${r.ms} ms`);
    });

    it('an idle keep-alive connection is closed after HTTP_IDLE_TIMEOUT', async () => {
      const r = await stall('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(r.firstLine, /^HTTP\/1\.1 200/);
      assert.ok(r.ms >= 900 && r.ms < 4000, `closed after ${r.ms} ms`);
    });
  });

  describe('overload, rate limit, metrics token, readiness', () => {
    let app: FastifyInstance;
    let port: number;
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const service = {
      get: async () => {
        throw new SigningNotFoundError('x');
      },
    } as unknown as SigningService;
    let mongoDown = false;

    const build = async (overloaded: boolean): Promise<FastifyInstance> =>
      buildServer({
        health: {
          temporal: async () => {},
          mongodb: async () => {
            if (mongoDown) throw new Error('connect ECONNREFUSED 10.1.2.3:27017');
          },
        },
        // 1 byte of heap: under pressure as soon as the first sample is taken. The event-loop trigger
        // is off in both: on a loaded machine it answered 503 where the rate-limit test expects 404/429.
        limits: overloaded
          ? { overloadMaxHeapUsedBytes: 1, overloadRetryAfterS: 7, overloadMaxEventLoopDelayMs: 0 }
          : { overloadMaxEventLoopDelayMs: 0 },
        plugins: [
          (a) => registerCallbacks(a, { db: mongo.db, metrics, allowedIps: ['127.0.0.2'] }),
          async (a) => void (await a.register(metricsRoutes, { metrics, token: 'metrics-token-0123456789' })),
          async (a) => void (await a.register(signingApiRoutes, { service, apiToken: TOKEN, rateLimit: { max: 3, windowMs: 60_000 } })),
        ],
      });

    before(async () => {
      app = await build(false);
      await app.listen({ host: '127.0.0.1', port: 0 });
      port = (app.server.address() as AddressInfo).port;
    });
    after(async () => {
      await app?.close();
    });

    it('the business API is rate limited per client: 429 with Retry-After; callbacks and health are not', async () => {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const statuses: number[] = [];
      let last: Awaited<ReturnType<typeof post>> | undefined;
      for (let i = 0; i < 5; i++) {
        last = await post(port, '/v1/signings/abc', '', { method: 'GET', headers: auth, contentType: null, from: '127.0.0.1' });
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [404, 404, 404, 429, 429]);
      assert.deepEqual(Object.keys(last?.json as object).sort(), ['error', 'message']);
      assert.equal((last?.json as { error: string }).error, 'rate-limited');
      assert.ok(Number(last?.headers['retry-after']) > 0);
      for (let i = 0; i < 10; i++) {
        assert.equal((await post(port, CALLBACK, { transactionID: newTransactionId(), status: 1 })).status, 200);
        const h = await post(port, '/healthz', '', { method: 'GET', contentType: null, from: '127.0.0.1' });
        assert.equal(h.status, 200);
      }
    });

    it('/metrics wants the METRICS_TOKEN when one is set', async () => {
      const none = await app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(none.statusCode, 401);
      assert.equal(none.json().error, 'unauthorized');
      const wrong = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789x' } });
      assert.equal(wrong.statusCode, 401);
      const ok = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789' } });
      assert.equal(ok.statusCode, 200);
      assert.match(ok.body, /# TYPE/);
    });

    it('/readyz names the dependency that is down, never its error text or address', async () => {
      mongoDown = true;
      try {
        const res = await app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(res.statusCode, 503);
        assert.deepEqual(res.json(), { status: 'unavailable', checks: { temporal: 'ok', mongodb: 'down' } });
        assert.doesNotMatch(res.body, /10\.1\.2\.3|ECONNREFUSED|27017/);
      } finally {
        mongoDown = false;
      }
      const ok = await app.inject({ method: 'GET', url: '/readyz' });
      assert.deepEqual(ok.json(), { status: 'ready', checks: { temporal: 'ok', mongodb: 'ok' } });
    });

    it('overload: 503 with Retry-After on the business API and unknown paths; callbacks and health still served', async () => {
      const loaded = await build(true);
      try {
        await loaded.ready();
        await new Promise((r) => setTimeout(r, 400)); // the first sample
        for (const url of ['/v1/signings/abc', '/nope']) {
          const res = await loaded.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });
          assert.equal(res.statusCode, 503, url);
          assert.equal(res.headers['retry-after'], '7');
          assert.equal(res.json().error, 'overloaded');
        }
        assert.equal((await loaded.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
        assert.equal((await loaded.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
        const cb = await loaded.inject({
          method: 'POST',
          url: CALLBACK,
          remoteAddress: '127.0.0.2',
          payload: { transactionID: newTransactionId(), status: 1 },
        });
        assert.equal(cb.statusCode, 200, cb.body);
      } finally {
        await loaded.close();
      }
    });
  });
});
