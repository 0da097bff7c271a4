// notifyUrl through every way in: the HTTP API (JSON and multipart) and the CLI's --notify-url, on
// the real service and stack. The URL lands in the signing's record only, never in GET's answer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/http/server';
import { signingApiRoutes } from '../../src/signings/routes';
import { generateSecret } from '../../src/notify/signature';
import { testEnv } from '../helpers/stack';
import { pdf, SIGNER_A, useSigningEnv } from '../helpers/signing-env';

const TOKEN = `test-${randomBytes(16).toString('hex')}`;
const root = join(__dirname, '..', '..');

describe('notifyUrl in the HTTP API and the CLI', () => {
  // A port nobody listens on (opened and closed below): deliveries fail and are retried in the
  // background, which these tests do not wait for.
  let NOTIFY_URL = '';
  const env = useSigningEnv({ pollIntervalMs: 300, notify: { secret: generateSecret() } });
  let app: FastifyInstance;
  let url: string;
  before(async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    NOTIFY_URL = `http://127.0.0.1:${closedPort}/hooks/signing?token=t0k3n`;
    app = await buildServer({
      health: { temporal: async () => {}, mongodb: async () => {} },
      plugins: [async (a) => void (await a.register(signingApiRoutes, { service: env.service, apiToken: TOKEN }))],
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/signings`;
  });
  after(async () => {
    await app?.close();
  });

  const post = async (body: FormData | string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, ...headers } });
    return { status: res.status, json: (await res.json()) as Record<string, string> };
  };
  const json = (extra: Record<string, unknown>) =>
    JSON.stringify({
      document: { filename: 'contract.pdf', contentBase64: pdf(`n ${randomUUID()}`).toString('base64') },
      signers: [SIGNER_A],
      ...extra,
    });
  /** The record keeps the URL; GET /v1/signings/:id does not show it. */
  const assertKept = async (id: string) => {
    assert.equal((await env.store.get(id))?.notifyUrl, NOTIFY_URL);
    const res = await fetch(`${url}/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.ok(!text.includes('t0k3n') && !text.includes('notifyUrl'), 'GET does not show the notify URL');
    await env.service.withdraw(id);
  };

  it('JSON: notifyUrl is taken; an http URL to another host is a 400 naming the field, not the URL', async () => {
    const ok = await post(json({ notifyUrl: NOTIFY_URL }), { 'content-type': 'application/json' });
    assert.equal(ok.status, 202, JSON.stringify(ok.json));
    await assertKept(ok.json.id as string);
    const bad = await post(json({ notifyUrl: 'http://hooks.example.com/x?token=s3cr3t' }), { 'content-type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, 'invalid-request');
    assert.match(
      bad.json.message as string,
      /^notifyUrl: http:\/\/ is allowed only for localhost, 127\.0\.0\.1 or \[::1\]; use https:\/\//,
    );
    assert.doesNotMatch(bad.json.message as string, /s3cr3t/);
  });

  it('multipart: the notifyUrl part is taken', async () => {
    const f = new FormData();
    f.append('file', new Blob([pdf(`mp ${randomUUID()}`)], { type: 'application/pdf' }), 'contract.pdf');
    f.append('signers', JSON.stringify([SIGNER_A]));
    f.append('notifyUrl', NOTIFY_URL);
    const res = await post(f);
    assert.equal(res.status, 202, JSON.stringify(res.json));
    await assertKept(res.json.id as string);
  });

  it('CLI: start --notify-url keeps it; a bad one exits 1 with the message', async () => {
    const mongo = new URL(testEnv().mongoUri);
    mongo.pathname = `/${env.mongo.db.databaseName}`;
    const dir = mkdtempSync(join(tmpdir(), 'evrotrust-notify-cli-'));
    const file = join(dir, 'contract.pdf');
    writeFileSync(file, pdf(`cli ${randomUUID()}`));
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', 'src/cli.ts', ...args],
          {
            cwd: root,
            timeout: 60_000,
            env: {
              EVROTRUST_SANDBOX: 'true', // the sandbox keeps a generated secret, so notifyUrl is accepted
              PATH: process.env.PATH,
              HOME: process.env.HOME,
              TEMPORAL_ADDRESS: testEnv().temporalAddress,
              MONGODB_URI: mongo.toString(),
              TEMPORAL_TASK_QUEUE: env.worker.taskQueue,
            },
          },
          (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
        ),
      );
    const [ok, bad] = await Promise.all([
      cli(['start', '--file', file, '--signer', SIGNER_A.identificationNumber, '--notify-url', NOTIFY_URL]),
      cli(['start', '--file', file, '--signer', SIGNER_A.identificationNumber, '--notify-url', 'ftp://hooks.example.com/x']),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    await assertKept((JSON.parse(ok.stdout) as { id: string }).id);
    assert.equal(bad.code, 1);
    const error = JSON.parse(bad.stderr.trim()) as { error: string; message: string };
    assert.equal(error.error, 'invalid-request');
    assert.match(error.message, /^notifyUrl: it must be https:\/\//);
  });
});
