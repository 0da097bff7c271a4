// The container format of a `/document/download` answer, shared by encrypt.ts and decrypt.ts so
// that the simulator and the real decrypter can never drift apart (see shared/evrotrust-api.md).

import { createCipheriv, createDecipheriv } from 'node:crypto';
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
