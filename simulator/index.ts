// The Evrotrust sandbox simulator: a local stand-in for Evrotrust's vendor API, with test controls
// and a page that plays the signer's phone. See README.md in this folder.

import { buildSimulatorApp } from './app';
import type { SimulatorControls } from './controls';
import type { SimulatorOptions } from './options';

export { SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER } from './defaults';
export { buildSimulatorApp, type SimulatorApp } from './app';
export type { SimulatorOptions } from './options';
export type { CallbackAttempt, CallbackBehavior, CallbackMode, FaultSpec, SimulatorControls, TransactionView, UserFlags } from './controls';

export interface Simulator {
  /** Base URL, e.g. http://127.0.0.1:8090 (the signer page is here). */
  url: string;
  /** The vendor API base to give the client: url + '/vendor'. */
  vendorBaseUrl: string;
  controls: SimulatorControls;
  close(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const { app, controls, options: resolved } = await buildSimulatorApp(options);
  await app.listen({ host: resolved.host, port: resolved.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : resolved.port;
  const url = `http://${urlHost(resolved.host)}:${port}`;
  return {
    url,
    vendorBaseUrl: `${url}/vendor`,
    controls,
    close: async () => {
      await app.close();
    },
  };
}
