// The shapes of the documents in each MongoDB collection (README "Collections").
// Personal data of signers (ЕГН, phone, e-mail) is kept only in `signings.signers[].person`,
// which the service needs to resend OTP codes; it never leaves the store in logs or to Temporal.
import type { FailureCode, SignerStatus, SigningStatus } from '../../workflows/definitions';

/**
 * The collection names, and which store module owns each: only that module opens the collection
 * (an ESLint rule, eslint.config.mjs, keeps everything else out). On FerretDB, where a conditional
 * update is not atomic, "one writer per document" is what keeps the updates correct.
 */
export const COLLECTIONS = {
  // SigningStore (src/signings/store.ts)
  signings: 'signings',
  signingPeople: 'signing_people',
  transactions: 'transactions',
  signingReferences: 'signing_references',
  sendAttempts: 'send_attempts',
  signingEvents: 'signing_events',
  // CallbackTokens (src/callbacks/tokens.ts)
  callbackTokens: 'callback_tokens',
  // CallbackInbox (src/callbacks/inbox.ts)
  callbacks: 'callbacks',
  callbackQueue: 'callback_queue',
} as const;

/** The GridFS buckets, owned by SigningStore: the documents to sign and the signed documents. */
export const BUCKETS = { sources: 'sources', documents: 'documents' } as const;
import type { SignerIdentity } from '../lib/signer';

export type SigningMethod = 'app' | 'otp';

/** The signer's identifiers as the caller gave them (src/lib/signer.ts). */
export type SignerPerson = SignerIdentity;

export interface SignerState {
  /** Evrotrust's transactionID for this signer; null until the document was sent. */
  transactionId: string | null;
  /** Evrotrust's status name of this signer's transaction: pending, signed, rejected, expired, … */
  status: SignerStatus;
  rejectReason?: string | null;
  /** Why user/check/extended said this signer cannot sign (null: ready; absent: not checked). */
  readiness?: string | null;
}

export interface SignedDocumentRef {
  /** GridFS id in bucket `documents`: `<signingId>:<transactionId>:<sha256 prefix>`. */
  fileId: string;
  transactionId: string;
  filename: string;
  contentType: string;
  sha256: string;
  size: number;
  /** Group signings: which document (0-based, in the order of `documents`) this is the signed copy of; absent for one document. */
  documentIndex?: number;
}

/** One document of a group signing (several documents, one Evrotrust group request). */
export interface SigningDocumentMeta {
  filename: string;
  description: string | null;
  /** The signer may leave it unsigned (Evrotrust's `optional`). */
  optional: boolean;
  sha256: string;
  size: number;
}

/** `signings`: one per signing; `_id` is the signing id. Only the workflow writes after creation. */
export interface SigningDoc {
  _id: string;
  status: SigningStatus;
  method: SigningMethod;
  reference: string | null;
  /** The document (with several: the first one, so every reader of one document keeps working). */
  document: { filename: string; description: string | null; sha256: string; size: number };
  /** Group signings only (2–20 documents, sent with /document/group/online); absent for one document. */
  documents?: SigningDocumentMeta[];
  signers: SignerState[];
  threadId: string | null;
  rejectReason: string | null;
  /** Why a signing failed, as a code to decide by (null: not failed, or an old record's code this version does not know). */
  failureCode: FailureCode | null;
  /** Why a signing failed, in words a caller can act on: "<code>: <text> (<Evrotrust's code>)". */
  failureReason: string | null;
  expiresAt: Date;
  createdAt: Date;
  finalizedAt: Date | null;
  signedDocuments: SignedDocumentRef[];
  workflowId: string;
  /** The Evrotrust signature type the caller chose (e.g. PDF2); absent: the configured default. */
  signatureType?: string;
  /**
   * Where the final state is POSTed (Standard Webhooks, src/notify/); absent: no notification. Kept
   * here only, never in the workflow's input or history: it may carry the receiver's token.
   */
  notifyUrl?: string;
  /** Delivery attempts of that notification so far, and why the last one failed (no URL in it). */
  notifyAttempts?: number;
  notifyLastError?: string;
  /** When the retention job deleted the signers' personal data (`signing_people`); absent: not yet. */
  personalDataErasedAt?: Date | null;
  /** When the retention job deleted the signed files (the refs stay, for their digest and size); absent: kept. */
  signedDocumentsDeletedAt?: Date | null;
}

/** `signing_people`: the personal data of a signing's signers, apart from everything that is read often. */
export interface SigningPeopleDoc {
  _id: string; // signing id
  signers: SignerPerson[];
}

/** `transactions`: transactionID → signing, written before the send activity returns. */
export interface TransactionDoc {
  _id: string; // Evrotrust transactionID
  signingId: string;
  workflowId: string;
  signerIndex: number;
  /** The thread the transaction belongs to (null for OTP), so a later attempt can recover a send. */
  threadId?: string | null;
  createdAt: Date;
}

/** `signing_references`: a `reference` / `Idempotency-Key`, claimed by the first request that used it. */
export interface ReferenceDoc {
  _id: string; // `reference:<ref>` or `idempotency-key:<key>`
  signingId: string;
  /** SHA-256 of the request it was first used with: the same key with another request is refused. */
  fingerprint?: string;
  createdAt: Date;
}

/** `send_attempts`: the one send of a signing, claimed right before the upload. */
export interface SendAttemptDoc {
  _id: string; // signing id
  startedAt: Date;
}

/** `callback_tokens`: hashes of the per-signing capability tokens in `urlCallback`. */
export interface CallbackTokenDoc {
  _id: string; // sha256 hex of the token
  signingId: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** `signing_events`: the event history of a signing; `_id` makes each event idempotent. */
export interface SigningEventDoc {
  _id: string;
  signingId: string;
  type: string;
  at: Date;
  data?: Record<string, unknown>;
}
