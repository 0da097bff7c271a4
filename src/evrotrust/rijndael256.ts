// Rijndael with a 256-bit block and a 256-bit key, CBC mode, no padding (callers zero-pad).
//
// Why this module exists: Evrotrust encrypts downloads with Rijndael-256 (32-byte block), which is
// not AES and which OpenSSL (hence node:crypto) does not implement. Everything goes through the
// small `BlockCipher256` interface so that a faster implementation can replace the current one
// without touching decrypt.ts / encrypt.ts.
//
// Implementation: `rijndael-js` 2.0.0 (MIT), wrapped. (`js-rijndael` is GPL-2.0: not usable here.)

import { createRequire } from 'node:module';

/** Rijndael-256-CBC without padding: `data.length` must be a multiple of 32. */
export interface BlockCipher256 {
  encryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  decryptCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
}

export const BLOCK_SIZE = 32;
export const KEY_SIZE = 32;

/** Thrown for a wrong key/IV length or a data length that is not a whole number of blocks. */
export class RijndaelInputError extends Error {
  override readonly name = 'RijndaelInputError';
}

function checkInputs(key: Uint8Array, iv: Uint8Array, data: Uint8Array): void {
  if (key.length !== KEY_SIZE) throw new RijndaelInputError(`key must be ${KEY_SIZE} bytes, got ${key.length}`);
  if (iv.length !== BLOCK_SIZE) throw new RijndaelInputError(`IV must be ${BLOCK_SIZE} bytes, got ${iv.length}`);
  if (data.length % BLOCK_SIZE !== 0) {
    throw new RijndaelInputError(`data length ${data.length} is not a multiple of ${BLOCK_SIZE}`);
  }
}

// rijndael-js ships no type declarations; describe the part we use.
interface RijndaelJsInstance {
  encrypt(plaintext: Uint8Array, blockSize: number, iv: Uint8Array): number[];
  decrypt(ciphertext: Uint8Array, blockSize: number, iv: Uint8Array): number[];
}
type RijndaelJsCtor = new (key: Uint8Array, mode: 'cbc' | 'ecb') => RijndaelJsInstance;

let rijndaelJsCtor: RijndaelJsCtor | undefined;
function loadRijndaelJs(): RijndaelJsCtor {
  // Loaded lazily so that a faster implementation does not pay for it.
  rijndaelJsCtor ??= createRequire(__filename)('rijndael-js') as RijndaelJsCtor;
  return rijndaelJsCtor;
}

/** The `rijndael-js` implementation (slow: about 0.5 MB/s; kept as the reference for tests). */
export const rijndaelJs: BlockCipher256 = {
  encryptCbc(key, iv, data) {
    checkInputs(key, iv, data);
    const Ctor = loadRijndaelJs();
    return Uint8Array.from(new Ctor(key, 'cbc').encrypt(data, 256, iv));
  },
  decryptCbc(key, iv, data) {
    checkInputs(key, iv, data);
    const Ctor = loadRijndaelJs();
    return Uint8Array.from(new Ctor(key, 'cbc').decrypt(data, 256, iv));
  },
};

/** The implementation used by encrypt.ts and decrypt.ts. */
export const rijndael256: BlockCipher256 = rijndaelJs;
