// The signings store: the one place that reads and writes `signings` and its companions
// (`signing_people`, `transactions`, `callback_tokens`, `signing_events`, `signing_references`,
// `send_attempts`, and the GridFS buckets `sources` and `documents`).
//
// FerretDB rule (README "Known limits"): a conditional update is not atomic there, so each signing has one
// writer after creation (its workflow's activities), and idempotency is an insert guarded by _id.
import { createHash, randomBytes } from 'node:crypto';
import { GridFSBucket, MongoServerError, type Collection, type Db } from 'mongodb';
import type { SignerStatus, SigningStatus } from '../../workflows/definitions';
import { CALLBACK_TOKENS_COLLECTION, hashCallbackToken } from '../callbacks/tokens';
import { legacyFailureCode, type SigningFailure } from './failures';
import type {
  CallbackTokenDoc,
  ReferenceDoc,
  SendAttemptDoc,
  SignedDocumentRef,
  SignerPerson,
  SignerState,
  SigningDoc,
  SigningEventDoc,
  SigningPeopleDoc,
  TransactionDoc,
} from '../store/collections';

export const isDuplicateKey = (err: unknown): boolean => err instanceof MongoServerError && err.code === 11000;

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

export class SigningStore {
  readonly signings: Collection<SigningDoc>;
  readonly people: Collection<SigningPeopleDoc>;
  readonly transactions: Collection<TransactionDoc>;
  readonly tokens: Collection<CallbackTokenDoc>;
  readonly events: Collection<SigningEventDoc>;
  readonly references: Collection<ReferenceDoc>;
  readonly sendAttempts: Collection<SendAttemptDoc>;
  readonly sources: GridFSBucket;
  readonly documents: GridFSBucket;

  constructor(readonly db: Db) {
    this.signings = db.collection('signings');
    this.people = db.collection('signing_people');
    this.transactions = db.collection('transactions');
    this.tokens = db.collection(CALLBACK_TOKENS_COLLECTION);
    this.events = db.collection('signing_events');
    this.references = db.collection('signing_references');
    this.sendAttempts = db.collection('send_attempts');
    this.sources = new GridFSBucket(db, { bucketName: 'sources' });
    this.documents = new GridFSBucket(db, { bucketName: 'documents' });
  }

  async get(signingId: string): Promise<SigningDoc | null> {
    const doc = await this.signings.findOne({ _id: signingId });
    // Records finalized before `failureCode` existed hold the code only inside `failureReason`:
    // derive it here, once, so everything else decides by the field.
    if (doc && doc.failureCode === undefined) doc.failureCode = legacyFailureCode(doc.failureReason);
    return doc;
  }

  async requirePeople(signingId: string): Promise<SignerPerson[]> {
    const doc = await this.people.findOne({ _id: signingId });
    if (!doc) throw new Error(`signing ${signingId} has no signer records`);
    return doc.signers;
  }

  /** Appends an event; the key makes a retried activity's event count once. */
  async event(signingId: string, key: string, type: string, data?: Record<string, unknown>): Promise<void> {
    try {
      await this.events.insertOne({ _id: `${signingId}:${key}`, signingId, type, at: new Date(), ...(data ? { data } : {}) });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  history(signingId: string): Promise<SigningEventDoc[]> {
    return this.events.find({ signingId }).sort({ at: 1 }).toArray();
  }

  // ---- the document to sign ----

  /** Stores the document to sign; a retry after a crash mid-write clears what that write left. */
  async putSource(signingId: string, filename: string, content: Uint8Array): Promise<void> {
    await putFileOnce(this.db, this.sources, 'sources', signingId, filename, content);
  }

  async readSource(signingId: string): Promise<Uint8Array> {
    return readFile(this.sources, signingId);
  }

  // ---- sending ----

  /**
   * Claims the one send of a signing, immediately before the upload (every read it needs is done
   * first, so a store error before this point leaves nothing behind); false if a send was already
   * attempted. An insert: atomic on FerretDB too.
   */
  async claimSend(signingId: string): Promise<boolean> {
    try {
      await this.sendAttempts.insertOne({ _id: signingId, startedAt: new Date() });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /** What an earlier attempt recorded of a send whose answer this attempt never saw. */
  async sentBefore(signingId: string, signerCount: number): Promise<{ threadId: string | null; transactionIds: string[] } | undefined> {
    const rows = await this.transactions.find({ signingId }).toArray();
    if (rows.length !== signerCount) return undefined;
    rows.sort((a, b) => a.signerIndex - b.signerIndex);
    return { threadId: rows[0]?.threadId ?? null, transactionIds: rows.map((r) => r._id) };
  }

  /** Gives the claim back when Evrotrust certainly received nothing, so a retry may send. */
  async releaseSend(signingId: string): Promise<void> {
    await this.sendAttempts.deleteOne({ _id: signingId });
  }

  /** A new capability token for urlCallback; only its hash is stored. */
  async issueCallbackToken(signingId: string): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    await this.tokens.insertOne({ _id: hashCallbackToken(token), signingId, createdAt: new Date(), revokedAt: null });
    return token;
  }

  /** Records what Evrotrust answered to the send: the transaction → signing mapping first. */
  async recordSent(signingId: string, workflowId: string, threadId: string | null, transactionIds: string[]): Promise<void> {
    const now = new Date();
    for (const [signerIndex, tx] of transactionIds.entries()) {
      try {
        await this.transactions.insertOne({ _id: tx, signingId, workflowId, signerIndex, threadId, createdAt: now });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    await this.updateSigners(signingId, (s, i) => ({ ...s, transactionId: transactionIds[i] ?? s.transactionId }), { threadId });
  }

  async recordReadiness(signingId: string, readiness: { index: number; reason: string | null }[]): Promise<void> {
    await this.updateSigners(signingId, (s, i) => ({ ...s, readiness: readiness.find((r) => r.index === i)?.reason ?? null }));
  }

  /** Sets one signer's confirmed Evrotrust status; the same status twice changes nothing. */
  async recordSignerStatus(signingId: string, transactionId: string, status: SignerStatus, rejectReason: string | null): Promise<void> {
    await this.updateSigners(signingId, (s) => (s.transactionId === transactionId ? { ...s, status, rejectReason } : s));
  }

  /** Rewrites the signers array (read-modify-write: safe because the workflow is the one writer). */
  private async updateSigners(signingId: string, change: (s: SignerState, index: number) => SignerState, also: Partial<SigningDoc> = {}): Promise<void> {
    const signing = await this.get(signingId);
    if (!signing) throw new Error(`signing ${signingId} not found`);
    await this.signings.updateOne({ _id: signingId }, { $set: { ...also, signers: signing.signers.map(change) } });
  }

  // ---- signed documents ----

  /**
   * Stores one signed file under a deterministic id; a retry finds it there and stores nothing, and
   * a retry after a crash mid-write first clears the chunks that write left.
   */
  async putSignedDocument(signingId: string, ref: Omit<SignedDocumentRef, 'fileId'>, content: Uint8Array): Promise<SignedDocumentRef> {
    const fileId = `${signingId}:${ref.transactionId}:${ref.sha256.slice(0, 16)}`;
    await putFileOnce(this.db, this.documents, 'documents', fileId, ref.filename, content, { contentType: ref.contentType, signingId });
    const full: SignedDocumentRef = { ...ref, fileId };
    const signing = await this.get(signingId);
    if (signing && !signing.signedDocuments.some((d) => d.fileId === fileId)) {
      await this.signings.updateOne({ _id: signingId }, { $set: { signedDocuments: [...signing.signedDocuments, full] } });
    }
    return full;
  }

  readSignedDocument(fileId: string): Promise<Uint8Array> {
    return readFile(this.documents, fileId);
  }

  /**
   * Deletes a signing that never got a workflow and that no key names: its record, people, events
   * and document. Order: the record first, so nothing sees a signing without its parts.
   */
  async discardUnstarted(signingId: string): Promise<void> {
    await this.signings.deleteOne({ _id: signingId, status: 'pending', threadId: null });
    await this.people.deleteOne({ _id: signingId });
    await this.events.deleteMany({ signingId });
    const files = await this.sources.find({ _id: signingId as never }).toArray();
    if (files.length > 0) await this.sources.delete(signingId as never);
  }

  // ---- the end ----

  /** Moves the signing from pending to its final state, once; later calls change nothing. */
  async finalize(signingId: string, status: SigningStatus, fields: { rejectReason: string | null; failure: SigningFailure | null }): Promise<SigningDoc | null> {
    const signing = await this.get(signingId);
    if (!signing) return null;
    if (signing.status === 'pending') {
      await this.signings.updateOne(
        { _id: signingId, status: 'pending' },
        { $set: { status, rejectReason: fields.rejectReason, failureCode: fields.failure?.code ?? null, failureReason: fields.failure?.reason ?? null, finalizedAt: new Date() } },
      );
      await this.event(signingId, 'final', status, fields.failure ? { failure: fields.failure.reason } : undefined);
    }
    // A final signing takes no more callbacks on its capability URL.
    await this.tokens.updateMany({ signingId, revokedAt: null }, { $set: { revokedAt: new Date() } });
    return this.get(signingId);
  }
}

/**
 * Writes a GridFS file under a fixed id, once. GridFS writes the `files` document after the last
 * chunk, so an existing `files` document with the same digest means a complete earlier write;
 * anything else under that id (chunks of a write that crashed, or another content) is removed first,
 * so a retry never trips over the unique (files_id, n) index.
 */
async function putFileOnce(db: Db, bucket: GridFSBucket, bucketName: string, id: string, filename: string, content: Uint8Array, metadata: Record<string, unknown> = {}): Promise<void> {
  const digest = sha256Hex(content);
  const files = db.collection<{ _id: string; length: number; metadata?: { sha256?: string } }>(`${bucketName}.files`);
  const existing = await files.findOne({ _id: id });
  if (existing && existing.length === content.byteLength && existing.metadata?.sha256 === digest) return;
  if (existing) await files.deleteOne({ _id: id });
  await db.collection(`${bucketName}.chunks`).deleteMany({ files_id: id });
  await new Promise<void>((resolve, reject) => {
    const up = bucket.openUploadStreamWithId(id as never, filename, { metadata: { ...metadata, sha256: digest } });
    up.once('error', reject);
    up.once('finish', () => resolve());
    up.end(Buffer.from(content.buffer, content.byteOffset, content.byteLength));
  });
}

async function readFile(bucket: GridFSBucket, id: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of bucket.openDownloadStream(id as never)) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}
