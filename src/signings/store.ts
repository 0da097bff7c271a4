// The signings store: the one place that reads and writes `signings` and its companions
// (`signing_people`, `transactions`, `signing_events`, `signing_references`, `send_attempts`, and the
// GridFS buckets `sources` and `documents`); its collections are private, so the service, the
// reconciler, the activities, the relay and the tests all go through the methods below. Callback
// tokens are CallbackTokens' (src/callbacks/tokens.ts), which this store uses to issue and revoke them.
//
// FerretDB rule (README "Known limits"): a conditional update is not atomic there, so each signing has one
// writer after creation (its workflow's activities), and idempotency is an insert guarded by _id.
import { MongoBulkWriteError, type Collection, type Db, type Filter } from 'mongodb';
import type { SignerStatus, SigningStatus } from '../../workflows/definitions';
import { CallbackTokens } from '../callbacks/tokens';
import { deleteFile, putFileOnce, readFile } from '../store/files';
import { insertIfAbsent } from '../store/insert-if-absent';
import { legacyFailureCode, type SigningFailure } from './failures';
import type { ListFilter, ListPosition } from './list';
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

/** GridFS id of a signing's document to sign: the signing id for the first (or only) one, `<id>:<index>` after it. */
function sourceFileId(signingId: string, index: number): string {
  return index === 0 ? signingId : `${signingId}:${index}`;
}

export class SigningStore {
  private readonly signings: Collection<SigningDoc>;
  private readonly people: Collection<SigningPeopleDoc>;
  private readonly transactions: Collection<TransactionDoc>;
  private readonly events: Collection<SigningEventDoc>;
  private readonly references: Collection<ReferenceDoc>;
  private readonly sendAttempts: Collection<SendAttemptDoc>;
  private readonly tokens: CallbackTokens;

  constructor(private readonly db: Db) {
    this.signings = db.collection(COLLECTIONS.signings);
    this.people = db.collection(COLLECTIONS.signingPeople);
    this.transactions = db.collection(COLLECTIONS.transactions);
    this.events = db.collection(COLLECTIONS.signingEvents);
    this.references = db.collection(COLLECTIONS.signingReferences);
    this.sendAttempts = db.collection(COLLECTIONS.sendAttempts);
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

  /** The signings matching `query`: no index serves these fields (a scan everywhere), so for tests and tools only, never on a request path. */
  find(query: SigningQuery): Promise<SigningDoc[]> {
    return this.signings.find(signingFilter(query)).toArray();
  }

  /** How many signings match `query` (all of them with `{}`). */
  count(query: SigningQuery = {}): Promise<number> {
    return this.signings.countDocuments(signingFilter(query));
  }

  /**
   * Up to `limit` pending signings with an id after `after` (null: from the start), in id order
   * (index status__id): what the reconciler looks after, a page per pass.
   */
  pendingPage(after: string | null, limit: number): Promise<Pick<SigningDoc, '_id' | 'workflowId' | 'createdAt'>[]> {
    return this.signings
      .find(
        { status: 'pending', ...(after !== null ? { _id: { $gt: after } } : {}) },
        { projection: { _id: 1, workflowId: 1, createdAt: 1 }, sort: { _id: 1 }, limit },
      )
      .toArray();
  }

  /**
   * A page of the signings matching `filter`, newest first (createdAt, then _id, descending), after
   * `after` (the previous page's last signing; null: from the newest): up to `limit`, and whether
   * more follow (one more was read to know it). Served by the indexes status_createdAt__id and
   * reference_status_createdAt__id: the status is always pinned (`$in`), and "after" is two
   * queries, not an `$or` no index bounds: the rest of the cursor's own millisecond (by _id), then
   * everything older.
   */
  async listPage(filter: ListFilter, after: ListPosition | null, limit: number): Promise<{ signings: SigningDoc[]; more: boolean }> {
    const base: Filter<SigningDoc> = {
      status: { $in: [...filter.statuses] },
      ...(filter.reference !== undefined ? { reference: filter.reference } : {}),
    };
    const sort = { createdAt: -1, _id: -1 } as const;
    const want = limit + 1;
    const found: SigningDoc[] = [];
    if (after) {
      found.push(
        ...(await this.signings.find({ ...base, createdAt: after.createdAt, _id: { $lt: after.id } }, { sort, limit: want }).toArray()),
      );
    }
    if (found.length < want) {
      const before = after && (!filter.createdBefore || after.createdAt < filter.createdBefore) ? after.createdAt : filter.createdBefore;
      const createdAt = {
        ...(filter.createdAfter ? { $gte: filter.createdAfter } : {}),
        ...(before ? { $lt: before } : {}),
      };
      const rest = await this.signings
        .find({ ...base, ...(Object.keys(createdAt).length > 0 ? { createdAt } : {}) }, { sort, limit: want - found.length })
        .toArray();
      found.push(...rest);
    }
    for (const doc of found) if (doc.failureCode === undefined) doc.failureCode = legacyFailureCode(doc.failureReason);
    return { signings: found.slice(0, limit), more: found.length > limit };
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

  /** Whether the signing's final event is written (finalize writes it just after the record). */
  async hasFinalEvent(signingId: string): Promise<boolean> {
    return (await this.events.countDocuments({ _id: `${signingId}:final` }, { limit: 1 })) > 0;
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
  /** `index`: a group's document (0-based); document 0 keeps the single-document GridFS id. */
  async putSource(signingId: string, filename: string, content: Uint8Array, index = 0): Promise<void> {
    await putFileOnce(this.db, BUCKETS.sources, sourceFileId(signingId, index), filename, content);
  }

  /** A group's documents to sign (index ≥ 1; 0 is readSource's), checked against their size and digest. */
  async readGroupSource(signingId: string, index: number, expected: { size: number; sha256: string }): Promise<Uint8Array> {
    const content = await readFile(this.db, BUCKETS.sources, sourceFileId(signingId, index), expected);
    if (!content) throw new Error(`signing ${signingId} has no document ${index + 1} to sign stored`);
    return content;
  }

  /** Deletes a group's further documents to sign (document 0 is deleted by the callers themselves). */
  private async deleteGroupSources(signing: Pick<SigningDoc, '_id' | 'documents'>): Promise<void> {
    for (let i = 1; i < (signing.documents?.length ?? 0); i++) await deleteFile(this.db, BUCKETS.sources, sourceFileId(signing._id, i));
  }

  /**
   * The document to sign, checked against the size and digest on the signing's record (`expected`,
   * which the send has at hand: one query); without it, against its GridFS files document.
   */
  async readSource(signingId: string, expected?: { size: number; sha256: string }): Promise<Uint8Array> {
    let want = expected;
    if (!want) {
      const file = await this.db
        .collection<{ _id: string; length: number; metadata?: { sha256?: string } }>(`${BUCKETS.sources}.files`)
        .findOne({ _id: signingId });
      if (file?.metadata?.sha256) want = { size: file.length, sha256: file.metadata.sha256 };
    }
    const content = want ? await readFile(this.db, BUCKETS.sources, signingId, want) : null;
    if (!content) throw new Error(`signing ${signingId} has no document to sign stored`);
    return content;
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
    await this.setSigners(
      signingId,
      transactionIds.map((transactionId) => ({ transactionId })),
      { threadId },
    );
  }

  /** The transaction → signing mapping alone (signer i has transactionIds[i]); idempotent. One write for all signers. */
  async recordTransactions(
    signingId: string,
    workflowId: string,
    threadId: string | null,
    transactionIds: readonly string[],
  ): Promise<void> {
    if (transactionIds.length === 0) return;
    const now = new Date();
    try {
      await this.transactions.insertMany(
        transactionIds.map((tx, signerIndex) => ({ _id: tx, signingId, workflowId, signerIndex, threadId, createdAt: now })),
        { ordered: false },
      );
    } catch (err) {
      // Unordered: every new mapping is inserted; those a retry finds there already are refused by _id.
      const errors = err instanceof MongoBulkWriteError ? err.writeErrors : undefined;
      const all = errors === undefined ? [] : Array.isArray(errors) ? errors : [errors];
      if (all.length === 0 || all.some((e) => e.code !== 11000)) throw err;
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

  /** Records user/check/extended's verdict for every signer (`readiness` has one entry per signer). */
  async recordReadiness(signingId: string, readiness: { index: number; reason: string | null }[]): Promise<void> {
    const changes: Partial<SignerState>[] = [];
    for (const r of readiness) changes[r.index] = { readiness: r.reason };
    await this.setSigners(signingId, changes);
  }

  /** Counts a notification attempt (src/notify/): how many were made and why the last one failed, for the give-up event. */
  async recordNotifyAttempt(signingId: string, attempts: number, lastError: string | null): Promise<void> {
    await this.signings.updateOne(
      { _id: signingId },
      lastError === null
        ? { $set: { notifyAttempts: attempts }, $unset: { notifyLastError: '' } }
        : { $set: { notifyAttempts: attempts, notifyLastError: lastError } },
    );
  }

  /** Sets one signer's confirmed Evrotrust status; the same status twice changes nothing (and writes nothing). */
  async recordSignerStatus(signingId: string, transactionId: string, status: SignerStatus, rejectReason: string | null): Promise<void> {
    const signing = await this.signings.findOne({ _id: signingId }, { projection: { signers: 1 } });
    if (!signing) throw new Error(`signing ${signingId} not found`);
    const index = signing.signers.findIndex((s) => s.transactionId === transactionId);
    if (index < 0) return;
    const current = signing.signers[index] as SignerState;
    if (current.status === status && (current.rejectReason ?? null) === rejectReason) return;
    const changes: Partial<SignerState>[] = [];
    changes[index] = { status, rejectReason };
    await this.setSigners(signingId, changes);
  }

  /**
   * Sets fields of signers by position (`changes[i]` for signer i; holes change nothing) in one
   * update, without reading the record first: `signers.<i>.<field>` paths, which FerretDB 1.24 takes
   * too (it has no positional `$` or arrayFilters). Safe because the workflow is the one writer.
   */
  private async setSigners(
    signingId: string,
    changes: (Partial<SignerState> | undefined)[],
    also: Partial<SigningDoc> = {},
  ): Promise<void> {
    const set: Record<string, unknown> = { ...also };
    changes.forEach((change, i) => {
      for (const [field, value] of Object.entries(change ?? {})) set[`signers.${i}.${field}`] = value;
    });
    const r = await this.signings.updateOne({ _id: signingId }, { $set: set });
    if (r.matchedCount === 0) throw new Error(`signing ${signingId} not found`);
  }

  // ---- signed documents ----

  /**
   * Stores one signed file under a deterministic id; a retry finds it there and stores nothing, and
   * a retry after a crash mid-write first clears the chunks that write left.
   */
  async putSignedDocument(signingId: string, ref: Omit<SignedDocumentRef, 'fileId'>, content: Uint8Array): Promise<SignedDocumentRef> {
    // A group's documents get their index in the id: two identical documents still get two files.
    const index = ref.documentIndex !== undefined ? `${ref.documentIndex}:` : '';
    const fileId = `${signingId}:${ref.transactionId}:${index}${ref.sha256.slice(0, 16)}`;
    await putFileOnce(this.db, BUCKETS.documents, fileId, ref.filename, content, { contentType: ref.contentType, signingId });
    const full: SignedDocumentRef = { ...ref, fileId };
    // One update, no read: a retry finds the ref there and the filter matches nothing.
    await this.signings.updateOne({ _id: signingId, 'signedDocuments.fileId': { $ne: fileId } }, { $push: { signedDocuments: full } });
    return full;
  }

  /** The signed file, checked against its ref; null when it is not (or no longer) stored. */
  readSignedDocument(ref: Pick<SignedDocumentRef, 'fileId' | 'size' | 'sha256'>): Promise<Uint8Array | null> {
    return readFile(this.db, BUCKETS.documents, ref.fileId, ref);
  }

  /**
   * Deletes a signing that never got a workflow and that no key names: its record, people, events
   * and document. Order: the record first, so nothing sees a signing without its parts.
   */
  async discardUnstarted(signingId: string): Promise<void> {
    const signing = await this.get(signingId);
    const deleted = await this.signings.deleteOne({ _id: signingId, status: 'pending', threadId: null });
    if (signing && deleted.deletedCount === 1) await this.deleteGroupSources(signing);
    await this.people.deleteOne({ _id: signingId });
    await this.events.deleteMany({ signingId });
    await deleteFile(this.db, BUCKETS.sources, signingId);
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
    const sourceDeleted = await deleteFile(this.db, BUCKETS.sources, signingId);
    await this.deleteGroupSources(signing);
    await this.event(signingId, 'personal-data-erased', 'personal-data-erased', {
      signers: signing.signers.length,
      recordDeleted: deleted.deletedCount === 1,
      sourceDeleted,
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
      if (await deleteFile(this.db, BUCKETS.documents, ref.fileId)) files += 1;
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

  /**
   * Moves the signing from pending to its final state, once; later calls change nothing. `current`
   * is the record as the caller just read it (saves reading it again); answers the record as it ends.
   */
  async finalize(
    signingId: string,
    status: Exclude<SigningStatus, 'pending'>,
    fields: { rejectReason: string | null; failure: SigningFailure | null },
    current?: SigningDoc,
  ): Promise<SigningDoc | null> {
    const signing = current ?? (await this.get(signingId));
    if (!signing) return null;
    let after = signing;
    if (signing.status === 'pending') {
      const set = {
        status,
        rejectReason: fields.rejectReason,
        failureCode: fields.failure?.code ?? null,
        failureReason: fields.failure?.reason ?? null,
        finalizedAt: new Date(),
      };
      const r = await this.signings.updateOne({ _id: signingId, status: 'pending' }, { $set: set });
      // Not matched: another run finalized it since `current` was read; the record says how.
      after = r.matchedCount === 1 ? { ...signing, ...set } : ((await this.get(signingId)) ?? signing);
    }
    // The event's key makes it one per signing; written again when a retry finds the record final
    // with this status already (a crash between the update and the event), so it is never missing.
    if (after.status === status) {
      await this.event(signingId, 'final', status, fields.failure ? { failure: fields.failure.reason } : undefined);
    }
    // A final signing takes no more callbacks on its capability URL.
    await this.tokens.revokeAllOf(signingId);
    return after;
  }
}

function signingFilter(query: SigningQuery): Filter<SigningDoc> {
  return {
    ...(query.reference !== undefined ? { reference: query.reference } : {}),
    ...(query.description !== undefined ? { 'document.description': query.description } : {}),
    ...(query.status !== undefined ? { status: query.status } : {}),
  };
}
