// Helpers for the callback tests: the service's HTTP server with the callback plugin on a free port,
// real HTTP requests from a chosen loopback source address, metric readings, Temporal history reads
// and polling with a deadline.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Db } from 'mongodb';
import { buildServer, type ServerLimits } from '../../src/http/server';
import { registerCallbacks, type RegisterCallbacksOptions } from '../../src/callbacks';
import { metricsRoutes, ServiceMetrics } from '../../src/http/metrics';
import { CallbackTokens } from '../../src/callbacks/tokens';
import { CallbackInbox, type CallbackDoc } from '../../src/callbacks/inbox';
import { SigningStore } from '../../src/signings/store';
import { SIGNING_WORKFLOW_TYPE, workflowIdFor, type EvrotrustCallback, type SigningStatus } from '../../workflows/definitions';
import { createSigning } from '../helpers/signings';

export interface CallbackApp {
  app: FastifyInstance;
  port: number;
  metrics: ServiceMetrics;
  /** Log lines the server wrote (JSON text), to check what is and is not logged. */
  logs: string[];
  close(): Promise<void>;
}

export interface CallbackAppOptions extends Partial<Omit<RegisterCallbacksOptions, 'db'>> {
  db: Db;
  /** Where to listen: '::' (dual stack: IPv4 peers appear IPv4-mapped, ::1 works) or '127.0.0.1'. */
  host?: string;
  /** Server limits other than the defaults (src/config-http.ts). */
  limits?: Partial<ServerLimits>;
}

/** The service's own server (buildServer) with the callback routes and /metrics, listening on a free port. */
export async function startCallbackApp(options: CallbackAppOptions): Promise<CallbackApp> {
  const { db, host = '::', metrics = new ServiceMetrics({ defaultMetrics: false }), limits, ...rest } = options;
  const logs: string[] = [];
  const app = await buildServer({
    ...(limits ? { limits } : {}),
    health: { temporal: async () => {}, mongodb: async () => {} },
    logger: { level: 'info', stream: { write: (line: string) => void logs.push(line) } },
    plugins: [
      (a) => registerCallbacks(a, { db, metrics, allowedIps: ['127.0.0.2', '::1'], ...rest }),
      async (a) => {
        await a.register(metricsRoutes, { metrics });
      },
    ],
  });
  await app.listen({ host, port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, port, metrics, logs, close: () => app.close() };
}

export interface HttpAnswer {
  status: number;
  text: string;
  json: unknown;
  headers: http.IncomingHttpHeaders;
  /** Milliseconds from sending to the full answer. */
  ms: number;
}

export interface PostOptions {
  /** Source address of the connection (127.0.0.2, 127.0.0.3, ::1 …). */
  from?: string;
  /** Server address to connect to; '::1' when `from` is IPv6, else 127.0.0.1. */
  to?: string;
  headers?: Record<string, string>;
  /** Content-Type; null sends none. Default application/json. */
  contentType?: string | null;
  /** Send the body chunked (no Content-Length). */
  chunked?: boolean;
  method?: string;
}

/** One real HTTP request on a fresh connection, so the source address is what `from` says. */
export function post(port: number, path: string, body: unknown, opts: PostOptions = {}): Promise<HttpAnswer> {
  const from = opts.from ?? '127.0.0.2';
  const to = opts.to ?? (from.includes(':') ? '::1' : '127.0.0.1');
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = { ...opts.headers };
  const contentType = opts.contentType === undefined ? 'application/json' : opts.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  if (opts.chunked) headers['transfer-encoding'] = 'chunked';
  else headers['content-length'] = payload.length;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: to, port, path, method: opts.method ?? 'POST', localAddress: from, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, json, headers: res.headers, ms: performance.now() - started });
      });
    });
    // The server may answer (413, 403) and close before the whole body is written: the answer counts.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    if (opts.chunked) {
      for (let i = 0; i < payload.length; i += 4096) req.write(payload.subarray(i, i + 4096));
      req.end();
    } else req.end(payload);
  });
}

/** The value of one series of a counter/gauge, 0 if it has none yet. */
export async function metricValue(metrics: ServiceMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const hit = values.find(
    (v) =>
      Object.entries(labels).every(([k, val]) => v.labels[k] === val) && !('metricName' in v && String(v.metricName).endsWith('_bucket')),
  );
  return hit?.value ?? 0;
}

/** The count of a histogram (optionally of one label set). */
export async function histogramCount(metrics: ServiceMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => 'metricName' in v && v.metricName === `${name}_count` && Object.entries(labels).every(([k, val]) => v.labels[k] === val))
    .reduce((sum, v) => sum + v.value, 0);
}

/** The inbox the routes and the relay use, to read what they stored. */
export const callbacksOf = (db: Db) => new CallbackInbox(db);

/** The (first) stored callback for a transactionID, or null. */
export async function callbackFor(db: Db, transactionID: string): Promise<CallbackDoc | null> {
  return (await callbacksOf(db).byTransaction(transactionID))[0] ?? null;
}

/** A valid callback body for a fresh transaction id. */
export function newTransactionId(): string {
  return String(100_000_000_000 + Math.floor(Math.random() * 899_999_999_999));
}

/** Issues a capability token of a signing, as the send activity does (revoked at once if `revoked`). */
export async function insertToken(db: Db, signingId: string, revoked = false): Promise<string> {
  const tokens = new CallbackTokens(db);
  const token = await tokens.issue(signingId);
  if (revoked) await tokens.revoke(token);
  return token;
}

export interface FakeSigning {
  signingId: string;
  workflowId: string;
  transactionId: string;
}

/**
 * A signing as the send activity leaves it: a `signings` document (pending), the transaction →
 * signing mapping, and (unless `startWorkflow` is false) a running workflow with that id on a task
 * queue no worker polls: its history shows every signal it was sent.
 */
export async function fakeSigning(
  db: Db,
  client: Client,
  opts: { register?: boolean; startWorkflow?: boolean; status?: SigningStatus } = {},
): Promise<FakeSigning> {
  const signingId = randomUUID();
  const workflowId = workflowIdFor(signingId);
  const transactionId = newTransactionId();
  await createSigning(db, signingId, opts.status);
  if (opts.register !== false) await registerTransaction(db, { signingId, workflowId, transactionId });
  if (opts.startWorkflow !== false) {
    await client.workflow.start(SIGNING_WORKFLOW_TYPE, { taskQueue: `no-worker-${randomUUID()}`, workflowId, args: [{ signingId }] });
  }
  return { signingId, workflowId, transactionId };
}

/** The transaction → signing mapping, as the send activity records it. */
export async function registerTransaction(db: Db, s: FakeSigning): Promise<void> {
  await new SigningStore(db).recordTransactions(s.signingId, s.workflowId, null, [s.transactionId]);
}

/** The evrotrustCallback signals in a workflow's history, decoded. */
export async function callbackSignals(client: Client, workflowId: string): Promise<EvrotrustCallback[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const out: EvrotrustCallback[] = [];
  for (const e of history.events ?? []) {
    const attrs = e.workflowExecutionSignaledEventAttributes;
    if (attrs?.signalName !== 'evrotrustCallback') continue;
    const payload = attrs.input?.payloads?.[0];
    if (payload) out.push(defaultPayloadConverter.fromPayload<EvrotrustCallback>(payload));
  }
  return out;
}

export async function terminateQuietly(client: Client, workflowId: string): Promise<void> {
  await client.workflow
    .getHandle(workflowId)
    .terminate('test over')
    .catch(() => undefined);
}
