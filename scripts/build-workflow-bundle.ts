// `npm run build`, second step (after tsc): the pre-built workflow bundles that the compiled worker
// loads (WorkerOptions.workflowBundle), made with the SDK's bundleWorkflowCode from what
// src/worker-bundle.ts names, so a production worker never runs webpack at start.
// Usage: node --import tsx scripts/build-workflow-bundle.ts [outDir]   (default dist)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowBundlePath, workflowInterceptorModules, workflowsPath } from '../src/worker-bundle';

async function main(): Promise<void> {
  const root = join(__dirname, '..');
  const outDir = resolve(root, process.argv[2] ?? 'dist');
  mkdirSync(outDir, { recursive: true });
  // One bundle for a worker with tracing off, one with OpenTelemetry's workflow interceptors.
  for (const traced of [false, true]) {
    const started = Date.now();
    // WARN: webpack's per-module INFO lines say nothing a build log needs.
    const { code } = await bundleWorkflowCode({
      workflowsPath,
      workflowInterceptorModules: workflowInterceptorModules(traced),
      logger: new DefaultLogger('WARN'),
    });
    const file = workflowBundlePath(outDir, traced);
    writeFileSync(file, code);
    const kib = Math.round(Buffer.byteLength(code) / 1024);
    console.log(`[build] workflow bundle ${relative(root, file)} (${kib} KiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

main().catch((err: unknown) => {
  console.error(`[build] workflow bundle: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
