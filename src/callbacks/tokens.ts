// Per-signing capability tokens in `urlCallback` (README "Callbacks from Evrotrust"): random, tied to one
// signing, stored only as the SHA-256 hex of the token in `callback_tokens` (issued and revoked by
// SigningStore in src/signings/store.ts). The callback routes only check them.
import { createHash } from 'node:crypto';

export const CALLBACK_TOKENS_COLLECTION = 'callback_tokens';

/** What a token can look like (base64url, 16–128 characters); anything else is refused without a lookup. */
export const CALLBACK_TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/** The `_id` of a token in `callback_tokens`. */
export function hashCallbackToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** What of a token may appear in logs: the first 8 hex digits of its hash. */
export function tokenLogId(token: string): string {
  return hashCallbackToken(token).slice(0, 8);
}
