// What the callback routes accept and what they refuse, over real HTTP with FerretDB and Temporal:
// every bad-input class answered as the README says with nothing stored and nothing signalled;
// every suffix on both forms; extra fields kept; repeats recognized; capability tokens checked;
// no token and no body content in logs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { startCallbackRelay, type CallbackRelay } from '../../src/callbacks';
import { ServiceMetrics } from '../../src/http/metrics';
import type { MongoHandle } from '../../src/store/mongo';
import { temporalClient, testDatabase } from '../helpers/stack';
import {
  callbackSignals,
  callbackFor,
  callbacksOf,
  fakeSigning,
  histogramCount,
  insertToken,
  metricValue,
  post,
  startCallbackApp,
  terminateQuietly,
  type CallbackApp,
  type FakeSigning,
} from './helpers';
import { waitFor } from '../helpers/wait';

const PATH = '/evrotrust/callback/document/ready';

describe('callback input', () => {
  let mongo: MongoHandle;
  let temporal: { client: Client; close(): Promise<void> };
  let relay: CallbackRelay;
  let a: CallbackApp;
  const workflows: string[] = [];

  before(async () => {
    mongo = await testDatabase();
    temporal = await temporalClient();
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    relay = startCallbackRelay({
      db: mongo.db,
      temporalClient: temporal.client,
      metrics,
      sweepIntervalMs: 100,
      retryBaseMs: 50,
      retryMaxMs: 200,
    });
    a = await startCallbackApp({ db: mongo.db, relay, metrics });
  });
  after(async () => {
    await a?.close();
    await relay?.stop();
    await Promise.all(workflows.map((w) => terminateQuietly(temporal.client, w)));
    await temporal?.close();
    await mongo?.close();
  });

  async function signing(): Promise<FakeSigning> {
    const s = await fakeSigning(mongo.db, temporal.client);
    workflows.push(s.workflowId);
    return s;
  }

  const rejected = (reason: string) => metricValue(a.metrics, 'evrotrust_callbacks_rejected_total', { reason });

  describe('bad input: the answer the README gives, nothing stored, nothing signalled', () => {
    let s: FakeSigning;
    before(async () => {
      s = await signing();
    });

    const cases: { name: string; body: unknown; status: number; error: string; opts?: Parameters<typeof post>[3] }[] = [
      { name: 'not JSON', body: 'transactionID=1&status=2', status: 400, error: 'bad-json' },
      { name: 'truncated JSON', body: '{"transactionID": "1", "status": 2', status: 400, error: 'bad-json' },
      { name: 'empty body', body: '', status: 400, error: 'bad-json' },
      { name: 'wrong content type', body: 'TX', status: 415, error: 'unsupported-media-type', opts: { contentType: 'text/plain' } },
      {
        name: 'form content type',
        body: 'transactionID=TX&status=2',
        status: 415,
        error: 'unsupported-media-type',
        opts: { contentType: 'application/x-www-form-urlencoded' },
      },
      { name: 'no content type', body: 'TX', status: 415, error: 'unsupported-media-type', opts: { contentType: null } },
      { name: 'oversized (Content-Length)', body: 'BIG', status: 413, error: 'too-large' },
      { name: 'oversized (chunked)', body: 'BIG', status: 413, error: 'too-large', opts: { chunked: true } },
      { name: 'missing transactionID', body: { status: 2 }, status: 400, error: 'invalid' },
      { name: 'missing status', body: { transactionID: 'TX' }, status: 400, error: 'invalid' },
      { name: 'status as a string', body: { transactionID: 'TX', status: '2' }, status: 400, error: 'invalid' },
      { name: 'status not an integer', body: { transactionID: 'TX', status: 2.5 }, status: 400, error: 'invalid' },
      { name: 'transactionID an object', body: { transactionID: { id: 'TX' }, status: 2 }, status: 400, error: 'invalid' },
      { name: 'transactionID a boolean', body: { transactionID: true, status: 2 }, status: 400, error: 'invalid' },
      { name: 'transactionID empty', body: { transactionID: ' ', status: 2 }, status: 400, error: 'invalid' },
      { name: 'transactionID a fraction', body: { transactionID: 1.5, status: 2 }, status: 400, error: 'invalid' },
      { name: 'rejectReason a number', body: { transactionID: 'TX', status: 3, rejectReason: 5 }, status: 400, error: 'invalid' },
      { name: 'an array', body: [{ transactionID: 'TX', status: 2 }], status: 400, error: 'invalid' },
      { name: '__proto__ key', body: '{"transactionID":"TX","status":2,"__proto__":{"polluted":true}}', status: 400, error: 'bad-json' },
      {
        name: 'nested __proto__ key',
        body: '{"transactionID":"TX","status":2,"x":{"__proto__":{"polluted":true}}}',
        status: 400,
        error: 'bad-json',
      },
      {
        name: 'constructor key',
        body: '{"transactionID":"TX","status":2,"constructor":{"prototype":{"polluted":true}}}',
        status: 400,
        error: 'bad-json',
      },
      { name: 'plain constructor key', body: '{"transactionID":"TX","status":2,"constructor":"x"}', status: 400, error: 'bad-json' },
    ];

    for (const c of cases) {
      it(`${c.name} → ${c.status} ${c.error}`, async () => {
        let body = c.body;
        if (body === 'BIG') body = JSON.stringify({ transactionID: s.transactionId, status: 2, pad: 'x'.repeat(17 * 1024) });
        else if (typeof body === 'string') body = body.replace(/TX/g, s.transactionId);
        else body = JSON.parse(JSON.stringify(body).replace(/TX/g, s.transactionId));
        const before = await rejected(c.error);
        const res = await post(a.port, PATH, body, c.opts);
        assert.equal(res.status, c.status, res.text);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        const json = res.json as { error: string; message: string };
        assert.deepEqual(Object.keys(json).sort(), ['error', 'message']);
        assert.equal(json.error, c.error);
        assert.ok(json.message.length > 0);
        assert.equal(await rejected(c.error), before + 1, 'counted by reason');
        assert.equal((await callbacksOf(mongo.db).byTransaction(s.transactionId)).length, 0, 'nothing stored');
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
      });
    }

    it('…and none of them reached the workflow: a valid marker callback afterwards is its only signal', async () => {
      const res = await post(a.port, PATH, { transactionID: s.transactionId, status: 2 });
      assert.equal(res.status, 200);
      await waitFor(async () => (await callbackFor(mongo.db, s.transactionId))?.delivered, 'the marker delivered');
      const signals = await callbackSignals(temporal.client, s.workflowId);
      assert.equal(signals.length, 1);
      assert.equal(signals[0]?.status, 2);
    });

    it('the error messages say what to fix', async () => {
      const res = await post(a.port, PATH, { transactionID: 'x', status: 'two' });
      assert.match((res.json as { message: string }).message, /status must be an integer/);
      const big = await post(a.port, PATH, 'x'.repeat(20_000));
      assert.match((big.json as { message: string }).message, /at most 16384 bytes/);
      const type = await post(a.port, PATH, 'x', { contentType: 'text/plain' });
      assert.match((type.json as { message: string }).message, /application\/json/);
    });
  });

  it('accepts every suffix on the plain and the capability form, with a doubled slash too', async () => {
    const s = await signing();
    const token = await insertToken(mongo.db, s.signingId);
    const paths: string[] = [];
    for (const suffix of ['document/ready', 'document/offline/ready', 'document/group/ready']) {
      for (const slash of ['/', '//']) {
        paths.push(`/evrotrust/callback${slash}${suffix}`, `/evrotrust/callback/t/${token}${slash}${suffix}`);
      }
    }
    for (const [i, path] of paths.entries()) {
      // A distinct status per path, so each is a new callback and not a repeat.
      const res = await post(a.port, path, { transactionID: s.transactionId, status: 100 + i });
      assert.equal(res.status, 200, `${path}: ${res.text}`);
      assert.equal(res.text, '');
    }
    const docs = await callbacksOf(mongo.db).byTransaction(s.transactionId);
    assert.equal(docs.length, paths.length);
    const storedPaths = docs.map((d) => d.path).sort();
    assert.deepEqual(storedPaths, paths.map((p) => p.replace(token, ':token')).sort(), 'paths kept, token redacted');
    assert.ok(
      docs.every((d) => !JSON.stringify(d).includes(token)),
      'the token is never stored',
    );
  });

  it('answers 404 with a JSON error for other paths under the callback prefix', async () => {
    const res = await post(a.port, '/evrotrust/callback/document/other', { transactionID: '1', status: 2 });
    assert.equal(res.status, 404);
    assert.equal((res.json as { error: string }).error, 'not-found');
  });

  it('keeps unknown extra fields, takes an integer transactionID as a string, and null rejectReason as none', async () => {
    const s = await signing();
    const body = `{"transactionID": ${s.transactionId}, "status": 2, "rejectReason": null, "signedAt": "2025-01-01T00:00:00Z", "details": {"channel": "app", "tries": [1, 2]}}`;
    const res = await post(a.port, PATH, body);
    assert.equal(res.status, 200, res.text);
    const doc = await callbackFor(mongo.db, s.transactionId);
    assert.ok(doc);
    assert.equal(doc.transactionID, s.transactionId);
    assert.equal(doc.status, 2);
    assert.equal(doc.rejectReason, null);
    assert.deepEqual(doc.extra, { signedAt: '2025-01-01T00:00:00Z', details: { channel: 'app', tries: [1, 2] } });
    assert.equal(doc.path, PATH);
    assert.equal(doc.sourceAddress, '127.0.0.2');
    assert.ok(doc.receivedAt instanceof Date);
    // Keys a document cannot hold are kept as JSON text instead of failing the insert (503 forever).
    const odd = await signing();
    const res2 = await post(a.port, PATH, { transactionID: odd.transactionId, status: 2, $set: { x: 1 }, 'a.b': 1 });
    assert.equal(res2.status, 200, res2.text);
    const doc2 = await callbackFor(mongo.db, odd.transactionId);
    assert.equal(doc2?.extra, null);
    assert.deepEqual(JSON.parse(doc2?.extraJson ?? 'null'), { $set: { x: 1 }, 'a.b': 1 });
  });

  it('a repeated callback is answered 200 and changes nothing; it is signalled once', async () => {
    const s = await signing();
    const body = { transactionID: s.transactionId, status: 3, rejectReason: 'Wrong amount' };
    const first = await post(a.port, PATH, body);
    assert.equal(first.status, 200);
    // Delivery writes the record, then removes the queue entry: wait for both, so that the check
    // below sees what the repeats did, not the first delivery's second write.
    const delivered = await waitFor(async () => {
      const d = await callbackFor(mongo.db, s.transactionId);
      return d?.delivered && (await callbacksOf(mongo.db).queueEntry(d._id)) === null && d;
    }, 'the first delivery, off the queue');
    const dupBefore = await metricValue(a.metrics, 'evrotrust_callbacks_received_total', {
      suffix: 'document/ready',
      outcome: 'duplicate',
    });
    for (let i = 0; i < 3; i++) {
      const again = await post(a.port, i === 0 ? PATH : '/evrotrust/callback//document/ready', body);
      assert.equal(again.status, 200);
    }
    assert.equal(
      await metricValue(a.metrics, 'evrotrust_callbacks_received_total', { suffix: 'document/ready', outcome: 'duplicate' }),
      dupBefore + 3,
    );
    const docs = await callbacksOf(mongo.db).byTransaction(s.transactionId);
    assert.equal(docs.length, 1);
    assert.deepEqual(docs[0], delivered, 'the stored document is unchanged');
    assert.equal(await callbacksOf(mongo.db).queueEntry(delivered._id), null, 'nothing queued again');
    // The relay is idle once the duplicate answers are out; a sweep finds nothing to do.
    await relay.sweep();
    await relay.idle();
    const signals = await callbackSignals(temporal.client, s.workflowId);
    assert.equal(signals.length, 1);
    assert.deepEqual(
      signals[0],
      { transactionID: s.transactionId, status: 3, callbackId: delivered._id },
      'no rejectReason (free text) in the history',
    );
    // A different status for the same transaction is a new callback.
    assert.equal((await post(a.port, PATH, { transactionID: s.transactionId, status: 2 })).status, 200);
    assert.equal((await callbacksOf(mongo.db).byTransaction(s.transactionId)).length, 2);
  });

  describe('capability form', () => {
    it('an unknown, malformed or revoked token → 403 forbidden-token, nothing stored, the token not logged', async () => {
      const s = await signing();
      const revoked = await insertToken(mongo.db, s.signingId, true);
      const unknown = 'UnknownToken_abcdefghijklmnop';
      const logCount = a.logs.length;
      for (const token of [unknown, revoked, 'short', 'bad%20chars%20in%20token']) {
        const before = await rejected('forbidden-token');
        const res = await post(a.port, `/evrotrust/callback/t/${token}/document/ready`, { transactionID: s.transactionId, status: 2 });
        assert.equal(res.status, 403, token);
        assert.equal((res.json as { error: string }).error, 'forbidden-token');
        assert.equal(await rejected('forbidden-token'), before + 1);
      }
      assert.equal((await callbacksOf(mongo.db).byTransaction(s.transactionId)).length, 0);
      const logs = a.logs.slice(logCount).join('');
      assert.match(logs, /unknown token/);
      assert.match(logs, /token revoked/);
      assert.ok(!logs.includes(unknown) && !logs.includes(revoked), 'tokens never appear in logs');
      assert.match(logs, /\/evrotrust\/callback\/t\/:token\/document\/ready/, 'request logs show the path redacted');
    });

    it('a known token → stored with the token’s signing and delivered when the transaction is that signing’s', async () => {
      const s = await signing();
      const token = await insertToken(mongo.db, s.signingId);
      const logCount = a.logs.length;
      const res = await post(a.port, `/evrotrust/callback/t/${token}/document/offline/ready`, {
        transactionID: s.transactionId,
        status: 2,
      });
      assert.equal(res.status, 200, res.text);
      const doc = await waitFor(async () => {
        const d = await callbackFor(mongo.db, s.transactionId);
        return d?.delivered && d;
      }, 'delivery');
      assert.equal(doc.form, 'token');
      assert.equal(doc.tokenSigningId, s.signingId);
      assert.equal(doc.signingId, s.signingId);
      assert.equal(doc.path, '/evrotrust/callback/t/:token/document/offline/ready');
      assert.equal((await callbackSignals(temporal.client, s.workflowId)).length, 1);
      assert.ok(!a.logs.slice(logCount).join('').includes(token), 'the token is not logged');
    });

    it('a known token of another signing → stored, but not delivered to the transaction’s workflow', async () => {
      const victim = await signing();
      const other = await signing();
      const token = await insertToken(mongo.db, other.signingId);
      const res = await post(a.port, `/evrotrust/callback/t/${token}/document/ready`, {
        transactionID: victim.transactionId,
        status: 3,
        rejectReason: 'spoof',
      });
      assert.equal(res.status, 200);
      const doc = await waitFor(async () => {
        const d = await callbackFor(mongo.db, victim.transactionId);
        return d?.deliveryState === 'token-mismatch' && d;
      }, 'the mismatch to be recorded');
      assert.equal(doc.delivered, false);
      assert.equal(doc.nextAttemptAt, null, 'no more retries');
      assert.equal((await callbackSignals(temporal.client, victim.workflowId)).length, 0);
      assert.equal((await callbackSignals(temporal.client, other.workflowId)).length, 0);
      // The genuine callback for the victim on the plain form is a different callback, not a repeat.
      assert.equal((await post(a.port, PATH, { transactionID: victim.transactionId, status: 3, rejectReason: 'spoof' })).status, 200);
      await waitFor(async () => (await callbackSignals(temporal.client, victim.workflowId)).length === 1, 'the genuine one delivered');
    });
  });

  it('counts acknowledgements in the latency histogram and exposes everything on /metrics', async () => {
    const before = await histogramCount(a.metrics, 'evrotrust_callback_ack_seconds', { code: '200' });
    const s = await signing();
    assert.equal((await post(a.port, PATH, { transactionID: s.transactionId, status: 2 })).status, 200);
    await waitFor(
      async () => (await histogramCount(a.metrics, 'evrotrust_callback_ack_seconds', { code: '200' })) === before + 1,
      'the histogram',
    );
    await waitFor(async () => (await callbackFor(mongo.db, s.transactionId))?.delivered, 'delivery');
    const res = await post(a.port, '/metrics', '', { method: 'GET', contentType: null });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    for (const name of [
      'evrotrust_callbacks_received_total{suffix="document/ready",outcome="stored"}',
      'evrotrust_callbacks_rejected_total{reason="bad-json"}',
      'evrotrust_callback_ack_seconds_bucket',
      'evrotrust_callback_delivery_lag_seconds_count',
      'evrotrust_callbacks_undelivered',
      'evrotrust_callback_deliveries_total{result="delivered"}',
    ]) {
      assert.ok(res.text.includes(name), `${name} in /metrics`);
    }
  });
});
