// The Evrotrust `Authorization` header (docs/evrotrust.md, "Authorization header"):
// lowercase hex HMAC-SHA256 whose key is the raw 32-byte SHA-256 of the API key. The message is the
// exact bytes sent (for multipart calls: the `data` string only), so callers must sign the very
// string or buffer they put on the wire, never a re-serialisation of it.

import { createHmac } from 'node:crypto';
import { sha256Digest } from '../lib/hash';

export function authorizationHeader(apiKey: string, body: string | Uint8Array): string {
  const key = sha256Digest(apiKey);
  const hmac = createHmac('sha256', key);
  // A string is signed as UTF-8, which is how fetch/undici send a string body.
  if (typeof body === 'string') hmac.update(body, 'utf8');
  else hmac.update(body);
  return hmac.digest('hex');
}
