// With a stateDir, a restart keeps pending signings: they can still be signed, call back and be
// downloaded, and a signed-but-undelivered callback is sent again after the restart.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decryptDownload } from '../../src/evrotrust/decrypt';
import { samplePdf, sendOnline, startCallbackServer, startTestSimulator, vendorJson, vendorKeys, type CallbackServer } from './helpers';
import { waitFor } from '../helpers/wait';

let stateDir: string;
let receiver: CallbackServer;

before(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'evrotrust-sim-'));
  receiver = await startCallbackServer();
});
after(async () => {
  await receiver.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe('persistence', () => {
  it('keeps transactions, files, users and pending callbacks across a restart', async () => {
    const content = samplePdf('persist');
    const first = await startTestSimulator({ stateDir });
    const pending = await sendOnline(first, { content, urlCallback: receiver.url });
    const undelivered = await sendOnline(first, { urlCallback: receiver.url });
    first.controls.setUser('+359888777666', { isRegistered: false });
    // This callback is held back past the restart: the simulator must send it once it is up again.
    first.controls.callbackBehavior(undelivered.transactionID, { mode: 'delay', delayMs: 60_000 });
    await first.controls.reject(undelivered.transactionID, 'changed my mind');
    await first.close();

    const second = await startTestSimulator({ stateDir });
    try {
      await waitFor(() => receiver.received.length === 1, 'the callback pending before the restart');
      assert.deepEqual(receiver.received[0]?.body, {
        transactionID: undelivered.transactionID,
        status: 3,
        rejectReason: 'changed my mind',
      });

      assert.deepEqual((await vendorJson(second, '/document/status', { transactionID: pending.transactionID })).json, {
        status: 1,
        isProcessing: false,
        rejectReason: null,
      });
      const check = await vendorJson(second, '/user/check/extended', { user: { phone: '+359888777666' } });
      assert.equal(check.status, 200);
      assert.equal((check.json as { isRegistered: number }).isRegistered, 0, 'the user made unknown stays unknown');

      await second.controls.sign(pending.transactionID);
      await waitFor(() => receiver.received.length === 2, 'the signed callback');
      assert.deepEqual(receiver.received[1]?.body, { transactionID: pending.transactionID, status: 2 });
      const zip = await vendorJson(second, '/document/download', { transactionID: pending.transactionID });
      assert.equal(zip.status, 200);
      const [file] = await decryptDownload(zip.bytes, vendorKeys().privateKeyPem);
      assert.ok(
        Buffer.from(file?.content ?? [])
          .toString('latin1')
          .startsWith(Buffer.from(content).toString('latin1')),
      );
    } finally {
      await second.close();
    }

    // And once more: a signed document stays downloadable after another restart.
    const third = await startTestSimulator({ stateDir });
    try {
      assert.equal((await vendorJson(third, '/document/download', { transactionID: pending.transactionID })).status, 200);
      assert.equal(receiver.received.length, 2, 'delivered callbacks are not sent again');
    } finally {
      await third.close();
    }
  });
});
