// What makes the simulator answer like Evrotrust rather than like our client: the 443 window after
// a create, the status controls for 5/7/8/99 (in process and over HTTP), the inner ZIP entry names,
// and, over real HTTP, that our client's requests pass the simulator's strict checks: one
// identifier per users[] item and a signInfo on every send.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import forge from 'node-forge';
import { decryptDownload } from '../../src/evrotrust/decrypt';
import type { Simulator } from '../../simulator';
import {
  VALID_EGN,
  clientFor,
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
let receiver: CallbackServer;

before(async () => {
  receiver = await startCallbackServer();
  sim = await startTestSimulator({ processingMs: 20 });
});
after(async () => {
  await sim.close();
  await receiver.close();
});

async function controlPost(path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${sim.url}/sim/api${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('/document/status right after a create', () => {
  it('answers 443 for statusNotFoundMs, then the status', async () => {
    const lagging = await startTestSimulator({ statusNotFoundMs: 300 });
    try {
      const { transactionID } = await sendOnline(lagging);
      const early = await vendorJson(lagging, '/document/status', { transactionID });
      assert.equal(early.status, 443);
      await waitFor(
        async () => (await vendorJson(lagging, '/document/status', { transactionID })).status === 200,
        'the status after the window',
        3000,
      );
      assert.deepEqual((await vendorJson(lagging, '/document/status', { transactionID })).json, {
        status: 1,
        isProcessing: false,
        rejectReason: null,
      });
    } finally {
      await lagging.close();
    }
  });

  it('defaults to a window of a couple of seconds', async () => {
    const defaults = await startTestSimulator({ statusNotFoundMs: undefined });
    try {
      const { transactionID } = await sendOnline(defaults);
      assert.equal((await vendorJson(defaults, '/document/status', { transactionID })).status, 443);
    } finally {
      await defaults.close();
    }
  });
});

describe('status controls: 5, 7, 8 final with a callback; 99 on hold', () => {
  for (const status of [5, 7, 8] as const) {
    it(`setStatus(${status}) in process: final, and the callback carries it`, async () => {
      const { transactionID } = await sendOnline(sim, { urlCallback: receiver.url });
      const view = await sim.controls.setStatus(transactionID, status);
      assert.equal(view.status, status);
      assert.deepEqual((await vendorJson(sim, '/document/status', { transactionID })).json, {
        status,
        isProcessing: false,
        rejectReason: null,
      });
      const cb = await waitFor(
        () => receiver.received.find((r) => (r.body as { transactionID?: string }).transactionID === transactionID),
        'the callback',
      );
      assert.equal(cb.path, '/hook/document/ready');
      assert.deepEqual(cb.body, { transactionID, status });
      // Final: no more signer actions.
      await assert.rejects(sim.controls.sign(transactionID), /not pending/);
    });
  }

  it('POST /sim/api/transactions/:id/status: 99 holds without a callback, then sign still works; 8 is final', async () => {
    const created = await sendOnline(sim, {
      urlCallback: receiver.url,
      users: [{ identificationNumber: VALID_EGN }, { phone: '+359888123456' }],
    });
    const [held, failed] = created.transactions.map((t) => t.transactionID) as [string, string];
    const hold = await controlPost(`/transactions/${held}/status`, { status: 99 });
    assert.equal(hold.status, 200);
    assert.equal((hold.json as { status: number }).status, 99);
    assert.equal(((await vendorJson(sim, '/document/status', { transactionID: held })).json as { status: number }).status, 99);
    assert.equal((await controlPost(`/transactions/${held}/sign`, {})).status, 200);
    await waitFor(
      () => receiver.received.find((r) => (r.body as { transactionID?: string }).transactionID === held),
      'the signed callback',
    );
    assert.deepEqual(
      receiver.received
        .filter((r) => (r.body as { transactionID?: string }).transactionID === held)
        .map((r) => (r.body as { status: number }).status),
      [2],
      'no callback for 99',
    );

    assert.equal((await controlPost(`/transactions/${failed}/status`, { status: 8 })).status, 200);
    assert.equal((await controlPost(`/transactions/${failed}/status`, { status: 99 })).status, 409, 'final stays final');
    assert.equal((await controlPost(`/transactions/${failed}/status`, { status: 3 })).status, 400);
    assert.equal((await controlPost('/transactions/nope/status', { status: 5 })).status, 404);
  });

  it('withdraw takes an on-hold transaction too', async () => {
    const created = await sendOnline(sim);
    await sim.controls.setStatus(created.transactionID, 99);
    assert.deepEqual((await vendorJson(sim, '/document/withdraw', { threadID: created.threadID })).json, { status: 1 });
  });
});

describe('download entry names', () => {
  it('the inner ZIP holds <tx>_OUT_SIGNED.pdf and <tx>_OUT_SIGNED_HASH.xml; decrypting gives exactly the PDF', async () => {
    const { transactionID } = await sendOnline(sim, { filename: 'contract.pdf' });
    await sim.controls.sign(transactionID);
    await waitFor(
      async () => ((await vendorJson(sim, '/document/status', { transactionID })).json as { isProcessing: boolean }).isProcessing === false,
      'processed',
    );
    const zip = (await vendorJson(sim, '/document/download', { transactionID })).bytes;

    // Open the inner ZIP independently of decrypt.ts, to see the names Evrotrust would write.
    const outer = unzipSync(zip);
    const key = forge.pki.privateKeyFromPem(vendorKeys().privateKeyPem);
    assert.ok(outer[`${transactionID}_OUT.enc.key`]);
    const contentKey = key.decrypt(
      Buffer.from(Buffer.from(outer[`${transactionID}_OUT.enc.key`]!).toString('latin1'), 'base64').toString('binary'),
      'RSAES-PKCS1-V1_5',
    );
    assert.equal(contentKey.length, 32);
    assert.equal(Buffer.from(outer[`${transactionID}_OUT.enc.filename`]!).toString('utf8'), 'contract.pdf');

    const files = await decryptDownload(zip, vendorKeys().privateKeyPem);
    assert.equal(files.length, 1, 'the prefixed report is not a document');
    const expected = sim.controls.transaction(transactionID)?.signedDocument;
    assert.ok(expected);
    assert.equal(files[0]?.filename, 'contract.pdf');
    assert.ok(Buffer.from(files[0]!.content).equals(Buffer.from(expected.content)), 'byte for byte');
  });
});

describe('our client against the strict simulator, over real HTTP', () => {
  it('sends one identifier per users[] item and a signInfo, so a signer named three ways is accepted', async () => {
    // A relay in front of the simulator records the exact bytes the client sends.
    const seen: string[] = [];
    const relay = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push(body.toString('latin1'));
        void fetch(sim.vendorBaseUrl + (req.url ?? '').replace(/^\/vendor/, ''), {
          method: 'POST',
          headers: Object.fromEntries(
            Object.entries(req.headers).filter(([k]) => ['authorization', 'content-type'].includes(k)) as [string, string][],
          ),
          body,
        }).then(async (r) => {
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await r.arrayBuffer()));
        });
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const client = clientFor(`http://127.0.0.1:${(relay.address() as AddressInfo).port}/vendor`);
      const check = await client.checkUser({ identificationNumber: VALID_EGN, phone: '+359888123456', email: 'ivan@example.bg' });
      assert.equal(check.isReadyToSign, true);
      const sent = await client.sendOnline({
        document: {
          filename: 'Договор.pdf',
          content: samplePdf('client'),
          description: 'Договор за наем',
          dateExpire: new Date(Date.now() + 3_600_000),
        },
        signers: [
          { identificationNumber: VALID_EGN, country: 'BG', phone: '+359888123456', email: 'ivan@example.bg' },
          { phone: '+359888000222', email: 'maria@example.bg' },
        ],
        urlCallback: receiver.url,
      });
      assert.equal(sent.transactions.length, 2);
      const offline = await client.sendOffline({
        document: { filename: 'notes.txt', content: Buffer.from('plain text to sign'), description: 'Бележка' },
        signer: { identificationNumber: VALID_EGN, phone: '+359888123456', email: 'ivan@example.bg' },
        urlCallback: receiver.url,
      });
      assert.ok(offline.transactionID);

      const dataOf = (raw: string): Record<string, unknown> => {
        const m = /name="data"\r\n\r\n([\s\S]*?)\r\n--/.exec(raw);
        assert.ok(m, 'a data field');
        return JSON.parse(m[1]!) as Record<string, unknown>;
      };
      const [, onlineRaw, offlineRaw] = seen as [string, string, string];
      const online = dataOf(onlineRaw);
      assert.deepEqual(online.users, [{ identificationNumber: VALID_EGN, country: 'BG' }, { phone: '+359888000222' }]);
      assert.deepEqual(online.signInfo, { type: 'PDF2', algorithm: 'SHA256' });
      assert.match(onlineRaw, /filename="Dogovor\.pdf"/);
      assert.deepEqual(dataOf(offlineRaw).signInfo, { type: 'CAD1', algorithm: 'SHA256' });
      // Every JSON body and every multipart data field is ASCII: non-ASCII goes as \uXXXX escapes.
      for (const raw of seen) {
        const json = raw.includes('name="data"') ? (/name="data"\r\n\r\n([\s\S]*?)\r\n--/.exec(raw)?.[1] ?? '') : raw;
        assert.ok(json.length > 0 && !/[^\x00-\x7f]/.test(json), 'ASCII only');
      }
      assert.match(onlineRaw, /\\u0414\\u043e\\u0433/, 'the Cyrillic description as \\uXXXX');
      assert.deepEqual(sim.controls.transaction(sent.transactions[0]!.transactionID)?.signer, {
        identificationNumber: VALID_EGN,
        country: 'BG',
      });
    } finally {
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });
});
