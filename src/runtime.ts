// Builds the service's parts from a validated Config: the embedded local stack where no external
// server was given, the Evrotrust client and key, MongoDB, Temporal connections and the activities.
// Shared by `src/main.ts` (everything) and `src/worker-main.ts` (the worker alone).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createActivities, type Activities } from '../activities';
import type { Config } from './config';
import { createEvrotrustClient, type EvrotrustClient } from './evrotrust/client';
import { loadOrCreatePrivateKey, readPrivateKey, type KeyPair } from './evrotrust/keys';
import { connectMongo, ensureIndexes, type MongoHandle } from './store/mongo';
import { startSimulator, SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER, type Simulator } from './simulator';
import { startFerretDb, startTemporal, type ManagedServer } from '../scripts/lib/stack';

export interface Runtime {
  config: Config;
  mongo: MongoHandle;
  temporalConnection: Connection;
  temporal: Client;
  workerConnection: NativeConnection;
  evrotrust: EvrotrustClient;
  keys: KeyPair;
  activities: Activities;
  apiToken: string;
  simulator?: Simulator;
  temporalUiUrl?: string;
  /** Stops what this runtime started, in reverse order. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Start the embedded Temporal/FerretDB/simulator where the config names none (npm start). */
  embedded: boolean;
  log?: (line: string) => void;
  /** Ports of the embedded servers; the defaults are the ones the README lists. */
  ports?: Partial<EmbeddedPorts>;
}

export interface EmbeddedPorts {
  temporal: number;
  temporalUi: number;
  mongodb: number;
  simulator: number;
}

export const DEFAULT_EMBEDDED_PORTS: EmbeddedPorts = { temporal: 7233, temporalUi: 8233, mongodb: 27017, simulator: 8090 };

/** The sandbox API token: from API_TOKEN, else kept in .data so it survives restarts. */
function sandboxApiToken(dataDir: string): string {
  const file = join(dataDir, 'api-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

export async function startRuntime(config: Config, opts: RuntimeOptions): Promise<Runtime> {
  const log = opts.log ?? (() => {});
  const ports: EmbeddedPorts = { ...DEFAULT_EMBEDDED_PORTS, ...opts.ports };
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const logDir = join(dataDir, 'logs');
  const servers: ManagedServer[] = [];
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    let temporalAddress = config.temporal.address;
    let mongoUri = config.mongodb.uri;
    let temporalUiUrl: string | undefined;
    if (!temporalAddress || !mongoUri) {
      if (!opts.embedded) throw new Error('TEMPORAL_ADDRESS and MONGODB_URI are required for this command');
    }
    const [t, m] = await Promise.all([
      temporalAddress ? undefined : startTemporal({ port: ports.temporal, uiPort: ports.temporalUi, dbFile: join(dataDir, 'temporal.db'), logDir, namespace: config.temporal.namespace }),
      mongoUri ? undefined : startFerretDb({ port: ports.mongodb, dataDir: join(dataDir, 'ferretdb'), logDir }),
    ]);
    if (t) {
      servers.push(t);
      temporalAddress = t.address;
      temporalUiUrl = t.uiUrl;
      log(`Temporal dev server ${t.address} (log ${t.logFile})`);
    }
    if (m) {
      servers.push(m);
      mongoUri = `${m.uri}${config.mongodb.dbName}`;
      log(`FerretDB ${m.uri} (log ${m.logFile})`);
    }

    let simulator: Simulator | undefined;
    let evrotrustBase = config.evrotrust.baseUrl;
    if (config.sandbox && !opts.embedded) {
      evrotrustBase = `http://127.0.0.1:${ports.simulator}/vendor`; // the simulator that `npm start` runs
    } else if (config.sandbox) {
      simulator = await startSimulator({ host: '127.0.0.1', port: ports.simulator, stateDir: join(dataDir, 'simulator') });
      closers.push(() => simulator!.close());
      evrotrustBase = simulator.vendorBaseUrl;
    }
    const keys = config.sandbox
      ? await loadOrCreatePrivateKey(config.evrotrust.privateKeyFile ?? join(dataDir, 'evrotrust-private-key.pem'))
      : await readPrivateKey(config.evrotrust.privateKeyFile as string);
    const apiToken = config.apiToken ?? sandboxApiToken(dataDir);

    const mongo = await connectMongo(mongoUri as string, config.mongodb.dbName);
    closers.push(() => mongo.close());
    await ensureIndexes(mongo.db);

    const temporalConnection = await Connection.connect({ address: temporalAddress });
    closers.push(() => temporalConnection.close());
    const temporal = new Client({ connection: temporalConnection, namespace: config.temporal.namespace });
    const workerConnection = await NativeConnection.connect({ address: temporalAddress });
    closers.push(() => workerConnection.close());

    const evrotrust = createEvrotrustClient({
      baseUrl: evrotrustBase as string,
      vendorNumber: config.evrotrust.vendorNumber ?? SANDBOX_VENDOR_NUMBER,
      apiKey: config.evrotrust.apiKey ?? SANDBOX_API_KEY,
      publicKeyPem: keys.publicKeyPem,
      timeoutMs: 15_000, // below the activities' 20 s start-to-close timeout
      signing: config.evrotrust.signing,
    });
    const activities = createActivities({ db: mongo.db, evrotrust, privateKeyPem: keys.privateKeyPem, publicBaseUrl: config.publicBaseUrl });
    return { config, mongo, temporalConnection, temporal, workerConnection, evrotrust, keys, activities, apiToken, simulator, temporalUiUrl, close };
  } catch (err) {
    await close();
    throw err;
  }
}
