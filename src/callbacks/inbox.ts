// The durable inbox of Evrotrust callbacks (README "Collections").
//
// `callbacks`: one document per accepted callback, kept for good. `_id` is a hash of what makes a
// callback the same one (capability scope, transactionID, status, rejectReason), so a repeat is an
// insert that the unique `_id` refuses: idempotent on FerretDB too, which has no atomic conditional
// updates (README "Known limits"). Afterwards only the relay writes it: delivery state, attempts, last error.
//
// `callback_queue`: one small document per callback still to be delivered, same `_id`, removed once
// the callback is delivered or given up. It is the relay's only delivery state (no claims, no
// leases: see src/callbacks/relay.ts). The relay's sweep reads only this collection: FerretDB 1.24
// answers queries on fields other than `_id` by scanning the collection (measured: ~1.6 s for 30,000
// callbacks), so a sweep over `callbacks` itself would slow down with every callback ever received.
// (`callback_claims`, the claims of earlier versions, is no longer read or written.)
// CallbackInbox is the one place that reads and writes both collections (relay, routes and tests
// included): its collections are private.
//
// Order of writes for a new callback, with no transactions: the queue entry first, then the record.
// So a stored record always had a queue entry; a queue entry whose record never came (the insert
// failed: the caller got 503) is dropped by the relay after a grace time; the entry a repeat of an
// already settled callback creates is removed again at once (or by the relay, without a signal).
import type { Collection, Db } from 'mongodb';
import { sha256Hex } from '../lib/hash';
import { COLLECTIONS } from '../store/collections';
import { insertIfAbsent } from '../store/insert-if-absent';
import { withTimeout } from '../lib/timeout';

/**
 * pending: to be delivered (again);
 * delivered: the workflow was signalled;
 * signing-final / workflow-closed: nothing left to tell, retries stopped;
 * token-mismatch: came on a capability URL of another signing than its transaction's;
 * unknown-transaction: the transactionID did not become known within the give-up time, or too many
 *   callbacks for unknown transactionIDs were waiting (the oldest go first); pruned after a retention time.
 */
export type DeliveryState = 'pending' | 'delivered' | 'signing-final' | 'workflow-closed' | 'token-mismatch' | 'unknown-transaction';
export type StoppedState = Exclude<DeliveryState, 'pending' | 'delivered'>;

export interface CallbackDoc {
  _id: string;
  transactionID: string;
  status: number;
  rejectReason: string | null;
  /** Fields Evrotrust sent beyond the three known ones, kept as sent. */
  extra: Record<string, unknown> | null;
  /** The same, as JSON text, when their keys cannot be stored as a document ($-prefixed, dotted, too deep). */
  extraJson: string | null;
  /** The request path with the capability token replaced by `:token`. */
  path: string;
  form: 'plain' | 'token';
  /** The signing the capability token belongs to (token form only). */
  tokenSigningId: string | null;
  /** The caller as the allowlist decided it (X-Forwarded-For through a trusted proxy). */
  sourceAddress: string;
  /** The socket's peer (differs from sourceAddress behind a proxy). */
  peerAddress: string;
  receivedAt: Date;
  delivered: boolean;
  deliveredAt: Date | null;
  deliveryState: DeliveryState;
  /** The signing the transaction belongs to, once looked up. */
  signingId: string | null;
  attempts: number;
  /** When the relay tries next (informational; the queue entry decides); null once settled. */
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastError: string | null;
}

/** `callback_queue`: a callback still to be delivered. */
export interface CallbackQueueDoc {
  _id: string;
  /** When any relay should try it (next); moved on by every attempt. */
  nextAttemptAt: Date;
  enqueuedAt: Date;
  /** Set once an attempt found the transactionID unknown: these are capped (relay's maxUnknownPending). */
  unknownTransaction?: boolean;
}

export interface NewCallback {
  transactionID: string;
  status: number;
  rejectReason: string | null;
  extra: Record<string, unknown>;
  path: string;
  form: 'plain' | 'token';
  tokenSigningId: string | null;
  sourceAddress: string;
  peerAddress: string;
  receivedAt: Date;
  /** When a sweep may pick it up; later than receivedAt when this process tries it right away. */
  nextAttemptAt: Date;
}

export class CallbackStoreUnavailableError extends Error {
  override readonly name = 'CallbackStoreUnavailableError';
  constructor(
    readonly operation: string,
    options?: { cause?: unknown },
  ) {
    super(`the callback store did not take the ${operation}`, options);
  }
}

/** The inbox key: the same callback (on the same capability URL, if any) always gives the same id. */
export function callbackId(c: {
  transactionID: string;
  status: number;
  rejectReason: string | null;
  tokenSigningId: string | null;
}): string {
  return sha256Hex(JSON.stringify(['evrotrust-callback-v1', c.tokenSigningId, c.transactionID, c.status, c.rejectReason]));
}

const MAX_EXTRA_DEPTH = 20;

/** Whether `value` can be stored as-is on MongoDB 7 and FerretDB (no $-prefixed or dotted keys, shallow). */
function storableAsDocument(value: unknown, depth = 0): boolean {
  if (depth > MAX_EXTRA_DEPTH) return false;
  if (Array.isArray(value)) return value.every((v) => storableAsDocument(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).every(
      ([k, v]) => k !== '' && !k.startsWith('$') && !k.includes('.') && !k.includes('\0') && storableAsDocument(v, depth + 1),
    );
  }
  return true;
}

export interface CallbackInboxOptions {
  /** Upper bound for storing one callback (default 10 s). */
  timeoutMs?: number;
}

export class CallbackInbox {
  private readonly callbacks: Collection<CallbackDoc>;
  private readonly queue: Collection<CallbackQueueDoc>;
  private readonly timeoutMs: number;

  constructor(db: Db, options: CallbackInboxOptions = {}) {
    this.callbacks = db.collection<CallbackDoc>(COLLECTIONS.callbacks);
    this.queue = db.collection<CallbackQueueDoc>(COLLECTIONS.callbackQueue);
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * Stores a callback durably; a repeat is recognized by its key and leaves the record unchanged.
   * Throws CallbackStoreUnavailableError when the store does not confirm both writes (the caller
   * answers 503; if a write landed after all, Evrotrust's retry is then a harmless repeat).
   */
  async store(input: NewCallback): Promise<{ doc: CallbackDoc; duplicate: boolean }> {
    const storable = storableAsDocument(input.extra);
    const hasExtra = Object.keys(input.extra).length > 0;
    const doc: CallbackDoc = {
      _id: callbackId(input),
      transactionID: input.transactionID,
      status: input.status,
      rejectReason: input.rejectReason,
      extra: hasExtra && storable ? input.extra : null,
      extraJson: hasExtra && !storable ? JSON.stringify(input.extra) : null,
      path: input.path,
      form: input.form,
      tokenSigningId: input.tokenSigningId,
      sourceAddress: input.sourceAddress,
      peerAddress: input.peerAddress,
      receivedAt: input.receivedAt,
      delivered: false,
      deliveredAt: null,
      deliveryState: 'pending',
      signingId: null,
      attempts: 0,
      nextAttemptAt: input.nextAttemptAt,
      lastAttemptAt: null,
      lastError: null,
    };
    const write = async (): Promise<boolean> => {
      const queued = await insertIfAbsent(this.queue, { _id: doc._id, nextAttemptAt: input.nextAttemptAt, enqueuedAt: input.receivedAt });
      const inserted = await insertIfAbsent(this.callbacks, doc);
      if (queued && !inserted) {
        // A repeat of a callback whose queue entry is gone: normally it is settled, and the entry we
        // just made goes again; if it is still pending (see requeuePending) the entry stays.
        const existing = await this.callbacks.findOne({ _id: doc._id }, { projection: { deliveryState: 1 } });
        if (existing && existing.deliveryState !== 'pending') await this.dequeue(doc._id);
      }
      return inserted;
    };
    try {
      // A store that hangs must become a 503 well within Evrotrust's 30 s.
      const inserted = await withTimeout(write(), this.timeoutMs);
      return { doc, duplicate: !inserted };
    } catch (err) {
      if (err instanceof CallbackStoreUnavailableError) throw err;
      throw new CallbackStoreUnavailableError('callback', { cause: err });
    }
  }

  get(id: string): Promise<CallbackDoc | null> {
    return this.callbacks.findOne({ _id: id });
  }

  /** The records of several callbacks (those that exist), in no particular order. */
  getMany(ids: readonly string[]): Promise<CallbackDoc[]> {
    return this.callbacks.find({ _id: { $in: [...ids] } }).toArray();
  }

  /** Every stored callback for a transactionID (index transactionID), oldest first (a handful: sorted here, not by an index). */
  async byTransaction(transactionID: string): Promise<CallbackDoc[]> {
    const docs = await this.callbacks.find({ transactionID }).toArray();
    return docs.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
  }

  /** How many records there are in a delivery state (index deliveryState_receivedAt; for tests and tools). */
  countInState(state: DeliveryState): Promise<number> {
    return this.callbacks.countDocuments({ deliveryState: state });
  }

  /** How many callbacks were ever stored (and not pruned): the collection's count, not a scan. */
  count(): Promise<number> {
    return this.callbacks.estimatedDocumentCount();
  }

  /** A callback's queue entry, or null when it is not (or no longer) queued. */
  queueEntry(id: string): Promise<CallbackQueueDoc | null> {
    return this.queue.findOne({ _id: id });
  }

  /**
   * Up to `limit` due queue entries, the longest due first: an entry that keeps failing is pushed
   * back by its backoff, so it cannot hold the head of the queue. Nothing is claimed — several relays
   * may read the same entry and each deliver it, which the workflow ignores.
   */
  due(now: Date, limit: number): Promise<CallbackQueueDoc[]> {
    return this.queue
      .find({ nextAttemptAt: { $lte: now } })
      .sort({ nextAttemptAt: 1 })
      .limit(limit)
      .toArray();
  }

  async markDelivered(id: string, at: Date, signingId: string): Promise<void> {
    await this.callbacks.updateOne(
      { _id: id },
      {
        $set: {
          delivered: true,
          deliveredAt: at,
          deliveryState: 'delivered',
          signingId,
          nextAttemptAt: null,
          lastAttemptAt: at,
          lastError: null,
        },
        $inc: { attempts: 1 },
      },
    );
    await this.dequeue(id);
  }

  /**
   * Stops retrying: there is nothing (more) to deliver this callback to. Only a pending record is
   * changed (a concurrent delivery wins); `attempted` false when no delivery was tried (the cap).
   */
  async markStopped(id: string, state: StoppedState, at: Date, reason: string, signingId: string | null, attempted = true): Promise<void> {
    await this.callbacks.updateOne(
      { _id: id, deliveryState: 'pending' },
      {
        $set: { deliveryState: state, signingId, nextAttemptAt: null, lastAttemptAt: at, lastError: reason },
        $inc: { attempts: attempted ? 1 : 0 },
      },
    );
    await this.dequeue(id);
  }

  /** Record first, then the entry: a crash between the two only brings the attempt back early. */
  async scheduleRetry(
    id: string,
    at: Date,
    nextAttemptAt: Date,
    reason: string,
    signingId: string | null,
    unknownTransaction: boolean,
  ): Promise<void> {
    await this.callbacks.updateOne(
      { _id: id, deliveryState: 'pending' },
      { $set: { nextAttemptAt, lastAttemptAt: at, lastError: reason, signingId }, $inc: { attempts: 1 } },
    );
    // No upsert: an entry another relay removed meanwhile (delivered, given up) stays removed.
    await this.queue.updateOne({ _id: id }, { $set: { nextAttemptAt, unknownTransaction } });
  }

  /** Moves an entry's due time without an attempt (a record that may still be on its way). */
  async postpone(id: string, nextAttemptAt: Date): Promise<void> {
    await this.queue.updateOne({ _id: id }, { $set: { nextAttemptAt } });
  }

  /** Removes a queue entry (its callback is settled, or its record never came). */
  async dequeue(id: string): Promise<void> {
    await this.queue.deleteOne({ _id: id });
  }

  /**
   * Callbacks waiting for delivery (the queue's size), for the metric every sweep sets: the
   * collection's count (MongoDB keeps it; no documents are read), not a countDocuments scan.
   */
  countUndelivered(): Promise<number> {
    return this.queue.estimatedDocumentCount();
  }

  /**
   * The queued callbacks for unknown transactionIDs beyond the first `cap`, oldest first (those are
   * given up). Counts only the queue, which holds just what is still to be delivered.
   */
  async unknownBeyondCap(cap: number, limit = Infinity): Promise<CallbackQueueDoc[]> {
    const count = await this.countQueuedUnknown();
    if (count <= cap) return [];
    return this.queue
      .find({ unknownTransaction: true })
      .sort({ enqueuedAt: 1 })
      .limit(Math.min(count - cap, limit))
      .toArray();
  }

  /** Queued callbacks whose transactionID an attempt found unknown. */
  countQueuedUnknown(): Promise<number> {
    return this.queue.countDocuments({ unknownTransaction: true });
  }

  /**
   * Deletes the records of callbacks given up as `unknown-transaction` that were received before
   * `receivedBefore` (they are given up within the relay's give-up time of receipt), and beyond the
   * newest `maxKept` of them. Index deliveryState_receivedAt, so it reads only those records; still
   * a periodic job, not one for every sweep. Returns how many records it deleted.
   */
  async pruneUnknown(receivedBefore: Date, maxKept: number): Promise<number> {
    const state: DeliveryState = 'unknown-transaction';
    const expired = await this.callbacks.deleteMany({ deliveryState: state, receivedAt: { $lt: receivedBefore } });
    let deleted = expired.deletedCount;
    const kept = await this.callbacks.countDocuments({ deliveryState: state });
    if (kept > maxKept) {
      const oldest = await this.callbacks
        .find({ deliveryState: state }, { projection: { _id: 1 } })
        .sort({ receivedAt: 1 })
        .limit(kept - maxKept)
        .toArray();
      deleted += (await this.callbacks.deleteMany({ _id: { $in: oldest.map((d) => d._id) }, deliveryState: state })).deletedCount;
    }
    return deleted;
  }

  /**
   * Re-queues every pending record that lost its queue entry (only possible if a record insert
   * landed after its queue entry was already dropped as orphaned). Reads the pending records once
   * (index deliveryState_receivedAt): for the relay's start, not for every sweep. Returns how many
   * entries it created.
   */
  async requeuePending(now: Date): Promise<number> {
    let created = 0;
    for await (const { _id } of this.callbacks.find({ deliveryState: 'pending' }, { projection: { _id: 1 } })) {
      if (await insertIfAbsent(this.queue, { _id, nextAttemptAt: now, enqueuedAt: now })) created += 1;
    }
    return created;
  }
}
