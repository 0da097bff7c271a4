// The business HTTP API against a real SigningService: this run's Temporal and FerretDB, a worker
// with the real activities, and the simulator over HTTP. Requests go through app.inject() on the
// production server composition (buildServer), and once over a real socket.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { Writable } from 'node:stream';
import { buildServer } from '../../src/http/server';
import { signingApiRoutes } from '../../src/signings/routes';
import { SigningService } from '../../src/signings/service';
import { connectMongo } from '../../src/store/mongo';
import { testEnv } from '../helpers/stack';
import { OTP_SIGNER, pdf, sentTransactions, otpSent, SIGNER_A, useSigningEnv } from '../helpers/signing-env';

const TOKEN = `test-${randomBytes(16).toString('hex')}`;
const auth = { authorization: `Bearer ${TOKEN}` };

describe('business HTTP API /v1/signings', () => {
  const env = useSigningEnv({ pollIntervalMs: 300 });
  let app: FastifyInstance;

  before(async () => {
    app = await buildServer({
      health: { temporal: async () => {}, mongodb: async () => {} },
      plugins: [
        async (server) => {
          await server.register(signingApiRoutes, { service: env.service, apiToken: TOKEN });
        },
      ],
    });
    await app.ready();
  });
  after(async () => {
    await app?.close();
  });

  const body = (extra: Record<string, unknown> = {}) => ({
    document: { filename: 'contract.pdf', contentBase64: pdf(`contract ${randomUUID()}`).toString('base64'), description: 'Contract' },
    signers: [SIGNER_A],
    ...extra,
  });
  const call = (opts: InjectOptions): Promise<LightMyRequestResponse> => app.inject({ ...opts, headers: { ...auth, ...opts.headers } });
  const start = async (extra: Record<string, unknown> = {}): Promise<string> => {
    const res = await call({ method: 'POST', url: '/v1/signings', payload: body(extra) });
    assert.equal(res.statusCode, 202, res.body);
    return res.json<{ id: string }>().id;
  };
  const assertError = (res: LightMyRequestResponse, status: number, code: string, message?: RegExp): void => {
    assert.equal(res.statusCode, status, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const err = res.json<{ error: string; message: string }>();
    assert.deepEqual(Object.keys(err).sort(), ['error', 'message']);
    assert.equal(err.error, code);
    if (message) assert.match(err.message, message);
    assert.doesNotMatch(res.body, /\bat .+\.(ts|js):\d+/, 'no stack trace');
  };

  describe('authentication', () => {
    it('401 without a token, with a wrong one, and with another scheme; WWW-Authenticate says Bearer', async () => {
      const cases: Record<string, string | undefined>[] = [
        {},
        { authorization: `Bearer ${TOKEN}x` },
        { authorization: 'Bearer short' },
        { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` },
        { authorization: TOKEN },
      ];
      for (const headers of cases) {
        for (const [method, url] of [
          ['GET', `/v1/signings/${randomUUID()}`],
          ['POST', '/v1/signings'],
          ['GET', '/v1/signings/x/unknown/route'],
        ] as const) {
          const res = await app.inject({ method, url, headers, ...(method === 'POST' ? { payload: body() } : {}) });
          assertError(res, 401, 'unauthorized');
          assert.match(String(res.headers['www-authenticate']), /^Bearer realm="evrotrust-signing"/);
        }
      }
      const wrong = await app.inject({
        method: 'GET',
        url: `/v1/signings/${randomUUID()}`,
        headers: { authorization: `Bearer ${TOKEN}x` },
      });
      assert.match(String(wrong.headers['www-authenticate']), /error="invalid_token"/);
      assert.equal(await env.service.store.count(), 0, 'nothing was started by an unauthenticated request');
    });

    it('the token check covers only the API: health answers without one', async () => {
      const res = await app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(res.statusCode, 200);
    });

    it('refuses to register with an empty or short token', async () => {
      const bare = await buildServer({ health: { temporal: async () => {}, mongodb: async () => {} } });
      await assert.rejects(async () => {
        await bare.register(signingApiRoutes, { service: env.service, apiToken: '' });
        await bare.ready();
      }, /apiToken/);
      await bare.close().catch(() => {});
    });
  });

  describe('bad input: 4xx { error, message } naming what to fix', () => {
    // `echo`: a value from the request that must not come back (it might be personal data).
    const cases: { name: string; opts: InjectOptions; status: number; code: string; message: RegExp; echo?: string }[] = [
      {
        name: 'not JSON',
        opts: { method: 'POST', url: '/v1/signings', headers: { 'content-type': 'application/json' }, payload: '{"document":' },
        status: 400,
        code: 'bad-json',
        message: /not valid JSON/,
      },
      {
        name: '__proto__ key',
        opts: { method: 'POST', url: '/v1/signings', headers: { 'content-type': 'application/json' }, payload: '{"__proto__":{"x":1}}' },
        status: 400,
        code: 'bad-json',
        message: /__proto__/,
      },
      {
        name: 'text/plain body',
        opts: { method: 'POST', url: '/v1/signings', headers: { 'content-type': 'text/plain' }, payload: 'hello' },
        status: 415,
        code: 'unsupported-media-type',
        message: /application\/json/,
      },
      { name: 'no body', opts: { method: 'POST', url: '/v1/signings' }, status: 400, code: 'invalid-request', message: /expected object/ },
      {
        name: 'missing document',
        opts: { method: 'POST', url: '/v1/signings', payload: { signers: [SIGNER_A] } },
        status: 400,
        code: 'invalid-request',
        message: /^document/,
      },
      {
        name: 'filename with a slash',
        opts: {
          method: 'POST',
          url: '/v1/signings',
          payload: { ...body(), document: { filename: '../x.pdf', contentBase64: 'JVBERg==' } },
        },
        status: 400,
        code: 'invalid-request',
        message: /document\.filename/,
      },
      {
        name: 'content not Base64',
        opts: {
          method: 'POST',
          url: '/v1/signings',
          payload: { ...body(), document: { filename: 'a.pdf', contentBase64: 'not base64!' } },
        },
        status: 400,
        code: 'invalid-request',
        message: /document\.contentBase64/,
      },
      {
        name: 'content decodes to nothing',
        opts: { method: 'POST', url: '/v1/signings', payload: { ...body(), document: { filename: 'a.pdf', contentBase64: '=' } } },
        status: 400,
        code: 'invalid-request',
        message: /document\.contentBase64 decodes to an empty file/,
      },
      {
        name: 'no signers',
        opts: { method: 'POST', url: '/v1/signings', payload: { ...body(), signers: [] } },
        status: 400,
        code: 'invalid-request',
        message: /signers/,
      },
      {
        name: 'bad ЕГН',
        opts: { method: 'POST', url: '/v1/signings', payload: { ...body(), signers: [{ identificationNumber: '75010100' }] } },
        status: 400,
        code: 'invalid-request',
        message: /identificationNumber/,
        echo: '75010100',
      },
      {
        name: 'bad phone',
        opts: { method: 'POST', url: '/v1/signings', payload: { ...body(), signers: [{ phone: 'call me' }] } },
        status: 400,
        code: 'invalid-request',
        message: /phone/,
        echo: 'call me',
      },
      {
        name: 'bad e-mail',
        opts: { method: 'POST', url: '/v1/signings', payload: { ...body(), signers: [{ email: 'ivan at example' }] } },
        status: 400,
        code: 'invalid-request',
        message: /email/,
        echo: 'ivan at example',
      },
      {
        name: 'bad method',
        opts: { method: 'POST', url: '/v1/signings', payload: body({ method: 'fax' }) },
        status: 400,
        code: 'invalid-request',
        message: /method/,
      },
      {
        name: 'bad expiresIn',
        opts: { method: 'POST', url: '/v1/signings', payload: body({ expiresIn: 'soon' }) },
        status: 400,
        code: 'invalid-request',
        message: /expiresIn/,
      },
      {
        name: 'fractional expiresIn',
        opts: { method: 'POST', url: '/v1/signings', payload: body({ expiresIn: '0.4ms' }) },
        status: 400,
        code: 'invalid-request',
        message: /expiresIn must be a whole-unit duration from 30s to 30d/,
      },
      {
        name: 'expiresIn past any date',
        opts: { method: 'POST', url: '/v1/signings', payload: body({ expiresIn: '999999999d' }) },
        status: 400,
        code: 'invalid-request',
        message: /expiresIn must be a whole-unit duration from 30s to 30d/,
      },
      {
        name: 'expiresIn under 30s',
        opts: { method: 'POST', url: '/v1/signings', payload: body({ expiresIn: '10s' }) },
        status: 400,
        code: 'invalid-request',
        message: /expiresIn must be a whole-unit duration from 30s to 30d/,
      },
      {
        name: 'expiresIn over 30d',
        opts: { method: 'POST', url: '/v1/signings', payload: body({ expiresIn: '31d' }) },
        status: 400,
        code: 'invalid-request',
        message: /expiresIn must be a whole-unit duration from 30s to 30d/,
      },
      {
        name: 'unknown field',
        opts: { method: 'POST', url: '/v1/signings', payload: body({ colour: 'red' }) },
        status: 400,
        code: 'invalid-request',
        message: /colour/,
      },
      {
        name: 'OTP signer without phone',
        opts: { method: 'POST', url: '/v1/signings', payload: body({ method: 'otp' }) },
        status: 400,
        code: 'invalid-request',
        message: /phone/,
      },
      {
        name: 'Idempotency-Key too long',
        opts: { method: 'POST', url: '/v1/signings', headers: { 'idempotency-key': 'k'.repeat(201) }, payload: body() },
        status: 400,
        code: 'invalid-request',
        message: /Idempotency-Key/,
      },
      {
        name: 'malformed id',
        opts: { method: 'GET', url: '/v1/signings/not%20an%20id' },
        status: 400,
        code: 'invalid-request',
        message: /^id /,
      },
      {
        name: 'OTP code not digits',
        opts: { method: 'POST', url: `/v1/signings/${randomUUID()}/otp`, payload: { code: 'abc' } },
        status: 400,
        code: 'invalid-request',
        message: /code/,
      },
      {
        name: 'OTP body missing',
        opts: { method: 'POST', url: `/v1/signings/${randomUUID()}/otp` },
        status: 400,
        code: 'invalid-request',
        message: /expected object/,
      },
      {
        name: 'withdraw with a body',
        opts: { method: 'POST', url: `/v1/signings/${randomUUID()}/withdraw`, payload: { now: true } },
        status: 400,
        code: 'invalid-request',
        message: /takes no body/,
      },
      {
        name: 'OTP body over 16 KiB',
        opts: { method: 'POST', url: `/v1/signings/${randomUUID()}/otp`, payload: { code: '1'.repeat(20_000) } },
        status: 413,
        code: 'too-large',
        message: /16384 bytes/,
      },
      {
        name: 'unknown route under /v1/signings',
        opts: { method: 'DELETE', url: `/v1/signings/${randomUUID()}` },
        status: 404,
        code: 'not-found',
        message: /no route DELETE/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const res = await call(c.opts);
        assertError(res, c.status, c.code, c.message);
        if (c.echo) assert.equal(res.body.includes(c.echo), false, 'the offending value is not echoed');
      });
    }

    it('a start body over 30 MiB is refused with 413 before it is parsed', async () => {
      const payload = `{"document":{"filename":"big.pdf","contentBase64":"${'A'.repeat(30 * 1024 * 1024)}"},"signers":[{"identificationNumber":"7501010010"}]}`;
      const res = await call({ method: 'POST', url: '/v1/signings', headers: { 'content-type': 'application/json' }, payload });
      assertError(res, 413, 'too-large', /31457280 bytes/);
    });

    it('nothing was started by any of the refused requests', async () => {
      assert.equal(await env.service.store.count(), 0);
    });
  });

  describe('signings', () => {
    it('expiresIn at its bounds, 30s and 30d, is accepted and sets expiresAt', async () => {
      for (const [expiresIn, ms] of [
        ['30s', 30_000],
        ['30d', 30 * 86_400_000],
      ] as const) {
        const before = Date.now();
        const id = await start({ expiresIn });
        const res = await call({ method: 'GET', url: `/v1/signings/${id}` });
        const expiresAt = Date.parse(res.json<{ expiresAt: string }>().expiresAt);
        assert.ok(expiresAt >= before + ms && expiresAt <= Date.now() + ms, `${expiresIn} → ${new Date(expiresAt).toISOString()}`);
      }
    });

    it('start: 202 { id, status: pending } with a Location; GET shows it per CONTRACT without personal data', async () => {
      const res = await call({
        method: 'POST',
        url: '/v1/signings',
        payload: body({ signers: [{ identificationNumber: '7501010010', email: 'ivan@example.com' }] }),
      });
      assert.equal(res.statusCode, 202, res.body);
      const { id, status, ...rest } = res.json<{ id: string; status: string }>();
      assert.equal(status, 'pending');
      assert.deepEqual(rest, {});
      assert.equal(res.headers.location, `/v1/signings/${id}`);
      assert.equal(res.headers['idempotent-replayed'], undefined);

      await sentTransactions(env, id);
      const got = await call({ method: 'GET', url: `/v1/signings/${id}` });
      assert.equal(got.statusCode, 200);
      const s = got.json<Record<string, unknown> & { signers: Record<string, unknown>[] }>();
      assert.equal(s.id, id);
      assert.equal(s.status, 'pending');
      assert.equal(s.method, 'app');
      assert.ok(typeof s.createdAt === 'string' && !Number.isNaN(Date.parse(s.createdAt)));
      assert.equal(s.finalizedAt, undefined);
      assert.equal(s.signers.length, 1);
      for (const signer of s.signers) {
        assert.ok(typeof signer.transactionId === 'string');
        assert.equal(signer.status, 'pending');
        for (const key of ['identificationNumber', 'phone', 'email', 'country'])
          assert.equal(key in signer, false, `signer carries no ${key}`);
      }
      assert.doesNotMatch(got.body, /7501010010|ivan@example\.com/, 'no personal data anywhere in the answer');
      assert.equal(got.headers['cache-control'], 'no-store');
      await env.service.withdraw(id);
      await env.service.result(id);
    });

    it('404 { error: not-found } for an unknown id, on every route', async () => {
      const id = randomUUID();
      for (const [method, url] of [
        ['GET', `/v1/signings/${id}`],
        ['GET', `/v1/signings/${id}/signed-document`],
        ['POST', `/v1/signings/${id}/withdraw`],
        ['POST', `/v1/signings/${id}/otp/resend`],
      ] as const) {
        assertError(await call({ method, url }), 404, 'not-found', new RegExp(id));
      }
      assertError(await call({ method: 'POST', url: `/v1/signings/${id}/otp`, payload: { code: '123456' } }), 404, 'not-found');
    });

    it('idempotency by header: the same Idempotency-Key gives the same signing (202, then 200 replayed)', async () => {
      const key = `order-${randomUUID()}`;
      const payload = body();
      const first = await call({ method: 'POST', url: '/v1/signings', headers: { 'idempotency-key': key }, payload });
      const second = await call({ method: 'POST', url: '/v1/signings', headers: { 'idempotency-key': `"${key}"` }, payload });
      assert.equal(first.statusCode, 202);
      assert.equal(second.statusCode, 200, 'a repeat is answered 200');
      assert.equal(second.json<{ id: string }>().id, first.json<{ id: string }>().id);
      assert.equal(second.headers['idempotent-replayed'], 'true');
      assert.equal(second.headers.location, first.headers.location);
      const other = await call({ method: 'POST', url: '/v1/signings', headers: { 'idempotency-key': `${key}-2` }, payload: body() });
      assert.equal(other.statusCode, 202);
      assert.notEqual(other.json<{ id: string }>().id, first.json<{ id: string }>().id);
      for (const id of [first.json<{ id: string }>().id, other.json<{ id: string }>().id]) {
        await sentTransactions(env, id);
        await env.service.withdraw(id);
      }
    });

    it('idempotency by reference: the same reference gives the same signing, and only one is stored', async () => {
      const reference = `invoice-${randomUUID()}`;
      const payload = body({ reference });
      const first = await call({ method: 'POST', url: '/v1/signings', payload });
      const second = await call({ method: 'POST', url: '/v1/signings', payload });
      assert.equal(first.statusCode, 202);
      assert.equal(second.statusCode, 200);
      const id = first.json<{ id: string }>().id;
      assert.equal(second.json<{ id: string }>().id, id);
      // The same reference with another document is refused, not merged into the first signing.
      assertError(
        await call({ method: 'POST', url: '/v1/signings', payload: body({ reference }) }),
        409,
        'reference-conflict',
        /different request/,
      );
      assert.equal(await env.service.store.count({ reference }), 1);
      assert.equal((await call({ method: 'GET', url: `/v1/signings/${id}` })).json<{ reference: string }>().reference, reference);
      await sentTransactions(env, id);
      await env.service.withdraw(id);
    });

    it('a reference started over HTTP and repeated with the same bytes through the service (as the client does) is the same signing', async () => {
      const reference = `bytes-${randomUUID()}`;
      const content = pdf(`bytes ${randomUUID()}`);
      const payload = {
        document: { filename: 'contract.pdf', contentBase64: content.toString('base64'), description: 'Contract' },
        signers: [SIGNER_A],
        reference,
      };
      const first = await call({ method: 'POST', url: '/v1/signings', payload });
      assert.equal(first.statusCode, 202, first.body);
      const id = first.json<{ id: string }>().id;
      const again = await env.service.start({
        document: { filename: 'contract.pdf', content, description: 'Contract' },
        signers: [SIGNER_A],
        reference,
      });
      assert.deepEqual(again, { id, status: 'pending', created: false });
      // The fingerprint is the one earlier versions stored: the parsed HTTP body, keys sorted, hashed.
      const sorted = (v: unknown): unknown =>
        v && typeof v === 'object' && !Array.isArray(v)
          ? Object.fromEntries(
              Object.entries(v)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, x]) => [k, sorted(x)]),
            )
          : Array.isArray(v)
            ? v.map(sorted)
            : v;
      const expected = createHash('sha256')
        .update(JSON.stringify(sorted({ ...payload, method: 'app' })))
        .digest('hex');
      const claimed = await env.store.reference(`reference:${reference}`);
      assert.equal(claimed?.fingerprint, expected);
      await sentTransactions(env, id);
      await env.service.withdraw(id);
    });

    it('signed-document: 409 while not signed, then the exact signed bytes with type and a UTF-8 filename', async () => {
      // Cyrillic, spaces, parentheses and an apostrophe: all must survive the header. (A double quote
      // would not survive the trip: multipart upload encodes it as %22 on the way to Evrotrust.)
      const filename = "договор №1 (окончателен) 'v2'.pdf";
      const id = await start({ document: { filename, contentBase64: pdf(`signed ${randomUUID()}`).toString('base64') } });
      assertError(await call({ method: 'GET', url: `/v1/signings/${id}/signed-document` }), 409, 'not-signed', /pending/);
      const [tx] = await sentTransactions(env, id);
      await env.sim.controls.sign(tx as string);
      assert.equal((await env.service.result(id)).status, 'signed');

      const res = await call({ method: 'GET', url: `/v1/signings/${id}/signed-document` });
      assert.equal(res.statusCode, 200);
      const simSigned = env.sim.controls.transaction(tx as string)?.signedDocument;
      assert.ok(simSigned);
      assert.equal(Buffer.compare(res.rawPayload, Buffer.from(simSigned.content)), 0, 'the bytes the simulator signed');
      assert.equal(res.headers['content-type'], 'application/pdf');
      assert.equal(res.headers['content-length'], String(simSigned.content.byteLength));
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['cache-control'], 'no-store');
      const disposition = String(res.headers['content-disposition']);
      assert.equal(
        disposition,
        "attachment; filename=\"_______ No1 (___________) 'v2'.pdf\"; filename*=UTF-8''%D0%B4%D0%BE%D0%B3%D0%BE%D0%B2%D0%BE%D1%80%20%E2%84%961%20%28%D0%BE%D0%BA%D0%BE%D0%BD%D1%87%D0%B0%D1%82%D0%B5%D0%BB%D0%B5%D0%BD%29%20%27v2%27.pdf",
      );
      assert.equal(decodeURIComponent(/filename\*=UTF-8''(.+)$/.exec(disposition)?.[1] ?? ''), filename);

      const s = (await call({ method: 'GET', url: `/v1/signings/${id}` })).json<{
        status: string;
        finalizedAt?: string;
        signedDocument?: { filename: string; size: number; sha256: string };
      }>();
      assert.equal(s.status, 'signed');
      assert.ok(s.finalizedAt);
      assert.deepEqual(s.signedDocument, { filename, size: simSigned.content.byteLength, sha256: simSigned.sha256 });
    });

    it('withdraw: 202, then status withdrawn; a second withdraw is 409 already-final', async () => {
      const id = await start();
      const [tx] = await sentTransactions(env, id);
      const res = await call({ method: 'POST', url: `/v1/signings/${id}/withdraw` });
      assert.equal(res.statusCode, 202, res.body);
      assert.deepEqual(res.json(), { id, status: 'pending' });
      assert.equal((await env.service.result(id)).status, 'withdrawn');
      assert.equal((await call({ method: 'GET', url: `/v1/signings/${id}` })).json<{ status: string }>().status, 'withdrawn');
      assert.equal(env.sim.controls.transaction(tx as string)?.status, 6, 'withdrawn at Evrotrust');
      assertError(
        await call({ method: 'POST', url: `/v1/signings/${id}/withdraw`, headers: { 'content-type': 'application/json' }, payload: '{}' }),
        409,
        'already-final',
        /withdrawn/,
      );
    });

    it('OTP: a wrong code is 422 with the provider reason, resend gives a new code, the right one is 200 and signs', async () => {
      const id = await start({ method: 'otp', signers: [OTP_SIGNER] });
      const [tx] = await otpSent(env, id);
      const firstCode = env.sim.controls.transaction(tx as string)?.otpCode as string;
      const wrong = firstCode === '000000' ? '111111' : '000000';
      const refused = await call({ method: 'POST', url: `/v1/signings/${id}/otp`, payload: { code: wrong } });
      assertError(refused, 422, 'wrong-activation-code', /code is wrong/);
      assert.doesNotMatch(refused.body, new RegExp(`${OTP_SIGNER.phone.replace('+', '\\+')}|${OTP_SIGNER.identificationNumber}`));

      const resent = await call({ method: 'POST', url: `/v1/signings/${id}/otp/resend` });
      assert.equal(resent.statusCode, 200, resent.body);
      assert.deepEqual(resent.json(), { id, resent: true });
      const code = env.sim.controls.transaction(tx as string)?.otpCode as string;

      const accepted = await call({ method: 'POST', url: `/v1/signings/${id}/otp`, payload: { code } });
      assert.equal(accepted.statusCode, 200, accepted.body);
      assert.deepEqual(accepted.json(), { id, accepted: true });
      assert.equal((await env.service.result(id)).status, 'signed');
      assertError(await call({ method: 'POST', url: `/v1/signings/${id}/otp`, payload: { code } }), 409, 'already-final');
    });

    it('OTP routes on an app signing are 409 not-otp', async () => {
      const id = await start();
      await sentTransactions(env, id);
      assertError(await call({ method: 'POST', url: `/v1/signings/${id}/otp`, payload: { code: '123456' } }), 409, 'not-otp');
      assertError(await call({ method: 'POST', url: `/v1/signings/${id}/otp/resend` }), 409, 'not-otp');
      await env.service.withdraw(id);
    });
  });

  describe('events', () => {
    it('GET /:id/events lists the history oldest first, without personal data; 404 for an unknown id', async () => {
      const { id } = (await call({ method: 'POST', url: '/v1/signings', payload: body() })).json<{ id: string }>();
      await sentTransactions(env, id);
      const res = await call({ method: 'GET', url: `/v1/signings/${id}/events` });
      assert.equal(res.statusCode, 200, res.body);
      const { events } = res.json<{ events: { type: string; at: string }[] }>();
      assert.deepEqual(events.map((e) => e.type).slice(0, 2), ['created', 'sent']);
      assert.ok(events.every((e) => !Number.isNaN(Date.parse(e.at))));
      assert.equal(res.body.includes(SIGNER_A.identificationNumber), false);
      assertError(await call({ method: 'GET', url: `/v1/signings/${randomUUID()}/events` }), 404, 'not-found');
      await env.service.withdraw(id);
    });
  });

  describe('unexpected failures', () => {
    it('a store that is gone gives 500 { error: internal } with the request id, and a log line without personal data', async () => {
      const lines: string[] = [];
      const logs = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString('utf8')), done()) });
      const gone = await connectMongo(testEnv().mongoUri, env.mongo.db.databaseName);
      await gone.close();
      const broken = new SigningService({
        db: gone.db,
        temporal: env.temporal,
        taskQueue: env.worker.taskQueue,
        defaultExpiryMs: 60_000,
        pollIntervalMs: 60_000,
      });
      const server = await buildServer({
        health: { temporal: async () => {}, mongodb: async () => {} },
        logger: { level: 'info', stream: logs },
        plugins: [async (s) => void (await s.register(signingApiRoutes, { service: broken, apiToken: TOKEN }))],
      });
      try {
        const res = await server.inject({
          method: 'POST',
          url: '/v1/signings',
          headers: auth,
          payload: body({ signers: [OTP_SIGNER], method: 'otp' }),
        });
        assert.equal(res.statusCode, 500, res.body);
        const err = res.json<{ error: string; message: string }>();
        assert.equal(err.error, 'internal');
        // The id the answer's X-Request-Id echoes (a UUID when the caller sent none), and in the log line.
        const reqId = res.headers['x-request-id'] as string;
        assert.match(reqId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        assert.ok(err.message.includes(`report request id ${reqId}`), err.message);
        assert.doesNotMatch(res.body, /Mongo|\.ts:\d+/, 'no internals in the answer');
        const logged = lines.join('');
        assert.match(logged, /signing API: unexpected error/);
        assert.ok(logged.includes(`"reqId":"${reqId}"`), 'the log line carries the same id');
        assert.equal(
          logged.includes(OTP_SIGNER.identificationNumber) || logged.includes(OTP_SIGNER.phone),
          false,
          'no personal data in the log',
        );
      } finally {
        await server.close();
      }
    });
  });

  describe('over a real socket', () => {
    let base = '';
    before(async () => {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      assert.ok(address && typeof address === 'object');
      base = `http://127.0.0.1:${address.port}`;
    });

    it('401 without a token; start with fetch, then read it back', async () => {
      const unauth = await fetch(`${base}/v1/signings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body()),
      });
      assert.equal(unauth.status, 401);
      assert.equal(unauth.headers.get('www-authenticate'), 'Bearer realm="evrotrust-signing"');
      assert.equal(((await unauth.json()) as { error: string }).error, 'unauthorized');

      const started = await fetch(`${base}/v1/signings`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify(body()),
      });
      assert.equal(started.status, 202);
      const { id } = (await started.json()) as { id: string };
      const location = started.headers.get('location');
      assert.equal(location, `/v1/signings/${id}`);
      const got = await fetch(`${base}${location}`, { headers: auth });
      assert.equal(got.status, 200);
      assert.match(got.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(((await got.json()) as { id: string }).id, id);
      await sentTransactions(env, id);
      const withdrawn = await fetch(`${base}/v1/signings/${id}/withdraw`, { method: 'POST', headers: auth });
      assert.equal(withdrawn.status, 202);
      assert.equal((await env.service.result(id)).status, 'withdrawn');
    });
  });
});
