// End to end up to the workflow: the Evrotrust simulator signs (or rejects) and calls back from its
// own source address (127.0.0.2) on the URL the service would send, the endpoint stores the
// callback, and the relay delivers it as a signal to a running workflow (a small probe workflow:
// the full signingWorkflow's end-to-end case is covered with the workflow itself).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startSimulator, type Simulator } from '../../simulator';
import { startCallbackRelay, type CallbackRelay } from '../../src/callbacks';
import type { MongoHandle } from '../../src/store/mongo';
import { workflowIdFor, type EvrotrustCallback } from '../../workflows/definitions';
import { testDatabase, testEnv } from '../helpers/stack';
import { offlineData, sendOnline, vendorMultipart } from '../simulator/helpers';
import { callbackFor, callbacksOf, insertToken, registerTransaction, startCallbackApp, type CallbackApp } from './helpers';
import { createSigning } from '../helpers/signings';
import { waitFor } from '../helpers/wait';

describe('simulator callbacks reach the workflow', () => {
  let mongo: MongoHandle;
  let connection: Connection;
  let client: Client;
  let nativeConnection: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  let relay: CallbackRelay;
  let a: CallbackApp;
  let sim: Simulator;
  const taskQueue = `callbacks-e2e-${randomUUID()}`;

  before(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    mongo = await testDatabase();
    connection = await Connection.connect({ address: testEnv().temporalAddress });
    client = new Client({ connection });
    nativeConnection = await NativeConnection.connect({ address: testEnv().temporalAddress });
    worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./probe-workflow'), logger: new DefaultLogger('WARN') }),
      activities: { noop: async () => undefined }, // none needed; one keeps the worker from warning about it
    });
    workerRun = worker.run();
    relay = startCallbackRelay({ db: mongo.db, temporalClient: client, sweepIntervalMs: 200, retryBaseMs: 100, retryMaxMs: 500 });
    // The service's defaults for the sandbox: only the simulator's source address may call.
    a = await startCallbackApp({ db: mongo.db, relay, allowedIps: ['127.0.0.2'], host: '127.0.0.1' });
    sim = await startSimulator({
      port: 0,
      callbackSourceAddress: '127.0.0.2',
      callbackRetryDelayMs: 20,
      callbackTimeoutMs: 5000,
      processingMs: 50,
    });
  });
  after(async () => {
    await sim?.close();
    await a?.close();
    await relay?.stop();
    worker?.shutdown();
    await workerRun?.catch(() => undefined);
    await nativeConnection?.close();
    await connection?.close();
    await mongo?.close();
  });

  /** What the send activity leaves behind: the signing, its transaction mapping, its running workflow. */
  async function waitingWorkflow(transactionId: string) {
    const signingId = randomUUID();
    const workflowId = workflowIdFor(signingId);
    await createSigning(mongo.db, signingId);
    await registerTransaction(mongo.db, { signingId, workflowId, transactionId });
    const handle = await client.workflow.start('callbackProbeWorkflow', {
      taskQueue,
      workflowId,
      args: [{ transactionIds: [transactionId], timeoutMs: 30_000 }],
    });
    return { signingId, handle };
  }

  const base = () => `http://127.0.0.1:${a.port}/evrotrust/callback`;

  it('signed in the app: the capability URL callback from 127.0.0.2 is stored and signalled', async () => {
    const signingId = randomUUID();
    const token = await insertToken(mongo.db, signingId);
    const { transactionID } = await sendOnline(sim, { urlCallback: `${base()}/t/${token}` });
    const workflowId = workflowIdFor(signingId);
    await createSigning(mongo.db, signingId);
    await registerTransaction(mongo.db, { signingId, workflowId, transactionId: transactionID });
    const handle = await client.workflow.start('callbackProbeWorkflow', {
      taskQueue,
      workflowId,
      args: [{ transactionIds: [transactionID], timeoutMs: 30_000 }],
    });

    await sim.controls.sign(transactionID);
    const received: EvrotrustCallback[] = await handle.result();
    const doc = await callbackFor(mongo.db, transactionID);
    assert.ok(doc);
    assert.deepEqual(received, [{ transactionID, status: 2, callbackId: doc._id }]);
    assert.equal(doc.sourceAddress, '127.0.0.2');
    assert.equal(doc.path, '/evrotrust/callback/t/:token/document/ready');
    assert.equal(doc.tokenSigningId, signingId);
    await waitFor(async () => (await callbackFor(mongo.db, transactionID))?.delivered, 'marked delivered');
    const attempts = sim.controls.callbacks().filter((c) => c.transactionID === transactionID);
    assert.deepEqual(
      attempts.map((c) => [c.sourceAddress, c.outcome]),
      [['127.0.0.2', 200]],
      'one attempt, answered 200',
    );
  });

  it('rejected, on a urlCallback with a trailing slash (//document/ready): reason stored, not signalled', async () => {
    const { transactionID } = await sendOnline(sim, { urlCallback: `${base()}/` });
    const { handle } = await waitingWorkflow(transactionID);
    await sim.controls.reject(transactionID, 'Not my document');
    const received: EvrotrustCallback[] = await handle.result();
    assert.equal(received.length, 1);
    assert.equal(received[0]?.status, 3);
    assert.ok(!('rejectReason' in (received[0] as object)), 'the free-text reason stays out of the history');
    const doc = await callbackFor(mongo.db, transactionID);
    assert.equal(doc?.path, '/evrotrust/callback//document/ready');
    assert.equal(doc?.rejectReason, 'Not my document');
  });

  it('an OTP signing calls back on /document/offline/ready', async () => {
    const res = await vendorMultipart(sim, '/document/doc/offline', offlineData({ urlCallback: base() }));
    assert.equal(res.status, 200);
    const { transactionID } = res.json as { transactionID: string };
    const { handle } = await waitingWorkflow(transactionID);
    await sim.controls.sign(transactionID);
    const received: EvrotrustCallback[] = await handle.result();
    assert.equal(received[0]?.status, 2);
    assert.equal((await callbackFor(mongo.db, transactionID))?.path, '/evrotrust/callback/document/offline/ready');
  });

  it('a simulator calling from an address not allowed gets 403 on all three attempts, and nothing is stored', async () => {
    const stranger = await startSimulator({
      port: 0,
      callbackSourceAddress: '127.0.0.3',
      callbackRetryDelayMs: 20,
      callbackTimeoutMs: 5000,
      processingMs: 0,
    });
    try {
      const { transactionID } = await sendOnline(stranger, { urlCallback: base() });
      await stranger.controls.expire(transactionID);
      const attempts = await waitFor(() => {
        const all = stranger.controls.callbacks().filter((c) => c.transactionID === transactionID);
        return all.length === 3 && all;
      }, 'three attempts');
      assert.deepEqual(
        attempts.map((c) => [c.sourceAddress, c.outcome]),
        [
          ['127.0.0.3', 403],
          ['127.0.0.3', 403],
          ['127.0.0.3', 403],
        ],
      );
      assert.equal((await callbacksOf(mongo.db).byTransaction(transactionID)).length, 0);
    } finally {
      await stranger.close();
    }
  });
});
