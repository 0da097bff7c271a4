// Standard Webhooks signatures (src/notify/signature.ts), pure: the spec's own test vector, and our
// signatures checked by an independent implementation (the `standardwebhooks` package); the secret's
// and the URL's validation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import {
  generateSecret,
  secretKey,
  secretProblem,
  sign,
  verifySignature,
  webhookHeaders,
  NotifySecretError,
} from '../../src/notify/signature';
import { notifyUrlProblem } from '../../src/notify/url';
import { startSigningBytesSchema } from '../../src/signings/schemas';

// The test vector of standard-webhooks/standard-webhooks (libraries/javascript/src/webhook.test.ts, "sign function works").
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signature', () => {
  it("matches the spec repository's test vector", () => {
    assert.equal(sign(secretKey(VECTOR.secret), VECTOR.msgId, VECTOR.timestamp, VECTOR.payload), VECTOR.signature);
    assert.equal(verifySignature(secretKey(VECTOR.secret), VECTOR.msgId, VECTOR.timestamp, VECTOR.payload, VECTOR.signature), true);
  });

  it('the standardwebhooks package signs the vector the same way (the two implementations agree)', () => {
    const wh = new Webhook(VECTOR.secret);
    assert.equal(wh.sign(VECTOR.msgId, new Date(VECTOR.timestamp * 1000), VECTOR.payload), VECTOR.signature);
  });

  it('our headers verify with standardwebhooks Webhook.verify, for a fresh secret and a real body', () => {
    const secret = generateSecret();
    const body = JSON.stringify({ type: 'signing.signed', timestamp: new Date().toISOString(), data: { id: 'x', status: 'signed' } });
    const now = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders(secretKey(secret), 'msg_final_abc', now, body);
    assert.deepEqual(Object.keys(headers).sort(), ['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    assert.equal(headers['webhook-id'], 'msg_final_abc');
    assert.equal(headers['webhook-timestamp'], String(now));
    assert.match(headers['webhook-signature'] as string, /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
  });

  it('a changed body, id or secret does not verify (ours and theirs)', () => {
    const secret = generateSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders(secretKey(secret), 'msg_1', now, '{"a":1}');
    assert.throws(() => new Webhook(secret).verify('{"a":2}', headers), WebhookVerificationError);
    assert.throws(() => new Webhook(generateSecret()).verify('{"a":1}', headers), WebhookVerificationError);
    assert.throws(() => new Webhook(secret).verify('{"a":1}', { ...headers, 'webhook-id': 'msg_2' }), WebhookVerificationError);
    const key = secretKey(secret);
    assert.equal(verifySignature(key, 'msg_1', now, '{"a":2}', headers['webhook-signature'] as string), false);
    // A rotation's space-separated list: one matching signature is enough.
    assert.equal(verifySignature(key, 'msg_1', now, '{"a":1}', `v1,AAAA ${headers['webhook-signature']}`), true);
  });

  it('refuses ids with the delimiter and timestamps that are not whole seconds', () => {
    const key = secretKey(VECTOR.secret);
    assert.throws(() => sign(key, 'msg.1', 1, ''), /must not contain/);
    assert.throws(() => sign(key, 'msg_1', 1.5, ''), /whole unix seconds/);
  });
});

describe('webhook secret', () => {
  it('generates whsec_ secrets of 32 bytes that parse', () => {
    const s = generateSecret();
    assert.match(s, /^whsec_/);
    assert.equal(secretKey(s).byteLength, 32);
    assert.notEqual(generateSecret(), s);
  });

  it('refuses a missing prefix, non-Base64, and fewer than 24 or more than 64 bytes, without quoting the secret', () => {
    const b64 = (n: number) => Buffer.alloc(n, 7).toString('base64');
    assert.match(secretProblem(b64(32)) ?? '', /start with whsec_/);
    assert.match(secretProblem('whsec_not*base64!') ?? '', /Base64/);
    assert.match(secretProblem(`whsec_${b64(16)}`) ?? '', /16 bytes; 24–64/);
    assert.match(secretProblem(`whsec_${b64(65)}`) ?? '', /65 bytes/);
    assert.equal(secretProblem(`whsec_${b64(24)}`), undefined);
    assert.equal(secretProblem(`whsec_${b64(64)}`), undefined);
    assert.throws(
      () => secretKey('whsec_c2VjcmV0'),
      (err: unknown) => err instanceof NotifySecretError && !err.message.includes('c2VjcmV0'),
    );
  });
});

describe('notify URL', () => {
  it('takes https anywhere and http only for localhost, 127.0.0.1 and [::1]', () => {
    assert.equal(notifyUrlProblem('https://example.com/hooks?token=x'), undefined);
    for (const u of ['http://localhost:8080/h', 'http://127.0.0.1/h', 'http://[::1]:9/h']) assert.equal(notifyUrlProblem(u), undefined, u);
    assert.match(notifyUrlProblem('http://example.com/h') ?? '', /only for localhost/);
    assert.match(notifyUrlProblem('ftp://example.com/h') ?? '', /https/);
    assert.match(notifyUrlProblem('not a url') ?? '', /not a URL/);
  });

  it('is validated by the start schema with a message naming the field, not the URL', () => {
    const base = { document: { filename: 'a.pdf', content: Buffer.from('x') }, signers: [{ identificationNumber: '7501010010' }] };
    assert.equal(startSigningBytesSchema.safeParse({ ...base, notifyUrl: 'https://example.com/h' }).success, true);
    const bad = startSigningBytesSchema.safeParse({ ...base, notifyUrl: 'http://example.com/secret-token' });
    assert.equal(bad.success, false);
    const message = bad.error?.issues[0]?.message ?? '';
    assert.match(message, /^notifyUrl: http:\/\/ is allowed only for localhost/);
    assert.doesNotMatch(message, /secret-token/);
  });
});
