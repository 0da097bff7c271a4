// createSigningClient against this run's Temporal, FerretDB, a worker and the simulator: the same
// operations as the HTTP API, in-process.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createSigningClient, InvalidSigningRequestError, SigningNotFoundError, type SigningClient } from '../../src/signings/client';
import { testEnv } from '../helpers/stack';
import { pdf, sentTransactions, SIGNER_A, useSigningEnv } from '../helpers/signing-env';

describe('createSigningClient', () => {
  const env = useSigningEnv({ pollIntervalMs: 300 });

  const connect = (): Promise<SigningClient> =>
    createSigningClient({
      temporalAddress: testEnv().temporalAddress,
      mongoUri: testEnv().mongoUri,
      dbName: env.mongo.db.databaseName,
      taskQueue: env.worker.taskQueue,
      defaultExpiry: '1m',
      pollInterval: 300,
    });

  it('connects by address, starts with document bytes, waits for the result, downloads the signed file', async () => {
    const client = await connect();
    try {
      const content = pdf(`client ${randomUUID()}`);
      const started = await client.start({ document: { filename: 'contract.pdf', content: new Uint8Array(content) }, signers: [SIGNER_A] });
      assert.equal(started.status, 'pending');
      assert.equal(started.created, true);
      const stored = await env.service.store.readSource(started.id);
      assert.equal(Buffer.compare(Buffer.from(stored), content), 0, 'the bytes given are the bytes stored');

      const [tx] = await sentTransactions(env, started.id);
      assert.equal((await client.status(started.id)).status, 'pending');
      const waiting = client.result(started.id);
      await env.sim.controls.sign(tx as string);
      const final = await waiting;
      assert.equal(final.status, 'signed');
      assert.ok(final.finalizedAt);

      const file = await client.signedDocument(started.id);
      const simSigned = env.sim.controls.transaction(tx as string)?.signedDocument;
      assert.equal(Buffer.compare(Buffer.from(file.content), Buffer.from(simSigned?.content ?? [])), 0);
      assert.equal(file.contentType, 'application/pdf');
    } finally {
      await client.close();
    }
  });

  it('the same idempotency key twice is the same signing; withdraw ends it', async () => {
    const client = await connect();
    try {
      const key = randomUUID();
      const request = { document: { filename: 'a.pdf', contentBase64: pdf(key).toString('base64') }, signers: [SIGNER_A] };
      const first = await client.start(request, { idempotencyKey: key });
      const second = await client.start(request, { idempotencyKey: key });
      assert.equal(second.id, first.id);
      assert.equal(second.created, false);
      await sentTransactions(env, first.id);
      assert.deepEqual(await client.withdraw(first.id), { id: first.id, status: 'pending' });
      assert.equal((await client.result(first.id)).status, 'withdrawn');
    } finally {
      await client.close();
    }
  });

  it('refuses content and contentBase64 together, content that is not bytes, and no bytes', async () => {
    const client = await connect();
    try {
      const both = { document: { filename: 'a.pdf', content: new Uint8Array([1]), contentBase64: 'AQ==' }, signers: [SIGNER_A] };
      await assert.rejects(
        client.start(both as never),
        (err: unknown) => err instanceof InvalidSigningRequestError && /not both/.test(err.message),
      );
      const text = { document: { filename: 'a.pdf', content: 'hello' }, signers: [SIGNER_A] };
      await assert.rejects(
        client.start(text as never),
        (err: unknown) => err instanceof InvalidSigningRequestError && /Uint8Array/.test(err.message),
      );
      const empty = { document: { filename: 'a.pdf', content: new Uint8Array() }, signers: [SIGNER_A] };
      await assert.rejects(
        client.start(empty),
        (err: unknown) => err instanceof InvalidSigningRequestError && /document\.content is empty/.test(err.message),
      );
      await assert.rejects(client.status(randomUUID()), SigningNotFoundError);
    } finally {
      await client.close();
    }
  });

  it('with connections the caller owns, close() leaves them open', async () => {
    const client = await createSigningClient({ temporal: env.temporal, db: env.mongo.db, taskQueue: env.worker.taskQueue });
    await assert.rejects(client.status(randomUUID()), (err: unknown) => err instanceof SigningNotFoundError && err.code === 'not-found');
    await client.close();
    await env.mongo.db.command({ ping: 1 });
    await env.temporal.workflowService.getSystemInfo({});
  });
});
