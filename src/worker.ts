// Builds the Temporal worker that runs signingWorkflow and its activities.
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from '../activities';
import { workflowSource } from './worker-bundle';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
}

export async function createWorker(opts: WorkerOptions): Promise<Worker> {
  // Compiled: the bundle `npm run build` made; from sources: bundled now (src/worker-bundle.ts).
  const workflows = workflowSource();
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...workflows.code,
    interceptors: { workflowModules: workflows.workflowModules },
    activities: opts.activities,
  });
}
