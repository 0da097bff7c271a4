// Callbacks as Evrotrust sends them, received by a real HTTP server on 127.0.0.1: from the
// configured source address (127.0.0.2), with the right suffix and body, retried on failure
// (3 attempts in all), and dropped, delayed or duplicated on request.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Simulator, SimulatorOptions } from '../../simulator';
import { sendOnline, startCallbackServer, startTestSimulator, vendorJson, type CallbackServer } from './helpers';
import { waitFor } from '../helpers/wait';

let sim: Simulator | undefined;
let receiver: CallbackServer;

async function setup(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await startTestSimulator(options);
  return sim;
}

beforeEach(async () => {
  receiver = await startCallbackServer();
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  await receiver.close();
});

describe('delivery', () => {
  it('POSTs {transactionID, status} to urlCallback + /document/ready from 127.0.0.2 once signing is processed', async () => {
    const s = await setup({ processingMs: 100 });
    const { transactionID } = await sendOnline(s, { urlCallback: receiver.url });
    await s.controls.sign(transactionID);
    const [cb] = await waitFor(() => receiver.received.length === 1 && receiver.received, 'the callback');
    assert.ok(cb);
    assert.equal(cb.path, '/hook/document/ready');
    assert.equal(cb.remoteAddress, '127.0.0.2');
    assert.equal(cb.contentType, 'application/json');
    assert.deepEqual(cb.body, { transactionID, status: 2 });
    // Sent only when the document can be downloaded: the status then says processing is over.
    assert.deepEqual((await vendorJson(s, '/document/status', { transactionID })).json, {
      status: 2,
      isProcessing: false,
      rejectReason: null,
    });
    const [attempt] = await waitFor(() => s.controls.callbacks().length === 1 && s.controls.callbacks(), 'the log entry');
    assert.deepEqual(
      { ...attempt, at: undefined },
      {
        transactionID,
        url: `${receiver.url}/document/ready`,
        body: { transactionID, status: 2 },
        attempt: 1,
        copy: 1,
        sourceAddress: '127.0.0.2',
        outcome: 200,
        at: undefined,
      },
    );
  });

  it('carries the reject reason, and reports expiry by the clock', async () => {
    const s = await setup();
    const rejected = await sendOnline(s, { urlCallback: receiver.url });
    await s.controls.reject(rejected.transactionID, 'Not my document');
    // 1–2 s ahead (never under a second, so it is not already past when the request arrives).
    const expiring = await sendOnline(s, { urlCallback: receiver.url, dateExpire: Math.ceil(Date.now() / 1000) + 1 });
    await waitFor(() => receiver.received.length === 2, 'two callbacks', 4000);
    assert.deepEqual(receiver.received[0]?.body, { transactionID: rejected.transactionID, status: 3, rejectReason: 'Not my document' });
    assert.deepEqual(receiver.received[1]?.body, { transactionID: expiring.transactionID, status: 4 });
    assert.equal(receiver.received[1]?.remoteAddress, '127.0.0.2');
  });

  it('concatenates like Evrotrust: a urlCallback ending in / gives //document/ready', async () => {
    const s = await setup();
    const { transactionID } = await sendOnline(s, { urlCallback: `${receiver.url}/` });
    await s.controls.expire(transactionID);
    await waitFor(() => receiver.received.length === 1, 'the callback');
    assert.equal(receiver.received[0]?.path, '/hook//document/ready');
  });

  it('sends no callback on withdraw by default, and status 6 when withdrawCallbacks is on', async () => {
    const quiet = await setup();
    const a = await sendOnline(quiet, { urlCallback: receiver.url });
    assert.deepEqual((await vendorJson(quiet, '/document/withdraw', { threadID: a.threadID })).json, { status: 1 });
    await quiet.controls.expire((await sendOnline(quiet, { urlCallback: receiver.url })).transactionID); // a marker that does call back
    await waitFor(() => receiver.received.length === 1, 'the marker callback');
    assert.equal((receiver.received[0]?.body as { status: number }).status, 4, 'the withdrawn one sent nothing');
    await quiet.close();

    const loud = await setup({ withdrawCallbacks: true });
    const b = await sendOnline(loud, { urlCallback: receiver.url });
    await vendorJson(loud, '/document/withdraw', { threadID: b.threadID });
    await waitFor(() => receiver.received.length === 2, 'the withdraw callback');
    assert.deepEqual(receiver.received[1]?.body, { transactionID: b.transactionID, status: 6 });
  });
});

describe('retries', () => {
  it('retries after non-200 answers and stops at the first 200', async () => {
    const s = await setup();
    receiver.answers.push(500, 204);
    const { transactionID } = await sendOnline(s, { urlCallback: receiver.url });
    await s.controls.reject(transactionID, 'no');
    await waitFor(() => s.controls.callbacks().some((a) => a.outcome === 200), 'a delivered attempt');
    assert.deepEqual(
      s.controls.callbacks().map((a) => [a.attempt, a.outcome]),
      [
        [1, 500],
        [2, 204],
        [3, 200],
      ],
    );
    assert.equal(receiver.received.length, 3);
    assert.ok(receiver.received.every((r) => r.remoteAddress === '127.0.0.2'));
  });

  it('gives up after 3 attempts in all', async () => {
    const s = await setup({ callbackRetryDelayMs: 30 });
    receiver.answers.push(503, 503, 503, 503);
    const { transactionID } = await sendOnline(s, { urlCallback: receiver.url });
    await s.controls.expire(transactionID);
    await waitFor(() => s.controls.callbacks().length === 3, 'three attempts');
    // Nothing more comes: wait well past another retry delay and check again.
    const third = receiver.received[2];
    assert.ok(third);
    await waitFor(() => Date.now() - third.at > 300, 'quiet period');
    assert.equal(receiver.received.length, 3);
    assert.deepEqual(
      s.controls.callbacks().map((a) => a.outcome),
      [503, 503, 503],
    );
  });

  it('counts a callback not answered within the timeout as failed, and an unreachable receiver too', async () => {
    const s = await setup({ callbackTimeoutMs: 150, callbackAttempts: 2 });
    receiver.answers.push('hang');
    const { transactionID } = await sendOnline(s, { urlCallback: receiver.url });
    await s.controls.expire(transactionID);
    await waitFor(() => s.controls.callbacks().length === 2, 'two attempts');
    assert.deepEqual(
      s.controls.callbacks().map((a) => a.outcome),
      ['timeout', 200],
    );

    const closed = await startCallbackServer();
    await closed.close();
    const other = await sendOnline(s, { urlCallback: closed.url });
    await s.controls.expire(other.transactionID);
    await waitFor(() => s.controls.callbacks().filter((a) => a.transactionID === other.transactionID).length === 2, 'two refused attempts');
    assert.ok(
      s.controls
        .callbacks()
        .filter((a) => a.transactionID === other.transactionID)
        .every((a) => a.outcome === 'ECONNREFUSED'),
    );
  });
});

describe('callback behaviours', () => {
  it('drops a callback (nothing sent, logged as dropped), then behaves normally', async () => {
    const s = await setup();
    s.controls.callbackBehavior('*', { mode: 'drop', times: 1 });
    const first = await sendOnline(s, { urlCallback: receiver.url });
    const second = await sendOnline(s, { urlCallback: receiver.url });
    await s.controls.expire(first.transactionID);
    await s.controls.expire(second.transactionID);
    await waitFor(() => receiver.received.length === 1, 'the second callback');
    assert.deepEqual(receiver.received[0]?.body, { transactionID: second.transactionID, status: 4 });
    assert.deepEqual(s.controls.callbacks().find((a) => a.transactionID === first.transactionID)?.outcome, 'dropped');
    // A lost callback is recovered by asking /document/status, as with Evrotrust.
    assert.equal(((await vendorJson(s, '/document/status', { transactionID: first.transactionID })).json as { status: number }).status, 4);
  });

  it('delays a callback of one transaction by delayMs', async () => {
    const s = await setup();
    const slow = await sendOnline(s, { urlCallback: receiver.url });
    const fast = await sendOnline(s, { urlCallback: receiver.url });
    s.controls.callbackBehavior(slow.transactionID, { mode: 'delay', delayMs: 400 });
    const started = Date.now();
    await s.controls.expire(slow.transactionID);
    await s.controls.expire(fast.transactionID);
    await waitFor(() => receiver.received.length === 2, 'both callbacks');
    assert.deepEqual(
      receiver.received.map((r) => (r.body as { transactionID: string }).transactionID),
      [fast.transactionID, slow.transactionID],
    );
    assert.ok((receiver.received[1]?.at ?? 0) - started >= 380, 'the delayed one came after its delay');
  });

  it('duplicates a callback', async () => {
    const s = await setup();
    const { transactionID } = await sendOnline(s, { urlCallback: receiver.url });
    s.controls.callbackBehavior(transactionID, { mode: 'duplicate', copies: 3 });
    await s.controls.reject(transactionID, 'twice?');
    await waitFor(() => receiver.received.length === 3, 'three copies');
    assert.ok(receiver.received.every((r) => (r.body as { transactionID: string }).transactionID === transactionID));
    assert.deepEqual(
      s.controls.callbacks().map((a) => a.copy),
      [1, 2, 3],
    );
  });

  it('refuses a behaviour for an unknown transaction', async () => {
    const s = await setup();
    assert.throws(() => s.controls.callbackBehavior('123', { mode: 'drop' }), /unknown transaction/);
  });
});
