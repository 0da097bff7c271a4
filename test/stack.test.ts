// The first vertical slice, against the real Temporal dev server and FerretDB of this run:
// a workflow waits for a signal or a timer and an activity records the outcome in MongoDB.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MongoServerError } from 'mongodb';
import { createActivities } from '../activities';
import { evrotrustCallbackSignal, SIGNING_WORKFLOW_TYPE, statusQuery, workflowIdFor } from '../workflows/definitions';
import { startTestWorker, temporalClient, testDatabase, type RunningWorker } from './helpers/stack';
import type { MongoHandle } from '../src/store/mongo';
import type { Client } from '@temporalio/client';

describe('stack: Temporal + FerretDB', () => {
  let mongo: MongoHandle;
  let temporal: { client: Client; close(): Promise<void> };
  let worker: RunningWorker;

  before(async () => {
    mongo = await testDatabase();
    temporal = await temporalClient();
    worker = await startTestWorker(createActivities({ db: mongo.db }));
  });
  after(async () => {
    await worker?.stop();
    await temporal?.close();
    await mongo?.close();
  });

  async function startSigning(deadlineMs: number) {
    const signingId = randomUUID();
    const transactionId = `tx-${signingId}`;
    await mongo.db.collection('signings').insertOne({ _id: signingId as never, status: 'pending', createdAt: new Date() });
    const handle = await temporal.client.workflow.start(SIGNING_WORKFLOW_TYPE, {
      taskQueue: worker.taskQueue,
      workflowId: workflowIdFor(signingId),
      args: [{ signingId, transactionIds: [transactionId], deadlineMs }],
    });
    return { signingId, transactionId, handle };
  }

  it('a signal ends the wait and the activity writes the outcome to MongoDB', async () => {
    const { signingId, transactionId, handle } = await startSigning(60_000);
    assert.equal((await handle.query(statusQuery)).status, 'pending');
    await handle.signal(evrotrustCallbackSignal, { transactionID: transactionId, status: 3, rejectReason: 'wrong amount' });
    assert.equal(await handle.result(), 'rejected');
    const doc = await mongo.db.collection('signings').findOne({ _id: signingId as never });
    assert.equal(doc?.status, 'rejected');
    assert.equal(doc?.rejectReason, 'wrong amount');
    assert.ok(doc?.finalizedAt instanceof Date);
  });

  it('a signal for another transaction is ignored; the timer fires instead', async () => {
    const { signingId, handle } = await startSigning(1500);
    await handle.signal(evrotrustCallbackSignal, { transactionID: 'someone-else', status: 2 });
    const t0 = Date.now();
    assert.equal(await handle.result(), 'expired');
    assert.ok(Date.now() - t0 >= 500, 'the workflow waited for its timer');
    const doc = await mongo.db.collection('signings').findOne({ _id: signingId as never });
    assert.equal(doc?.status, 'expired');
  });

  it('the store enforces a unique index', async () => {
    const coll = mongo.db.collection('uniq_probe');
    await coll.createIndex({ key: 1 }, { unique: true });
    await coll.insertOne({ key: 'a' });
    await assert.rejects(coll.insertOne({ key: 'a' }), (err: unknown) => err instanceof MongoServerError && err.code === 11000);
    assert.equal(await coll.countDocuments({ key: 'a' }), 1);
  });
});
