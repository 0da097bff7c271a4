// The container format of a `/document/download` answer, shared by encrypt.ts and decrypt.ts so
// that the simulator and the real decrypter can never drift apart (see shared/evrotrust-api.md).

import { createCipheriv, createDecipheriv } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { strFromU8, unzipSync } from 'fflate';
import { rijndael256 } from './rijndael256';

/** Plaintext bytes of inner ZIP per slice, as Evrotrust cuts them. */
export const PLAIN_PIECE_BYTES = 4096;
/** Base64 length of one full plaintext piece (4096 bytes → 5464 chars). */
export const PLAIN_PIECE_BASE64_CHARS = 4 * Math.ceil(PLAIN_PIECE_BYTES / 3);
/** Zero padding goes to a multiple of 32 bytes (the Rijndael-256 block; also a multiple of AES's 16). */
export const PAD_MULTIPLE = 32;
/** Base64 length of one full encrypted slice: 5464 → 5472 bytes padded → 7296 chars. */
export const ENCRYPTED_SLICE_CHARS =
  4 * Math.ceil((Math.ceil(PLAIN_PIECE_BASE64_CHARS / PAD_MULTIPLE) * PAD_MULTIPLE) / 3);

/** The signature-report entry Evrotrust adds to the inner ZIP; never a signed document. */
export const SIGNED_HASH_ENTRY = 'OUT_SIGNED_HASH.xml';

export const ENTRY_SUFFIX = {
  enc: '_OUT.enc',
  key: '_OUT.enc.key',
  iv: '_OUT.enc.iv',
  filename: '_OUT.enc.filename',
} as const;
export type EntryKind = keyof typeof ENTRY_SUFFIX;

export function entryName(transactionId: string, kind: EntryKind): string {
  return `${transactionId}${ENTRY_SUFFIX[kind]}`;
}

export const RIJNDAEL_IV_BYTES = 32;
export const AES_IV_BYTES = 16;
export const CONTENT_KEY_BYTES = 32;

/** CBC without padding, picked by IV length: 32 bytes → Rijndael-256, 16 bytes → AES-256. */
export interface SliceCipher {
  encrypt(data: Uint8Array): Uint8Array;
  decrypt(data: Uint8Array): Uint8Array;
}

export function sliceCipher(key: Uint8Array, iv: Uint8Array): SliceCipher {
  if (iv.length === RIJNDAEL_IV_BYTES) {
    return {
      encrypt: (data) => rijndael256.encryptCbc(key, iv, data),
      decrypt: (data) => rijndael256.decryptCbc(key, iv, data),
    };
  }
  if (iv.length === AES_IV_BYTES) {
    // Real AES (128-bit block) is in OpenSSL: use it, it is two orders of magnitude faster.
    const run = (decipher: boolean, data: Uint8Array): Uint8Array => {
      const c = decipher ? createDecipheriv('aes-256-cbc', key, iv) : createCipheriv('aes-256-cbc', key, iv);
      c.setAutoPadding(false);
      const out = Buffer.concat([c.update(data), c.final()]);
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    };
    return { encrypt: (data) => run(false, data), decrypt: (data) => run(true, data) };
  }
  throw new RangeError(`IV must be ${RIJNDAEL_IV_BYTES} or ${AES_IV_BYTES} bytes, got ${iv.length}`);
}

// ---------------------------------------------------------------------------------------------
// Verified unzip. fflate does not check CRC-32s, and a ZIP whose bytes were shuffled (say, two
// encrypted slices swapped) can still inflate — to wrong content. Every entry is therefore checked
// against the CRC-32 recorded in the central directory, so corruption is an error, never output.

/** The bytes are not a ZIP we can read, or an entry does not match its recorded CRC-32. */
export class ZipFormatError extends Error {
  override readonly name = 'ZipFormatError';
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const EOCD_MIN = 22;

/** Entry name → CRC-32, from the central directory. */
function centralDirectoryCrcs(zip: Uint8Array): Map<string, number> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  // The end record sits in the last 22 + up to 65535 (comment) bytes.
  for (let i = zip.length - EOCD_MIN; i >= Math.max(0, zip.length - EOCD_MIN - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError('no ZIP end-of-central-directory record');
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const crcs = new Map<string, number>();
  for (let n = 0; n < count; n++) {
    if (p + 46 > zip.length || view.getUint32(p, true) !== CENTRAL_SIGNATURE) {
      throw new ZipFormatError('ZIP central directory is damaged');
    }
    const flags = view.getUint16(p + 8, true);
    const crc = view.getUint32(p + 16, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    if (p + 46 + nameLength > zip.length) throw new ZipFormatError('ZIP central directory is damaged');
    // Same name decoding as fflate: UTF-8 when flag bit 11 says so, else one byte per character.
    const nameBytes = zip.subarray(p + 46, p + 46 + nameLength);
    crcs.set(strFromU8(nameBytes, !(flags & 0x800)), crc);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return crcs;
}

/** Unzips and verifies every entry's CRC-32. Directory entries are dropped. */
export function unzipVerified(zip: Uint8Array): Map<string, Uint8Array> {
  let entries: Record<string, Uint8Array>;
  let crcs: Map<string, number>;
  try {
    crcs = centralDirectoryCrcs(zip);
    entries = unzipSync(zip);
  } catch (err) {
    if (err instanceof ZipFormatError) throw err;
    // fflate's messages say nothing about the content; keep them short and generic anyway.
    throw new ZipFormatError('not a readable ZIP archive');
  }
  const out = new Map<string, Uint8Array>();
  for (const [name, content] of Object.entries(entries)) {
    const expected = crcs.get(name);
    if (expected === undefined) throw new ZipFormatError('ZIP entry missing from the central directory');
    if (crc32(content) !== expected) throw new ZipFormatError('ZIP entry fails its CRC-32 check');
    if (!name.endsWith('/')) out.set(name, content);
  }
  return out;
}
