// The CLI as a user runs it: `node --import tsx src/cli.ts …` in a child process, configured only by
// the environment (sandbox mode, this run's Temporal and FerretDB database, the test worker's queue).
import { before } from 'node:test';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { testEnv } from './stack';
import type { SigningEnv } from './signing-env';

const root = join(__dirname, '..', '..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A runner for src/cli.ts against `env` (call inside the describe, after useSigningEnv). */
export function useCli(env: SigningEnv): (args: string[], extraEnv?: NodeJS.ProcessEnv) => Promise<CliRun> {
  let cliEnv: NodeJS.ProcessEnv = {};
  before(() => {
    const mongo = new URL(testEnv().mongoUri);
    mongo.pathname = `/${env.mongo.db.databaseName}`;
    // Only what a user would set: sandbox mode, chosen explicitly since Temporal and MongoDB are external.
    cliEnv = {
      EVROTRUST_SANDBOX: 'true',
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEMPORAL_ADDRESS: testEnv().temporalAddress,
      MONGODB_URI: mongo.toString(),
      TEMPORAL_TASK_QUEUE: env.worker.taskQueue,
      SIGNING_POLL_INTERVAL: '5s', // the shortest the configuration accepts
    };
  });
  return (args, extraEnv = {}) =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli.ts', ...args],
        { cwd: root, env: { ...cliEnv, ...extraEnv }, timeout: 60_000, encoding: 'buffer' },
        (err, stdout, stderr) => {
          const code = err && typeof err.code === 'number' ? err.code : err ? -1 : 0;
          resolve({ code, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') });
        },
      );
    });
}
