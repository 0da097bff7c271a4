// Which backend the embedded FerretDB uses, and starting it so.
//
// FerretDB on SQLite scans every collection for every lookup (cost grows with the data: issue 13's
// tables); on PostgreSQL with the GIN mirror (tools/ferretdb/postgresql.go) lookups are index scans.
// So where a PostgreSQL server answers (EMBEDDED_POSTGRESQL_URL, default the local one with trust
// auth these machines run) the embedded store lives there; elsewhere SQLite still works, and the
// launcher says which one it uses and why.
//
// `npm start` keeps its choice in <dataDir>/postgresql.json: state written to one backend is never
// silently traded for an empty other one (an earlier SQLite .data stays on SQLite; a PostgreSQL one
// that is not reachable is an error, not a fresh start).
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  dropPostgresqlDatabases,
  listPostgresqlDatabases,
  PostgresUnreachableError,
  preparePostgresqlStore,
  PostgresDatabaseMissingError,
  redactUrl,
  startFerretDb,
  StackStartError,
  type ManagedServer,
} from './stack';

export const DEFAULT_EMBEDDED_POSTGRESQL_URL = 'postgresql://postgres@127.0.0.1:5432/';
export const DEFAULT_EMBEDDED_POSTGRESQL_DB_PREFIX = 'evrotrust_';

const envSchema = z.object({
  EMBEDDED_POSTGRESQL_URL: z
    .string()
    .trim()
    .default(DEFAULT_EMBEDDED_POSTGRESQL_URL)
    .refine((v) => v === 'off' || /^postgres(ql)?:\/\/[^/]+\/?$/.test(v), {
      message: 'expected `off` or a PostgreSQL server URL without a database, e.g. postgresql://postgres@127.0.0.1:5432/',
    }),
  EMBEDDED_POSTGRESQL_DB_PREFIX: z
    .string()
    .trim()
    .default(DEFAULT_EMBEDDED_POSTGRESQL_DB_PREFIX)
    .refine((v) => /^[a-z_][a-z0-9_]{3,30}$/.test(v), {
      message: 'expected 4-31 characters of a-z, 0-9 and _, starting with a letter or _',
    }),
});

export interface EmbeddedStoreSettings {
  /** Server URL without a database; undefined: PostgreSQL is off. */
  postgresqlServer?: string;
  databasePrefix: string;
}

export function embeddedStoreSettings(env: NodeJS.ProcessEnv = process.env): EmbeddedStoreSettings {
  const r = envSchema.safeParse({
    EMBEDDED_POSTGRESQL_URL: env.EMBEDDED_POSTGRESQL_URL || undefined,
    EMBEDDED_POSTGRESQL_DB_PREFIX: env.EMBEDDED_POSTGRESQL_DB_PREFIX || undefined,
  });
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new StackStartError(`${String(issue?.path[0])}: ${issue?.message}`);
  }
  const server = r.data.EMBEDDED_POSTGRESQL_URL;
  return {
    postgresqlServer: server === 'off' ? undefined : server.replace(/\/?$/, '/'),
    databasePrefix: r.data.EMBEDDED_POSTGRESQL_DB_PREFIX,
  };
}

export type EmbeddedStore = ManagedServer & { uri: string; backend: string; reason: string };

const markerSchema = z.object({ postgresqlUrl: z.string() });

/** `npm start`'s store: persistent, in `dataDir` (SQLite) or in the database its marker names. */
export async function startPersistentStore(opts: {
  port: number;
  dataDir: string;
  logDir: string;
  env?: NodeJS.ProcessEnv;
}): Promise<EmbeddedStore> {
  const settings = embeddedStoreSettings(opts.env);
  mkdirSync(opts.dataDir, { recursive: true });
  const marker = join(opts.dataDir, 'postgresql.json');
  const sqlite = () => startFerretDb({ port: opts.port, dataDir: opts.dataDir, logDir: opts.logDir });
  if (existsSync(marker)) {
    const { postgresqlUrl } = markerSchema.parse(JSON.parse(readFileSync(marker, 'utf8')));
    try {
      const s = await startFerretDb({ port: opts.port, logDir: opts.logDir, postgresqlUrl, postgresqlMustExist: true });
      return { ...s, reason: `its state is there (${marker})` };
    } catch (err) {
      // An empty database in its place would look like a store whose signings all vanished.
      if (err instanceof PostgresDatabaseMissingError)
        throw new StackStartError(
          `the embedded store's state was in PostgreSQL ${redactUrl(postgresqlUrl)} (${marker}), and that database no longer exists: restore it, or move ${opts.dataDir} aside to start afresh`,
        );
      if (err instanceof PostgresUnreachableError)
        throw new StackStartError(
          `the embedded store's state is in PostgreSQL ${redactUrl(postgresqlUrl)} (${marker}), which does not answer: start PostgreSQL, or move ${opts.dataDir} aside to start afresh`,
        );
      throw err;
    }
  }
  if (readdirSync(opts.dataDir).some((n) => n.endsWith('.sqlite')))
    return { ...(await sqlite()), reason: `its state from an earlier start is in SQLite (${opts.dataDir})` };
  if (!settings.postgresqlServer) return { ...(await sqlite()), reason: 'EMBEDDED_POSTGRESQL_URL=off' };
  // One database per data directory: two checkouts (or a test's temporary `npm start`) never share state.
  const postgresqlUrl = `${settings.postgresqlServer}${settings.databasePrefix}embedded_${createHash('sha256').update(realpathSync(opts.dataDir)).digest('hex').slice(0, 10)}`;
  try {
    await preparePostgresqlStore(postgresqlUrl);
  } catch (err) {
    if (err instanceof PostgresUnreachableError)
      return {
        ...(await sqlite()),
        reason: `no PostgreSQL answers at ${redactUrl(settings.postgresqlServer)} (set EMBEDDED_POSTGRESQL_URL to use one; SQLite scans, so it slows down as signings accumulate)`,
      };
    throw err;
  }
  writeFileSync(marker, `${JSON.stringify({ postgresqlUrl }, null, 2)}\n`);
  const s = await startFerretDb({ port: opts.port, logDir: opts.logDir, postgresqlUrl });
  return { ...s, reason: `PostgreSQL answers at ${redactUrl(settings.postgresqlServer)}` };
}

/**
 * A throw-away store for a test run or a benchmark: a database of its own (dropped on stop) where
 * PostgreSQL answers, else SQLite in `logDir`. `backend: 'sqlite'` forces SQLite (benchmarks compare).
 */
export async function startScratchStore(opts: {
  port: number;
  logDir: string;
  env?: NodeJS.ProcessEnv;
  backend?: 'auto' | 'sqlite';
  /** Drop every database with this prefix on stop (a test run's: its children's `npm start`s too); default its own. */
  dropPrefix?: string;
}): Promise<EmbeddedStore> {
  const settings = embeddedStoreSettings(opts.env);
  if (opts.backend === 'sqlite' || !settings.postgresqlServer) {
    const s = await startFerretDb({ port: opts.port, logDir: opts.logDir });
    return { ...s, reason: opts.backend === 'sqlite' ? 'asked for' : 'EMBEDDED_POSTGRESQL_URL=off' };
  }
  // What killed runs left behind goes first; a server that does not answer is the launch's to report.
  await dropOrphanedDatabases(opts.env).catch(() => undefined);
  const prefix = opts.dropPrefix ?? `${settings.databasePrefix}scratch_${process.pid}_${randomBytes(3).toString('hex')}`;
  const postgresqlUrl = `${settings.postgresqlServer}${prefix}${opts.dropPrefix ? 'suite' : ''}`;
  let s: Awaited<ReturnType<typeof startFerretDb>>;
  try {
    s = await startFerretDb({ port: opts.port, logDir: opts.logDir, postgresqlUrl });
  } catch (err) {
    if (!(err instanceof PostgresUnreachableError)) throw err;
    const f = await startFerretDb({ port: opts.port, logDir: opts.logDir });
    return { ...f, reason: `no PostgreSQL answers at ${redactUrl(settings.postgresqlServer)}` };
  }
  const server = settings.postgresqlServer;
  return {
    ...s,
    reason: `PostgreSQL answers at ${redactUrl(server)}; databases ${prefix}*, dropped at the end`,
    async stop() {
      await s.stop();
      await dropPostgresqlDatabases(server, prefix).catch((err: unknown) => process.stderr.write(`[stack] ${String(err)}\n`));
    },
  };
}

/** Whether a process with this pid runs (EPERM: it does, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Drops the databases of test runs, scratch stores and Temporal Servers whose process is gone (a
 * benchmark killed with SIGKILL, a test run cut off): their names carry the pid that made them
 * (`<prefix>scratch_<pid>_<hex>…`, `run_…`, `tserver_…`). Those of live processes are left alone. Only on
 * a PostgreSQL of this machine (a loopback address): on a shared server a pid says nothing.
 */
export async function dropOrphanedDatabases(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const settings = embeddedStoreSettings(env);
  if (!settings.postgresqlServer) return [];
  const server = settings.postgresqlServer;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(server).hostname)) return [];
  const pattern = new RegExp(`^${settings.databasePrefix}(?:scratch|run|tserver)_(\\d+)_[0-9a-f]{6}`);
  const orphans = new Set<string>();
  for (const name of await listPostgresqlDatabases(server, settings.databasePrefix)) {
    const m = pattern.exec(name);
    if (m?.[1] && !alive(Number(m[1]))) orphans.add(m[0]);
  }
  for (const prefix of orphans) await dropPostgresqlDatabases(server, prefix);
  return [...orphans];
}

/** A prefix for one test run's databases (`npm start`s inside the run get it as EMBEDDED_POSTGRESQL_DB_PREFIX). */
export function runDatabasePrefix(env: NodeJS.ProcessEnv = process.env): string {
  return `${embeddedStoreSettings(env).databasePrefix}run_${process.pid}_${randomBytes(3).toString('hex')}_`;
}
