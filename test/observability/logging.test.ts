// The logger factory (src/log.ts) and what goes through it: request ids on the HTTP server
// (app.inject on the production composition, buildServer), Evrotrust calls logged with endpoint,
// status or error code and duration (a real client against the simulator over HTTP) and nothing
// personal or secret, and the pretty format of `npm start`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { createEvrotrustClient } from '../../src/evrotrust/client';
import { generateKeyPair } from '../../src/evrotrust/keys';
import { buildServer } from '../../src/http/server';
import { createLogger, evrotrustLogger } from '../../src/log';
import { startSimulator, SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER, type Simulator } from '../../simulator';
import { captureLines } from './helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('request ids', () => {
  const logs = captureLines();
  let app: FastifyInstance;
  before(async () => {
    app = await buildServer({
      health: { temporal: async () => {}, mongodb: async () => {} },
      loggerInstance: createLogger({ format: 'json', level: 'info', destination: logs }),
      plugins: [
        (a) => {
          a.post('/echo', async (request) => {
            request.log.info('handling');
            return { ok: true };
          });
        },
      ],
    });
    await app.ready();
  });
  after(() => app?.close());

  /** The log lines of one request id. */
  const linesOf = (reqId: string) => logs.records().filter((r) => r.reqId === reqId);

  it('generates a UUID when none is sent, echoes it, and every log line of the request carries it', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', payload: {} });
    assert.equal(res.statusCode, 200);
    const id = res.headers['x-request-id'];
    assert.ok(typeof id === 'string' && UUID.test(id), `x-request-id: ${String(id)}`);
    const lines = linesOf(id);
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['incoming request', 'handling', 'request completed'],
    );
    // Every line of the run that belongs to a request carries a reqId.
    assert.ok(logs.records().every((r) => typeof r.reqId === 'string'));
  });

  it("takes the caller's X-Request-Id when it is sane", async () => {
    for (const given of ['abc-123', 'trace.id:42_x', 'A'.repeat(128), '4bf92f3577b34da6a3ce929d0e0e4736']) {
      const res = await app.inject({ method: 'POST', url: '/echo', payload: {}, headers: { 'x-request-id': given } });
      assert.equal(res.headers['x-request-id'], given);
      assert.equal(linesOf(given).length, 3);
    }
  });

  it('replaces an insane one (too long, odd characters, empty) with a UUID', async () => {
    for (const given of ['A'.repeat(129), 'has space', 'tab\there', '<script>', 'ЕГН-7501010010', '', 'a/b', 'x"y']) {
      const res = await app.inject({ method: 'POST', url: '/echo', payload: {}, headers: { 'x-request-id': given } });
      const id = res.headers['x-request-id'];
      assert.ok(typeof id === 'string' && UUID.test(id), `${JSON.stringify(given)} gave ${String(id)}`);
      assert.ok(!logs.text().includes(given) || given === '', `the refused id ${JSON.stringify(given)} was logged`);
    }
  });

  it('is echoed on errors too: 404, and 413 for a body over the limit', async () => {
    const missing = await app.inject({ method: 'GET', url: '/nowhere', headers: { 'x-request-id': 'r-404' } });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.headers['x-request-id'], 'r-404');
    const big = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'x-request-id': 'r-413', 'content-type': 'application/json' },
      payload: JSON.stringify({ x: 'y'.repeat(70 * 1024) }),
    });
    assert.equal(big.statusCode, 413);
    assert.equal(big.headers['x-request-id'], 'r-413');
    assert.ok(linesOf('r-413').length > 0);
  });
});

describe('Evrotrust calls in the log', () => {
  const logs = captureLines();
  let sim: Simulator;
  const EGN = '7501010010';
  const PHONE = '+359888123456';
  before(async () => {
    sim = await startSimulator({ port: 0 });
  });
  after(() => sim?.close());

  it('one info line per call with endpoint, HTTP status or error code, and duration; no personal data, no API key', async () => {
    const keys = await generateKeyPair();
    const client = createEvrotrustClient({
      baseUrl: sim.vendorBaseUrl,
      vendorNumber: SANDBOX_VENDOR_NUMBER,
      apiKey: SANDBOX_API_KEY,
      publicKeyPem: keys.publicKeyPem,
      logger: evrotrustLogger(createLogger({ format: 'json', level: 'info', destination: logs })),
    });
    await client.checkUser({ identificationNumber: EGN });
    await client.checkUser({ phone: PHONE });
    sim.controls.failNext('/document/status', { status: 500 });
    await assert.rejects(client.status('tx-unknown'));

    const records = logs.records();
    const calls = records.filter((r) => r.msg === 'evrotrust call');
    assert.equal(calls.length, 2, logs.text());
    for (const c of calls) {
      assert.equal(c.level, 30, 'info');
      assert.equal(c.component, 'evrotrust');
      assert.equal(c.endpoint, '/user/check/extended');
      assert.equal(c.httpStatus, 200);
      assert.equal(typeof c.durationMs, 'number');
    }
    const failed = records.find((r) => r.msg === 'evrotrust call failed');
    assert.ok(failed, logs.text());
    assert.equal(failed.endpoint, '/document/status');
    assert.equal(failed.httpStatus, 500);
    assert.equal(typeof failed.code, 'string');
    assert.equal(typeof failed.durationMs, 'number');
    assert.equal(failed.transactionID, 'tx-unknown', 'Evrotrust ids are kept: they are not personal data');

    const text = logs.text();
    for (const secret of [EGN, PHONE, PHONE.slice(1), SANDBOX_API_KEY]) {
      assert.ok(!text.includes(secret), `${secret} appears in the log`);
    }
  });
});

describe('log formats', () => {
  it('json: one JSON object per line with level, ISO time and msg', () => {
    const out = captureLines();
    createLogger({ format: 'json', destination: out }).info({ signingId: 's-1' }, 'hello');
    const [line] = out.records();
    assert.equal(line?.msg, 'hello');
    assert.equal(line?.level, 30);
    assert.equal(line?.signingId, 's-1');
    assert.match(String(line?.time), /^\d{4}-\d\d-\d\dT/);
  });

  it('pretty (npm start): a readable line, not JSON', () => {
    const out = captureLines();
    createLogger({ format: 'pretty', destination: out }).info({ signingId: 's-1' }, 'hello');
    const text = out.text();
    assert.match(text, /INFO.*hello/);
    assert.match(text, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: hello \{"signingId":"s-1"\}$/, 'one line: time, level, message, fields');
    assert.equal(out.lines.length, 1);
    assert.throws(() => JSON.parse(out.lines[0] as string));
  });
});

describe('capability tokens in request lines', () => {
  it("a callback URL's token never reaches the log, in either format: request lines and the 404 message show <token>", async () => {
    for (const format of ['json', 'pretty'] as const) {
      const out = captureLines();
      const app = await buildServer({
        health: { temporal: async () => {}, mongodb: async () => {} },
        loggerInstance: createLogger({ format, level: 'info', destination: out }),
        // Not what this checks: a stalled event loop (a busy machine) must not turn the 404 into a 503.
        limits: { overloadMaxEventLoopDelayMs: 0 },
        plugins: [(a) => void a.post('/evrotrust/callback/t/:token/document/ready', async () => ({ ok: true }))],
      });
      try {
        const secret = 'Zq3kTOKENs3cr3t9';
        assert.equal(
          (await app.inject({ method: 'POST', url: `/evrotrust/callback/t/${secret}/document/ready`, payload: {} })).statusCode,
          200,
        );
        assert.equal((await app.inject({ method: 'GET', url: `/evrotrust/callback//t/${secret}/nowhere` })).statusCode, 404);
        const text = out.text();
        assert.ok(text.length > 0, 'request lines were written');
        assert.ok(!text.includes(secret), `${format}: the token is masked`);
        assert.match(text, /\/evrotrust\/callback\/t\/<token>\/document\/ready/);
        assert.match(text, /not found/);
      } finally {
        await app.close();
      }
    }
  });
});
