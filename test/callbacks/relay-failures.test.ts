// The relay's defects of issue 9 (item 8), each against the real FerretDB (and Temporal where a
// workflow must receive the signal):
// (a) a crash between the claim insert and the lease update left a claim nobody clears, and its
//     callback was never delivered; (b) 100 such leftovers stopped every retry; (c) the in-memory
//     queue was unbounded; (d) callbacks for unknown transactionIDs were retried for 7 days and
//     kept for good. Every test gets a database of its own: the cap and pruning count across it.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import { startCallbackRelay, type CallbackRelay } from '../../src/callbacks';
import { CallbackInbox, callbackId, type CallbackDoc, type NewCallback } from '../../src/callbacks/inbox';
import type { MongoHandle } from '../../src/store/mongo';
import type { EvrotrustCallback } from '../../workflows/definitions';
import { temporalClient, testDatabase } from '../helpers/stack';
import { callbackSignals, fakeSigning, newTransactionId, registerTransaction, terminateQuietly, type FakeSigning } from './helpers';
import { waitFor } from '../helpers/wait';

const PATH = '/evrotrust/callback/document/ready';
const FAST = { sweepIntervalMs: 100, retryBaseMs: 50, retryMaxMs: 300, signalTimeoutMs: 3000 };

const newCallback = (transactionID: string, receivedAt: Date, nextAttemptAt = receivedAt): NewCallback => ({
  transactionID,
  status: 2,
  rejectReason: null,
  extra: {},
  path: PATH,
  form: 'plain',
  tokenSigningId: null,
  sourceAddress: '127.0.0.2',
  peerAddress: '127.0.0.2',
  receivedAt,
  nextAttemptAt,
});

/**
 * What the old relay's claimDue left when its process died right after the claim insert: a claim
 * `<id>@<due ms>` in `callback_claims` and the queue entry still at that due time (the lease update
 * never happened). Written with the raw collection, as the crashed process had.
 */
async function crashLeftover(db: Db, inbox: CallbackInbox, transactionID: string, due: Date): Promise<CallbackDoc> {
  const id = callbackId({ transactionID, status: 2, rejectReason: null, tokenSigningId: null });
  // `callback_claims` belongs to no store any more (the old relay's); the leftover is written raw, as it was.
  // eslint-disable-next-line no-restricted-syntax
  await db
    .collection<{ _id: string; callbackId: string; owner: string; at: Date }>('callback_claims')
    .insertOne({ _id: `${id}@${due.getTime()}`, callbackId: id, owner: 'crashed-host:1:abcdef', at: due });
  const { doc } = await inbox.store(newCallback(transactionID, due));
  return doc;
}

describe('callback relay under failures', () => {
  let temporal: { client: Client; close(): Promise<void> };
  const handles: MongoHandle[] = [];
  const relays: CallbackRelay[] = [];
  const workflows: string[] = [];

  before(async () => {
    temporal = await temporalClient();
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
  });
  after(async () => {
    await Promise.all(workflows.map((w) => terminateQuietly(temporal.client, w)));
    await Promise.all(handles.map((h) => h.close()));
    await temporal?.close();
  });

  async function freshDb(): Promise<{ db: Db; inbox: CallbackInbox }> {
    const h = await testDatabase();
    handles.push(h);
    return { db: h.db, inbox: new CallbackInbox(h.db) };
  }
  function relay(opts: Omit<Parameters<typeof startCallbackRelay>[0], 'temporalClient'> & { temporalClient?: Client }): CallbackRelay {
    const r = startCallbackRelay({ temporalClient: temporal.client, ...FAST, ...opts });
    relays.push(r);
    return r;
  }
  async function signing(db: Db): Promise<FakeSigning> {
    const s = await fakeSigning(db, temporal.client);
    workflows.push(s.workflowId);
    return s;
  }
  const delivered = async (inbox: CallbackInbox, id: string) => (await inbox.get(id))?.delivered === true;

  it('(a) a claim left by a crash between the claim insert and the lease update does not strand its callback', async () => {
    const { db, inbox } = await freshDb();
    const s = await signing(db);
    const doc = await crashLeftover(db, inbox, s.transactionId, new Date());
    relay({ db });
    // Delivery writes the record, then removes the queue entry: wait for both.
    await waitFor(
      async () => (await delivered(inbox, doc._id)) && (await inbox.queueEntry(doc._id)) === null,
      'delivery by a later sweep, off the queue',
      5000,
    );
    assert.deepEqual(await callbackSignals(temporal.client, s.workflowId), [
      { transactionID: s.transactionId, status: 2, callbackId: doc._id },
    ]);
  });

  it('(b) 100 such leftovers, due before everything else, do not stop other callbacks’ retries', async () => {
    const { db, inbox } = await freshDb();
    const s = await signing(db);
    const oldest = Date.now() - 60_000;
    const leftovers: CallbackDoc[] = [];
    for (let i = 0; i < 100; i++) {
      const tx = newTransactionId();
      await registerTransaction(db, { ...s, transactionId: tx });
      leftovers.push(await crashLeftover(db, inbox, tx, new Date(oldest + i)));
    }
    const other = await signing(db);
    const { doc } = await inbox.store(newCallback(other.transactionId, new Date()));
    relay({ db });
    await waitFor(() => delivered(inbox, doc._id), 'the other callback delivered', 15_000);
    await waitFor(
      async () => (await inbox.getMany(leftovers.map((d) => d._id))).filter((d) => d.delivered).length === leftovers.length,
      'every leftover delivered too',
      30_000,
    );
  });

  it('(c) the in-memory queue is bounded: the excess stays durable and sweeps deliver it', async () => {
    const { db, inbox } = await freshDb();
    // A Temporal that holds every signal until released, so callbacks pile up in the relay.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let inFlight = 0;
    let maxInFlight = 0;
    const signalled = new Set<string>();
    const held = {
      withDeadline: <R>(_deadline: number, fn: () => Promise<R>): Promise<R> => fn(),
      workflow: {
        getHandle: () => ({
          signal: async (_def: unknown, payload: EvrotrustCallback) => {
            inFlight += 1;
            maxInFlight = Math.max(maxInFlight, inFlight);
            await gate;
            inFlight -= 1;
            if (payload.callbackId) signalled.add(payload.callbackId);
          },
        }),
      },
    } as unknown as Client;
    const s = await fakeSigning(db, held, { startWorkflow: false });
    const r = relay({ db, temporalClient: held, concurrency: 2, maxInMemory: 5 });
    // A failed assertion must not leave stop() waiting for signals that are held forever.
    try {
      const docs: CallbackDoc[] = [];
      for (let i = 0; i < 50; i++) {
        const tx = newTransactionId();
        await registerTransaction(db, { ...s, transactionId: tx });
        // Due at once: what a deliverSoon() that could not keep it in memory leaves to the sweeps.
        const { doc } = await inbox.store(newCallback(tx, new Date()));
        docs.push(doc);
        r.deliverSoon(doc);
        assert.ok(r.inMemory() <= 5, `holds ${r.inMemory()} callbacks in memory after ${i + 1} deliverSoon() calls`);
      }
      await waitFor(() => inFlight === 2, 'two signals in flight');
      await r.sweep();
      assert.ok(r.inMemory() <= 5, `holds ${r.inMemory()} after a sweep`);
      release();
      await waitFor(
        async () => (await inbox.getMany(docs.map((d) => d._id))).filter((d) => d.delivered).length === docs.length,
        'all 50 delivered',
        20_000,
      );
      assert.equal(signalled.size, 50, 'each callback signalled (at least once)');
      assert.ok(maxInFlight <= 2, `at most 2 signals at once, saw ${maxInFlight}`);
    } finally {
      release();
    }
  });

  it('(d) by default a callback for a transactionID still unknown 1 hour after receipt is given up, and its record says why', async () => {
    const { db, inbox } = await freshDb();
    const { doc } = await inbox.store(newCallback(newTransactionId(), new Date(Date.now() - 2 * 3_600_000), new Date()));
    relay({ db });
    // Giving up writes the record, then removes the queue entry (by design, for crash safety): wait
    // until both are done before reading either.
    const d = await waitFor(
      async () => {
        const x = await inbox.get(doc._id);
        return x?.deliveryState === 'unknown-transaction' && (await inbox.queueEntry(doc._id)) === null && x;
      },
      'given up and no longer queued',
      5000,
    );
    assert.match(d.lastError ?? '', /unknown/);
    assert.equal(d.nextAttemptAt, null);
  });

  it('(d) at most maxUnknownPending callbacks for unknown transactionIDs are retried; the oldest beyond it are given up', async () => {
    const { db, inbox } = await freshDb();
    const t0 = Date.now() - 10_000;
    const docs: CallbackDoc[] = [];
    for (let i = 0; i < 6; i++) docs.push((await inbox.store(newCallback(`unknown-${i}`, new Date(t0 + i * 1000), new Date()))).doc);
    relay({ db, maxUnknownPending: 3 });
    // Giving up writes the record, then removes the queue entry: wait until both are done.
    const states = await waitFor(
      async () => {
        const xs = await Promise.all(docs.map((d) => inbox.get(d._id)));
        return xs.filter((x) => x?.deliveryState === 'unknown-transaction').length === 3 && (await inbox.countQueuedUnknown()) <= 3 && xs;
      },
      'three given up',
      10_000,
    );
    assert.deepEqual(
      states.map((x) => x?.deliveryState),
      ['unknown-transaction', 'unknown-transaction', 'unknown-transaction', 'pending', 'pending', 'pending'],
      'the oldest three go',
    );
    for (const x of states.slice(0, 3)) assert.match(x?.lastError ?? '', /cap|too many/i);
    assert.equal(await inbox.countUndelivered(), 3, 'the newest three still queued');
  });

  it('(d) given-up callbacks for unknown transactionIDs are pruned after the retention time; delivered ones are kept', async () => {
    const { db, inbox } = await freshDb();
    const s = await signing(db);
    const { doc: known } = await inbox.store(newCallback(s.transactionId, new Date()));
    const { doc: unknown } = await inbox.store(newCallback(newTransactionId(), new Date(Date.now() - 1000)));
    relay({ db, giveUpUnknownAfterMs: 100, unknownRetentionMs: 2000, pruneIntervalMs: 100 });
    const givenUp = await waitFor(
      async () => {
        const x = await inbox.get(unknown._id);
        return x?.deliveryState === 'unknown-transaction' && x;
      },
      'given up',
      5000,
    );
    assert.match(givenUp.lastError ?? '', /unknown/, 'while kept, the record says why');
    await waitFor(async () => (await inbox.get(unknown._id)) === null, 'pruned', 10_000);
    assert.equal((await inbox.get(known._id))?.delivered, true, 'the delivered callback is kept');
  });

  it('(d) at most maxUnknownKept given-up callbacks for unknown transactionIDs are kept: the oldest go first', async () => {
    const { db, inbox } = await freshDb();
    const t0 = Date.now() - 10_000;
    const docs: CallbackDoc[] = [];
    for (let i = 0; i < 4; i++) docs.push((await inbox.store(newCallback(`gone-${i}`, new Date(t0 + i * 1000), new Date()))).doc);
    relay({ db, giveUpUnknownAfterMs: 1, maxUnknownKept: 2, pruneIntervalMs: 100 });
    await waitFor(
      async () => {
        const xs = await Promise.all(docs.map((d) => inbox.get(d._id)));
        return xs[0] === null && xs[1] === null && xs.slice(2).every((x) => x?.deliveryState === 'unknown-transaction');
      },
      'the two oldest pruned, the two newest kept',
      10_000,
    );
  });
});
