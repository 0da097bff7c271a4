// Failure codes: the text a caller reads, and the code read back from records written before
// `failureCode` was stored on its own.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { legacyFailureCode, signingFailure } from '../../src/signings/failures';

describe('failure codes', () => {
  it('a failure carries its code and the text "<code>: <words> (<detail>)"', () => {
    assert.deepEqual(signingFailure('send-refused', 'no-certificate'), {
      code: 'send-refused',
      reason: 'send-refused: Evrotrust refused the request; check the document and the signers, then start a new signing (no-certificate)',
    });
    assert.match(signingFailure('not-started').reason, /^not-started: .*Start it again$/, 'no detail, no trailing parentheses');
  });

  it('reads the code of an old record back from its text, and only known codes', () => {
    for (const code of ['not-started', 'send-outcome-unknown', 'evrotrust-unavailable', 'undeliverable'] as const) {
      assert.equal(legacyFailureCode(signingFailure(code, 'timeout').reason), code);
    }
    assert.equal(legacyFailureCode('download-decrypt-failed: the signing failed'), 'signed-document-unavailable');
    assert.equal(legacyFailureCode('user-not-found: the signing failed'), null);
    assert.equal(legacyFailureCode('not-started'), null, 'a code without its text is not what older versions wrote');
    assert.equal(legacyFailureCode(null), null);
    assert.equal(legacyFailureCode(undefined), null);
  });
});
