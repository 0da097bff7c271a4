// All I/O signingWorkflow needs, built from real or fake dependencies by createActivities(deps).
// Activities take and return ids, codes and counts only: personal data is read from MongoDB here
// and never crosses into Temporal's history.
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { Db } from 'mongodb';
import type { EvrotrustClient } from '../src/evrotrust/client';
import { contentTypeFor } from '../src/evrotrust/client';
import type { SignatureType } from '../src/evrotrust/schemas';
import type { StatusName } from '../src/evrotrust/statuses';
import {
  assignGroupFiles,
  decryptDownload,
  decryptGroupDownload,
  DownloadTooLargeError,
  type DecryptedFile,
  type DownloadLimits,
} from '../src/evrotrust/decrypt';
import { SigningStore } from '../src/signings/store';
import { sha256Hex } from '../src/lib/hash';
import {
  signerStatusOf,
  workflowIdFor,
  type FailureCode,
  type OtpResult,
  type SigningMethod,
  type SigningStatus,
} from '../workflows/definitions';
import { evrotrustCall, toActivityFailure } from './failures';
import { signingFailure } from '../src/signings/failures';
import { isEvrotrustError, isNotYetVisible } from '../src/evrotrust/errors';
import { deliverWebhook, NotifyDeliveryError } from '../src/notify/deliver';
import { finalStateEvent, finalStateMessageId } from '../src/notify/event';
import { secretKey } from '../src/notify/signature';

export interface ActivityDeps {
  db: Db;
  evrotrust: EvrotrustClient;
  /** Decrypts the signed files Evrotrust sends back. */
  privateKeyPem: string;
  /** Base URL at which Evrotrust reaches our callback routes. */
  publicBaseUrl: string;
  /** Caps on the signed download (entries, inflated size, ratio); the byte cap on the wire is the client's. */
  downloadLimits?: Partial<DownloadLimits>;
  /**
   * Final-state notifications: the `whsec_…` secret they are signed with (NOTIFY_SECRET, or the
   * sandbox's), and the timeout of one attempt (default 10 s). Without a secret none is sent.
   */
  notify?: { secret: string; timeoutMs?: number };
}

function readinessReason(r: {
  isRegistered: boolean;
  isIdentified?: boolean;
  isRejected?: boolean;
  isReadyToSign: boolean;
}): string | null {
  if (!r.isRegistered) return 'not-registered';
  if (r.isRejected) return 'rejected-by-evrotrust';
  if (r.isIdentified === false) return 'not-identified';
  if (!r.isReadyToSign) return 'not-ready-to-sign';
  return null;
}

/** Heartbeats every 2 s while `run` is under way. */
async function withHeartbeat<T>(run: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), 2000);
  try {
    return await run();
  } finally {
    clearInterval(timer);
  }
}

/** Signings whose group-ness a worker remembers (a few hundred KiB at most). */
const GROUP_CACHE_SIZE = 10_000;

export function createActivities(deps: ActivityDeps) {
  const store = new SigningStore(deps.db);
  // Checked once, here: a bad secret is a configuration error, not a reason to fail every attempt.
  const notifyKey = deps.notify ? secretKey(deps.notify.secret) : undefined;
  const log = () => Context.current().log;
  /**
   * The repeatable Evrotrust calls (check, status, download, withdraw, resend) carry the activity's
   * cancellation: when the worker shuts down and its grace has passed (or the server cancels the
   * activity), the HTTP request in flight is aborted and the attempt fails with a retryable
   * `aborted` error, retried on another worker, instead of holding the stop until its own timeout.
   * The calls that cannot be repeated (the two sends, the OTP activation) are left to finish: an
   * abort would make their outcome unknown, which fails the signing for certain, whereas the upload
   * may still complete within SHUTDOWN_TIMEOUT; their own timeout and that bound still apply.
   */
  const call = () => ({ signal: Context.current().cancellationSignal });

  /**
   * Whether a signing is a group (asked with /document/group/status): fixed when it starts, so
   * remembered per worker, and a poll does not read the record again only to know. Bounded: the
   * oldest entries go first.
   */
  const groups = new Map<string, boolean>();
  async function isGroup(signingId: string): Promise<boolean> {
    const known = groups.get(signingId);
    if (known !== undefined) return known;
    const group = ((await store.get(signingId))?.documents?.length ?? 0) > 1;
    if (groups.size >= GROUP_CACHE_SIZE) groups.delete(groups.keys().next().value as string);
    groups.set(signingId, group);
    return group;
  }

  async function signing(signingId: string) {
    const doc = await store.get(signingId);
    if (!doc) throw ApplicationFailure.nonRetryable(`signing ${signingId} not found`, 'signing-not-found');
    return doc;
  }

  /** The signing, which must still be pending: a run that raced a repair (or the reconciler) stops here. */
  async function pendingSigning(signingId: string) {
    const doc = await signing(signingId);
    if (doc.status !== 'pending')
      throw ApplicationFailure.nonRetryable(`signing ${signingId} is already ${doc.status}`, 'signing-already-final');
    return doc;
  }

  /** Records a status Evrotrust gave (a settled one, with any reject reason), once per transaction and status. */
  const recordStatus = async (
    signingId: string,
    transactionId: string,
    r: { status: number; statusName: StatusName; isProcessing: boolean; rejectReason: string | null },
  ): Promise<void> => {
    if (r.statusName === 'unknown') log().warn('unknown Evrotrust status code', { signingId, transactionId, status: r.status });
    const settled = r.statusName !== 'signed' || !r.isProcessing;
    if (settled && r.statusName !== 'pending') {
      await store.recordSignerStatus(signingId, transactionId, signerStatusOf(r.statusName, r.isProcessing), r.rejectReason);
      await store.event(signingId, `status:${transactionId}:${r.status}`, 'status', { transactionId, status: r.statusName });
    }
  };

  const activities = {
    /** user/check/extended for every signer; records why anyone cannot sign. */
    async checkSigners(input: { signingId: string }): Promise<{ ready: boolean; notReady: { index: number; reason: string }[] }> {
      await pendingSigning(input.signingId);
      const people = await store.requirePeople(input.signingId);
      const readiness: { index: number; reason: string | null }[] = [];
      for (const [index, person] of people.entries()) {
        try {
          const r = await deps.evrotrust.checkUser(person, call());
          readiness.push({ index, reason: readinessReason(r) });
        } catch (err) {
          if (isEvrotrustError(err) && (err.code === 'user-not-found' || err.code === 'user-data-invalid')) {
            readiness.push({ index, reason: err.code });
          } else throw toActivityFailure(err);
        }
      }
      await store.recordReadiness(input.signingId, readiness);
      const notReady = readiness.filter((r): r is { index: number; reason: string } => r.reason !== null);
      return { ready: notReady.length === 0, notReady };
    },

    /**
     * Sends the document once. Everything the upload needs is read first and the send is claimed
     * right before it, so a store error before the upload leaves the send free to retry. The
     * transaction → signing mapping is stored before this returns when the store takes it
     * (`recorded`); otherwise the workflow records it with recordSent, from the ids it got here.
     * A retry after an attempt whose outcome is unknown fails for good instead of sending again.
     */
    async sendDocument(input: {
      signingId: string;
      method: SigningMethod;
      expiresAt: number;
    }): Promise<{ threadId: string | null; transactionIds: string[]; recorded: boolean }> {
      const doc = await pendingSigning(input.signingId);
      const workflowId = workflowIdFor(input.signingId);
      if (doc.signers.every((s) => s.transactionId)) {
        return { threadId: doc.threadId, transactionIds: doc.signers.map((s) => s.transactionId as string), recorded: true };
      }
      const people = await store.requirePeople(input.signingId);
      const content = await store.readSource(input.signingId, doc.document);
      // A group (several documents) goes to /document/group/online: every file, in order.
      const group = doc.documents && doc.documents.length > 1 ? doc.documents : undefined;
      if (group && input.method !== 'app')
        throw ApplicationFailure.nonRetryable('a group of documents is signed in the app only', 'invalid-request');
      const groupContents: Uint8Array[] = [];
      for (const [i, d] of (group ?? []).entries())
        groupContents.push(i === 0 ? content : await store.readGroupSource(input.signingId, i, d));
      const token = await store.issueCallbackToken(input.signingId);
      const urlCallback = `${deps.publicBaseUrl}/evrotrust/callback/t/${token}`;
      const document = { filename: doc.document.filename, content, description: doc.document.description ?? doc.document.filename };
      // The caller's choice overrides the type picked by file type; the algorithm stays the configured one.
      const signInfo = doc.signatureType ? { signInfo: { type: doc.signatureType as SignatureType } } : {};
      if (!(await store.claimSend(input.signingId))) {
        // An earlier attempt uploaded; if it got as far as recording Evrotrust's answer, use that.
        const before = await store.sentBefore(input.signingId, doc.signers.length);
        if (before) return { ...before, recorded: false };
        throw ApplicationFailure.nonRetryable('an earlier send attempt has an unknown outcome', 'send-outcome-unknown');
      }
      let threadId: string | null = null;
      let transactionIds: string[];
      try {
        if (input.method === 'otp') {
          const person = people[0];
          if (!person?.identificationNumber || !person.phone) {
            throw ApplicationFailure.nonRetryable('an OTP signer needs an identification number and a phone', 'invalid-signer');
          }
          const r = await deps.evrotrust.sendOffline({
            document,
            signer: {
              identificationNumber: person.identificationNumber,
              phone: person.phone,
              ...(person.email ? { email: person.email } : {}),
            },
            urlCallback,
            ...signInfo,
          });
          transactionIds = [r.transactionID];
        } else if (group) {
          const r = await deps.evrotrust.sendGroupOnline({
            documents: group.map((d, i) => ({
              filename: d.filename,
              content: groupContents[i] as Uint8Array,
              description: d.description ?? d.filename,
              optional: d.optional,
            })),
            groupDescription: doc.document.description ?? `${group.length} documents`,
            dateExpire: new Date(input.expiresAt),
            signers: people,
            urlCallback,
            ...signInfo,
          });
          threadId = r.threadID;
          transactionIds = r.transactions.map((t) => t.transactionID);
        } else {
          const r = await deps.evrotrust.sendOnline({
            document: { ...document, dateExpire: new Date(input.expiresAt) },
            signers: people,
            urlCallback,
            ...signInfo,
          });
          threadId = r.threadID;
          transactionIds = r.transactions.map((t) => t.transactionID);
        }
      } catch (err) {
        if (isEvrotrustError(err)) {
          if (err.outcomeUnknown) {
            log().warn('send outcome unknown; not retrying', {
              signingId: input.signingId,
              code: err.code,
              threadKnown: err.threadID !== undefined,
            });
            // The details carry threadID when Evrotrust named one, so the workflow can withdraw it.
            throw ApplicationFailure.nonRetryable(`send outcome unknown (${err.code})`, 'send-outcome-unknown', err.toJSON());
          }
          // Evrotrust certainly created nothing: a retry may send.
          await store.releaseSend(input.signingId);
          throw toActivityFailure(err);
        }
        if (err instanceof ApplicationFailure) {
          await store.releaseSend(input.signingId);
          throw err;
        }
        throw ApplicationFailure.nonRetryable(`send outcome unknown (${(err as Error).name})`, 'send-outcome-unknown');
      }
      // Evrotrust has the request now. If the store cannot take the ids, they still go back to the
      // workflow (its history keeps them), which records them with recordSent.
      let recorded = true;
      try {
        await store.recordSent(input.signingId, workflowId, threadId, transactionIds);
        await store.event(input.signingId, 'sent', 'sent', { threadId, transactionIds });
      } catch (err) {
        recorded = false;
        log().warn('document sent, but its ids could not be recorded yet', { signingId: input.signingId, error: (err as Error).name });
      }
      log().info('document sent', { signingId: input.signingId, threadId, transactions: transactionIds.length });
      return { threadId, transactionIds, recorded };
    },

    /** Records what Evrotrust answered to the send (when sendDocument could not). Idempotent. */
    async recordSent(input: { signingId: string; threadId: string | null; transactionIds: string[] }): Promise<void> {
      await signing(input.signingId);
      await store.recordSent(input.signingId, workflowIdFor(input.signingId), input.threadId, input.transactionIds);
      await store.event(input.signingId, 'sent', 'sent', { threadId: input.threadId, transactionIds: input.transactionIds });
    },

    /** Asks Evrotrust for a transaction's status and records it (with any reject reason) in MongoDB. */
    async confirmStatus(input: {
      signingId: string;
      transactionId: string;
    }): Promise<{ status: number; statusName: StatusName; isProcessing: boolean }> {
      let r;
      try {
        r = (await isGroup(input.signingId))
          ? await deps.evrotrust.groupStatus(input.transactionId, call())
          : await deps.evrotrust.status(input.transactionId, call());
      } catch (err) {
        // Evrotrust answers 443 for a while after a document was created (DigitalSofia treats it
        // as still signing): not yet known is still pending, and the deadline bounds the wait.
        if (isNotYetVisible(err)) return { status: 1, statusName: 'pending', isProcessing: false };
        throw toActivityFailure(err);
      }
      await recordStatus(input.signingId, input.transactionId, r);
      return { status: r.status, statusName: r.statusName, isProcessing: r.isProcessing };
    },

    /**
     * Asks Evrotrust the status of every transaction of the signing's thread in one call
     * (/document/thread/status) and records each as confirmStatus does. Answers the signing's own
     * transactions that Evrotrust listed; an empty list when the thread is not visible yet (443).
     */
    async confirmThread(input: {
      signingId: string;
      threadId: string;
    }): Promise<{ transactionId: string; status: number; statusName: StatusName; isProcessing: boolean }[]> {
      const doc = await signing(input.signingId);
      const ours = new Set(doc.signers.map((s) => s.transactionId).filter((t): t is string => t !== null));
      let r;
      try {
        r = await deps.evrotrust.threadStatus(input.threadId, call());
      } catch (err) {
        if (isNotYetVisible(err)) return [];
        throw toActivityFailure(err);
      }
      const out = [];
      for (const t of r.transactions) {
        if (!ours.has(t.transactionID)) continue;
        await recordStatus(input.signingId, t.transactionID, t);
        out.push({ transactionId: t.transactionID, status: t.status, statusName: t.statusName, isProcessing: t.isProcessing });
      }
      return out;
    },

    async withdrawThread(input: {
      signingId: string;
      threadId: string;
    }): Promise<'withdrawn' | 'not-withdrawn' | 'already-withdrawn' | 'not-found'> {
      let r;
      try {
        r = await deps.evrotrust.withdraw(input.threadId, call());
      } catch (err) {
        if (isEvrotrustError(err) && err.code === 'document-not-found') {
          await store.event(input.signingId, 'withdraw:not-found', 'withdraw', { result: 'not-found' });
          return 'not-found';
        }
        throw toActivityFailure(err);
      }
      await store.event(input.signingId, `withdraw:${r.status}`, 'withdraw', { result: r.status });
      return r.status;
    },

    /** Downloads, decrypts and stores one signer's signed file(s) in GridFS. */
    async storeSignedDocument(input: { signingId: string; transactionId: string }): Promise<{ files: number }> {
      /** A capped download: the same answer on every retry, so the signing fails at once, with the figures in its history. */
      const refuse = async (err: DownloadTooLargeError): Promise<never> => {
        log().warn('signed download refused: over a limit', {
          signingId: input.signingId,
          transactionId: input.transactionId,
          ...err.toJSON(),
        });
        await store.event(input.signingId, `download-refused:${input.transactionId}`, 'download-refused', {
          transactionId: input.transactionId,
          ...err.toJSON(),
        });
        throw ApplicationFailure.nonRetryable(err.message, 'download-too-large', err.toJSON());
      };
      const record = await signing(input.signingId);
      const groupDocs = record.documents && record.documents.length > 1 ? record.documents : undefined;
      let zip;
      try {
        zip = groupDocs
          ? await deps.evrotrust.groupDownload(input.transactionId, call())
          : await deps.evrotrust.download(input.transactionId, call());
      } catch (err) {
        if (err instanceof DownloadTooLargeError) return refuse(err);
        // Right after status 2, Evrotrust can still answer 443/438 for the download: not ready yet.
        if (isNotYetVisible(err)) {
          throw ApplicationFailure.create({
            type: 'download-not-ready',
            message: `the signed file is not ready yet (${err.code})`,
            nextRetryDelay: '2s',
          });
        }
        throw toActivityFailure(err);
      }
      let files: DecryptedFile[];
      let perDocument: (DecryptedFile | undefined)[] = [];
      try {
        if (groupDocs) {
          files = await decryptGroupDownload(zip, deps.privateKeyPem, { limits: deps.downloadLimits ?? {} });
          perDocument = assignGroupFiles(files, groupDocs);
        } else {
          files = await decryptDownload(zip, deps.privateKeyPem, { limits: deps.downloadLimits ?? {} });
        }
      } catch (err) {
        if (err instanceof DownloadTooLargeError) return refuse(err);
        throw ApplicationFailure.nonRetryable(`the signed download could not be decrypted: ${(err as Error).message}`, 'decrypt-failed');
      }
      const original = record.document.filename;
      const extension = (name: string) => /\.[^.]*$/.exec(name)?.[0]?.toLowerCase() ?? '';
      // Where each file goes and under which name: a group's by its document (assignGroupFiles; an
      // optional document left unsigned has none), else a single signed copy of the same type keeps
      // the caller's file name exactly (the multipart upload encodes characters such as `"` as %22,
      // so the name that comes back can differ).
      const placed = groupDocs
        ? perDocument.flatMap((f, i) => {
            if (!f) return [];
            const caller = groupDocs[i]?.filename ?? f.filename;
            return [
              { f, documentIndex: i as number | undefined, filename: extension(f.filename) === extension(caller) ? caller : f.filename },
            ];
          })
        : files.map((f) => ({
            f,
            documentIndex: undefined,
            filename: files.length === 1 && extension(f.filename) === extension(original) ? original : f.filename,
          }));
      for (const { f, documentIndex, filename } of placed) {
        await store.putSignedDocument(
          input.signingId,
          {
            transactionId: input.transactionId,
            filename,
            contentType: contentTypeFor(filename),
            sha256: sha256Hex(f.content),
            size: f.content.byteLength,
            ...(documentIndex !== undefined ? { documentIndex } : {}),
          },
          f.content,
        );
      }
      await store.event(input.signingId, `stored:${input.transactionId}`, 'signed-document-stored', {
        transactionId: input.transactionId,
        files: files.length,
      });
      return { files: files.length };
    },

    async activateOtp(input: { signingId: string; transactionId: string; code: string }): Promise<OtpResult> {
      try {
        await deps.evrotrust.activateOffline(input.transactionId, input.code);
        await store.event(input.signingId, `otp-accepted:${sha256Hex(input.code).slice(0, 8)}`, 'otp-accepted');
        return { accepted: true };
      } catch (err) {
        if (isEvrotrustError(err) && (err.code === 'wrong-activation-code' || err.code === 'activation-code-expired')) {
          return {
            accepted: false,
            code: err.code,
            message:
              err.code === 'wrong-activation-code'
                ? 'the code is wrong; check the SMS and try again'
                : 'the code has expired; ask for a new one (resend)',
          };
        }
        throw toActivityFailure(err);
      }
    },

    async resendOtp(input: { signingId: string; transactionId: string }): Promise<void> {
      const phone = (await store.requirePeople(input.signingId))[0]?.phone;
      if (!phone) throw ApplicationFailure.nonRetryable('the OTP signer has no phone number', 'invalid-signer');
      await evrotrustCall(() => deps.evrotrust.resendOfflineCode(input.transactionId, phone, call()));
    },

    /**
     * Whether the final signing has a notification to send: the workflow learns this boolean, never
     * the URL (it may carry a token). A URL without a secret to sign with is given up at once.
     */
    async notificationWanted(input: { signingId: string }): Promise<boolean> {
      const doc = await signing(input.signingId);
      if (!doc.notifyUrl || doc.status === 'pending') return false;
      if (!notifyKey) {
        log().warn('notification not sent: no NOTIFY_SECRET on this worker', { signingId: input.signingId });
        await store.event(input.signingId, 'notification-given-up', 'notification-given-up', { reason: 'no-secret', attempts: 0 });
        return false;
      }
      return true;
    },

    /**
     * One attempt to POST the final state (Standard Webhooks). Temporal retries it (the workflow's
     * `notify` options) until a 2xx or NOTIFY_GIVE_UP_AFTER; each attempt is counted on the record
     * for the give-up event. Failures name the status or cause, never the URL (they go into history).
     */
    async notifyFinalState(input: { signingId: string }): Promise<{ statusCode: number; attempts: number }> {
      const doc = await signing(input.signingId);
      if (!doc.notifyUrl || !notifyKey || doc.status === 'pending')
        throw ApplicationFailure.nonRetryable('the signing has no notification to send', 'notify-not-wanted');
      const attempts = Context.current().info.attempt;
      const body = JSON.stringify(finalStateEvent(doc));
      try {
        const { statusCode } = await deliverWebhook({
          url: doc.notifyUrl,
          key: notifyKey,
          msgId: finalStateMessageId(doc._id),
          body,
          signal: Context.current().cancellationSignal,
          ...(deps.notify?.timeoutMs !== undefined ? { timeoutMs: deps.notify.timeoutMs } : {}),
        });
        await store.recordNotifyAttempt(input.signingId, attempts, null);
        await store.event(input.signingId, 'notification-delivered', 'notification-delivered', { attempts, statusCode });
        log().info('notification delivered', { signingId: input.signingId, attempts, statusCode });
        return { statusCode, attempts };
      } catch (err) {
        if (!(err instanceof NotifyDeliveryError)) throw err;
        await store.recordNotifyAttempt(input.signingId, attempts, err.message).catch(() => undefined);
        log().warn('notification attempt failed; retrying', {
          signingId: input.signingId,
          attempts,
          reason: err.reason,
          statusCode: err.statusCode,
        });
        throw ApplicationFailure.create({
          type: `notify-${err.reason}`,
          message: err.message,
          details: [{ attempts, ...(err.statusCode !== undefined ? { statusCode: err.statusCode } : {}) }],
        });
      }
    },

    /** Records that the notification was given up (NOTIFY_GIVE_UP_AFTER passed, or it could not be sent). */
    async recordNotificationGivenUp(input: { signingId: string; reason: string }): Promise<void> {
      const doc = await signing(input.signingId);
      await store.event(input.signingId, 'notification-given-up', 'notification-given-up', {
        reason: input.reason,
        attempts: doc.notifyAttempts ?? 0,
        ...(doc.notifyLastError ? { lastError: doc.notifyLastError } : {}),
      });
      log().warn('notification given up', { signingId: input.signingId, reason: input.reason, attempts: doc.notifyAttempts ?? 0 });
    },

    /**
     * Moves the signing from pending to its final state, once, and revokes its callback token.
     * Answers the state the record ends in: another run (a repair) may have finalized it first.
     */
    async finalizeSigning(input: {
      signingId: string;
      status: Exclude<SigningStatus, 'pending'>;
      failure: FailureCode | null;
      detail?: string | null;
    }): Promise<{ status: Exclude<SigningStatus, 'pending'> }> {
      const doc = await store.get(input.signingId);
      if (!doc) return { status: input.status };
      const rejectReason = input.status === 'rejected' ? (doc.signers.find((s) => s.status === 'rejected')?.rejectReason ?? null) : null;
      const failure = input.failure ? signingFailure(input.failure, input.detail ?? null) : null;
      const after = await store.finalize(input.signingId, input.status, { rejectReason, failure }, doc);
      return { status: after && after.status !== 'pending' ? after.status : input.status };
    },
  };
  // The two long calls heartbeat: a worker that dies mid-upload or mid-download is noticed in
  // seconds (heartbeat timeout), not after the 3-minute start-to-close timeout.
  return {
    ...activities,
    sendDocument: (input: Parameters<typeof activities.sendDocument>[0]) => withHeartbeat(() => activities.sendDocument(input)),
    storeSignedDocument: (input: Parameters<typeof activities.storeSignedDocument>[0]) =>
      withHeartbeat(() => activities.storeSignedDocument(input)),
  };
}

export type Activities = ReturnType<typeof createActivities>;
