// The outcome rule (workflows/outcome.ts) on its own: pure logic, every branch.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeOf } from '../../workflows/outcome';
import type { SignerStatus } from '../../workflows/definitions';

const signers = (...statuses: SignerStatus[]) => statuses.map((status, i) => ({ transactionId: `tx${i}`, status }));

describe('outcomeOf', () => {
  it('waits while anyone is pending, on hold or of an unknown status, and nothing ended the wait', () => {
    for (const s of ['pending', 'onHold', 'unknown', 'processing'] as const) assert.equal(outcomeOf(signers('signed', s)), undefined, s);
  });

  it('signed only when every signer signed', () => {
    assert.deepEqual(outcomeOf(signers('signed', 'signed')), { status: 'signed' });
  });

  it('one refusal ends it, before any other verdict', () => {
    assert.deepEqual(outcomeOf(signers('signed', 'rejected', 'expired')), { status: 'rejected' });
  });

  it("Evrotrust's failure statuses end it failed with a named reason", () => {
    assert.deepEqual(outcomeOf(signers('failed')), { status: 'failed', failure: 'evrotrust-failed' });
    assert.deepEqual(outcomeOf(signers('undeliverable')), { status: 'failed', failure: 'undeliverable' });
    assert.deepEqual(outcomeOf(signers('faceRecognitionFailed')), { status: 'failed', failure: 'face-recognition-failed' });
  });

  it('at the deadline, a transaction we withdrew counts as expired, not withdrawn', () => {
    assert.deepEqual(outcomeOf(signers('withdrawn'), 'expired'), { status: 'expired' });
    assert.deepEqual(outcomeOf(signers('signed', 'withdrawn'), 'expired'), { status: 'expired' });
    assert.deepEqual(outcomeOf(signers('pending'), 'expired'), { status: 'expired' }, 'an OTP request has no thread to withdraw');
  });

  it('withdrawn on request, unless Evrotrust had expired it already', () => {
    assert.deepEqual(outcomeOf(signers('withdrawn'), 'withdrawn'), { status: 'withdrawn' });
    assert.deepEqual(outcomeOf(signers('expired'), 'withdrawn'), { status: 'expired' });
    assert.deepEqual(outcomeOf(signers('withdrawn')), { status: 'withdrawn' }, 'withdrawn at Evrotrust by someone else');
  });

  it('"signed, still processing" is waited for even after the deadline or a withdraw: a signed document never ends withdrawn', () => {
    assert.equal(outcomeOf(signers('processing'), 'expired'), undefined);
    assert.equal(outcomeOf(signers('processing'), 'withdrawn'), undefined);
    assert.equal(outcomeOf(signers('processing', 'withdrawn'), 'withdrawn'), undefined);
  });
});
