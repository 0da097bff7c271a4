// Standard Webhooks signatures (https://www.standardwebhooks.com/, spec/standard-webhooks.md):
// `v1,<base64 HMAC-SHA256 of "<msg id>.<unix seconds>.<body>">`, keyed with the secret's bytes,
// the secret written `whsec_<base64>`. Node's crypto only; pure, so tests use it directly.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
/** The spec asks for at least 24 random bytes; 64 is the HMAC-SHA256 block size, beyond which keys are hashed first. */
export const SECRET_BYTES = { min: 24, max: 64 } as const;
export const SECRET_EXPECTED = `whsec_ followed by the Base64 of ${SECRET_BYTES.min}–${SECRET_BYTES.max} random bytes, e.g. whsec_$(openssl rand -base64 32)`;

export class NotifySecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotifySecretError';
  }
}

/** Why `text` is not a usable secret, or undefined when it is. Never quotes the secret. */
export function secretProblem(text: string): string | undefined {
  if (!text.startsWith(SECRET_PREFIX)) return `it must start with ${SECRET_PREFIX}`;
  const b64 = text.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0)
    return `after ${SECRET_PREFIX} comes standard Base64 (A–Z, a–z, 0–9, +, /, = padding)`;
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.byteLength < SECRET_BYTES.min || bytes.byteLength > SECRET_BYTES.max)
    return `it decodes to ${bytes.byteLength} bytes; ${SECRET_BYTES.min}–${SECRET_BYTES.max} are needed`;
  return undefined;
}

/** The HMAC key of a `whsec_…` secret; throws NotifySecretError saying what is wrong. */
export function secretKey(text: string): Buffer {
  const problem = secretProblem(text);
  if (problem) throw new NotifySecretError(`the webhook secret is not usable: ${problem}`);
  return Buffer.from(text.slice(SECRET_PREFIX.length), 'base64');
}

/** A fresh secret of 32 random bytes (the sandbox's, when NOTIFY_SECRET is not set). */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** `v1,<signature>` of one message. `msgId` and `timestamp` must not contain `.` (the spec's delimiter). */
export function sign(key: Uint8Array, msgId: string, timestampSeconds: number, body: string): string {
  if (msgId.includes('.')) throw new TypeError('a webhook id must not contain "."');
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0)
    throw new TypeError('the webhook timestamp must be whole unix seconds');
  const mac = createHmac('sha256', key).update(`${msgId}.${timestampSeconds}.${body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/** The three headers of one delivery attempt. */
export function webhookHeaders(key: Uint8Array, msgId: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': sign(key, msgId, timestampSeconds, body),
  };
}

/**
 * Whether one of the space-separated signatures in `signatureHeader` is ours for this message, compared in
 * constant time. The timestamp's tolerance (replays) is the receiver's check, done before this.
 */
export function verifySignature(key: Uint8Array, msgId: string, timestampSeconds: number, body: string, signatureHeader: string): boolean {
  const expected = Buffer.from(sign(key, msgId, timestampSeconds, body));
  return signatureHeader.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.byteLength === expected.byteLength && timingSafeEqual(given, expected);
  });
}
