// Runs one server process and makes sure it dies with whoever started us.
// Usage: node guard.cjs <command> [args…]; our stdin must be a pipe from the launcher.
// When the launcher exits for any reason (even SIGKILL) the pipe closes, we see end-of-file,
// and we stop the server: SIGTERM, then SIGKILL after a grace period.
'use strict';
const { spawn } = require('node:child_process');

const [cmd, ...args] = process.argv.slice(2);
const GRACE_MS = 8000;
const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;

function stop() {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), GRACE_MS).unref();
}

child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
child.on('error', (err) => {
  process.stderr.write(`guard: cannot start ${cmd}: ${err.message}\n`);
  process.exit(127);
});
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, stop);
