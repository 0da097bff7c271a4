// Per-signing capability tokens in `urlCallback` (README "Callbacks from Evrotrust"): random, tied to one
// signing, stored only as the SHA-256 hex of the token in `callback_tokens`. CallbackTokens is the one
// place that reads and writes that collection: the send activity issues a token (through SigningStore),
// finalizing a signing revokes its tokens, and the callback routes only look them up.
import { randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { sha256Hex } from '../lib/hash';
import { COLLECTIONS, type CallbackTokenDoc } from '../store/collections';

export const CALLBACK_TOKENS_COLLECTION = COLLECTIONS.callbackTokens;

/** What a token can look like (base64url, 16–128 characters); anything else is refused without a lookup. */
export const CALLBACK_TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/** The `_id` of a token in `callback_tokens`. */
export function hashCallbackToken(token: string): string {
  return sha256Hex(token);
}

/** What of a token may appear in logs: the first 8 hex digits of its hash. */
export function tokenLogId(token: string): string {
  return hashCallbackToken(token).slice(0, 8);
}

export class CallbackTokens {
  private readonly tokens: Collection<CallbackTokenDoc>;

  constructor(db: Db) {
    this.tokens = db.collection<CallbackTokenDoc>(COLLECTIONS.callbackTokens);
  }

  /** A new capability token for the signing's urlCallback; only its hash is stored. */
  async issue(signingId: string): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    await this.tokens.insertOne({ _id: hashCallbackToken(token), signingId, createdAt: new Date(), revokedAt: null });
    return token;
  }

  /** The stored token (revoked or not), or null if it was never issued. */
  find(token: string): Promise<CallbackTokenDoc | null> {
    return this.tokens.findOne({ _id: hashCallbackToken(token) });
  }

  /** Revokes one token: callbacks on its URL are refused from now on. */
  async revoke(token: string): Promise<void> {
    await this.tokens.updateOne({ _id: hashCallbackToken(token), revokedAt: null }, { $set: { revokedAt: new Date() } });
  }

  /** Revokes every token of a signing (it is final: no more callbacks on its capability URLs). */
  async revokeAllOf(signingId: string): Promise<void> {
    await this.tokens.updateMany({ signingId, revokedAt: null }, { $set: { revokedAt: new Date() } });
  }
}
