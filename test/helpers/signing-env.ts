// A whole signing environment for integration tests, all real: the simulator over HTTP, this
// run's Temporal dev server and FerretDB, a worker with the real activities, and the service.
import { after, before } from 'node:test';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, ClientInterceptors } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { createActivities } from '../../activities';
import { statusQuery } from '../../workflows/definitions';
import { createEvrotrustClient } from '../../src/evrotrust/client';
import { loadOrCreatePrivateKey } from '../../src/evrotrust/keys';
import { SigningService, type SigningResponse } from '../../src/signings/service';
import { SigningStore } from '../../src/signings/store';
import { CallbackInbox } from '../../src/callbacks/inbox';
import type { MongoHandle } from '../../src/store/mongo';
import { startSimulator, SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER, type Simulator, type SimulatorOptions } from '../../simulator';
import { startTestWorker, temporalClient, testDatabase, type RunningWorker } from './stack';
import { startCallbackRelay, type CallbackRelay } from '../../src/callbacks';
import type { CallbackRelayOptions } from '../../src/callbacks/relay';
import type { Activities } from '../../activities';
import { registerCallbacks } from '../../src/callbacks';
import { buildServer } from '../../src/http/server';
import { ServiceMetrics } from '../../src/http/metrics';
import type { FastifyInstance } from 'fastify';
import type { Db } from 'mongodb';
import type { DurationBounds } from '../../src/lib/duration';
import { EXPIRY_BOUNDS } from '../../src/signings/schemas';
import type { SigningView } from '../../workflows/definitions';
import { waitFor } from './wait';

export interface SigningEnv {
  sim: Simulator;
  mongo: MongoHandle;
  temporal: Client;
  worker: RunningWorker;
  service: SigningService;
  /** The stores on the real database (never a faulty one), to read what the service and the workflow wrote. */
  store: SigningStore;
  inbox: CallbackInbox;
  privateKeyPem: string;
  /** Starts another worker on the same task queue (after the first was stopped). */
  restartWorker(): Promise<void>;
  /** With `callbacks: true`: the service's HTTP server (callback routes) and its relay. */
  http?: { app: FastifyInstance; url: string; relay: CallbackRelay };
}

export interface SigningEnvOptions {
  simulator?: SimulatorOptions;
  /**
   * Serve the real callback routes (allowlist 127.0.0.2) and run the relay, with the simulator
   * calling back from 127.0.0.2. Without it callbacks go to a closed port and only polling finds outcomes.
   */
  callbacks?: boolean;
  pollIntervalMs?: number;
  expiryGraceMs?: number;
  /** What `expiresIn` may be (default: the API's bounds); see SHORT_EXPIRY. */
  expiryBounds?: DurationBounds;
  continueAsNewAfterEvents?: number;
  /** Wraps the database the activities / the service use (e.g. to inject store faults). */
  activityDb?: (db: Db) => Db;
  serviceDb?: (db: Db) => Db;
  /** The Evrotrust client's cap on a download (default the client's, 64 MiB). */
  maxDownloadBytes?: number;
  /** How long a `reference` replay waits for its signing (default 15 s). */
  referenceWaitMs?: number;
  /** Starts the worker (default: startTestWorker, the plain bundle); e.g. startServiceWorker. */
  startWorker?: (activities: Activities, taskQueue?: string) => Promise<RunningWorker>;
  /** Interceptors of the service's Temporal client (tracing), asked for when the environment starts. */
  clientInterceptors?: () => ClientInterceptors;
  /** The database connection for everything (default: a fresh test database); e.g. one that monitors commands. */
  mongo?: () => Promise<MongoHandle>;
  /** Replaces the callback relay's test settings (with `callbacks: true`). */
  relay?: Partial<Omit<CallbackRelayOptions, 'db' | 'temporalClient' | 'metrics'>>;
  /** Wraps the activities the worker runs (e.g. to know which activity sent a store command). */
  wrapActivities?: (activities: Activities) => Activities;
  /** Final-state notifications: the workers' secret (none: a start with notifyUrl is refused) and the give-up bound. */
  notify?: { secret?: string; giveUpAfterMs?: number; defaultUrl?: string };
}

/** For tests of expiry itself, which use an expiresIn of a few seconds (the API's minimum is 30 s). */
export const SHORT_EXPIRY: DurationBounds = { minMs: 1000, maxMs: EXPIRY_BOUNDS.maxMs };

export const SIGNER_A = { identificationNumber: '7501010010' };
export const SIGNER_B = { identificationNumber: '8002020021' };
export const OTP_SIGNER = { identificationNumber: '9003030031', phone: '+359888123456' };

export const pdf = (text: string): Buffer => Buffer.from(`%PDF-1.4\n% ${text}\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n`);

/** A start request for one signer and a fresh PDF; `extra` replaces or adds top-level fields. */
export const signingRequest = (extra: Record<string, unknown> = {}, description = 'Contract') => ({
  document: { filename: 'contract.pdf', content: pdf(`contract ${randomUUID()}`), description },
  signers: [SIGNER_A],
  ...extra,
});

/** The workflow's own view of a signing (its `status` query). */
export const workflowView = (env: SigningEnv, id: string): Promise<SigningView> =>
  env.temporal.workflow.getHandle(`signing-${id}`).query<SigningView>('status');

/** Registers before/after hooks and returns the environment (filled in once `before` ran). */
export function useSigningEnv(options: SigningEnvOptions = {}): SigningEnv {
  const env = {} as SigningEnv;
  let closeTemporal: () => Promise<void> = async () => {};
  before(async () => {
    env.sim = await startSimulator({
      port: 0,
      processingMs: 100,
      callbackRetryDelayMs: 200,
      callbackTimeoutMs: 2000,
      callbackSourceAddress: '127.0.0.2',
      ...options.simulator,
    });
    env.mongo = await (options.mongo ?? testDatabase)();
    env.store = new SigningStore(env.mongo.db);
    env.inbox = new CallbackInbox(env.mongo.db);
    const t = await temporalClient(options.clientInterceptors?.());
    env.temporal = t.client;
    closeTemporal = t.close;
    let publicBaseUrl = 'http://127.0.0.1:9';
    if (options.callbacks) {
      const metrics = new ServiceMetrics({ defaultMetrics: false });
      const relay = startCallbackRelay({
        db: env.mongo.db,
        temporalClient: env.temporal,
        metrics,
        sweepIntervalMs: 200,
        retryBaseMs: 200,
        retryMaxMs: 1000,
        signalTimeoutMs: 2000,
        ...options.relay,
      });
      const app = await buildServer({
        health: { temporal: async () => {}, mongodb: async () => {} },
        plugins: [(a) => registerCallbacks(a, { db: env.mongo.db, allowedIps: ['127.0.0.2'], metrics, relay })],
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const addr = app.server.address();
      publicBaseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
      env.http = { app, url: publicBaseUrl, relay };
    }
    const keys = await loadOrCreatePrivateKey(join(mkdtempSync(join(tmpdir(), 'evrotrust-key-')), 'key.pem'));
    env.privateKeyPem = keys.privateKeyPem;
    const evrotrust = createEvrotrustClient({
      baseUrl: env.sim.vendorBaseUrl,
      vendorNumber: SANDBOX_VENDOR_NUMBER,
      apiKey: SANDBOX_API_KEY,
      publicKeyPem: keys.publicKeyPem,
      timeoutMs: 5000,
      ...(options.maxDownloadBytes !== undefined ? { maxDownloadBytes: options.maxDownloadBytes } : {}),
    });
    const created = createActivities({
      db: options.activityDb ? options.activityDb(env.mongo.db) : env.mongo.db,
      evrotrust,
      privateKeyPem: keys.privateKeyPem,
      publicBaseUrl,
      ...(options.notify?.secret ? { notify: { secret: options.notify.secret } } : {}),
    });
    const activities = options.wrapActivities ? options.wrapActivities(created) : created;
    const startWorker = options.startWorker ?? startTestWorker;
    env.worker = await startWorker(activities);
    env.restartWorker = async () => {
      await env.worker.stop();
      env.worker = await startWorker(activities, env.worker.taskQueue);
    };
    env.service = new SigningService({
      db: options.serviceDb ? options.serviceDb(env.mongo.db) : env.mongo.db,
      temporal: env.temporal,
      taskQueue: env.worker.taskQueue,
      defaultExpiryMs: 60_000,
      pollIntervalMs: options.pollIntervalMs ?? 60_000,
      expiryGraceMs: options.expiryGraceMs ?? 1000,
      processingRecheckMs: 150,
      ...(options.expiryBounds ? { expiryBounds: options.expiryBounds } : {}),
      continueAsNewAfterEvents: options.continueAsNewAfterEvents,
      ...(options.referenceWaitMs !== undefined ? { referenceWaitMs: options.referenceWaitMs } : {}),
      ...(options.notify
        ? {
            notify: {
              secretConfigured: options.notify.secret !== undefined,
              ...(options.notify.giveUpAfterMs !== undefined ? { giveUpAfterMs: options.notify.giveUpAfterMs } : {}),
              ...(options.notify.defaultUrl !== undefined ? { defaultUrl: options.notify.defaultUrl } : {}),
            },
          }
        : {}),
    });
  });
  after(async () => {
    await env.http?.app.close();
    await env.http?.relay.stop();
    await env.worker?.stop();
    await closeTemporal();
    await env.mongo?.close();
    await env.sim?.close();
  });
  return env;
}

/** How many events of these types the signing's history holds (needs only `env.mongo`, like finalSigning's callers). */
export async function eventCount(env: Pick<SigningEnv, 'mongo'>, id: string, ...types: string[]): Promise<number> {
  return (await new SigningStore(env.mongo.db).history(id)).filter((e) => types.includes(e.type)).length;
}

/** Waits until the signing has its transaction ids (the send activity returned). */
export async function sentTransactions(env: SigningEnv, id: string, count = 1): Promise<string[]> {
  return waitFor(async () => {
    const s = await env.service.get(id);
    const txs = s.signers.map((x) => x.transactionId).filter((x): x is string => !!x);
    return txs.length === count ? txs : undefined;
  }, `signing ${id} to be sent`);
}

/**
 * An OTP signing's transactions once the workflow has them too. The store has the ids a moment
 * before the workflow does (the send activity records them, then returns them to it), and the
 * workflow refuses the OTP updates until then ("still being sent; try again in a moment").
 */
export async function otpSent(env: SigningEnv, id: string): Promise<string[]> {
  const txs = await sentTransactions(env, id);
  await waitFor(async () => {
    const view = await env.temporal.workflow.getHandle(`signing-${id}`).query(statusQuery);
    return view.signers.every((x) => x.transactionId) || undefined;
  }, `workflow of signing ${id} to know it was sent`);
  return txs;
}

/**
 * The final signing, asserted to be the only final state the store ever recorded. With
 * RECORD_HISTORIES=<dir> (`npm run record-histories`) the workflow's history is saved there as
 * `<recordAs>.json`, a fixture for the replay test that keeps workflow changes deterministic.
 */
export async function finalSigning(env: SigningEnv, id: string, recordAs?: string): Promise<SigningResponse> {
  const result = await env.service.result(id);
  const dir = process.env.RECORD_HISTORIES;
  if (dir && recordAs) {
    const history = await env.temporal.workflow.getHandle(`signing-${id}`).fetchHistory();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${recordAs}.json`), historyToJSON(history));
  }
  const finals = await eventCount(env, id, 'signed', 'rejected', 'expired', 'withdrawn', 'failed');
  if (finals !== 1) throw new Error(`signing ${id} has ${finals} final events, expected exactly 1`);
  return result;
}
