// "One final state, always" (issue 9): each path that used to strand a signing in `pending` (or end
// it in the wrong state) is driven here on the real stack — the simulator over HTTP, this run's
// Temporal dev server and FerretDB — with the fault injected where it happens in production:
// Evrotrust's answers (simulator faults), the store (a Db whose chosen calls fail), Temporal
// (an unreachable server, a terminated run).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { Reconciler } from '../../src/signings/reconciler';
import { SigningService } from '../../src/signings/service';
import {
  eventCount,
  finalSigning,
  pdf,
  sentTransactions,
  SHORT_EXPIRY,
  SIGNER_B,
  signingRequest,
  useSigningEnv,
  workflowView,
} from '../helpers/signing-env';
import { waitFor } from '../helpers/wait';
import { faultyDb, type FaultyDb } from '../helpers/store-faults';

const body = signingRequest;

describe('Evrotrust refusing or garbling answers for a while does not end the run', () => {
  const env = useSigningEnv({ pollIntervalMs: 300 });

  it('401 on every status poll for a while (an API key rotation): the problem is shown, then the signing ends signed', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    env.sim.controls.failNext('/document/status', { status: 401, count: 4 });
    await env.sim.controls.sign(tx as string);
    const problem = await waitFor(async () => (await workflowView(env, id)).problem, 'the retried step to show in the workflow');
    assert.equal(problem.step, 'confirm-status');
    assert.equal(problem.code, 'unauthorized');
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'signed');
    assert.equal((await workflowView(env, id)).problem, undefined, 'the problem is cleared once the step succeeds');
  });

  it('a malformed status answer at two polls, then normal ones: signed', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    env.sim.controls.failNext('/document/status', { status: 200, body: { unexpected: true }, count: 2 });
    await env.sim.controls.sign(tx as string);
    assert.equal((await finalSigning(env, id)).status, 'signed');
  });

  it('401 on the signer check: retried, then sent once and signed', async () => {
    env.sim.controls.failNext('/user/check/extended', { status: 401, count: 3 });
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    await env.sim.controls.sign(tx as string);
    assert.equal((await finalSigning(env, id)).status, 'signed');
    assert.equal(await eventCount(env, id, 'sent'), 1);
  });

  it('withdraw still works while status polls keep failing', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    env.sim.controls.failNext('/document/status', { status: 503, count: 6 });
    await waitFor(async () => (await workflowView(env, id)).problem, 'a failing poll');
    await env.service.withdraw(id);
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'withdrawn');
    assert.equal(env.sim.controls.transaction(tx as string)?.status, 6);
  });

  it('a withdraw Evrotrust answers 443 for a while (thread not visible yet) is asked again: withdrawn there too', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    env.sim.controls.failNext('/document/withdraw', { status: 443, count: 2 });
    await env.service.withdraw(id);
    assert.equal((await finalSigning(env, id)).status, 'withdrawn');
    assert.equal(env.sim.controls.transaction(tx as string)?.status, 6, 'Evrotrust shows it withdrawn');
  });

  it('a send Evrotrust answers with an unusable body ends failed (outcome unknown) and its thread is withdrawn', async () => {
    const threadID = String(100000000000 + Math.floor(Math.random() * 1e9));
    env.sim.controls.failNext('/document/doc/online', {
      status: 200,
      body: { threadID, transactionID: '1', transactions: [{ transactionID: '1' }, { transactionID: '2' }] },
    });
    const { id } = await env.service.start(body());
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'failed');
    assert.match(s.failureReason ?? '', /^send-outcome-unknown/);
    const withdrawals = await eventCount(env, id, 'withdraw');
    assert.equal(withdrawals, 1, 'the workflow asked Evrotrust to withdraw the thread it was named');
  });
});

describe('a signer who signed is never withdrawn or expired while Evrotrust still processes the file', () => {
  const env = useSigningEnv({ pollIntervalMs: 300, expiryGraceMs: 500, expiryBounds: SHORT_EXPIRY, simulator: { processingMs: 4000 } });

  it('signed just before the deadline, still processing when it passes: signed', async () => {
    const { id } = await env.service.start(body({ expiresIn: '3s' }));
    const [tx] = await sentTransactions(env, id);
    await env.sim.controls.sign(tx as string);
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'signed');
    assert.ok(new Date(s.finalizedAt as string).getTime() > new Date(s.expiresAt).getTime(), 'it was final only after the deadline');
    assert.equal(await eventCount(env, id, 'withdraw'), 0, 'a signed request is not withdrawn');
  });

  it('withdraw asked while the signed file is still processing: signed', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    await env.sim.controls.sign(tx as string);
    await waitFor(
      async () => ((await workflowView(env, id)).signers[0]?.status === 'processing' ? true : undefined),
      'the processing status',
    );
    await env.service.withdraw(id);
    assert.equal((await finalSigning(env, id)).status, 'signed');
    assert.equal(await eventCount(env, id, 'withdraw'), 0, 'a signed request is not withdrawn');
  });
});

describe('store failures between two writes', () => {
  let activityStore: FaultyDb;
  let serviceStore: FaultyDb;
  const env = useSigningEnv({
    pollIntervalMs: 300,
    referenceWaitMs: 500,
    activityDb: (db) => (activityStore = faultyDb(db)).db,
    serviceDb: (db) => (serviceStore = faultyDb(db)).db,
  });

  it('a write of the signed file that dies after its chunks (no files document): the retry stores it, signed, byte for byte', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    activityStore.fail({ collection: 'documents.files', method: 'insertOne' });
    await env.sim.controls.sign(tx as string);
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'signed');
    assert.equal(activityStore.failures.get('documents.files.insertOne'), 1, 'the fault was hit');
    const file = await env.service.signedDocument(id);
    assert.equal(
      Buffer.compare(Buffer.from(file.content), Buffer.from(env.sim.controls.transaction(tx as string)?.signedDocument?.content ?? [])),
      0,
    );
  });

  it('the final event written seconds after the record turned final: result() answers once both are there', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    // finalize's second write fails (the activity retries it): the record is final, its event not yet.
    const finalEvent = (doc: unknown) => (doc as { _id?: unknown })._id === `${id}:final`;
    activityStore.fail({ collection: 'signing_events', method: 'insertOne', times: 3, match: finalEvent });
    const waiting = env.service.result(id);
    await env.sim.controls.sign(tx as string);
    const s = await waiting;
    assert.equal(s.status, 'signed');
    assert.equal(await eventCount(env, id, 'signed'), 1, 'the final event is in the history when result() answers');
    assert.equal(activityStore.failures.get('signing_events.insertOne'), 3, 'the fault was hit');
  });

  it('a store error after the send is claimable but before the upload: retried and sent, not "outcome unknown"', async () => {
    // The send reads the document to sign from its chunks (one query, checked against the record's digest).
    activityStore.fail({ collection: 'sources.chunks', method: 'find' });
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    assert.equal(activityStore.failures.get('sources.chunks.find'), 1, 'the fault was hit');
    await env.sim.controls.sign(tx as string);
    assert.equal((await finalSigning(env, id)).status, 'signed');
  });

  it('Evrotrust accepted the document but the ids cannot be recorded for a while: they are recorded later, sent once, signed', async () => {
    const description = `record-${randomUUID()}`;
    // All signers' mappings are one insertMany.
    activityStore.fail({ collection: 'transactions', method: 'insertMany', times: 8 });
    const { id } = await env.service.start(body({ document: { filename: 'r.pdf', content: pdf(description), description } }));
    const [tx] = await sentTransactions(env, id);
    assert.ok((activityStore.failures.get('transactions.insertMany') ?? 0) >= 6, 'the fault was hit through the retries');
    assert.ok(await env.store.transaction(tx as string), 'the transaction → signing mapping exists');
    await env.sim.controls.sign(tx as string);
    assert.equal((await finalSigning(env, id)).status, 'signed');
    assert.equal(env.sim.controls.transactions().filter((t) => t.description === description).length, 1, 'one request reached Evrotrust');
  });

  it('a start that died while writing the document does not burn its reference', async () => {
    const reference = `crash-${randomUUID()}`;
    const request = body({ reference });
    serviceStore.fail({ collection: 'sources.files', method: 'insertOne' });
    await assert.rejects(env.service.start(request), /injected fault/);
    const again = await env.service.start(request);
    const [tx] = await sentTransactions(env, again.id);
    await env.sim.controls.sign(tx as string);
    assert.equal((await finalSigning(env, again.id)).status, 'signed');
  });

  it('three concurrent starts with one reference: one signing, every answer names it', async () => {
    const reference = `parallel-${randomUUID()}`;
    const request = body({ reference });
    const answers = await Promise.all([env.service.start(request), env.service.start(request), env.service.start(request)]);
    const ids = new Set(answers.map((a) => a.id));
    assert.equal(ids.size, 1, `one id for all (${[...ids].join(', ')})`);
    assert.equal(answers.filter((a) => a.created).length, 1, 'one of them created it');
    assert.equal(await env.store.count({ reference }), 1);
    const id = answers[0]?.id as string;
    await sentTransactions(env, id);
    await env.service.withdraw(id);
    assert.equal((await finalSigning(env, id)).status, 'withdrawn');
  });

  it('concurrent starts with one reference but different requests: one signing, the others are refused', async () => {
    const reference = `mixed-${randomUUID()}`;
    const results = await Promise.allSettled([
      env.service.start(body({ reference })),
      env.service.start(body({ reference, signers: [SIGNER_B] })),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    assert.equal(ok.length, 1);
    assert.equal(refused.length, 1);
    assert.match(String((refused[0] as PromiseRejectedResult).reason), /different request/);
    const id = (ok[0] as PromiseFulfilledResult<{ id: string }>).value.id;
    await sentTransactions(env, id);
    await env.service.withdraw(id);
    await finalSigning(env, id);
  });
});

describe('Temporal down at start, and runs that end early', () => {
  let serviceStore: FaultyDb;
  const env = useSigningEnv({ pollIntervalMs: 300, serviceDb: (db) => (serviceStore = faultyDb(db)).db });

  function deadTemporalService(): SigningService {
    const connection = Connection.lazy({ address: '127.0.0.1:9', connectTimeout: 500 });
    return new SigningService({
      db: serviceStore.db,
      temporal: new Client({ connection }),
      taskQueue: env.worker.taskQueue,
      defaultExpiryMs: 60_000,
      pollIntervalMs: 60_000,
    });
  }
  const reconciler = () =>
    new Reconciler({ service: env.service, temporal: env.temporal, taskQueue: env.worker.taskQueue, notStartedGraceMs: 0 });

  it('Temporal unreachable, no key: the caller gets an error and no pending record (nor personal data) is left behind', async () => {
    const description = `down-${randomUUID()}`;
    await assert.rejects(deadTemporalService().start(body({ document: { filename: 'd.pdf', content: pdf(description), description } })));
    assert.equal(await env.store.count({ description }), 0);
  });

  it('Temporal unreachable, with a reference: the retry with the reference continues the same signing', async () => {
    const reference = `down-${randomUUID()}`;
    const request = body({ reference });
    await assert.rejects(deadTemporalService().start(request));
    const again = await env.service.start(request);
    assert.equal(again.created, false, 'the same signing, now with its workflow');
    await sentTransactions(env, again.id);
    await env.service.withdraw(again.id);
    assert.equal((await finalSigning(env, again.id)).status, 'withdrawn');
  });

  it('Temporal unreachable and nobody retries: the reconciler ends the signing failed (not-started); the reference then starts a new one', async () => {
    const reference = `down2-${randomUUID()}`;
    const request = body({ reference });
    await assert.rejects(deadTemporalService().start(request));
    const [left] = await env.store.find({ reference });
    assert.equal(left?.status, 'pending', 'the record waits for a retry');
    const report = await reconciler().reconcileOnce();
    assert.ok(report.notStarted.includes(left._id));
    const s = await env.service.get(left._id);
    assert.equal(s.status, 'failed');
    assert.match(s.failureReason ?? '', /^not-started/);
    const fresh = await env.service.start(request);
    assert.notEqual(fresh.id, left._id);
    assert.equal(fresh.created, true);
    await sentTransactions(env, fresh.id);
    await env.service.withdraw(fresh.id);
    await finalSigning(env, fresh.id);
  });

  it('a signing an older version ended not-started (its code only inside failureReason) still frees its reference', async () => {
    const reference = `legacy-${randomUUID()}`;
    const request = body({ reference });
    await assert.rejects(deadTemporalService().start(request));
    const [left] = await env.store.find({ reference });
    assert.ok(left);
    await reconciler().reconcileOnce();
    assert.equal((await env.store.get(left._id))?.failureCode, 'not-started', 'the code is stored on its own');
    // What an older version stored: no store method writes that shape any more, so this one write goes
    // around the store on purpose.
    // eslint-disable-next-line no-restricted-syntax
    await env.mongo.db.collection<{ _id: string }>('signings').updateOne({ _id: left._id }, { $unset: { failureCode: '' } });
    assert.match((await env.service.get(left._id)).failureReason ?? '', /^not-started: /, 'the text the API shows is unchanged');
    const fresh = await env.service.start(request);
    assert.notEqual(fresh.id, left._id);
    assert.equal(fresh.created, true);
    await sentTransactions(env, fresh.id);
    await env.service.withdraw(fresh.id);
    await finalSigning(env, fresh.id);
  });

  it('Temporal unreachable, no key, and the clean-up fails too: the reconciler ends the signing failed (not-started)', async () => {
    const description = `down3-${randomUUID()}`;
    serviceStore.fail({ collection: 'signings', method: 'deleteOne' });
    await assert.rejects(deadTemporalService().start(body({ document: { filename: 'd.pdf', content: pdf(description), description } })));
    const [left] = await env.store.find({ description });
    assert.equal(left?.status, 'pending', 'the record was left behind');
    const report = await reconciler().reconcileOnce();
    assert.ok(report.notStarted.includes(left._id));
    assert.match((await env.service.get(left._id)).failureReason ?? '', /^not-started/);
  });

  it('a run terminated from outside while pending is repaired by the reconciler and still ends signed, once', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    const waiting = env.service.result(id);
    await env.temporal.workflow.getHandle(`signing-${id}`).terminate('operator pressed Terminate');
    const report = await reconciler().reconcileOnce();
    assert.ok(report.restarted.includes(id), 'the reconciler started a new run');
    await env.sim.controls.sign(tx as string);
    const s = await finalSigning(env, id);
    assert.equal(s.status, 'signed');
    assert.equal((await waiting).status, 'signed', 'result() waited across the termination');
    assert.equal(await eventCount(env, id, 'sent'), 1);
  });

  it('withdraw of a signing whose run was terminated: a new run withdraws it (no 500)', async () => {
    const { id } = await env.service.start(body());
    const [tx] = await sentTransactions(env, id);
    await env.temporal.workflow.getHandle(`signing-${id}`).terminate('operator pressed Terminate');
    await env.service.withdraw(id);
    assert.equal((await finalSigning(env, id)).status, 'withdrawn');
    assert.equal(env.sim.controls.transaction(tx as string)?.status, 6);
  });
});
