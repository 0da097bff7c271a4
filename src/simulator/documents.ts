// What the simulator does to the files themselves: which uploads it accepts, and the "signed copy"
// it hands back. The signature is a stand-in, not a real PAdES signature: the original bytes plus
// one PDF comment line naming the transaction. PDF readers ignore a comment after %%EOF, so the
// copy still opens, and the line is deterministic per transaction so tests can compare exactly.

import { createHash } from 'node:crypto';

/** File types accepted, by magic bytes. Evrotrust's list is not published; PDF is what we send. */
export const ACCEPTED_FILE_TYPES = ['pdf'] as const;
export type AcceptedFileType = (typeof ACCEPTED_FILE_TYPES)[number];

const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');

/** The type of an upload by its first bytes, or undefined when it is not one we accept (457). */
export function detectFileType(content: Uint8Array): AcceptedFileType | undefined {
  if (content.length >= PDF_MAGIC.length && Buffer.from(content.subarray(0, PDF_MAGIC.length)).equals(PDF_MAGIC)) return 'pdf';
  return undefined;
}

export function sha256Hex(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

export function sha512Hex(content: Uint8Array): string {
  return createHash('sha512').update(content).digest('hex');
}

export const SIGNATURE_MARKER = '%EvrotrustSimulatorSignature';

/** The line appended for one signer: ids and the digest of what was signed, nothing personal. */
export function signatureLine(transactionID: string, threadID: string, signedOver: Uint8Array): string {
  return `${SIGNATURE_MARKER} transactionID=${transactionID} threadID=${threadID} sha256=${sha256Hex(signedOver)}\n`;
}

/**
 * The signed copy of `base` by one signer. `base` is the original upload for the first signer of a
 * thread and the previous signer's copy after that, so the last copy of a thread carries every
 * signature, like incremental PDF signatures do.
 */
export function signedCopy(base: Uint8Array, transactionID: string, threadID: string): Uint8Array {
  const separator = base.length > 0 && base[base.length - 1] !== 0x0a ? '\n' : '';
  const line = Buffer.from(separator + signatureLine(transactionID, threadID, base), 'latin1');
  const out = new Uint8Array(base.length + line.length);
  out.set(base, 0);
  out.set(line, base.length);
  return out;
}
