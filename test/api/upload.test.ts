// POST /v1/signings as multipart/form-data (the file streamed, no Base64) beside JSON+Base64, over a
// real socket with fetch's FormData (what `curl -F` sends), against the real service and simulator.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/http/server';
import { signingApiRoutes } from '../../src/signings/routes';
import { pdf, sentTransactions, SIGNER_A, useSigningEnv } from '../helpers/signing-env';

const TOKEN = `test-${randomBytes(16).toString('hex')}`;
const UPLOAD_LIMIT = 256 * 1024;

describe('POST /v1/signings as multipart/form-data', () => {
  const env = useSigningEnv({ pollIntervalMs: 300 });
  let app: FastifyInstance;
  let url: string;

  before(async () => {
    app = await buildServer({
      health: { temporal: async () => {}, mongodb: async () => {} },
      plugins: [
        async (a) => void (await a.register(signingApiRoutes, { service: env.service, apiToken: TOKEN, uploadLimit: UPLOAD_LIMIT })),
      ],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/signings`;
  });
  after(async () => {
    await app?.close();
  });

  const form = (parts: Record<string, string | { content: Buffer; filename: string }>): FormData => {
    const f = new FormData();
    for (const [name, v] of Object.entries(parts)) {
      if (typeof v === 'string') f.append(name, v);
      else f.append(name, new Blob([v.content], { type: 'application/pdf' }), v.filename);
    }
    return f;
  };
  const send = async (body: FormData | string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, ...headers } });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, string>) : {}, headers: res.headers };
  };

  it('file + signers (+ optional fields): 202, the document reaches Evrotrust with its name and description', async () => {
    const res = await send(
      form({
        file: { content: pdf(`multipart ${randomUUID()}`), filename: 'договор.pdf' },
        signers: JSON.stringify([SIGNER_A]),
        description: 'Contract by multipart',
        expiresIn: '2d',
      }),
    );
    assert.equal(res.status, 202, JSON.stringify(res.json));
    assert.equal(res.json.status, 'pending');
    assert.equal(res.headers.get('location'), `/v1/signings/${res.json.id}`);
    const [tx] = await sentTransactions(env, res.json.id as string);
    const sent = env.sim.controls.transaction(tx as string);
    // The part's UTF-8 filename arrived intact: the upload to Evrotrust transliterates it, as for JSON.
    assert.equal(sent?.filename, 'dogovor.pdf');
    assert.equal(sent?.description, 'Contract by multipart');
    await env.service.withdraw(res.json.id as string);
  });

  it('the same bytes and reference as an earlier JSON start are the same signing; other bytes are a conflict', async () => {
    const reference = `mp-${randomUUID()}`;
    const content = pdf(`same ${randomUUID()}`);
    const json = await send(
      JSON.stringify({ document: { filename: 'c.pdf', contentBase64: content.toString('base64') }, signers: [SIGNER_A], reference }),
      { 'content-type': 'application/json' },
    );
    assert.equal(json.status, 202, JSON.stringify(json.json));
    const again = await send(form({ file: { content, filename: 'c.pdf' }, signers: JSON.stringify([SIGNER_A]), reference }));
    assert.equal(again.status, 200, JSON.stringify(again.json));
    assert.equal(again.json.id, json.json.id);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const other = await send(
      form({
        file: { content: Buffer.concat([content, Buffer.from('x')]), filename: 'c.pdf' },
        signers: JSON.stringify([SIGNER_A]),
        reference,
      }),
    );
    assert.equal(other.status, 409, JSON.stringify(other.json));
    assert.equal(other.json.error, 'reference-conflict');
    await sentTransactions(env, json.json.id as string);
    await env.service.withdraw(json.json.id as string);
  });

  const doc = () => ({ content: pdf(`bad ${randomUUID()}`), filename: 'a.pdf' });
  const refusals: { name: string; body: () => FormData; status: number; code: string; message: RegExp }[] = [
    { name: 'no file', body: () => form({ signers: JSON.stringify([SIGNER_A]) }), status: 400, code: 'invalid-request', message: /file/ },
    { name: 'no signers', body: () => form({ file: doc() }), status: 400, code: 'invalid-request', message: /signers/ },
    {
      name: 'signers not JSON',
      body: () => form({ file: doc(), signers: '[{' }),
      status: 400,
      code: 'bad-json',
      message: /not valid JSON/,
    },
    {
      name: 'signers with __proto__',
      body: () => form({ file: doc(), signers: '[{"__proto__":{"x":1}}]' }),
      status: 400,
      code: 'bad-json',
      message: /__proto__/,
    },
    {
      name: 'an unknown part',
      body: () => form({ file: doc(), signers: JSON.stringify([SIGNER_A]), sigers: 'x' }),
      status: 400,
      code: 'invalid-request',
      message: /unknown part sigers/,
    },
    {
      name: 'the file under another name',
      body: () => form({ document: doc(), signers: JSON.stringify([SIGNER_A]) }),
      status: 400,
      code: 'invalid-request',
      message: /named file/,
    },
    {
      name: 'a file over UPLOAD_BODY_LIMIT',
      body: () =>
        form({ signers: JSON.stringify([SIGNER_A]), file: { content: Buffer.alloc(UPLOAD_LIMIT + 1, 0x41), filename: 'big.pdf' } }),
      status: 413,
      code: 'too-large',
      message: new RegExp(`${UPLOAD_LIMIT} bytes`),
    },
    {
      name: 'a bad signer (validated as the JSON body is)',
      body: () => form({ file: doc(), signers: JSON.stringify([{ identificationNumber: 'x' }]) }),
      status: 400,
      code: 'invalid-request',
      message: /identificationNumber/,
    },
  ];
  for (const r of refusals) {
    it(`refused: ${r.name}`, async () => {
      const res = await send(r.body());
      assert.equal(res.status, r.status, JSON.stringify(res.json));
      assert.deepEqual(Object.keys(res.json).sort(), ['error', 'message']);
      assert.equal(res.json.error, r.code);
      assert.match(res.json.message ?? '', r.message);
    });
  }

  it('only the start route takes multipart: withdraw answers 415', async () => {
    const res = await fetch(`${url}/abc/withdraw`, {
      method: 'POST',
      body: form({ x: 'y' }),
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(res.status, 415);
  });

  it('without a token, 401 before the body is read', async () => {
    const res = await fetch(url, { method: 'POST', body: form({ file: doc(), signers: '[]' }) });
    assert.equal(res.status, 401);
  });
});
