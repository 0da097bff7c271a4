// The OpenAPI description (/docs/json) and the docs page (/docs) of the production server
// composition, on the real stack: every route is described, every example passes the route's own
// zod validator, real answers of a whole signing match the documented response schemas, and the
// docs page renders in headless Chromium (screenshot: test-results/docs-page.png).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, InjectOptions, RouteOptions } from 'fastify';
import { z } from 'zod';
import { buildServer } from '../../src/http/server';
import { signingApiRoutes } from '../../src/signings/routes';
import { registerCallbacks } from '../../src/callbacks';
import { metricsRoutes, ServiceMetrics } from '../../src/http/metrics';
import { errorBodySchema } from '../../src/http/errors';
import { OPENAPI_JSON_PATH } from '../../src/http/openapi';
import {
  eventsResponseSchema,
  signingPageResponseSchema,
  signingResponseSchema,
  startedResponseSchema,
} from '../../src/signings/responses';
import { SERVICE_VERSION } from '../../src/version';
import { TEXT_FIELDS } from '../../src/signings/multipart';
import { pdf, sentTransactions, SIGNER_A, useSigningEnv } from '../helpers/signing-env';
import { launchChromium } from '../helpers/chromium';
import { waitFor } from '../helpers/wait';

const TOKEN = `test-${randomBytes(16).toString('hex')}`;
const auth = { authorization: `Bearer ${TOKEN}` };
const root = join(__dirname, '..', '..');

interface OpenApiDoc {
  openapi: string;
  info: { version: string };
  paths: Record<string, Record<string, { summary?: string; security?: unknown[]; responses: Record<string, unknown> }>>;
}

/** Every zod schema a route carries, with where it sits (body, a content type, a response code). */
function zodSchemasOf(route: RouteOptions): { where: string; schema: z.ZodType }[] {
  const out: { where: string; schema: z.ZodType }[] = [];
  const visit = (where: string, v: unknown) => {
    if (v instanceof z.ZodType) out.push({ where, schema: v });
    else if (v && typeof v === 'object' && 'content' in v)
      for (const [type, c] of Object.entries((v as { content: Record<string, { schema: unknown }> }).content))
        visit(`${where} ${type}`, c.schema);
  };
  const s = (route.schema ?? {}) as Record<string, unknown>;
  for (const part of ['body', 'querystring', 'params', 'headers']) visit(part, s[part]);
  for (const [code, r] of Object.entries((s.response ?? {}) as Record<string, unknown>)) visit(`response ${code}`, r);
  return out;
}

describe('OpenAPI description and docs page', () => {
  const env = useSigningEnv({ pollIntervalMs: 300 });
  let app: FastifyInstance;
  let url: string;
  const routes: RouteOptions[] = [];

  before(async () => {
    app = await buildServer({
      health: { temporal: async () => {}, mongodb: async () => {} },
      observeRoutes: (r) => void routes.push(r),
      plugins: [
        async (a) => void (await a.register(metricsRoutes, { metrics: new ServiceMetrics({ defaultMetrics: false }) })),
        (a) =>
          registerCallbacks(a, { db: env.mongo.db, allowedIps: ['127.0.0.2'], metrics: new ServiceMetrics({ defaultMetrics: false }) }),
        async (a) => void (await a.register(signingApiRoutes, { service: env.service, apiToken: TOKEN })),
      ],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  after(async () => {
    await app?.close();
  });

  const doc = async (): Promise<OpenApiDoc> => {
    const res = await app.inject({ method: 'GET', url: OPENAPI_JSON_PATH });
    assert.equal(res.statusCode, 200);
    return res.json<OpenApiDoc>();
  };
  const call = (opts: InjectOptions) => app.inject({ ...opts, headers: { ...auth, ...opts.headers } });

  it('is OpenAPI 3.1 with the service version, and describes every route the server has', async () => {
    const d = await doc();
    assert.equal(d.openapi, '3.1.0');
    assert.equal(d.info.version, SERVICE_VERSION);
    assert.equal(SERVICE_VERSION, (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);

    const documented = new Set(Object.entries(d.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
    const expected = new Set<string>();
    const hidden: string[] = [];
    for (const r of routes) {
      const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'HEAD');
      const path = r.url.replace(/:(\w+)/g, '{$1}').replace(/(.)\/$/, '$1');
      for (const m of methods) {
        if ((r.schema as { hide?: boolean } | undefined)?.hide || r.url.startsWith('/docs')) hidden.push(`${m} ${r.url}`);
        else expected.add(`${m} ${path}`);
      }
    }
    assert.deepEqual([...documented].sort(), [...expected].sort(), 'the documented operations are exactly the routes');
    // What is left out, and why: the `//` aliases of the callbacks, the callbacks' 404 catch-all, the docs page itself.
    for (const h of hidden) assert.match(h, /\/\/|\/evrotrust\/callback\/\*$|^GET \/docs/, `undocumented route ${h}`);
    for (const must of ['POST /v1/signings', 'GET /v1/signings/{id}', 'POST /evrotrust/callback/document/ready', 'GET /readyz'])
      assert.ok(documented.has(must), `${must} is documented`);

    const multipart = (
      d.paths['/v1/signings']?.post as unknown as { requestBody: { content: Record<string, { schema: { properties: object } }> } }
    ).requestBody.content['multipart/form-data'];
    assert.deepEqual(
      Object.keys(multipart?.schema.properties ?? {}).sort(),
      ['file', 'signers', ...TEXT_FIELDS].sort(),
      'every multipart part is described',
    );

    for (const [path, ops] of Object.entries(d.paths))
      for (const [m, op] of Object.entries(ops)) {
        assert.ok(op.summary, `${m} ${path} has a summary`);
        assert.ok(
          Object.keys(op.responses).some((c) => /^2/.test(c)),
          `${m} ${path} documents a 2xx answer`,
        );
        if (path.startsWith('/v1/')) assert.deepEqual(op.security, [{ apiToken: [] }], `${m} ${path} needs the API token`);
      }
  });

  it("has examples, and every one passes the route's own validator", async () => {
    const text = JSON.stringify(await doc());
    let examples = 0;
    for (const r of routes)
      for (const { where, schema } of zodSchemasOf(r)) {
        for (const example of (schema.meta()?.examples ?? []) as unknown[]) {
          examples += 1;
          const parsed = schema.safeParse(example);
          assert.ok(parsed.success, `${String(r.method)} ${r.url} ${where}: example does not validate: ${parsed.error?.message ?? ''}`);
          assert.ok(text.includes(JSON.stringify(example).slice(1, 40)), `${r.url} ${where}: its example is in the document`);
        }
      }
    assert.ok(examples >= 5, `examples found: ${examples}`);
  });

  it('real answers of a whole signing match the documented response schemas', async () => {
    const started = await call({
      method: 'POST',
      url: '/v1/signings',
      payload: {
        document: { filename: 'contract.pdf', contentBase64: pdf(`doc ${randomUUID()}`).toString('base64') },
        signers: [SIGNER_A],
      },
    });
    assert.equal(started.statusCode, 202, started.body);
    const { id } = startedResponseSchema.parse(started.json());
    const [tx] = await sentTransactions(env, id);
    signingResponseSchema.parse((await call({ method: 'GET', url: `/v1/signings/${id}` })).json());
    env.sim.controls.sign(tx as string);
    const signed = await waitFor(async () => {
      const body = signingResponseSchema.parse((await call({ method: 'GET', url: `/v1/signings/${id}` })).json());
      return body.status === 'signed' ? body : undefined;
    }, 'the signing is signed');
    assert.ok(signed.signedDocument && signed.finalizedAt);
    const events = eventsResponseSchema.parse((await call({ method: 'GET', url: `/v1/signings/${id}/events` })).json());
    assert.ok(events.events.some((e) => e.type === 'sent'));
    const page = signingPageResponseSchema.parse((await call({ method: 'GET', url: '/v1/signings?status=signed&limit=5' })).json());
    assert.ok(page.items.some((s) => s.id === id));
    const file = await call({ method: 'GET', url: `/v1/signings/${id}/signed-document` });
    assert.equal(file.statusCode, 200);
    for (const [res, status] of [
      [await call({ method: 'GET', url: '/v1/signings/no-such-signing' }), 404],
      [await call({ method: 'POST', url: '/v1/signings', payload: { signers: [] } }), 400],
      [await call({ method: 'POST', url: `/v1/signings/${id}/withdraw` }), 409],
      [await app.inject({ method: 'GET', url: `/v1/signings/${id}` }), 401],
    ] as const) {
      assert.equal(res.statusCode, status, res.body);
      errorBodySchema.parse(res.json());
    }
  });

  it('the docs page renders in Chromium, listing the operations', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const failed: string[] = [];
      page.on('requestfailed', (r) => failed.push(r.url()));
      page.on('pageerror', (e) => failed.push(e.message));
      await page.goto(`${url}/docs`, { waitUntil: 'networkidle' });
      await page.locator('.opblock-summary-path', { hasText: '/v1/signings/{id}' }).first().waitFor({ timeout: 20_000 });
      const paths = (await page.locator('.opblock-summary-path').allTextContents()).map((p) => p.replace(/[\u200b\s]/g, ''));
      for (const p of ['/evrotrust/callback/document/ready', '/v1/signings', '/healthz'])
        assert.ok(paths.includes(p), `${p} is listed (${paths.join(' ')})`);
      // Open one operation: its request example is shown.
      await page.locator('.opblock-summary', { hasText: 'Start a signing' }).first().click();
      await page.getByText('contract-2026-0042').first().waitFor({ timeout: 10_000 });
      assert.deepEqual(failed, [], 'every asset of the page loaded from the service itself');
      mkdirSync(join(root, 'test-results'), { recursive: true });
      await page.screenshot({ path: join(root, 'test-results', 'docs-page.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
