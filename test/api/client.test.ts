// createSigningClient against this run's Temporal, FerretDB, a worker and the simulator: the same
// operations as the HTTP API, in-process.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  createSigningClient,
  InvalidCursorError,
  InvalidSigningRequestError,
  SigningNotFoundError,
  type SigningClient,
  type SigningResponse,
} from '../../src/signings/client';
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

  it('list: filters, a page and its cursor, listAll over every page, and the same refusals as the HTTP API', async () => {
    const client = await connect();
    try {
      const since = new Date();
      const reference = `client-list-${randomUUID()}`;
      const ids: string[] = [];
      for (const extra of [{ reference }, {}, {}]) {
        const { id } = await client.start({
          document: { filename: 'l.pdf', content: pdf(randomUUID()) },
          signers: [SIGNER_A],
          expiresIn: '1h',
          ...extra,
        });
        ids.push(id);
      }
      // Sent, so nothing about them changes while they are listed and compared.
      await Promise.all(ids.map((id) => sentTransactions(env, id)));
      const newestFirst = [...ids].reverse();
      const byReference = await client.list({ reference });
      assert.deepEqual(
        byReference.items.map((i) => i.id),
        [ids[0]],
      );
      assert.deepEqual(byReference.items[0], await client.status(ids[0] as string), 'an item is what status() answers');
      assert.equal(byReference.nextCursor, null);

      // The other tests of this file start signings too, at their own times: bound the window to this test's.
      const window = { createdAfter: since, createdBefore: new Date(Date.now() + 1000), status: ['pending'] as const };
      const first = await client.list({ ...window, limit: 2 });
      assert.deepEqual(
        first.items.map((i) => i.id),
        newestFirst.slice(0, 2),
      );
      assert.ok(first.nextCursor);
      const second = await client.list({ ...window, limit: 2, cursor: first.nextCursor });
      assert.deepEqual(
        second.items.map((i) => i.id),
        newestFirst.slice(2),
      );
      assert.equal(second.nextCursor, null);

      const all: SigningResponse[] = [];
      for await (const signing of client.listAll({ ...window, limit: 1 })) all.push(signing);
      assert.deepEqual(
        all.map((s) => s.id),
        newestFirst,
      );

      await assert.rejects(
        client.list({ limit: 0 }),
        (err: unknown) => err instanceof InvalidSigningRequestError && err.message === 'limit must be a whole number from 1 to 200',
      );
      await assert.rejects(
        client.list({ status: 'done' as never }),
        (err: unknown) => err instanceof InvalidSigningRequestError && /^status must be one or more of pending, signed/.test(err.message),
      );
      await assert.rejects(
        client.list({ createdAfter: new Date('nope') }),
        (err: unknown) => err instanceof InvalidSigningRequestError && /^createdAfter must be an ISO-8601 instant/.test(err.message),
      );
      await assert.rejects(
        client.list({ ...window, status: 'signed', cursor: first.nextCursor }),
        (err: unknown) => err instanceof InvalidCursorError && err.code === 'invalid-cursor' && /other filters/.test(err.message),
      );
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
