// `callbacks`: the durable inbox of Evrotrust callbacks (CONTRACT.md "MongoDB").
// One document per accepted callback. `_id` is a hash of what makes a callback the same one
// (capability scope, transactionID, status, rejectReason), so a repeat is an insert that the unique
// `_id` refuses: idempotent on FerretDB too, which has no atomic conditional updates (STACK.md).
// Afterwards only the relay writes a document: its delivery state, attempts and next attempt time.
import { createHash } from 'node:crypto';
import { MongoServerError, type Collection, type Db } from 'mongodb';

export const CALLBACKS_COLLECTION = 'callbacks';

/**
 * pending: to be delivered (again) at `nextAttemptAt`;
 * delivered: the workflow was signalled;
 * signing-final / workflow-closed: nothing left to tell, retries stopped;
 * token-mismatch: came on a capability URL of another signing than its transaction's;
 * unknown-transaction: the transactionID never became known within the give-up time.
 */
export type DeliveryState = 'pending' | 'delivered' | 'signing-final' | 'workflow-closed' | 'token-mismatch' | 'unknown-transaction';

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
  /** When the relay may try next; also a lease: a claimed callback's time is pushed into the future. */
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastError: string | null;
  claimedBy: string | null;
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
  /** When the sweep may pick it up; later than receivedAt when this process delivers it right away. */
  nextAttemptAt: Date;
}

export class CallbackStoreUnavailableError extends Error {
  override readonly name = 'CallbackStoreUnavailableError';
  constructor(readonly operation: string, options?: { cause?: unknown }) {
    super(`the callback store did not take the ${operation}`, options);
  }
}

/** The inbox key: the same callback (on the same capability URL, if any) always gives the same id. */
export function callbackId(c: { transactionID: string; status: number; rejectReason: string | null; tokenSigningId: string | null }): string {
  return createHash('sha256')
    .update(JSON.stringify(['evrotrust-callback-v1', c.tokenSigningId, c.transactionID, c.status, c.rejectReason]))
    .digest('hex');
}

const MAX_EXTRA_DEPTH = 20;

/** Whether `value` can be stored as-is on MongoDB 7 and FerretDB (no $-prefixed or dotted keys, shallow). */
function storableAsDocument(value: unknown, depth = 0): boolean {
  if (depth > MAX_EXTRA_DEPTH) return false;
  if (Array.isArray(value)) return value.every((v) => storableAsDocument(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).every(([k, v]) => k !== '' && !k.startsWith('$') && !k.includes('.') && !k.includes('\0') && storableAsDocument(v, depth + 1));
  }
  return true;
}

function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === 11000;
}

/** Rejects after `ms`: a store that hangs must become a 503 well within Evrotrust's 30 s. */
function withTimeout<T>(promise: Promise<T>, ms: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CallbackStoreUnavailableError(operation, { cause: new Error(`timed out after ${ms} ms`) })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface CallbackInboxOptions {
  /** Upper bound for one store operation of the HTTP path (default 10 s). */
  timeoutMs?: number;
}

export class CallbackInbox {
  readonly collection: Collection<CallbackDoc>;
  private readonly timeoutMs: number;

  constructor(db: Db, options: CallbackInboxOptions = {}) {
    this.collection = db.collection<CallbackDoc>(CALLBACKS_COLLECTION);
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * Stores a callback durably; a repeat is recognized by its key and changes nothing.
   * Throws CallbackStoreUnavailableError when the store does not confirm the write (the caller
   * answers 503; if the write landed after all, Evrotrust's retry is then a harmless repeat).
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
      claimedBy: null,
    };
    try {
      await withTimeout(this.collection.insertOne(doc), this.timeoutMs, 'callback');
      return { doc, duplicate: false };
    } catch (err) {
      if (isDuplicateKey(err)) return { doc, duplicate: true };
      if (err instanceof CallbackStoreUnavailableError) throw err;
      throw new CallbackStoreUnavailableError('callback', { cause: err });
    }
  }

  get(id: string): Promise<CallbackDoc | null> {
    return this.collection.findOne({ _id: id });
  }

  /**
   * Claims up to `limit` pending callbacks that are due, by pushing their next attempt time past
   * `leaseMs`: another process's sweep skips them until the lease runs out (a crashed claimer's
   * callbacks are picked up again then). On FerretDB two claimers can both win one document; the
   * result is a duplicate signal, which the workflow ignores.
   */
  async claimDue(now: Date, limit: number, leaseMs: number, owner: string): Promise<CallbackDoc[]> {
    const due = await this.collection
      .find({ deliveryState: 'pending', nextAttemptAt: { $lte: now } })
      .sort({ nextAttemptAt: 1 })
      .limit(limit)
      .toArray();
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const claimed: CallbackDoc[] = [];
    for (const doc of due) {
      const res = await this.collection.updateOne(
        { _id: doc._id, deliveryState: 'pending', nextAttemptAt: doc.nextAttemptAt },
        { $set: { nextAttemptAt: leaseUntil, claimedBy: owner } },
      );
      if (res.modifiedCount === 1) claimed.push({ ...doc, nextAttemptAt: leaseUntil, claimedBy: owner });
    }
    return claimed;
  }

  async markDelivered(id: string, at: Date, signingId: string): Promise<void> {
    await this.collection.updateOne(
      { _id: id },
      {
        $set: { delivered: true, deliveredAt: at, deliveryState: 'delivered', signingId, nextAttemptAt: null, lastAttemptAt: at, lastError: null },
        $inc: { attempts: 1 },
      },
    );
  }

  /** Stops retrying: there is nothing (more) to deliver this callback to. */
  async markStopped(id: string, state: Exclude<DeliveryState, 'pending' | 'delivered'>, at: Date, reason: string, signingId: string | null): Promise<void> {
    await this.collection.updateOne(
      { _id: id },
      { $set: { deliveryState: state, signingId, nextAttemptAt: null, lastAttemptAt: at, lastError: reason }, $inc: { attempts: 1 } },
    );
  }

  async scheduleRetry(id: string, at: Date, nextAttemptAt: Date, reason: string, signingId: string | null): Promise<void> {
    await this.collection.updateOne(
      { _id: id, deliveryState: 'pending' },
      { $set: { nextAttemptAt, lastAttemptAt: at, lastError: reason, signingId }, $inc: { attempts: 1 } },
    );
  }

  countUndelivered(): Promise<number> {
    return this.collection.countDocuments({ deliveryState: 'pending' });
  }
}
