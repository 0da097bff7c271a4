// Builds the Temporal worker that runs signingWorkflow and its activities.
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from '../activities';
import type { Tracing } from './telemetry/tracing';
import { workflowInterceptorModules, workflowsPath } from './worker-bundle';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /**
   * On shutdown, activities in flight get this long to finish; then they are cancelled (their
   * Evrotrust calls aborted) and reported failed, and the server retries them on another worker.
   */
  shutdownGraceMs: number;
  /** Activity interceptors and the workflow span sink; src/telemetry/tracing.ts (a no-op sink when off). */
  tracing: Pick<Tracing, 'activityInterceptors' | 'sinks'>;
}

export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowsPath,
    activities: opts.activities,
    shutdownGraceTime: opts.shutdownGraceMs,
    interceptors: { workflowModules: workflowInterceptorModules, activity: opts.tracing.activityInterceptors },
    sinks: opts.tracing.sinks,
  });
}
