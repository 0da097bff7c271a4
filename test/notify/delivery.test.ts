// Final-state notifications end to end (real Temporal, FerretDB and simulator): a plain node http
// receiver, signings signed or withdrawn over the simulator, deliveries checked with the independent
// `standardwebhooks` package, retries by Temporal, and the events GET /v1/signings/:id/events shows.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { finalSigning, sentTransactions, signingRequest, useSigningEnv, type SigningEnv } from '../helpers/signing-env';
import { waitFor } from '../helpers/wait';
import { generateSecret } from '../../src/notify/signature';
import { SigningService } from '../../src/signings/service';
import { InvalidSigningRequestError, NotifyNotConfiguredError } from '../../src/signings/errors';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A webhook receiver: `/flaky/…` answers 500 the first time and 200 after, `/down/…` always 500, the rest 200. */
function startReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const seen = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const n = (seen.get(path) ?? 0) + 1;
      seen.set(path, n);
      const fail = path.startsWith('/down/') || (path.startsWith('/flaky/') && n === 1);
      res.statusCode = fail ? 500 : 200;
      res.end(fail ? 'not now' : 'ok');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, received });
    }),
  );
}

const secret = generateSecret();

/** The signing's events as GET /v1/signings/:id/events shows them, once one of `type` is there. */
const eventOf = (env: SigningEnv, id: string, type: string, timeoutMs = 30_000) =>
  waitFor(async () => (await env.service.events(id)).find((e) => e.type === type), `${type} event of signing ${id}`, timeoutMs);

describe('final-state notifications (Standard Webhooks)', () => {
  const env = useSigningEnv({ pollIntervalMs: 300, notify: { secret } });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    receiver = await startReceiver();
  });
  after(() => new Promise<void>((resolve) => receiver.server.close(() => resolve())));
  const requestsTo = (path: string) => receiver.received.filter((r) => r.path === path);

  it('signed: 500 then 200; the same webhook-id twice, each verified by standardwebhooks; delivered after 2 attempts', async () => {
    const token = `tok-${randomUUID()}`;
    const path = `/flaky/${token}`;
    const { id } = await env.service.start(signingRequest({ notifyUrl: `${receiver.url}${path}` }));
    const [tx] = await sentTransactions(env, id);
    await env.sim.controls.sign(tx as string);
    const final = await finalSigning(env, id);
    assert.equal(final.status, 'signed');

    const delivered = await eventOf(env, id, 'notification-delivered');
    assert.deepEqual(delivered.data, { attempts: 2, statusCode: 200 });
    const posts = requestsTo(path);
    assert.equal(posts.length, 2);
    const wh = new Webhook(secret);
    for (const p of posts) {
      assert.equal(p.headers['webhook-id'], `msg_final_${id}`);
      assert.equal(p.headers['content-type'], 'application/json');
      const headers = {
        'webhook-id': String(p.headers['webhook-id']),
        'webhook-timestamp': String(p.headers['webhook-timestamp']),
        'webhook-signature': String(p.headers['webhook-signature']),
      };
      const event = wh.verify(p.body, headers) as { type: string; timestamp: string; data: unknown };
      assert.equal(event.type, 'signing.signed');
      assert.equal(event.timestamp, final.finalizedAt);
      // The body is GET /v1/signings/:id, nothing more: no personal data beyond what GET shows.
      assert.deepEqual(event.data, await env.service.get(id));
    }
    // The retry waited Temporal's initial interval (5 s), and each attempt has its own timestamp.
    const [first, second] = posts as [Received, Received];
    assert.ok(second.at - first.at >= 4500, `retried after ${second.at - first.at} ms`);
    assert.ok(Number(second.headers['webhook-timestamp']) >= Number(first.headers['webhook-timestamp']));
    // A notification changes nothing about the signing; the URL (and its token) never reaches Temporal.
    assert.equal((await env.service.get(id)).status, 'signed');
    const handle = env.temporal.workflow.getHandle(`signing-${id}`);
    await handle.result();
    const history = await handle.fetchHistory();
    const json = historyToJSON(history);
    // Every payload's Base64 `data` decoded, so the search sees the values the workflow saw.
    const decoded = [json];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          if (k === 'data' && typeof x === 'string') decoded.push(Buffer.from(x, 'base64').toString('utf8'));
          walk(x);
        }
    };
    walk(JSON.parse(json));
    assert.ok(
      decoded.some((d) => d.includes(id)),
      'the decoded history does name the signing (sanity check of the search)',
    );
    assert.ok(!decoded.some((d) => d.includes(token) || d.includes(receiver.url)), 'the notify URL is not in the history');
    // A fixture for test/signing/replay.test.ts, recorded like `npm run record-histories` does.
    if (process.env.RECORD_HISTORIES) {
      mkdirSync(process.env.RECORD_HISTORIES, { recursive: true });
      writeFileSync(join(process.env.RECORD_HISTORIES, 'signed-notified.json'), json);
    }
  });

  it("withdrawn: the notification's type is signing.withdrawn, delivered on the first attempt", async () => {
    const path = `/ok/${randomUUID()}`;
    const { id } = await env.service.start(signingRequest({ notifyUrl: `${receiver.url}${path}` }));
    await sentTransactions(env, id);
    await env.service.withdraw(id);
    assert.equal((await finalSigning(env, id)).status, 'withdrawn');
    const delivered = await eventOf(env, id, 'notification-delivered');
    assert.deepEqual(delivered.data, { attempts: 1, statusCode: 200 });
    const [post] = requestsTo(path);
    assert.ok(post);
    const event = new Webhook(secret).verify(post.body, {
      'webhook-id': String(post.headers['webhook-id']),
      'webhook-timestamp': String(post.headers['webhook-timestamp']),
      'webhook-signature': String(post.headers['webhook-signature']),
    }) as { type: string; data: { id: string; status: string } };
    assert.equal(event.type, 'signing.withdrawn');
    assert.equal(event.data.id, id);
    assert.equal(event.data.status, 'withdrawn');
  });

  it('a receiver that never answers 2xx is given up after the bound; the final state stays', async () => {
    // The same worker; a service whose NOTIFY_GIVE_UP_AFTER is 3 s, shorter than the first retry's 5 s.
    const service = new SigningService({
      db: env.mongo.db,
      temporal: env.temporal,
      taskQueue: env.worker.taskQueue,
      defaultExpiryMs: 60_000,
      pollIntervalMs: 300,
      expiryGraceMs: 1000,
      notify: { secretConfigured: true, giveUpAfterMs: 3000 },
    });
    const path = `/down/${randomUUID()}`;
    const { id } = await service.start(signingRequest({ notifyUrl: `${receiver.url}${path}` }));
    await sentTransactions(env, id);
    await service.withdraw(id);
    assert.equal((await service.result(id)).status, 'withdrawn');
    const givenUp = await eventOf(env, id, 'notification-given-up');
    assert.equal(givenUp.data?.reason, 'give-up-after-elapsed');
    assert.equal(givenUp.data?.attempts, 1);
    assert.equal(givenUp.data?.lastError, 'the receiver answered 500');
    assert.equal(requestsTo(path).length, 1);
    assert.equal((await env.service.get(id)).status, 'withdrawn');
    assert.equal((await env.service.events(id)).filter((e) => e.type === 'notification-delivered').length, 0);
    const handle = env.temporal.workflow.getHandle(`signing-${id}`);
    await handle.result();
    // A fixture for test/signing/replay.test.ts: the give-up path of the patch.
    if (process.env.RECORD_HISTORIES) {
      mkdirSync(process.env.RECORD_HISTORIES, { recursive: true });
      writeFileSync(join(process.env.RECORD_HISTORIES, 'withdrawn-notify-given-up.json'), historyToJSON(await handle.fetchHistory()));
    }
  });

  it('a signing without notifyUrl sends nothing; a default URL (NOTIFY_URL) is used when the request names none', async () => {
    const before = receiver.received.length;
    const { id } = await env.service.start(signingRequest());
    await sentTransactions(env, id);
    await env.service.withdraw(id);
    await finalSigning(env, id);
    await env.temporal.workflow.getHandle(`signing-${id}`).result();
    assert.equal(receiver.received.length, before);
    assert.deepEqual(
      (await env.service.events(id)).map((e) => e.type).filter((t) => t.startsWith('notification')),
      [],
    );

    const path = `/ok/default-${randomUUID()}`;
    const withDefault = new SigningService({
      db: env.mongo.db,
      temporal: env.temporal,
      taskQueue: env.worker.taskQueue,
      defaultExpiryMs: 60_000,
      pollIntervalMs: 300,
      expiryGraceMs: 1000,
      notify: { secretConfigured: true, defaultUrl: `${receiver.url}${path}` },
    });
    const second = await withDefault.start(signingRequest());
    await sentTransactions(env, second.id);
    await withDefault.withdraw(second.id);
    await eventOf(env, second.id, 'notification-delivered');
    assert.equal(requestsTo(path).length, 1);
  });

  it('refuses a notifyUrl when no secret is configured, and a URL that is not https (or http to localhost)', async () => {
    const noSecret = new SigningService({
      db: env.mongo.db,
      temporal: env.temporal,
      taskQueue: env.worker.taskQueue,
      defaultExpiryMs: 60_000,
      pollIntervalMs: 300,
    });
    await assert.rejects(
      noSecret.start(signingRequest({ notifyUrl: 'https://hooks.example.com/x' })),
      (err: unknown) =>
        err instanceof NotifyNotConfiguredError && err.code === 'notify-not-configured' && /NOTIFY_SECRET/.test(err.message),
    );
    await assert.rejects(
      env.service.start(signingRequest({ notifyUrl: 'http://hooks.example.com/x' })),
      (err: unknown) =>
        err instanceof InvalidSigningRequestError && /^notifyUrl: http:\/\/ is allowed only for localhost/.test(err.message),
    );
  });
});
