// The store going away mid-flight: the API answers 503 with Retry-After (retry later), not a 500.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { signingApiRoutes } from '../../src/signings/routes';
import { buildServer } from '../../src/http/server';
import { SigningService } from '../../src/signings/service';
import { connectMongo, type MongoHandle } from '../../src/store/mongo';
import { freePort, startFerretDb, type ManagedServer } from '../../scripts/lib/stack';
import { temporalClient } from '../helpers/stack';

const TOKEN = 'unavailable-test-token';

describe('business API when MongoDB is unreachable', () => {
  let ferret: ManagedServer;
  let mongo: MongoHandle;
  let app: FastifyInstance;
  let closeTemporal: () => Promise<void>;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evrotrust-unavail-'));
    const f = await startFerretDb({ port: await freePort(), logDir: dir });
    ferret = f;
    mongo = await connectMongo(f.uri, 'unavailable', { serverSelectionTimeoutMS: 1000 });
    const t = await temporalClient();
    closeTemporal = t.close;
    const service = new SigningService({
      db: mongo.db,
      temporal: t.client,
      taskQueue: 'unused',
      defaultExpiryMs: 60_000,
      pollIntervalMs: 60_000,
    });
    app = await buildServer({
      health: { temporal: async () => {}, mongodb: async () => void (await mongo.db.command({ ping: 1 })) },
      plugins: [async (a) => void (await a.register(signingApiRoutes, { service, apiToken: TOKEN }))],
    });
  });
  after(async () => {
    await app?.close();
    await mongo?.close();
    await closeTemporal?.();
    await ferret?.stop();
  });

  it('503 with Retry-After and a message to retry; /readyz names the dependency down, not its address', async () => {
    await ferret.stop();
    const res = await app.inject({ method: 'GET', url: '/v1/signings/abc', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '5');
    assert.deepEqual(res.json(), {
      error: 'unavailable',
      message: 'Temporal or MongoDB cannot be reached right now; retry in a few seconds',
    });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    // Which dependency is down, never the driver's text (it names the store's host and port).
    assert.deepEqual(ready.json(), { status: 'unavailable', checks: { temporal: 'ok', mongodb: 'down' } });
    assert.doesNotMatch(ready.body, /127\.0\.0\.1|localhost|:\d{2,5}\b|Mongo[A-Z]\w*Error|ECONNREFUSED/);
  });
});
