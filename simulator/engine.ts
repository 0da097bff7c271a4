// The simulated Evrotrust back office: signing requests, their transactions and statuses, the
// signer's actions, expiry, OTP codes, withdrawal, and the callbacks each final status triggers.
// HTTP lives in routes/; this module knows nothing about requests and answers.

import { hostileDownload, type HostileDownload } from './hostile-downloads';
import { createPublicKey, randomInt } from 'node:crypto';
import { EVROTRUST_STATUS } from '../src/evrotrust/statuses';
import { encryptDownload } from '../src/evrotrust/encrypt';
import { zipEntries } from '../src/evrotrust/zip';
import { CallbackDispatcher, type CallbackPayload } from './callback-sender';
import { ALLOWED_COVERAGES, OTP_PHONE_PATTERN, type SignatureType } from './defaults';
import { detectFileType, signedCopy, type FileKind } from './documents';
import { sha256Hex, sha512Hex } from '../src/lib/hash';
import { ControlError, VendorError } from './errors';
import type { ResolvedOptions } from './options';
import type { SignerIdentity } from '../src/lib/signer';
import { SimulatorState, type Thread, type Transaction, type TransactionKind } from './state';
import { UserDirectory, normalizeIdentifier, normalizePhone, validateIdentity, type UserFlags } from './users';

/** The uploaded file of a create call. */
export interface UploadedFile {
  filename: string;
  content: Uint8Array;
}

/** What a create call says about the document (online and offline share these fields). */
export interface DocumentRequest {
  publicKey: string;
  urlCallback: string;
  description: string;
  coverage: number;
  checksumDocument: string;
  signatureType: SignatureType;
}

export interface OnlineRequest extends DocumentRequest {
  dateExpire: number;
  users: SignerIdentity[];
}

export interface OfflineRequest extends DocumentRequest {
  user: SignerIdentity;
}

/** Swagger `/document/group/online`: 2–20 documents, one transaction per signer for the whole group. */
export interface GroupRequest {
  publicKey: string;
  /** Optional for groups (Swagger: "Optional parameter"); '' means no callbacks. */
  urlCallback: string;
  groupDescription: string;
  coverage: number;
  dateExpire: number;
  signatureType: SignatureType;
  documents: { description: string; optional: boolean; checksumDocument: string }[];
  users: SignerIdentity[];
}

/** Swagger ResultDocumentTransactionGroup: the thread and one entry per signer (no top-level transactionID). */
export interface GroupAnswer {
  threadID: string;
  transactions: OnlineAnswer['transactions'];
}

/** How a signer signs: a group signer may leave optional documents unsigned (1-based positions). */
export interface SignOptions {
  skipDocuments?: number[];
}

/** Swagger `/document/group/online`: "The count of documents must be between 2 and 20". */
export const GROUP_MIN_DOCUMENTS = 2;
export const GROUP_MAX_DOCUMENTS = 20;

export interface OnlineAnswer {
  threadID: string;
  transactionID: string;
  /** The wire shape, not SignerIdentity: every identifier is echoed, null when the request had none. */
  transactions: {
    transactionID: string;
    identificationNumber: string | null;
    country: string | null;
    email: string | null;
    phone: string | null;
  }[];
}

/** One signer's entry of `/document/thread/status`. */
export interface ThreadStatusEntry {
  groupTransactionID?: string;
  groupIsProcessing?: boolean;
  groupStatus?: number;
  rejectReason: string | null;
  documents: { transactionID: string; isProcessing: boolean; status: number }[];
}

export interface StatusAnswer {
  status: number;
  isProcessing: boolean;
  rejectReason: string | null;
}

type Flag = 0 | 1;

/**
 * The `/user/check/extended` answer as Evrotrust's help portal shows it: 0/1 integers and an integer
 * `rejectReason` (0 when there is none), `isReadyToSign` included. Unknown users are answered 200
 * with everything 0, not 438.
 */
export interface UserCheckAnswer {
  isRegistered: Flag;
  isIdentified: Flag;
  isRejected: Flag;
  rejectReason: number;
  isSupervised: Flag;
  isReadyToSign: Flag;
  hasConfirmedPhone: Flag;
  hasConfirmedEmail: Flag;
}

/** Statuses a test can set with `setStatus`: 5 failed, 7 undeliverable, 8 face recognition failed (final, with a callback), 99 on hold (not final). */
export const SETTABLE_STATUSES = [5, 7, 8, 99] as const;
export type SettableStatus = (typeof SETTABLE_STATUSES)[number];

/** Withdraw answers (Swagger /document/withdraw): 1 withdrawn, 2 not withdrawn (nothing pending), 3 already withdrawn. */
export type WithdrawAnswer = { status: 1 | 2 | 3 };

/** A transaction as tests and the signer page see it. */
export interface TransactionView {
  transactionID: string;
  threadID: string;
  status: number;
  isProcessing: boolean;
  rejectReason?: string;
  kind: TransactionKind;
  signer: SignerIdentity;
  urlCallback: string;
  /** Unix seconds (online). */
  dateExpire?: number;
  /** The current SMS activation code (offline, while pending). */
  otpCode?: string;
  /** ISO time the activation code expires. */
  otpExpiresAt?: string;
  description: string;
  filename: string;
  createdAt: string;
  updatedAt: string;
  signedDocument?: { filename: string; content: Uint8Array; sha256: string };
  /** Group transactions: every document, with this signer's signed copy once signed. */
  documents?: {
    index: number;
    filename: string;
    description: string;
    optional: boolean;
    signedDocument?: { filename: string; content: Uint8Array; sha256: string };
  }[];
}

const { pending, signed, rejected, expired, withdrawn, onHold } = EVROTRUST_STATUS;

/** Still open at Evrotrust: can be signed, rejected, expired or withdrawn. */
function isOpen(status: number): boolean {
  return status === pending || status === onHold;
}

const flag = (b: boolean): Flag => (b ? 1 : 0);

/** Longest single setTimeout Node allows; longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function callbackSuffix(kind: TransactionKind): string {
  if (kind === 'group') return '/document/group/ready';
  return kind === 'online' ? '/document/ready' : '/document/offline/ready';
}

/** The extension of a file name (for the `<tx>_OUT_SIGNED.<ext>` entry names), `bin` when it has none. */
function extensionOf(filename: string): string {
  return /\.([A-Za-z0-9]{1,10})$/.exec(filename)?.[1] ?? 'bin';
}

function newOtpCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

function definedOnly(signer: SignerIdentity): SignerIdentity {
  const out: SignerIdentity = {};
  if (signer.identificationNumber !== undefined) out.identificationNumber = signer.identificationNumber;
  if (signer.country !== undefined) out.country = signer.country;
  if (signer.phone !== undefined) out.phone = signer.phone;
  if (signer.email !== undefined) out.email = signer.email;
  return out;
}

export class SimulatorEngine {
  readonly state: SimulatorState;
  readonly users: UserDirectory;
  readonly callbacks: CallbackDispatcher;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;
  /** Hostile answers queued by the `nextDownload` control, served (once each) to the next downloads of signed documents. */
  private readonly hostileDownloads: { kind: HostileDownload; bytes?: number }[] = [];

  constructor(private readonly options: ResolvedOptions) {
    this.state = new SimulatorState(options.stateDir);
    this.users = new UserDirectory(this.state.users, () => {
      this.state.users = this.users.snapshot();
      this.state.save();
    });
    this.callbacks = new CallbackDispatcher({
      sourceAddress: options.callbackSourceAddress,
      timeoutMs: options.callbackTimeoutMs,
      attempts: options.callbackAttempts,
      retryDelayMs: options.callbackRetryDelayMs,
    });
  }

  /** Picks up where a previous run stopped: expiry timers, unfinished processing, undelivered callbacks. */
  resume(): void {
    for (const tx of this.state.transactions.values()) {
      if (isOpen(tx.status)) this.scheduleExpiry(tx);
      else if (tx.status === signed && (tx.processingUntil ?? 0) > Date.now()) this.scheduleProcessingEnd(tx);
      else if (tx.callbackDue) this.fireCallback(tx);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.callbacks.close();
  }

  // ---- vendor API --------------------------------------------------------------------------

  checkUser(identity: SignerIdentity): UserCheckAnswer {
    validateIdentity(identity);
    const flags: UserFlags = this.users.flagsFor(identity);
    if (!flags.isRegistered) {
      return {
        isRegistered: 0,
        isIdentified: 0,
        isRejected: 0,
        rejectReason: 0,
        isSupervised: 0,
        isReadyToSign: 0,
        hasConfirmedPhone: 0,
        hasConfirmedEmail: 0,
      };
    }
    return {
      isRegistered: 1,
      isIdentified: flag(flags.isIdentified),
      isRejected: flag(flags.isRejected),
      rejectReason: 0,
      isSupervised: flag(flags.isSupervised),
      isReadyToSign: flag(flags.isReadyToSign && flags.hasCertificate && !flags.isRejected),
      hasConfirmedPhone: flag(flags.hasConfirmedPhone),
      hasConfirmedEmail: flag(flags.hasConfirmedEmail),
    };
  }

  createOnline(request: OnlineRequest, file: UploadedFile): OnlineAnswer {
    this.validateDocument(request, file);
    if (request.dateExpire * 1000 <= Date.now()) throw new VendorError(400, 'Invalid data supplied: document.dateExpire is in the past');
    for (const user of request.users) this.users.assertCanSign(user);

    const thread = this.newThread('online', request, file, request.dateExpire);
    const transactions = this.newSignerTransactions(thread, request.users);
    const answer: OnlineAnswer = { threadID: thread.threadID, transactionID: transactions[0]?.transactionID ?? '', transactions };
    this.state.save();
    for (const id of thread.transactionIDs) this.scheduleExpiry(this.tx(id));
    return answer;
  }

  createOffline(request: OfflineRequest, file: UploadedFile): { transactionID: string } {
    this.validateDocument(request, file);
    if (request.user.phone === undefined || !OTP_PHONE_PATTERN.test(request.user.phone)) {
      throw new VendorError(449, 'User data is not valid: phone should match the pattern "+[0-9]"');
    }
    this.users.assertCanSign(request.user);
    const thread = this.newThread('offline', request, file, undefined);
    const tx = this.newTransaction(thread, request.user);
    tx.otp = { code: newOtpCode(), expiresAt: Date.now() + this.options.otpCodeTtlMs };
    this.state.save();
    return { transactionID: tx.transactionID };
  }

  /**
   * `/document/group/online`. Checked as the Swagger says: 2–20 documents, as many files as
   * `documents[]` entries (paired in order), the first document never optional, each file against
   * its own checksum and the signInfo type; then every signer, as for one document.
   */
  createGroup(request: GroupRequest, files: UploadedFile[]): GroupAnswer {
    const n = request.documents.length;
    if (n < GROUP_MIN_DOCUMENTS || n > GROUP_MAX_DOCUMENTS) {
      throw new VendorError(
        400,
        `Invalid data supplied: the count of documents must be between ${GROUP_MIN_DOCUMENTS} and ${GROUP_MAX_DOCUMENTS}`,
      );
    }
    if (files.length !== n) {
      throw new VendorError(400, `Invalid data supplied: ${files.length} files for ${n} documents[] entries`);
    }
    if (request.documents[0]?.optional) throw new VendorError(400, 'Invalid data supplied: the first document must always be optional=0');
    files.forEach((file, i) => {
      const doc = request.documents[i]!;
      this.validateDocument({ ...request, description: doc.description, checksumDocument: doc.checksumDocument }, file, `documents[${i}]`);
    });
    if (request.dateExpire * 1000 <= Date.now()) throw new VendorError(400, 'Invalid data supplied: dateExpire is in the past');
    for (const user of request.users) this.users.assertCanSign(user);

    const first = files[0]!;
    const thread = this.newThread(
      'group',
      { ...request, description: request.groupDescription, checksumDocument: request.documents[0]!.checksumDocument },
      first,
      request.dateExpire,
    );
    thread.documents = files.map((file, i) => ({
      filename: file.filename,
      description: request.documents[i]!.description,
      optional: request.documents[i]!.optional,
      fileSha256: sha256Hex(file.content),
      fileSize: file.content.length,
    }));
    files.forEach((file, i) => {
      if (i > 0) this.state.putOriginal(thread.threadID, file.content, i);
    });
    const answer: GroupAnswer = { threadID: thread.threadID, transactions: this.newSignerTransactions(thread, request.users) };
    this.state.save();
    for (const id of thread.transactionIDs) this.scheduleExpiry(this.tx(id));
    return answer;
  }

  /** `/document/group/status`: Swagger ResultDocumentGroupStatus; 443 "Document group not found" for anything but a group transaction. */
  groupStatus(transactionID: string): StatusAnswer {
    const tx = this.state.transactions.get(transactionID);
    if (!tx || tx.kind !== 'group') throw new VendorError(443, 'Document group not found');
    if (this.notVisibleYet(tx)) throw new VendorError(443, 'Document group not found');
    return { status: tx.status, isProcessing: this.isProcessing(tx), rejectReason: tx.rejectReason ?? null };
  }

  /**
   * `/document/group/download`: an outer ZIP with one entry per document, in document order, each
   * entry the encrypted ZIP a single-document download would be (`.enc`, `.enc.key`, `.enc.iv`,
   * `.enc.filename`), as DigitalSofia unpacks it. 443 until signed and processed.
   */
  async groupDownload(transactionID: string): Promise<Uint8Array> {
    const tx = this.state.transactions.get(transactionID);
    if (!tx || tx.kind !== 'group') throw new VendorError(443);
    if (tx.status !== signed || this.isProcessing(tx) || !tx.signedDocuments)
      throw new VendorError(443, 'Document not found: not signed yet');
    const thread = this.thread(tx.threadID);
    const pem = Buffer.from(thread.publicKey, 'base64').toString('utf8');
    const entries: [string, Uint8Array][] = [];
    for (const [i, doc] of (thread.documents ?? []).entries()) {
      // An optional document the signer left unsigned has no signed copy, so no entry.
      if (!tx.signedDocuments[i]) continue;
      const content = this.state.signedCopy(transactionID, i);
      if (!content) throw new VendorError(500, 'signed copy missing from the simulator state');
      const id = `${transactionID}_${i + 1}`;
      const inner = await encryptDownload(id, [{ filename: `${id}_OUT_SIGNED.${extensionOf(doc.filename)}`, content }], pem, {
        signedHashEntry: `${id}_OUT_SIGNED_HASH.xml`,
        originalFilename: doc.filename,
      });
      entries.push([`${id}.zip`, inner]);
    }
    // The inner archives are encrypted text already: storing them is what deflate would achieve.
    return zipEntries(entries, 0);
  }

  activate(transactionID: string, activationCode: string): void {
    const tx = this.pendingOffline(transactionID);
    const otp = tx.otp;
    if (!otp || otp.expiresAt <= Date.now()) throw new VendorError(448);
    if (otp.code !== activationCode.trim()) throw new VendorError(432);
    this.markSigned(tx);
  }

  resendCode(transactionID: string, phone: string): void {
    const tx = this.pendingOffline(transactionID);
    if (tx.signer.phone === undefined || normalizePhone(tx.signer.phone) !== normalizePhone(phone)) {
      throw new VendorError(449, "User data not valid: phone is not the signer's");
    }
    tx.otp = { code: newOtpCode(), expiresAt: Date.now() + this.options.otpCodeTtlMs };
    tx.updatedAt = Date.now();
    this.state.save();
  }

  /**
   * `/document/thread/status` (Swagger ResultDocumentThreadStatus): one entry per signer of the
   * thread with its document transactions' statuses; for a group also `groupTransactionID`,
   * `groupStatus` and `groupIsProcessing` ("returned only if group of documents has been sent"). A
   * group's per-document transaction ids are not documented anywhere: these are the simulator's own.
   * 443 for an unknown thread, and for a while after it was created (as /document/status).
   */
  threadStatus(threadID: string): { statuses: ThreadStatusEntry[] } {
    const thread = this.state.threads.get(threadID);
    if (!thread) throw new VendorError(443);
    const txs = thread.transactionIDs.map((id) => this.tx(id));
    if (txs.every((tx) => this.notVisibleYet(tx))) throw new VendorError(443);
    return {
      statuses: txs.map((tx): ThreadStatusEntry => {
        const isProcessing = this.isProcessing(tx);
        const rejectReason = tx.rejectReason ?? null;
        if (tx.kind !== 'group') return { rejectReason, documents: [{ transactionID: tx.transactionID, isProcessing, status: tx.status }] };
        return {
          groupTransactionID: tx.transactionID,
          groupIsProcessing: isProcessing,
          groupStatus: tx.status,
          rejectReason,
          documents: (thread.documents ?? []).map((_, i) => ({
            transactionID: `${tx.transactionID}_${i + 1}`,
            isProcessing,
            status: tx.status,
          })),
        };
      }),
    };
  }

  status(transactionID: string): StatusAnswer {
    const tx = this.state.transactions.get(transactionID);
    // A group's transactions are asked about with /document/group/status.
    if (!tx || tx.kind === 'group') throw new VendorError(443);
    if (this.notVisibleYet(tx)) throw new VendorError(443);
    return { status: tx.status, isProcessing: this.isProcessing(tx), rejectReason: tx.rejectReason ?? null };
  }

  /** The encrypted download ZIP; 443 for an unknown transaction and for one not signed or still processing. */
  async download(transactionID: string): Promise<Uint8Array> {
    const tx = this.state.transactions.get(transactionID);
    if (!tx || tx.kind === 'group') throw new VendorError(443);
    if (tx.status !== signed || this.isProcessing(tx) || !tx.signed) throw new VendorError(443, 'Document not found: not signed yet');
    const hostile = this.hostileDownloads.shift();
    if (hostile) return hostileDownload(hostile.kind, transactionID, hostile.bytes);
    const content = this.state.signedCopy(transactionID);
    if (!content) throw new VendorError(500, 'signed copy missing from the simulator state');
    const thread = this.thread(tx.threadID);
    const pem = Buffer.from(thread.publicKey, 'base64').toString('utf8');
    // Inner names as Evrotrust writes them: `<tx>_OUT_SIGNED.<ext>` and the `<tx>_OUT_SIGNED_HASH.xml` report.
    const ext = extensionOf(tx.signed.filename);
    return encryptDownload(transactionID, [{ filename: `${transactionID}_OUT_SIGNED.${ext}`, content }], pem, {
      signedHashEntry: `${transactionID}_OUT_SIGNED_HASH.xml`,
      originalFilename: tx.signed.filename,
    });
  }

  /** The next download of a signed document answers this hostile ZIP instead (simulator/hostile-downloads.ts). */
  queueHostileDownload(kind: HostileDownload, bytes?: number): void {
    this.hostileDownloads.push({ kind, ...(bytes !== undefined ? { bytes } : {}) });
  }

  withdraw(threadID: string): WithdrawAnswer {
    const thread = this.state.threads.get(threadID);
    if (!thread) throw new VendorError(443);
    const txs = thread.transactionIDs.map((id) => this.tx(id));
    const open = txs.filter((tx) => isOpen(tx.status));
    if (open.length === 0) return { status: txs.some((tx) => tx.status === withdrawn) ? 3 : 2 };
    for (const tx of open) {
      this.finish(tx, withdrawn, undefined);
      if (!this.options.withdrawCallbacks) tx.callbackDue = false;
    }
    this.state.save();
    if (this.options.withdrawCallbacks) for (const tx of open) this.fireCallback(tx);
    return { status: 1 };
  }

  // ---- signer / clock controls ---------------------------------------------------------------

  sign(transactionID: string, options: SignOptions = {}): TransactionView {
    const tx = this.controlPending(transactionID);
    const skip = options.skipDocuments ?? [];
    if (skip.length > 0) {
      const docs = this.thread(tx.threadID).documents;
      if (!docs) throw new ControlError('invalid', 'skipDocuments is for group transactions only');
      for (const n of skip) {
        if (!docs[n - 1]?.optional) throw new ControlError('invalid', `document ${n} is not an optional document of this group`);
      }
    }
    this.markSigned(tx, new Set(skip.map((n) => n - 1)));
    return this.view(transactionID);
  }

  reject(transactionID: string, reason: string): TransactionView {
    if (reason.trim() === '') throw new ControlError('invalid', 'a reject reason is required');
    const tx = this.controlPending(transactionID);
    this.finish(tx, rejected, reason);
    this.state.save();
    this.fireCallback(tx);
    return this.view(transactionID);
  }

  expire(transactionID: string): TransactionView {
    this.expireNow(this.controlPending(transactionID));
    return this.view(transactionID);
  }

  /**
   * Moves an open transaction to 5 (failed), 7 (undeliverable) or 8 (face recognition failed):
   * final, with a callback like other finals; or to 99 (on hold): still open, no callback, and it
   * can later be signed, rejected, expired or withdrawn.
   */
  setStatus(transactionID: string, status: number): TransactionView {
    if (!(SETTABLE_STATUSES as readonly number[]).includes(status)) {
      throw new ControlError('invalid', `status must be one of ${SETTABLE_STATUSES.join(', ')}`);
    }
    const tx = this.controlPending(transactionID);
    if (status === onHold) {
      if (tx.status === onHold) throw new ControlError('conflict', `transaction ${transactionID} is already on hold`);
      tx.status = onHold;
      tx.updatedAt = Date.now();
      this.state.save();
      return this.view(transactionID);
    }
    this.finish(tx, status, undefined);
    this.state.save();
    this.fireCallback(tx);
    return this.view(transactionID);
  }

  view(transactionID: string): TransactionView {
    const tx = this.state.transactions.get(transactionID);
    if (!tx) throw new ControlError('not_found', `unknown transaction ${transactionID}`);
    const thread = this.thread(tx.threadID);
    const view: TransactionView = {
      transactionID: tx.transactionID,
      threadID: tx.threadID,
      status: tx.status,
      isProcessing: this.isProcessing(tx),
      kind: tx.kind,
      signer: { ...tx.signer },
      urlCallback: thread.urlCallback,
      description: thread.description,
      filename: thread.filename,
      createdAt: new Date(tx.createdAt).toISOString(),
      updatedAt: new Date(tx.updatedAt).toISOString(),
    };
    if (tx.rejectReason !== undefined) view.rejectReason = tx.rejectReason;
    if (thread.dateExpire !== undefined) view.dateExpire = thread.dateExpire;
    if (tx.otp && isOpen(tx.status)) {
      view.otpCode = tx.otp.code;
      view.otpExpiresAt = new Date(tx.otp.expiresAt).toISOString();
    }
    const content = tx.signed ? this.state.signedCopy(tx.transactionID) : undefined;
    if (tx.signed && content) view.signedDocument = { filename: tx.signed.filename, content, sha256: tx.signed.sha256 };
    if (thread.documents) {
      view.documents = thread.documents.map((d, index) => {
        const signedRef = tx.signedDocuments?.[index];
        const signedContent = signedRef ? this.state.signedCopy(tx.transactionID, index) : undefined;
        return {
          index,
          filename: d.filename,
          description: d.description,
          optional: d.optional,
          ...(signedRef && signedContent
            ? { signedDocument: { filename: signedRef.filename, content: signedContent, sha256: signedRef.sha256 } }
            : {}),
        };
      });
    }
    return view;
  }

  /** Transactions, newest first; `signer` keeps those whose ЕГН, phone or e-mail is that identifier. */
  list(filter: { signer?: string } = {}): TransactionView[] {
    const wanted = filter.signer === undefined ? undefined : normalizeIdentifier(filter.signer);
    return [...this.state.transactions.values()]
      .filter((tx) => wanted === undefined || this.signerKeys(tx.signer).includes(wanted))
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((tx) => this.view(tx.transactionID));
  }

  /** Every identifier some transaction names its signer by (for the signer page's picker). */
  signers(): string[] {
    const keys = new Set<string>();
    for (const tx of this.state.transactions.values()) for (const key of this.signerKeys(tx.signer)) keys.add(key);
    return [...keys].sort();
  }

  // ---- internals ---------------------------------------------------------------------------

  private signerKeys(signer: SignerIdentity): string[] {
    return [signer.identificationNumber, signer.phone, signer.email].filter((v): v is string => v !== undefined).map(normalizeIdentifier);
  }

  /** `field` names the file in messages (a group's `documents[i]`). */
  private validateDocument(request: DocumentRequest, file: UploadedFile, field = 'document'): void {
    if (!ALLOWED_COVERAGES.includes(request.coverage)) throw new VendorError(454);
    let pem: string;
    try {
      pem = Buffer.from(request.publicKey, 'base64').toString('utf8');
      if (!pem.includes('-----BEGIN PUBLIC KEY-----')) throw new Error('not a PEM public key');
      const key = createPublicKey(pem);
      if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA key');
    } catch {
      throw new VendorError(400, 'Invalid data supplied: publicKey must be Base64 of an RSA public key PEM');
    }
    // '' only for a group sent without urlCallback (optional there): no callbacks then.
    if (request.urlCallback !== '') {
      let url: URL;
      try {
        url = new URL(request.urlCallback);
      } catch {
        throw new VendorError(400, 'Invalid data supplied: urlCallback');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new VendorError(400, 'Invalid data supplied: urlCallback');
    }
    const kind: FileKind | undefined = detectFileType(file.content);
    if (kind === undefined) throw new VendorError(457);
    // PDF types are PAdES, XML types XAdES: they cannot sign another kind of file; CAD signs any file.
    if (request.signatureType.startsWith('PDF') && kind !== 'pdf') {
      throw new VendorError(400, `Invalid data supplied: signInfo.type ${request.signatureType} needs a PDF file; use CAD1 or CAD2`);
    }
    if (request.signatureType.startsWith('XML') && kind !== 'xml') {
      throw new VendorError(400, `Invalid data supplied: signInfo.type ${request.signatureType} needs an XML file; use CAD1 or CAD2`);
    }
    if (sha512Hex(file.content) !== request.checksumDocument.toLowerCase()) {
      throw new VendorError(400, `Invalid data supplied: checksumDocument does not match the file of ${field}`);
    }
  }

  private newThread(kind: TransactionKind, request: DocumentRequest, file: UploadedFile, dateExpire: number | undefined): Thread {
    const thread: Thread = {
      threadID: this.state.newId(),
      kind,
      createdAt: Date.now(),
      publicKey: request.publicKey,
      urlCallback: request.urlCallback,
      description: request.description,
      coverage: request.coverage,
      filename: file.filename,
      fileSha256: sha256Hex(file.content),
      fileSize: file.content.length,
      transactionIDs: [],
    };
    if (dateExpire !== undefined) thread.dateExpire = dateExpire;
    this.state.putOriginal(thread.threadID, file.content);
    this.state.threads.set(thread.threadID, thread);
    return thread;
  }

  /** One transaction per signer, answered in the wire shape: every identifier echoed, null when absent. */
  private newSignerTransactions(thread: Thread, users: SignerIdentity[]): OnlineAnswer['transactions'] {
    return users.map((user) => ({
      transactionID: this.newTransaction(thread, user).transactionID,
      identificationNumber: user.identificationNumber ?? null,
      country: user.country ?? null,
      email: user.email ?? null,
      phone: user.phone ?? null,
    }));
  }

  private newTransaction(thread: Thread, signer: SignerIdentity): Transaction {
    const now = Date.now();
    const tx: Transaction = {
      transactionID: this.state.newId(),
      threadID: thread.threadID,
      kind: thread.kind,
      signer: definedOnly(signer),
      status: pending,
      createdAt: now,
      updatedAt: now,
      callbackDue: false,
    };
    this.state.transactions.set(tx.transactionID, tx);
    thread.transactionIDs.push(tx.transactionID);
    return tx;
  }

  private tx(transactionID: string): Transaction {
    const tx = this.state.transactions.get(transactionID);
    if (!tx) throw new Error(`simulator state lost transaction ${transactionID}`);
    return tx;
  }

  private thread(threadID: string): Thread {
    const thread = this.state.threads.get(threadID);
    if (!thread) throw new Error(`simulator state lost thread ${threadID}`);
    return thread;
  }

  private pendingOffline(transactionID: string): Transaction {
    const tx = this.state.transactions.get(transactionID);
    if (!tx || tx.kind !== 'offline') throw new VendorError(443);
    if (!isOpen(tx.status)) throw new VendorError(400, 'Invalid data supplied: the transaction is not waiting for a code');
    return tx;
  }

  private controlPending(transactionID: string): Transaction {
    const tx = this.state.transactions.get(transactionID);
    if (!tx) throw new ControlError('not_found', `unknown transaction ${transactionID}`);
    if (!isOpen(tx.status))
      throw new ControlError('conflict', `transaction ${transactionID} is not pending or on hold (status ${tx.status})`);
    return tx;
  }

  /** Evrotrust answers 443 for a while after a create; a transaction that already changed state is visible. */
  private notVisibleYet(tx: Transaction): boolean {
    return tx.updatedAt === tx.createdAt && Date.now() - tx.createdAt < this.options.statusNotFoundMs;
  }

  private isProcessing(tx: Transaction): boolean {
    return tx.status === signed && (tx.processingUntil ?? 0) > Date.now();
  }

  /** Moves a pending transaction to a final status; the caller saves and sends the callback. */
  private finish(tx: Transaction, status: number, rejectReason: string | undefined): void {
    tx.status = status;
    if (rejectReason !== undefined) tx.rejectReason = rejectReason;
    delete tx.otp;
    tx.updatedAt = Date.now();
    tx.callbackDue = true;
    this.clearTimer(tx.transactionID);
  }

  private markSigned(tx: Transaction, skip: ReadonlySet<number> = new Set()): void {
    const thread = this.thread(tx.threadID);
    if (thread.documents) {
      this.markGroupSigned(tx, thread, thread.documents, skip);
      return;
    }
    // The next signer signs the latest signed copy, so the last copy carries every signature.
    const base =
      thread.latestSignedTransactionID !== undefined
        ? this.state.signedCopy(thread.latestSignedTransactionID)
        : this.state.original(thread.threadID);
    if (!base) throw new Error(`simulator state lost the document of thread ${thread.threadID}`);
    const copy = signedCopy(base, tx.transactionID, thread.threadID);
    this.state.putSigned(tx.transactionID, copy);
    this.finish(tx, signed, undefined);
    tx.signed = { filename: thread.filename, sha256: sha256Hex(copy), size: copy.length };
    tx.processingUntil = Date.now() + this.options.processingMs;
    thread.latestSignedTransactionID = tx.transactionID;
    this.state.save();
    this.scheduleProcessingEnd(tx);
  }

  /** A group signer signs every document of the group (each on top of the previous signer's copy of it). */
  private markGroupSigned(tx: Transaction, thread: Thread, documents: NonNullable<Thread['documents']>, skip: ReadonlySet<number>): void {
    tx.signedDocuments = documents.map((d, i) => {
      if (skip.has(i)) return null; // an optional document this signer left unsigned
      // On top of the latest copy of this document an earlier signer signed, else the original.
      const previous = [...thread.transactionIDs].reverse().find((id) => id !== tx.transactionID && this.tx(id).signedDocuments?.[i]);
      const base = previous !== undefined ? this.state.signedCopy(previous, i) : this.state.original(thread.threadID, i);
      if (!base) throw new Error(`simulator state lost document ${i + 1} of thread ${thread.threadID}`);
      const copy = signedCopy(base, tx.transactionID, thread.threadID);
      this.state.putSigned(tx.transactionID, copy, i);
      return { filename: d.filename, sha256: sha256Hex(copy), size: copy.length };
    });
    this.finish(tx, signed, undefined);
    tx.signed = tx.signedDocuments[0] ?? undefined;
    tx.processingUntil = Date.now() + this.options.processingMs;
    thread.latestSignedTransactionID = tx.transactionID;
    this.state.save();
    this.scheduleProcessingEnd(tx);
  }

  private expireNow(tx: Transaction): void {
    this.finish(tx, expired, undefined);
    this.state.save();
    this.fireCallback(tx);
  }

  /** The "document ready" callback goes once processing is over: only then can the vendor download. */
  private scheduleProcessingEnd(tx: Transaction): void {
    this.setTimer(tx.transactionID, (tx.processingUntil ?? 0) - Date.now(), () => this.fireCallback(tx));
  }

  private scheduleExpiry(tx: Transaction): void {
    const dateExpire = this.thread(tx.threadID).dateExpire;
    const lag = this.options.expiryDelayMs;
    if (dateExpire === undefined || lag === null) return;
    this.setTimer(tx.transactionID, dateExpire * 1000 + lag - Date.now(), () => {
      if (isOpen(tx.status)) this.expireNow(tx);
    });
  }

  private setTimer(key: string, delayMs: number, fire: () => void): void {
    this.clearTimer(key);
    if (this.closed) return;
    const wait = Math.max(0, delayMs);
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        if (wait > MAX_TIMER_MS) this.setTimer(key, delayMs - MAX_TIMER_MS, fire);
        else fire();
      },
      Math.min(wait, MAX_TIMER_MS),
    );
    timer.unref(); // the listening server keeps the process alive, not a far-off expiry
    this.timers.set(key, timer);
  }

  private clearTimer(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }

  private fireCallback(tx: Transaction): void {
    if (this.closed) return;
    const thread = this.thread(tx.threadID);
    if (thread.urlCallback === '') {
      // A group sent without urlCallback: nobody to tell.
      tx.callbackDue = false;
      return;
    }
    // Plain concatenation, as Evrotrust does: a urlCallback ending in '/' gives '//document/ready'.
    const url = thread.urlCallback + callbackSuffix(tx.kind);
    const payload: CallbackPayload = { transactionID: tx.transactionID, status: tx.status };
    if (tx.rejectReason !== undefined) payload.rejectReason = tx.rejectReason;
    this.callbacks.send(url, payload).then(
      (result) => {
        if (result === 'aborted') return; // closing: a restart with the same stateDir sends it again
        tx.callbackDue = false;
        this.state.save();
      },
      // Delivery itself never rejects; this is a bug (or a failed state write) worth seeing, not a crash.
      (err: unknown) => process.emitWarning(`simulator callback for ${tx.transactionID} failed: ${(err as Error).message}`),
    );
  }
}
