// The Evrotrust client's public types (the client: client.ts; facts: docs/evrotrust.md).
import type { SignerIdentity } from '../lib/signer';
import type { SignatureType } from './schemas';
import type { StatusName } from './statuses';

/** Message-first, like Temporal's activity logger and `console`; pass either directly. */
export interface EvrotrustLogger {
  debug?(message: string, fields: Record<string, unknown>): void;
  info?(message: string, fields: Record<string, unknown>): void;
  warn?(message: string, fields: Record<string, unknown>): void;
}

export interface EvrotrustClientOptions {
  /** Vendor API base, e.g. `https://et.test.iteco.bg/vendor` (a trailing slash is fine). */
  baseUrl: string;
  vendorNumber: string;
  apiKey: string;
  /** The RSA public key (SPKI PEM) sent with each document; Evrotrust encrypts the signed file to it. */
  publicKeyPem: string;
  /** Timeout of calls without a file. Default 30 s. */
  timeoutMs?: number;
  /** Timeout of calls that carry a file (send online/offline, download). Default 120 s. */
  transferTimeoutMs?: number;
  /** Cap on a /document/download answer; a longer one throws DownloadTooLargeError. Default 64 MiB. */
  maxDownloadBytes?: number;
  logger?: EvrotrustLogger;
  /** What every send carries unless the call overrides it; defaults in DEFAULT_SIGNING_OPTIONS. */
  signing?: Partial<SigningOptions>;
}

/**
 * Signature defaults (docs/evrotrust.md "Signature type, coverage, certificate type").
 * The type is picked per file by `signInfoFor`: PDF → pdfType, XML → xmlType, anything else → otherType.
 */
export interface SigningOptions {
  /** `PDF2` (PAdES baseline + long term), as EPZEU sends; DigitalSofia sends `PDF1`. */
  pdfType: SignatureType;
  /** `XML1` (XAdES baseline), the Swagger's; DigitalSofia sends the undocumented `XML3`. */
  xmlType: SignatureType;
  /** `CAD1` ("sign any file type"), as DigitalSofia sends for other files. */
  otherType: SignatureType;
  /** `SHA256`, the only algorithm the Swagger names. */
  algorithm: string;
  /** Euro; 20000 as both production integrations send (0 would mean unlimited). */
  coverage: EvrotrustCoverage;
  /** `document.certificateType`: 1 = qualified signature (DigitalSofia); null = not sent. */
  certificateType: number | null;
}

export interface CallOptions {
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
  /** The caller's cancellation (e.g. Temporal's `Context.current().cancellationSignal`). */
  signal?: AbortSignal;
}

/**
 * A person at Evrotrust (src/lib/signer.ts): at least one of identificationNumber (ЕГН), phone,
 * email; `country` qualifies identificationNumber only. Requests name the person by exactly one of
 * them (`pickIdentifier`).
 */
export type EvrotrustSigner = SignerIdentity;

export interface UserCheckResult {
  isRegistered: boolean;
  /** Gate on this before sending a document. Derived when Evrotrust omits it (see `isReadyToSignDerived`). */
  isReadyToSign: boolean;
  /** True when the answer had no `isReadyToSign` and the client derived it: registered, identified, not rejected. */
  isReadyToSignDerived: boolean;
  isIdentified?: boolean;
  isRejected?: boolean;
  /** The reason as text; an integer code is kept in its string form (`0` → `"0"`). */
  rejectReason: string | null;
  /** The reason as an integer code when Evrotrust sent one (the help portal answers `0`), else null. */
  rejectReasonCode: number | null;
  isSupervised?: boolean;
  hasConfirmedPhone?: boolean;
  hasConfirmedEmail?: boolean;
}

/** Coverage amounts Evrotrust documents; other numbers are passed through (Evrotrust answers 454). */
export type EvrotrustCoverage = 0 | 500 | 20000 | 100000 | 250000;

export interface SignInfo {
  /** e.g. `PDF2`; see SIGNATURE_TYPES. */
  type: SignatureType;
  /** Default: the client's `signing.algorithm` (SHA256). */
  algorithm?: string;
}

export interface SendOnlineInput {
  document: {
    filename: string;
    content: Uint8Array;
    /** Shown to the signer; Evrotrust allows up to 4000 characters. */
    description: string;
    /** When Evrotrust expires the request (status 4): a Date, or Unix seconds. */
    dateExpire: Date | number;
    /** Default: the client's `signing.coverage` (20000). */
    coverage?: EvrotrustCoverage;
    /** PDF only: default 1 (the signer previews it in the app). Other files always go with 0. */
    preview?: boolean | 0 | 1;
  };
  /** One transaction per signer, returned in the same order. */
  signers: EvrotrustSigner[];
  /** Evrotrust POSTs to this URL plus `/document/ready`. */
  urlCallback: string;
  /** Overrides the type picked by `signInfoFor` (e.g. a per-signing PAdES level). */
  signInfo?: SignInfo;
}

export interface SendOnlineResult<S extends EvrotrustSigner = EvrotrustSigner> {
  threadID: string;
  transactions: Array<S & { transactionID: string }>;
}

/** `/document/group/online`: several documents, one signing; one transaction per signer for the whole group. */
export interface SendGroupOnlineInput {
  /** 2–20 documents, in the order the signer sees them (and the download returns them). */
  documents: Array<{
    filename: string;
    content: Uint8Array;
    /** Shown to the signer; up to 4000 characters. */
    description: string;
    /** The signer may leave it unsigned. The first document never is (Swagger). Default false. */
    optional?: boolean;
    /** PDF only: default 1. Other files always go with 0. */
    preview?: boolean | 0 | 1;
  }>;
  /** Shown to the signer for the whole group. */
  groupDescription: string;
  dateExpire: Date | number;
  coverage?: EvrotrustCoverage;
  signers: EvrotrustSigner[];
  /** Evrotrust POSTs to this URL plus `/document/group/ready`. */
  urlCallback: string;
  /** One signInfo for the whole group; default: by file type when all documents share one (PDF, XML), else `otherType`. */
  signInfo?: SignInfo;
}

export interface SendOfflineInput {
  document: {
    filename: string;
    content: Uint8Array;
    description: string;
    /** Default: the client's `signing.coverage` (20000). */
    coverage?: EvrotrustCoverage;
  };
  /**
   * OTP signing: Evrotrust texts the code to `phone`, which must match the Swagger's "+[0-9]" (e.g. +359888123456).
   * Its own shape, not EvrotrustSigner: the offline user needs identificationNumber and phone, and may carry a documentNumber.
   */
  signer: { identificationNumber: string; documentNumber?: string; phone: string; email?: string };
  /** Evrotrust POSTs to this URL plus `/document/offline/ready`. */
  urlCallback: string;
  /** Overrides the type picked by `signInfoFor`. */
  signInfo?: SignInfo;
}

export interface StatusResult {
  /** The raw code (1 pending … 99 on hold); unknown codes are passed through. */
  status: number;
  statusName: StatusName;
  isProcessing: boolean;
  /** Final per statuses.ts: 2 only once not processing, 3–8 always. */
  isFinal: boolean;
  rejectReason: string | null;
}

export type WithdrawStatus = 'withdrawn' | 'not-withdrawn' | 'already-withdrawn';
export interface WithdrawResult {
  status: WithdrawStatus;
  /** The raw code: 1, 2 or 3. */
  code: 1 | 2 | 3;
}

export interface EvrotrustClient {
  checkUser(user: EvrotrustSigner, options?: CallOptions): Promise<UserCheckResult>;
  sendOnline<S extends EvrotrustSigner>(input: SendOnlineInput & { signers: S[] }, options?: CallOptions): Promise<SendOnlineResult<S>>;
  sendOffline(input: SendOfflineInput, options?: CallOptions): Promise<{ transactionID: string }>;
  activateOffline(transactionID: string, activationCode: string, options?: CallOptions): Promise<void>;
  resendOfflineCode(transactionID: string, phone: string, options?: CallOptions): Promise<void>;
  status(transactionID: string, options?: CallOptions): Promise<StatusResult>;
  /** The ZIP as Evrotrust sends it; decrypt with `decryptDownload`. */
  download(transactionID: string, options?: CallOptions): Promise<Uint8Array>;
  withdraw(threadID: string, options?: CallOptions): Promise<WithdrawResult>;
  /** `/document/group/online`: answers like sendOnline (one transaction per signer, covering every document). */
  sendGroupOnline<S extends EvrotrustSigner>(
    input: SendGroupOnlineInput & { signers: S[] },
    options?: CallOptions,
  ): Promise<SendOnlineResult<S>>;
  /** `/document/group/status` for a group transaction (one signer's, covering every document). */
  groupStatus(transactionID: string, options?: CallOptions): Promise<StatusResult>;
  /** `/document/group/download`: the ZIP as Evrotrust sends it; decrypt with `decryptGroupDownload`. */
  groupDownload(transactionID: string, options?: CallOptions): Promise<Uint8Array>;
  /**
   * `/document/thread/status`: the status of every signer's transaction in the thread, in one call
   * (for a group, each signer's group transaction). Transactions Evrotrust does not list are absent.
   */
  threadStatus(threadID: string, options?: CallOptions): Promise<ThreadStatusResult>;
}

export interface ThreadStatusResult {
  transactions: (StatusResult & { transactionID: string })[];
}
