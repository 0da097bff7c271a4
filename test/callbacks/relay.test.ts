// The relay, against the real dev server and FerretDB: delivery from the stored record, a callback
// that arrives before its transaction is registered, signings already final, closed workflows,
// give-up for transactions that never become known, and several relays sharing one inbox.
// Crash leftovers, memory bounds and the unknown-transaction cap: relay-failures.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { startCallbackRelay, type CallbackRelay } from '../../src/callbacks';
import { ServiceMetrics } from '../../src/http/metrics';
import { CallbackInbox, CallbackStoreUnavailableError, callbackId, type CallbackDoc } from '../../src/callbacks/inbox';
import { faultyDb } from '../helpers/store-faults';
import type { MongoHandle } from '../../src/store/mongo';
import { temporalClient, testDatabase } from '../helpers/stack';
import {
  callbackSignals,
  callbackFor,
  callbacksOf,
  fakeSigning,
  histogramCount,
  metricValue,
  post,
  registerTransaction,
  startCallbackApp,
  terminateQuietly,
  type CallbackApp,
  type FakeSigning,
} from './helpers';
import { waitFor } from '../helpers/wait';

const PATH = '/evrotrust/callback/document/ready';
const FAST = { sweepIntervalMs: 100, retryBaseMs: 50, retryMaxMs: 300, signalTimeoutMs: 3000 };

describe('callback relay', () => {
  let mongo: MongoHandle;
  let temporal: { client: Client; close(): Promise<void> };
  let metrics: ServiceMetrics;
  let relay: CallbackRelay;
  let a: CallbackApp;
  const workflows: string[] = [];

  before(async () => {
    mongo = await testDatabase();
    temporal = await temporalClient();
    metrics = new ServiceMetrics({ defaultMetrics: false });
    relay = startCallbackRelay({ db: mongo.db, temporalClient: temporal.client, metrics, ...FAST });
    a = await startCallbackApp({ db: mongo.db, relay, metrics });
  });
  after(async () => {
    await a?.close();
    await relay?.stop();
    await Promise.all(workflows.map((w) => terminateQuietly(temporal.client, w)));
    await temporal?.close();
    await mongo?.close();
  });

  async function signing(opts: Parameters<typeof fakeSigning>[2] = {}): Promise<FakeSigning> {
    const s = await fakeSigning(mongo.db, temporal.client, opts);
    workflows.push(s.workflowId);
    return s;
  }
  const doc = (tx: string) => callbackFor(mongo.db, tx);
  const queued = (id: string) => callbacksOf(mongo.db).queueEntry(id);
  const newCallback = (transactionID: string, at = new Date()) => ({
    transactionID,
    status: 2,
    rejectReason: null,
    extra: {},
    path: PATH,
    form: 'plain' as const,
    tokenSigningId: null,
    sourceAddress: '127.0.0.2',
    peerAddress: '127.0.0.2',
    receivedAt: at,
    nextAttemptAt: at,
  });

  it('delivers right after storing, without waiting for a sweep, and records the lag', async () => {
    const slow = startCallbackRelay({ db: mongo.db, temporalClient: temporal.client, sweepIntervalMs: 600_000, headStartMs: 600_000 });
    const app = await startCallbackApp({ db: mongo.db, relay: slow });
    try {
      const s = await signing();
      await slow.idle();
      const res = await post(app.port, PATH, { transactionID: s.transactionId, status: 2 });
      assert.equal(res.status, 200);
      const d = await waitFor(
        async () => {
          const x = await doc(s.transactionId);
          return x?.delivered && x;
        },
        'immediate delivery',
        5000,
      );
      assert.equal(d.deliveryState, 'delivered');
      assert.equal(d.attempts, 1);
      assert.equal(d.signingId, s.signingId);
      assert.ok(d.deliveredAt instanceof Date && d.deliveredAt >= d.receivedAt);
      assert.deepEqual(await callbackSignals(temporal.client, s.workflowId), [
        { transactionID: s.transactionId, status: 2, callbackId: d._id },
      ]);
    } finally {
      await app.close();
      await slow.stop();
    }
  });

  it('registerCallbacks with a temporalClient runs its own relay, with the app’s logger, until the app closes', async () => {
    const app = await startCallbackApp({ db: mongo.db, temporalClient: temporal.client, relayOptions: { sweepIntervalMs: 600_000 } });
    let closed = false;
    try {
      const s = await signing();
      assert.equal((await post(app.port, PATH, { transactionID: s.transactionId, status: 2 })).status, 200);
      await waitFor(async () => (await doc(s.transactionId))?.delivered, 'delivery by the app’s relay');
      // The relay logs after recording the delivery (and dequeuing it), so the line may come a moment later.
      await waitFor(
        () => /"component":"callback-relay".*callback delivered to its workflow/.test(app.logs.join('')),
        'the relay’s log line',
      );
      await app.close();
      closed = true;
    } finally {
      if (!closed) await app.close();
    }
  });

  it('a callback that arrives before its transaction is registered is delivered once it is', async () => {
    const s = await signing({ register: false });
    const lagBefore = await histogramCount(metrics, 'evrotrust_callback_delivery_lag_seconds');
    const res = await post(a.port, PATH, { transactionID: s.transactionId, status: 2 });
    assert.equal(res.status, 200, 'answered 200 although the transactionID is unknown');
    // It is tried, found unknown, and kept pending with a next attempt.
    const pending = await waitFor(async () => {
      const x = await doc(s.transactionId);
      return x && x.attempts >= 2 && x;
    }, 'two failed attempts');
    assert.equal(pending.delivered, false);
    assert.equal(pending.deliveryState, 'pending');
    assert.match(pending.lastError ?? '', /not registered/);
    assert.ok(pending.nextAttemptAt instanceof Date);
    assert.equal((await metricValue(metrics, 'evrotrust_callbacks_undelivered')) >= 0, true);
    assert.equal((await callbackSignals(temporal.client, s.workflowId)).length, 0);

    assert.ok(await queued(pending._id), 'queued while pending');

    await registerTransaction(mongo.db, s);
    const done = await waitFor(async () => {
      const x = await doc(s.transactionId);
      return x?.delivered && x;
    }, 'delivery after registration');
    assert.equal(done.lastError, null);
    await waitFor(async () => (await queued(done._id)) === null, 'off the queue once delivered');
    assert.deepEqual(await callbackSignals(temporal.client, s.workflowId), [
      { transactionID: s.transactionId, status: 2, callbackId: done._id },
    ]);
    assert.equal(await histogramCount(metrics, 'evrotrust_callback_delivery_lag_seconds'), lagBefore + 1);
  });

  it('a signing already final: stored, not signalled, retries stopped', async () => {
    const s = await signing({ status: 'signed' });
    assert.equal((await post(a.port, PATH, { transactionID: s.transactionId, status: 2 })).status, 200);
    const d = await waitFor(async () => {
      const x = await doc(s.transactionId);
      return x?.deliveryState === 'signing-final' && x;
    }, 'signing-final');
    assert.equal(d.delivered, false);
    assert.equal(d.nextAttemptAt, null);
    assert.match(d.lastError ?? '', /already signed/);
    assert.equal((await callbackSignals(temporal.client, s.workflowId)).length, 0);
  });

  it('a workflow already closed: retries stopped', async () => {
    const s = await signing();
    await temporal.client.workflow.getHandle(s.workflowId).terminate('finished elsewhere');
    assert.equal((await post(a.port, PATH, { transactionID: s.transactionId, status: 4 })).status, 200);
    const d = await waitFor(async () => {
      const x = await doc(s.transactionId);
      return x?.deliveryState === 'workflow-closed' && x;
    }, 'workflow-closed');
    assert.equal(d.delivered, false);
    assert.equal(d.nextAttemptAt, null);
  });

  it('gives up on a transactionID that never becomes known, after the configured time', async () => {
    // A database of its own: the suite's relay gives up only after an hour, and each of its attempts
    // holds the entry back (head start), so on a shared inbox the test would time the two relays'
    // race rather than the configured give-up.
    const own = await testDatabase();
    const quick = startCallbackRelay({ db: own.db, temporalClient: temporal.client, ...FAST, giveUpUnknownAfterMs: 300 });
    try {
      const inbox = new CallbackInbox(own.db);
      const receivedAt = new Date(Date.now() - 1000);
      const { doc: stored } = await inbox.store(newCallback('never-known', receivedAt));
      const d = await waitFor(async () => {
        const x = await inbox.get(stored._id);
        return x?.deliveryState === 'unknown-transaction' && (await inbox.queueEntry(stored._id)) === null && x;
      }, 'given up and off the queue');
      assert.equal(d.nextAttemptAt, null);
      assert.match(d.lastError ?? '', /unknown after/);
    } finally {
      await quick.stop();
      await own.close();
    }
  });

  it('several relays on one inbox deliver everything, with no claims: a repeated signal is possible and harmless', async (t) => {
    const inbox = new CallbackInbox(mongo.db);
    const signings: FakeSigning[] = [];
    for (let i = 0; i < 12; i++) signings.push(await signing());
    // Stored as another process would, with no relay of its own: due at once, for the sweeps.
    const now = new Date();
    const stored: CallbackDoc[] = [];
    for (const s of signings) stored.push((await inbox.store(newCallback(s.transactionId, now))).doc);
    const ids = stored.map((d) => d._id);
    // Three more relays, sweeping in step with each other and with the suite's one.
    const relays = [1, 2, 3].map(() => startCallbackRelay({ db: mongo.db, temporalClient: temporal.client, ...FAST }));
    try {
      await waitFor(async () => (await inbox.getMany(ids)).filter((d) => d.delivered).length === signings.length, 'all delivered', 20_000);
      await waitFor(
        async () => (await Promise.all(ids.map((id) => inbox.queueEntry(id)))).every((e) => e === null),
        'every entry off the queue',
      );
      await Promise.all(relays.map((r) => r.idle()));
      const counts = await Promise.all(signings.map(async (s) => (await callbackSignals(temporal.client, s.workflowId)).length));
      t.diagnostic(`signals per callback: ${counts.join(' ')}`);
      assert.ok(
        counts.every((n) => n >= 1),
        'each callback signalled at least once',
      );
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
    }
  });

  it('drops a queue entry whose record never came once the grace time is over, and keeps a young one', async () => {
    // What a failed request leaves: the queue entry was written, the record insert was not (the
    // store fails that insert, as an outage between the two writes would; the caller got 503).
    const young = callbackId({ transactionID: 'orphan-young', status: 2, rejectReason: null, tokenSigningId: null });
    const old = callbackId({ transactionID: 'orphan-old', status: 2, rejectReason: null, tokenSigningId: null });
    const now = new Date();
    const broken = new CallbackInbox(faultyDb(mongo.db, [{ collection: 'callbacks', method: 'insertOne', times: 2 }]).db);
    await assert.rejects(broken.store(newCallback('orphan-young', now)), CallbackStoreUnavailableError);
    await assert.rejects(
      broken.store({ ...newCallback('orphan-old', new Date(now.getTime() - 3_600_000)), nextAttemptAt: now }),
      CallbackStoreUnavailableError,
    );
    const inbox = callbacksOf(mongo.db);
    try {
      assert.equal(await inbox.get(young), null, 'no record of the young one');
      // The two entries are attempted independently (one may be dropped before the other is looked
      // at), so wait for both outcomes rather than reading the young one the moment the old goes.
      await waitFor(async () => (await queued(old)) === null, 'the old orphan dropped');
      await waitFor(async () => {
        const e = await queued(young);
        return e === null || e.nextAttemptAt > now;
      }, 'the young orphan attempted');
      const kept = await queued(young);
      assert.ok(kept, 'the young one is kept: its record may still be on its way');
      assert.ok(kept.nextAttemptAt > now, 'the young one is postponed, not left at the head of the queue');
    } finally {
      // A leftover entry would count in the undelivered gauge the next test checks.
      await inbox.dequeue(young);
      await inbox.dequeue(old);
    }
  });

  it('at start, queues again a pending callback that has no queue entry, and delivers it', async () => {
    const s = await signing();
    const inbox = new CallbackInbox(mongo.db);
    const { doc: stored } = await inbox.store(newCallback(s.transactionId, new Date(Date.now() + 3_600_000)));
    await inbox.dequeue(stored._id); // as if the record had landed after its entry was dropped
    const fresh = startCallbackRelay({ db: mongo.db, temporalClient: temporal.client, ...FAST });
    try {
      const d = await waitFor(async () => {
        const x: CallbackDoc | null = await inbox.get(stored._id);
        return x?.delivered && x;
      }, 'delivery after the requeue');
      assert.equal(d.signingId, s.signingId);
      // At least once, not exactly once: the requeued entry is due at once for the suite's relay too,
      // so both may signal it before either records the delivery (the workflow ignores the repeat).
      await fresh.idle();
      assert.ok((await callbackSignals(temporal.client, s.workflowId)).length >= 1, 'signalled');
    } finally {
      await fresh.stop();
    }
  });

  it('the undelivered gauge follows the inbox', async () => {
    const s = await signing({ register: false });
    assert.equal((await post(a.port, PATH, { transactionID: s.transactionId, status: 2 })).status, 200);
    await waitFor(async () => (await metricValue(metrics, 'evrotrust_callbacks_undelivered')) >= 1, 'gauge ≥ 1');
    await registerTransaction(mongo.db, s);
    await waitFor(async () => (await doc(s.transactionId))?.delivered, 'delivered');
    await waitFor(
      async () => (await metricValue(metrics, 'evrotrust_callbacks_undelivered')) === (await callbacksOf(mongo.db).countInState('pending')),
      'gauge = pending count',
    );
  });
});
