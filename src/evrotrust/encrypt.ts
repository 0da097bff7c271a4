// Builds a `/document/download` answer exactly as Evrotrust does (see docs/evrotrust.md):
// the reverse of decrypt.ts. Used by the sandbox simulator and by the decryption tests.

import { constants, publicEncrypt, randomBytes, randomInt } from 'node:crypto';
import { sha256Hex } from '../lib/hash';
import { strToU8 } from 'fflate';
import {
  AES_IV_BYTES,
  CONTENT_KEY_BYTES,
  ENCRYPTED_SLICE_CHARS,
  PAD_MULTIPLE,
  PLAIN_PIECE_BYTES,
  RIJNDAEL_IV_BYTES,
  SIGNED_HASH_ENTRY,
  entryName,
  sliceCipher,
  zipEntries,
} from './zip';

export interface DownloadFile {
  filename: string;
  content: Uint8Array;
}

export interface EncryptDownloadOptions {
  /** 32 (default): Rijndael-256-CBC as Evrotrust does; 16: AES-256-CBC (the documented fallback). */
  ivLength?: 32 | 16;
  /**
   * Name of the signature-report entry in the inner ZIP. Default the bare `OUT_SIGNED_HASH.xml`;
   * the simulator passes `<tx>_OUT_SIGNED_HASH.xml`, the prefixed form DigitalSofia handles.
   */
  signedHashEntry?: string;
  /** What `<tx>_OUT.enc.filename` holds (the original upload's name). Default: the first file's name. */
  originalFilename?: string;
}

/** Thrown for arguments the encrypter cannot turn into a valid download ZIP. */
export class EncryptError extends Error {
  override readonly name = 'EncryptError';
}

// Printable, whitespace-free, so that "trim the .iv text" on the decrypting side never eats IV bytes.
const IV_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomPrintableIv(length: number): Uint8Array {
  let text = '';
  for (let i = 0; i < length; i++) text += IV_ALPHABET[randomInt(IV_ALPHABET.length)];
  return strToU8(text);
}

function signedHashXml(files: DownloadFile[]): Uint8Array {
  // A stand-in for Evrotrust's signature report: digests only, nothing personal.
  const entries = files
    .map((f) => `  <document><digestMethod>SHA256</digestMethod><digest>${sha256Hex(f.content)}</digest></document>`)
    .join('\n');
  return strToU8(`<?xml version="1.0" encoding="UTF-8"?>\n<signedHash>\n${entries}\n</signedHash>\n`);
}

// Deflate like a real archiver for ordinary documents, but store large payloads: fflate deflates at
// roughly 10 MB/s here, which would dominate the time to build a 20 MB sandbox download. The
// decrypter reads both forms; signed PDFs barely compress anyway.
const DEFLATE_UP_TO_BYTES = 1 << 20;
function deflateLevel(payloadBytes: number): 0 | 6 {
  return payloadBytes <= DEFLATE_UP_TO_BYTES ? 6 : 0;
}

function zeroPad(bytes: Uint8Array, multiple: number): Uint8Array {
  const padded = new Uint8Array(Math.ceil(bytes.length / multiple) * multiple);
  padded.set(bytes);
  return padded;
}

export async function encryptDownload(
  transactionId: string,
  files: DownloadFile[],
  publicKeyPem: string,
  options?: EncryptDownloadOptions,
): Promise<Uint8Array> {
  const ivLength = options?.ivLength ?? RIJNDAEL_IV_BYTES;
  if (ivLength !== RIJNDAEL_IV_BYTES && ivLength !== AES_IV_BYTES) {
    throw new EncryptError(`ivLength must be ${RIJNDAEL_IV_BYTES} or ${AES_IV_BYTES}`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(transactionId)) {
    throw new EncryptError('transactionId must be non-empty and contain only letters, digits, "_" or "-"');
  }
  if (files.length === 0) throw new EncryptError('at least one file is required');

  // Wrap first: a bad key should fail before the expensive part.
  const key = new Uint8Array(randomBytes(CONTENT_KEY_BYTES));
  let wrappedKey: Buffer;
  try {
    wrappedKey = publicEncrypt({ key: publicKeyPem, padding: constants.RSA_PKCS1_PADDING }, key);
  } catch {
    throw new EncryptError('publicKeyPem is not a usable RSA public key');
  }

  const reportName = options?.signedHashEntry ?? SIGNED_HASH_ENTRY;
  // A Map, not an object: an uploaded file may well be called "__proto__".
  const inner = new Map<string, Uint8Array>();
  for (const file of files) {
    if (file.filename === '' || file.filename.endsWith('/')) throw new EncryptError('every file needs a non-empty file name');
    if (file.filename === reportName || file.filename === SIGNED_HASH_ENTRY)
      throw new EncryptError(`"${file.filename}" is reserved for the signature report`);
    if (inner.has(file.filename)) throw new EncryptError('file names must be unique');
    inner.set(file.filename, file.content);
  }
  inner.set(reportName, signedHashXml(files));
  const innerZip = zipEntries([...inner], deflateLevel(files.reduce((sum, f) => sum + f.content.length, 0)));

  const iv = ivLength === RIJNDAEL_IV_BYTES ? randomPrintableIv(RIJNDAEL_IV_BYTES) : randomPrintableIv(AES_IV_BYTES);
  const cipher = sliceCipher(key, iv);

  // 4096-byte pieces → Base64 → zero-pad → encrypt → Base64; the slices are simply concatenated.
  const slices: string[] = [];
  for (let offset = 0; offset < innerZip.length; offset += PLAIN_PIECE_BYTES) {
    const piece = innerZip.subarray(offset, offset + PLAIN_PIECE_BYTES);
    const pieceBase64 = Buffer.from(piece.buffer, piece.byteOffset, piece.length).toString('base64');
    const encrypted = cipher.encrypt(zeroPad(strToU8(pieceBase64, true), PAD_MULTIPLE));
    slices.push(Buffer.from(encrypted.buffer, encrypted.byteOffset, encrypted.length).toString('base64'));
  }

  return zipEntries(
    [
      [entryName(transactionId, 'enc'), strToU8(slices.join(''), true)],
      [entryName(transactionId, 'key'), strToU8(wrappedKey.toString('base64'), true)],
      [entryName(transactionId, 'iv'), iv],
      // The entry holds one name; with several files it names the first (Evrotrust's own
      // multi-document downloads are a different endpoint).
      [entryName(transactionId, 'filename'), strToU8(options?.originalFilename ?? files[0]?.filename ?? '')],
    ],
    deflateLevel(slices.length * ENCRYPTED_SLICE_CHARS),
  );
}
