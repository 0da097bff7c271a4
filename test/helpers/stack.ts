// Access to the Temporal dev server and FerretDB that scripts/run-tests.ts started for this run.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client, Connection, type ClientInterceptors } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { connectMongo, ensureIndexes, type MongoHandle } from '../../src/store/mongo';
import type { Activities } from '../../activities';
import { createWorker } from '../../src/worker';
import { tracingOff, type Tracing } from '../../src/telemetry/tracing';
import { workflowInterceptorModules, workflowsPath } from '../../src/worker-bundle';

export function testEnv(): { temporalAddress: string; mongoUri: string } {
  const temporalAddress = process.env.TEST_TEMPORAL_ADDRESS;
  const mongoUri = process.env.TEST_MONGODB_URI;
  if (!temporalAddress || !mongoUri) {
    throw new Error(
      'TEST_TEMPORAL_ADDRESS / TEST_MONGODB_URI are unset: run this file through `npm test -- <file>`, which starts the servers',
    );
  }
  return { temporalAddress, mongoUri };
}

/** A fresh database of its own for one test file, with the service's indexes. */
export async function testDatabase(): Promise<MongoHandle> {
  const handle = await connectMongo(testEnv().mongoUri, `t_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  await ensureIndexes(handle.db);
  return handle;
}

export async function temporalClient(interceptors?: ClientInterceptors): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: testEnv().temporalAddress });
  return { client: new Client({ connection, ...(interceptors ? { interceptors } : {}) }), close: () => connection.close() };
}

// Workers log at WARN in tests: the bundler's and worker's INFO lines would bury the test report.
// A test file that installs its own Runtime first (metrics, a recording logger) keeps it.
function quietRuntime(): void {
  if (Runtime._instance !== undefined) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

let bundle: Promise<WorkflowBundle> | undefined;
/** The workflow bundle, built once per test process: bundling takes seconds. */
export function workflowBundle(): Promise<WorkflowBundle> {
  quietRuntime();
  // `npm test` builds it once for the whole run (scripts/run-tests.ts); a test file run alone bundles
  // here, as the build does for a worker with tracing off (src/worker-bundle.ts), from the sources.
  const prebuilt = process.env.TEST_WORKFLOW_BUNDLE;
  bundle ??= prebuilt
    ? Promise.resolve({ code: readFileSync(prebuilt, 'utf8') })
    : bundleWorkflowCode({
        workflowsPath,
        workflowInterceptorModules: workflowInterceptorModules(false),
        logger: new DefaultLogger('WARN'),
      });
  return bundle;
}

export interface RunningWorker {
  taskQueue: string;
  worker: Worker;
  stop(): Promise<void>;
}

/** Starts a worker on a task queue of its own, so test files never steal each other's tasks. */
export async function startTestWorker(activities: Activities, taskQueue = `test-${randomUUID()}`): Promise<RunningWorker> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: testEnv().temporalAddress });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    sinks: tracingOff.sinks,
  });
  const running = worker.run();
  return {
    taskQueue,
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

/**
 * The service's own worker (src/worker.ts: its bundle with the workflow interceptor modules, its
 * sinks, shutdown grace and activity interceptors) on a task queue of its own.
 */
export async function startServiceWorker(
  activities: Activities,
  opts: { tracing?: Tracing; shutdownGraceMs?: number } = {},
  taskQueue = `test-${randomUUID()}`,
): Promise<RunningWorker> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: testEnv().temporalAddress });
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue,
    activities,
    shutdownGraceMs: opts.shutdownGraceMs ?? 10_000,
    tracing: opts.tracing ?? tracingOff,
  });
  const running = worker.run();
  return {
    taskQueue,
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
