// The compiled build is what production runs: `npm run build`, then dist/ with production packages
// only, started with plain `node` — no tsx installed, none on PATH, NODE_OPTIONS empty — as the api
// and the worker (two processes, as in docker-compose.yml) and as the all-in-one main.js, against
// this run's Temporal and FerretDB and the simulator. One signing goes all the way through the built
// worker, which runs the pre-built workflow bundle (it has no other way: see the last case).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateKeyPair } from '../../src/evrotrust/keys';
import { TRACED_WORKFLOW_BUNDLE_FILE, WORKFLOW_BUNDLE_FILE } from '../../src/worker-bundle';
import { startSimulator, SANDBOX_API_KEY, SANDBOX_VENDOR_NUMBER, type Simulator } from '../../simulator';
import { freePort } from '../../scripts/lib/stack';
import { testEnv } from '../helpers/stack';
import { pdf, SIGNER_A } from '../helpers/signing-env';
import { waitFor } from '../helpers/wait';

const root = join(__dirname, '..', '..');
const API_TOKEN = 'dist-test-token-0123456789';

interface Started {
  child: ChildProcess;
  output(): string;
}

/** Every .ts file under dir (node_modules aside): none may ship. */
function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : typeScriptFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

describe('the built service (dist/) with plain node and production packages only', () => {
  let app: string;
  let sim: Simulator;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];

  /** `node <entry>` in the app directory with only `env`: no tsx can be reached from there. */
  function startBuilt(entry: string, extra: NodeJS.ProcessEnv = {}): Started {
    const child = spawn(process.execPath, [entry], { cwd: app, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    return { child, output: () => out };
  }

  async function ready(url: string, p: Started, what: string): Promise<void> {
    await waitFor(
      async () => {
        if (p.child.exitCode !== null) throw new Error(`${what} exited (${p.child.exitCode}): ${p.output().slice(-800)}`);
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
        return res.status === 200;
      },
      `${what} /readyz 200`,
      30_000,
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${p.output().slice(-800)}`);
    });
  }

  async function stop(p: Started): Promise<number | null> {
    if (p.child.exitCode === null) {
      p.child.kill('SIGTERM');
      await new Promise((r) => p.child.once('exit', r));
    }
    return p.child.exitCode;
  }

  before(async () => {
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
    assert.equal(build.status, 0, `npm run build failed:\n${build.stdout}\n${build.stderr}`);

    // What the image's runtime stage holds: dist/, the manifest and the lock, production packages.
    app = mkdtempSync(join(tmpdir(), 'evrotrust-dist-'));
    cpSync(join(root, 'dist'), join(app, 'dist'), { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) cpSync(join(root, f), join(app, f));
    const install = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'], {
      cwd: app,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(install.status, 0, `npm ci --omit=dev failed:\n${install.stderr}`);
    const prune = spawnSync('sh', [join(root, 'scripts/prune-production-deps.sh'), app], { encoding: 'utf8' });
    assert.equal(prune.status, 0, `prune failed:\n${prune.stderr}`);

    sim = await startSimulator({ port: 0, processingMs: 100, callbackRetryDelayMs: 200 });
    const dir = mkdtempSync(join(tmpdir(), 'evrotrust-dist-data-'));
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, (await generateKeyPair()).privateKeyPem, { mode: 0o600 });
    const mongo = new URL(testEnv().mongoUri);
    mongo.pathname = `/t_dist_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    env = {
      // Node's own directory and the system's only: no node_modules/.bin anywhere on it.
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      NODE_OPTIONS: '',
      HOME: dir,
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: testEnv().temporalAddress,
      TEMPORAL_TASK_QUEUE: `dist-${randomUUID()}`,
      MONGODB_URI: mongo.toString(),
      EVROTRUST_BASE_URL: sim.vendorBaseUrl,
      EVROTRUST_VENDOR_NUMBER: SANDBOX_VENDOR_NUMBER,
      EVROTRUST_API_KEY: SANDBOX_API_KEY,
      EVROTRUST_PRIVATE_KEY_FILE: keyFile,
      CALLBACK_ALLOWED_IPS: '127.0.0.1',
      API_TOKEN,
      PUBLIC_BASE_URL: 'http://127.0.0.1:9', // each case sets its own; a closed port otherwise
      HOST: '127.0.0.1',
      SIGNING_POLL_INTERVAL: '5s',
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
      WORKER_METRICS_ADDRESS: 'off', // no fixed port 9464: other test runs share the machine
    };
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await sim?.close();
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('holds compiled JavaScript and the bundle, and no tsx can be reached', () => {
    assert.ok(existsSync(join(app, 'dist', WORKFLOW_BUNDLE_FILE)), 'dist/workflow-bundle.js');
    assert.ok(existsSync(join(app, 'dist', TRACED_WORKFLOW_BUNDLE_FILE)), 'dist/workflow-bundle-traced.js');
    for (const entry of ['main', 'api-main', 'worker-main']) assert.ok(existsSync(join(app, 'dist/src', `${entry}.js`)), entry);
    assert.deepEqual(typeScriptFiles(join(app, 'dist')), []);
    assert.equal(existsSync(join(app, 'node_modules', 'tsx')), false, 'tsx is not a production package');
    assert.equal(existsSync(join(app, 'node_modules', 'typescript')), false, 'typescript is not a production package');
    const resolveTsx = spawnSync(process.execPath, ['-e', "require.resolve('tsx')"], { cwd: app, env });
    assert.notEqual(resolveTsx.status, 0, 'tsx must not resolve from the app directory');
    const onPath = spawnSync('sh', ['-c', 'command -v tsx'], { env });
    assert.notEqual(onPath.status, 0, 'tsx must not be on PATH');
  });

  it('the api and the worker start as two processes and one signing completes', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const extra = { PORT: String(port), PUBLIC_BASE_URL: url };
    const started = Date.now();
    const worker = startBuilt('dist/src/worker-main.js', extra);
    const api = startBuilt('dist/src/api-main.js', extra);
    await ready(url, api, 'api');
    const apiReadyMs = Date.now() - started;
    await waitFor(() => {
      if (worker.child.exitCode !== null) throw new Error(`worker exited (${worker.child.exitCode}): ${worker.output().slice(-800)}`);
      return worker.output().includes('worker polling');
    }, 'the built worker polling');
    console.log(`# api /readyz 200 after ${apiReadyMs} ms, worker polling after ${Date.now() - started} ms (both from process start)`);
    assert.match(api.output(), /evrotrust-signing \(api\) is running/);
    assert.doesNotMatch(api.output(), /worker polling/, 'the api runs no worker');

    const headers = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };
    const res = await fetch(`${url}/v1/signings`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        document: { filename: 'contract.pdf', contentBase64: pdf(`dist ${randomUUID()}`).toString('base64') },
        signers: [SIGNER_A],
      }),
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    type View = { status: string; signers: { transactionId?: string }[] };
    const view = async (): Promise<View> => (await (await fetch(`${url}/v1/signings/${id}`, { headers })).json()) as View;
    // Sent by the built worker's activities, from the bundle's workflow.
    const tx = await waitFor(async () => (await view()).signers[0]?.transactionId, 'the signing sent to the simulator', 30_000);
    await sim.controls.sign(tx);
    const final = await waitFor(
      async () => {
        const v = await view();
        return v.status !== 'pending' && v;
      },
      'the signing final',
      30_000,
    );
    assert.equal(final.status, 'signed');
    const signed = await fetch(`${url}/v1/signings/${id}/signed-document`, { headers });
    assert.equal(signed.status, 200);

    assert.equal(await stop(api), 0, `api stopped cleanly:\n${api.output().slice(-500)}`);
    assert.equal(await stop(worker), 0, `worker stopped cleanly:\n${worker.output().slice(-500)}`);
  });

  it('main.js (api and worker in one process, the image default) answers /readyz', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const all = startBuilt('dist/src/main.js', { PORT: String(port), PUBLIC_BASE_URL: url });
    await ready(url, all, 'main');
    await waitFor(() => all.output().includes('worker polling'), 'main.js worker polling');
    assert.equal(await stop(all), 0);
  });

  it('a compiled worker without the pre-built bundle stops at start and says to run npm run build', { timeout: 30_000 }, async () => {
    const bundle = join(app, 'dist', WORKFLOW_BUNDLE_FILE);
    renameSync(bundle, `${bundle}.moved`);
    try {
      const worker = startBuilt('dist/src/worker-main.js');
      const code = await new Promise<number | null>((r) => worker.child.once('exit', r));
      assert.equal(code, 1);
      assert.match(worker.output(), /workflow bundle .*workflow-bundle\.js is missing: run `npm run build`/);
      assert.doesNotMatch(worker.output(), /worker polling/);
    } finally {
      renameSync(`${bundle}.moved`, bundle);
    }
  });
});
