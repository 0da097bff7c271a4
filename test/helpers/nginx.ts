// Debian's nginx as a TLS-terminating gRPC proxy in front of the suite's Temporal dev server (which
// has no TLS of its own): each `listen` is a server block on a free loopback port with its own
// certificate, optional client-certificate check and optional required bearer token. nginx runs as
// a child process with its prefix, config, pid and logs in a temporary directory; stop() ends it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/stack';
import { waitFor } from './wait';

export const NGINX_MISSING =
  'nginx is not installed: the TLS tests put it in front of the Temporal dev server. Install it with ' +
  '`apt-get install -y nginx` (Debian/Ubuntu; .ci/run does this), or put an nginx ≥ 1.13.10 with the ssl and http_v2 modules on PATH';

export interface ProxyListen {
  name: string;
  certPem: string;
  keyPem: string;
  /** CA whose client certificates are required (`ssl_verify_client on`); none: plain TLS. */
  clientCaPem?: string;
  /** Requests without `authorization: Bearer <token>` get gRPC status 16 (UNAUTHENTICATED). */
  requireBearer?: string;
}

export interface GrpcTlsProxy {
  /** host:port of each listen, by name. */
  address: Record<string, string>;
  /** Requests nginx passed on (`up=<upstream>`) or answered itself (`up=-`) on that listen: its access log lines. */
  requests(name: string): string[];
  stop(): Promise<void>;
}

/** nginx on PATH, else Debian's /usr/sbin/nginx (not on a non-root user's PATH). */
function nginxBinary(): string {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    const r = spawnSync(candidate, ['-v'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return candidate;
  }
  throw new Error(NGINX_MISSING);
}

function nginxVersion(binary: string): string {
  const r = spawnSync(binary, ['-v'], { encoding: 'utf8' });
  return (r.stderr || r.stdout).trim();
}

/** nginx 1.25.1 moved http2 from `listen … http2` to `http2 on;`; Debian bookworm ships 1.22. */
function listenDirective(version: string, port: number): string {
  const [major = 0, minor = 0, patch = 0] = (/nginx\/(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  const modern = major * 1_000_000 + minor * 1000 + patch >= 1_025_001;
  return modern ? `listen 127.0.0.1:${port} ssl;\n    http2 on;` : `listen 127.0.0.1:${port} ssl http2;`;
}

/** A trailers-only gRPC answer with status 16 UNAUTHENTICATED and `message`. */
function grpcStatus(message: string): string {
  return `default_type application/grpc; add_header grpc-status 16 always; add_header grpc-message "${message}" always; return 200 "";`;
}

export async function startGrpcTlsProxy(upstream: string, listens: ProxyListen[]): Promise<GrpcTlsProxy> {
  const binary = nginxBinary();
  const version = nginxVersion(binary);
  const dir = mkdtempSync(join(tmpdir(), 'nginx-grpc-'));
  // Workers run as `nobody` when the master is root: they must be able to enter the prefix.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'logs'));
  mkdirSync(join(dir, 'tmp'));
  const address: Record<string, string> = {};
  const servers: string[] = [];
  const maps: string[] = [];
  for (const [i, l] of listens.entries()) {
    const port = await freePort();
    address[l.name] = `127.0.0.1:${port}`;
    writeFileSync(join(dir, `${l.name}.crt`), l.certPem);
    writeFileSync(join(dir, `${l.name}.key`), l.keyPem, { mode: 0o600 }); // read by the root master
    if (l.clientCaPem) writeFileSync(join(dir, `${l.name}-clients.crt`), l.clientCaPem);
    if (l.requireBearer) maps.push(`map $http_authorization $bearer_ok_${i} { "Bearer ${l.requireBearer}" 1; default 0; }`);
    servers.push(`
  server {
    ${listenDirective(version, port)}
    ssl_certificate ${l.name}.crt;
    ssl_certificate_key ${l.name}.key;
    ${
      l.clientCaPem
        ? `ssl_client_certificate ${l.name}-clients.crt;
    ssl_verify_client on;
    # nginx finishes the handshake and answers HTTP 400 (496 no certificate, 495 not trusted): as gRPC
    # status 16 instead, so the client reports the reason the way a gRPC server would.
    error_page 496 = /no-client-certificate;
    error_page 495 = /client-certificate-refused;
    location = /no-client-certificate { internal; ${grpcStatus('client certificate required')} }
    location = /client-certificate-refused { internal; ${grpcStatus('client certificate not trusted')} }`
        : ''
    }
    access_log logs/${l.name}.access.log grpc;
    location / {
      ${l.requireBearer ? `if ($bearer_ok_${i} = 0) { return 401; }\n      error_page 401 = /unauthenticated;` : ''}
      grpc_pass grpc://${upstream};
    }
    # Without the key: status 16 UNAUTHENTICATED, as Temporal Cloud answers.
    location = /unauthenticated { internal; ${grpcStatus('missing or wrong bearer token')} }
  }`);
  }
  // Worker long-polls last up to ~70 s: the proxy's read timeout must outlast them.
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
pid nginx.pid;
events { worker_connections 512; }
http {
  map_hash_bucket_size 256; # before the maps: the bearer token is a long key
  log_format grpc '$remote_addr "$request" $status $http2 up=$upstream_addr auth=$bearer_seen tenant=$http_x_tenant_id';
  map $http_authorization $bearer_seen { "" none; default present; }
  ${maps.join('\n  ')}
  client_body_temp_path tmp/body;
  proxy_temp_path tmp/proxy;
  fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi;
  scgi_temp_path tmp/scgi;
  client_max_body_size 0;
  keepalive_requests 100000;
  keepalive_timeout 600s;
  grpc_read_timeout 300s;
  grpc_send_timeout 300s;
  ${servers.join('\n')}
}
`,
  );
  const child: ChildProcess = spawn(
    binary,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs', 'error.log'), '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.on('error', (err) => (stderr += `${err.message}\n`));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = () => {
    try {
      return readFileSync(join(dir, 'logs', 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM'); // nginx: fast shutdown of master and workers
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killTimer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    let exitedEarly = false;
    void exited.then(() => (exitedEarly = true));
    await waitFor(
      async () => exitedEarly || (await Promise.all(Object.values(address).map(canConnect))).every(Boolean),
      'nginx to listen',
      10_000,
    );
    if (exitedEarly) throw new Error(`nginx exited at start (${child.exitCode}): ${stderr}${errorLog()}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    requests(name) {
      try {
        return readFileSync(join(dir, 'logs', `${name}.access.log`), 'utf8')
          .split('\n')
          .filter(Boolean);
      } catch {
        return [];
      }
    },
    stop,
  };
}

function canConnect(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const s = connect({ host, port: Number(port) }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
