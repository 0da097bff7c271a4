import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import { sha256Digest, sha256Hex } from '../../src/lib/hash';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { DecryptError, decryptDownload, type DecryptErrorReason } from '../../src/evrotrust/decrypt';
import { EncryptError, encryptDownload } from '../../src/evrotrust/encrypt';
import {
  PrivateKeyError,
  generateKeyPair,
  loadOrCreatePrivateKey,
  publicKeyParam,
  publicKeyPemFromPrivate,
  readPrivateKey,
  type KeyPair,
} from '../../src/evrotrust/keys';
import { RijndaelInputError, rijndaelJs, rijndaelTTable, rijndael256, type BlockCipher256 } from '../../src/evrotrust/rijndael256';
import { ENCRYPTED_SLICE_CHARS, zipEntries } from '../../src/evrotrust/zip';
import { DEFAULT_DOWNLOAD_LIMITS, DownloadTooLargeError, type DownloadLimit } from '../../src/evrotrust/limits';
import { lyingHeaderZip, manyEntriesZip, zipBomb } from '../../simulator/hostile-downloads';

const TX = '4815162342';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Deterministic pseudo-random bytes (SHA-256 in counter mode), so a failing case can be replayed from its seed. */
function prng(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let o = 0; o < n; o += 32) {
      const block = sha256Digest(`${seed}:${counter++}`);
      out.set(block.subarray(0, Math.min(32, n - o)), o);
    }
    return out;
  };
}

let keys: KeyPair;
let otherKeys: KeyPair;
before(async () => {
  [keys, otherKeys] = await Promise.all([generateKeyPair(), generateKeyPair()]);
});

async function assertDecryptError(promise: Promise<unknown>, reason: DecryptErrorReason): Promise<DecryptError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof DecryptError, `expected DecryptError, got ${String(err)}`);
    assert.equal(err.reason, reason, `reason (message: ${err.message})`);
    assert.ok(err.message.length > 0);
    return err;
  }
  assert.fail(`expected DecryptError(${reason}), but decryption succeeded`);
}

/** Rewrites the outer ZIP of a download: `edit` receives the entries and returns the new ones. */
function editOuter(zip: Uint8Array, edit: (entries: Record<string, Uint8Array>) => Record<string, Uint8Array>): Uint8Array {
  return zipSync(edit({ ...unzipSync(zip) }));
}

function encText(zip: Uint8Array): string {
  const entry = unzipSync(zip)[`${TX}_OUT.enc`];
  assert.ok(entry);
  return strFromU8(entry, true);
}

function withEncText(zip: Uint8Array, text: string): Uint8Array {
  return editOuter(zip, (e) => ({ ...e, [`${TX}_OUT.enc`]: strToU8(text, true) }));
}

// ------------------------------------------------------------------------------------------------
describe('Rijndael-256 block cipher', () => {
  test('matches the published Rijndael-256/256 vector (Bouncy Castle RijndaelTest, block 256, key 256)', () => {
    // bcgit/bc-java core/src/test/java/org/bouncycastle/crypto/test/RijndaelTest.java, vector 21.
    // One block of CBC with an all-zero IV is one block of ECB.
    const key = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfe', 'hex');
    const plain = Buffer.from('3243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c8', 'hex');
    const cipher = 'a49406115dfb30a40418aafa4869b7c6a886ff31602a7dd19c889dc64f7e4e7a';
    const zeroIv = new Uint8Array(32);
    for (const impl of [rijndaelTTable, rijndaelJs]) {
      assert.equal(hex(impl.encryptCbc(key, zeroIv, plain)), cipher);
      assert.equal(hex(impl.decryptCbc(key, zeroIv, Buffer.from(cipher, 'hex'))), hex(plain));
    }
  });

  test('the implementation in use is the T-table one', () => {
    assert.equal(rijndael256, rijndaelTTable);
  });

  test('agrees with rijndael-js on random keys, IVs and sizes, in both directions', () => {
    const seed = randomBytes(8).toString('hex');
    const rand = prng(seed);
    const cases = 150;
    for (let i = 0; i < cases; i++) {
      const key = rand(32);
      const iv = rand(32);
      const blocks = (rand(1)[0] ?? 0) % 24; // 0..23 blocks, including the empty input
      const data = rand(blocks * 32);
      const label = `seed ${seed}, case ${i}, ${blocks} blocks`;
      const ours = rijndaelTTable.encryptCbc(key, iv, data);
      const reference = rijndaelJs.encryptCbc(key, iv, data);
      assert.equal(hex(ours), hex(reference), `encrypt, ${label}`);
      // Decrypt arbitrary bytes (not only our own ciphertext) and compare as well.
      assert.equal(hex(rijndaelTTable.decryptCbc(key, iv, data)), hex(rijndaelJs.decryptCbc(key, iv, data)), `decrypt, ${label}`);
      assert.equal(hex(rijndaelTTable.decryptCbc(key, iv, reference)), hex(data), `decrypt reference ciphertext, ${label}`);
      assert.equal(hex(rijndaelJs.decryptCbc(key, iv, ours)), hex(data), `reference decrypts ours, ${label}`);
    }
  });

  test('accepts Buffers and offset views alike', () => {
    const rand = prng('views');
    const backing = Buffer.from(rand(32 + 32 + 96 + 7));
    const key = backing.subarray(3, 35);
    const iv = backing.subarray(35, 67);
    const data = backing.subarray(67, 163);
    const expected = rijndaelJs.encryptCbc(new Uint8Array(key), new Uint8Array(iv), new Uint8Array(data));
    assert.equal(hex(rijndaelTTable.encryptCbc(key, iv, data)), hex(expected));
  });

  test('rejects wrong key, IV or data lengths with RijndaelInputError', () => {
    const impls: BlockCipher256[] = [rijndaelTTable, rijndaelJs];
    for (const impl of impls) {
      assert.throws(() => impl.encryptCbc(new Uint8Array(16), new Uint8Array(32), new Uint8Array(32)), RijndaelInputError);
      assert.throws(() => impl.decryptCbc(new Uint8Array(32), new Uint8Array(16), new Uint8Array(32)), RijndaelInputError);
      assert.throws(() => impl.decryptCbc(new Uint8Array(32), new Uint8Array(32), new Uint8Array(33)), RijndaelInputError);
    }
  });
});

// ------------------------------------------------------------------------------------------------
describe('download format', () => {
  test('an encrypted slice is 7296 Base64 characters', () => {
    assert.equal(ENCRYPTED_SLICE_CHARS, 7296);
  });

  test('the outer ZIP has the four documented entries, and its slices decode with independent tools', async () => {
    const content = prng('format')(3 * 4096 + 100); // random data: the inner ZIP spans several slices
    const zip = await encryptDownload(TX, [{ filename: 'contract.pdf', content }], keys.publicKeyPem);
    const entries = unzipSync(zip);
    assert.deepEqual(Object.keys(entries).sort(), [`${TX}_OUT.enc`, `${TX}_OUT.enc.filename`, `${TX}_OUT.enc.iv`, `${TX}_OUT.enc.key`]);
    assert.equal(strFromU8(entries[`${TX}_OUT.enc.filename`] ?? new Uint8Array()), 'contract.pdf');
    const ivText = strFromU8(entries[`${TX}_OUT.enc.iv`] ?? new Uint8Array(), true);
    assert.match(ivText, /^[\x21-\x7e]{32}$/, 'IV: 32 printable characters');

    // Unwrap the key with forge directly and decrypt with rijndael-js: the format, not our code, is under test.
    const forgeKey = forge.pki.privateKeyFromPem(keys.privateKeyPem);
    const wrapped = Buffer.from(strFromU8(entries[`${TX}_OUT.enc.key`] ?? new Uint8Array(), true), 'base64');
    const key = Buffer.from(forgeKey.decrypt(wrapped.toString('binary'), 'RSAES-PKCS1-V1_5'), 'binary');
    assert.equal(key.length, 32);

    const text = encText(zip);
    const fullSlices = Math.floor(text.length / 7296);
    assert.ok(fullSlices >= 3, `expected at least 3 full slices, got ${fullSlices}`);
    const innerParts: Buffer[] = [];
    for (let offset = 0; offset < text.length; offset += 7296) {
      const slice = text.slice(offset, offset + 7296);
      const ciphertext = Buffer.from(slice, 'base64');
      const isFull = slice.length === 7296;
      if (isFull) assert.equal(ciphertext.length, 5472, 'a full slice is 5472 bytes of ciphertext');
      const plain = Buffer.from(rijndaelJs.decryptCbc(key, Buffer.from(ivText, 'latin1'), ciphertext));
      const base64Text = plain.toString('latin1').replace(/\0+$/, '');
      if (isFull) assert.equal(base64Text.length, 5464, 'a full slice carries 5464 Base64 characters');
      const piece = Buffer.from(base64Text, 'base64');
      if (isFull) assert.equal(piece.length, 4096, 'a full slice carries 4096 bytes of the inner ZIP');
      innerParts.push(piece);
    }
    const inner = unzipSync(Buffer.concat(innerParts));
    assert.deepEqual(Object.keys(inner).sort(), ['OUT_SIGNED_HASH.xml', 'contract.pdf']);
    assert.equal(sha256Hex(inner['contract.pdf'] ?? new Uint8Array()), sha256Hex(content));
  });

  test('a 16-byte IV means real AES-256-CBC (checked with node:crypto directly)', async () => {
    const content = prng('aes')(20_000);
    const zip = await encryptDownload(TX, [{ filename: 'a.pdf', content }], keys.publicKeyPem, { ivLength: 16 });
    const entries = unzipSync(zip);
    const iv = entries[`${TX}_OUT.enc.iv`] ?? new Uint8Array();
    assert.equal(iv.length, 16);
    const forgeKey = forge.pki.privateKeyFromPem(keys.privateKeyPem);
    const wrapped = Buffer.from(strFromU8(entries[`${TX}_OUT.enc.key`] ?? new Uint8Array(), true), 'base64');
    const key = Buffer.from(forgeKey.decrypt(wrapped.toString('binary'), 'RSAES-PKCS1-V1_5'), 'binary');
    const firstSlice = Buffer.from(encText(zip).slice(0, 7296), 'base64');
    const decipher = createDecipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
    const plain = Buffer.concat([decipher.update(firstSlice), decipher.final()])
      .toString('latin1')
      .replace(/\0+$/, '');
    assert.match(plain, /^[A-Za-z0-9+/]+={0,2}$/, 'AES-decrypted slice is Base64 text');
    assert.equal(Buffer.from(plain, 'base64').subarray(0, 4).toString('hex'), '504b0304', 'and it starts the inner ZIP');

    const files = await decryptDownload(zip, keys.privateKeyPem);
    assert.equal(files.length, 1);
    assert.equal(sha256Hex(files[0]?.content ?? new Uint8Array()), sha256Hex(content));
  });
});

// ------------------------------------------------------------------------------------------------
describe('decryptDownload round trips', () => {
  test('a file spanning many slices comes back byte for byte with its original name', async () => {
    const content = prng('many-slices')(150_000); // random: ~37 pieces of 4096 bytes
    const zip = await encryptDownload(TX, [{ filename: 'Договор 2024.pdf', content }], keys.publicKeyPem);
    assert.ok(encText(zip).length > 30 * 7296, 'spans more than 30 slices');
    const files = await decryptDownload(zip, keys.privateKeyPem);
    assert.equal(files.length, 1);
    assert.equal(files[0]?.filename, 'Договор 2024.pdf');
    assert.equal(sha256Hex(files[0]?.content ?? new Uint8Array()), sha256Hex(content));
  });

  test('a 20 MB file round trips (time reported as a diagnostic)', async (t) => {
    const content = randomBytes(20 * 1024 * 1024);
    const started = performance.now();
    const zip = await encryptDownload(TX, [{ filename: 'big.pdf', content }], keys.publicKeyPem);
    const encrypted = performance.now();
    const files = await decryptDownload(zip, keys.privateKeyPem);
    const decrypted = performance.now();
    assert.equal(files.length, 1);
    assert.equal(files[0]?.content.length, content.length);
    assert.equal(sha256Hex(files[0]?.content ?? new Uint8Array()), sha256Hex(content));
    t.diagnostic(`20 MB: encrypt ${(encrypted - started).toFixed(0)} ms, decrypt ${(decrypted - encrypted).toFixed(0)} ms`);
  });

  test('an empty file and a one-byte file round trip', async () => {
    for (const content of [new Uint8Array(0), new Uint8Array([0])]) {
      const zip = await encryptDownload(TX, [{ filename: 'x.pdf', content }], keys.publicKeyPem);
      const files = await decryptDownload(zip, keys.privateKeyPem);
      assert.deepEqual(
        files.map((f) => [f.filename, hex(f.content)]),
        [['x.pdf', hex(content)]],
      );
    }
  });

  test('several files keep their inner names; OUT_SIGNED_HASH.xml is skipped', async () => {
    const a = strToU8('first document');
    const b = prng('b')(9000);
    const zip = await encryptDownload(
      TX,
      [
        { filename: 'a.pdf', content: a },
        { filename: 'b.pdf', content: b },
      ],
      keys.publicKeyPem,
    );
    const files = await decryptDownload(zip, keys.privateKeyPem);
    assert.deepEqual(files.map((f) => [f.filename, sha256Hex(f.content)]).sort(), [
      ['a.pdf', sha256Hex(a)],
      ['b.pdf', sha256Hex(b)],
    ]);
  });

  test("Evrotrust's names: <tx>_OUT_SIGNED.pdf + <tx>_OUT_SIGNED_HASH.xml give exactly the PDF, under the original name", async () => {
    const pdf = prng('prefixed')(5000);
    for (const report of [`${TX}_OUT_SIGNED_HASH.xml`, 'OUT_SIGNED_HASH.xml', 'x-OUT_SIGNED_HASH.XML']) {
      const zip = await encryptDownload(TX, [{ filename: `${TX}_OUT_SIGNED.pdf`, content: pdf }], keys.publicKeyPem, {
        signedHashEntry: report,
        originalFilename: 'Договор.pdf',
      });
      const files = await decryptDownload(zip, keys.privateKeyPem);
      assert.equal(files.length, 1, `${report} is the report, not a document`);
      assert.equal(files[0]?.filename, 'Договор.pdf');
      assert.equal(hex(files[0]!.content), hex(pdf), 'byte for byte');
    }
  });

  test('the inner name wins when its extension differs from .filename; names lose directories', async () => {
    const content = strToU8('signed');
    const zip = await encryptDownload(TX, [{ filename: 'dir/contract.p7m', content }], keys.publicKeyPem);
    const renamed = editOuter(zip, (e) => ({ ...e, [`${TX}_OUT.enc.filename`]: strToU8('contract.pdf') }));
    const files = await decryptDownload(renamed, keys.privateKeyPem);
    assert.deepEqual(
      files.map((f) => f.filename),
      ['contract.p7m'],
    );
  });

  test('file names that are special to JavaScript objects survive ("__proto__", "constructor")', async () => {
    const files = [
      { filename: '__proto__', content: strToU8('one') },
      { filename: 'constructor', content: strToU8('two') },
    ];
    const zip = await encryptDownload(TX, files, keys.publicKeyPem);
    const out = await decryptDownload(zip, keys.privateKeyPem);
    assert.deepEqual(out.map((f) => [f.filename, strFromU8(f.content)]).sort(), [
      ['__proto__', 'one'],
      ['constructor', 'two'],
    ]);
  });

  test('a missing .filename entry is tolerated: the inner name is used', async () => {
    const zip = await encryptDownload(TX, [{ filename: 'inner.pdf', content: strToU8('x') }], keys.publicKeyPem);
    const without = editOuter(zip, (e) => {
      const copy = { ...e };
      delete copy[`${TX}_OUT.enc.filename`];
      return copy;
    });
    assert.deepEqual(
      (await decryptDownload(without, keys.privateKeyPem)).map((f) => f.filename),
      ['inner.pdf'],
    );
  });

  test('whitespace around the text entries (e.g. a trailing newline) is tolerated', async () => {
    const zip = await encryptDownload(TX, [{ filename: 'a.pdf', content: strToU8('hello') }], keys.publicKeyPem);
    const padded = editOuter(zip, (e) => {
      const copy = { ...e };
      for (const kind of ['enc', 'enc.key', 'enc.iv']) {
        const name = `${TX}_OUT.${kind}`;
        copy[name] = strToU8(`${strFromU8(copy[name] ?? new Uint8Array(), true)}\r\n`, true);
      }
      return copy;
    });
    assert.equal(strFromU8((await decryptDownload(padded, keys.privateKeyPem))[0]?.content ?? new Uint8Array()), 'hello');
  });
});

// ------------------------------------------------------------------------------------------------
describe('decryptDownload failures are DecryptErrors, never garbage', () => {
  const personal = 'ЕГН 8611048980';
  // Random filler so that the deflated inner ZIP still spans several slices.
  const content = Buffer.concat([strToU8(`${personal}: secret contract text `), prng('failures')(30_000)]);
  let zip: Uint8Array;
  before(async () => {
    zip = await encryptDownload(TX, [{ filename: `${personal}.pdf`, content }], keys.publicKeyPem);
  });

  function assertNoLeak(err: DecryptError): void {
    assert.ok(!err.message.includes('8611048980'), 'no personal data in the message');
    assert.ok(!err.message.includes('secret'), 'no content in the message');
  }

  test('a wrong private key → wrong-key', async () => {
    assertNoLeak(await assertDecryptError(decryptDownload(zip, otherKeys.privateKeyPem), 'wrong-key'));
  });

  test('a private key of another size → wrong-key', async () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    await assertDecryptError(decryptDownload(zip, privateKey), 'wrong-key');
  });

  test('a PEM that is not an RSA private key → invalid-private-key', async () => {
    await assertDecryptError(decryptDownload(zip, 'not a key'), 'invalid-private-key');
    await assertDecryptError(decryptDownload(zip, keys.publicKeyPem), 'invalid-private-key');
    const { privateKey } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    await assertDecryptError(decryptDownload(zip, privateKey), 'invalid-private-key');
    // Checked before the download: a configuration error must not pass for a damaged download.
    await assertDecryptError(decryptDownload(strToU8('not a zip'), 'not a key'), 'invalid-private-key');
  });

  test('bytes that are not a ZIP, a truncated ZIP and a damaged ZIP → not-a-zip', async () => {
    await assertDecryptError(decryptDownload(new Uint8Array(0), keys.privateKeyPem), 'not-a-zip');
    await assertDecryptError(decryptDownload(strToU8('{"error":"not found"}'), keys.privateKeyPem), 'not-a-zip');
    await assertDecryptError(decryptDownload(zip.subarray(0, zip.length - 30), keys.privateKeyPem), 'not-a-zip');
    await assertDecryptError(decryptDownload(zip.subarray(0, Math.floor(zip.length / 2)), keys.privateKeyPem), 'not-a-zip');
    // Flip one byte inside the first entry's data: inflate fails or its CRC-32 no longer matches.
    const damaged = new Uint8Array(zip);
    damaged[200] = (damaged[200] ?? 0) ^ 0x55;
    await assertDecryptError(decryptDownload(damaged, keys.privateKeyPem), 'not-a-zip');
  });

  for (const kind of ['enc', 'enc.key', 'enc.iv']) {
    test(`a missing .${kind} entry → missing-entry`, async () => {
      const without = editOuter(zip, (e) => {
        const copy = { ...e };
        delete copy[`${TX}_OUT.${kind}`];
        return copy;
      });
      await assertDecryptError(decryptDownload(without, keys.privateKeyPem), 'missing-entry');
    });
  }

  test('two .enc entries → ambiguous-entry', async () => {
    const doubled = editOuter(zip, (e) => ({ ...e, [`other_OUT.enc`]: e[`${TX}_OUT.enc`] ?? new Uint8Array() }));
    await assertDecryptError(decryptDownload(doubled, keys.privateKeyPem), 'ambiguous-entry');
  });

  test('an IV of another length → bad-iv', async () => {
    const bad = editOuter(zip, (e) => ({ ...e, [`${TX}_OUT.enc.iv`]: strToU8('0123456789abcdefghij') }));
    await assertDecryptError(decryptDownload(bad, keys.privateKeyPem), 'bad-iv');
  });

  test('a different IV of the right length → corrupt-ciphertext', async () => {
    const bad = editOuter(zip, (e) => ({ ...e, [`${TX}_OUT.enc.iv`]: strToU8('A'.repeat(32)) }));
    await assertDecryptError(decryptDownload(bad, keys.privateKeyPem), 'corrupt-ciphertext');
  });

  test('ciphertext truncated mid-slice → corrupt-ciphertext', async () => {
    const text = encText(zip);
    for (const cut of [1, 4, 44, 7296 + 100]) {
      assertNoLeak(
        await assertDecryptError(
          decryptDownload(withEncText(zip, text.slice(0, text.length - cut)), keys.privateKeyPem),
          'corrupt-ciphertext',
        ),
      );
    }
  });

  test('ciphertext missing whole slices → corrupt-ciphertext', async () => {
    const text = encText(zip);
    const lastStart = Math.floor((text.length - 1) / 7296) * 7296;
    assert.ok(lastStart >= 7296 * 2, 'the download spans at least three slices');
    await assertDecryptError(decryptDownload(withEncText(zip, text.slice(0, lastStart)), keys.privateKeyPem), 'corrupt-ciphertext');
    await assertDecryptError(decryptDownload(withEncText(zip, text.slice(7296)), keys.privateKeyPem), 'corrupt-ciphertext');
    await assertDecryptError(decryptDownload(withEncText(zip, ''), keys.privateKeyPem), 'corrupt-ciphertext');
  });

  test('an altered ciphertext character anywhere → corrupt-ciphertext', async () => {
    const text = encText(zip);
    for (const at of [0, 100, 7295, 7296, Math.floor(text.length / 2), text.length - 50]) {
      const swapped = text[at] === 'A' ? 'B' : 'A';
      const altered = text.slice(0, at) + swapped + text.slice(at + 1);
      await assertDecryptError(decryptDownload(withEncText(zip, altered), keys.privateKeyPem), 'corrupt-ciphertext');
    }
    // A character outside the Base64 alphabet.
    await assertDecryptError(
      decryptDownload(withEncText(zip, `${text.slice(0, 10)}*${text.slice(11)}`), keys.privateKeyPem),
      'corrupt-ciphertext',
    );
  });

  test('two whole slices swapped (every slice still decrypts to valid Base64) → corrupt-ciphertext', async () => {
    // Above 1 MB the inner ZIP is stored, so the swapped bytes land inside the file's data and only
    // the CRC-32 check can notice.
    const big = prng('swap')(1_200_000);
    const bigZip = await encryptDownload(TX, [{ filename: 'big.pdf', content: big }], keys.publicKeyPem);
    const text = encText(bigZip);
    const s = (i: number): string => text.slice(i * 7296, (i + 1) * 7296);
    const swapped = text.slice(0, 10 * 7296) + s(11) + s(10) + text.slice(12 * 7296);
    assert.equal(swapped.length, text.length);
    await assertDecryptError(decryptDownload(withEncText(bigZip, swapped), keys.privateKeyPem), 'corrupt-ciphertext');
  });

  test('a wrapped key that is not Base64 → wrong-key', async () => {
    const bad = editOuter(zip, (e) => ({ ...e, [`${TX}_OUT.enc.key`]: strToU8('%%% not base64 %%%') }));
    await assertDecryptError(decryptDownload(bad, keys.privateKeyPem), 'wrong-key');
  });

  test('an inner archive with only the signature report → no-document', async () => {
    // A report inside a folder is still recognised as the report and skipped.
    const onlyReport = await encryptDownload(TX, [{ filename: 'meta/OUT_SIGNED_HASH.xml', content: strToU8('<x/>') }], keys.publicKeyPem);
    await assertDecryptError(decryptDownload(onlyReport, keys.privateKeyPem), 'no-document');
  });
});

// ------------------------------------------------------------------------------------------------
async function assertTooLarge(promise: Promise<unknown>, limit: DownloadLimit): Promise<DownloadTooLargeError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof DownloadTooLargeError, `expected DownloadTooLargeError, got ${String(err)}`);
    assert.equal(err.limit, limit, `limit (message: ${err.message})`);
    assert.match(err.message, new RegExp(limit));
    return err;
  }
  assert.fail(`expected DownloadTooLargeError(${limit}), but decryption succeeded`);
}

describe('decryptDownload limits: hostile downloads fail with the limit and the figures, before inflating', () => {
  test('a zip bomb (300 MiB of zeros in ~300 KB) is refused by its ratio, from the central directory', async () => {
    const zip = zipBomb(TX);
    assert.ok(zip.length < 1024 * 1024, `the bomb is small (${zip.length} bytes)`);
    const heapBefore = process.memoryUsage().arrayBuffers;
    const err = await assertTooLarge(decryptDownload(zip, keys.privateKeyPem), 'entry-ratio');
    assert.ok(err.actual > DEFAULT_DOWNLOAD_LIMITS.maxEntryRatio && err.max === DEFAULT_DOWNLOAD_LIMITS.maxEntryRatio);
    // Nothing was inflated: no 300 MiB buffer came to be.
    assert.ok(process.memoryUsage().arrayBuffers - heapBefore < 64 * 1024 * 1024);
  });

  test('the same bomb with a permissive ratio is refused by the total inflated size', async () => {
    const err = await assertTooLarge(
      decryptDownload(zipBomb(TX), keys.privateKeyPem, { limits: { maxEntryRatio: 1e6 } }),
      'inflated-bytes',
    );
    assert.equal(err.actual, 300 * 1024 * 1024);
    assert.equal(err.max, DEFAULT_DOWNLOAD_LIMITS.maxInflatedBytes);
  });

  test('a ZIP of 1000 entries is refused by the entry count', async () => {
    const err = await assertTooLarge(decryptDownload(manyEntriesZip(TX, 1000), keys.privateKeyPem), 'entries');
    assert.deepEqual([err.actual, err.max], [1000, 64]);
    // At the limit it is just not a download (no *_OUT.enc entry): a DecryptError, not a limit.
    await assertDecryptError(decryptDownload(manyEntriesZip(TX, 64), keys.privateKeyPem), 'missing-entry');
  });

  test('an entry whose header lies about its size stops inflating at the recorded size', async () => {
    const err = await assertTooLarge(decryptDownload(lyingHeaderZip(TX), keys.privateKeyPem), 'inflated-bytes');
    assert.equal(err.max, 1000);
    assert.equal(err.actual, 1001, 'one byte past the record, no more');
    assert.match(err.message, /header lies/);
  });

  test('the download itself over maxDownloadBytes is refused before it is read', async () => {
    const zip = await encryptDownload(TX, [{ filename: 'a.pdf', content: randomBytes(64 * 1024) }], keys.publicKeyPem);
    const err = await assertTooLarge(
      decryptDownload(zip, keys.privateKeyPem, { limits: { maxDownloadBytes: 32 * 1024 } }),
      'download-bytes',
    );
    assert.deepEqual([err.actual, err.max], [zip.length, 32 * 1024]);
  });

  test('the decrypted inner ZIP is held to the same limits (a bomb inside the encryption)', async () => {
    // 1 MiB of zeros deflates ~1000:1 inside the inner ZIP.
    const zip = await encryptDownload(TX, [{ filename: 'bomb.pdf', content: new Uint8Array(1024 * 1024) }], keys.publicKeyPem);
    await assertTooLarge(decryptDownload(zip, keys.privateKeyPem), 'entry-ratio');
    await assertTooLarge(
      decryptDownload(zip, keys.privateKeyPem, { limits: { maxEntryRatio: 1e6, maxInflatedBytes: 512 * 1024 } }),
      'inflated-bytes',
    );
    const many = await encryptDownload(
      TX,
      Array.from({ length: 70 }, (_, i) => ({ filename: `f${i}.pdf`, content: randomBytes(16) })),
      keys.publicKeyPem,
    );
    await assertTooLarge(decryptDownload(many, keys.privateKeyPem), 'entries');
    // Within the limits the same downloads decrypt as before.
    assert.equal((await decryptDownload(zip, keys.privateKeyPem, { limits: { maxEntryRatio: 1e6 } }))[0]?.content.length, 1024 * 1024);
    assert.equal((await decryptDownload(many, keys.privateKeyPem, { limits: { maxEntries: 100 } })).length, 70);
  });

  test('limits must be positive numbers', async () => {
    await assert.rejects(decryptDownload(zipEntries([], 0), keys.privateKeyPem, { limits: { maxEntries: 0 } }), TypeError);
  });
});

describe('encryptDownload arguments', () => {
  test('rejects what cannot make a valid download', async () => {
    const file = { filename: 'a.pdf', content: strToU8('x') };
    await assert.rejects(encryptDownload('', [file], keys.publicKeyPem), EncryptError);
    await assert.rejects(encryptDownload('../x', [file], keys.publicKeyPem), EncryptError);
    await assert.rejects(encryptDownload(TX, [], keys.publicKeyPem), EncryptError);
    await assert.rejects(encryptDownload(TX, [file, file], keys.publicKeyPem), EncryptError);
    await assert.rejects(
      encryptDownload(TX, [{ filename: 'OUT_SIGNED_HASH.xml', content: strToU8('x') }], keys.publicKeyPem),
      EncryptError,
    );
    await assert.rejects(encryptDownload(TX, [file], 'not a key'), EncryptError);
  });
});

// ------------------------------------------------------------------------------------------------
describe('key handling', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evrotrust-keys-'));
  });

  test('loadOrCreatePrivateKey creates the directory and a 0600 PKCS#8 file, then reuses it', async () => {
    const path = join(dir, 'nested', 'deeper', 'vendor.pem');
    const created = await loadOrCreatePrivateKey(path);
    assert.match(created.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(created.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(await readFile(path, 'utf8'), created.privateKeyPem);
    const again = await loadOrCreatePrivateKey(path);
    assert.equal(again.privateKeyPem, created.privateKeyPem);
    assert.equal(again.publicKeyPem, created.publicKeyPem);
    // And the pair works end to end.
    const zip = await encryptDownload(TX, [{ filename: 'a.pdf', content: strToU8('ok') }], again.publicKeyPem);
    assert.equal(strFromU8((await decryptDownload(zip, created.privateKeyPem))[0]?.content ?? new Uint8Array()), 'ok');
  });

  test('publicKeyParam is Base64 of the whole PEM text; the public PEM derives from the private one', () => {
    const param = publicKeyParam(keys.publicKeyPem);
    assert.match(param, /^[A-Za-z0-9+/]+={0,2}$/);
    assert.equal(Buffer.from(param, 'base64').toString('utf8'), keys.publicKeyPem);
    assert.equal(publicKeyPemFromPrivate(keys.privateKeyPem), keys.publicKeyPem);
  });

  test('readPrivateKey: a missing file → PrivateKeyError(missing) naming the file', async () => {
    const path = join(dir, 'absent.pem');
    await assert.rejects(readPrivateKey(path), (err: unknown) => {
      assert.ok(err instanceof PrivateKeyError);
      assert.equal(err.reason, 'missing');
      assert.equal(err.path, path);
      assert.ok(err.message.includes(path));
      return true;
    });
  });

  test('readPrivateKey: an unparseable file → unparseable, without quoting the content', async () => {
    const path = join(dir, 'garbage.pem');
    await writeFile(path, '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n');
    await assert.rejects(readPrivateKey(path), (err: unknown) => {
      assert.ok(err instanceof PrivateKeyError);
      assert.equal(err.reason, 'unparseable');
      assert.ok(err.message.includes(path));
      assert.ok(!err.message.includes('c2VjcmV0'));
      return true;
    });
  });

  test('readPrivateKey: RSA-1024 or an EC key → not-rsa-2048', async () => {
    const rsa1024 = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const ec = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    for (const [name, pem] of [
      ['rsa1024.pem', rsa1024.privateKey],
      ['ec.pem', ec.privateKey],
    ] as const) {
      const path = join(dir, name);
      await writeFile(path, pem);
      await assert.rejects(readPrivateKey(path), (err: unknown) => err instanceof PrivateKeyError && err.reason === 'not-rsa-2048');
      // loadOrCreate must not overwrite an existing but unsuitable key.
      await assert.rejects(loadOrCreatePrivateKey(path), (err: unknown) => err instanceof PrivateKeyError && err.reason === 'not-rsa-2048');
      assert.equal(await readFile(path, 'utf8'), pem);
    }
  });

  test('readPrivateKey: a PKCS#1 RSA-2048 file is accepted and normalised to PKCS#8', async () => {
    const path = join(dir, 'pkcs1.pem');
    const pkcs1 = forge.pki.privateKeyToPem(forge.pki.privateKeyFromPem(keys.privateKeyPem));
    assert.match(pkcs1, /BEGIN RSA PRIVATE KEY/);
    await writeFile(path, pkcs1);
    const pair = await readPrivateKey(path);
    assert.equal(pair.privateKeyPem, keys.privateKeyPem);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
});
