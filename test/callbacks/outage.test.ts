// Outages, with server instances of this file's own (the shared ones are never stopped):
// - Temporal stopped: callbacks are still answered 200 at once, and delivered after it is back;
// - the store stopped: 503 (so Evrotrust retries), nothing stored; 200 again once it is back; the
//   relay's failing sweeps are logged and it delivers what was stored once the store is back.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { freePort, startFerretDb, startTemporal, type ManagedServer } from '../../scripts/lib/stack';
import { startCallbackRelay, type CallbackRelay, type RelayLogger } from '../../src/callbacks';
import { connectMongo, ensureIndexes, type MongoHandle } from '../../src/store/mongo';
import { CallbackInbox } from '../../src/callbacks/inbox';
import { temporalClient, testDatabase } from '../helpers/stack';
import {
  callbackFor,
  callbackSignals,
  callbacksOf,
  fakeSigning,
  insertToken,
  metricValue,
  post,
  startCallbackApp,
  terminateQuietly,
  type CallbackApp,
} from './helpers';
import { waitFor } from '../helpers/wait';

const PATH = '/evrotrust/callback/document/ready';

function workDir(name: string): string {
  return mkdtempSync(join(process.env.TEST_WORK_DIR ?? tmpdir(), `${name}-`));
}

describe('Temporal stopped', () => {
  let temporal: ManagedServer & { address: string };
  let port: number;
  let dir: string;
  let connection: Connection;
  let client: Client;
  let mongo: MongoHandle;
  let relay: CallbackRelay;
  let a: CallbackApp;

  before(async () => {
    dir = workDir('temporal-outage');
    port = await freePort();
    // A database file, so the workflow survives the stop and start.
    temporal = await startTemporal({ port, logDir: dir, dbFile: join(dir, 'temporal.db') });
    connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection });
    mongo = await testDatabase();
    // A signal Temporal accepts but answers after the relay's deadline is retried (at least once is
    // the contract); right after a restart the dev server can take over a second, so give it 5 s.
    relay = startCallbackRelay({
      db: mongo.db,
      temporalClient: client,
      sweepIntervalMs: 200,
      retryBaseMs: 200,
      retryMaxMs: 1000,
      signalTimeoutMs: 5000,
    });
    a = await startCallbackApp({ db: mongo.db, relay });
  });
  after(async () => {
    await a?.close();
    await relay?.stop();
    await connection?.close();
    await temporal?.stop();
    await mongo?.close();
  });

  it('answers 200 while Temporal is down and delivers the signal once it is back', async (t) => {
    const s = await fakeSigning(mongo.db, client);
    await temporal.stop();

    const res = await post(a.port, PATH, { transactionID: s.transactionId, status: 2 });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.ms < 1000, `answered in ${res.ms.toFixed(0)} ms, not after the signal attempt`);
    const failing = await waitFor(
      async () => {
        const d = await callbackFor(mongo.db, s.transactionId);
        return d && d.attempts >= 2 && d;
      },
      'failed delivery attempts',
      20_000,
    );
    assert.equal(failing.delivered, false);
    assert.equal(failing.deliveryState, 'pending');
    assert.match(failing.lastError ?? '', /^temporal:/);

    const restarted = Date.now();
    temporal = await startTemporal({ port, logDir: dir, dbFile: join(dir, 'temporal.db') });
    const d = await waitFor(
      async () => {
        const x = await callbackFor(mongo.db, s.transactionId);
        return x?.delivered && x;
      },
      'delivery after the restart',
      60_000,
    );
    t.diagnostic(`delivered ${Date.now() - restarted} ms after the restart began, after ${d.attempts} attempts`);
    assert.deepEqual(await callbackSignals(client, s.workflowId), [{ transactionID: s.transactionId, status: 2, callbackId: d._id }]);
    await client.workflow.getHandle(s.workflowId).terminate('test over');
  });
});

describe('the store stopped', () => {
  let ferret: ManagedServer & { uri: string };
  let port: number;
  let dir: string;
  let mongo: MongoHandle;
  let a: CallbackApp;

  before(async () => {
    dir = workDir('store-outage');
    port = await freePort();
    ferret = await startFerretDb({ port, logDir: dir, dataDir: join(dir, 'data') });
    mongo = await connectMongo(ferret.uri, 'outage', { serverSelectionTimeoutMS: 1000 });
    await ensureIndexes(mongo.db);
    a = await startCallbackApp({ db: mongo.db, storeTimeoutMs: 3000 });
  });
  after(async () => {
    await a?.close();
    await mongo?.close();
    await ferret?.stop();
  });

  it('answers 503 store-unavailable while the store is down, stores nothing, and 200 once it is back', async () => {
    const token = await insertToken(mongo.db, 'signing-x');
    await ferret.stop();

    const res = await post(a.port, PATH, { transactionID: 'outage-1', status: 2 });
    assert.equal(res.status, 503, res.text);
    assert.deepEqual(res.json, { error: 'store-unavailable', message: 'the callback could not be stored right now; send it again later' });
    assert.ok(res.ms < 5000, `answered in ${res.ms.toFixed(0)} ms`);
    // The capability form needs the store for its token check: 503 too, not 403.
    const viaToken = await post(a.port, `/evrotrust/callback/t/${token}/document/ready`, { transactionID: 'outage-2', status: 2 });
    assert.equal(viaToken.status, 503, viaToken.text);
    assert.equal(await metricValue(a.metrics, 'evrotrust_callbacks_rejected_total', { reason: 'store-unavailable' }), 2);
    assert.ok(!a.logs.join('').includes(token), 'the token is not logged');

    ferret = await startFerretDb({ port, logDir: dir, dataDir: join(dir, 'data') });
    assert.equal(await callbacksOf(mongo.db).count(), 0, 'nothing was stored');
    // Evrotrust's retry of the same callback now lands.
    const retried = await waitFor(
      async () => {
        const r = await post(a.port, PATH, { transactionID: 'outage-1', status: 2 });
        return r.status === 200 && r;
      },
      'a 200 after the restart',
      20_000,
    );
    assert.equal(retried.text, '');
    assert.equal((await callbacksOf(mongo.db).byTransaction('outage-1')).length, 1);
  });

  it('the relay logs its failing sweeps while the store is down, and delivers what was stored once it is back', async () => {
    const temporal = await temporalClient();
    const warnings: string[] = [];
    const logger: RelayLogger = {
      debug() {},
      info() {},
      warn: (_obj, msg) => void warnings.push(msg),
      error: (_obj, msg) => void warnings.push(msg),
    };
    let relay: CallbackRelay | undefined;
    const s = await fakeSigning(mongo.db, temporal.client);
    try {
      const { doc } = await new CallbackInbox(mongo.db).store({
        transactionID: s.transactionId,
        status: 2,
        rejectReason: null,
        extra: {},
        path: PATH,
        form: 'plain',
        tokenSigningId: null,
        sourceAddress: '127.0.0.2',
        peerAddress: '127.0.0.2',
        receivedAt: new Date(),
        nextAttemptAt: new Date(),
      });
      await ferret.stop();
      relay = startCallbackRelay({
        db: mongo.db,
        temporalClient: temporal.client,
        logger,
        sweepIntervalMs: 100,
        retryBaseMs: 50,
        retryMaxMs: 300,
      });
      await waitFor(() => warnings.filter((w) => w.includes('sweep failed')).length >= 2, 'two failed sweeps logged', 20_000);
      ferret = await startFerretDb({ port, logDir: dir, dataDir: join(dir, 'data') });
      const d = await waitFor(
        async () => {
          const x = await callbacksOf(mongo.db).get(doc._id);
          return x?.delivered && x;
        },
        'delivery once the store is back',
        30_000,
      );
      assert.deepEqual(await callbackSignals(temporal.client, s.workflowId), [
        { transactionID: s.transactionId, status: 2, callbackId: d._id },
      ]);
    } finally {
      await relay?.stop();
      await terminateQuietly(temporal.client, s.workflowId);
      await temporal.close();
    }
  });
});
