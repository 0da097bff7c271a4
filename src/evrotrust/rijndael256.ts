// Rijndael with a 256-bit block and a 256-bit key, CBC mode, no padding (callers zero-pad).
//
// Why this module exists: Evrotrust encrypts downloads with Rijndael-256 (32-byte block), which is
// not AES and which OpenSSL (hence node:crypto) does not implement. Everything goes through the
// small `BlockCipher256` interface so that a faster implementation (say, a native one) can replace
// `rijndael256` below without touching decrypt.ts / encrypt.ts.
//
// Why our own implementation: the only permissively licensed package, `rijndael-js` 2.0.0 (MIT),
// measured 0.95 MB/s encrypting and 0.24 MB/s decrypting here (byte arrays, key expansion per
// block), i.e. minutes for a 20 MB signed document; `js-rijndael` is GPL-2.0 and cannot ship in a
// commercial product; the npm package list holds nothing else maintained for a 256-bit block. So this
// file holds a classic T-table implementation (the Daemen–Rijmen reference design, generalised from
// AES's Nb=4 to Nb=8), 30 to 100 times faster here (25–70 MB/s; bench/decrypt.ts). Its correctness is pinned by the test
// suite: the published Rijndael-256/256 vector from Bouncy Castle's RijndaelTest, and randomized
// known-answer comparisons against `rijndael-js` in both directions (test/evrotrust/decrypt.test.ts).
// `rijndael-js` stays available as `rijndaelJs`, the reference.

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

// ---------------------------------------------------------------------------------------------
// T-table implementation. Nb = 8 columns, Nk = 8 key words, Nr = 14 rounds. State words are
// big-endian columns. For Nb = 8 ShiftRows shifts rows 1, 2, 3 by 1, 3, 4 columns (not 1, 2, 3).

const NB = 8;
const ROUNDS = 14;
const EXPANDED_WORDS = NB * (ROUNDS + 1); // 120

const SBOX = new Uint8Array(256);
const INV_SBOX = new Uint8Array(256);
const TE0 = new Int32Array(256);
const TE1 = new Int32Array(256);
const TE2 = new Int32Array(256);
const TE3 = new Int32Array(256);
const TD0 = new Int32Array(256);
const TD1 = new Int32Array(256);
const TD2 = new Int32Array(256);
const TD3 = new Int32Array(256);

// Built from GF(2^8) arithmetic rather than pasted constants, so no table can hide a typo.
(function buildTables(): void {
  const xtime = (a: number): number => ((a << 1) ^ (a & 0x80 ? 0x11b : 0)) & 0xff;
  const mul = (a: number, b: number): number => {
    let r = 0;
    while (b) {
      if (b & 1) r ^= a;
      a = xtime(a);
      b >>= 1;
    }
    return r;
  };
  // Multiplicative inverse by exponentiation: a^254 = a^-1 in GF(2^8) (and 0 maps to 0).
  const inverse = (a: number): number => {
    let r = 1;
    let base = a;
    let e = 254;
    while (e) {
      if (e & 1) r = mul(r, base);
      base = mul(base, base);
      e >>= 1;
    }
    return a === 0 ? 0 : r;
  };
  const rotl8 = (x: number, n: number): number => ((x << n) | (x >> (8 - n))) & 0xff;
  for (let x = 0; x < 256; x++) {
    const inv = inverse(x);
    const s = inv ^ rotl8(inv, 1) ^ rotl8(inv, 2) ^ rotl8(inv, 3) ^ rotl8(inv, 4) ^ 0x63;
    SBOX[x] = s;
    INV_SBOX[s] = x;
  }
  const rotr = (w: number, n: number): number => ((w >>> n) | (w << (32 - n))) >>> 0;
  for (let x = 0; x < 256; x++) {
    const s = SBOX[x] ?? 0;
    const te = ((mul(s, 2) << 24) | (s << 16) | (s << 8) | mul(s, 3)) >>> 0;
    TE0[x] = te;
    TE1[x] = rotr(te, 8);
    TE2[x] = rotr(te, 16);
    TE3[x] = rotr(te, 24);
    const si = INV_SBOX[x] ?? 0;
    const td = ((mul(si, 14) << 24) | (mul(si, 9) << 16) | (mul(si, 13) << 8) | mul(si, 11)) >>> 0;
    TD0[x] = td;
    TD1[x] = rotr(td, 8);
    TD2[x] = rotr(td, 16);
    TD3[x] = rotr(td, 24);
  }
})();

function subWord(w: number): number {
  return (
    (((SBOX[w >>> 24] ?? 0) << 24) |
      ((SBOX[(w >>> 16) & 0xff] ?? 0) << 16) |
      ((SBOX[(w >>> 8) & 0xff] ?? 0) << 8) |
      (SBOX[w & 0xff] ?? 0)) >>>
    0
  );
}

function readWord(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
}

/** Encryption round keys (120 words). */
function expandKey(key: Uint8Array): Int32Array {
  const w = new Int32Array(EXPANDED_WORDS);
  for (let i = 0; i < 8; i++) w[i] = readWord(key, 4 * i);
  let rcon = 1;
  for (let i = 8; i < EXPANDED_WORDS; i++) {
    let t = w[i - 1] ?? 0;
    if (i % 8 === 0) {
      t = (subWord(((t << 8) | (t >>> 24)) >>> 0) ^ (rcon << 24)) >>> 0;
      rcon = ((rcon << 1) ^ (rcon & 0x80 ? 0x11b : 0)) & 0xff;
    } else if (i % 8 === 4) {
      t = subWord(t);
    }
    w[i] = ((w[i - 8] ?? 0) ^ t) >>> 0;
  }
  return w;
}

/** Decryption round keys for the equivalent inverse cipher: rounds reversed, InvMixColumns on the middle ones. */
function expandDecryptKey(key: Uint8Array): Int32Array {
  const ek = expandKey(key);
  const dk = new Int32Array(EXPANDED_WORDS);
  for (let r = 0; r <= ROUNDS; r++) {
    for (let c = 0; c < NB; c++) {
      const w = ek[(ROUNDS - r) * NB + c] ?? 0;
      dk[r * NB + c] =
        r === 0 || r === ROUNDS
          ? w
          : ((TD0[SBOX[w >>> 24] ?? 0] ?? 0) ^
              (TD1[SBOX[(w >>> 16) & 0xff] ?? 0] ?? 0) ^
              (TD2[SBOX[(w >>> 8) & 0xff] ?? 0] ?? 0) ^
              (TD3[SBOX[w & 0xff] ?? 0] ?? 0)) >>>
            0;
    }
  }
  return dk;
}

// The hot loops below index typed arrays with values that are always in range (bytes, or offsets
// bounded by the length checks). `noUncheckedIndexedAccess` types those reads as `number |
// undefined`; a `!` assertion costs nothing at run time, unlike `?? 0` in a 14-round inner loop.
/** Big-endian word at `o` as an int32 (int32 keeps V8 on its small-integer fast path); callers guarantee `o + 3 < b.length`. */
function rd(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

function writeWord(b: Uint8Array, o: number, w: number): void {
  b[o] = w >>> 24;
  b[o + 1] = w >>> 16;
  b[o + 2] = w >>> 8;
  b[o + 3] = w;
}

/** One output column of the last round: S-box on the four (shifted) rows, then XOR `k`. */
function finalWord(S: Uint8Array, a: number, b: number, c: number, d: number, k: number): number {
  return (((S[a >>> 24]! << 24) | (S[(b >>> 16) & 255]! << 16) | (S[(c >>> 8) & 255]! << 8) | S[d & 255]!) ^ k) | 0;
}

function encryptCbcFast(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkInputs(key, iv, data);
  const rk = expandKey(key);
  const out = new Uint8Array(data.length);
  const T0 = TE0,
    T1 = TE1,
    T2 = TE2,
    T3 = TE3,
    S = SBOX;
  let c0 = rd(iv, 0),
    c1 = rd(iv, 4),
    c2 = rd(iv, 8),
    c3 = rd(iv, 12);
  let c4 = rd(iv, 16),
    c5 = rd(iv, 20),
    c6 = rd(iv, 24),
    c7 = rd(iv, 28);
  for (let o = 0; o < data.length; o += 32) {
    // CBC: XOR with the previous ciphertext block, then the initial round key.
    let s0 = rd(data, o) ^ c0 ^ rk[0]!;
    let s1 = rd(data, o + 4) ^ c1 ^ rk[1]!;
    let s2 = rd(data, o + 8) ^ c2 ^ rk[2]!;
    let s3 = rd(data, o + 12) ^ c3 ^ rk[3]!;
    let s4 = rd(data, o + 16) ^ c4 ^ rk[4]!;
    let s5 = rd(data, o + 20) ^ c5 ^ rk[5]!;
    let s6 = rd(data, o + 24) ^ c6 ^ rk[6]!;
    let s7 = rd(data, o + 28) ^ c7 ^ rk[7]!;
    let k = 8;
    for (let round = 1; round < ROUNDS; round++) {
      // Row shifts 0, 1, 3, 4: output column j takes rows from columns j, j+1, j+3, j+4.
      const t0 = T0[s0 >>> 24]! ^ T1[(s1 >>> 16) & 255]! ^ T2[(s3 >>> 8) & 255]! ^ T3[s4 & 255]! ^ rk[k]!;
      const t1 = T0[s1 >>> 24]! ^ T1[(s2 >>> 16) & 255]! ^ T2[(s4 >>> 8) & 255]! ^ T3[s5 & 255]! ^ rk[k + 1]!;
      const t2 = T0[s2 >>> 24]! ^ T1[(s3 >>> 16) & 255]! ^ T2[(s5 >>> 8) & 255]! ^ T3[s6 & 255]! ^ rk[k + 2]!;
      const t3 = T0[s3 >>> 24]! ^ T1[(s4 >>> 16) & 255]! ^ T2[(s6 >>> 8) & 255]! ^ T3[s7 & 255]! ^ rk[k + 3]!;
      const t4 = T0[s4 >>> 24]! ^ T1[(s5 >>> 16) & 255]! ^ T2[(s7 >>> 8) & 255]! ^ T3[s0 & 255]! ^ rk[k + 4]!;
      const t5 = T0[s5 >>> 24]! ^ T1[(s6 >>> 16) & 255]! ^ T2[(s0 >>> 8) & 255]! ^ T3[s1 & 255]! ^ rk[k + 5]!;
      const t6 = T0[s6 >>> 24]! ^ T1[(s7 >>> 16) & 255]! ^ T2[(s1 >>> 8) & 255]! ^ T3[s2 & 255]! ^ rk[k + 6]!;
      const t7 = T0[s7 >>> 24]! ^ T1[(s0 >>> 16) & 255]! ^ T2[(s2 >>> 8) & 255]! ^ T3[s3 & 255]! ^ rk[k + 7]!;
      s0 = t0;
      s1 = t1;
      s2 = t2;
      s3 = t3;
      s4 = t4;
      s5 = t5;
      s6 = t6;
      s7 = t7;
      k += 8;
    }
    // Final round: SubBytes + ShiftRows + AddRoundKey, no MixColumns.
    c0 = finalWord(S, s0, s1, s3, s4, rk[k]!);
    c1 = finalWord(S, s1, s2, s4, s5, rk[k + 1]!);
    c2 = finalWord(S, s2, s3, s5, s6, rk[k + 2]!);
    c3 = finalWord(S, s3, s4, s6, s7, rk[k + 3]!);
    c4 = finalWord(S, s4, s5, s7, s0, rk[k + 4]!);
    c5 = finalWord(S, s5, s6, s0, s1, rk[k + 5]!);
    c6 = finalWord(S, s6, s7, s1, s2, rk[k + 6]!);
    c7 = finalWord(S, s7, s0, s2, s3, rk[k + 7]!);
    writeWord(out, o, c0);
    writeWord(out, o + 4, c1);
    writeWord(out, o + 8, c2);
    writeWord(out, o + 12, c3);
    writeWord(out, o + 16, c4);
    writeWord(out, o + 20, c5);
    writeWord(out, o + 24, c6);
    writeWord(out, o + 28, c7);
  }
  return out;
}

function decryptCbcFast(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkInputs(key, iv, data);
  const rk = expandDecryptKey(key);
  const out = new Uint8Array(data.length);
  const T0 = TD0,
    T1 = TD1,
    T2 = TD2,
    T3 = TD3,
    S = INV_SBOX;
  let p0 = rd(iv, 0),
    p1 = rd(iv, 4),
    p2 = rd(iv, 8),
    p3 = rd(iv, 12);
  let p4 = rd(iv, 16),
    p5 = rd(iv, 20),
    p6 = rd(iv, 24),
    p7 = rd(iv, 28);
  for (let o = 0; o < data.length; o += 32) {
    const c0 = rd(data, o),
      c1 = rd(data, o + 4),
      c2 = rd(data, o + 8),
      c3 = rd(data, o + 12);
    const c4 = rd(data, o + 16),
      c5 = rd(data, o + 20),
      c6 = rd(data, o + 24),
      c7 = rd(data, o + 28);
    let s0 = c0 ^ rk[0]!,
      s1 = c1 ^ rk[1]!,
      s2 = c2 ^ rk[2]!,
      s3 = c3 ^ rk[3]!;
    let s4 = c4 ^ rk[4]!,
      s5 = c5 ^ rk[5]!,
      s6 = c6 ^ rk[6]!,
      s7 = c7 ^ rk[7]!;
    let k = 8;
    for (let round = 1; round < ROUNDS; round++) {
      // Inverse row shifts: output column j takes rows from columns j, j-1, j-3, j-4 (mod 8).
      const t0 = T0[s0 >>> 24]! ^ T1[(s7 >>> 16) & 255]! ^ T2[(s5 >>> 8) & 255]! ^ T3[s4 & 255]! ^ rk[k]!;
      const t1 = T0[s1 >>> 24]! ^ T1[(s0 >>> 16) & 255]! ^ T2[(s6 >>> 8) & 255]! ^ T3[s5 & 255]! ^ rk[k + 1]!;
      const t2 = T0[s2 >>> 24]! ^ T1[(s1 >>> 16) & 255]! ^ T2[(s7 >>> 8) & 255]! ^ T3[s6 & 255]! ^ rk[k + 2]!;
      const t3 = T0[s3 >>> 24]! ^ T1[(s2 >>> 16) & 255]! ^ T2[(s0 >>> 8) & 255]! ^ T3[s7 & 255]! ^ rk[k + 3]!;
      const t4 = T0[s4 >>> 24]! ^ T1[(s3 >>> 16) & 255]! ^ T2[(s1 >>> 8) & 255]! ^ T3[s0 & 255]! ^ rk[k + 4]!;
      const t5 = T0[s5 >>> 24]! ^ T1[(s4 >>> 16) & 255]! ^ T2[(s2 >>> 8) & 255]! ^ T3[s1 & 255]! ^ rk[k + 5]!;
      const t6 = T0[s6 >>> 24]! ^ T1[(s5 >>> 16) & 255]! ^ T2[(s3 >>> 8) & 255]! ^ T3[s2 & 255]! ^ rk[k + 6]!;
      const t7 = T0[s7 >>> 24]! ^ T1[(s6 >>> 16) & 255]! ^ T2[(s4 >>> 8) & 255]! ^ T3[s3 & 255]! ^ rk[k + 7]!;
      s0 = t0;
      s1 = t1;
      s2 = t2;
      s3 = t3;
      s4 = t4;
      s5 = t5;
      s6 = t6;
      s7 = t7;
      k += 8;
    }
    // Final round (InvSubBytes + InvShiftRows + AddRoundKey), then CBC: XOR the previous ciphertext.
    writeWord(out, o, finalWord(S, s0, s7, s5, s4, rk[k]! ^ p0));
    writeWord(out, o + 4, finalWord(S, s1, s0, s6, s5, rk[k + 1]! ^ p1));
    writeWord(out, o + 8, finalWord(S, s2, s1, s7, s6, rk[k + 2]! ^ p2));
    writeWord(out, o + 12, finalWord(S, s3, s2, s0, s7, rk[k + 3]! ^ p3));
    writeWord(out, o + 16, finalWord(S, s4, s3, s1, s0, rk[k + 4]! ^ p4));
    writeWord(out, o + 20, finalWord(S, s5, s4, s2, s1, rk[k + 5]! ^ p5));
    writeWord(out, o + 24, finalWord(S, s6, s5, s3, s2, rk[k + 6]! ^ p6));
    writeWord(out, o + 28, finalWord(S, s7, s6, s4, s3, rk[k + 7]! ^ p7));
    p0 = c0;
    p1 = c1;
    p2 = c2;
    p3 = c3;
    p4 = c4;
    p5 = c5;
    p6 = c6;
    p7 = c7;
  }
  return out;
}

/** Our T-table implementation (see the top comment). */
export const rijndaelTTable: BlockCipher256 = {
  encryptCbc: encryptCbcFast,
  decryptCbc: decryptCbcFast,
};

// ---------------------------------------------------------------------------------------------
// rijndael-js ships no type declarations; describe the part we use.
interface RijndaelJsInstance {
  encrypt(plaintext: Uint8Array, blockSize: number, iv: Uint8Array): number[];
  decrypt(ciphertext: Uint8Array, blockSize: number, iv: Uint8Array): number[];
}
type RijndaelJsCtor = new (key: Uint8Array, mode: 'cbc' | 'ecb') => RijndaelJsInstance;

let rijndaelJsCtor: RijndaelJsCtor | undefined;
function loadRijndaelJs(): RijndaelJsCtor {
  // Loaded lazily: production code never needs it, only the tests that compare against it.
  rijndaelJsCtor ??= createRequire(__filename)('rijndael-js') as RijndaelJsCtor;
  return rijndaelJsCtor;
}

/** The `rijndael-js` implementation: slow (about 0.25–1 MB/s), kept as the independent reference. */
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

/** The implementation used by encrypt.ts and decrypt.ts. Swap here for a faster one. */
export const rijndael256: BlockCipher256 = rijndaelTTable;
