// The whole flow against the simulator answering the way Evrotrust's own material says it does
// (docs/evrotrust.md): 0/1 flags and an integer rejectReason on the user check, 443 from
// /document/status for a while after creation and once from /document/download, inner ZIP entries
// `<tx>_OUT_SIGNED.<ext>` beside a `<tx>_OUT_SIGNED_HASH.xml` report, statuses 5/7/8/99, and a
// provider that never expires a request by itself.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { finalSigning, sentTransactions, SHORT_EXPIRY, signingRequest, useSigningEnv, workflowView } from '../helpers/signing-env';
import { waitFor } from '../helpers/wait';

const body = (extra: Record<string, unknown> = {}) => signingRequest(extra, 'Договор за наем');

describe('Evrotrust as it answers', () => {
  // The 443 window of the simulator stays on (2 s after each create), and polls come every 300 ms.
  const env = useSigningEnv({ pollIntervalMs: 300, simulator: { statusNotFoundMs: 2000 } });

  it('the signer check answers 0/1 flags with rejectReason 0; 443 on the first polls and once on the download: signed, the PDF byte for byte', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    env.sim.controls.failNext('/document/download', { status: 443, count: 1 });
    // Let a few polls run into the 443 window before the signer acts.
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal((await env.service.get(id)).status, 'pending', '443 is "not visible yet", not a failure');
    await env.sim.controls.sign(tx as string);
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'signed');
    const simSigned = env.sim.controls.transaction(tx as string)?.signedDocument;
    assert.ok(simSigned);
    const served = await env.service.signedDocument(id);
    assert.equal(Buffer.compare(Buffer.from(served.content), Buffer.from(simSigned.content)), 0, 'the PDF, not the signature report');
    assert.equal(served.filename, 'contract.pdf');
    assert.equal(served.contentType, 'application/pdf');
  });

  it('a file that is not a PDF goes as CAD1 and comes back signed', async () => {
    const text = Buffer.from(`plain text to sign ${randomUUID()}\n`);
    const { id } = await env.service.start(body({ document: { filename: 'terms.txt', content: text } }));
    const [tx] = await sentTransactions(env, id);
    await env.sim.controls.sign(tx as string);
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'signed');
    const served = await env.service.signedDocument(id);
    assert.equal(
      Buffer.compare(Buffer.from(served.content), Buffer.from(env.sim.controls.transaction(tx as string)?.signedDocument?.content ?? [])),
      0,
    );
  });

  for (const [status, failure] of [
    [5, 'evrotrust-failed'],
    [7, 'undeliverable'],
    [8, 'face-recognition-failed'],
  ] as const) {
    it(`status ${status} ends the signing failed (${failure})`, async () => {
      const { id } = await env.service.start(body());
      const [tx] = await sentTransactions(env, id);
      await env.sim.controls.setStatus(tx as string, status);
      const s = await finalSigning(env, id);
      assert.equal(s.status, 'failed');
      assert.match(s.failureReason ?? '', new RegExp(`^${failure}: `));
    });
  }

  it('status 99 (on hold) keeps waiting; signing afterwards ends signed', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    await env.sim.controls.setStatus(tx as string, 99);
    await waitFor(
      async () => ((await workflowView(env, id)).signers[0]?.status === 'onHold' ? true : undefined),
      'the on-hold status to be seen',
    );
    await new Promise((r) => setTimeout(r, 1000)); // several more polls
    assert.equal((await env.service.get(id)).status, 'pending');
    await env.sim.controls.sign(tx as string);
    assert.equal((await finalSigning(env, id)).status, 'signed');
  });
});

describe('expiry when Evrotrust does not expire the request by itself', () => {
  const env = useSigningEnv({ pollIntervalMs: 300, expiryGraceMs: 500, expiryBounds: SHORT_EXPIRY, simulator: { expiryDelayMs: null } });

  it('ends expired (not withdrawn) shortly after expiresAt plus the grace, and the request is withdrawn at Evrotrust', async () => {
    const { id } = await env.service.start(body({ expiresIn: '3s' }));
    const [tx] = await sentTransactions(env, id);
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'expired');
    assert.equal(env.sim.controls.transaction(tx as string)?.status, 6, 'we withdrew it at the deadline');
    const late = new Date(s.finalizedAt as string).getTime() - new Date(s.expiresAt).getTime();
    assert.ok(late >= 500 && late < 5000, `final ${late} ms after expiresAt (grace 500 ms)`);
  });
});
