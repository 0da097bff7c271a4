// The one hash helper (src/lib/hash.ts) against published test vectors (FIPS 180-2 "abc"), so the
// tests and the simulator that compute their expected digests with it rest on a fixed point.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sha256Digest, sha256Hex, sha512Hex } from '../src/lib/hash';

describe('hash helpers', () => {
  it('SHA-256 and SHA-512 of "abc", as text and as bytes, hex and raw', () => {
    const sha256abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    const sha512abc =
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f';
    assert.equal(sha256Hex('abc'), sha256abc);
    assert.equal(sha256Hex(new TextEncoder().encode('abc')), sha256abc);
    assert.equal(sha256Digest('abc').toString('hex'), sha256abc);
    assert.equal(sha512Hex('abc'), sha512abc);
    assert.equal(sha512Hex(Buffer.from('abc')), sha512abc);
  });

  it('text is hashed as UTF-8', () => {
    assert.equal(sha256Hex('ЕГН'), sha256Hex(Buffer.from('ЕГН', 'utf8')));
  });
});
