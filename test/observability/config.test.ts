// The observability and shutdown variables (src/config-observability.ts): defaults, accepted
// values, and one ConfigError naming the variable for each bad one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config';
import { isBindAddress } from '../../src/config-observability';

const refusal = (env: Record<string, string>, variable: string, message: RegExp) => {
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => err instanceof ConfigError && err.variable === variable && message.test(err.message),
    `${JSON.stringify(env)} should be refused naming ${variable}`,
  );
};

describe('observability configuration', () => {
  it('defaults: JSON logs at info, worker metrics on 127.0.0.1:9464, tracing off, grace 10s, bound 30s', () => {
    const c = loadConfig({});
    assert.deepEqual(c.observability, {
      logFormat: 'json',
      logLevel: 'info',
      workerMetricsAddress: '127.0.0.1:9464',
      serviceName: 'evrotrust-signing',
    });
    assert.deepEqual(c.shutdown, { workerGraceMs: 10_000, timeoutMs: 30_000 });
  });

  it('reads every variable', () => {
    const c = loadConfig({
      LOG_FORMAT: 'pretty',
      LOG_LEVEL: 'debug',
      WORKER_METRICS_ADDRESS: '0.0.0.0:9100',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_SERVICE_NAME: 'signing-eu',
      WORKER_SHUTDOWN_GRACE: '2m',
      SHUTDOWN_TIMEOUT: '3m',
    });
    assert.deepEqual(c.observability, {
      logFormat: 'pretty',
      logLevel: 'debug',
      workerMetricsAddress: '0.0.0.0:9100',
      otlpEndpoint: 'http://collector:4318',
      serviceName: 'signing-eu',
    });
    assert.deepEqual(c.shutdown, { workerGraceMs: 120_000, timeoutMs: 180_000 });
    assert.equal(loadConfig({ WORKER_METRICS_ADDRESS: 'off' }).observability.workerMetricsAddress, null);
  });

  it('refuses bad values with one line naming the variable', () => {
    refusal({ LOG_FORMAT: 'text' }, 'LOG_FORMAT', /json or pretty/);
    refusal({ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /one of trace, debug, info/);
    refusal({ WORKER_METRICS_ADDRESS: '9464' }, 'WORKER_METRICS_ADDRESS', /host:port .* or off/);
    refusal({ WORKER_METRICS_ADDRESS: '127.0.0.1:99999' }, 'WORKER_METRICS_ADDRESS', /host:port/);
    refusal(
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      /http\(s\) base URL of an OTLP\/HTTP collector/,
    );
    refusal({ WORKER_SHUTDOWN_GRACE: '500ms' }, 'WORKER_SHUTDOWN_GRACE', /from 1s to 10m/);
    refusal({ WORKER_SHUTDOWN_GRACE: '1h' }, 'WORKER_SHUTDOWN_GRACE', /from 1s to 10m/);
    refusal({ SHUTDOWN_TIMEOUT: '1s' }, 'SHUTDOWN_TIMEOUT', /from 5s to 30m/);
    refusal({ WORKER_SHUTDOWN_GRACE: '30s' }, 'SHUTDOWN_TIMEOUT', /more than WORKER_SHUTDOWN_GRACE/);
    refusal({ WORKER_SHUTDOWN_GRACE: '1m', SHUTDOWN_TIMEOUT: '45s' }, 'SHUTDOWN_TIMEOUT', /more than WORKER_SHUTDOWN_GRACE/);
  });

  it('bind addresses: IPv4, [IPv6], host names; a port ≤ 65535', () => {
    for (const ok of ['127.0.0.1:9464', '0.0.0.0:1', '[::1]:9464', '[::]:9464', 'localhost:9464', 'worker-1.internal:9464']) {
      assert.ok(isBindAddress(ok), ok);
    }
    for (const bad of ['127.0.0.1', ':9464', '::1:9464', '[127.0.0.1]:9464', 'host:65536', 'a b:1', 'http://x:1']) {
      assert.ok(!isBindAddress(bad), bad);
    }
  });
});
