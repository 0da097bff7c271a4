// The client's group calls (sendGroupOnline, groupStatus, groupDownload + decryptGroupDownload)
// against the simulator, which speaks Evrotrust's Swagger, and the client's own refusals.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EvrotrustClient } from '../../src/evrotrust/client';
import { assignGroupFiles, decryptGroupDownload, DecryptError } from '../../src/evrotrust/decrypt';
import { EvrotrustRequestError } from '../../src/evrotrust/errors';
import { zipEntries } from '../../src/evrotrust/zip';
import type { Simulator } from '../../simulator';
import { OTHER_EGN, VALID_EGN, clientFor, samplePdf, startTestSimulator, vendorKeys } from '../simulator/helpers';
import { waitFor } from '../helpers/wait';

let sim: Simulator;
let client: EvrotrustClient;

before(async () => {
  sim = await startTestSimulator({ processingMs: 20 });
  client = clientFor(sim);
});
after(async () => {
  await sim.close();
});

const documents = () => [
  { filename: 'contract.pdf', content: samplePdf('client contract'), description: 'Contract' },
  { filename: 'annex.pdf', content: samplePdf('client annex'), description: 'Annex', optional: true },
  { filename: 'notes.txt', content: new TextEncoder().encode('plain notes\n'), description: 'Notes' },
];

describe('Evrotrust client: group signing', () => {
  it('sends a group, reads its status and decrypts every signed document in order', async () => {
    const docs = documents();
    const sent = await client.sendGroupOnline({
      documents: docs,
      groupDescription: 'Onboarding',
      dateExpire: new Date(Date.now() + 3600_000),
      signers: [{ identificationNumber: VALID_EGN }, { identificationNumber: OTHER_EGN }],
      urlCallback: 'http://127.0.0.1:9/cb',
    });
    assert.equal(sent.transactions.length, 2);
    const [a, b] = sent.transactions.map((t) => t.transactionID) as [string, string];
    const view = sim.controls.transaction(a);
    assert.deepEqual(
      view?.documents?.map((d) => [d.filename, d.description, d.optional]),
      [
        ['contract.pdf', 'Contract', false],
        ['annex.pdf', 'Annex', true],
        ['notes.txt', 'Notes', false],
      ],
    );
    assert.equal((await client.groupStatus(a)).statusName, 'pending');
    await sim.controls.sign(a);
    await sim.controls.sign(b);
    await waitFor(async () => (await client.groupStatus(b)).isFinal, 'signed');
    const status = await client.groupStatus(b);
    assert.equal(status.statusName, 'signed');

    const files = await decryptGroupDownload(await client.groupDownload(b), vendorKeys().privateKeyPem, { expected: 3 });
    assert.deepEqual(
      files.map((f) => f.filename),
      ['contract.pdf', 'annex.pdf', 'notes.txt'],
    );
    const expected = sim.controls.transaction(b)?.documents ?? [];
    files.forEach((f, i) => assert.deepEqual(Buffer.from(f.content), Buffer.from(expected[i]?.signedDocument?.content ?? [])));

    await assert.rejects(decryptGroupDownload(await client.groupDownload(b), vendorKeys().privateKeyPem, { expected: 2 }), (err) => {
      assert.ok(err instanceof DecryptError);
      assert.equal(err.reason, 'missing-entry');
      return true;
    });
  });

  it('refuses before sending: one document, more than 20, an optional first document', async () => {
    const base = {
      groupDescription: 'x',
      dateExpire: new Date(Date.now() + 3600_000),
      signers: [{ identificationNumber: VALID_EGN }],
      urlCallback: 'http://127.0.0.1:9/cb',
    };
    const cases = [
      documents().slice(0, 1),
      Array.from({ length: 21 }, (_, i) => ({ filename: `f${i}.pdf`, content: samplePdf(String(i)), description: 'd' })),
      [{ ...documents()[0]!, optional: true }, documents()[1]!],
    ];
    for (const docs of cases) {
      await assert.rejects(client.sendGroupOnline({ ...base, documents: docs }), (err) => {
        assert.ok(err instanceof EvrotrustRequestError);
        assert.equal(err.code, 'invalid-request');
        return true;
      });
    }
  });

  it('assignGroupFiles: in order when complete; by name when an optional document is missing; never a guess', () => {
    const f = (filename: string) => ({ filename, content: new Uint8Array([1]) });
    const docs = [
      { filename: 'a.pdf', optional: false },
      { filename: 'b.pdf', optional: false },
      { filename: 'c.pdf', optional: true },
    ];
    assert.deepEqual(
      assignGroupFiles([f('x'), f('y'), f('z')], docs).map((x) => x?.filename),
      ['x', 'y', 'z'],
    );
    assert.deepEqual(
      assignGroupFiles([f('a.pdf'), f('b.pdf')], docs).map((x) => x?.filename),
      ['a.pdf', 'b.pdf', undefined],
    );
    assert.throws(() => assignGroupFiles([f('a.pdf'), f('c.pdf')], docs), /lacks document 2, which is not optional/);
    assert.throws(() => assignGroupFiles([f('a.pdf'), f('zzz.pdf')], docs), /cannot be told apart/);
    assert.throws(() => assignGroupFiles([f('a.pdf'), f('b.pdf'), f('c.pdf'), f('d.pdf')], docs), /holds 4 documents/);
    const same = [
      { filename: 'a.pdf', optional: false },
      { filename: 'a.pdf', optional: true },
      { filename: 'b.pdf', optional: false },
    ];
    assert.throws(() => assignGroupFiles([f('a.pdf'), f('b.pdf')], same), /cannot be told apart/);
  });

  it('decryptGroupDownload refuses an archive that is not a group download', async () => {
    const notZip = new TextEncoder().encode('not a zip');
    await assert.rejects(
      decryptGroupDownload(notZip, vendorKeys().privateKeyPem),
      (err) => err instanceof DecryptError && err.reason === 'not-a-zip',
    );
    const empty = zipEntries([], 0);
    await assert.rejects(
      decryptGroupDownload(empty, vendorKeys().privateKeyPem),
      (err) => err instanceof DecryptError && err.reason === 'no-document',
    );
  });
});
