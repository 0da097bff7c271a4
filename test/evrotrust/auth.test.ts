import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizationHeader } from '../../src/evrotrust/auth';

// The example published with Evrotrust's Swagger (docs/evrotrust.md, "Transport and authorization").
const API_KEY = '7f4b9ef3-298d-4ced-8656-a5d8b7f96666';
const BODY = '{"vendorNumber":"ahZsmRHbDHL6TeED","user":{"identificationNumber":"8611048980"}}';
const EXPECTED = '5a90fc151ff466434e615f1a6aac28228e8607d900b8f9129e8bfa919cff5140';

test('reproduces the published Authorization example exactly', () => {
  assert.equal(authorizationHeader(API_KEY, BODY), EXPECTED);
});

test('a string body and its UTF-8 bytes give the same header', () => {
  assert.equal(authorizationHeader(API_KEY, new TextEncoder().encode(BODY)), EXPECTED);
  assert.equal(authorizationHeader(API_KEY, Buffer.from(BODY, 'utf8')), EXPECTED);
  const nonAscii = '{"description":"Договор № 5 – подпис"}';
  assert.equal(authorizationHeader(API_KEY, nonAscii), authorizationHeader(API_KEY, Buffer.from(nonAscii, 'utf8')));
});

test('the header is 64 lowercase hex characters with no scheme word', () => {
  assert.match(authorizationHeader(API_KEY, ''), /^[0-9a-f]{64}$/);
});

test('any change to the body or the key changes the header', () => {
  assert.notEqual(authorizationHeader(API_KEY, BODY + ' '), EXPECTED);
  assert.notEqual(authorizationHeader(API_KEY.toUpperCase(), BODY), EXPECTED);
  // A Uint8Array view into a larger buffer signs only the viewed bytes.
  const padded = Buffer.from(`xx${BODY}yy`, 'utf8');
  assert.equal(authorizationHeader(API_KEY, padded.subarray(2, padded.length - 2)), EXPECTED);
});
