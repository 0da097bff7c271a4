// The digests this project computes, in one place: SHA-256 / SHA-512 of bytes or text (text as UTF-8),
// as lowercase hex (document digests, checksums, fingerprints, store keys) or as raw bytes (keys).
import { createHash } from 'node:crypto';

export type HashInput = string | Uint8Array;

/** SHA-256 as lowercase hex. */
export function sha256Hex(data: HashInput): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 as its raw 32 bytes. */
export function sha256Digest(data: HashInput): Buffer {
  return createHash('sha256').update(data).digest();
}

/** SHA-512 as lowercase hex (Evrotrust's `checksumDocument`). */
export function sha512Hex(data: HashInput): string {
  return createHash('sha512').update(data).digest('hex');
}
