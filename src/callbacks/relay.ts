// The relay: delivers stored callbacks to their signing's workflow as the `evrotrustCallback`
// signal, from the durable inbox, so that a callback answered 200 is never lost.
//
// Each callback: transactionID → `transactions` (written by the workflow's send activity) →
// signing → signal `workflowIdFor(signingId)`. Until the transactionID is known, or while Temporal
// is unreachable, the callback stays pending and is retried with exponential backoff; once the
// signing is final or its workflow closed there is nothing left to tell, and retries stop.
//
// Design: at-least-once, with the `callback_queue` entry (same `_id` as the callback) as the only
// delivery state. No claims and no leases: every sweep reads the due entries (oldest due first,
// bounded) and tries each; success deletes the entry, a retry moves its due time on by the backoff,
// a stop deletes it; each outcome is written to the record first. Whatever crashes wherever, the
// entry is still there and due, so some later sweep tries again — nothing can strand a callback.
// The price is a possible duplicate signal (two processes sweeping at once, a crash after the signal
// and before the record update), which the workflow ignores by design; the claims and leases that
// avoided duplicates were what could strand one (a crash between the claim insert and the lease
// update), and FerretDB's non-atomic conditional updates rule out a cheaper lock.
//
// deliverSoon() gives a freshly stored callback an immediate attempt; its entry is due only after
// headStartMs, so sweeps (here or in other processes) normally leave it to that attempt, and an
// attempt a sweep starts first moves its entry's due time the same way (a plain update, not a claim:
// it only makes duplicates rare, and a crash just leaves the entry due a little later). Memory is
// bounded: at most maxInMemory callbacks are waiting or in flight here; beyond that deliverSoon()
// and sweeps leave them in the store, and a later sweep takes them.
//
// Unknown transactionIDs are bounded too: retried for giveUpUnknownAfterMs after receipt (1 h), at
// most maxUnknownPending of them at once (the oldest beyond that are given up), and the records of
// those given up are deleted after unknownRetentionMs (7 days) or beyond the newest maxUnknownKept.
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Db } from 'mongodb';
import { evrotrustCallbackSignal, workflowIdFor, type EvrotrustCallback } from '../../workflows/definitions';
import { SigningStore } from '../signings/store';
import { CallbackInbox, type CallbackDoc, type CallbackQueueDoc, type StoppedState } from './inbox';
import type { ServiceMetrics } from '../http/metrics';
import { callbackMetrics, type CallbackMetrics } from './metrics';
import { briefError } from '../lib/brief-error';

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
  /**
   * How long sweeps leave a freshly stored callback to the immediate attempt of the process that
   * received it (default 10 s). Only a duplicate signal depends on it, never a delivery.
   */
  headStartMs?: number;
  /** Upper bound for one signal call (default 10 s). */
  signalTimeoutMs?: number;
  /** Due entries read per sweep (default 100). */
  batchSize?: number;
  /**
   * Deliveries in flight at once in this process (default 4). Low on purpose: on FerretDB every
   * delivery's reads and updates compete with the inserts that acknowledge callbacks (bench/callbacks.ts
   * measured p99 acknowledgement 1.8 s with 4, 4.5 s with 16, under 1,000 callbacks 50 at a time).
   */
  concurrency?: number;
  /** Callbacks held in memory (waiting or in flight) at most (default 1,000); the rest wait in the store. */
  maxInMemory?: number;
  /** A transactionID still unknown this long after receipt is given up (default 1 h). */
  giveUpUnknownAfterMs?: number;
  /** Callbacks for unknown transactionIDs retried at once at most (default 1,000); the oldest beyond are given up. */
  maxUnknownPending?: number;
  /** Records of callbacks given up as unknown-transaction are deleted this long after their receipt (default 7 days). */
  unknownRetentionMs?: number;
  /** …and beyond the newest this many (default 10,000). */
  maxUnknownKept?: number;
  /** How often to prune those records (default 1 h). */
  pruneIntervalMs?: number;
  /** A queue entry whose record is still missing after this long is dropped (default 10 min). */
  orphanGraceMs?: number;
  /**
   * At start, queue again any pending callback without a queue entry (default true). Reads the
   * pending records once (index deliveryState_receivedAt; FerretDB scans, ~50 µs per callback stored).
   */
  requeueOnStart?: boolean;
}

/** What the HTTP side needs: hand over a freshly stored callback for an immediate attempt. */
export interface CallbackDeliverer {
  /** The stored callback's first `nextAttemptAt` is this far ahead, so sweeps leave it to us meanwhile. */
  readonly headStartMs: number;
  /** Tries it soon if there is room in memory; otherwise (or if this process dies) a sweep does. */
  deliverSoon(doc: CallbackDoc): void;
}

export interface CallbackRelay extends CallbackDeliverer {
  /** Takes due queue entries (as many as memory allows) for delivery; resolves with how many it took. */
  sweep(): Promise<number>;
  /** Callbacks this process holds in memory: waiting for a delivery slot or in flight. */
  inMemory(): number;
  /** Resolves once nothing is queued or in flight in this process (for tests and shutdown). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

type Outcome =
  | { kind: 'delivered'; signingId: string }
  | { kind: 'retry'; reason: string; signingId: string | null; unknownTransaction: boolean }
  | { kind: 'stop'; state: StoppedState; reason: string; signingId: string | null };

/** A callback to try: from deliverSoon() with its record, or from a sweep with its queue entry. */
type Job = { id: string; doc: CallbackDoc; entry?: undefined } | { id: string; doc?: undefined; entry: CallbackQueueDoc };

class Relay implements CallbackRelay {
  readonly headStartMs: number;
  private readonly inbox: CallbackInbox;
  private readonly signings: SigningStore;
  private readonly metrics: CallbackMetrics | undefined;
  private readonly log: RelayLogger;
  private readonly maxInMemory: number;
  private readonly waiting: Job[] = [];
  /** Ids waiting or in flight here: one attempt per callback at a time in this process. */
  private readonly held = new Set<string>();
  private readonly active = new Set<Promise<void>>();
  private idleWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;
  private lastPruneAt = -Infinity;
  private stopped = false;

  constructor(private readonly opts: CallbackRelayOptions) {
    this.headStartMs = opts.headStartMs ?? 10_000;
    this.maxInMemory = Math.max(1, opts.maxInMemory ?? 1000);
    this.inbox = new CallbackInbox(opts.db);
    this.signings = new SigningStore(opts.db);
    this.metrics = opts.metrics ? callbackMetrics(opts.metrics) : undefined;
    this.log = opts.logger ?? silent;
  }

  start(): void {
    if (this.opts.requeueOnStart !== false) {
      void this.inbox.requeuePending(new Date()).then(
        (n) => n > 0 && this.log.warn({ requeued: n }, 'callback relay: pending callbacks without a queue entry were queued again'),
        (err: unknown) =>
          this.log.warn({ err: briefError(err) }, 'callback relay: could not check for pending callbacks without a queue entry'),
      );
    }
    const loop = async (): Promise<void> => {
      if (this.stopped) return;
      // A store error is logged and the sweep runs again next interval: nothing was taken from the store.
      await this.sweep().catch((err: unknown) => this.log.warn({ err: briefError(err) }, 'callback relay: sweep failed; will try again'));
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.opts.sweepIntervalMs ?? 5000);
    };
    void loop();
  }

  deliverSoon(doc: CallbackDoc): void {
    if (!this.enqueue({ id: doc._id, doc }) && !this.stopped && !this.held.has(doc._id)) {
      this.log.debug(
        { callbackId: doc._id.slice(0, 12), inMemory: this.held.size },
        'callback relay: memory bound reached; a sweep will deliver it',
      );
    }
  }

  inMemory(): number {
    return this.held.size;
  }

  sweep(): Promise<number> {
    // One sweep at a time per process; a concurrent caller shares the running one.
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<number> {
    if (this.stopped) return 0;
    const now = new Date();
    let taken = 0;
    if (this.held.size < this.maxInMemory) {
      // Entries held here already are skipped (their attempt is under way), the rest taken while there is room.
      for (const entry of await this.inbox.due(now, this.opts.batchSize ?? 100)) {
        if (this.held.size >= this.maxInMemory) break;
        if (this.enqueue({ id: entry._id, entry })) taken += 1;
      }
    }
    await this.capUnknown(now);
    if (now.getTime() - this.lastPruneAt >= (this.opts.pruneIntervalMs ?? 3_600_000)) {
      this.lastPruneAt = now.getTime();
      const pruned = await this.inbox.pruneUnknown(
        new Date(now.getTime() - (this.opts.unknownRetentionMs ?? 7 * 86_400_000)),
        this.opts.maxUnknownKept ?? 10_000,
      );
      if (pruned > 0) this.log.info({ pruned }, 'callback relay: records of callbacks for unknown transactionIDs pruned');
    }
    if (this.metrics) this.metrics.undelivered.set(await this.inbox.countUndelivered());
    return taken;
  }

  /** Gives up the oldest callbacks for unknown transactionIDs beyond maxUnknownPending. */
  private async capUnknown(now: Date): Promise<void> {
    const cap = this.opts.maxUnknownPending ?? 1000;
    // At most a batch per sweep: a flood beyond the cap is worked off over a few sweeps.
    for (const entry of await this.inbox.unknownBeyondCap(cap, this.opts.batchSize ?? 100)) {
      if (this.held.has(entry._id)) continue; // its attempt here decides; the next sweep looks again
      await this.inbox.markStopped(
        entry._id,
        'unknown-transaction',
        now,
        `given up: more than ${cap} callbacks for unknown transactionIDs were waiting (cap)`,
        null,
        false,
      );
      this.metrics?.deliveries.inc({ result: 'unknown-transaction' });
      this.log.warn(
        { callbackId: entry._id.slice(0, 12), cap },
        'callback not delivered; given up: too many callbacks for unknown transactionIDs waiting',
      );
    }
  }

  idle(): Promise<void> {
    if (this.waiting.length === 0 && this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // Waiting callbacks simply stay in the store, due: any relay takes them later.
    for (const job of this.waiting.splice(0)) this.held.delete(job.id);
    await this.sweeping?.catch(() => undefined);
    await Promise.allSettled([...this.active]);
    this.notifyIdle();
  }

  /** False when the callback is already held here, memory is full, or the relay stopped. */
  private enqueue(job: Job): boolean {
    if (this.stopped || this.held.has(job.id) || this.held.size >= this.maxInMemory) return false;
    this.held.add(job.id);
    this.waiting.push(job);
    this.pump();
    return true;
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 4;
    while (!this.stopped && this.active.size < limit && this.waiting.length > 0) {
      const job = this.waiting.shift() as Job;
      const run: Promise<void> = this.attempt(job).finally(() => {
        this.active.delete(run);
        this.held.delete(job.id);
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

  /** The record to deliver from, or null when there is nothing to deliver (handled here). */
  private async pendingRecord(job: Job, at: Date): Promise<CallbackDoc | null> {
    if (job.doc) return job.doc;
    // Not a claim, only a courtesy: other relays' sweeps leave the entry alone while this attempt
    // runs. It cannot strand anything — the entry stays queued and comes due again by itself.
    await this.inbox.postpone(job.id, new Date(at.getTime() + this.headStartMs));
    const doc = await this.inbox.get(job.id);
    if (doc === null) {
      const orphanGraceMs = this.opts.orphanGraceMs ?? 600_000;
      if (at.getTime() - job.entry.enqueuedAt.getTime() > orphanGraceMs) {
        // The record's insert failed (the caller got 503); it cannot arrive any more.
        await this.inbox.dequeue(job.id);
      } else {
        // It may still be on its way: look again later, without holding the head of the queue.
        await this.inbox.postpone(job.id, new Date(at.getTime() + Math.min(this.opts.retryMaxMs ?? 300_000, 30_000)));
      }
      return null;
    }
    if (doc.deliveryState !== 'pending') {
      await this.inbox.dequeue(job.id); // settled (by another relay, or a repeat's entry): nothing to send
      return null;
    }
    return doc;
  }

  private async attempt(job: Job): Promise<void> {
    const at = new Date();
    let doc: CallbackDoc | null;
    try {
      doc = await this.pendingRecord(job, at);
    } catch (err) {
      // The entry is untouched and still due: a later sweep tries again.
      this.log.warn(
        { callbackId: job.id.slice(0, 12), err: briefError(err) },
        'callback relay: could not read the callback; will try again',
      );
      return;
    }
    if (doc === null) return;
    let outcome: Outcome;
    try {
      outcome = await this.deliver(doc, at);
    } catch (err) {
      // The store failed us while looking things up: keep the callback pending.
      outcome = { kind: 'retry', reason: `store: ${briefError(err)}`, signingId: doc.signingId, unknownTransaction: false };
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
          await this.inbox.scheduleRetry(
            doc._id,
            at,
            new Date(at.getTime() + delay),
            outcome.reason,
            outcome.signingId,
            outcome.unknownTransaction,
          );
          this.metrics?.deliveries.inc({ result: 'retry' });
          this.log.warn({ ...ctx, retryInMs: delay, reason: outcome.reason }, 'callback not delivered yet; will retry');
          return;
        }
      }
    } catch (err) {
      // Not recorded: the entry is still due (or due after its head start), so it is tried again
      // (a repeated signal is harmless).
      this.log.warn({ ...ctx, err: briefError(err) }, 'callback relay: could not record the delivery outcome');
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
    const tx = await this.signings.transaction(doc.transactionID);
    if (!tx) {
      const waited = at.getTime() - doc.receivedAt.getTime();
      if (waited > (this.opts.giveUpUnknownAfterMs ?? 3_600_000)) {
        return {
          kind: 'stop',
          state: 'unknown-transaction',
          reason: `transactionID unknown after ${Math.round(waited / 1000)} s`,
          signingId: null,
        };
      }
      return { kind: 'retry', reason: 'transactionID not registered (yet)', signingId: null, unknownTransaction: true };
    }
    const signingId = tx.signingId;
    if (doc.tokenSigningId !== null && doc.tokenSigningId !== signingId) {
      return {
        kind: 'stop',
        state: 'token-mismatch',
        reason: 'the transaction belongs to another signing than the callback URL',
        signingId,
      };
    }
    const status = await this.signings.statusOf(signingId);
    if (status !== null && status !== 'pending') {
      return { kind: 'stop', state: 'signing-final', reason: `signing is already ${status}`, signingId };
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
      if (err instanceof WorkflowNotFoundError) return { kind: 'stop', state: 'workflow-closed', reason: briefError(err), signingId };
      return { kind: 'retry', reason: `temporal: ${briefError(err)}`, signingId, unknownTransaction: false };
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
