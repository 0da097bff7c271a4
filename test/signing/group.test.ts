// Group signing end to end on the real stack (Temporal, FerretDB, worker with the real activities,
// the simulator over HTTP, callbacks through the relay): three documents, two signers, one
// /document/group/online request; every signed file served equals byte for byte what the simulator signed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildServer } from '../../src/http/server';
import { signingApiRoutes } from '../../src/signings/routes';
import { signingResponseSchema } from '../../src/signings/responses';
import { pdf, sentTransactions, SIGNER_A, SIGNER_B, useSigningEnv } from '../helpers/signing-env';
import { waitFor } from '../helpers/wait';

const TOKEN = `test-${randomBytes(16).toString('hex')}`;
const auth = { authorization: `Bearer ${TOKEN}` };
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('group signing: several documents in one signing', () => {
  const env = useSigningEnv({ pollIntervalMs: 500, callbacks: true });
  let app: FastifyInstance;

  before(async () => {
    app = await buildServer({
      health: { temporal: async () => {}, mongodb: async () => {} },
      plugins: [async (server) => void (await server.register(signingApiRoutes, { service: env.service, apiToken: TOKEN }))],
    });
    await app.ready();
  });
  after(async () => {
    await app?.close();
  });

  const call = (opts: InjectOptions): Promise<LightMyRequestResponse> => app.inject({ ...opts, headers: { ...auth, ...opts.headers } });
  const get = async (id: string) => signingResponseSchema.parse((await call({ method: 'GET', url: `/v1/signings/${id}` })).json());

  it('three documents signed by two signers: one group request, every signed file served as the simulator signed it', async () => {
    const tag = randomUUID();
    const files = [
      { filename: 'contract.pdf', content: pdf(`contract ${tag}`), description: 'Employment contract' },
      { filename: 'annex.pdf', content: pdf(`annex ${tag}`), description: 'Annex 1' },
      { filename: 'privacy.pdf', content: pdf(`privacy ${tag}`), description: 'Privacy notice', optional: true },
    ];
    const started = await call({
      method: 'POST',
      url: '/v1/signings',
      payload: {
        documents: files.map((f) => ({
          filename: f.filename,
          contentBase64: b64(f.content),
          description: f.description,
          ...(f.optional ? { optional: true } : {}),
        })),
        signers: [SIGNER_A, SIGNER_B],
      },
    });
    assert.equal(started.statusCode, 202, started.body);
    const { id } = started.json<{ id: string }>();
    const [txA, txB] = (await sentTransactions(env, id, 2)) as [string, string];

    // At Evrotrust: one group thread, each signer's one transaction covering the three documents.
    const atSim = env.sim.controls.transaction(txA);
    assert.equal(atSim?.kind, 'group');
    assert.equal(atSim?.threadID, env.sim.controls.transaction(txB)?.threadID);
    assert.deepEqual(
      atSim?.documents?.map((d) => [d.filename, d.description, d.optional]),
      files.map((f) => [f.filename, f.description, f.optional === true]),
    );

    const pending = await get(id);
    assert.deepEqual(
      pending.documents?.map((d) => [d.index, d.filename, d.optional, d.sha256, d.size]),
      files.map((f, i) => [i + 1, f.filename, f.optional === true, sha256(f.content), f.content.byteLength]),
    );
    assert.equal(pending.documents?.[0]?.signedDocument, undefined);
    assert.equal(pending.signedDocument, undefined);
    const notYet = await call({ method: 'GET', url: `/v1/signings/${id}/signed-documents/1` });
    assert.equal(notYet.statusCode, 409, notYet.body);

    env.sim.controls.sign(txA);
    env.sim.controls.sign(txB);
    const signed = await waitFor(async () => {
      const s = await get(id);
      return s.status === 'signed' ? s : undefined;
    }, 'the group signing is signed');
    assert.deepEqual(
      signed.signers.map((s) => s.status),
      ['signed', 'signed'],
    );

    // The last signer's copy carries both signatures: that is what is served for each document.
    const produced = env.sim.controls.transaction(txB)?.documents ?? [];
    assert.equal(produced.length, 3);
    for (const [i, f] of files.entries()) {
      const want = produced[i]?.signedDocument?.content;
      assert.ok(want, `the simulator signed document ${i + 1}`);
      const res = await call({ method: 'GET', url: `/v1/signings/${id}/signed-documents/${i + 1}` });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.rawPayload, Buffer.from(want), `document ${i + 1} byte for byte`);
      assert.equal(res.headers['content-type'], 'application/pdf');
      assert.match(String(res.headers['content-disposition']), new RegExp(f.filename.replace('.', '\\.')));
      const text = res.rawPayload.toString('latin1');
      assert.ok(text.startsWith(f.content.toString('latin1')), 'the original bytes come first');
      assert.match(text, new RegExp(`transactionID=${txA} `));
      assert.match(text, new RegExp(`transactionID=${txB} `));
      assert.deepEqual(signed.documents?.[i]?.signedDocument, { filename: f.filename, sha256: sha256(want), size: want.byteLength });
    }

    // The one-document route and out-of-range documents say what to do instead.
    const single = await call({ method: 'GET', url: `/v1/signings/${id}/signed-document` });
    assert.equal(single.statusCode, 409, single.body);
    assert.match(single.json<{ message: string }>().message, /signed-documents\/<1 to 3>/);
    const four = await call({ method: 'GET', url: `/v1/signings/${id}/signed-documents/4` });
    assert.equal(four.statusCode, 404, four.body);
    assert.equal(four.json<{ error: string }>().error, 'document-not-found');
    assert.equal((await call({ method: 'GET', url: `/v1/signings/${id}/signed-documents/zero` })).statusCode, 400);

    // The group went through the group endpoints: the callbacks to /document/group/ready were taken.
    const groupCallbacks = env.sim.controls
      .callbacks()
      .filter((c) => c.url.endsWith('/document/group/ready') && [txA, txB].includes(c.transactionID));
    assert.ok(
      groupCallbacks.some((c) => c.outcome === 200),
      'a group callback was delivered and acknowledged',
    );
  });

  it('an optional document one signer left unsigned: each document is served as its last signer signed it', async () => {
    const files = ['main', 'annex', 'optional'].map((n) => ({ filename: `${n}.pdf`, content: pdf(`${n} ${randomUUID()}`) }));
    const started = await call({
      method: 'POST',
      url: '/v1/signings',
      payload: {
        documents: files.map((f, i) => ({ filename: f.filename, contentBase64: b64(f.content), ...(i === 2 ? { optional: true } : {}) })),
        signers: [SIGNER_A, SIGNER_B],
      },
    });
    assert.equal(started.statusCode, 202, started.body);
    const { id } = started.json<{ id: string }>();
    const [txA, txB] = (await sentTransactions(env, id, 2)) as [string, string];
    await assert.rejects(async () => env.sim.controls.sign(txB, { skipDocuments: [1] }), /not an optional document/);
    env.sim.controls.sign(txA);
    env.sim.controls.sign(txB, { skipDocuments: [3] });
    await waitFor(async () => (await get(id)).status === 'signed', 'signed');
    const byB = env.sim.controls.transaction(txB)?.documents ?? [];
    const byA = env.sim.controls.transaction(txA)?.documents ?? [];
    assert.equal(byB[2]?.signedDocument, undefined, 'B left the optional document unsigned');
    const expected = [byB[0]?.signedDocument?.content, byB[1]?.signedDocument?.content, byA[2]?.signedDocument?.content];
    for (const [i, want] of expected.entries()) {
      assert.ok(want);
      const res = await call({ method: 'GET', url: `/v1/signings/${id}/signed-documents/${i + 1}` });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.rawPayload, Buffer.from(want), `document ${i + 1}`);
    }
  });

  it('one signer rejects: the group signing is rejected and the other signer’s request withdrawn', async () => {
    const started = await call({
      method: 'POST',
      url: '/v1/signings',
      payload: {
        documents: [0, 1].map((i) => ({ filename: `d${i}.pdf`, contentBase64: b64(pdf(`reject ${i} ${randomUUID()}`)) })),
        signers: [SIGNER_A, SIGNER_B],
      },
    });
    assert.equal(started.statusCode, 202, started.body);
    const { id } = started.json<{ id: string }>();
    const [txA, txB] = (await sentTransactions(env, id, 2)) as [string, string];
    env.sim.controls.reject(txA, 'the annex is wrong');
    const done = await waitFor(async () => {
      const s = await get(id);
      return s.status !== 'pending' ? s : undefined;
    }, 'final');
    assert.equal(done.status, 'rejected');
    assert.equal(done.rejectReason, 'the annex is wrong');
    await waitFor(() => env.sim.controls.transaction(txB)?.status === 6, 'the other transaction withdrawn at Evrotrust');
    assert.equal((await call({ method: 'GET', url: `/v1/signings/${id}/signed-documents/1` })).statusCode, 409);

    // Every document to sign was stored, and goes with the personal data under the retention policy.
    const second = done.documents?.[1];
    assert.ok(second);
    assert.equal((await env.store.readGroupSource(id, 1, second)).byteLength, second.size);
    assert.equal(await env.store.erasePersonalData(id, '1m'), true);
    await assert.rejects(env.store.readGroupSource(id, 1, second), /no document 2 to sign/);
    await assert.rejects(env.store.readSource(id), /no document to sign/);
  });

  it('refuses what Evrotrust would: documents with document, fewer than 2 or more than 20, OTP, an optional first document', async () => {
    const doc = (i: number) => ({ filename: `f${i}.pdf`, contentBase64: b64(pdf(`refuse ${i}`)) });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ document: doc(0), documents: [doc(1), doc(2)] }, /exactly one of document/],
      [{}, /exactly one of document/],
      [{ documents: [doc(0)] }, /2 to 20 documents/],
      [{ documents: Array.from({ length: 21 }, (_, i) => doc(i)) }, /at most 20 documents/],
      [
        { documents: [doc(0), doc(1)], method: 'otp', signers: [{ identificationNumber: '9003030031', phone: '+359888123456' }] },
        /method "app"/,
      ],
      [{ documents: [{ ...doc(0), optional: true }, doc(1)] }, /first document cannot be optional/],
    ];
    for (const [payload, message] of cases) {
      const res = await call({ method: 'POST', url: '/v1/signings', payload: { signers: [SIGNER_A], ...payload } });
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json<{ message: string }>().message, message);
    }
  });

  it('one document keeps today’s shapes; signed-documents/1 is its signed file', async () => {
    const started = await call({
      method: 'POST',
      url: '/v1/signings',
      payload: { document: { filename: 'one.pdf', contentBase64: b64(pdf(`one ${randomUUID()}`)) }, signers: [SIGNER_A] },
    });
    assert.equal(started.statusCode, 202, started.body);
    const { id } = started.json<{ id: string }>();
    const [tx] = (await sentTransactions(env, id)) as [string];
    assert.equal(env.sim.controls.transaction(tx)?.kind, 'online');
    env.sim.controls.sign(tx);
    const s = await waitFor(async () => {
      const x = await get(id);
      return x.status === 'signed' ? x : undefined;
    }, 'signed');
    assert.equal(s.documents, undefined);
    assert.ok(s.signedDocument);
    const one = await call({ method: 'GET', url: `/v1/signings/${id}/signed-document` });
    const first = await call({ method: 'GET', url: `/v1/signings/${id}/signed-documents/1` });
    assert.equal(first.statusCode, 200);
    assert.deepEqual(first.rawPayload, one.rawPayload);
    assert.equal((await call({ method: 'GET', url: `/v1/signings/${id}/signed-documents/2` })).statusCode, 404);
  });
});
