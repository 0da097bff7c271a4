// The signings store: the one place that reads and writes `signings` and its companions
// (`signing_people`, `transactions`, `signing_events`, `signing_references`, `send_attempts`, and the
// GridFS buckets `sources` and `documents`); its collections are private, so the service, the
// reconciler, the activities, the relay and the tests all go through the methods below. Callback
// tokens are CallbackTokens' (src/callbacks/tokens.ts), which this store uses to issue and revoke them.
//
// FerretDB rule (README "Known limits"): a conditional update is not atomic there, so each signing has one
// writer after creation (its workflow's activities), and idempotency is an insert guarded by _id.
import { GridFSBucket, type Collection, type Db, type Filter } from 'mongodb';
import type { SignerStatus, SigningStatus } from '../../workflows/definitions';
import { CallbackTokens } from '../callbacks/tokens';
import { sha256Hex } from '../lib/hash';
import { insertIfAbsent } from '../store/insert-if-absent';
import { legacyFailureCode, type SigningFailure } from './failures';
import {
  BUCKETS,
  COLLECTIONS,
  type ReferenceDoc,
  type SendAttemptDoc,
  type SignedDocumentRef,
  type SignerPerson,
  type SignerState,
  type SigningDoc,
  type SigningEventDoc,
  type SigningPeopleDoc,
  type TransactionDoc,
} from '../store/collections';

/** What the tests and tools may ask about signings (every field optional; all given must match). */
export interface SigningQuery {
  reference?: string;
  /** The document description the caller gave. */
  description?: string;
  status?: SigningStatus;
}

export class SigningStore {
  private readonly signings: Collection<SigningDoc>;
  private readonly people: Collection<SigningPeopleDoc>;
  private readonly transactions: Collection<TransactionDoc>;
  private readonly events: Collection<SigningEventDoc>;
  private readonly references: Collection<ReferenceDoc>;
  private readonly sendAttempts: Collection<SendAttemptDoc>;
  private readonly sources: GridFSBucket;
  private readonly documents: GridFSBucket;
  private readonly tokens: CallbackTokens;

  constructor(private readonly db: Db) {
    this.signings = db.collection(COLLECTIONS.signings);
    this.people = db.collection(COLLECTIONS.signingPeople);
    this.transactions = db.collection(COLLECTIONS.transactions);
    this.events = db.collection(COLLECTIONS.signingEvents);
    this.references = db.collection(COLLECTIONS.signingReferences);
    this.sendAttempts = db.collection(COLLECTIONS.sendAttempts);
    this.sources = new GridFSBucket(db, { bucketName: BUCKETS.sources });
    this.documents = new GridFSBucket(db, { bucketName: BUCKETS.documents });
    this.tokens = new CallbackTokens(db);
  }

  async get(signingId: string): Promise<SigningDoc | null> {
    const doc = await this.signings.findOne({ _id: signingId });
    // Records finalized before `failureCode` existed hold the code only inside `failureReason`:
    // derive it here, once, so everything else decides by the field.
    if (doc && doc.failureCode === undefined) doc.failureCode = legacyFailureCode(doc.failureReason);
    return doc;
  }

  /** Several signings at once (those that exist), in no particular order. */
  getMany(signingIds: readonly string[]): Promise<SigningDoc[]> {
    return this.signings.find({ _id: { $in: [...signingIds] } }).toArray();
  }

  /** Only the status of a signing (null if there is none): what the callback relay checks. */
  async statusOf(signingId: string): Promise<SigningStatus | null> {
    const doc = await this.signings.findOne({ _id: signingId }, { projection: { status: 1 } });
    return doc?.status ?? null;
  }

  /** The signings matching `query` (a scan on FerretDB: for tests and tools, not for requests). */
  find(query: SigningQuery): Promise<SigningDoc[]> {
    return this.signings.find(signingFilter(query)).toArray();
  }

  /** How many signings match `query` (all of them with `{}`). */
  count(query: SigningQuery = {}): Promise<number> {
    return this.signings.countDocuments(signingFilter(query));
  }

  /** The pending signings (index status_createdAt): what the reconciler looks after. */
  pending(): Promise<Pick<SigningDoc, '_id' | 'workflowId' | 'createdAt'>[]> {
    return this.signings.find({ status: 'pending' }, { projection: { _id: 1, workflowId: 1, createdAt: 1 } }).toArray();
  }

  // ---- creating a signing (the service, before its workflow exists) ----

  /**
   * Claims a `reference` / `Idempotency-Key` for a signing, with the fingerprint of its request;
   * false if the key was claimed already (then `reference(key)` names the signing).
   */
  claimReference(key: string, signingId: string, fingerprint: string): Promise<boolean> {
    return insertIfAbsent(this.references, { _id: key, signingId, fingerprint, createdAt: new Date() });
  }

  reference(key: string): Promise<ReferenceDoc | null> {
    return this.references.findOne({ _id: key });
  }

  /** Frees a key for a new signing, if it still names `signingId` (whose start never reached Temporal). */
  async releaseReference(key: string, signingId: string): Promise<void> {
    await this.references.deleteOne({ _id: key, signingId });
  }

  /** Stores (or, for a retried start, stores again) the personal data of a signing's signers. */
  async putPeople(signingId: string, signers: SignerPerson[]): Promise<void> {
    await this.people.replaceOne({ _id: signingId }, { signers }, { upsert: true });
  }

  /** Creates the signing record; false if it exists already (a concurrent duplicate request was first). */
  create(doc: SigningDoc): Promise<boolean> {
    return insertIfAbsent(this.signings, doc);
  }

  async requirePeople(signingId: string): Promise<SignerPerson[]> {
    const doc = await this.people.findOne({ _id: signingId });
    if (!doc) throw new Error(`signing ${signingId} has no signer records`);
    return doc.signers;
  }

  /** Appends an event; the key makes a retried activity's event count once. */
  async event(signingId: string, key: string, type: string, data?: Record<string, unknown>): Promise<void> {
    await insertIfAbsent(this.events, { _id: `${signingId}:${key}`, signingId, type, at: new Date(), ...(data ? { data } : {}) });
  }

  history(signingId: string): Promise<SigningEventDoc[]> {
    return this.events.find({ signingId }).sort({ at: 1 }).toArray();
  }

  /** The events of several signings, oldest first (one query, for tools watching a batch). */
  histories(signingIds: readonly string[]): Promise<SigningEventDoc[]> {
    return this.events
      .find({ signingId: { $in: [...signingIds] } })
      .sort({ at: 1 })
      .toArray();
  }

  // ---- the document to sign ----

  /** Stores the document to sign; a retry after a crash mid-write clears what that write left. */
  async putSource(signingId: string, filename: string, content: Uint8Array): Promise<void> {
    await putFileOnce(this.db, this.sources, BUCKETS.sources, signingId, filename, content);
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
  claimSend(signingId: string): Promise<boolean> {
    return insertIfAbsent(this.sendAttempts, { _id: signingId, startedAt: new Date() });
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

  /** A new capability token for urlCallback; only its hash is stored (CallbackTokens). */
  issueCallbackToken(signingId: string): Promise<string> {
    return this.tokens.issue(signingId);
  }

  /** Records what Evrotrust answered to the send: the transaction → signing mapping first. */
  async recordSent(signingId: string, workflowId: string, threadId: string | null, transactionIds: string[]): Promise<void> {
    await this.recordTransactions(signingId, workflowId, threadId, transactionIds);
    await this.updateSigners(signingId, (s, i) => ({ ...s, transactionId: transactionIds[i] ?? s.transactionId }), { threadId });
  }

  /** The transaction → signing mapping alone (signer i has transactionIds[i]); idempotent. */
  async recordTransactions(
    signingId: string,
    workflowId: string,
    threadId: string | null,
    transactionIds: readonly string[],
  ): Promise<void> {
    const now = new Date();
    for (const [signerIndex, tx] of transactionIds.entries()) {
      await insertIfAbsent(this.transactions, { _id: tx, signingId, workflowId, signerIndex, threadId, createdAt: now });
    }
  }

  /** The signing an Evrotrust transactionID belongs to (null until the send was recorded). */
  transaction(transactionId: string): Promise<TransactionDoc | null> {
    return this.transactions.findOne({ _id: transactionId });
  }

  /**
   * Removes a transaction → signing mapping and answers what it was. Nothing in the service does
   * this; it lets a test make a sent transaction unknown again (a callback that overtakes the send).
   */
  forgetTransaction(transactionId: string): Promise<TransactionDoc | null> {
    return this.transactions.findOneAndDelete({ _id: transactionId });
  }

  async recordReadiness(signingId: string, readiness: { index: number; reason: string | null }[]): Promise<void> {
    await this.updateSigners(signingId, (s, i) => ({ ...s, readiness: readiness.find((r) => r.index === i)?.reason ?? null }));
  }

  /** Sets one signer's confirmed Evrotrust status; the same status twice changes nothing. */
  async recordSignerStatus(signingId: string, transactionId: string, status: SignerStatus, rejectReason: string | null): Promise<void> {
    await this.updateSigners(signingId, (s) => (s.transactionId === transactionId ? { ...s, status, rejectReason } : s));
  }

  /** Rewrites the signers array (read-modify-write: safe because the workflow is the one writer). */
  private async updateSigners(
    signingId: string,
    change: (s: SignerState, index: number) => SignerState,
    also: Partial<SigningDoc> = {},
  ): Promise<void> {
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
    await putFileOnce(this.db, this.documents, BUCKETS.documents, fileId, ref.filename, content, {
      contentType: ref.contentType,
      signingId,
    });
    const full: SignedDocumentRef = { ...ref, fileId };
    const signing = await this.get(signingId);
    if (signing && !signing.signedDocuments.some((d) => d.fileId === fileId)) {
      await this.signings.updateOne({ _id: signingId }, { $set: { signedDocuments: [...signing.signedDocuments, full] } });
    }
    return full;
  }

  /** The signed file; null when it is not (or no longer) stored. */
  async readSignedDocument(fileId: string): Promise<Uint8Array | null> {
    if ((await this.documents.find({ _id: fileId as never }).toArray()).length === 0) return null;
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

  // ---- retention (src/signings/retention.ts) ----

  /**
   * Final signings finalized before `cutoff` whose personal data (`personal`) or signed files
   * (`documents`) are still kept, oldest first (index personalDataErasedAt_finalizedAt /
   * signedDocumentsDeletedAt_finalizedAt; a missing field matches null). Pending ones have no finalizedAt.
   */
  retentionDue(what: 'personal' | 'documents', cutoff: Date, limit: number): Promise<Pick<SigningDoc, '_id' | 'finalizedAt'>[]> {
    const field = what === 'personal' ? 'personalDataErasedAt' : 'signedDocumentsDeletedAt';
    return this.signings
      .find({ [field]: null, finalizedAt: { $lt: cutoff } } as Filter<SigningDoc>, { projection: { _id: 1, finalizedAt: 1 } })
      .sort({ finalizedAt: 1 })
      .limit(limit)
      .toArray();
  }

  /**
   * Deletes the signers' personal data of a final signing; the record (ids, statuses) and its events
   * stay. Idempotent: the data first, then an event (ids and counts only), then the mark.
   */
  async erasePersonalData(signingId: string, retention: string): Promise<boolean> {
    const signing = await this.get(signingId);
    if (!signing || signing.status === 'pending' || signing.personalDataErasedAt) return false;
    const deleted = await this.people.deleteOne({ _id: signingId });
    // The document to sign is the business's contract with the signer, personal data and all; a
    // final signing never reads it again (only the send does).
    const sources = await this.sources.find({ _id: signingId as never }).toArray();
    if (sources.length > 0) await this.sources.delete(signingId as never);
    await this.event(signingId, 'personal-data-erased', 'personal-data-erased', {
      signers: signing.signers.length,
      recordDeleted: deleted.deletedCount === 1,
      sourceDeleted: sources.length > 0,
      retention,
    });
    await this.signings.updateOne({ _id: signingId }, { $set: { personalDataErasedAt: new Date() } });
    return true;
  }

  /**
   * Deletes the signed files of a final signing, keeping their refs (name, digest, size) on the record,
   * which is marked so the API answers 410. The files first: a crash in between leaves the mark unset
   * and the next pass finishes; a reader in between finds no file, which the API answers 410 as well.
   */
  async deleteSignedDocuments(signingId: string, retention: string): Promise<number> {
    const signing = await this.get(signingId);
    if (!signing || signing.status === 'pending' || signing.signedDocumentsDeletedAt) return 0;
    let files = 0;
    for (const ref of signing.signedDocuments) {
      if ((await this.documents.find({ _id: ref.fileId as never }).toArray()).length > 0) {
        await this.documents.delete(ref.fileId as never);
        files += 1;
      }
    }
    if (signing.signedDocuments.length > 0) {
      await this.event(signingId, 'signed-documents-deleted', 'signed-documents-deleted', { files, retention });
    }
    await this.signings.updateOne({ _id: signingId }, { $set: { signedDocumentsDeletedAt: new Date() } });
    return files;
  }

  /** Whether the signers' personal data is still stored (for tests and tools). */
  async hasPeople(signingId: string): Promise<boolean> {
    return (await this.people.countDocuments({ _id: signingId })) > 0;
  }

  // ---- the end ----

  /** Moves the signing from pending to its final state, once; later calls change nothing. */
  async finalize(
    signingId: string,
    status: SigningStatus,
    fields: { rejectReason: string | null; failure: SigningFailure | null },
  ): Promise<SigningDoc | null> {
    const signing = await this.get(signingId);
    if (!signing) return null;
    if (signing.status === 'pending') {
      await this.signings.updateOne(
        { _id: signingId, status: 'pending' },
        {
          $set: {
            status,
            rejectReason: fields.rejectReason,
            failureCode: fields.failure?.code ?? null,
            failureReason: fields.failure?.reason ?? null,
            finalizedAt: new Date(),
          },
        },
      );
      await this.event(signingId, 'final', status, fields.failure ? { failure: fields.failure.reason } : undefined);
    }
    // A final signing takes no more callbacks on its capability URL.
    await this.tokens.revokeAllOf(signingId);
    return this.get(signingId);
  }
}

function signingFilter(query: SigningQuery): Filter<SigningDoc> {
  return {
    ...(query.reference !== undefined ? { reference: query.reference } : {}),
    ...(query.description !== undefined ? { 'document.description': query.description } : {}),
    ...(query.status !== undefined ? { status: query.status } : {}),
  };
}

/**
 * Writes a GridFS file under a fixed id, once. GridFS writes the `files` document after the last
 * chunk, so an existing `files` document with the same digest means a complete earlier write;
 * anything else under that id (chunks of a write that crashed, or another content) is removed first,
 * so a retry never trips over the unique (files_id, n) index.
 */
async function putFileOnce(
  db: Db,
  bucket: GridFSBucket,
  bucketName: string,
  id: string,
  filename: string,
  content: Uint8Array,
  metadata: Record<string, unknown> = {},
): Promise<void> {
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
