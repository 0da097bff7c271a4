// The local stack launcher used by `npm start` and `npm test`: starts the Temporal dev server and
// FerretDB, waits until each really answers (a client connects; no fixed sleeps), registers the
// search attributes, and stops everything when asked or when the launching process dies
// (each server runs under scripts/lib/guard.cjs, which watches a pipe from us).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { MongoClient } from 'mongodb';
import { ferretDbBinary, temporalCli } from './tools';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

export class StackStartError extends Error {
  constructor(
    message: string,
    readonly logFile?: string,
  ) {
    super(logFile ? `${message} (server log: ${logFile})` : message);
    this.name = 'StackStartError';
  }
}

export interface ManagedServer {
  name: string;
  logFile: string;
  stop(): Promise<void>;
  /** Sends `signal` to the server and its guard at once (fault drills: SIGKILL = a crash); resolves when they are gone. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

const GUARD = join(__dirname, 'guard.cjs');

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs `bin` under the guard, output appended to `<logDir>/<name>.log`; `env` replaces ours if given. */
export function launch(
  name: string,
  bin: string,
  args: string[],
  logDir: string,
  env?: NodeJS.ProcessEnv,
): { child: ChildProcess; server: ManagedServer } {
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  // detached: a process group of its own, so a terminal's Ctrl-C (sent to the whole foreground group)
  // does not stop the server under a worker that is still draining; we stop it, in order.
  const child = spawn(process.execPath, [GUARD, bin, ...args], { stdio: ['pipe', fd, fd], detached: true, env: env ?? process.env });
  closeSync(fd);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const server: ManagedServer = {
    name,
    logFile,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal); // the guard leads a process group of its own, the server in it
      } catch {
        // already gone
      }
      await exited;
    },
  };
  return { child, server };
}

/** Whether host:port can be listened on right now. */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, host, () => srv.close(() => res(true)));
  });
}

/**
 * Waits until nothing listens on host:port. A previous `npm start` that was just stopped (or
 * SIGKILLed: its guard then still stops its server for up to 8 s) may still hold it.
 */
export async function waitForFreePort(name: string, host: string, port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    if (await isPortFree(host, port)) return;
    if (Date.now() >= deadline) {
      throw new StackStartError(
        `${name}: port ${host}:${port} is still in use after ${timeoutMs / 1000} s; another \`npm start\` (or another program) holds it — stop it, or point the configuration elsewhere`,
      );
    }
    if (!told) {
      told = true;
      process.stderr.write(`[stack] ${name}: port ${host}:${port} is in use, waiting up to ${timeoutMs / 1000} s for it to be released…\n`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Polls `probe` until it resolves, the process exits, or the deadline passes. */
async function waitUntilReady(
  name: string,
  child: ChildProcess,
  logFile: string,
  timeoutMs: number,
  probe: () => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new StackStartError(`${name} exited during start-up (code ${child.exitCode ?? child.signalCode}): ${tail(logFile)}`, logFile);
    }
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  child.kill('SIGTERM');
  throw new StackStartError(
    `${name} did not answer within ${timeoutMs / 1000} s: ${String((lastError as Error)?.message ?? lastError)}`,
    logFile,
  );
}

function tail(file: string): string {
  if (!existsSync(file)) return '';
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  return lines.slice(-3).join(' | ');
}

export interface TemporalOptions {
  host?: string;
  port: number;
  uiPort?: number; // undefined: headless
  dbFile?: string; // undefined: in memory
  logDir: string;
  namespace?: string;
}

export async function startTemporal(opts: TemporalOptions): Promise<ManagedServer & { address: string; uiUrl?: string }> {
  const host = opts.host ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', host, '--port', String(opts.port), '--log-level', 'warn'];
  if (opts.uiPort !== undefined) args.push('--ui-port', String(opts.uiPort), '--ui-ip', host);
  else args.push('--headless');
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const [key, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${key}=${type}`);
  const bin = await temporalCli();
  await waitForFreePort('Temporal dev server', host, opts.port);
  if (opts.uiPort !== undefined) await waitForFreePort('Temporal Web UI', host, opts.uiPort);
  const address = `${host}:${opts.port}`;
  // A previous dev server that is still shutting down (its guard gives it 8 s after a SIGKILLed
  // `npm start`) can hold its database file and internal ports after its gRPC port is free, and
  // the new one then exits at once: try again for a while before giving up.
  let launched: ReturnType<typeof launch>;
  for (let attempt = 1; ; attempt++) {
    launched = launch('temporal', bin, args, opts.logDir);
    const { child, server } = launched;
    try {
      await waitUntilReady('Temporal dev server', child, server.logFile, 60_000, async () => {
        const conn = await Connection.connect({ address, connectTimeout: 1000 });
        try {
          await conn.workflowService.describeNamespace({ namespace });
          // --search-attribute applies only when the namespace is first created; with a kept database
          // file, attributes added later must be registered explicitly.
          await ensureSearchAttributes(conn, namespace);
        } finally {
          await conn.close();
        }
      });
      break;
    } catch (err) {
      const exitedEarly = child.exitCode !== null || child.signalCode !== null;
      if (!exitedEarly || attempt >= 6) {
        await server.stop();
        throw err;
      }
      process.stderr.write(`[stack] Temporal dev server exited during start-up; trying again (a previous one may still be stopping)…\n`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  const { child, server } = launched;
  let uiUrl: string | undefined;
  if (opts.uiPort !== undefined) {
    uiUrl = `http://${host}:${opts.uiPort}`;
    await waitUntilReady('Temporal Web UI', child, server.logFile, 30_000, async () => {
      const res = await fetch(uiUrl as string, { signal: AbortSignal.timeout(1000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    });
  }
  return { ...server, address, uiUrl };
}

export async function ensureSearchAttributes(conn: Connection, namespace: string): Promise<void> {
  const have = await conn.operatorService.listSearchAttributes({ namespace });
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([k]) => !(k in (have.customAttributes ?? {})));
  if (missing.length === 0) return;
  const kw = temporal.api.enums.v1.IndexedValueType;
  await conn.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map(([k, t]) => [k, t === 'Keyword' ? kw.INDEXED_VALUE_TYPE_KEYWORD : kw.INDEXED_VALUE_TYPE_TEXT]),
    ),
  });
}

export interface FerretOptions {
  host?: string;
  port: number;
  dataDir?: string; // SQLite: undefined means a directory beside the logs
  logDir: string;
  /** FerretDB's PostgreSQL backend on this database URL (prepared first: scripts/lib/ferret-store.ts) instead of SQLite. */
  postgresqlUrl?: string;
  /** With postgresqlUrl: its database holds state already and must exist (PostgresDatabaseMissingError if not). */
  postgresqlMustExist?: boolean;
}

/** FerretDB could not reach the PostgreSQL server it was given (the launcher may fall back to SQLite). */
export class PostgresUnreachableError extends StackStartError {
  constructor(readonly url: string) {
    super(`no PostgreSQL answers at ${redactUrl(url)}`);
    this.name = 'PostgresUnreachableError';
  }
}

/** The PostgreSQL database that should hold the store's state is not there (it was dropped, or the URL changed). */
export class PostgresDatabaseMissingError extends StackStartError {
  constructor(readonly url: string) {
    super(`the PostgreSQL database ${redactUrl(url)} does not exist`);
    this.name = 'PostgresDatabaseMissingError';
  }
}

/** A URL for messages: without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * Creates the PostgreSQL database when missing (unless `mustExist`: then PostgresDatabaseMissingError)
 * and installs the GIN index mirror in it (tools/ferretdb/postgresql.go says why). Throws
 * PostgresUnreachableError when nothing answers.
 */
export async function preparePostgresqlStore(url: string, opts: { mustExist?: boolean } = {}): Promise<void> {
  const bin = await ferretDbBinary();
  const r = spawnSync(bin, ['-prepare-postgresql', url, ...(opts.mustExist ? ['-must-exist'] : [])], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status === 3) throw new PostgresUnreachableError(url);
  if (r.status === 4) throw new PostgresDatabaseMissingError(url);
  if (r.status !== 0)
    throw new StackStartError(`preparing PostgreSQL ${redactUrl(url)} for FerretDB failed: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** Drops the PostgreSQL databases whose names start with `prefix` (a test run's own). */
export async function dropPostgresqlDatabases(url: string, prefix: string): Promise<void> {
  const bin = await ferretDbBinary();
  const r = spawnSync(bin, ['-drop-postgresql-databases', url, '-prefix', prefix], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new StackStartError(`dropping PostgreSQL databases ${prefix}* failed: ${(r.stderr || '').trim()}`);
}

/** The PostgreSQL databases whose names start with `prefix`. */
export async function listPostgresqlDatabases(url: string, prefix: string): Promise<string[]> {
  const bin = await ferretDbBinary();
  const r = spawnSync(bin, ['-list-postgresql-databases', url, '-prefix', prefix], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new StackStartError(`listing PostgreSQL databases ${prefix}* failed: ${(r.stderr || '').trim()}`);
  return r.stdout.split('\n').filter((n) => n.length > 0);
}

export async function startFerretDb(opts: FerretOptions): Promise<ManagedServer & { uri: string; backend: string }> {
  const host = opts.host ?? '127.0.0.1';
  let backendArgs: string[];
  let backend: string;
  if (opts.postgresqlUrl) {
    await preparePostgresqlStore(opts.postgresqlUrl, { mustExist: opts.postgresqlMustExist ?? false });
    // force_custom_plan: FerretDB sends field names as parameters; only a custom plan sees them as
    // constants and can match the GIN expression indexes (tools/ferretdb/postgresql.go).
    const u = new URL(opts.postgresqlUrl);
    u.searchParams.set('plan_cache_mode', 'force_custom_plan');
    backendArgs = ['-postgresql-url', u.toString()];
    backend = `PostgreSQL ${redactUrl(opts.postgresqlUrl)}`;
  } else {
    // SQLite's in-memory mode (`?mode=memory`) deadlocks FerretDB's updates (seen with 1.24.2), so
    // even throw-away stores live in a directory: the caller's, or one beside the logs.
    const dir = opts.dataDir ?? join(opts.logDir, 'ferretdb-data');
    mkdirSync(dir, { recursive: true });
    backendArgs = ['-sqlite-url', `file:${dir.replace(/\/?$/, '/')}`];
    backend = `SQLite ${dir}`;
  }
  const bin = await ferretDbBinary();
  await waitForFreePort('FerretDB', host, opts.port);
  const { child, server } = launch(
    'ferretdb',
    bin,
    ['-listen', `${host}:${opts.port}`, ...backendArgs, '-log-level', 'error'],
    opts.logDir,
  );
  const uri = `mongodb://${host}:${opts.port}/`;
  await waitUntilReady('FerretDB', child, server.logFile, 60_000, async () => {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
    } finally {
      await client.close();
    }
  });
  return { ...server, uri, backend };
}
