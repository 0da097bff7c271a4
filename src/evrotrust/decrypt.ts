// Decrypts a `/document/download` answer (docs/evrotrust.md, "The /document/download answer").
//
// Outer ZIP: `<tx>_OUT.enc` (Base64 text), `<tx>_OUT.enc.key` (Base64 of the RSA PKCS#1 v1.5 wrapped
// 32-byte key), `<tx>_OUT.enc.iv` (IV as text), `<tx>_OUT.enc.filename` (original file name).
// `.enc` is cut into 7296-character slices; each is Base64-decoded, decrypted with the same key and
// IV (Rijndael-256-CBC for a 32-byte IV, AES-256-CBC for a 16-byte one), stripped of trailing zero
// bytes, and Base64-decoded again. The concatenation is an inner ZIP with the signed file(s).
//
// Everything is checked on the way (Base64 alphabet at both levels, block alignment, CRC-32 of every
// ZIP entry), so a wrong key or damaged input ends in a DecryptError, never in garbage output.
// Error messages name the problem only: no file contents, file names or personal data.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { createPrivateKey } from 'node:crypto';
import forge from 'node-forge';
import {
  AES_IV_BYTES,
  CONTENT_KEY_BYTES,
  ENCRYPTED_SLICE_CHARS,
  ENTRY_SUFFIX,
  RIJNDAEL_IV_BYTES,
  SIGNED_HASH_ENTRY,
  ZipFormatError,
  sliceCipher,
  unzipVerified,
  type EntryKind,
} from './zip';

import { DownloadTooLargeError, resolveDownloadLimits, type DownloadLimits } from './limits';
import { uploadFilename } from './files';

export { ENCRYPTED_SLICE_CHARS } from './zip';
export { DEFAULT_DOWNLOAD_LIMITS, DownloadTooLargeError, type DownloadLimit, type DownloadLimits } from './limits';

export interface DecryptOptions {
  /** Caps on the download (defaults: DEFAULT_DOWNLOAD_LIMITS); exceeding one throws DownloadTooLargeError. */
  limits?: Partial<DownloadLimits>;
}

export type DecryptErrorReason =
  | 'invalid-private-key' // the PEM we were given is not an RSA private key
  | 'not-a-zip' // the download is not a (readable) ZIP
  | 'missing-entry' // a required `<tx>_OUT.enc*` entry is absent
  | 'ambiguous-entry' // more than one entry of a kind: not a single-document download
  | 'wrong-key' // the content key does not unwrap with this private key
  | 'bad-iv' // the IV is neither 32 nor 16 bytes
  | 'corrupt-ciphertext' // the ciphertext or what it decrypts to is damaged
  | 'no-document'; // the inner ZIP holds no signed document

export class DecryptError extends Error {
  override readonly name = 'DecryptError';
  constructor(
    readonly reason: DecryptErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export interface DecryptedFile {
  filename: string;
  content: Uint8Array;
}

// Yield to the event loop every this many slices (~1 MB of plaintext), so that decrypting a large
// document does not stall HTTP handlers (callbacks must be answered within 30 s) for its whole run.
const SLICES_PER_YIELD = 256;

// Base64 alphabet lookup: 1 for A–Z a–z 0–9 + /. A table loop is ~20x faster than a regex here.
const BASE64_ALPHABET = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_ALPHABET[c.charCodeAt(0)] = 1;
const EQUALS = 0x3d;

/** Standard Base64 with padding, nothing else (Node's decoder would silently skip stray bytes). */
function isStrictBase64(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (n % 4 !== 0) return false;
  let end = n;
  if (n > 0 && bytes[n - 1] === EQUALS) end = bytes[n - 2] === EQUALS ? n - 2 : n - 1;
  for (let i = 0; i < end; i++) if (BASE64_ALPHABET[bytes[i] ?? 0] !== 1) return false;
  return true;
}

function decodeStrictBase64(bytes: Uint8Array, reason: DecryptErrorReason, what: string): Buffer {
  if (!isStrictBase64(bytes)) throw new DecryptError(reason, `${what} is not valid Base64`);
  return Buffer.from(latin1(bytes), 'base64');
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** The one outer entry of a kind, matched on the `OUT.enc…` suffix as production integrations do. */
function findEntry(entries: Map<string, Uint8Array>, kind: EntryKind, required: boolean): Uint8Array | undefined {
  const suffix = ENTRY_SUFFIX[kind].slice(1); // 'OUT.enc', 'OUT.enc.key', … (the '_' may be absent)
  const found = [...entries].filter(([name]) => name.endsWith(suffix));
  if (found.length > 1) {
    throw new DecryptError('ambiguous-entry', `the download holds ${found.length} "*${ENTRY_SUFFIX[kind]}" entries; expected one`);
  }
  const entry = found[0];
  if (!entry && required) throw new DecryptError('missing-entry', `the download has no "*${ENTRY_SUFFIX[kind]}" entry`);
  return entry?.[1];
}

function toForgeKey(privateKeyPem: string): forge.pki.rsa.PrivateKey {
  try {
    // Normalise through Node (accepts PKCS#8 and PKCS#1) to the PKCS#1 form forge reads best.
    const key = createPrivateKey({ key: privateKeyPem, format: 'pem' });
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
    const pkcs1 = key.export({ type: 'pkcs1', format: 'pem' }).toString();
    return forge.pki.privateKeyFromPem(pkcs1);
  } catch {
    throw new DecryptError('invalid-private-key', 'the private key is not an unencrypted RSA private key in PEM form');
  }
}

/**
 * RSA PKCS#1 v1.5 unwrap with node-forge: Node's `privateDecrypt` refuses this padding since
 * CVE-2023-46809. The Bleichenbacher risk behind that refusal needs an attacker who can submit
 * chosen ciphertexts and observe failures; here the ciphertext comes from Evrotrust's download.
 */
function unwrapContentKey(wrappedBase64: Uint8Array, forgeKey: forge.pki.rsa.PrivateKey): Uint8Array {
  const wrapped = decodeStrictBase64(wrappedBase64, 'wrong-key', 'the wrapped content key');
  let keyBytes: string;
  try {
    keyBytes = forgeKey.decrypt(wrapped.toString('binary'), 'RSAES-PKCS1-V1_5');
  } catch {
    throw new DecryptError('wrong-key', 'the content key cannot be decrypted with this private key (wrong key pair?)');
  }
  if (keyBytes.length !== CONTENT_KEY_BYTES) {
    throw new DecryptError(
      'wrong-key',
      `the content key decrypts to ${keyBytes.length} bytes instead of ${CONTENT_KEY_BYTES} (wrong key pair?)`,
    );
  }
  return new Uint8Array(Buffer.from(keyBytes, 'binary'));
}

function isAsciiWhitespace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/** Text entries may end with a newline (or be indented); the bytes in between are kept as they are. */
function trimAsciiWhitespace(bytes: Uint8Array): Uint8Array {
  let start = 0;
  let end = bytes.length;
  while (start < end && isAsciiWhitespace(bytes[start])) start++;
  while (end > start && isAsciiWhitespace(bytes[end - 1])) end--;
  return bytes.subarray(start, end);
}

function lastNonZero(bytes: Uint8Array): number {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

async function decryptSlices(encText: Uint8Array, key: Uint8Array, iv: Uint8Array): Promise<Uint8Array> {
  if (encText.length === 0) throw new DecryptError('corrupt-ciphertext', 'the encrypted document is empty');
  const cipher = sliceCipher(key, iv);
  const blockBytes = iv.length;
  const pieces: Buffer[] = [];
  let n = 0;
  for (let offset = 0; offset < encText.length; offset += ENCRYPTED_SLICE_CHARS, n++) {
    if (n > 0 && n % SLICES_PER_YIELD === 0) await yieldToEventLoop();
    const ciphertext = decodeStrictBase64(
      encText.subarray(offset, offset + ENCRYPTED_SLICE_CHARS),
      'corrupt-ciphertext',
      `encrypted slice ${n + 1}`,
    );
    if (ciphertext.length === 0 || ciphertext.length % blockBytes !== 0) {
      throw new DecryptError('corrupt-ciphertext', `encrypted slice ${n + 1} is not a whole number of cipher blocks (truncated?)`);
    }
    const plain = cipher.decrypt(ciphertext);
    pieces.push(
      decodeStrictBase64(
        plain.subarray(0, lastNonZero(plain)),
        'corrupt-ciphertext',
        `decrypted slice ${n + 1} (wrong key or damaged data)`,
      ),
    );
  }
  return Buffer.concat(pieces);
}

/**
 * Whether an inner entry is Evrotrust's signature report rather than a signed document. Entry names
 * may carry a prefix (`<tx>_OUT_SIGNED_HASH.xml`); DigitalSofia cuts each name at `OUT` and skips
 * `OUT_SIGNED_HASH.xml`, so any name ending in it, bare or prefixed, is the report.
 */
export function isSignedHashReport(name: string): boolean {
  const base = baseName(name).toLowerCase();
  const report = SIGNED_HASH_ENTRY.toLowerCase();
  return base === report || base.endsWith(`_${report}`) || base.slice(base.indexOf('out')) === report;
}

function baseName(name: string): string {
  return name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
}

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** A plain file name callers can safely put in a path or a Content-Disposition: no directories, no control characters. */
function safeFileName(name: string): string {
  const cleaned = baseName(name)
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'document' : cleaned;
}

/** A download's outer ZIP within the limits: too large is a DownloadTooLargeError, anything unreadable `not-a-zip`. */
function unzipDownload(zip: Uint8Array, limits: ReturnType<typeof resolveDownloadLimits>, what: string): Map<string, Uint8Array> {
  if (zip.byteLength > limits.maxDownloadBytes) {
    throw new DownloadTooLargeError('download-bytes', zip.byteLength, limits.maxDownloadBytes);
  }
  try {
    return unzipVerified(zip, limits);
  } catch (err) {
    if (err instanceof DownloadTooLargeError) throw err;
    throw new DecryptError(
      'not-a-zip',
      `${what} is not a valid ZIP archive: ${err instanceof ZipFormatError ? err.message : 'unreadable'}`,
    );
  }
}

/**
 * Returns the signed document(s) of a `/document/download` answer.
 *
 * Names: for a single signed document the original name from `<tx>_OUT.enc.filename` is used (as
 * production integrations do), unless that entry is absent or its extension differs from the
 * inner entry's (the signed form may be another format, e.g. `.p7m`), in which case the inner
 * entry's name is used. Several documents keep their inner entry names, since `.filename` names only
 * one. Names are reduced to a bare file name (no directories, no control characters).
 * Evrotrust's signature report (`OUT_SIGNED_HASH.xml`, bare or prefixed, see isSignedHashReport)
 * and directory entries are skipped.
 *
 * Limits (`options.limits`, DEFAULT_DOWNLOAD_LIMITS otherwise) apply to the download's size and to
 * both ZIPs, outer and inner: too many entries, a too high ratio or too many inflated bytes throw a
 * DownloadTooLargeError naming the limit and the figures, before anything of that ZIP is inflated.
 */
export async function decryptDownload(zip: Uint8Array, privateKeyPem: string, options: DecryptOptions = {}): Promise<DecryptedFile[]> {
  const limits = resolveDownloadLimits(options.limits);
  // A configuration problem first: it is not the download's fault and retrying will not fix it.
  const forgeKey = toForgeKey(privateKeyPem);
  const outer = unzipDownload(zip, limits, 'the download');

  const encEntry = findEntry(outer, 'enc', true);
  const keyEntry = findEntry(outer, 'key', true);
  const ivEntry = findEntry(outer, 'iv', true);
  const filenameEntry = findEntry(outer, 'filename', false);
  if (!encEntry || !keyEntry || !ivEntry) throw new DecryptError('missing-entry', 'the download lacks a required entry');

  const iv = trimAsciiWhitespace(ivEntry);
  if (iv.length !== RIJNDAEL_IV_BYTES && iv.length !== AES_IV_BYTES) {
    throw new DecryptError(
      'bad-iv',
      `the IV has ${iv.length} bytes; expected ${RIJNDAEL_IV_BYTES} (Rijndael-256) or ${AES_IV_BYTES} (AES)`,
    );
  }
  const key = unwrapContentKey(trimAsciiWhitespace(keyEntry), forgeKey);
  const innerZip = await decryptSlices(trimAsciiWhitespace(encEntry), key, iv);

  let inner: Map<string, Uint8Array>;
  try {
    inner = unzipVerified(innerZip, limits);
  } catch (err) {
    if (err instanceof DownloadTooLargeError) throw err;
    const detail = err instanceof ZipFormatError ? err.message : 'unreadable';
    throw new DecryptError('corrupt-ciphertext', `the decrypted content is not a valid ZIP archive (${detail}); the download is damaged`);
  }

  const documents = [...inner].filter(([name]) => !isSignedHashReport(name));
  if (documents.length === 0) throw new DecryptError('no-document', 'the decrypted archive holds no signed document');

  const originalName = filenameEntry ? Buffer.from(filenameEntry).toString('utf8').trim() : '';
  const only = documents.length === 1 ? documents[0] : undefined;
  if (only && originalName !== '' && extension(originalName) === extension(baseName(only[0]))) {
    return [{ filename: safeFileName(originalName), content: only[1] }];
  }
  return documents.map(([name, content]) => ({ filename: safeFileName(name), content }));
}

/**
 * Returns the signed documents of a `/document/group/download` answer, in document order: one file
 * per outer entry. The outer ZIP holds, per document, the archive a single-document download would
 * be (`<x>_OUT.enc`, `.key`, `.iv`, `.filename`); DigitalSofia unpacks it the same way, entry by
 * entry in archive order. `expected` (the group's document count), when given, must match the
 * entry count: a missing or extra document is a damaged answer, never a guess. Limits apply to the
 * outer ZIP and to each document's ZIPs (decryptDownload).
 */
export async function decryptGroupDownload(
  zip: Uint8Array,
  privateKeyPem: string,
  options: DecryptOptions & { expected?: number } = {},
): Promise<DecryptedFile[]> {
  const limits = resolveDownloadLimits(options.limits);
  toForgeKey(privateKeyPem);
  const outer = unzipDownload(zip, limits, 'the group download');
  const entries = [...outer].filter(([name]) => !isSignedHashReport(name));
  if (entries.length === 0) throw new DecryptError('no-document', 'the group download holds no document');
  if (options.expected !== undefined && entries.length !== options.expected) {
    throw new DecryptError('missing-entry', `the group download holds ${entries.length} documents; the group has ${options.expected}`);
  }
  const out: DecryptedFile[] = [];
  for (const [i, [, entry]] of entries.entries()) {
    const files = await decryptDownload(entry, privateKeyPem, options);
    if (files.length !== 1) {
      throw new DecryptError('ambiguous-entry', `document ${i + 1} of the group download holds ${files.length} signed files, not one`);
    }
    out.push(files[0]!);
  }
  return out;
}

/**
 * Which decrypted file is which document of the group: `result[i]` is document i's signed file, or
 * undefined for an optional document the signers left unsigned. With one file per document they are
 * in document order (as DigitalSofia reads them). With fewer, each file is matched by its original
 * name (`.enc.filename`) to the one document of that name, and only optional documents may be left
 * without one; anything else is a DecryptError, never a guess.
 */
export function assignGroupFiles(
  files: readonly DecryptedFile[],
  documents: readonly { filename: string; optional: boolean }[],
): (DecryptedFile | undefined)[] {
  if (files.length === documents.length) return [...files];
  if (files.length > documents.length) {
    throw new DecryptError('ambiguous-entry', `the group download holds ${files.length} documents; the group has ${documents.length}`);
  }
  // The name as sent (uploadFilename) or as the caller gave it, reduced as decryptDownload reduces names.
  const names = documents.map((d) => new Set([safeFileName(d.filename), safeFileName(uploadFilename(d.filename))]));
  const out: (DecryptedFile | undefined)[] = documents.map(() => undefined);
  for (const file of files) {
    const candidates = names.flatMap((n, i) => (n.has(file.filename) ? [i] : []));
    if (candidates.length !== 1 || out[candidates[0]!] !== undefined) {
      throw new DecryptError(
        'ambiguous-entry',
        `the group download holds ${files.length} of ${documents.length} documents and they cannot be told apart by name`,
      );
    }
    out[candidates[0]!] = file;
  }
  const missing = out.flatMap((f, i) => (f === undefined && !documents[i]!.optional ? [i + 1] : []));
  if (missing.length > 0) {
    throw new DecryptError('missing-entry', `the group download lacks document ${missing.join(', ')}, which is not optional`);
  }
  return out;
}
