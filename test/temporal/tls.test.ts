// Temporal over TLS, mTLS and an API key, for real: Debian's nginx terminates TLS in front of this
// run's Temporal dev server (which has no TLS flags) and passes gRPC on (test/helpers/nginx.ts), with
// certificates generated here. Everything is configured the way a user would, through envconfig's
// variables and a temporal.toml profile read by loadConfig, and goes through the service's own
// openDependencies (its Client and its worker's NativeConnection) and real worker and activities.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { openDependencies } from '../../src/dependencies';
import { SigningService } from '../../src/signings/service';
import { createSigningClient } from '../../src/signings/client';
import { loadTemporalConnection, temporalConnectOptions } from '../../src/temporal/connection';
import { createServiceWorker } from '../../src/worker';
import { startSimulator, type Simulator } from '../../simulator';
import { createTestCa, type Issued, type TestCa } from '../helpers/certs';
import { startGrpcTlsProxy, type GrpcTlsProxy } from '../helpers/nginx';
import { pdf, SIGNER_A } from '../helpers/signing-env';
import { testEnv } from '../helpers/stack';
import { waitFor } from '../helpers/wait';

Runtime.install({ logger: new DefaultLogger('WARN') });

const API_KEY = `test-api-key-${randomUUID()}`;

/** An error's message with its causes' (the SDK wraps the transport's reason in `cause`). */
function chain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 5; e = e.cause) parts.push(e.message);
  return parts.join(' <- ');
}

describe('Temporal over TLS / mTLS / API key (nginx in front of the dev server)', () => {
  let dir: string;
  let proxy: GrpcTlsProxy | undefined;
  let sim: Simulator | undefined;
  let ca: TestCa;
  let client: Issued;
  const file = (name: string) => join(dir, name);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'temporal-tls-'));
    ca = createTestCa();
    const server = ca.issue('server', 'temporal.test');
    client = ca.issue('client', 'evrotrust-signing worker');
    const otherCa = createTestCa('some other CA');
    writeFileSync(file('ca.crt'), ca.certPem);
    writeFileSync(file('other-ca.crt'), otherCa.certPem);
    writeFileSync(file('client.crt'), client.certPem);
    writeFileSync(file('client.key'), client.keyPem, { mode: 0o600 });
    // A client certificate from another CA: the mTLS listener must refuse it too.
    const stranger = otherCa.issue('client', 'stranger');
    writeFileSync(file('stranger.crt'), stranger.certPem);
    writeFileSync(file('stranger.key'), stranger.keyPem, { mode: 0o600 });
    proxy = await startGrpcTlsProxy(testEnv().temporalAddress, [
      { name: 'tls', certPem: server.certPem, keyPem: server.keyPem },
      { name: 'mtls', certPem: server.certPem, keyPem: server.keyPem, clientCaPem: ca.certPem },
      { name: 'apikey', certPem: server.certPem, keyPem: server.keyPem, requireBearer: API_KEY },
    ]);
    sim = await startSimulator({ port: 0, processingMs: 50 });
  });

  after(async () => {
    await proxy?.stop();
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The service's environment around the Temporal variables under test (no process.env: no stray TEMPORAL_*). */
  const serviceEnv = (temporalVars: Record<string, string>): Record<string, string> => {
    const mongo = new URL(testEnv().mongoUri);
    mongo.pathname = `/tls_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    return {
      ...temporalVars,
      MONGODB_URI: mongo.toString(),
      EVROTRUST_SANDBOX: 'true',
      SANDBOX_SIMULATOR_URL: (sim as Simulator).url,
      DATA_DIR: mkdtempSync(join(dir, 'data-')),
      TEMPORAL_TASK_QUEUE: `tls-${randomUUID()}`,
    };
  };

  /**
   * A whole signing through the service's composition: loadConfig → openDependencies (Client and
   * NativeConnection from the configuration) → the real worker and activities → the simulator.
   */
  async function signThrough(temporalVars: Record<string, string>): Promise<void> {
    const config = loadConfig(serviceEnv(temporalVars));
    const deps = await openDependencies(config);
    try {
      assert.ok(deps.workerConnection, 'openDependencies opens the worker connection by default');
      const worker = await createServiceWorker(deps);
      const running = worker.run();
      try {
        const service = new SigningService({
          db: deps.mongo.db,
          temporal: deps.temporal,
          taskQueue: config.temporal.taskQueue,
          defaultExpiryMs: 60_000,
          pollIntervalMs: 300, // no callbacks reach this test: polling finds the outcome
          expiryGraceMs: 1000,
          processingRecheckMs: 150,
        });
        const { id } = await service.start({
          document: { filename: 'contract.pdf', content: pdf(`tls ${randomUUID()}`) },
          signers: [SIGNER_A],
        });
        const tx = await waitFor(async () => (await service.get(id)).signers[0]?.transactionId, `signing ${id} to be sent`, 60_000);
        await (sim as Simulator).controls.sign(tx);
        const final = await service.result(id);
        assert.equal(final.status, 'signed');
        assert.ok(final.signedDocument?.sha256);
      } finally {
        worker.shutdown();
        await running;
      }
    } finally {
      await deps.close();
    }
  }

  /** gRPC methods nginx passed on to Temporal on that listen, e.g. `WorkflowService/StartWorkflowExecution`. */
  const passed = (name: string): string[] =>
    (proxy as GrpcTlsProxy)
      .requests(name)
      .filter((l) => / 200 h2 up=127\.0\.0\.1:\d+ /.test(l))
      .map((l) => /\/temporal\.api\.\w+\.v1\.(\w+\/\w+)/.exec(l)?.[1] ?? l);

  it('TLS with the server CA from TEMPORAL_TLS_SERVER_CA_CERT_PATH: a whole signing completes through the proxy', async () => {
    await signThrough({
      TEMPORAL_ADDRESS: (proxy as GrpcTlsProxy).address.tls as string,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.crt'),
    });
    const methods = passed('tls');
    // Both connections went through the proxy: the client started it, the worker polled and completed tasks.
    assert.ok(methods.includes('WorkflowService/StartWorkflowExecution'), methods.join(', '));
    assert.ok(methods.includes('WorkflowService/PollWorkflowTaskQueue'), methods.join(', '));
    assert.ok(methods.includes('WorkflowService/RespondActivityTaskCompleted'), methods.join(', '));
  });

  it('mTLS from a temporal.toml profile (TEMPORAL_CONFIG_FILE + TEMPORAL_PROFILE): a whole signing completes with the client certificate', async () => {
    writeFileSync(
      file('temporal.toml'),
      `[profile.default]
address = "127.0.0.1:1"

[profile.mtls]
address = "${(proxy as GrpcTlsProxy).address.mtls}"
namespace = "default"

[profile.mtls.tls]
client_cert_path = "${file('client.crt')}"
client_key_path = "${file('client.key')}"
server_ca_cert_path = "${file('ca.crt')}"
server_name = "localhost"
`,
    );
    await signThrough({ TEMPORAL_CONFIG_FILE: file('temporal.toml'), TEMPORAL_PROFILE: 'mtls' });
    const methods = passed('mtls');
    assert.ok(methods.includes('WorkflowService/StartWorkflowExecution'), methods.join(', '));
    assert.ok(methods.includes('WorkflowService/PollActivityTaskQueue'), methods.join(', '));
  });

  it('mTLS with the client certificate in TEMPORAL_TLS_CLIENT_CERT_DATA / _KEY_DATA: both connections work', async () => {
    const conn = loadTemporalConnection({
      TEMPORAL_ADDRESS: (proxy as GrpcTlsProxy).address.mtls as string,
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: ca.certPem,
      TEMPORAL_TLS_CLIENT_CERT_DATA: client.certPem,
      TEMPORAL_TLS_CLIENT_KEY_DATA: client.keyPem,
    });
    const connection = await Connection.connect(temporalConnectOptions(conn));
    try {
      const ns = await new Client({ connection, namespace: conn.namespace }).workflowService.describeNamespace({
        namespace: conn.namespace,
      });
      assert.equal(ns.namespaceInfo?.name, 'default');
    } finally {
      await connection.close();
    }
    const native = await NativeConnection.connect(temporalConnectOptions(conn));
    await native.close();
  });

  /** openDependencies with these Temporal variables must fail naming the address and `reason`. */
  async function serviceStartRefused(temporalVars: Record<string, string>, address: string, reason: RegExp): Promise<void> {
    const config = loadConfig(serviceEnv(temporalVars));
    await assert.rejects(openDependencies(config), (err: Error) => {
      assert.equal(err.name, 'TemporalConnectError');
      assert.ok(err.message.startsWith(`cannot connect to Temporal ${address} `), err.message);
      assert.match(err.message, reason);
      return true;
    });
  }

  it('mTLS without a client certificate, or with one from another CA: both connections are refused, saying why', async () => {
    const mtls = (proxy as GrpcTlsProxy).address.mtls as string;
    const passedBefore = passed('mtls').length;
    for (const [extra, reason] of [
      [{}, /client certificate required/],
      [
        { TEMPORAL_TLS_CLIENT_CERT_PATH: file('stranger.crt'), TEMPORAL_TLS_CLIENT_KEY_PATH: file('stranger.key') },
        /client certificate not trusted/,
      ],
    ] as const) {
      const vars = { TEMPORAL_ADDRESS: mtls, TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.crt'), ...extra };
      const options = temporalConnectOptions(loadTemporalConnection(vars));
      await assert.rejects(Connection.connect({ ...options, connectTimeout: 5000 }), (err: Error) => {
        assert.match(chain(err), new RegExp(`UNAUTHENTICATED: ${reason.source}`));
        return true;
      });
      await assert.rejects(NativeConnection.connect(options), (err: Error) => {
        assert.match(chain(err), reason);
        return true;
      });
      // What the service says at start (npm start / src/main.ts print it and exit 1).
      await serviceStartRefused(vars, mtls, reason);
    }
    assert.equal(passed('mtls').length, passedBefore, 'no request was passed on without a trusted client certificate');
  });

  it("a wrong CA: the proxy's certificate is refused by both connections", async () => {
    const vars = {
      TEMPORAL_ADDRESS: (proxy as GrpcTlsProxy).address.tls as string,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('other-ca.crt'),
    };
    const options = temporalConnectOptions(loadTemporalConnection(vars));
    const before = (proxy as GrpcTlsProxy).requests('tls').length;
    // grpc-js keeps retrying the handshake until its deadline and reports only that.
    await assert.rejects(Connection.connect({ ...options, connectTimeout: 3000 }), (err: Error) => {
      assert.match(chain(err), /Failed to connect before the deadline/);
      return true;
    });
    await assert.rejects(NativeConnection.connect(options), (err: Error) => {
      assert.match(chain(err), /InvalidCertificate\(UnknownIssuer\)/);
      return true;
    });
    await serviceStartRefused(vars, vars.TEMPORAL_ADDRESS, /InvalidCertificate\(UnknownIssuer\)/);
    assert.equal((proxy as GrpcTlsProxy).requests('tls').length, before, 'no request got past the handshake');
  });

  it('TEMPORAL_API_KEY reaches the server as authorization: Bearer …, with TEMPORAL_GRPC_META_* headers; without it the server refuses', async () => {
    const apikey = (proxy as GrpcTlsProxy).address.apikey as string;
    const withKey = loadTemporalConnection({
      TEMPORAL_ADDRESS: apikey,
      TEMPORAL_API_KEY: API_KEY,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.crt'),
      TEMPORAL_GRPC_META_X_TENANT_ID: 'acme',
    });
    assert.deepEqual(withKey.metadata, { 'x-tenant-id': 'acme' });
    const connection = await Connection.connect(temporalConnectOptions(withKey));
    try {
      const ns = await new Client({ connection, namespace: withKey.namespace }).workflowService.describeNamespace({
        namespace: withKey.namespace,
      });
      assert.equal(ns.namespaceInfo?.name, 'default');
    } finally {
      await connection.close();
    }
    const native = await NativeConnection.connect(temporalConnectOptions(withKey));
    await native.close();
    const lines = (proxy as GrpcTlsProxy).requests('apikey');
    assert.ok(lines.length > 0);
    assert.ok(
      lines.every((l) => / 200 h2 up=127\.0\.0\.1:\d+ auth=present tenant=acme$/.test(l)),
      lines.join('\n'),
    );

    for (const vars of [{}, { TEMPORAL_API_KEY: 'not-the-key' }]) {
      const refused = temporalConnectOptions(
        loadTemporalConnection({ TEMPORAL_ADDRESS: apikey, TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.crt'), ...vars }),
      );
      await assert.rejects(Connection.connect({ ...refused, connectTimeout: 5000 }), (err: Error) => {
        assert.match(chain(err), /16 UNAUTHENTICATED: missing or wrong bearer token/);
        return true;
      });
      await assert.rejects(NativeConnection.connect(refused), (err: Error) => {
        assert.match(chain(err), /valid authentication credentials.*missing or wrong bearer token/);
        return true;
      });
    }
  });

  it('createSigningClient takes the loaded connection (temporal) or the SDK options (temporalConnection): starts go through the proxy with the key', async () => {
    const apikey = (proxy as GrpcTlsProxy).address.apikey as string;
    const temporal = loadTemporalConnection({
      TEMPORAL_ADDRESS: apikey,
      TEMPORAL_API_KEY: API_KEY,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.crt'),
    });
    const mongoUri = serviceEnv({}).MONGODB_URI as string;
    const starts = () => passed('apikey').filter((m) => m === 'WorkflowService/StartWorkflowExecution').length;
    for (const options of [{ temporal }, { temporalConnection: temporalConnectOptions(temporal) }]) {
      const before = starts();
      const signing = await createSigningClient({ ...options, mongoUri, taskQueue: `tls-client-${randomUUID()}` });
      try {
        const { id } = await signing.start({ document: { filename: 'c.pdf', content: pdf(randomUUID()) }, signers: [SIGNER_A] });
        assert.equal((await signing.status(id)).status, 'pending');
        assert.equal(starts(), before + 1);
      } finally {
        await signing.close();
      }
    }
  });
});
