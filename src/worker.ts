// Builds the Temporal worker that runs signingWorkflow and its activities.
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from '../activities';
import type { Dependencies } from './dependencies';
import type { Tracing } from './telemetry/tracing';
import { workflowSource } from './worker-bundle';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /**
   * On shutdown, activities in flight get this long to finish; then they are cancelled (their
   * repeatable Evrotrust calls aborted) and reported failed, and the server retries them elsewhere.
   */
  shutdownGraceMs: number;
  /** Whether it traces (which bundle), activity interceptors, the workflow span sink; src/telemetry/tracing.ts. */
  tracing: Pick<Tracing, 'enabled' | 'activityInterceptors' | 'sinks'>;
  /** Threads that run workflow code (the SDK's default, 1, unless given): bench/scale.ts measures more. */
  workflowThreads?: number;
}

/**
 * Workflows kept in the worker's cache. A signing waits for days between two events, so caching
 * every one of thousands of pending signings buys nothing but memory: at the SDK's default (sized
 * from the heap) 2,000 pending signings took the process past 4 GiB and GC pauses pushed workflow
 * tasks past their 5 s deadline (bench/scale.ts). An evicted signing replays its short history
 * (~20 events) on its next signal instead.
 */
export const WORKFLOW_CACHE_SIZE = 400;

export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  // Compiled: the bundle `npm run build` made; from sources: bundled now (src/worker-bundle.ts).
  const workflows = workflowSource(opts.tracing.enabled);
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...workflows.code,
    interceptors: { workflowModules: workflows.workflowModules, activity: opts.tracing.activityInterceptors },
    activities: opts.activities,
    shutdownGraceTime: opts.shutdownGraceMs,
    maxCachedWorkflows: WORKFLOW_CACHE_SIZE,
    ...(opts.workflowThreads ? { workflowThreadPoolSize: opts.workflowThreads } : {}),
    sinks: opts.tracing.sinks,
  });
}

/** The service's worker on what openDependencies opened, as its configuration says (task queue, grace, tracing). */
export async function createServiceWorker(deps: Dependencies): Promise<Worker> {
  if (!deps.workerConnection) throw new Error('no worker connection was opened (openDependencies with worker: false)');
  return createWorker({
    connection: deps.workerConnection,
    namespace: deps.config.temporal.namespace,
    taskQueue: deps.config.temporal.taskQueue,
    activities: deps.activities,
    shutdownGraceMs: deps.config.shutdown.workerGraceMs,
    tracing: deps.tracing,
  });
}
