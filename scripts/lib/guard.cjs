// Runs one server process and makes sure it dies with whoever started us.
// Usage: node guard.cjs <command> [args…]; our stdin must be a pipe from the launcher.
// When the launcher exits for any reason (even SIGKILL) the pipe closes, we see end-of-file,
// and we stop the server: SIGTERM, then SIGKILL after a grace period. On Linux the server also
// gets a parent-death signal (setpriv --pdeathsig), so it dies even if this guard is SIGKILLed.
// The launcher starts us in a process group of our own: a terminal's Ctrl-C reaches only the
// launcher, which stops its servers in order (after the worker has drained) through us.
'use strict';
const { spawn, spawnSync } = require('node:child_process');

const [cmd, ...args] = process.argv.slice(2);
const GRACE_MS = 8000;

function hasPdeathsig() {
  if (process.platform !== 'linux') return false;
  const r = spawnSync('setpriv', ['--pdeathsig', 'KILL', 'true'], { stdio: 'ignore' });
  return r.status === 0;
}

// setpriv execs the server, so the pid we signal is the server's own.
const [bin, argv] = hasPdeathsig() ? ['setpriv', ['--pdeathsig', 'KILL', cmd, ...args]] : [cmd, args];
const child = spawn(bin, argv, { stdio: ['ignore', 'inherit', 'inherit'] });
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
