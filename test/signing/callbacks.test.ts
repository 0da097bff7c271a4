// signingWorkflow with real callbacks: the simulator POSTs from 127.0.0.2 to the service's callback
// routes, the inbox stores them, the relay signals the workflow. Polling is slow here (60 s), so an
// outcome within seconds proves the callback path; the lost-callback case proves polling.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventCount, finalSigning, pdf, sentTransactions, SIGNER_A, useSigningEnv } from '../helpers/signing-env';
import { waitFor } from '../helpers/wait';

const body = () => ({ document: { filename: 'c.pdf', content: pdf(`c ${Math.random()}`) }, signers: [SIGNER_A] });

describe('signingWorkflow with callbacks from the simulator', () => {
  const env = useSigningEnv({ callbacks: true, pollIntervalMs: 60_000 });

  it('signed through the callback path, well before any poll', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    const t0 = Date.now();
    await env.sim.controls.sign(tx as string);
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'signed');
    assert.ok(Date.now() - t0 < 30_000, 'ended by the callback, not by the 60 s poll');
    const stored = await env.inbox.byTransaction(tx as string);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.sourceAddress, '127.0.0.2');
    assert.equal(stored[0]?.delivered, true);
    const file = await env.service.signedDocument(id);
    assert.equal(
      Buffer.compare(Buffer.from(file.content), Buffer.from(env.sim.controls.transaction(tx as string)?.signedDocument?.content ?? [])),
      0,
    );
  });

  it('a callback repeated three times is stored once and changes nothing twice', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    env.sim.controls.callbackBehavior(tx as string, { mode: 'duplicate', copies: 3 });
    await env.sim.controls.reject(tx as string, 'no');
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'rejected');
    await waitFor(
      () => (env.sim.controls.callbacks().filter((c) => c.body.transactionID === tx).length >= 3 ? true : undefined),
      'three deliveries attempted',
    );
    assert.equal((await env.inbox.byTransaction(tx as string)).length, 1);
    const statusEvents = await eventCount(env, id, 'status');
    assert.equal(statusEvents, 1);
  });

  it('a callback that arrives before the send activity returned is delivered once the transaction is known', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    // Make the send "not yet returned" for the relay: hide the mapping, deliver the callback, restore it.
    const mapping = await env.store.forgetTransaction(tx as string);
    assert.ok(mapping);
    await env.sim.controls.sign(tx as string);
    await waitFor(
      async () => ((await env.inbox.byTransaction(tx as string)).some((c) => !c.delivered) ? true : undefined),
      'the callback stored but undelivered',
    );
    assert.equal((await env.service.get(id)).status, 'pending');
    await env.store.recordTransactions(mapping.signingId, mapping.workflowId, mapping.threadId ?? null, [mapping._id]);
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'signed');
  });
});

describe('signingWorkflow when every callback is lost', () => {
  const env = useSigningEnv({ callbacks: true, pollIntervalMs: 1000 });

  it('polling recovers the outcome', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    env.sim.controls.callbackBehavior(tx as string, { mode: 'drop' });
    await env.sim.controls.sign(tx as string);
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'signed');
    assert.equal((await env.inbox.byTransaction(tx as string)).length, 0, 'no callback ever arrived');
  });
});
