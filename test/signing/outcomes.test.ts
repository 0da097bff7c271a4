// signingWorkflow end to end against the simulator, Temporal and FerretDB (no callbacks reach us
// here: every outcome is found by polling /document/status).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  finalSigning,
  OTP_SIGNER,
  pdf,
  sentTransactions,
  otpSent,
  SHORT_EXPIRY,
  SIGNER_A,
  SIGNER_B,
  useSigningEnv,
} from '../helpers/signing-env';
import { waitFor } from '../helpers/wait';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { OtpRejectedError } from '../../src/signings/errors';
import { sha256Hex } from '../../src/lib/hash';
import { signingStatusKey, transactionIdKey } from '../../workflows/search-attributes';

/** A history's JSON with every payload's Base64 `data` decoded beside it, so a text search sees the values. */
function readableHistory(json: string): string {
  const decoded: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'data' && typeof x === 'string') decoded.push(Buffer.from(x, 'base64').toString('utf8'));
        walk(x);
      }
    }
  };
  walk(JSON.parse(json));
  return `${json}\n${decoded.join('\n')}`;
}

describe('signingWorkflow outcomes (polling)', () => {
  const env = useSigningEnv({ pollIntervalMs: 300, expiryBounds: SHORT_EXPIRY });
  const body = (extra: Record<string, unknown> = {}) => ({
    document: { filename: 'contract.pdf', content: pdf(`contract ${Math.random()}`), description: 'Contract' },
    signers: [SIGNER_A],
    ...extra,
  });

  it('signed: the decrypted file stored equals what the simulator signed', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    await env.sim.controls.sign(tx as string);
    const s = await finalSigning(env, id, 'signed');
    assert.equal(s.status, 'signed');
    assert.equal(s.signers[0]?.status, 'signed');
    const simSigned = env.sim.controls.transaction(tx as string)?.signedDocument;
    assert.ok(simSigned);
    const file = await env.service.signedDocument(id);
    assert.equal(Buffer.compare(Buffer.from(file.content), Buffer.from(simSigned.content)), 0);
    assert.equal(s.signedDocument?.sha256, sha256Hex(simSigned.content));
    assert.ok(s.finalizedAt);
    const events = await env.service.events(id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['created', 'sent', 'status', 'signed-document-stored', 'signed'],
    );
  });

  it("rejected with the signer's reason", async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    await env.sim.controls.reject(tx as string, 'the amount is wrong');
    const s = await finalSigning(env, id, 'rejected');
    assert.equal(s.status, 'rejected');
    assert.equal(s.rejectReason, 'the amount is wrong');
    await assert.rejects(env.service.signedDocument(id), /not signed/);
  });

  it('expired: a seconds-long expiry ends the signing and withdraws it at Evrotrust', async () => {
    const { id } = await env.service.start(body({ expiresIn: '2s' }));
    const [tx] = await sentTransactions(env, id);
    const s = await finalSigning(env, id, 'expired');
    assert.equal(s.status, 'expired');
    const at = env.sim.controls.transaction(tx as string);
    assert.ok(at && [4, 6].includes(at.status), `Evrotrust side is expired or withdrawn (got ${at?.status})`);
  });

  it('withdrawn on request', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    await env.service.withdraw(id);
    const s = await finalSigning(env, id, 'withdrawn');
    assert.equal(s.status, 'withdrawn');
    assert.equal(env.sim.controls.transaction(tx as string)?.status, 6);
    await assert.rejects(env.service.withdraw(id), /already withdrawn/);
  });

  it('OTP: a wrong code is refused with the provider reason, then the right one signs', async () => {
    const { id } = await env.service.start(body({ method: 'otp', signers: [OTP_SIGNER] }));
    const [tx] = await otpSent(env, id);
    const code = env.sim.controls.transaction(tx as string)?.otpCode as string;
    const wrong = code === '000000' ? '111111' : '000000';
    await assert.rejects(
      env.service.submitOtp(id, { code: wrong }),
      (err: unknown) => err instanceof OtpRejectedError && err.code === 'wrong-activation-code',
    );
    await env.service.submitOtp(id, { code });
    const s = await finalSigning(env, id, 'otp-signed');
    assert.equal(s.status, 'signed');
    const simSigned = env.sim.controls.transaction(tx as string)?.signedDocument;
    const file = await env.service.signedDocument(id);
    assert.equal(Buffer.compare(Buffer.from(file.content), Buffer.from(simSigned?.content ?? [])), 0);
  });

  it('no personal data reaches Temporal: history, search attributes and summary hold ids only', async () => {
    const signer = { ...OTP_SIGNER, email: 'ivan.petrov@example.bg' };
    const { id } = await env.service.start(body({ method: 'otp', signers: [signer] }));
    const [tx] = await otpSent(env, id);
    await env.service.submitOtp(id, { code: env.sim.controls.transaction(tx as string)?.otpCode as string });
    assert.equal((await finalSigning(env, id)).status, 'signed');
    const handle = env.temporal.workflow.getHandle(`signing-${id}`);
    const history = readableHistory(historyToJSON(await handle.fetchHistory()));
    const description = await handle.describe();
    const summary = await description.staticSummary();
    const metadata = JSON.stringify([summary, await description.staticDetails()]);
    assert.match(summary ?? '', new RegExp(`Signing ${id}`));
    for (const secret of [signer.identificationNumber, signer.phone, signer.phone.replace('+', ''), signer.email]) {
      assert.ok(!history.includes(secret), 'history holds no personal data');
      assert.ok(!metadata.includes(secret), 'summary and static details hold no personal data');
      assert.ok(!JSON.stringify(description.searchAttributes).includes(secret), 'search attributes hold no personal data');
    }
    assert.equal(description.typedSearchAttributes.get(signingStatusKey), 'signed');
    assert.equal(description.typedSearchAttributes.get(transactionIdKey), tx);
    assert.ok(history.includes(tx as string), 'the history does carry the transaction id (sanity check of the search)');
  });

  it('two signers: signed only when both signed', async () => {
    const { id } = await env.service.start(body({ signers: [SIGNER_A, SIGNER_B] }));
    const [a, b] = await sentTransactions(env, id, 2);
    await env.sim.controls.sign(a as string);
    await waitFor(async () => ((await env.service.get(id)).signers[0]?.status === 'signed' ? true : undefined), 'first signer confirmed');
    assert.equal((await env.service.get(id)).status, 'pending');
    await env.sim.controls.sign(b as string);
    const s = await finalSigning(env, id, 'two-signers-signed');
    assert.equal(s.status, 'signed');
    assert.equal(s.signedDocuments?.length, 2);
  });

  it('two signers: rejected as soon as one rejects, and the other request is withdrawn', async () => {
    const { id } = await env.service.start(body({ signers: [SIGNER_A, SIGNER_B] }));
    const [a, b] = await sentTransactions(env, id, 2);
    await env.sim.controls.reject(b as string, 'not my contract');
    const s = await finalSigning(env, id, 'two-signers-rejected');
    assert.equal(s.status, 'rejected');
    assert.equal(s.rejectReason, 'not my contract');
    assert.equal(env.sim.controls.transaction(a as string)?.status, 6);
  });

  it('a signer who cannot sign ends the signing as failed with an actionable reason', async () => {
    env.sim.controls.setUser('8001010008', { isReadyToSign: false });
    const { id } = await env.service.start(body({ signers: [{ identificationNumber: '8001010008' }] }));
    const s = await finalSigning(env, id, 'signer-not-ready');
    assert.equal(s.status, 'failed');
    assert.match(s.failureReason ?? '', /signer-not-ready/);
    assert.equal(s.signers[0]?.readiness, 'not-ready-to-sign');
  });

  it('an ambiguous send (5xx after upload) is not retried: failed, and the signer got no second request', async () => {
    const description = `ambiguous ${Math.random()}`;
    env.sim.controls.failNext('/document/doc/online', { status: 502, count: 1 });
    const { id } = await env.service.start(body({ document: { filename: 'a.pdf', content: pdf(description), description } }));
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'failed');
    assert.match(s.failureReason ?? '', /send-outcome-unknown: .*not retried/);
    // Only the injected fault answered; a blind retry would have reached the simulator and created a request.
    assert.equal(env.sim.controls.transactions().filter((t) => t.description === description).length, 0);
  });

  it('the same reference twice returns the same signing', async () => {
    const reference = `order-${Math.random()}`;
    const request = body({ reference });
    const first = await env.service.start(request);
    const second = await env.service.start(request);
    assert.equal(second.id, first.id);
    assert.equal(second.created, false);
    await env.service.withdraw(first.id);
    await finalSigning(env, first.id);
  });
});
