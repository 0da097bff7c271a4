// The one place that says how the workflows are bundled for the Temporal worker: which module is the
// bundle's entry, which workflow interceptor modules go in, and where `npm run build` puts the
// pre-built bundles (one without tracing, one with). scripts/build-workflow-bundle.ts builds it from these; src/worker.ts loads it.
//
// From sources (npm start, the tests, all through tsx) the worker bundles at start, as before: the
// code it runs is then always the code on disk. Compiled (dist/, the image) it loads the bundle that
// the build made, so a production worker never runs webpack; a missing bundle there is an error,
// never a silent rebundle (dist/ may not even hold what webpack would need).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The bundle's entry: every workflow the worker runs (workflows/index.ts, or its compiled .js). */
export const workflowsPath = require.resolve('../workflows');

/**
 * Modules exporting `interceptors` (WorkflowInterceptorsFactory) for a worker that traces:
 * OpenTelemetry's workflow interceptors. A worker with tracing off gets a bundle without them: a
 * CPU profile of 4,000 pending signings (bench/scale.ts) showed them costing the one workflow
 * thread about a sixth of its time (async_hooks) even though their spans went to a no-op sink.
 * Leaving them out changes no workflow command, so a history replays under either bundle
 * (test/signing/replay.test.ts replays every recorded one under both).
 */
export const tracingInterceptorModules: string[] = [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];

/** The interceptor modules a worker's bundle holds: the tracing ones only when it traces. */
export function workflowInterceptorModules(traced: boolean): string[] {
  return traced ? tracingInterceptorModules : [];
}

/** The pre-built bundles' file names, at the top of the build's output directory (dist/). */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';
export const TRACED_WORKFLOW_BUNDLE_FILE = 'workflow-bundle-traced.js';

/** Where the build writes a bundle, relative to the output directory that holds src/ (dist/). */
export function workflowBundlePath(outDir: string, traced: boolean): string {
  return join(outDir, traced ? TRACED_WORKFLOW_BUNDLE_FILE : WORKFLOW_BUNDLE_FILE);
}

export class MissingWorkflowBundleError extends Error {
  constructor(readonly codePath: string) {
    super(`the pre-built workflow bundle ${codePath} is missing: run \`npm run build\`, which compiles dist/ and writes the bundle`);
    this.name = 'MissingWorkflowBundleError';
  }
}

/** True when this module runs as compiled JavaScript (dist/), false from the TypeScript sources. */
export function runningCompiled(file: string = __filename): boolean {
  return !file.endsWith('.ts');
}

/** How the worker gets its workflow code (for Worker.create), and the interceptor modules to bundle with it. */
export interface WorkflowSource {
  code: { workflowBundle: { codePath: string } } | { workflowsPath: string };
  /** For WorkerOptions.interceptors.workflowModules: used when bundling at start; a pre-built bundle has them inside. */
  workflowModules: string[];
}

/** The pre-built bundle when compiled (an error if it is missing), bundling from sources otherwise. */
export function workflowSource(traced: boolean, file: string = __filename): WorkflowSource {
  if (!runningCompiled(file)) return { code: { workflowsPath }, workflowModules: workflowInterceptorModules(traced) };
  // Compiled, this file is <outDir>/src/worker-bundle.js.
  const codePath = workflowBundlePath(dirname(dirname(file)), traced);
  if (!existsSync(codePath)) throw new MissingWorkflowBundleError(codePath);
  return { code: { workflowBundle: { codePath } }, workflowModules: [] };
}
