// The vendor's RSA-2048 key pair. Evrotrust registers nothing in advance: the public key travels
// with every request (`publicKey` = Base64 of the whole PEM text) and the private key decrypts the
// downloads. The private key lives in a PKCS#8 PEM file readable by its owner only.

import { createPrivateKey, createPublicKey, generateKeyPair as generateKeyPairCb, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPairCb);

export const RSA_MODULUS_BITS = 2048;

export interface KeyPair {
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  privateKeyPem: string;
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  publicKeyPem: string;
}

export type PrivateKeyErrorReason = 'missing' | 'unreadable' | 'unparseable' | 'not-rsa-2048' | 'unwritable';

/** A key file problem. The message names the file and the problem, never the key material. */
export class PrivateKeyError extends Error {
  override readonly name = 'PrivateKeyError';
  constructor(
    readonly reason: PrivateKeyErrorReason,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** Parses a private PEM and insists on RSA-2048; `path` names the source in error messages. */
function parseRsa2048(privateKeyPem: string, path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  } catch {
    // Deliberately not the OpenSSL message: it can quote parts of the input.
    throw new PrivateKeyError('unparseable', path, `private key file ${path} is not an unencrypted PEM private key`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType !== 'rsa' || bits !== RSA_MODULUS_BITS) {
    const found = key.asymmetricKeyType === 'rsa' ? `RSA-${bits ?? '?'}` : (key.asymmetricKeyType ?? 'unknown type');
    throw new PrivateKeyError(
      'not-rsa-2048',
      path,
      `private key file ${path} holds a ${found} key; Evrotrust needs RSA-${RSA_MODULUS_BITS}`,
    );
  }
  return key;
}

function toKeyPair(key: KeyObject): KeyPair {
  return {
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** The SPKI public PEM of a private PEM (PKCS#8 or PKCS#1). */
export function publicKeyPemFromPrivate(privateKeyPem: string): string {
  return toKeyPair(parseRsa2048(privateKeyPem, '(in memory)')).publicKeyPem;
}

/** The `publicKey` request parameter: Base64 of the whole PEM text, header and footer included. */
export function publicKeyParam(publicKeyPem: string): string {
  return Buffer.from(publicKeyPem, 'utf8').toString('base64');
}

export async function generateKeyPair(): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: RSA_MODULUS_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * Reads an RSA-2048 private key file. The returned private PEM is normalised to PKCS#8 (a PKCS#1
 * `RSA PRIVATE KEY` file is accepted too), and the public PEM is derived from it.
 */
export async function readPrivateKey(path: string): Promise<KeyPair> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new PrivateKeyError('missing', path, `private key file ${path} does not exist`);
    throw new PrivateKeyError('unreadable', path, `private key file ${path} cannot be read (${errnoCode(err) ?? 'I/O error'})`);
  }
  return toKeyPair(parseRsa2048(text, path));
}

/**
 * Reads the key file, or, when it does not exist, generates an RSA-2048 pair and writes the private
 * key there (directory created, file mode 0600). Used for the sandbox default in `.data/`.
 */
export async function loadOrCreatePrivateKey(path: string): Promise<KeyPair> {
  try {
    return await readPrivateKey(path);
  } catch (err) {
    if (!(err instanceof PrivateKeyError && err.reason === 'missing')) throw err;
  }
  const pair = await generateKeyPair();
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // 'wx': never overwrite a key that appeared meanwhile (two processes starting at once).
    await writeFile(path, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return readPrivateKey(path);
    throw new PrivateKeyError('unwritable', path, `private key file ${path} cannot be created (${errnoCode(err) ?? 'I/O error'})`);
  }
  return pair;
}
