// Group signing at the simulator (Swagger /document/group/online, /group/status, /group/download):
// several documents in one request, one transaction per signer for the whole group, the group
// callback, and a download that holds one encrypted entry set per document. The vendor side here is
// written from the Swagger and DigitalSofia's clients, not from src/evrotrust/client.ts.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authorizationHeader } from '../../src/evrotrust/auth';
import { decryptDownload } from '../../src/evrotrust/decrypt';
import { unzipVerified } from '../../src/evrotrust/zip';
import { sha512Hex } from '../../src/lib/hash';
import { SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER, type Simulator } from '../../simulator';
import {
  OTHER_EGN,
  VALID_EGN,
  samplePdf,
  sendOnline,
  startCallbackServer,
  startTestSimulator,
  vendorJson,
  vendorKeys,
  type CallbackServer,
} from './helpers';
import { waitFor } from '../helpers/wait';

let sim: Simulator;
let hooks: CallbackServer;

before(async () => {
  sim = await startTestSimulator({ processingMs: 20 });
  hooks = await startCallbackServer();
});
after(async () => {
  await sim.close();
  await hooks.close();
});

interface GroupFile {
  filename: string;
  content: Uint8Array;
  optional?: 0 | 1;
}

function threeFiles(tag: string): GroupFile[] {
  return [
    { filename: 'contract.pdf', content: samplePdf(`${tag} contract`) },
    { filename: 'annex.pdf', content: samplePdf(`${tag} annex`) },
    { filename: 'gdpr.pdf', content: samplePdf(`${tag} gdpr`), optional: 1 },
  ];
}

function groupData(files: GroupFile[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    vendorNumber: SANDBOX_VENDOR_NUMBER,
    publicKey: vendorKeys().publicKey,
    urlCallback: hooks.url,
    groupDescription: 'Employment package',
    coverage: 20000,
    dateExpire: Math.floor(Date.now() / 1000) + 3600,
    documents: files.map((f, i) => ({
      description: `Document ${i + 1}`,
      optional: f.optional ?? 0,
      preview: 0,
      checksumDocument: sha512Hex(f.content),
    })),
    signInfo: { type: 'PDF1', algorithm: 'SHA256' },
    users: [{ identificationNumber: VALID_EGN }, { identificationNumber: OTHER_EGN }],
    ...extra,
  };
}

/** `/document/group/online`; files as `documents[]` (DigitalSofia Java) or `documents[i]` (its Python client). */
async function sendGroup(
  files: GroupFile[],
  opts: { data?: Record<string, unknown>; field?: 'documents[]' | 'indexed' } = {},
): Promise<{ status: number; json: unknown }> {
  const text = JSON.stringify(opts.data ?? groupData(files));
  const form = new FormData();
  form.append('data', text);
  files.forEach((f, i) => {
    form.append(
      opts.field === 'indexed' ? `documents[${i}]` : 'documents[]',
      new Blob([f.content], { type: 'application/pdf' }),
      f.filename,
    );
  });
  const res = await fetch(`${sim.vendorBaseUrl}/document/group/online`, {
    method: 'POST',
    headers: { authorization: authorizationHeader(SANDBOX_API_KEY, text) },
    body: form,
  });
  return { status: res.status, json: await res.json() };
}

interface GroupCreated {
  threadID: string;
  transactions: { transactionID: string; identificationNumber: string | null }[];
}

describe('group signing', () => {
  it('one thread, one transaction per signer for all documents; signed by both, the group download decrypts to every signed copy', async () => {
    const files = threeFiles('e2e');
    const sent = await sendGroup(files);
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    const created = sent.json as GroupCreated & Record<string, unknown>;
    assert.match(created.threadID, /^\d{12}$/);
    assert.equal(created.transactions.length, 2);
    assert.deepEqual(
      created.transactions.map((t) => t.identificationNumber),
      [VALID_EGN, OTHER_EGN],
    );
    // Swagger ResultDocumentTransactionGroup: threadID and transactions, no top-level transactionID.
    assert.equal('transactionID' in created, false);
    const [first, second] = created.transactions.map((t) => t.transactionID) as [string, string];

    const view = sim.controls.transaction(first);
    assert.equal(view?.kind, 'group');
    assert.deepEqual(
      view?.documents?.map((d) => [d.filename, d.description, d.optional]),
      [
        ['contract.pdf', 'Document 1', false],
        ['annex.pdf', 'Document 2', false],
        ['gdpr.pdf', 'Document 3', true],
      ],
    );
    assert.equal(view?.description, 'Employment package');

    // A group transaction is asked about at the group endpoints only.
    assert.equal((await vendorJson(sim, '/document/status', { transactionID: first })).status, 443);
    assert.equal((await vendorJson(sim, '/document/group/download', { transactionID: first })).status, 443, 'not signed yet');
    const pending = await vendorJson(sim, '/document/group/status', { transactionID: first });
    assert.equal(pending.status, 200);
    assert.deepEqual(pending.json, { status: 1, isProcessing: false, rejectReason: null });

    await sim.controls.sign(first);
    await sim.controls.sign(second);
    await waitFor(async () => {
      const s = (await vendorJson(sim, '/document/group/status', { transactionID: second })).json as {
        status: number;
        isProcessing: boolean;
      };
      return s.status === 2 && !s.isProcessing;
    }, 'group signed and processed');

    // The callback of a group goes to <urlCallback>/document/group/ready.
    await waitFor(
      () => hooks.received.filter((c) => (c.body as { transactionID?: string }).transactionID === second).length > 0,
      'callback',
    );
    const cb = hooks.received.find((c) => (c.body as { transactionID?: string }).transactionID === second);
    assert.equal(cb?.path, '/hook/document/group/ready');
    assert.deepEqual(cb?.body, { transactionID: second, status: 2 });

    const res = await vendorJson(sim, '/document/group/download', { transactionID: second });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    const outer = unzipVerified(res.bytes);
    assert.equal(outer.size, 3, 'one entry per document');
    const expected = sim.controls.transaction(second)?.documents;
    assert.ok(expected);
    let i = 0;
    for (const [name, entry] of outer) {
      assert.equal(name, `${second}_${i + 1}.zip`);
      const decrypted = await decryptDownload(entry, vendorKeys().privateKeyPem);
      assert.equal(decrypted.length, 1);
      assert.equal(decrypted[0]?.filename, files[i]?.filename);
      const want: { content: Uint8Array } | undefined = expected[i]?.signedDocument;
      assert.ok(want);
      assert.deepEqual(Buffer.from(decrypted[0]!.content), Buffer.from(want.content));
      // The second signer signed the first signer's copy: both signatures, the original first.
      const text = Buffer.from(decrypted[0]!.content).toString('latin1');
      assert.ok(text.startsWith(Buffer.from(files[i]!.content).toString('latin1')));
      assert.match(text, new RegExp(`transactionID=${first} `));
      assert.match(text, new RegExp(`transactionID=${second} `));
      i++;
    }
  });

  it('a signer may leave optional documents unsigned: the download then holds only the signed ones', async () => {
    const files = threeFiles('skip');
    const created = (await sendGroup(files, { data: groupData(files, { users: [{ identificationNumber: VALID_EGN }] }) }))
      .json as GroupCreated;
    const tx = created.transactions[0]!.transactionID;
    await assert.rejects(async () => sim.controls.sign(tx, { skipDocuments: [2] }), /not an optional document/);
    await sim.controls.sign(tx, { skipDocuments: [3] });
    await waitFor(async () => {
      const s = (await vendorJson(sim, '/document/group/status', { transactionID: tx })).json as { status: number; isProcessing: boolean };
      return s.status === 2 && !s.isProcessing;
    }, 'signed');
    const outer = unzipVerified((await vendorJson(sim, '/document/group/download', { transactionID: tx })).bytes);
    assert.deepEqual([...outer.keys()], [`${tx}_1.zip`, `${tx}_2.zip`]);
    const names = [];
    for (const entry of outer.values()) names.push((await decryptDownload(entry, vendorKeys().privateKeyPem))[0]?.filename);
    assert.deepEqual(names, ['contract.pdf', 'annex.pdf']);
  });

  it('accepts the files as documents[0], documents[1], … (paired by index)', async () => {
    const files = threeFiles('indexed').slice(0, 2);
    const sent = await sendGroup(files, { field: 'indexed', data: groupData(files, { users: [{ identificationNumber: VALID_EGN }] }) });
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    const tx = (sent.json as GroupCreated).transactions[0]!.transactionID;
    assert.deepEqual(
      sim.controls.transaction(tx)?.documents?.map((d) => d.filename),
      ['contract.pdf', 'annex.pdf'],
    );
  });

  it('answers 400 for the Swagger rules: 2–20 documents, files paired with documents[], the first not optional, each checksum', async () => {
    const files = threeFiles('rules');
    const one = files.slice(0, 1);
    assert.equal((await sendGroup(one)).status, 400);
    const many = Array.from({ length: 21 }, (_, i) => ({ filename: `f${i}.pdf`, content: samplePdf(`many ${i}`) }));
    const tooMany = await sendGroup(many);
    assert.equal(tooMany.status, 400);
    assert.match((tooMany.json as { message: string }).message, /between 2 and 20/);
    const firstOptional = await sendGroup([{ ...files[0]!, optional: 1 }, files[1]!]);
    assert.equal(firstOptional.status, 400);
    assert.match((firstOptional.json as { message: string }).message, /first document must always be optional=0/);
    const mismatch = await sendGroup(files.slice(0, 2), { data: groupData(files) });
    assert.equal(mismatch.status, 400);
    const badChecksum = groupData(files);
    (badChecksum.documents as { checksumDocument: string }[])[1]!.checksumDocument = sha512Hex(samplePdf('other'));
    const wrong = await sendGroup(files, { data: badChecksum });
    assert.equal(wrong.status, 400);
    assert.match((wrong.json as { message: string }).message, /documents\[1\]/);
    assert.equal((await sendGroup(files, { data: groupData(files, { coverage: 7 }) })).status, 454);
  });

  it('a rejection ends the group transaction with a callback; withdraw takes the thread back; single-document ids are not groups', async () => {
    const files = threeFiles('reject');
    const created = (await sendGroup(files)).json as GroupCreated;
    const [first, second] = created.transactions.map((t) => t.transactionID) as [string, string];
    await sim.controls.reject(first, 'wrong annex');
    const s = await vendorJson(sim, '/document/group/status', { transactionID: first });
    assert.deepEqual(s.json, { status: 3, isProcessing: false, rejectReason: 'wrong annex' });
    const w = await vendorJson(sim, '/document/withdraw', { threadID: created.threadID });
    assert.deepEqual(w.json, { status: 1 });
    assert.equal(((await vendorJson(sim, '/document/group/status', { transactionID: second })).json as { status: number }).status, 6);

    const single = await sendOnline(sim);
    assert.equal((await vendorJson(sim, '/document/group/status', { transactionID: single.transactionID })).status, 443);
    assert.equal((await vendorJson(sim, '/document/group/download', { transactionID: single.transactionID })).status, 443);
  });

  it('the signer page lists a group’s documents', async () => {
    const html = await (await fetch(`${sim.url}/sim/phone.js`)).text();
    assert.match(html, /function documentList\(tx\)/);
    const files = threeFiles('page');
    const created = (await sendGroup(files)).json as GroupCreated;
    const list = (await (await fetch(`${sim.url}/sim/api/transactions?signer=${VALID_EGN}`)).json()) as {
      transactionID: string;
      documents?: { filename: string }[];
    }[];
    const mine = list.find((t) => t.transactionID === created.transactions[0]!.transactionID);
    assert.deepEqual(
      mine?.documents?.map((d) => d.filename),
      ['contract.pdf', 'annex.pdf', 'gdpr.pdf'],
    );
  });
});
