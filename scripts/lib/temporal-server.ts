// Temporal Server itself (go.temporal.io/server v1.29.1, the server inside Temporal CLI v1.5.1) on
// PostgreSQL persistence and SQL visibility: the production-shaped Temporal for benchmarks beyond
// what the dev server (one SQLite connection, one history shard) carries. Benchmarks only
// (bench/scale.ts --temporal server); `npm start` and `npm test` keep the dev server.
//
// Its databases are made fresh with Temporal's own schema tool and dropped on stop.
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { ensureSearchAttributes, isPortFree, launch, StackStartError, dropPostgresqlDatabases, type ManagedServer } from './stack';
import { temporalCli, temporalServerBinaries, TEMPORAL_SERVER_VERSION } from './tools';
import { embeddedStoreSettings } from './ferret-store';

/** A free port below 32768: Temporal stores membership ports in a PostgreSQL smallint. */
async function freeSmallintPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await isPortFree('127.0.0.1', port)) return port;
  }
}

export async function startTemporalServerOnPostgres(opts: {
  port: number;
  logDir: string;
  historyShards?: number;
  env?: NodeJS.ProcessEnv;
}): Promise<ManagedServer & { address: string; backend: string }> {
  const settings = embeddedStoreSettings(opts.env);
  if (!settings.postgresqlServer) throw new StackStartError('Temporal Server needs PostgreSQL: EMBEDDED_POSTGRESQL_URL is off');
  const pg = new URL(settings.postgresqlServer);
  const prefix = `${settings.databasePrefix}tserver_${process.pid}_${randomBytes(3).toString('hex')}_`;
  const dbs = { main: `${prefix}temporal`, visibility: `${prefix}visibility` };
  const { server, sqlTool, moduleDir } = await temporalServerBinaries();
  const cli = await temporalCli();

  const sql = (db: string, ...args: string[]) => {
    const r = spawnSync(
      sqlTool,
      [
        '--plugin',
        'postgres12',
        '--ep',
        pg.hostname,
        '-p',
        pg.port || '5432',
        '-u',
        decodeURIComponent(pg.username || 'postgres'),
        '--db',
        db,
        ...args,
      ],
      { encoding: 'utf8', env: { ...process.env, SQL_PASSWORD: decodeURIComponent(pg.password) }, timeout: 120_000 },
    );
    if (r.status !== 0)
      throw new StackStartError(
        `temporal sql tool ${args[0]} on ${db} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}`,
      );
  };
  for (const [db, schema] of [
    [dbs.main, 'temporal'],
    [dbs.visibility, 'visibility'],
  ] as const) {
    sql(db, 'create');
    sql(db, 'setup-schema', '-v', '0.0');
    sql(db, 'update-schema', '-d', join(moduleDir, 'schema', 'postgresql', 'v12', schema, 'versioned'));
  }

  const p = Object.fromEntries(
    await Promise.all(
      ['frontendHttp', 'frontendM', 'history', 'historyM', 'matching', 'matchingM', 'worker', 'workerM'].map(async (k) => [
        k,
        await freeSmallintPort(),
      ]),
    ),
  ) as Record<string, number>;
  const datastore = (db: string, conns: number) => `
      sql:
        pluginName: "postgres12"
        databaseName: "${db}"
        connectAddr: "${pg.hostname}:${pg.port || '5432'}"
        connectProtocol: "tcp"
        user: "${decodeURIComponent(pg.username || 'postgres')}"
        password: "${decodeURIComponent(pg.password)}"
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: "1h"`;
  const cfgDir = join(opts.logDir, 'temporal-server', 'config');
  mkdirSync(cfgDir, { recursive: true });
  writeFileSync(
    join(cfgDir, 'development.yaml'),
    `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: ${opts.historyShards ?? 4}
  datastores:
    default:${datastore(dbs.main, 20)}
    visibility:${datastore(dbs.visibility, 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
services:
  frontend:
    rpc: { grpcPort: ${opts.port}, membershipPort: ${p.frontendM}, bindOnLocalHost: true, httpPort: ${p.frontendHttp} }
  matching:
    rpc: { grpcPort: ${p.matching}, membershipPort: ${p.matchingM}, bindOnLocalHost: true }
  history:
    rpc: { grpcPort: ${p.history}, membershipPort: ${p.historyM}, bindOnLocalHost: true }
  worker:
    rpc: { grpcPort: ${p.worker}, membershipPort: ${p.workerM}, bindOnLocalHost: true }
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${opts.port}"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "${join(moduleDir, 'config', 'dynamicconfig', 'development-sql.yaml')}"
  pollInterval: "10s"
`,
  );
  const { child, server: managed } = launch(
    'temporal-server',
    server,
    ['--root', join(opts.logDir, 'temporal-server'), '--config', 'config', '--env', 'development', 'start'],
    opts.logDir,
  );
  const address = `127.0.0.1:${opts.port}`;
  const stop = async () => {
    await managed.stop();
    await dropPostgresqlDatabases(settings.postgresqlServer as string, prefix).catch(() => {});
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new StackStartError(`Temporal Server exited during start-up (code ${child.exitCode})`, managed.logFile);
    }
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        const r = spawnSync(
          cli,
          ['operator', 'namespace', 'create', '--namespace', 'default', '--retention', '24h', '--address', address],
          { encoding: 'utf8', timeout: 30_000 },
        );
        if (r.status !== 0 && !/already (exists|registered)/i.test(r.stderr)) throw new Error(r.stderr.trim());
        await conn.workflowService.describeNamespace({ namespace: 'default' });
        await ensureSearchAttributes(conn, 'default');
      } finally {
        await conn.close();
      }
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new StackStartError(`Temporal Server did not answer within 120 s: ${String(err)}`, managed.logFile);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return {
    ...managed,
    stop,
    address,
    backend: `Temporal Server ${TEMPORAL_SERVER_VERSION} on PostgreSQL (${opts.historyShards ?? 4} history shards)`,
  };
}
