// The relay: delivers stored callbacks to their signing's workflow as the `evrotrustCallback`
// signal, from the durable inbox, so that a callback answered 200 is never lost.
//
// Each callback: transactionID → `transactions` (written by the workflow's send activity) →
// signing → signal `workflowIdFor(signingId)`. Until the transactionID is known, or while Temporal
// is unreachable, the callback stays pending and is retried with exponential backoff; once the
// signing is final or its workflow closed there is nothing left to tell, and retries stop.
//
// Two paths feed it: deliverSoon() right after the HTTP handler stored a callback (the answer does
// not wait), and a periodic sweep over the due entries of `callback_queue` (see store/callbacks.ts).
// Several service processes may each run a relay on the same store: a sweep claims an entry with a
// unique insert (atomic on FerretDB too) and pushes its due time one lease into the future. A
// duplicate signal can still happen — a lease that ran out while its holder was still busy (a signal
// slower than the lease), or the immediate attempt of the receiving process racing a sweep after a
// lease ran out — and is harmless by design: the workflow ignores a repeated callback.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Db } from 'mongodb';
import { evrotrustCallbackSignal, workflowIdFor, type EvrotrustCallback } from '../../workflows/definitions';
import type { SigningDoc, TransactionDoc } from '../store/documents';
import { CallbackInbox, type CallbackDoc, type StoppedState } from '../store/callbacks';
import type { ServiceMetrics } from '../metrics';
import { callbackMetrics, type CallbackMetrics } from './metrics';

export interface RelayLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silent: RelayLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface CallbackRelayOptions {
  db: Db;
  temporalClient: Client;
  metrics?: ServiceMetrics;
  logger?: RelayLogger;
  /** How often to look for due pending callbacks (default 5 s). */
  sweepIntervalMs?: number;
  /** First retry delay; doubles per attempt (default 1 s). */
  retryBaseMs?: number;
  /** Longest retry delay (default 5 min). */
  retryMaxMs?: number;
  /** How long a claimed callback is left to its claimer before another process may take it (default 60 s). */
  leaseMs?: number;
  /** Upper bound for one signal call (default 10 s). */
  signalTimeoutMs?: number;
  /** Callbacks claimed per sweep (default 100). */
  batchSize?: number;
  /**
   * Deliveries in flight at once in this process (default 4). Low on purpose: on FerretDB every
   * delivery's reads and updates compete with the inserts that acknowledge callbacks (bench/callbacks.ts
   * measured p99 acknowledgement 1.8 s with 4, 4.5 s with 16, under 1,000 callbacks 50 at a time).
   */
  concurrency?: number;
  /** A transactionID still unknown this long after receipt is given up (default 7 days). */
  giveUpUnknownAfterMs?: number;
  /** Names this process in `claimedBy` (default host:pid:random). */
  owner?: string;
  /** A queue entry whose record is still missing after this long is dropped (default 10 min). */
  orphanGraceMs?: number;
  /**
   * At start, queue again any pending callback without a queue entry (default true). Scans
   * `callbacks` once, which FerretDB does at ~50 µs per callback stored.
   */
  requeueOnStart?: boolean;
}

/** What the HTTP side needs: hand over a freshly stored callback for an immediate attempt. */
export interface CallbackDeliverer {
  /** The stored callback's first `nextAttemptAt` is this far ahead, so sweeps leave it to us meanwhile. */
  readonly leaseMs: number;
  deliverSoon(doc: CallbackDoc): void;
}

export interface CallbackRelay extends CallbackDeliverer {
  /** Claims due queue entries and delivers their callbacks; resolves with how many were claimed. */
  sweep(): Promise<number>;
  /** Resolves once nothing is queued or in flight in this process (for tests and shutdown). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

type Outcome =
  | { kind: 'delivered'; signingId: string }
  | { kind: 'retry'; reason: string; signingId: string | null }
  | { kind: 'stop'; state: StoppedState; reason: string; signingId: string | null };

/** The first line of an error's message: Temporal and driver messages can be long. */
function brief(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return (text.split('\n')[0] ?? text).slice(0, 300);
}

class Relay implements CallbackRelay {
  readonly leaseMs: number;
  private readonly inbox: CallbackInbox;
  private readonly transactions;
  private readonly signings;
  private readonly metrics: CallbackMetrics | undefined;
  private readonly log: RelayLogger;
  private readonly owner: string;
  /** Callbacks waiting for a delivery slot in this process, with the claim (sweeps) they hold. */
  private readonly waiting: { doc: CallbackDoc; claimId?: string }[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Set<Promise<void>>();
  private idleWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;
  private stopped = false;

  constructor(private readonly opts: CallbackRelayOptions) {
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.inbox = new CallbackInbox(opts.db);
    this.transactions = opts.db.collection<TransactionDoc>('transactions');
    this.signings = opts.db.collection<SigningDoc>('signings');
    this.metrics = opts.metrics ? callbackMetrics(opts.metrics) : undefined;
    this.log = opts.logger ?? silent;
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  }

  start(): void {
    if (this.opts.requeueOnStart !== false) {
      void this.inbox.requeuePending(new Date()).then(
        (n) => n > 0 && this.log.warn({ requeued: n }, 'callback relay: pending callbacks without a queue entry were queued again'),
        (err: unknown) => this.log.warn({ err: brief(err) }, 'callback relay: could not check for pending callbacks without a queue entry'),
      );
    }
    const loop = async (): Promise<void> => {
      if (this.stopped) return;
      await this.sweep().catch((err: unknown) => this.log.warn({ err: brief(err) }, 'callback relay: sweep failed; will try again'));
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.opts.sweepIntervalMs ?? 5000);
    };
    void loop();
  }

  deliverSoon(doc: CallbackDoc): void {
    this.enqueue(doc);
  }

  sweep(): Promise<number> {
    // One sweep at a time per process; a concurrent caller shares the running one.
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<number> {
    if (this.stopped) return 0;
    const now = new Date();
    const room = (this.opts.batchSize ?? 100) - this.waiting.length;
    let claimed = 0;
    if (room > 0) {
      const orphanGraceMs = this.opts.orphanGraceMs ?? 600_000;
      for (const { entry, doc, claimId } of await this.inbox.claimDue(now, room, this.leaseMs, this.owner)) {
        claimed += 1;
        if (doc !== null && doc.deliveryState === 'pending') {
          if (!this.enqueue(doc, claimId)) await this.inbox.releaseClaim(claimId);
          continue;
        }
        if (doc !== null) {
          await this.inbox.dequeue(entry._id); // a repeat of a settled callback: nothing to send
        } else if (now.getTime() - entry.enqueuedAt.getTime() > orphanGraceMs) {
          // The record's insert failed (the caller got 503); it cannot arrive any more.
          await this.inbox.dequeue(entry._id);
        } // else the record may still be on its way: the lease brings the entry back
        await this.inbox.releaseClaim(claimId);
      }
    }
    if (this.metrics) this.metrics.undelivered.set(await this.inbox.countUndelivered());
    return claimed;
  }

  idle(): Promise<void> {
    if (this.waiting.length === 0 && this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // Waiting callbacks stay leased until the lease runs out; then any relay takes them again.
    for (const { doc, claimId } of this.waiting.splice(0)) {
      this.queued.delete(doc._id);
      if (claimId) await this.inbox.releaseClaim(claimId).catch(() => undefined);
    }
    await this.sweeping?.catch(() => undefined);
    await Promise.allSettled([...this.active]);
    this.notifyIdle();
  }

  /** False when the callback is already being handled here (or the relay stopped). */
  private enqueue(doc: CallbackDoc, claimId?: string): boolean {
    if (this.stopped || this.queued.has(doc._id)) return false;
    this.queued.add(doc._id);
    this.waiting.push({ doc, claimId });
    this.pump();
    return true;
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 4;
    while (!this.stopped && this.active.size < limit && this.waiting.length > 0) {
      const { doc, claimId } = this.waiting.shift() as { doc: CallbackDoc; claimId?: string };
      const run: Promise<void> = this.attempt(doc, claimId).finally(() => {
        this.active.delete(run);
        this.queued.delete(doc._id);
        this.pump();
        this.notifyIdle();
      });
      this.active.add(run);
    }
  }

  private notifyIdle(): void {
    if (this.waiting.length > 0 || this.active.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async attempt(doc: CallbackDoc, claimId: string | undefined): Promise<void> {
    const at = new Date();
    let outcome: Outcome;
    try {
      outcome = await this.deliver(doc, at);
    } catch (err) {
      // The store failed us while looking things up: keep the callback pending.
      outcome = { kind: 'retry', reason: `store: ${brief(err)}`, signingId: doc.signingId };
    }
    const ctx = { callbackId: doc._id.slice(0, 12), transactionID: doc.transactionID, status: doc.status, attempt: doc.attempts + 1 };
    try {
      switch (outcome.kind) {
        case 'delivered':
          await this.inbox.markDelivered(doc._id, at, outcome.signingId);
          this.metrics?.deliveries.inc({ result: 'delivered' });
          this.metrics?.deliveryLagSeconds.observe((at.getTime() - doc.receivedAt.getTime()) / 1000);
          this.log.info({ ...ctx, signingId: outcome.signingId }, 'callback delivered to its workflow');
          return;
        case 'stop':
          await this.inbox.markStopped(doc._id, outcome.state, at, outcome.reason, outcome.signingId);
          this.metrics?.deliveries.inc({ result: outcome.state });
          (outcome.state === 'signing-final' || outcome.state === 'workflow-closed' ? this.log.info : this.log.warn).call(
            this.log,
            { ...ctx, signingId: outcome.signingId, state: outcome.state, reason: outcome.reason },
            'callback not delivered; retries stopped',
          );
          return;
        case 'retry': {
          const delay = this.backoff(doc.attempts);
          await this.inbox.scheduleRetry(doc._id, at, new Date(at.getTime() + delay), outcome.reason, outcome.signingId);
          this.metrics?.deliveries.inc({ result: 'retry' });
          this.log.warn({ ...ctx, retryInMs: delay, reason: outcome.reason }, 'callback not delivered yet; will retry');
          return;
        }
      }
    } catch (err) {
      // Not recorded: the entry stays leased until the lease ends, then it is tried again
      // (a repeated signal is harmless).
      this.log.warn({ ...ctx, err: brief(err) }, 'callback relay: could not record the delivery outcome');
    } finally {
      // The entry has moved on (rescheduled, removed, or leased to a later time): the turn is over.
      if (claimId) await this.inbox.releaseClaim(claimId).catch(() => undefined);
    }
  }

  /** Exponential backoff with jitter (±25 %), capped. */
  private backoff(previousAttempts: number): number {
    const base = this.opts.retryBaseMs ?? 1000;
    const max = this.opts.retryMaxMs ?? 300_000;
    const raw = Math.min(max, base * 2 ** Math.min(previousAttempts, 30));
    return Math.round(raw * (0.75 + Math.random() * 0.5));
  }

  private async deliver(doc: CallbackDoc, at: Date): Promise<Outcome> {
    const tx = await this.transactions.findOne({ _id: doc.transactionID });
    if (!tx) {
      const waited = at.getTime() - doc.receivedAt.getTime();
      if (waited > (this.opts.giveUpUnknownAfterMs ?? 7 * 86_400_000)) {
        return { kind: 'stop', state: 'unknown-transaction', reason: `transactionID unknown after ${Math.round(waited / 1000)} s`, signingId: null };
      }
      return { kind: 'retry', reason: 'transactionID not registered (yet)', signingId: null };
    }
    const signingId = tx.signingId;
    if (doc.tokenSigningId !== null && doc.tokenSigningId !== signingId) {
      return { kind: 'stop', state: 'token-mismatch', reason: 'the transaction belongs to another signing than the callback URL', signingId };
    }
    const signing = await this.signings.findOne({ _id: signingId }, { projection: { status: 1 } });
    if (signing && signing.status !== 'pending') {
      return { kind: 'stop', state: 'signing-final', reason: `signing is already ${signing.status}`, signingId };
    }
    // No rejectReason: it is the signer's free text and Temporal's history must hold no personal
    // data; the workflow confirms the status (and reads the reason) from /document/status anyway.
    const payload: EvrotrustCallback = { transactionID: doc.transactionID, status: doc.status, callbackId: doc._id };
    const client = this.opts.temporalClient;
    try {
      await client.withDeadline(Date.now() + (this.opts.signalTimeoutMs ?? 10_000), () =>
        client.workflow.getHandle(tx.workflowId || workflowIdFor(signingId)).signal(evrotrustCallbackSignal, payload),
      );
    } catch (err) {
      // Not found = the workflow has completed (or never existed): nothing will ever take the signal.
      if (err instanceof WorkflowNotFoundError) return { kind: 'stop', state: 'workflow-closed', reason: brief(err), signingId };
      return { kind: 'retry', reason: `temporal: ${brief(err)}`, signingId };
    }
    return { kind: 'delivered', signingId };
  }
}

/** Starts the relay: a sweep now and every `sweepIntervalMs`, plus immediate attempts via deliverSoon(). */
export function startCallbackRelay(options: CallbackRelayOptions): CallbackRelay {
  const relay = new Relay(options);
  relay.start();
  return relay;
}
