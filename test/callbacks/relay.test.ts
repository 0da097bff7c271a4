// The relay, against the real dev server and FerretDB: delivery from the stored record, a callback
// that arrives before its transaction is registered, signings already final, closed workflows,
// give-up for transactions that never become known, and several relays sharing one inbox.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { startCallbackRelay, type CallbackRelay } from '../../src/callbacks';
import { ServiceMetrics } from '../../src/metrics';
import { CallbackInbox } from '../../src/store/callbacks';
import type { MongoHandle } from '../../src/store/mongo';
import { temporalClient, testDatabase } from '../helpers/stack';
import {
  callbackSignals,
  callbacksOf,
  fakeSigning,
  histogramCount,
  metricValue,
  post,
  registerTransaction,
  startCallbackApp,
  terminateQuietly,
  waitFor,
  type CallbackApp,
  type FakeSigning,
} from './helpers';

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
  const doc = (tx: string) => callbacksOf(mongo.db).findOne({ transactionID: tx });

  it('delivers right after storing, without waiting for a sweep, and records the lag', async () => {
    const slow = startCallbackRelay({ db: mongo.db, temporalClient: temporal.client, sweepIntervalMs: 600_000, leaseMs: 600_000 });
    const app = await startCallbackApp({ db: mongo.db, relay: slow });
    try {
      const s = await signing();
      await slow.idle();
      const res = await post(app.port, PATH, { transactionID: s.transactionId, status: 2 });
      assert.equal(res.status, 200);
      const d = await waitFor(async () => {
        const x = await doc(s.transactionId);
        return x?.delivered && x;
      }, 'immediate delivery', 5000);
      assert.equal(d.deliveryState, 'delivered');
      assert.equal(d.attempts, 1);
      assert.equal(d.signingId, s.signingId);
      assert.ok(d.deliveredAt instanceof Date && d.deliveredAt >= d.receivedAt);
      assert.deepEqual(await callbackSignals(temporal.client, s.workflowId), [{ transactionID: s.transactionId, status: 2, callbackId: d._id }]);
    } finally {
      await app.close();
      await slow.stop();
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
    assert.equal(await metricValue(metrics, 'evrotrust_callbacks_undelivered') >= 0, true);
    assert.equal((await callbackSignals(temporal.client, s.workflowId)).length, 0);

    await registerTransaction(mongo.db, s);
    const done = await waitFor(async () => {
      const x = await doc(s.transactionId);
      return x?.delivered && x;
    }, 'delivery after registration');
    assert.equal(done.lastError, null);
    assert.deepEqual(await callbackSignals(temporal.client, s.workflowId), [{ transactionID: s.transactionId, status: 2, callbackId: done._id }]);
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
    const quick = startCallbackRelay({ db: mongo.db, temporalClient: temporal.client, ...FAST, giveUpUnknownAfterMs: 300 });
    try {
      const inbox = new CallbackInbox(mongo.db);
      const receivedAt = new Date(Date.now() - 1000);
      const { doc: stored } = await inbox.store({
        transactionID: 'never-known', status: 2, rejectReason: null, extra: {}, path: PATH, form: 'plain', tokenSigningId: null,
        sourceAddress: '127.0.0.2', peerAddress: '127.0.0.2', receivedAt, nextAttemptAt: receivedAt,
      });
      const d = await waitFor(async () => {
        const x = await inbox.get(stored._id);
        return x?.deliveryState === 'unknown-transaction' && x;
      }, 'give-up');
      assert.equal(d.nextAttemptAt, null);
    } finally {
      await quick.stop();
    }
  });

  it('several relays on one inbox deliver everything; a duplicate signal is possible and harmless', async (t) => {
    const inbox = new CallbackInbox(mongo.db);
    const signings: FakeSigning[] = [];
    for (let i = 0; i < 12; i++) signings.push(await signing());
    // Stored as another process would, with no relay of its own: due at once, for the sweeps.
    const now = new Date();
    for (const s of signings) {
      await inbox.store({
        transactionID: s.transactionId, status: 2, rejectReason: null, extra: {}, path: PATH, form: 'plain', tokenSigningId: null,
        sourceAddress: '127.0.0.2', peerAddress: '127.0.0.2', receivedAt: now, nextAttemptAt: now,
      });
    }
    const relays = [1, 2, 3].map((n) => startCallbackRelay({ db: mongo.db, temporalClient: temporal.client, ...FAST, owner: `relay-${n}` }));
    try {
      await waitFor(async () => (await callbacksOf(mongo.db).countDocuments({ transactionID: { $in: signings.map((s) => s.transactionId) }, delivered: true })) === signings.length, 'all delivered', 20_000);
      let total = 0;
      for (const s of signings) {
        const n = (await callbackSignals(temporal.client, s.workflowId)).length;
        assert.ok(n >= 1, `signalled ${s.workflowId}`);
        total += n;
      }
      // Claims spread the work; on FerretDB a claim is not atomic, so a few may go out twice.
      t.diagnostic(`${total} signals for ${signings.length} callbacks from 4 relays`);
      assert.ok(total <= signings.length * 2, `${total} signals for ${signings.length} callbacks`);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
    }
  });

  it('the undelivered gauge follows the inbox', async () => {
    const s = await signing({ register: false });
    assert.equal((await post(a.port, PATH, { transactionID: s.transactionId, status: 2 })).status, 200);
    await waitFor(async () => (await metricValue(metrics, 'evrotrust_callbacks_undelivered')) >= 1, 'gauge ≥ 1');
    await registerTransaction(mongo.db, s);
    await waitFor(async () => (await doc(s.transactionId))?.delivered, 'delivered');
    await waitFor(async () => (await metricValue(metrics, 'evrotrust_callbacks_undelivered')) === (await callbacksOf(mongo.db).countDocuments({ deliveryState: 'pending' })), 'gauge = pending count');
  });
});
