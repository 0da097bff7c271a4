// The signing operations behind both the HTTP API and the TypeScript client: start, status,
// result, withdraw, OTP, signed document. Writes the signing's initial records, then hands it to
// its workflow; everything after that is the workflow's.
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { signingStatusKey } from '../../workflows/search-attributes';
import { describeBounds, parseDuration, withinBounds, type DurationBounds } from '../lib/duration';
import { SigningStore } from './store';
import { listSignings, type SigningPage } from './list';
import { sha256Hex } from '../lib/hash';
import type { SigningDoc } from '../store/collections';
import {
  FINAL_STATUSES,
  SIGNING_WORKFLOW_TYPE,
  resendOtpUpdate,
  submitOtpUpdate,
  withdrawSignal,
  workflowIdFor,
  type SignerStatus,
  type SigningStatus,
  type SigningWorkflowInput,
} from '../../workflows/definitions';
import {
  otpSchema,
  startSigningBytesSchema,
  startSigningSchema,
  EXPIRY_BOUNDS,
  type StartSigningBytesInput,
  type StartSigningBytesRequest,
} from './schemas';
import { formatZodIssues } from '../lib/zod-issues';
import {
  InvalidSigningRequestError,
  NotifyNotConfiguredError,
  OtpRejectedError,
  DocumentIndexError,
  SignedDocumentGoneError,
  SigningNotFoundError,
  SigningStateError,
} from './errors';
import type { Db } from 'mongodb';

export interface SigningServiceOptions {
  db: Db;
  temporal: Client;
  taskQueue: string;
  defaultExpiryMs: number;
  pollIntervalMs: number;
  /** Wait after expiry for Evrotrust's own verdict before we expire the signing ourselves (default 1 min). */
  expiryGraceMs?: number;
  /** How long starting a workflow may take before the start is given up (default 10 s). */
  startTimeoutMs?: number;
  /** How long a `reference` replay waits for the first request to create its signing (default 15 s). */
  referenceWaitMs?: number;
  processingRecheckMs?: number;
  /** History length past which a waiting signing continues as new (default 4000 events). */
  continueAsNewAfterEvents?: number;
  /** What `expiresIn` may be (default EXPIRY_BOUNDS, the documented API bounds; tests go shorter). */
  expiryBounds?: DurationBounds;
  /**
   * Final-state notifications (src/notify/): the default URL (NOTIFY_URL), whether the workers have a
   * NOTIFY_SECRET to sign with (without one a start with notifyUrl is refused), and how long
   * delivery is retried (NOTIFY_GIVE_UP_AFTER; the workflow's default is 3 days). Absent: none.
   */
  notify?: { defaultUrl?: string; secretConfigured: boolean; giveUpAfterMs?: number };
}

export interface SigningResponse {
  id: string;
  status: SigningStatus;
  method: 'app' | 'otp';
  reference?: string;
  signatureType?: string;
  signers: { transactionId: string | null; status: SignerStatus; rejectReason?: string; readiness?: string }[];
  threadId?: string;
  rejectReason?: string;
  failureReason?: string;
  createdAt: string;
  expiresAt: string;
  finalizedAt?: string;
  signedDocument?: { filename: string; sha256: string; size: number; deletedAt?: string };
  /** When the signers' personal data was deleted (PERSONAL_DATA_RETENTION). */
  personalDataErasedAt?: string;
  signedDocuments?: { transactionId: string; filename: string; sha256: string; size: number }[];
  /** Group signings only: every document, 1-based `index` (GET …/signed-documents/:index), with its signed copy once stored. */
  documents?: {
    index: number;
    filename: string;
    description?: string;
    optional: boolean;
    sha256: string;
    size: number;
    signedDocument?: { filename: string; sha256: string; size: number; deletedAt?: string };
  }[];
}

/** The files of a start request, in order: the one `document`, or the group's `documents`. */
export function requestFiles(
  input: StartSigningBytesInput,
): { filename: string; content: Uint8Array; description?: string; optional?: boolean }[] {
  if (input.documents) return input.documents;
  if (input.document) return [input.document];
  throw new InvalidSigningRequestError('give exactly one of document (one file) and documents (2 to 20 files)');
}

/** The signed copy of a group's document `index` (0-based) that carries every signature: the last one stored. */
export function signedCopyOf(doc: SigningDoc, index: number): SigningDoc['signedDocuments'][number] | undefined {
  return doc.signedDocuments.filter((d) => d.documentIndex === index).at(-1);
}

/** JSON with object keys sorted, so the same request always gives the same fingerprint. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/**
 * The fingerprint a `reference` is claimed with. It is computed as it always was, over the request
 * as the HTTP API takes it (the content in Base64), so keys claimed before the service took bytes
 * still match, and a request started over HTTP and repeated through the client is the same request.
 */
function fingerprintOf(input: StartSigningBytesInput): string {
  const base64 = <T extends { content: Uint8Array }>({ content, ...rest }: T) => ({
    ...rest,
    contentBase64: Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('base64'),
  });
  const { document, documents, ...rest } = input;
  return sha256Hex(
    canonicalJson({
      ...rest,
      ...(document ? { document: base64(document) } : {}),
      ...(documents ? { documents: documents.map(base64) } : {}),
    }),
  );
}

/**
 * The body of POST /v1/signings as SigningService.start takes it: validated, and the document's
 * Base64 decoded to its bytes. Throws InvalidSigningRequestError with what to fix.
 */
export function fromApiBody(body: unknown): StartSigningBytesRequest {
  const parsed = startSigningSchema.safeParse(body);
  if (!parsed.success) throw new InvalidSigningRequestError(formatZodIssues(parsed.error));
  const { document, documents, ...rest } = parsed.data;
  const decode = (d: { filename: string; contentBase64: string; description?: string | undefined }, field: string) => {
    const content = Buffer.from(d.contentBase64, 'base64');
    if (content.byteLength === 0) throw new InvalidSigningRequestError(`${field}.contentBase64 decodes to an empty file`);
    return { filename: d.filename, content, ...(d.description !== undefined ? { description: d.description } : {}) };
  };
  if (documents) {
    return {
      ...rest,
      documents: documents.map((d, i) => ({
        ...decode(d, `documents[${i}]`),
        ...(d.optional !== undefined ? { optional: d.optional } : {}),
      })),
    };
  }
  return { ...rest, ...(document ? { document: decode(document, 'document') } : {}) };
}

/** A group's documents as GET /v1/signings/:id shows them: 1-based, each with the signed copy that carries every signature. */
function groupDocuments(doc: SigningDoc): NonNullable<SigningResponse['documents']> {
  return (doc.documents ?? []).map((d, i) => {
    const signed = signedCopyOf(doc, i);
    return {
      index: i + 1,
      filename: d.filename,
      ...(d.description !== null ? { description: d.description } : {}),
      optional: d.optional,
      sha256: d.sha256,
      size: d.size,
      ...(signed
        ? {
            signedDocument: {
              filename: signed.filename,
              sha256: signed.sha256,
              size: signed.size,
              ...(doc.signedDocumentsDeletedAt ? { deletedAt: doc.signedDocumentsDeletedAt.toISOString() } : {}),
            },
          }
        : {}),
    };
  });
}

export function toResponse(doc: SigningDoc): SigningResponse {
  // A group's files are under `documents`; `signedDocument` stays the one-document field.
  const last = doc.documents ? undefined : doc.signedDocuments.at(-1);
  return {
    id: doc._id,
    status: doc.status,
    method: doc.method,
    ...(doc.reference ? { reference: doc.reference } : {}),
    ...(doc.signatureType ? { signatureType: doc.signatureType } : {}),
    signers: doc.signers.map((s) => ({
      transactionId: s.transactionId,
      status: s.status,
      ...(s.rejectReason ? { rejectReason: s.rejectReason } : {}),
      ...(s.readiness ? { readiness: s.readiness } : {}),
    })),
    ...(doc.threadId ? { threadId: doc.threadId } : {}),
    ...(doc.rejectReason ? { rejectReason: doc.rejectReason } : {}),
    ...(doc.failureReason ? { failureReason: doc.failureReason } : {}),
    createdAt: doc.createdAt.toISOString(),
    expiresAt: doc.expiresAt.toISOString(),
    ...(doc.finalizedAt ? { finalizedAt: doc.finalizedAt.toISOString() } : {}),
    ...(last
      ? {
          signedDocument: {
            filename: last.filename,
            sha256: last.sha256,
            size: last.size,
            ...(doc.signedDocumentsDeletedAt ? { deletedAt: doc.signedDocumentsDeletedAt.toISOString() } : {}),
          },
        }
      : {}),
    ...(doc.personalDataErasedAt ? { personalDataErasedAt: doc.personalDataErasedAt.toISOString() } : {}),
    ...(doc.documents ? { documents: groupDocuments(doc) } : {}),
    ...(!doc.documents && doc.signedDocuments.length > 1
      ? {
          signedDocuments: doc.signedDocuments.map((d) => ({
            transactionId: d.transactionId,
            filename: d.filename,
            sha256: d.sha256,
            size: d.size,
          })),
        }
      : {}),
  };
}

export class SigningService {
  readonly store: SigningStore;

  constructor(private readonly opts: SigningServiceOptions) {
    this.store = new SigningStore(opts.db);
  }

  /**
   * Starts a signing. With a `reference` (or an idempotency key) the same request twice returns the
   * same signing: the key is claimed by an insert with a unique _id before anything else happens,
   * together with a fingerprint of the request, so the same key with another request is refused
   * instead of mixing two requests into one signing. Every write after the claim is idempotent, so
   * a request that finds the key claimed but its signing missing (the first one died) can finish
   * the job. If the workflow cannot be started the caller is told to retry: a keyless signing's
   * records are removed again; a keyed one waits for that retry, or the reconciler ends it
   * `failed` (`not-started`), after which the key may start a new signing.
   */
  async start(
    request: StartSigningBytesRequest,
    idempotencyKey?: string,
    retriesLeft = 1,
  ): Promise<{ id: string; status: SigningStatus; created: boolean }> {
    // Checked here too: the client hands over what business code gave it, typed or not.
    const parsed = startSigningBytesSchema.safeParse(request);
    if (!parsed.success) throw new InvalidSigningRequestError(formatZodIssues(parsed.error));
    const input = parsed.data;
    if (input.notifyUrl !== undefined && !this.opts.notify?.secretConfigured) throw new NotifyNotConfiguredError();
    const notifyUrl = input.notifyUrl ?? this.opts.notify?.defaultUrl;
    const files = requestFiles(input);
    const first = files[0]!;
    const content = first.content;
    const expiryBounds = this.opts.expiryBounds ?? EXPIRY_BOUNDS;
    if (input.expiresIn !== undefined && !withinBounds(parseDuration(input.expiresIn) as number, expiryBounds))
      throw new InvalidSigningRequestError(`expiresIn must be a whole-unit duration ${describeBounds(expiryBounds)}, e.g. 3d`);

    let id: string = randomUUID();
    const key = input.reference ? `reference:${input.reference}` : idempotencyKey ? `idempotency-key:${idempotencyKey}` : undefined;
    const fingerprint = fingerprintOf(input);
    if (key) {
      if (!(await this.store.claimReference(key, id, fingerprint))) {
        const claimed = await this.store.reference(key);
        if (!claimed) throw new Error(`${key.split(':')[0]} was claimed and released at the same time; try again`);
        if (claimed.fingerprint !== undefined && claimed.fingerprint !== fingerprint) {
          throw new SigningStateError(
            `${input.reference ? 'reference' : 'Idempotency-Key'} was already used for a different request; use a new one for a new signing`,
            'reference-conflict',
          );
        }
        id = claimed.signingId;
        const existing = await this.waitForSigning(id);
        if (existing && existing.status === 'failed' && existing.failureCode === 'not-started' && retriesLeft > 0) {
          // Its start never reached Temporal and nothing was sent: the key may start a new signing.
          await this.store.releaseReference(key, id);
          return this.start(request, idempotencyKey, retriesLeft - 1);
        }
        if (existing) {
          await this.ensureWorkflow(existing); // the first request may have stopped before this step
          return { id, status: existing.status, created: false };
        }
        // The first request claimed the key but never created the signing: finish its job.
      }
    }

    const expiresInMs = input.expiresIn ? (parseDuration(input.expiresIn) as number) : this.opts.defaultExpiryMs;
    const now = new Date();
    const doc: SigningDoc = {
      _id: id,
      status: 'pending',
      method: input.method,
      reference: input.reference ?? null,
      document: {
        filename: first.filename,
        description: first.description ?? null,
        sha256: sha256Hex(content),
        size: content.byteLength,
      },
      ...(input.documents
        ? {
            documents: files.map((f) => ({
              filename: f.filename,
              description: f.description ?? null,
              optional: f.optional ?? false,
              sha256: sha256Hex(f.content),
              size: f.content.byteLength,
            })),
          }
        : {}),
      signers: input.signers.map(() => ({ transactionId: null, status: 'pending' })),
      threadId: null,
      rejectReason: null,
      failureCode: null,
      failureReason: null,
      expiresAt: new Date(now.getTime() + expiresInMs),
      createdAt: now,
      finalizedAt: null,
      signedDocuments: [],
      workflowId: workflowIdFor(id),
      ...(input.signatureType ? { signatureType: input.signatureType } : {}),
      // In the record only: the workflow learns from an activity whether there is one, never the URL.
      ...(notifyUrl ? { notifyUrl } : {}),
    };
    for (const [i, f] of files.entries()) await this.store.putSource(id, f.filename, f.content, i);
    await this.store.putPeople(id, input.signers);
    // False when a concurrent duplicate request got here first.
    const created = await this.store.create(doc);
    if (created) await this.store.event(id, 'created', 'created', { method: doc.method, signers: doc.signers.length });
    // The record just inserted is `doc`; only one a concurrent request inserted first is read.
    const stored = created ? doc : ((await this.store.get(id)) as SigningDoc);
    try {
      await this.ensureWorkflow(stored);
    } catch (err) {
      // The caller is told to retry. Without a key nobody else can know this signing, so its
      // records go. With a key, a replay may be continuing it right now (and answer 200), so it
      // stays: the retry with the key starts its workflow, or the reconciler ends it `not-started`.
      if (created && !key) await this.store.discardUnstarted(id).catch(() => undefined);
      throw err;
    }
    return { id, status: stored.status, created };
  }

  /** Waits for a signing another request is creating; undefined if it does not appear. */
  private async waitForSigning(id: string): Promise<SigningDoc | undefined> {
    const until = Date.now() + (this.opts.referenceWaitMs ?? 15_000);
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      const doc = await this.store.get(id);
      if (doc) return doc;
      if (Date.now() >= until) return undefined;
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** The workflow's input for a signing record: a run that resumes from what the store knows once it was sent. */
  workflowInput(doc: SigningDoc, extra: { withdrawRequested?: boolean } = {}): SigningWorkflowInput {
    const sent = doc.signers.length > 0 && doc.signers.every((s) => s.transactionId);
    return {
      signingId: doc._id,
      method: doc.method,
      signerCount: doc.signers.length,
      expiresAt: doc.expiresAt.getTime(),
      expiryGraceMs: this.opts.expiryGraceMs ?? 60_000,
      pollIntervalMs: this.opts.pollIntervalMs,
      processingRecheckMs: this.opts.processingRecheckMs ?? 2000,
      ...(this.opts.continueAsNewAfterEvents ? { continueAsNewAfterEvents: this.opts.continueAsNewAfterEvents } : {}),
      ...(this.opts.notify?.giveUpAfterMs ? { notifyGiveUpAfterMs: this.opts.notify.giveUpAfterMs } : {}),
      ...(sent
        ? {
            resume: {
              threadId: doc.threadId,
              signers: doc.signers.map((s) => ({ transactionId: s.transactionId, status: s.status })),
              withdrawRequested: extra.withdrawRequested ?? false,
            },
          }
        : {}),
    };
  }

  private startOptions(doc: SigningDoc) {
    return {
      taskQueue: this.opts.taskQueue,
      workflowId: doc.workflowId,
      // A pending signing whose run ended (terminated from the Web UI, a bug) gets a new run: the
      // record, not the run, says whether it is done. Never two runs at once.
      workflowIdConflictPolicy: 'USE_EXISTING' as const,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
      typedSearchAttributes: [{ key: signingStatusKey, value: 'pending' }],
      staticSummary: `Signing ${doc._id} · ${doc.method} · ${doc.signers.length} signer(s)`,
      staticDetails: `Signing id: ${doc._id}\nExpires: ${doc.expiresAt.toISOString()}`,
    };
  }

  /** Starts the signing's workflow unless a run is going; a pending signing whose run ended gets a new one. */
  async ensureWorkflow(doc: SigningDoc): Promise<void> {
    if (doc.status !== 'pending') return;
    // Bounded, so an unreachable Temporal answers the caller (503) within seconds, not minutes.
    await this.opts.temporal.withDeadline(Date.now() + (this.opts.startTimeoutMs ?? 10_000), () =>
      this.opts.temporal.workflow.start(SIGNING_WORKFLOW_TYPE, { ...this.startOptions(doc), args: [this.workflowInput(doc)] }),
    );
  }

  /** A page of signings, newest first, filtered (src/signings/list.ts validates `query` and the cursor). */
  list(query: unknown): Promise<SigningPage> {
    return listSignings(this.store, query);
  }

  async get(id: string): Promise<SigningResponse> {
    const doc = await this.store.get(id);
    if (!doc) throw new SigningNotFoundError(id);
    return toResponse(doc);
  }

  /**
   * Waits until the signing is final, then returns it. The record decides, not the run: a run that
   * was terminated or failed is repaired (here or by the reconciler) and this keeps waiting.
   */
  async result(id: string): Promise<SigningResponse> {
    for (let pause = 0; ; pause = Math.min(Math.max(pause * 2, 200), 5000)) {
      const doc = await this.store.get(id);
      if (!doc) throw new SigningNotFoundError(id);
      if (doc.status !== 'pending') {
        // finalize writes the record, then its final event: a caller that reads the history next
        // must find that event, so wait for it too (or for the run that writes it to be gone).
        if (!(await this.store.hasFinalEvent(id))) {
          await this.runEndOr(doc.workflowId, () => this.store.hasFinalEvent(id), 100).catch(() => undefined);
        }
        return toResponse(doc);
      }
      if (pause > 0) {
        // A run ended but the record is still pending: it was terminated or failed. Start a new run.
        if (Date.now() - doc.createdAt.getTime() > 5000) await this.ensureWorkflow(doc).catch(() => undefined);
        await new Promise((r) => setTimeout(r, pause));
      }
      await this.runEndOr(doc.workflowId, async () => (await this.store.get(id))?.status !== 'pending', 2000);
    }
  }

  /**
   * Waits until the signing's run ends or `done()` holds (checked every `everyMs`), whichever comes
   * first: after the final state a run may go on delivering its notification for days
   * (NOTIFY_GIVE_UP_AFTER), and the caller waits for the signing, not for its receiver.
   */
  private async runEndOr(workflowId: string, done: () => Promise<boolean>, everyMs: number): Promise<void> {
    const stop = new AbortController();
    const run = this.opts.temporal
      .withAbortSignal(stop.signal, () => this.opts.temporal.workflow.getHandle(workflowId).result())
      .then(
        () => undefined,
        (err: unknown) => {
          if (stop.signal.aborted || err instanceof WorkflowNotFoundError || err instanceof WorkflowFailedError) return;
          throw err;
        },
      );
    const final = (async () => {
      for (;;) {
        await new Promise((r) => setTimeout(r, everyMs));
        if (stop.signal.aborted) return;
        if (await done()) return;
      }
    })().catch(() => undefined); // a store error here is the next loop's to report
    try {
      await Promise.race([run, final]);
    } finally {
      stop.abort();
    }
  }

  /**
   * Asks the signing's workflow to withdraw it. With signal-with-start, a pending signing whose run
   * is gone (terminated, or never started) gets a new run that withdraws it, instead of an error.
   */
  async withdraw(id: string): Promise<SigningResponse> {
    const doc = await this.pending(id);
    await this.opts.temporal.workflow.signalWithStart(SIGNING_WORKFLOW_TYPE, {
      ...this.startOptions(doc),
      args: [this.workflowInput(doc, { withdrawRequested: true })],
      signal: withdrawSignal,
      signalArgs: [],
    });
    return toResponse(doc);
  }

  async submitOtp(id: string, body: unknown): Promise<void> {
    const parsed = otpSchema.safeParse(body);
    if (!parsed.success) throw new InvalidSigningRequestError(formatZodIssues(parsed.error));
    const doc = await this.pending(id);
    if (doc.method !== 'otp') throw new SigningStateError('this signing does not use OTP codes', 'not-otp');
    const result = await this.update(doc, () =>
      this.opts.temporal.workflow.getHandle(doc.workflowId).executeUpdate(submitOtpUpdate, { args: [parsed.data] }),
    );
    if (!result.accepted) throw new OtpRejectedError(result.code, result.message);
  }

  async resendOtp(id: string): Promise<void> {
    const doc = await this.pending(id);
    if (doc.method !== 'otp') throw new SigningStateError('this signing does not use OTP codes', 'not-otp');
    await this.update(doc, () => this.opts.temporal.workflow.getHandle(doc.workflowId).executeUpdate(resendOtpUpdate));
  }

  /** The signing's event history, oldest first: created, sent, confirmed statuses, withdrawals, the end. */
  async events(id: string): Promise<{ type: string; at: string; data?: Record<string, unknown> }[]> {
    if (!(await this.store.get(id))) throw new SigningNotFoundError(id);
    return (await this.store.history(id)).map((e) => ({ type: e.type, at: e.at.toISOString(), ...(e.data ? { data: e.data } : {}) }));
  }

  async signedDocument(id: string): Promise<{ filename: string; contentType: string; content: Uint8Array }> {
    const doc = await this.store.get(id);
    if (!doc) throw new SigningNotFoundError(id);
    if (doc.documents) {
      throw new SigningStateError(
        `the signing has ${doc.documents.length} documents: fetch each with GET /v1/signings/${doc._id}/signed-documents/<1 to ${doc.documents.length}>`,
        'several-documents',
      );
    }
    const last = doc.signedDocuments.at(-1);
    if (doc.status !== 'signed' || !last) throw new SigningStateError(`the signing is ${doc.status}, not signed`, 'not-signed');
    const gone = () =>
      new SignedDocumentGoneError(
        `the signed document was deleted${doc.signedDocumentsDeletedAt ? ` on ${doc.signedDocumentsDeletedAt.toISOString()}` : ''} under the retention policy (SIGNED_DOCUMENT_RETENTION); its sha256 and size remain in GET /v1/signings/${doc._id}`,
      );
    if (doc.signedDocumentsDeletedAt) throw gone();
    const content = await this.store.readSignedDocument(last);
    if (!content) throw gone();
    return { filename: last.filename, contentType: last.contentType, content };
  }

  /** Document `index` (1-based) of a signed group signing, as the last signer's copy (it carries every signature). */
  async signedGroupDocument(id: string, index: number): Promise<{ filename: string; contentType: string; content: Uint8Array }> {
    const doc = await this.store.get(id);
    if (!doc) throw new SigningNotFoundError(id);
    const count = doc.documents?.length ?? 1;
    if (!Number.isInteger(index) || index < 1 || index > count) {
      throw new DocumentIndexError(
        `document ${index} does not exist: the signing has ${count} document${count === 1 ? '' : 's'} (1 to ${count})`,
      );
    }
    if (!doc.documents) return this.signedDocument(id);
    if (doc.status !== 'signed') throw new SigningStateError(`the signing is ${doc.status}, not signed`, 'not-signed');
    const gone = () =>
      new SignedDocumentGoneError(
        `the signed document was deleted${doc.signedDocumentsDeletedAt ? ` on ${doc.signedDocumentsDeletedAt.toISOString()}` : ''} under the retention policy (SIGNED_DOCUMENT_RETENTION); its sha256 and size remain in GET /v1/signings/${doc._id}`,
      );
    if (doc.signedDocumentsDeletedAt) throw gone();
    const ref = signedCopyOf(doc, index - 1);
    if (!ref)
      throw new SigningStateError(`document ${index} has no signed copy: it is optional and no signer signed it`, 'document-not-signed');
    const content = await this.store.readSignedDocument(ref);
    if (!content) throw gone();
    return { filename: ref.filename, contentType: ref.contentType, content };
  }

  private async pending(id: string): Promise<SigningDoc> {
    const doc = await this.store.get(id);
    if (!doc) throw new SigningNotFoundError(id);
    if (FINAL_STATUSES.includes(doc.status)) throw new SigningStateError(`the signing is already ${doc.status}`, 'already-final');
    return doc;
  }

  /** Runs a workflow update; a validator's refusal becomes a 409 with its message. */
  private async update<T>(doc: SigningDoc, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new SigningStateError(err.cause?.message ?? err.message, 'update-refused');
      if (err instanceof WorkflowNotFoundError) throw new SigningStateError(`the signing ${doc._id} is no longer running`, 'already-final');
      throw err;
    }
  }
}
