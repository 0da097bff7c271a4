// /document/thread/status: one call for every transaction of a thread (Swagger v1.0.154), from the
// client against the simulator, and in a signing with several signers on the real stack, where a
// poll asks once per thread instead of once per transaction, and falls back to one call per
// transaction when the thread call fails.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { EvrotrustClient } from '../../src/evrotrust/client';
import type { Simulator } from '../../simulator';
import { OTHER_EGN, VALID_EGN, clientFor, samplePdf, startTestSimulator } from '../simulator/helpers';
import { pdf, sentTransactions, SIGNER_A, SIGNER_B, useSigningEnv } from '../helpers/signing-env';
import { waitFor } from '../helpers/wait';

describe('Evrotrust client: thread status', () => {
  let sim: Simulator;
  let client: EvrotrustClient;
  before(async () => {
    sim = await startTestSimulator({ processingMs: 20 });
    client = clientFor(sim);
  });
  after(async () => {
    await sim?.close();
  });

  it("answers every signer's transaction of a one-document thread, and each status as it changes", async () => {
    const sent = await client.sendOnline({
      document: {
        filename: 'c.pdf',
        content: samplePdf(`thread ${randomUUID()}`),
        description: 'C',
        dateExpire: new Date(Date.now() + 3600_000),
      },
      signers: [{ identificationNumber: VALID_EGN }, { identificationNumber: OTHER_EGN }],
      urlCallback: 'http://127.0.0.1:9/cb',
    });
    const [a, b] = sent.transactions.map((t) => t.transactionID) as [string, string];
    const before = await client.threadStatus(sent.threadID);
    assert.deepEqual(
      before.transactions.map((t) => [t.transactionID, t.statusName]).sort(),
      [
        [a, 'pending'],
        [b, 'pending'],
      ].sort(),
    );
    await sim.controls.reject(b, 'not me');
    const after = await client.threadStatus(sent.threadID);
    const rejected = after.transactions.find((t) => t.transactionID === b);
    assert.equal(rejected?.statusName, 'rejected');
    assert.equal(rejected?.rejectReason, 'not me');
    assert.equal(after.transactions.find((t) => t.transactionID === a)?.statusName, 'pending');
  });

  it("a group thread answers each signer's group transaction", async () => {
    const sent = await client.sendGroupOnline({
      documents: [
        { filename: 'a.pdf', content: samplePdf(`ga ${randomUUID()}`), description: 'A' },
        { filename: 'b.pdf', content: samplePdf(`gb ${randomUUID()}`), description: 'B' },
      ],
      groupDescription: 'A and B',
      dateExpire: new Date(Date.now() + 3600_000),
      signers: [{ identificationNumber: VALID_EGN }],
      urlCallback: 'http://127.0.0.1:9/cb',
    });
    const tx = sent.transactions[0]?.transactionID as string;
    await sim.controls.sign(tx);
    const r = await waitFor(async () => {
      const s = await client.threadStatus(sent.threadID);
      return s.transactions[0]?.isProcessing === false ? s : undefined;
    }, 'processed');
    assert.deepEqual(
      r.transactions.map((t) => [t.transactionID, t.statusName]),
      [[tx, 'signed']],
    );
  });

  it('an unknown thread is 443 document-not-found', async () => {
    await assert.rejects(client.threadStatus('no-such-thread'), (err: unknown) => (err as { code?: string }).code === 'document-not-found');
  });
});

describe('a signing with several signers polls once per thread', () => {
  // No callbacks: only polls find the outcome.
  const env = useSigningEnv({ pollIntervalMs: 300 });

  const twoSigners = async () => {
    const { id } = await env.service.start({
      document: { filename: 'both.pdf', content: pdf(`both ${randomUUID()}`) },
      signers: [SIGNER_A, SIGNER_B],
    });
    return { id, txs: await sentTransactions(env, id, 2) };
  };

  it('reaches signed while /document/status answers nothing but errors: the polls asked the thread', async () => {
    const { id, txs } = await twoSigners();
    env.sim.controls.failNext('/document/status', { status: 500, count: 10_000 });
    try {
      for (const tx of txs) await env.sim.controls.sign(tx);
      await waitFor(async () => (await env.service.get(id)).status === 'signed', 'signed through thread status', 30_000);
      const events = await env.service.events(id);
      for (const tx of txs)
        assert.ok(events.some((e) => e.type === 'status' && e.data?.transactionId === tx && e.data?.status === 'signed'));
    } finally {
      env.sim.controls.clearFaults();
    }
  });

  it('falls back to one status call per transaction when the thread call fails', async () => {
    const { id, txs } = await twoSigners();
    env.sim.controls.failNext('/document/thread/status', { status: 500, count: 10_000 });
    try {
      for (const tx of txs) await env.sim.controls.sign(tx);
      await waitFor(async () => (await env.service.get(id)).status === 'signed', 'signed through per-transaction status', 30_000);
    } finally {
      env.sim.controls.clearFaults();
    }
  });
});
