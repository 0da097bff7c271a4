// Issue 9 item 10: Ctrl-C in a terminal sends SIGINT to the whole process group and npm forwards it
// again, so `npm start` sees two SIGINTs at once. It must still stop everything it started, and an
// immediate second `npm start` on the same data directory must come up.
// The embedded servers run on free ports (EMBEDDED_*_PORT), so this never meets a developer's own
// `npm start` nor this run's test servers.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../scripts/lib/stack';

const root = join(__dirname, '..');

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function npmStart(env: NodeJS.ProcessEnv): Started {
  // detached: its own process group, as a terminal's foreground job is, so we can signal the group.
  const child = spawn('npm', ['start', '--silent'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { child, output: () => out, exited };
}

async function healthy(url: string, started: Started, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null) throw new Error(`npm start exited (${started.child.exitCode}): ${started.output().slice(-1500)}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no healthy /healthz within ${timeoutMs / 1000} s: ${started.output().slice(-1500)}`);
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`${what} took over ${ms / 1000} s`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

function killGroup(s: Started | undefined, signal: NodeJS.Signals): void {
  if (!s?.child.pid) return;
  try {
    process.kill(-s.child.pid, signal);
  } catch {
    // the group is gone
  }
}

describe('npm start after Ctrl-C', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'evrotrust-ctrlc-'));
  const runs: Started[] = [];
  after(async () => {
    for (const r of runs) killGroup(r, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function startEnv(dir: string) {
    const [port, temporal, ui, mongodb, simulator] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dir,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      EMBEDDED_TEMPORAL_PORT: String(temporal),
      EMBEDDED_TEMPORAL_UI_PORT: String(ui),
      EMBEDDED_MONGODB_PORT: String(mongodb),
      EMBEDDED_SIMULATOR_PORT: String(simulator),
      LOG_LEVEL: 'warn',
      // Not the fixed default port 9464: runs beside a developer's npm start and other test runs.
      WORKER_METRICS_ADDRESS: 'off',
    };
    // A fresh clone's `npm start`: nothing external configured, so sandbox mode without choosing it.
    for (const k of ['MONGODB_URI', 'EVROTRUST_BASE_URL', 'EVROTRUST_SANDBOX', 'NODE_ENV', 'API_TOKEN']) delete env[k];
    // Any Temporal setting (TEMPORAL_PROFILE, TEMPORAL_API_KEY, …) would configure or refuse an external one.
    for (const k of Object.keys(env)) if (k.startsWith('TEMPORAL_')) delete env[k];
    return { env, url: `http://127.0.0.1:${port}`, port, temporal, mongodb, simulator };
  }

  it('a doubled SIGINT stops everything, and the next start comes up at once', { timeout: 90_000 }, async () => {
    const { env, url, port, temporal, mongodb, simulator } = await startEnv(dataDir);
    const first = npmStart(env);
    runs.push(first);
    await healthy(url, first, 45_000);

    // The terminal's SIGINT to the group, then npm's forwarded copy a moment later.
    killGroup(first, 'SIGINT');
    await new Promise((r) => setTimeout(r, 30));
    killGroup(first, 'SIGINT');
    const firstCode = await within(first.exited, 30_000, 'stopping after Ctrl-C');
    assert.equal(firstCode, 0, `the doubled SIGINT abandoned the stop: ${first.output().slice(-800)}`);
    assert.match(first.output(), /stopped cleanly/);
    // When the prompt comes back, the servers it started must be gone (they held these ports).
    const held = [];
    for (const p of [temporal, mongodb]) if (!(await portFree(p))) held.push(p);
    assert.deepEqual(held, [], `ports still held right after npm start returned (exit ${firstCode}): ${first.output().slice(-800)}`);

    // The shell prompt is back: start again straight away.
    const second = npmStart(env);
    runs.push(second);
    await healthy(url, second, 45_000);
    assert.doesNotMatch(second.output(), /exited during start-up/);

    killGroup(second, 'SIGINT');
    const code = await within(second.exited, 30_000, 'the second stop');
    assert.equal(code, 0, second.output().slice(-1500));
    assert.match(second.output(), /stopped cleanly/);
    // Nothing of ours is left holding a port once npm has returned.
    for (const p of [temporal, mongodb, simulator, port]) assert.ok(await portFree(p), `port ${p} free after the stop`);
  });

  it('after a SIGKILL the servers still stop, and the next start waits for their ports', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evrotrust-kill-'));
    try {
      const { env, url, temporal, mongodb } = await startEnv(dir);
      const first = npmStart(env);
      runs.push(first);
      await healthy(url, first, 45_000);
      killGroup(first, 'SIGKILL'); // no graceful stop at all: only the guards stop the servers
      await first.exited;
      const second = npmStart(env);
      runs.push(second);
      await healthy(url, second, 45_000);
      killGroup(second, 'SIGINT');
      assert.equal(await within(second.exited, 30_000, 'the stop after the restart'), 0, second.output().slice(-1500));
      for (const p of [temporal, mongodb]) assert.ok(await portFree(p), `port ${p} free after the stop`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
