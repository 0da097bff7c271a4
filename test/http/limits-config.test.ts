// The HTTP limits' variables (src/config-http.ts): defaults, units, bounds, cross-checks; a bad value
// stops the process with exit code 1 and one line naming the variable.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ConfigError, loadConfig } from '../../src/config';
import { parseBytes, parseWholeDuration } from '../../src/config-http';

const refused = (env: Record<string, string>, variable: string, message?: RegExp): void => {
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => err instanceof ConfigError && err.variable === variable && (!message || message.test(err.message)),
    `${JSON.stringify(env)} refused naming ${variable}`,
  );
};

describe('HTTP limits configuration', () => {
  it('defaults', () => {
    assert.deepEqual(loadConfig({}).http, {
      bodyLimit: 64 * 1024,
      uploadLimit: 30 * 1024 * 1024,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 120_000,
      idleTimeoutMs: 5_000,
      connectionTimeoutMs: 60_000,
      overloadMaxEventLoopDelayMs: 1_000,
      overloadMaxHeapUsedBytes: 0,
      overloadRetryAfterS: 10,
      apiRateLimit: 600,
      apiRateLimitWindowMs: 60_000,
    });
  });

  it('each can be set, sizes and durations in whole units; off where allowed', () => {
    const c = loadConfig({
      HTTP_BODY_LIMIT: '32KiB',
      UPLOAD_BODY_LIMIT: '50MiB',
      HTTP_HEADERS_TIMEOUT: '5s',
      HTTP_REQUEST_TIMEOUT: '10m',
      HTTP_IDLE_TIMEOUT: '2s',
      HTTP_CONNECTION_TIMEOUT: '90s',
      OVERLOAD_MAX_EVENT_LOOP_DELAY: 'off',
      OVERLOAD_MAX_HEAP_USED: '1536MiB',
      OVERLOAD_RETRY_AFTER: '30s',
      API_RATE_LIMIT: 'off',
      API_RATE_LIMIT_WINDOW: '10s',
      METRICS_TOKEN: 'a-metrics-token-long-enough',
    }).http;
    assert.deepEqual(c, {
      bodyLimit: 32 * 1024,
      uploadLimit: 50 * 1024 * 1024,
      headersTimeoutMs: 5000,
      requestTimeoutMs: 600_000,
      idleTimeoutMs: 2000,
      connectionTimeoutMs: 90_000,
      overloadMaxEventLoopDelayMs: 0,
      overloadMaxHeapUsedBytes: 1536 * 1024 * 1024,
      overloadRetryAfterS: 30,
      apiRateLimit: 0,
      apiRateLimitWindowMs: 10_000,
      metricsToken: 'a-metrics-token-long-enough',
    });
    assert.equal(parseBytes('65536'), 65536);
    assert.equal(parseBytes('1.5MiB'), undefined);
    assert.equal(parseWholeDuration('0.4ms'), undefined);
    assert.equal(parseWholeDuration('1d'), undefined);
  });

  it('out of bounds, fractional, unknown units and inconsistent pairs are refused naming the variable', () => {
    refused({ HTTP_BODY_LIMIT: '512' }, 'HTTP_BODY_LIMIT', /from 1KiB to 1MiB/);
    refused({ HTTP_BODY_LIMIT: '2MiB' }, 'HTTP_BODY_LIMIT');
    refused({ HTTP_BODY_LIMIT: '64 parsecs' }, 'HTTP_BODY_LIMIT');
    refused({ UPLOAD_BODY_LIMIT: '1GiB' }, 'UPLOAD_BODY_LIMIT');
    refused({ HTTP_HEADERS_TIMEOUT: '0.5s' }, 'HTTP_HEADERS_TIMEOUT');
    refused({ HTTP_HEADERS_TIMEOUT: '10ms' }, 'HTTP_HEADERS_TIMEOUT', /from 1s to 2m/);
    refused({ HTTP_REQUEST_TIMEOUT: '2h' }, 'HTTP_REQUEST_TIMEOUT');
    refused({ HTTP_HEADERS_TIMEOUT: '60s', HTTP_REQUEST_TIMEOUT: '30s' }, 'HTTP_REQUEST_TIMEOUT', /HTTP_HEADERS_TIMEOUT/);
    refused({ HTTP_IDLE_TIMEOUT: 'forever' }, 'HTTP_IDLE_TIMEOUT');
    refused({ OVERLOAD_MAX_EVENT_LOOP_DELAY: '1ms' }, 'OVERLOAD_MAX_EVENT_LOOP_DELAY');
    refused({ OVERLOAD_MAX_HEAP_USED: '1MiB' }, 'OVERLOAD_MAX_HEAP_USED');
    refused({ API_RATE_LIMIT: '0' }, 'API_RATE_LIMIT', /or off/);
    refused({ API_RATE_LIMIT: '-5' }, 'API_RATE_LIMIT');
    refused({ API_RATE_LIMIT_WINDOW: '100ms' }, 'API_RATE_LIMIT_WINDOW');
    refused({ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN', /16 characters/);
    refused({ HTTP_BODY_LIMIT: '1MiB', UPLOAD_BODY_LIMIT: '512KiB' }, 'UPLOAD_BODY_LIMIT', /HTTP_BODY_LIMIT/);
  });

  it('a bad value stops src/main.ts with exit code 1 and one line naming the variable', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, HTTP_BODY_LIMIT: '100GiB' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), 'HTTP_BODY_LIMIT: expected a size in bytes like 64KiB or 30MiB, from 1KiB to 1MiB');
  });
});
