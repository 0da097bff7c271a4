// OTP ("offline") signing: a 6-digit SMS code per transaction, shown by the controls instead of an
// SMS; activate with it (432 wrong, 448 expired), resend for a new one, then the document is signed
// and the callback goes to /document/offline/ready.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Simulator } from '../../simulator';
import {
  offlineData,
  sendOnline,
  startCallbackServer,
  startTestSimulator,
  vendorJson,
  vendorMultipart,
  type CallbackServer,
} from './helpers';
import { waitFor } from '../helpers/wait';

let sim: Simulator;
let receiver: CallbackServer;

beforeEach(async () => {
  receiver = await startCallbackServer();
  sim = await startTestSimulator({ otpCodeTtlMs: 60_000 });
});
afterEach(async () => {
  await sim.close();
  await receiver.close();
});

async function sendOffline(s: Simulator = sim): Promise<string> {
  const res = await vendorMultipart(s, '/document/doc/offline', offlineData({ urlCallback: receiver.url }));
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const body = res.json as { transactionID: string };
  assert.deepEqual(Object.keys(body), ['transactionID']);
  return body.transactionID;
}

function code(s: Simulator, transactionID: string): string {
  const value = s.controls.transaction(transactionID)?.otpCode;
  assert.ok(value, 'an OTP code is shown');
  return value;
}

describe('offline (OTP) signing', () => {
  it('creates one transaction with a 6-digit code; the right code signs and calls back on /document/offline/ready', async () => {
    const transactionID = await sendOffline();
    const view = sim.controls.transaction(transactionID);
    assert.equal(view?.kind, 'offline');
    assert.equal(view?.status, 1);
    assert.match(code(sim, transactionID), /^\d{6}$/);

    const wrong = code(sim, transactionID) === '000000' ? '111111' : '000000';
    assert.equal((await vendorJson(sim, '/document/doc/offline/activate', { transactionID, activationCode: wrong })).status, 432);

    const ok = await vendorJson(sim, '/document/doc/offline/activate', { transactionID, activationCode: code(sim, transactionID) });
    assert.equal(ok.status, 204);
    assert.equal(ok.bytes.length, 0);
    await waitFor(() => receiver.received.length === 1, 'the callback');
    assert.equal(receiver.received[0]?.path, '/hook/document/offline/ready');
    assert.equal(receiver.received[0]?.remoteAddress, '127.0.0.2');
    assert.deepEqual(receiver.received[0]?.body, { transactionID, status: 2 });
    assert.equal(sim.controls.transaction(transactionID)?.otpCode, undefined, 'the code is gone once used');
    // Activating again: the transaction no longer waits for a code.
    assert.equal((await vendorJson(sim, '/document/doc/offline/activate', { transactionID, activationCode: '123456' })).status, 400);
  });

  it('resend gives a new code (204) and the old one stops working', async () => {
    const transactionID = await sendOffline();
    const first = code(sim, transactionID);
    let second = first;
    // A new random code can equal the old one (1 in a million): resend until it differs.
    while (second === first) {
      assert.equal(
        (await vendorJson(sim, '/document/doc/offline/activate/resend', { transactionID, phone: '+359 888 123 456' })).status,
        204,
      );
      second = code(sim, transactionID);
    }
    assert.equal((await vendorJson(sim, '/document/doc/offline/activate', { transactionID, activationCode: first })).status, 432);
    assert.equal((await vendorJson(sim, '/document/doc/offline/activate', { transactionID, activationCode: second })).status, 204);
  });

  it('resend to another phone is 449; codes for unknown or online transactions are 443', async () => {
    const transactionID = await sendOffline();
    assert.equal((await vendorJson(sim, '/document/doc/offline/activate/resend', { transactionID, phone: '+359888000000' })).status, 449);
    assert.equal((await vendorJson(sim, '/document/doc/offline/activate', { transactionID: '42', activationCode: '123456' })).status, 443);
    assert.equal(
      (await vendorJson(sim, '/document/doc/offline/activate/resend', { transactionID: '42', phone: '+359888123456' })).status,
      443,
    );
    const online = await sendOnline(sim, { urlCallback: receiver.url });
    assert.equal(
      (await vendorJson(sim, '/document/doc/offline/activate', { transactionID: online.transactionID, activationCode: '123456' })).status,
      443,
    );
  });

  it('answers 448 once the code has expired, and a resent code works again', async () => {
    const short = await startTestSimulator({ otpCodeTtlMs: 100 });
    try {
      const transactionID = await sendOffline(short);
      const stale = code(short, transactionID);
      const expiresAt = Date.parse(short.controls.transaction(transactionID)?.otpExpiresAt ?? '');
      await waitFor(() => Date.now() > expiresAt, 'the code to expire', 2000);
      assert.equal((await vendorJson(short, '/document/doc/offline/activate', { transactionID, activationCode: stale })).status, 448);
      assert.equal(
        (await vendorJson(short, '/document/doc/offline/activate/resend', { transactionID, phone: '+359888123456' })).status,
        204,
      );
      assert.equal(
        (await vendorJson(short, '/document/doc/offline/activate', { transactionID, activationCode: code(short, transactionID) })).status,
        204,
      );
    } finally {
      await short.close();
    }
  });

  it('validates the offline body: 400 without a phone, 454 for a bad coverage', async () => {
    const noPhone = offlineData({ urlCallback: receiver.url });
    noPhone.user = { identificationNumber: '8611048980' };
    assert.equal((await vendorMultipart(sim, '/document/doc/offline', noPhone)).status, 400);
    assert.equal(
      (await vendorMultipart(sim, '/document/doc/offline', offlineData({ urlCallback: receiver.url, coverage: 7 }))).status,
      454,
    );
    assert.equal(
      (await vendorMultipart(sim, '/document/doc/offline', offlineData({ urlCallback: receiver.url, phone: 'call me' }))).status,
      449,
    );
  });
});
