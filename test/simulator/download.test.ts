// The download is the real encrypted ZIP: decrypting it with the vendor's private key gives the
// signed copy of the uploaded file, under its original name.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decryptDownload } from '../../src/evrotrust/decrypt';
import type { Simulator } from '../../simulator';
import { OTHER_EGN, VALID_EGN, samplePdf, sendOnline, startTestSimulator, vendorJson, vendorKeys } from './helpers';
import { waitFor } from '../helpers/wait';

let sim: Simulator;

before(async () => {
  sim = await startTestSimulator({ processingMs: 20 });
});
after(async () => {
  await sim.close();
});

async function downloadWhenReady(transactionID: string): Promise<Uint8Array> {
  await waitFor(async () => {
    const status = (await vendorJson(sim, '/document/status', { transactionID })).json as { status: number; isProcessing: boolean };
    return status.status === 2 && !status.isProcessing;
  }, 'signed and processed');
  const res = await vendorJson(sim, '/document/download', { transactionID });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="${transactionID}.zip"`);
  return res.bytes;
}

describe('download', () => {
  it('decrypts to the signed copy of the uploaded file, file name preserved', async () => {
    const content = samplePdf('download me');
    const { transactionID } = await sendOnline(sim, { content, filename: 'Договор № 7.pdf' });
    await sim.controls.sign(transactionID);
    const files = await decryptDownload(await downloadWhenReady(transactionID), vendorKeys().privateKeyPem);
    assert.equal(files.length, 1);
    const [file] = files;
    assert.ok(file);
    assert.equal(file.filename, 'Договор № 7.pdf');
    const expected = sim.controls.transaction(transactionID)?.signedDocument;
    assert.ok(expected);
    assert.deepEqual(Buffer.from(file.content), Buffer.from(expected.content));
    const text = Buffer.from(file.content).toString('latin1');
    assert.ok(text.startsWith(Buffer.from(content).toString('latin1')), 'the original bytes come first');
    assert.match(text, new RegExp(`%EvrotrustSimulatorSignature transactionID=${transactionID} `));
  });

  it('spans many encryption slices for a larger file', async () => {
    const content = new Uint8Array(300 * 1024);
    content.set(samplePdf('large'));
    for (let i = 200; i < content.length; i++) content[i] = (i * 31) & 0xff;
    const created = await sendOnline(sim, { content, users: [{ identificationNumber: VALID_EGN }, { identificationNumber: OTHER_EGN }] });
    for (const t of created.transactions) await sim.controls.sign(t.transactionID);
    const last = created.transactions[1]?.transactionID ?? '';
    const [file] = await decryptDownload(await downloadWhenReady(last), vendorKeys().privateKeyPem);
    assert.ok(file);
    const signatures =
      Buffer.from(file.content)
        .toString('latin1')
        .match(/%EvrotrustSimulatorSignature /g) ?? [];
    assert.equal(signatures.length, 2, "the last signer's copy carries both signatures");
    assert.equal(file.content.length, sim.controls.transaction(last)?.signedDocument?.content.length);
  });
});
