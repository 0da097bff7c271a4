// The real local stack for the fault drills, every part its own OS process so that each can be
// SIGKILLed and restarted: Temporal dev server and FerretDB (persistent files, so a restart keeps
// state), the Evrotrust simulator (state dir), the service (API + relay) and the worker.
// Every process runs under scripts/lib/guard.cjs, so all of them die with the harness, even when
// the harness itself is SIGKILLed. Loopback addresses only.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, launch, startFerretDb, startTemporal, waitForFreePort, type ManagedServer } from '../lib/stack';
import { generateKeyPair } from '../../src/evrotrust/keys';
import { SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER } from '../../simulator/defaults';
import { DRILL_NOTIFY_SECRET } from './notify-receiver';

export type Part = 'temporal' | 'ferretdb' | 'simulator' | 'service' | 'worker';
export const PARTS: readonly Part[] = ['temporal', 'ferretdb', 'simulator', 'service', 'worker'];

const ROOT = join(__dirname, '..', '..');
export const API_TOKEN = 'drill-token-drill-token-drill';

export interface DrillSettings {
  /** SIGNING_POLL_INTERVAL of the service and worker. */
  pollInterval: string;
  /** SIGNING_DEFAULT_EXPIRY: long enough that a fault window never expires a signing by accident. */
  defaultExpiry: string;
}

export class DrillStack {
  readonly ports = { temporal: 0, mongodb: 0, simulator: 0, api: 0 };
  private readonly parts = new Map<Part, ManagedServer>();
  private readonly logDir: string;

  constructor(
    readonly workDir: string,
    private readonly settings: DrillSettings,
  ) {
    this.logDir = join(workDir, 'logs');
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.ports.api}`;
  }
  get simUrl(): string {
    return `http://127.0.0.1:${this.ports.simulator}`;
  }
  get mongoUri(): string {
    return `mongodb://127.0.0.1:${this.ports.mongodb}/drills`;
  }
  logFile(part: Part): string {
    return join(this.logDir, `${part}.log`);
  }

  async start(): Promise<void> {
    mkdirSync(this.logDir, { recursive: true });
    const [t, m, s, a] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    Object.assign(this.ports, { temporal: t, mongodb: m, simulator: s, api: a });
    const keyFile = join(this.workDir, 'evrotrust-private-key.pem');
    if (!existsSync(keyFile)) writeFileSync(keyFile, (await generateKeyPair()).privateKeyPem, { mode: 0o600 });
    await Promise.all([this.startPart('temporal'), this.startPart('ferretdb'), this.startPart('simulator')]);
    await this.startPart('service');
    await this.startPart('worker');
  }

  isUp(part: Part): boolean {
    return this.parts.has(part);
  }

  /** SIGKILL: no goodbye, exactly what a crash or power loss looks like to the others. */
  async kill(part: Part, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.parts.get(part);
    this.parts.delete(part);
    await p?.kill(signal);
  }

  async startPart(part: Part): Promise<void> {
    if (this.parts.has(part)) return;
    const server = await this.launchPart(part);
    this.parts.set(part, server);
  }

  /** Starts every part that is not running, in dependency order. */
  async ensureAll(): Promise<void> {
    await Promise.all((['temporal', 'ferretdb', 'simulator'] as const).map((p) => this.startPart(p)));
    await this.startPart('service');
    await this.startPart('worker');
  }

  /** Stops everything; never throws, so it can run from any failure path. */
  async stopAll(): Promise<void> {
    for (const part of ['worker', 'service', 'simulator'] as const) await this.kill(part, 'SIGTERM').catch(() => {});
    await Promise.all((['temporal', 'ferretdb'] as const).map((p) => this.kill(p, 'SIGTERM').catch(() => {})));
  }

  /** Synchronous last resort (process 'exit'): SIGKILL every group we lead. */
  killAllNow(): void {
    for (const p of this.parts.values()) void p.kill('SIGKILL');
    this.parts.clear();
  }

  private serviceEnv(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      EVROTRUST_TOOLS_DIR: process.env.EVROTRUST_TOOLS_DIR,
      TEMPORAL_ADDRESS: `127.0.0.1:${this.ports.temporal}`,
      MONGODB_URI: this.mongoUri,
      EVROTRUST_BASE_URL: `${this.simUrl}/vendor`,
      EVROTRUST_VENDOR_NUMBER: SANDBOX_VENDOR_NUMBER,
      EVROTRUST_API_KEY: SANDBOX_API_KEY,
      EVROTRUST_PRIVATE_KEY_FILE: join(this.workDir, 'evrotrust-private-key.pem'),
      CALLBACK_ALLOWED_IPS: '127.0.0.1',
      API_TOKEN,
      PUBLIC_BASE_URL: this.apiUrl,
      HOST: '127.0.0.1',
      PORT: String(this.ports.api),
      SIGNING_POLL_INTERVAL: this.settings.pollInterval,
      SIGNING_DEFAULT_EXPIRY: this.settings.defaultExpiry,
      // Read by the fixed workflow once issue 9 lands (ignored before): a short grace keeps drills short.
      SIGNING_EXPIRY_GRACE: '20s',
      RECONCILE_INTERVAL: '10s',
      // Signs the notifications of signings that name a notifyUrl (the notify drill's receiver checks it).
      NOTIFY_SECRET: DRILL_NOTIFY_SECRET,
      DATA_DIR: join(this.workDir, 'service-data'),
      LOG_LEVEL: 'warn',
      // Not the fixed default port 9464: runs beside a developer's npm start and other test runs.
      WORKER_METRICS_ADDRESS: 'off',
    };
  }

  private async launchPart(part: Part): Promise<ManagedServer> {
    const node = process.execPath;
    switch (part) {
      case 'temporal':
        return startTemporal({ port: this.ports.temporal, dbFile: join(this.workDir, 'temporal.db'), logDir: this.logDir });
      case 'ferretdb':
        return startFerretDb({ port: this.ports.mongodb, dataDir: join(this.workDir, 'ferretdb'), logDir: this.logDir });
      case 'simulator': {
        await waitForFreePort('simulator', '127.0.0.1', this.ports.simulator);
        const { child, server } = launch('simulator', node, ['--import', 'tsx', join(ROOT, 'simulator/main.ts')], this.logDir, {
          PATH: process.env.PATH,
          SIMULATOR_PORT: String(this.ports.simulator),
          SIMULATOR_STATE_DIR: join(this.workDir, 'simulator'),
          SIMULATOR_CALLBACK_SOURCE: '127.0.0.1',
          SIMULATOR_CALLBACK_RETRY_DELAY_MS: '1000',
          SIMULATOR_CALLBACK_TIMEOUT_MS: '5000',
        });
        await waitHttp('simulator', `${this.simUrl}/sim/api/info`, () => child.exitCode !== null, this.logFile('simulator'));
        return server;
      }
      case 'service': {
        await waitForFreePort('service', '127.0.0.1', this.ports.api);
        const { child, server } = launch(
          'service',
          node,
          ['--import', 'tsx', join(ROOT, 'scripts/drills/service-main.ts')],
          this.logDir,
          this.serviceEnv(),
        );
        await waitHttp('service', `${this.apiUrl}/healthz`, () => child.exitCode !== null, this.logFile('service'));
        return server;
      }
      case 'worker': {
        const before = existsSync(this.logFile('worker')) ? readFileSync(this.logFile('worker'), 'utf8').length : 0;
        const { child, server } = launch(
          'worker',
          node,
          ['--import', 'tsx', join(ROOT, 'src/worker-main.ts')],
          this.logDir,
          this.serviceEnv(),
        );
        await waitFor('worker', 90_000, () => {
          if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode}); log ${this.logFile('worker')}`);
          return readFileSync(this.logFile('worker'), 'utf8').slice(before).includes('worker polling');
        });
        return server;
      }
    }
  }
}

async function waitFor(what: string, timeoutMs: number, ready: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready within ${timeoutMs / 1000} s`);
}

async function waitHttp(what: string, url: string, exited: () => boolean, logFile: string): Promise<void> {
  await waitFor(what, 60_000, async () => {
    if (exited()) throw new Error(`${what} exited during start-up; log ${logFile}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      return res.ok;
    } catch {
      return false;
    }
  });
}
