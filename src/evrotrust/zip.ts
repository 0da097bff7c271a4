// The container format of a `/document/download` answer, shared by encrypt.ts and decrypt.ts so
// that the simulator and the real decrypter can never drift apart (see docs/evrotrust.md).

import { createCipheriv, createDecipheriv } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { deflateSync, inflateSync, strFromU8, strToU8 } from 'fflate';
import { rijndael256 } from './rijndael256';
import { DownloadTooLargeError, RATIO_CHECK_FROM_BYTES, type DownloadLimits } from './limits';

/** Plaintext bytes of inner ZIP per slice, as Evrotrust cuts them. */
export const PLAIN_PIECE_BYTES = 4096;
/** Base64 length of one full plaintext piece (4096 bytes → 5464 chars). */
export const PLAIN_PIECE_BASE64_CHARS = 4 * Math.ceil(PLAIN_PIECE_BYTES / 3);
/** Zero padding goes to a multiple of 32 bytes (the Rijndael-256 block; also a multiple of AES's 16). */
export const PAD_MULTIPLE = 32;
/** Base64 length of one full encrypted slice: 5464 → 5472 bytes padded → 7296 chars. */
export const ENCRYPTED_SLICE_CHARS = 4 * Math.ceil((Math.ceil(PLAIN_PIECE_BASE64_CHARS / PAD_MULTIPLE) * PAD_MULTIPLE) / 3);

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
// Verified unzip. fflate's unzipSync checks no CRC-32, and a ZIP whose bytes were shuffled (say,
// two encrypted slices swapped) can still inflate — to wrong content. It also returns a plain
// object, where an entry named "__proto__" vanishes. So the container is read here, from the central
// directory, with fflate only inflating; every entry must match its recorded size and CRC-32, so
// corruption is an error, never output. No ZIP64 and no encrypted entries: neither occurs here.

/** The bytes are not a ZIP we can read, or an entry does not match its recorded size or CRC-32. */
export class ZipFormatError extends Error {
  override readonly name = 'ZipFormatError';
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_MIN = 22;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;

interface CentralEntry {
  name: string;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function readCentralDirectory(zip: Uint8Array, view: DataView, maxEntries?: number): CentralEntry[] {
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
  // Before reading a single entry: the record's count is all a bomb of many entries costs us.
  if (maxEntries !== undefined && count > maxEntries) throw new DownloadTooLargeError('entries', count, maxEntries);
  let p = view.getUint32(eocd + 16, true);
  const entries: CentralEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (p + 46 > zip.length || view.getUint32(p, true) !== CENTRAL_SIGNATURE) {
      throw new ZipFormatError('ZIP central directory is damaged');
    }
    const nameLength = view.getUint16(p + 28, true);
    if (p + 46 + nameLength > zip.length) throw new ZipFormatError('ZIP central directory is damaged');
    const flags = view.getUint16(p + 8, true);
    entries.push({
      // Like fflate and most archivers: UTF-8 when flag bit 11 says so, else one byte per character.
      name: strFromU8(zip.subarray(p + 46, p + 46 + nameLength), !(flags & 0x800)),
      flags,
      method: view.getUint16(p + 10, true),
      crc: view.getUint32(p + 16, true),
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      localOffset: view.getUint32(p + 42, true),
    });
    p += 46 + nameLength + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
  }
  return entries;
}

function readEntry(zip: Uint8Array, view: DataView, entry: CentralEntry, bounded: boolean): Uint8Array {
  if (entry.flags & 0x1) throw new ZipFormatError('encrypted ZIP entries are not supported');
  const p = entry.localOffset;
  if (p + 30 > zip.length || view.getUint32(p, true) !== LOCAL_SIGNATURE) throw new ZipFormatError('ZIP local header is damaged');
  const start = p + 30 + view.getUint16(p + 26, true) + view.getUint16(p + 28, true);
  const end = start + entry.compressedSize;
  if (end > zip.length) throw new ZipFormatError('ZIP entry runs past the end of the archive');
  const data = zip.subarray(start, end);
  let content: Uint8Array;
  if (entry.method === METHOD_STORED) {
    content = data.slice();
  } else if (entry.method === METHOD_DEFLATED) {
    try {
      // `out` of the recorded size bounds the output: a lying size cannot inflate without limit.
      // One byte more than recorded tells a stream that goes on past its record from one that ends.
      content = inflateSync(data, { out: new Uint8Array(entry.size + (bounded ? 1 : 0)) });
    } catch {
      throw new ZipFormatError('ZIP entry does not inflate');
    }
    if (bounded && content.length > entry.size) {
      throw new DownloadTooLargeError(
        'inflated-bytes',
        content.length,
        entry.size,
        `an entry inflates beyond the ${entry.size} bytes its header records (the header lies); inflating stopped there`,
      );
    }
  } else {
    throw new ZipFormatError(`ZIP compression method ${entry.method} is not supported`);
  }
  if (content.length !== entry.size) throw new ZipFormatError('ZIP entry size does not match its record');
  if (crc32(content) !== entry.crc) throw new ZipFormatError('ZIP entry fails its CRC-32 check');
  return content;
}

/** Checks the central directory's figures against the limits, before anything is inflated. */
function checkDeclaredSizes(entries: readonly CentralEntry[], limits: Omit<DownloadLimits, 'maxDownloadBytes'>): void {
  let total = 0;
  for (const entry of entries) {
    total += entry.size;
    if (entry.size >= RATIO_CHECK_FROM_BYTES) {
      const ratio = entry.size / Math.max(1, entry.compressedSize);
      if (ratio > limits.maxEntryRatio) {
        throw new DownloadTooLargeError(
          'entry-ratio',
          Math.round(ratio),
          limits.maxEntryRatio,
          `an entry of ${entry.compressedSize} bytes declares ${entry.size} inflated (ratio ${Math.round(ratio)} > ${limits.maxEntryRatio})`,
        );
      }
    }
  }
  if (total > limits.maxInflatedBytes) {
    throw new DownloadTooLargeError(
      'inflated-bytes',
      total,
      limits.maxInflatedBytes,
      `the entries declare ${total} bytes inflated in all (> ${limits.maxInflatedBytes})`,
    );
  }
}

/**
 * Unzips and verifies every entry's size and CRC-32. Directory entries are dropped. With `limits`,
 * the entry count, each entry's ratio and the total inflated size are checked from the central
 * directory first (DownloadTooLargeError), and no entry may inflate past its recorded size.
 */
export function unzipVerified(zip: Uint8Array, limits?: Omit<DownloadLimits, 'maxDownloadBytes'>): Map<string, Uint8Array> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  try {
    const out = new Map<string, Uint8Array>();
    const entries = readCentralDirectory(zip, view, limits?.maxEntries);
    if (limits) checkDeclaredSizes(entries, limits);
    for (const entry of entries) {
      if (out.has(entry.name)) throw new ZipFormatError('ZIP holds the same entry name twice');
      const content = readEntry(zip, view, entry, limits !== undefined);
      if (!entry.name.endsWith('/')) out.set(entry.name, content);
    }
    return out;
  } catch (err) {
    if (err instanceof ZipFormatError || err instanceof DownloadTooLargeError) throw err;
    // A RangeError from a DataView read past the end, say: still just a damaged archive.
    throw new ZipFormatError('ZIP structure is damaged');
  }
}

// ---------------------------------------------------------------------------------------------
// ZIP writer. fflate's zipSync keys entries by a plain object (an entry named "__proto__" breaks
// it) and its streaming Zip writes data descriptors even for stored entries, which Java's
// ZipInputStream (used by production Evrotrust clients) rejects. So the simulator's archives are
// written here: sizes and CRC-32 in the local headers, UTF-8 names flagged, fflate only deflating.

function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.min(Math.max(date.getFullYear(), 1980), 2107);
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

/**
 * A ZIP of the given entries, in order. `level` 0 stores; otherwise each entry is deflated at that
 * level, and stored anyway when deflating does not make it smaller (as archivers do).
 */
export function zipEntries(
  entries: ReadonlyArray<readonly [name: string, content: Uint8Array]>,
  level: 0 | 1 | 6 | 9,
  now = new Date(),
): Uint8Array {
  if (entries.length > 0xffff) throw new ZipFormatError('too many ZIP entries');
  const { time, date } = dosDateTime(now);
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const [name, content] of entries) {
    const nameBytes = strToU8(name);

    const flags = /^[\x00-\x7f]*$/.test(name) ? 0 : 0x800; // bit 11: the name is UTF-8
    let method = METHOD_STORED;
    let data = content;
    if (level !== 0) {
      const deflated = deflateSync(content, { level });
      if (deflated.length < content.length) {
        method = METHOD_DEFLATED;
        data = deflated;
      }
    }
    if (data.length > 0xfffffffe || content.length > 0xfffffffe || offset > 0xfffffffe || nameBytes.length > 0xffff) {
      throw new ZipFormatError('ZIP entry too large (no ZIP64 support)');
    }
    const crc = crc32(content);

    const local = new Uint8Array(30 + nameBytes.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, LOCAL_SIGNATURE, true);
    lv.setUint16(4, 20, true); // version needed: 2.0
    lv.setUint16(6, flags, true);
    lv.setUint16(8, method, true);
    lv.setUint16(10, time, true);
    lv.setUint16(12, date, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, content.length, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);

    const central = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, CENTRAL_SIGNATURE, true);
    cv.setUint16(4, 20, true); // made by: MS-DOS attributes, 2.0
    cv.setUint16(6, 20, true);
    cv.setUint16(8, flags, true);
    cv.setUint16(10, method, true);
    cv.setUint16(12, time, true);
    cv.setUint16(14, date, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, content.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    central.set(nameBytes, 46);

    locals.push(local, data);
    centrals.push(central);
    offset += local.length + data.length;
  }
  const centralSize = centrals.reduce((sum, c) => sum + c.length, 0);
  if (offset > 0xfffffffe) throw new ZipFormatError('ZIP too large (no ZIP64 support)');
  const eocd = new Uint8Array(EOCD_MIN);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, EOCD_SIGNATURE, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, offset, true);
  return Buffer.concat([...locals, ...centrals, eocd]);
}
