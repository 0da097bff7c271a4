// Locates or builds the two Go servers the local stack needs, into a cache outside the clone
// (keyed by version, so a second run or a second clone reuses them):
//   - the Temporal CLI v1.5.1 (dev server + Web UI), from the Go module proxy;
//   - FerretDB v1.24.2 embedded in our own small Go program (tools/ferretdb), because the upstream
//     binary built with `go install` panics at start (FerretDB issue #2982).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const FERRETDB_VERSION = 'v1.24.2';
const MIN_GO = [1, 25] as const;

const repoRoot = resolve(__dirname, '..', '..');

export class ToolUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolUnavailableError';
  }
}

export function toolsCacheDir(): string {
  const base =
    process.env.EVROTRUST_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'evrotrust-signing', 'tools');
  mkdirSync(base, { recursive: true });
  return base;
}

function goVersion(): [number, number] | undefined {
  const r = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const m = /go(\d+)\.(\d+)/.exec(r.stdout);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function requireGo(what: string): void {
  const v = goVersion();
  const ok = v !== undefined && (v[0] > MIN_GO[0] || (v[0] === MIN_GO[0] && v[1] >= MIN_GO[1]));
  if (ok) return;
  throw new ToolUnavailableError(
    `${what} must be built from source, which needs Go >= ${MIN_GO.join('.')} (${v ? `found go${v.join('.')}` : 'no `go` on PATH'}). ` +
      'Options: install Go >= 1.25; or put a `temporal` binary (Temporal CLI v1.5.1) on PATH; ' +
      'or point TEMPORAL_ADDRESS / MONGODB_URI at servers you already run.',
  );
}

/** Runs a Go build with its output streamed (prefixed), so a first build that takes minutes shows progress. */
async function goBuild(what: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const started = Date.now();
  process.stderr.write(`[tools] building ${what} (first run only; a few minutes on 2 cores)…\n`);
  const child = spawn('go', args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      lines += 1;
      // `go build -v` prints one line per package; show every 25th so progress is visible but short.
      if (lines % 25 === 0 || /error|cannot|go: /.test(line))
        process.stderr.write(`[tools]   ${what}: ${lines} packages… ${line.trim()}\n`);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const code = await new Promise<number | null>((res) => child.on('close', res));
  if (code !== 0) throw new ToolUnavailableError(`building ${what} failed (go exited with ${code}); see the lines above`);
  process.stderr.write(`[tools] built ${what} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

/** Builds into a private temp dir and renames it into place, so two concurrent first runs cannot see half a binary. */
async function buildOnce(finalDir: string, binName: string, build: (tmpDir: string) => Promise<void>): Promise<string> {
  const bin = join(finalDir, binName);
  if (existsSync(bin)) return bin;
  const tmp = `${finalDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await build(tmp);
    try {
      renameSync(tmp, finalDir);
    } catch (err) {
      if (!existsSync(bin)) throw err; // someone else finished first: theirs is as good as ours
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}

function onPath(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}

/** Path of a Temporal CLI: $TEMPORAL_CLI, then the cache, then `temporal` on PATH, else built with Go. */
export async function temporalCli(): Promise<string> {
  if (process.env.TEMPORAL_CLI) return process.env.TEMPORAL_CLI;
  const dir = join(toolsCacheDir(), `temporal-${TEMPORAL_CLI_VERSION}`);
  if (existsSync(join(dir, 'temporal'))) return join(dir, 'temporal');
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  requireGo(`Temporal CLI ${TEMPORAL_CLI_VERSION}`);
  return buildOnce(dir, 'temporal', (tmp) =>
    goBuild(
      `Temporal CLI ${TEMPORAL_CLI_VERSION}`,
      ['install', '-v', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`],
      repoRoot,
      { GOBIN: tmp },
    ),
  );
}

/** Path of our FerretDB program; the cache key includes a hash of its sources so an edit rebuilds it. */
export async function ferretDbBinary(): Promise<string> {
  if (process.env.FERRETDB_BIN) return process.env.FERRETDB_BIN;
  const src = join(repoRoot, 'tools', 'ferretdb');
  const hash = createHash('sha256');
  for (const f of [
    'go.mod',
    'go.sum',
    ...readdirSync(src)
      .filter((n) => n.endsWith('.go'))
      .sort(),
  ])
    hash.update(readFileSync(join(src, f)));
  const dir = join(toolsCacheDir(), `ferretdb-${FERRETDB_VERSION}-${hash.digest('hex').slice(0, 12)}`);
  if (existsSync(join(dir, 'ferretdb'))) return join(dir, 'ferretdb');
  requireGo(`FerretDB ${FERRETDB_VERSION}`);
  return buildOnce(dir, 'ferretdb', (tmp) =>
    goBuild(`FerretDB ${FERRETDB_VERSION}`, ['build', '-v', '-o', join(tmp, 'ferretdb'), '.'], src, {}),
  );
}

/** Temporal Server itself, the version inside Temporal CLI v1.5.1 (bench/scale.ts --temporal server). */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

/** The server and its schema tool, built with Go into the cache; and the module's directory (schema files). */
export async function temporalServerBinaries(): Promise<{ server: string; sqlTool: string; moduleDir: string }> {
  const dir = join(toolsCacheDir(), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  requireGo(`Temporal Server ${TEMPORAL_SERVER_VERSION}`);
  await buildOnce(dir, 'sql', (tmp) =>
    goBuild(
      `Temporal Server ${TEMPORAL_SERVER_VERSION}`,
      [
        'install',
        '-v',
        `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`,
        `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
      ],
      repoRoot,
      { GOBIN: tmp },
    ),
  );
  const modcache = spawnSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).stdout.trim();
  const moduleDir = join(modcache, 'go.temporal.io', `server@${TEMPORAL_SERVER_VERSION}`);
  if (!existsSync(join(moduleDir, 'schema'))) {
    spawnSync('go', ['mod', 'download', `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`], { cwd: repoRoot, stdio: 'inherit' });
  }
  return { server: join(dir, 'server'), sqlTool: join(dir, 'sql'), moduleDir };
}
