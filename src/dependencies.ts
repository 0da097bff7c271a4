// Opens what the service's parts share, from a validated Config: MongoDB, the Temporal connections,
// the Evrotrust client and key, and the activities. Production code only: every server is reached at
// an address (the configuration's, or one `npm start` put in `endpoints` after starting its embedded
// stack in scripts/). Shared by src/run.ts (every role: main.ts, api-main.ts, worker-main.ts) and the drills' service.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { createActivities, type Activities } from '../activities';
import type { Config } from './config';
import { createEvrotrustClient, type EvrotrustClient } from './evrotrust/client';
import { loadOrCreatePrivateKey, readPrivateKey, type KeyPair } from './evrotrust/keys';
import { SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER } from './evrotrust/sandbox';
import { connectMongo, ensureIndexes, type MongoHandle } from './store/mongo';
import { createLogger, evrotrustLogger, type Logger } from './log';
import { createTracing, type Tracing } from './telemetry/tracing';
import { TemporalConnectError, temporalConnectOptions } from './temporal/connection';
import { generateSecret, secretKey } from './notify/signature';

export interface Dependencies {
  config: Config;
  mongo: MongoHandle;
  temporalConnection: Connection;
  temporal: Client;
  /** Only where a worker runs (role all or worker); the api role never loads the worker's native runtime. */
  workerConnection: NativeConnection | undefined;
  evrotrust: EvrotrustClient;
  keys: KeyPair;
  activities: Activities;
  apiToken: string;
  /**
   * The secret final-state notifications are signed with: NOTIFY_SECRET, else in sandbox mode the one
   * kept in `file` (generated on first use); undefined: none, and starts with a notifyUrl are refused.
   */
  notifySecret: { secret: string; file?: string } | undefined;
  /** The process's logger (src/log.ts): the HTTP server, relay, reconciler and Evrotrust calls log through it. */
  logger: Logger;
  /** Client and worker interceptors; off (no-ops) unless OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  tracing: Tracing;
  /** Closes what was opened, in reverse order. */
  close(): Promise<void>;
}

/** Addresses that override the configuration's (npm start's embedded servers). */
export interface Endpoints {
  temporalAddress?: string;
  mongoUri?: string;
  /** The vendor API base, e.g. http://127.0.0.1:8090/vendor. */
  evrotrustBaseUrl?: string;
}

export class MissingEndpointError extends Error {
  constructor(readonly variables: string[]) {
    super(`${variables.join(' and ')} required: this command runs no embedded servers (npm start does)`);
    this.name = 'MissingEndpointError';
  }
}

/** The sandbox API token: from API_TOKEN, else kept in DATA_DIR so it survives restarts. */
function sandboxApiToken(dataDir: string): string {
  const file = join(dataDir, 'api-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** The sandbox's webhook secret: kept in DATA_DIR so receivers keep verifying across restarts. */
export function sandboxNotifySecret(dataDir: string): { secret: string; file: string } {
  const file = join(dataDir, 'notify-secret');
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    secretKey(secret); // a hand-edited file that is no longer a secret stops the start, saying so
    return { secret, file };
  }
  const secret = generateSecret();
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return { secret, file };
}

export interface OpenOptions {
  /** Open the worker's NativeConnection (default true); the api role, which runs no worker, passes false. */
  worker?: boolean;
  /** The process's logger when the caller made one already (to install Temporal's Runtime with it first). */
  logger?: Logger;
}

export async function openDependencies(config: Config, endpoints: Endpoints = {}, options: OpenOptions = {}): Promise<Dependencies> {
  const temporalAddress = endpoints.temporalAddress ?? config.temporal.address;
  const mongoUri = endpoints.mongoUri ?? config.mongodb.uri;
  const missing = [temporalAddress ? null : 'TEMPORAL_ADDRESS (or TEMPORAL_PROFILE)', mongoUri ? null : 'MONGODB_URI'].filter(
    (v): v is string => v !== null,
  );
  if (!temporalAddress || !mongoUri) throw new MissingEndpointError(missing);
  const evrotrustBaseUrl = endpoints.evrotrustBaseUrl ?? config.evrotrust.baseUrl ?? `${config.sandboxSimulatorUrl}/vendor`;

  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  const logger = options.logger ?? createLogger({ format: config.observability.logFormat, level: config.observability.logLevel });
  try {
    const tracing = await createTracing({
      serviceName: config.observability.serviceName,
      ...(config.observability.otlpEndpoint ? { otlpEndpoint: config.observability.otlpEndpoint } : {}),
    });
    closers.push(() => tracing.shutdown()); // last: flushes the spans of everything closed before it
    const keys = config.sandbox
      ? await loadOrCreatePrivateKey(config.evrotrust.privateKeyFile ?? join(dataDir, 'evrotrust-private-key.pem'))
      : await readPrivateKey(config.evrotrust.privateKeyFile as string);
    const apiToken = config.apiToken ?? sandboxApiToken(dataDir);
    const notifySecret = config.notify.secret
      ? { secret: config.notify.secret }
      : config.sandbox
        ? sandboxNotifySecret(dataDir)
        : undefined;

    const mongo = await connectMongo(mongoUri, config.mongodb.dbName);
    closers.push(() => mongo.close());
    await ensureIndexes(mongo.db);

    // TLS, API key and headers as configured (src/temporal/connection.ts); an embedded server has none.
    // The worker's connection first: it names a TLS failure at once (an unknown CA, say), where the
    // client's waits for its connect timeout and says only that the deadline passed.
    const temporalOptions = temporalConnectOptions(config.temporal, temporalAddress);
    const unreachable = (err: unknown) => new TemporalConnectError(config.temporal, temporalAddress, err);
    let workerConnection: NativeConnection | undefined;
    if (options.worker !== false) {
      // Loaded only here: @temporalio/worker brings the SDK's native runtime (~20 MB resident).
      const { NativeConnection } = await import('@temporalio/worker');
      const connection = await NativeConnection.connect(temporalOptions).catch((err: unknown) => Promise.reject(unreachable(err)));
      closers.push(() => connection.close());
      workerConnection = connection;
    }
    const temporalConnection = await Connection.connect(temporalOptions).catch((err: unknown) => Promise.reject(unreachable(err)));
    closers.push(() => temporalConnection.close());
    const temporal = new Client({
      connection: temporalConnection,
      namespace: config.temporal.namespace,
      interceptors: tracing.clientInterceptors,
    });

    const evrotrust = createEvrotrustClient({
      baseUrl: evrotrustBaseUrl,
      vendorNumber: config.evrotrust.vendorNumber ?? SANDBOX_VENDOR_NUMBER,
      apiKey: config.evrotrust.apiKey ?? SANDBOX_API_KEY,
      publicKeyPem: keys.publicKeyPem,
      timeoutMs: 15_000, // below the activities' 20 s start-to-close timeout
      signing: config.evrotrust.signing,
      maxDownloadBytes: config.downloadLimits.maxDownloadBytes,
      logger: evrotrustLogger(logger), // endpoint, status or error code, duration: never bodies or personal data
    });
    const activities = createActivities({
      db: mongo.db,
      evrotrust,
      privateKeyPem: keys.privateKeyPem,
      publicBaseUrl: config.publicBaseUrl,
      downloadLimits: config.downloadLimits,
      ...(notifySecret ? { notify: { secret: notifySecret.secret } } : {}),
    });
    return {
      config,
      mongo,
      temporalConnection,
      temporal,
      workerConnection,
      evrotrust,
      keys,
      activities,
      apiToken,
      notifySecret,
      logger,
      tracing,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
