// `npm start`: the embedded stack where the configuration names no server (Temporal dev server,
// FerretDB, the Evrotrust simulator), then the whole service on it (src/run.ts).
import { loadConfigOrExit } from '../src/config';
import { runService } from '../src/run';
import { describeTemporalConnection } from '../src/temporal/connection';
import { DEFAULT_EMBEDDED_PORTS, startEmbeddedStack, type EmbeddedPorts } from './embedded-stack';

// Test-only knobs: the embedded servers' fixed ports, so a test or a drill can run `npm start`
// beside a developer's own without fighting over 7233/8233/27017/8090.
const PORT_VARS: Record<keyof EmbeddedPorts, string> = {
  temporal: 'EMBEDDED_TEMPORAL_PORT',
  temporalUi: 'EMBEDDED_TEMPORAL_UI_PORT',
  mongodb: 'EMBEDDED_MONGODB_PORT',
  simulator: 'EMBEDDED_SIMULATOR_PORT',
};

function embeddedPortsOrExit(env: NodeJS.ProcessEnv): EmbeddedPorts {
  const ports = { ...DEFAULT_EMBEDDED_PORTS };
  for (const [key, name] of Object.entries(PORT_VARS) as [keyof EmbeddedPorts, string][]) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
      console.error(`${name}: expected a port number 1-65535`);
      process.exit(1);
    }
    ports[key] = Number(raw);
  }
  return ports;
}

// Logs for a person at a terminal, unless chosen otherwise (production entry points default to JSON).
process.env.LOG_FORMAT ||= 'pretty';
const ports = embeddedPortsOrExit(process.env);
const loaded = loadConfigOrExit();
// The signings page links to each workflow in the embedded Temporal's Web UI, unless told otherwise.
const config =
  loaded.temporalUiUrl || loaded.temporal.address ? loaded : { ...loaded, temporalUiUrl: `http://127.0.0.1:${ports.temporalUi}` };
runService(config, {
  role: 'all',
  prepare: async () => {
    const stack = await startEmbeddedStack(config, ports, (l) => console.log(`[start] ${l}`));
    return {
      endpoints: stack.endpoints,
      banner: {
        temporal: config.temporal.address
          ? describeTemporalConnection(config.temporal)
          : `${stack.endpoints.temporalAddress}${stack.temporalUiUrl ? `   Web UI ${stack.temporalUiUrl}` : ''}`,
        mongodb: config.mongodb.uri ? '(MONGODB_URI)' : `mongodb://127.0.0.1:${ports.mongodb}/${config.mongodb.dbName}`,
        evrotrust: stack.simulator
          ? `simulator ${stack.simulator.vendorBaseUrl}   signer's phone ${stack.simulator.url}/`
          : config.evrotrust.baseUrl,
      },
      close: stack.close,
    };
  },
});
