// `npm start`'s embedded stack: the Temporal dev server, FerretDB and the Evrotrust simulator, each
// started only where the configuration names no server of its own (CONTRACT "Embedded defaults").
// Development only: production code never imports this file (eslint.config.mjs enforces it).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../src/config';
import type { Endpoints } from '../src/dependencies';
import { startSimulator, type Simulator } from '../simulator';
import { startTemporal, type ManagedServer } from './lib/stack';
import { startPersistentStore } from './lib/ferret-store';

export interface EmbeddedPorts {
  temporal: number;
  temporalUi: number;
  mongodb: number;
  simulator: number;
}

export const DEFAULT_EMBEDDED_PORTS: EmbeddedPorts = { temporal: 7233, temporalUi: 8233, mongodb: 27017, simulator: 8090 };

export interface EmbeddedStack {
  /** The addresses of what was started, for openDependencies. */
  endpoints: Endpoints;
  temporalUiUrl?: string;
  simulator?: Simulator;
  /** Stops what was started; returns once the servers exited and freed their ports. */
  close(): Promise<void>;
}

export async function startEmbeddedStack(config: Config, ports: EmbeddedPorts, log: (line: string) => void): Promise<EmbeddedStack> {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const logDir = join(dataDir, 'logs');
  const servers: ManagedServer[] = [];
  let simulator: Simulator | undefined;
  const close = async () => {
    if (simulator) await simulator.close().catch(() => {});
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    const endpoints: Endpoints = {};
    const [t, m] = await Promise.all([
      config.temporal.address
        ? undefined
        : startTemporal({
            port: ports.temporal,
            uiPort: ports.temporalUi,
            dbFile: join(dataDir, 'temporal.db'),
            logDir,
            namespace: config.temporal.namespace,
          }),
      config.mongodb.uri ? undefined : startPersistentStore({ port: ports.mongodb, dataDir: join(dataDir, 'ferretdb'), logDir }),
    ]);
    if (t) {
      servers.push(t);
      endpoints.temporalAddress = t.address;
      log(`Temporal dev server ${t.address} (log ${t.logFile})`);
    }
    if (m) {
      servers.push(m);
      endpoints.mongoUri = `${m.uri}${config.mongodb.dbName}`;
      log(`FerretDB ${m.uri} on ${m.backend}: ${m.reason} (log ${m.logFile})`);
    }
    if (config.sandbox) {
      simulator = await startSimulator({ host: '127.0.0.1', port: ports.simulator, stateDir: join(dataDir, 'simulator') });
      endpoints.evrotrustBaseUrl = simulator.vendorBaseUrl;
    }
    return { endpoints, temporalUiUrl: t?.uiUrl, simulator, close };
  } catch (err) {
    await close();
    throw err;
  }
}
