// The drills: each one a fault, injected mid-burst into a batch of signings on the real stack.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { Client, Connection } from '@temporalio/client';
import { SIGNING_WORKFLOW_TYPE } from '../../workflows/definitions';
import { freePort } from '../lib/stack';
import { ApiClient, SimControls } from './clients';
import { runBatch, type BatchOptions, type DrillResult, type DrillTargets } from './batch';
import { API_TOKEN, PARTS, type DrillStack, type Part } from './stack';
import { EVROTRUST_ENDPOINTS } from '../../src/evrotrust/errors';
import { SigningStore } from '../../src/signings/store';
import { finalStateMessageId } from '../../src/notify/event';
import { startNotifyReceiver } from './notify-receiver';

export interface DrillContext {
  stack: DrillStack;
  targets: DrillTargets;
  workDir: string;
  log: (line: string) => void;
}

export interface Drill {
  name: string;
  what: string;
  run(ctx: DrillContext): Promise<DrillResult>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const BATCH = 20;
const COMMON = { size: BATCH, expireIn: '40s', deadlineMs: 150_000 } as const;

function batch(ctx: DrillContext, name: string, extra: Partial<BatchOptions>): Promise<DrillResult> {
  return runBatch(ctx.targets, { ...COMMON, drill: name, log: ctx.log, ...extra });
}

/** SIGKILL the parts, keep them down for `downMs`, start them again. */
function crash(ctx: DrillContext, parts: readonly Part[], downMs: number): () => Promise<string> {
  return async () => {
    await Promise.all(parts.map((p) => ctx.stack.kill(p, 'SIGKILL')));
    ctx.log(`SIGKILLed ${parts.join(', ')}; down for ${downMs / 1000} s`);
    await sleep(downMs);
    const started = Date.now();
    await ctx.stack.ensureAll();
    ctx.log(`restarted in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return `SIGKILL ${parts.join('+')}, ${downMs / 1000} s down, restart`;
  };
}

/** Every call to `endpoints` answers `status` for `windowMs`, then Evrotrust is well again. */
function vendorWindow(ctx: DrillContext, status: number, endpoints: readonly string[], windowMs: number): () => Promise<string> {
  return async () => {
    for (const e of endpoints) await ctx.targets.sim.failNext(e, { status, count: 100_000 });
    ctx.log(`Evrotrust answers ${status} on ${endpoints.length} endpoints`);
    await sleep(windowMs);
    await ctx.targets.sim.clearFaults();
    ctx.log(`Evrotrust well again`);
    return `${status} on ${endpoints.length === EVROTRUST_ENDPOINTS.length ? 'every endpoint' : endpoints.join(', ')} for ${windowMs / 1000} s`;
  };
}

const TX_ENDPOINTS = ['/document/status', '/document/download', '/document/withdraw'];

/** Terminates every running signing workflow, as an operator pressing Terminate in the Web UI would. */
function terminateAll(ctx: DrillContext): () => Promise<string> {
  return async () => {
    const connection = await Connection.connect({ address: `127.0.0.1:${ctx.stack.ports.temporal}` });
    try {
      const client = new Client({ connection });
      let n = 0;
      for await (const wf of client.workflow.list({ query: `WorkflowType="${SIGNING_WORKFLOW_TYPE}" AND ExecutionStatus="Running"` })) {
        await client.workflow
          .getHandle(wf.workflowId)
          .terminate('drill: operator pressed Terminate')
          .catch(() => undefined);
        n += 1;
      }
      ctx.log(`terminated ${n} running signing workflows`);
      return `${n} running workflows terminated`;
    } finally {
      await connection.close();
    }
  };
}

export const DRILLS: Drill[] = [
  {
    name: 'worker-kill',
    what: 'the worker process is SIGKILLed twice mid-burst (5 s down each time) and restarted',
    run: (ctx) =>
      batch(ctx, 'worker-kill', {
        fault: async () => {
          await crash(ctx, ['worker'], 5000)();
          await sleep(4000);
          await crash(ctx, ['worker'], 5000)();
          return 'worker SIGKILL ×2, 5 s down each';
        },
      }),
  },
  {
    name: 'temporal-kill',
    what: 'the Temporal dev server is SIGKILLed mid-burst, down 8 s, restarted on its database file',
    run: (ctx) => batch(ctx, 'temporal-kill', { fault: crash(ctx, ['temporal'], 8000) }),
  },
  {
    name: 'ferretdb-kill',
    what: 'FerretDB is SIGKILLed mid-burst, down 8 s, restarted on its SQLite files',
    run: (ctx) => batch(ctx, 'ferretdb-kill', { fault: crash(ctx, ['ferretdb'], 8000) }),
  },
  {
    name: 'power-loss',
    what: 'everything (service, worker, simulator, Temporal, FerretDB) SIGKILLed at once mid-burst, then all restarted',
    run: (ctx) => batch(ctx, 'power-loss', { fault: crash(ctx, PARTS, 3000) }),
  },
  {
    name: 'evrotrust-5xx',
    what: 'Evrotrust answers 503 on every endpoint for 15 s mid-burst',
    run: (ctx) => batch(ctx, 'evrotrust-5xx', { fault: vendorWindow(ctx, 503, EVROTRUST_ENDPOINTS, 15_000) }),
  },
  {
    name: 'evrotrust-443',
    what: 'Evrotrust answers 443 (unknown transaction) on status, download and withdraw for 15 s mid-burst',
    run: (ctx) => batch(ctx, 'evrotrust-443', { fault: vendorWindow(ctx, 443, TX_ENDPOINTS, 15_000) }),
  },
  {
    name: 'evrotrust-401',
    what: 'Evrotrust answers 401 (as after an API-key rotation) on every endpoint for 15 s mid-burst',
    run: (ctx) => batch(ctx, 'evrotrust-401', { fault: vendorWindow(ctx, 401, EVROTRUST_ENDPOINTS, 15_000) }),
  },
  {
    name: 'terminate',
    what: 'every running signing workflow terminated mid-burst (as from the Web UI); the reconciler must start new runs',
    run: (ctx) => batch(ctx, 'terminate', { fault: terminateAll(ctx) }),
  },
  {
    name: 'callbacks',
    what: 'callbacks of a third of the signings dropped, a third delivered ×3, a third delayed 1–8 s (reordered)',
    run: async (ctx) => {
      const seen = { drop: 0, duplicate: 0, delay: 0 };
      const result = await batch(ctx, 'callbacks', {
        beforeAct: async (tx, index) => {
          const kind = (['drop', 'duplicate', 'delay'] as const)[index % 3] as 'drop' | 'duplicate' | 'delay';
          seen[kind] += 1;
          const behavior =
            kind === 'drop'
              ? { mode: 'drop' as const }
              : kind === 'duplicate'
                ? { mode: 'duplicate' as const, copies: 3 }
                : { mode: 'delay' as const, delayMs: 1000 + ((index * 2311) % 7000) };
          await ctx.targets.sim.callbackBehavior(tx.transactionID, behavior);
        },
      });
      result.faults = `callbacks: ${seen.drop} dropped, ${seen.duplicate} ×3, ${seen.delay} delayed 1–8 s`;
      return result;
    },
  },
  {
    name: 'notify-ferretdb-kill',
    what: 'every signing names a notifyUrl; FerretDB is SIGKILLed (8 s down) once notifications arrive, while the rest are being sent and recorded',
    run: (ctx) => notifyDrill(ctx),
  },
  {
    name: 'ctrl-c',
    what: '`npm start` (embedded stack) gets SIGINT twice on its process group mid-burst, as a terminal and npm deliver one Ctrl-C, then `npm start` again at once',
    run: (ctx) => ctrlCDrill(ctx),
  },
];

const running = new Set<NpmStart>();

/** Harness exit (any path but SIGKILL): SIGKILL every `npm start` group still up; their guards stop their servers. */
export function killNpmStarts(): void {
  for (const n of running) n.signal('SIGKILL');
  running.clear();
}

/** `npm start` on free ports in a data directory of its own, in its own process group like a terminal's job. */
class NpmStart {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
    private readonly url: string,
  ) {}

  async start(): Promise<void> {
    const fd = openSync(this.logFile, 'a');
    this.child = spawn('npm', ['start', '--silent'], {
      cwd: join(__dirname, '..', '..'),
      env: this.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const child = this.child;
    running.add(this);
    this.exited = new Promise((res) =>
      child.once('exit', (code) => {
        running.delete(this);
        res(code);
      }),
    );
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}) during start-up; see ${this.logFile}`);
      const ok = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await sleep(300);
    }
    throw new Error(`npm start not healthy within 90 s; see ${this.logFile}`);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.child?.pid && this.child.exitCode === null) {
      try {
        process.kill(-this.child.pid, sig);
      } catch {
        // gone
      }
    }
  }

  async waitExit(ms: number): Promise<number | null | 'timeout'> {
    if (!this.exited) return null;
    return Promise.race([this.exited, sleep(ms).then(() => 'timeout' as const)]);
  }
}

async function ctrlCDrill(ctx: DrillContext): Promise<DrillResult> {
  const dir = join(ctx.workDir, 'npm-start');
  mkdirSync(dir, { recursive: true });
  const [port, temporal, ui, mongodb, simulator] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: join(dir, 'data'),
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    API_TOKEN,
    SIGNING_POLL_INTERVAL: '5s',
    SIGNING_DEFAULT_EXPIRY: '5m',
    SIGNING_EXPIRY_GRACE: '20s',
    EMBEDDED_TEMPORAL_PORT: String(temporal),
    EMBEDDED_TEMPORAL_UI_PORT: String(ui),
    EMBEDDED_MONGODB_PORT: String(mongodb),
    EMBEDDED_SIMULATOR_PORT: String(simulator),
    LOG_LEVEL: 'warn',
    // Not the fixed default port 9464: runs beside a developer's npm start and other test runs.
    WORKER_METRICS_ADDRESS: 'off',
  };
  // A fresh clone's `npm start`: nothing external configured, so sandbox mode without choosing it.
  for (const k of ['MONGODB_URI', 'EVROTRUST_BASE_URL', 'EVROTRUST_SANDBOX', 'NODE_ENV']) delete env[k];
  // Any Temporal setting (TEMPORAL_PROFILE, TEMPORAL_API_KEY, …) would configure or refuse an external one.
  for (const k of Object.keys(env)) if (k.startsWith('TEMPORAL_')) delete env[k];
  const url = `http://127.0.0.1:${port}`;
  mkdirSync(join(ctx.workDir, 'logs'), { recursive: true });
  const logFile = join(ctx.workDir, 'logs', 'npm-start.log');
  let current = new NpmStart(env, logFile, url);
  const checks: string[] = [];
  const mongo = new MongoClient(`mongodb://127.0.0.1:${mongodb}/evrotrust`, { serverSelectionTimeoutMS: 2000 });
  try {
    await current.start();
    const targets: DrillTargets = {
      api: new ApiClient(() => url, API_TOKEN),
      sim: new SimControls(() => `http://127.0.0.1:${simulator}`),
      db: mongo.db('evrotrust'),
    };
    const result = await runBatch(targets, {
      ...COMMON,
      drill: 'ctrl-c',
      log: ctx.log,
      fault: async () => {
        current.signal('SIGINT'); // the terminal's, to the whole foreground group…
        await sleep(30);
        current.signal('SIGINT'); // …and npm's forwarded copy
        const code = await current.waitExit(45_000);
        ctx.log(`npm start returned ${code}`);
        if (code === 'timeout') current.signal('SIGKILL');
        // The stop itself is under test: one Ctrl-C must give a complete, clean stop.
        if (code !== 0) checks.push(`the doubled SIGINT did not give a clean stop (npm start exit ${code}; see ${logFile})`);
        current = new NpmStart(env, logFile, url);
        const started = Date.now();
        await current.start(); // at once, as a user at the prompt would
        ctx.log(`npm start up again in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return `SIGINT ×2 to npm's group (stop exit ${code}), immediate npm start`;
      },
    });
    result.checks.push(...checks);
    return result;
  } finally {
    current.signal('SIGINT');
    if ((await current.waitExit(40_000)) === 'timeout') current.signal('SIGKILL');
    await mongo.close().catch(() => {});
  }
}

/**
 * Notifications across a store outage: the receiver gets each final state at least once, signed,
 * always under the signing's one webhook-id, and each signing's history records one delivery. A
 * POST that landed just before FerretDB died is sent again (its record failed): at least once, never
 * lost, and a receiver deduplicates by webhook-id.
 */
async function notifyDrill(ctx: DrillContext): Promise<DrillResult> {
  const receiver = await startNotifyReceiver();
  try {
    let before = 0;
    const result = await batch(ctx, 'notify-ferretdb-kill', {
      notifyUrl: receiver.url,
      faultAt: 0.2,
      fault: async () => {
        const until = Date.now() + 60_000;
        while (receiver.deliveries.length < 2 && Date.now() < until) await sleep(100);
        before = receiver.deliveries.length;
        await crash(ctx, ['ferretdb'], 8000)();
        return '';
      },
    });
    const store = new SigningStore(ctx.targets.db);
    const finals = (await store.getMany(result.signingIds ?? [])).filter((d) => d.status !== 'pending');
    // Retries back off (5 s, doubling): give the last ones time to land and be recorded.
    const deadline = Date.now() + 120_000;
    let delivered = new Map<string, number>();
    for (;;) {
      const events = await store.histories(finals.map((d) => d._id)).catch(() => []);
      delivered = new Map();
      for (const e of events) if (e.type === 'notification-delivered') delivered.set(e.signingId, (delivered.get(e.signingId) ?? 0) + 1);
      if (delivered.size === finals.length || Date.now() > deadline) break;
      await sleep(1000);
    }
    const received = receiver.deliveries;
    const unverified = received.filter((d) => !d.verified).length;
    if (unverified > 0) result.checks.push(`${unverified} deliveries whose signature did not verify`);
    let repeated = 0;
    for (const doc of finals) {
      const mine = received.filter((d) => d.signingId === doc._id);
      if (mine.length === 0) result.checks.push(`signing ${doc._id} (${doc.status}): no notification received`);
      if (mine.length > 1) repeated += 1;
      if (mine.some((d) => d.webhookId !== finalStateMessageId(doc._id)))
        result.checks.push(`signing ${doc._id}: a delivery under another webhook-id`);
      if (mine.some((d) => d.type !== `signing.${doc.status}`)) result.checks.push(`signing ${doc._id}: a delivery of another state`);
      const n = delivered.get(doc._id) ?? 0;
      if (n !== 1) result.checks.push(`signing ${doc._id}: ${n} notification-delivered events, expected 1`);
    }
    result.faults =
      `FerretDB SIGKILL after ${before} notifications, 8 s down; ${received.length} deliveries for ${finals.length} final signings, ` +
      `${repeated} of them received more than once (same webhook-id)`;
    return result;
  } finally {
    await receiver.close();
  }
}
