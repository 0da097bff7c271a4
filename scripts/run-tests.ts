// `npm test`: starts a private Temporal dev server and FerretDB on free ports in a temporary
// directory, runs the whole suite (node's built-in runner) against them, and stops them.
// Usage: npm test [-- test/some.test.ts …]   (default: every test/**/*.test.ts)
// TEST_MONGODB_URI / TEST_TEMPORAL_ADDRESS point the suite at servers you already run (e.g. a real
// mongod, to check that everything the service does is also right on MongoDB 7).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { freePort, startTemporal, type ManagedServer } from './lib/stack';
import { runDatabasePrefix, startScratchStore } from './lib/ferret-store';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowInterceptorModules, workflowsPath } from '../src/worker-bundle';

/**
 * The workflow bundle the test workers run (test/helpers/stack.ts), built once per run from the
 * sources, as the build makes it for a worker with tracing off: bundling takes seconds, and a
 * score of test files would otherwise each bundle the same code again.
 */
async function buildTestBundle(work: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: workflowInterceptorModules(false),
    logger: new DefaultLogger('WARN'),
  });
  const file = join(work, 'workflow-bundle.js');
  writeFileSync(file, code);
  return file;
}

const root = join(__dirname, '..');

function findTests(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'fixtures' ? [] : findTests(p);
    return name.endsWith('.test.ts') ? [relative(root, p)] : [];
  });
}

async function main(): Promise<number> {
  const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : findTests(join(root, 'test')).sort();
  const work = mkdtempSync(join(tmpdir(), 'evrotrust-test-'));
  const servers: ManagedServer[] = [];
  const stopAll = () => Promise.all(servers.map((s) => s.stop()));
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)));

  const started = Date.now();
  // every PostgreSQL database of this run (the suite's, and those of the `npm start`s tests spawn) is dropped at its end
  const databasePrefix = runDatabasePrefix();
  let code = 1;
  try {
    const [temporal, mongo, bundle] = await Promise.all([
      process.env.TEST_TEMPORAL_ADDRESS
        ? Promise.resolve({ address: process.env.TEST_TEMPORAL_ADDRESS })
        : freePort()
            .then((port) => startTemporal({ port, logDir: work }))
            .then((s) => (servers.push(s), s)),
      process.env.TEST_MONGODB_URI
        ? Promise.resolve({ uri: process.env.TEST_MONGODB_URI })
        : freePort()
            .then((port) => startScratchStore({ port, logDir: work, dropPrefix: databasePrefix }))
            .then((s) => (servers.push(s), s)),
      buildTestBundle(work),
    ]);
    console.log(
      `[test] Temporal ${temporal.address} and MongoDB ${mongo.uri}${'reason' in mongo && 'backend' in mongo ? ` (FerretDB on ${String(mongo.backend)}: ${String(mongo.reason)})` : ''} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    // One test file at a time by default (node's default on 2 cores): the timing bounds some tests
    // check (shutdown within its grace, no overload 503s) hold only on a machine not starved by a
    // second file. TEST_CONCURRENCY=2 runs two at once: ~10 min instead of ~14 here, with that risk.
    const concurrency = /^[1-8]$/.test(process.env.TEST_CONCURRENCY ?? '') ? String(process.env.TEST_CONCURRENCY) : '1';
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
      {
        cwd: root,
        stdio: 'inherit',
        env: {
          ...process.env,
          EMBEDDED_POSTGRESQL_DB_PREFIX: databasePrefix,
          TEST_TEMPORAL_ADDRESS: temporal.address,
          TEST_MONGODB_URI: mongo.uri,
          TEST_WORK_DIR: work,
          TEST_WORKFLOW_BUNDLE: bundle,
        },
      },
    );
    code = await new Promise<number>((res) => child.on('close', (c) => res(c ?? 1)));
    return code;
  } finally {
    await stopAll();
    if (code === 0) rmSync(work, { recursive: true, force: true });
    else console.log(`[test] server logs kept in ${work}`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[test] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
