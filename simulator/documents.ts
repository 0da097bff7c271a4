// What the simulator does to the files themselves: which uploads it accepts, and the "signed copy"
// it hands back. The signature is a stand-in, not a real PAdES/XAdES/CAdES signature: the original
// bytes plus one comment line naming the transaction (a PDF comment after %%EOF, an XML comment
// after the root element, the PDF-style line for any other file). The line is deterministic per
// transaction so tests can compare exactly.
import { sha256Hex } from '../src/lib/hash';

/**
 * Kinds of upload, by content. Evrotrust's list of accepted types is not published; the Swagger's
 * CAD types "sign any file type", so every non-empty file is accepted and only its kind matters
 * (a PDF signInfo type needs a PDF, an XML one an XML file).
 */
export const FILE_KINDS = ['pdf', 'xml', 'other'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');

const EXECUTABLE_MAGICS = [Buffer.from('MZ', 'latin1'), Buffer.from('\x7fELF', 'latin1')];

/**
 * The kind of an upload by its first bytes; undefined (457) for an empty file or a program
 * (Windows MZ, ELF): the simulator's stand-in for Evrotrust's unpublished list of refused types.
 */
export function detectFileType(content: Uint8Array): FileKind | undefined {
  if (content.length === 0) return undefined;
  if (EXECUTABLE_MAGICS.some((m) => content.length >= m.length && Buffer.from(content.subarray(0, m.length)).equals(m))) return undefined;
  if (content.length >= PDF_MAGIC.length && Buffer.from(content.subarray(0, PDF_MAGIC.length)).equals(PDF_MAGIC)) return 'pdf';
  // An XML declaration or a root element after an optional BOM and whitespace.
  const head = Buffer.from(content.subarray(0, 256))
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (/^<(\?xml[\s?]|[A-Za-z_][\w.:-]*[\s>/])/.test(head)) return 'xml';
  return 'other';
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
  const sigLine = signatureLine(transactionID, threadID, base);
  const text = detectFileType(base) === 'xml' ? `<!--${sigLine.trimEnd().slice(1)}-->\n` : sigLine;
  const line = Buffer.from(separator + text, 'latin1');
  const out = new Uint8Array(base.length + line.length);
  out.set(base, 0);
  out.set(line, base.length);
  return out;
}
