// Assembles the simulator: the engine (state and behaviour), the fault injector, the controls,
// and the Fastify app with its three route groups (vendor API, /sim/api controls, signer page).

import Fastify, { type FastifyInstance } from 'fastify';
import { createControls, type SimulatorControls } from './controls';
import { FaultInjector } from './faults';
import { resolveOptions, type ResolvedOptions, type SimulatorOptions } from './options';
import { controlRoutes } from './routes/controls';
import { pageRoutes } from './routes/page';
import { vendorRoutes } from './routes/vendor';
import { SimulatorEngine } from './engine';

export interface SimulatorApp {
  /** Not listening yet: call `listen`, or use `inject` in tests. `close()` stops timers and callbacks too. */
  app: FastifyInstance;
  controls: SimulatorControls;
  options: ResolvedOptions;
}

export async function buildSimulatorApp(options: SimulatorOptions = {}): Promise<SimulatorApp> {
  const resolved = resolveOptions(options);
  const engine = new SimulatorEngine(resolved);
  const faults = new FaultInjector();
  const controls = createControls(engine, faults);
  const closing = new AbortController();

  // Uploads are bounded by maxFileBytes in the multipart reader; JSON bodies are small.
  // forceCloseConnections: close() must not wait for clients' keep-alive sockets (Node does not count a
  // socket whose request was cut short by the client, or answered before its body was read, as idle).
  const app = Fastify({ logger: resolved.logger, bodyLimit: 1024 * 1024, forceCloseConnections: true });
  // preClose, not onClose: injected hangs and callback retries must end before the server waits for requests.
  app.addHook('preClose', async () => {
    closing.abort();
    await engine.close();
  });

  await app.register(vendorRoutes, {
    prefix: '/vendor',
    engine,
    faults,
    vendorNumber: resolved.vendorNumber,
    apiKey: resolved.apiKey,
    maxFileBytes: resolved.maxFileBytes,
    closing: closing.signal,
  });
  await app.register(controlRoutes, {
    prefix: '/sim/api',
    controls,
    info: {
      vendorNumber: resolved.vendorNumber,
      callbackSourceAddress: resolved.callbackSourceAddress,
      processingMs: resolved.processingMs,
      maxFileBytes: resolved.maxFileBytes,
      withdrawCallbacks: resolved.withdrawCallbacks,
    },
  });
  await app.register(pageRoutes);

  engine.resume();
  return { app, controls, options: resolved };
}
