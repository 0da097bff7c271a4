// Configuration: every variable validated at start; a bad one stops the process with exit code 1
// and one line naming the variable and what it expects.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { ConfigError, loadConfig } from '../src/config';
import { formatDuration, parseDuration } from '../src/lib/duration';

const PROD = {
  EVROTRUST_BASE_URL: 'https://et.test.iteco.bg/vendor',
  EVROTRUST_VENDOR_NUMBER: 'V1',
  EVROTRUST_API_KEY: 'k',
  EVROTRUST_PRIVATE_KEY_FILE: '/etc/evrotrust/key.pem',
  PUBLIC_BASE_URL: 'https://signing.example.com',
  CALLBACK_ALLOWED_IPS: '203.0.113.10,2001:db8::/32',
  API_TOKEN: 'a-long-enough-token',
};
const EXTERNAL = { TEMPORAL_ADDRESS: 'temporal:7233', MONGODB_URI: 'mongodb://db:27017/signing' };

type Refusal = [Record<string, string>, string, RegExp];

// Issue 11's refusals (durations out of bounds, sandbox mode by accident, allowlists that admit
// everyone): each is a ConfigError here and, below, exit code 1 with one line from src/main.ts.
const refusals: Refusal[] = [
  // Durations: whole units only, within their bounds.
  [{ SIGNING_POLL_INTERVAL: '1ms' }, 'SIGNING_POLL_INTERVAL', /whole-unit duration from 5s to 1d, e\.g\. 15m/],
  [{ SIGNING_POLL_INTERVAL: '0.4ms' }, 'SIGNING_POLL_INTERVAL', /whole-unit duration from 5s to 1d/],
  [{ SIGNING_POLL_INTERVAL: '2d' }, 'SIGNING_POLL_INTERVAL', /from 5s to 1d/],
  [{ SIGNING_DEFAULT_EXPIRY: '999999999d' }, 'SIGNING_DEFAULT_EXPIRY', /whole-unit duration from 30s to 30d/],
  [{ SIGNING_DEFAULT_EXPIRY: '10s' }, 'SIGNING_DEFAULT_EXPIRY', /from 30s to 30d/],
  [{ SIGNING_DEFAULT_EXPIRY: '1.5d' }, 'SIGNING_DEFAULT_EXPIRY', /from 30s to 30d/],
  [{ SIGNING_EXPIRY_GRACE: '2m' }, 'SIGNING_EXPIRY_GRACE', /from 1s to 1m/],
  [{ SIGNING_EXPIRY_GRACE: '500ms' }, 'SIGNING_EXPIRY_GRACE', /from 1s to 1m/],
  [{ RECONCILE_INTERVAL: '1s' }, 'RECONCILE_INTERVAL', /from 5s to 1h/],
  [{ RECONCILE_INTERVAL: '2h' }, 'RECONCILE_INTERVAL', /from 5s to 1h/],
  // Sandbox mode only when chosen or when nothing external is configured; never in production.
  [{ NODE_ENV: 'production' }, 'EVROTRUST_BASE_URL', /required outside sandbox mode \(NODE_ENV=production, which refuses sandbox mode\)/],
  [{ NODE_ENV: 'production', EVROTRUST_SANDBOX: 'true' }, 'EVROTRUST_SANDBOX', /refused under NODE_ENV=production/],
  [{ NODE_ENV: 'production', EVROTRUST_SANDBOX: 'true', ...EXTERNAL }, 'EVROTRUST_SANDBOX', /refused under NODE_ENV=production/],
  [
    { MONGODB_URI: 'mongodb://db:27017/signing' },
    'EVROTRUST_BASE_URL',
    /MONGODB_URI set; for the simulator instead, set EVROTRUST_SANDBOX=true/,
  ],
  [{ TEMPORAL_ADDRESS: 'temporal:7233' }, 'EVROTRUST_BASE_URL', /TEMPORAL_ADDRESS set/],
  [EXTERNAL, 'EVROTRUST_BASE_URL', /TEMPORAL_ADDRESS and MONGODB_URI set/],
  [{ EVROTRUST_SANDBOX: 'false' }, 'EVROTRUST_BASE_URL', /EVROTRUST_SANDBOX=false/],
  // The Temporal connection (src/temporal/connection.ts): bad input stops the start like any variable.
  [{ TEMPORAL_ADDRESS: 'temporal:99999' }, 'TEMPORAL_ADDRESS', /expected host:port of a Temporal frontend/],
  [{ TEMPORAL_API_KEY: 'a-secret-key' }, 'TEMPORAL_API_KEY', /no Temporal is configured to apply it to; expected TEMPORAL_ADDRESS/],
  [{ ...EXTERNAL, TEMPORAL_TLS: 'yes' }, 'TEMPORAL_TLS', /expected true or false/],
  [
    { ...EXTERNAL, TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' },
    'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    /cannot read \/nonexistent\/ca\.pem \(ENOENT\); expected a readable PEM CA certificate file/,
  ],
  [{ TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' }, 'TEMPORAL_CONFIG_FILE', /cannot read \/nonexistent\/temporal\.toml \(ENOENT\)/],
  [
    { TEMPORAL_PROFILE: 'cloud', HOME: '/nonexistent' },
    'TEMPORAL_PROFILE',
    /profile 'cloud' chosen, but \/nonexistent\/\.config\/temporalio\/temporal\.toml cannot be read \(ENOENT\)/,
  ],
  [{ EVROTRUST_SANDBOX: 'yes' }, 'EVROTRUST_SANDBOX', /true or false/],
  [{ ...PROD, EVROTRUST_SANDBOX: 'true' }, 'EVROTRUST_SANDBOX', /expected false or unset when EVROTRUST_BASE_URL is set/],
  // PUBLIC_BASE_URL no longer defaults to 127.0.0.1 outside sandbox mode.
  [{ ...PROD, PUBLIC_BASE_URL: '' }, 'PUBLIC_BASE_URL', /required outside sandbox mode; expected the http\(s\) URL/],
  // Empty lists and entries that admit everyone.
  [{ CALLBACK_ALLOWED_IPS: ',' }, 'CALLBACK_ALLOWED_IPS', /it is empty/],
  [{ ...PROD, CALLBACK_ALLOWED_IPS: ' , ' }, 'CALLBACK_ALLOWED_IPS', /it is empty/],
  [{ TRUST_PROXY: ',' }, 'TRUST_PROXY', /it is empty/],
  [{ CALLBACK_ALLOWED_IPS: '203.0.113.10,0.0.0.0/0' }, 'CALLBACK_ALLOWED_IPS', /0\.0\.0\.0\/0 matches every address/],
  [{ CALLBACK_ALLOWED_IPS: '::/0' }, 'CALLBACK_ALLOWED_IPS', /::\/0 matches every address/],
  [{ CALLBACK_ALLOWED_IPS: '::ffff:0:0/96' }, 'CALLBACK_ALLOWED_IPS', /covers the IPv4-mapped block ::ffff:0:0\/96/],
  [{ CALLBACK_ALLOWED_IPS: '::ffff:0.0.0.0/96' }, 'CALLBACK_ALLOWED_IPS', /IPv4-mapped block/],
  [{ CALLBACK_ALLOWED_IPS: '::/64' }, 'CALLBACK_ALLOWED_IPS', /IPv4-mapped block/],
  [{ CALLBACK_ALLOWED_IPS: '::fffe:0:0/95' }, 'CALLBACK_ALLOWED_IPS', /IPv4-mapped block/],
  [{ CALLBACK_ALLOWED_IPS: '0.0.0.0/1' }, 'CALLBACK_ALLOWED_IPS', /wider than \/8 \(IPv4\) or \/7 \(IPv6\)/],
  [{ CALLBACK_ALLOWED_IPS: '2000::/3' }, 'CALLBACK_ALLOWED_IPS', /wider than/],
  [{ CALLBACK_ALLOWED_IPS: '::ffff:10.0.0.0/100' }, 'CALLBACK_ALLOWED_IPS', /wider than/],
  [{ TRUST_PROXY: '0.0.0.0/0' }, 'TRUST_PROXY', /matches every address/],
  [{ TRUST_PROXY: '::/0' }, 'TRUST_PROXY', /matches every address/],
  [{ TRUST_PROXY: '10.0.0.1,::ffff:0:0/96' }, 'TRUST_PROXY', /IPv4-mapped block/],
  [{ TRUST_PROXY: '::/8' }, 'TRUST_PROXY', /IPv4-mapped block/],
];

describe('config', () => {
  it('embedded defaults in sandbox mode', () => {
    const c = loadConfig({});
    assert.equal(c.sandbox, true);
    assert.equal(c.temporal.address, undefined);
    assert.equal(c.temporal.taskQueue, 'evrotrust-signing');
    assert.equal(c.mongodb.dbName, 'evrotrust');
    assert.deepEqual(c.callbackAllowedIps, ['127.0.0.1', '::1']);
    assert.equal(c.signingDefaultExpiryMs, 3 * 86_400_000);
    assert.equal(c.signingPollIntervalMs, 15 * 60_000);
    assert.equal(c.port, 3000);
    assert.equal(c.publicBaseUrl, 'http://127.0.0.1:3000');
  });

  it('signature defaults follow the production integrations, and each can be set', () => {
    assert.deepEqual(loadConfig({}).evrotrust.signing, {
      pdfType: 'PDF2',
      xmlType: 'XML1',
      otherType: 'CAD1',
      algorithm: 'SHA256',
      coverage: 20000,
      certificateType: 1,
    });
    const c = loadConfig({
      EVROTRUST_SIGNATURE_TYPE_PDF: 'PDF1',
      EVROTRUST_SIGNATURE_TYPE_XML: 'XML2',
      EVROTRUST_SIGNATURE_TYPE_OTHER: 'CAD2',
      EVROTRUST_COVERAGE: '0',
      EVROTRUST_CERTIFICATE_TYPE: 'none',
    });
    assert.deepEqual(c.evrotrust.signing, {
      pdfType: 'PDF1',
      xmlType: 'XML2',
      otherType: 'CAD2',
      algorithm: 'SHA256',
      coverage: 0,
      certificateType: null,
    });
  });

  it('production mode reads everything it is given', () => {
    const c = loadConfig({
      ...PROD,
      ...EXTERNAL,
      NODE_ENV: 'production',
      SIGNING_POLL_INTERVAL: '90s',
    });
    assert.equal(c.sandbox, false);
    assert.equal(c.publicBaseUrl, 'https://signing.example.com');
    assert.equal(c.mongodb.dbName, 'signing');
    assert.equal(c.signingPollIntervalMs, 90_000);
    assert.deepEqual(c.callbackAllowedIps, ['203.0.113.10', '2001:db8::/32']);
  });

  const bad: Refusal[] = [
    [{ PORT: 'abc' }, 'PORT', /port number/],
    [{ SIGNING_POLL_INTERVAL: '5x' }, 'SIGNING_POLL_INTERVAL', /whole-unit duration from 5s to 1d/],
    [{ MONGODB_URI: 'mongodb://h:27017' }, 'MONGODB_URI', /names the database/],
    [{ MONGODB_URI: 'postgres://x/y' }, 'MONGODB_URI', /mongodb:\/\//],
    [{ TEMPORAL_ADDRESS: 'nohost' }, 'TEMPORAL_ADDRESS', /host:port/],
    [{ CALLBACK_ALLOWED_IPS: '1.2.3.4,300.1.1.1' }, 'CALLBACK_ALLOWED_IPS', /IPv4\/IPv6 addresses or CIDR/],
    [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY', /CIDR/],
    [{ PUBLIC_BASE_URL: 'ftp://x' }, 'PUBLIC_BASE_URL', /http\(s\) URL/],
    [{ API_TOKEN: 'short' }, 'API_TOKEN', /16 characters/],
    [{ ...PROD, API_TOKEN: '' }, 'API_TOKEN', /required outside sandbox mode/],
    [{ ...PROD, EVROTRUST_API_KEY: '' }, 'EVROTRUST_API_KEY', /required/],
    [{ EVROTRUST_SIGNATURE_TYPE_PDF: 'PAdES' }, 'EVROTRUST_SIGNATURE_TYPE_PDF', /one of PDF1, PDF2/],
    [{ EVROTRUST_SIGNATURE_TYPE_OTHER: 'cad1' }, 'EVROTRUST_SIGNATURE_TYPE_OTHER', /CAD1/],
    [{ EVROTRUST_SIGNATURE_ALGORITHM: 'SHA1' }, 'EVROTRUST_SIGNATURE_ALGORITHM', /SHA256/],
    [{ EVROTRUST_COVERAGE: '1000' }, 'EVROTRUST_COVERAGE', /one of 0, 500, 20000, 100000, 250000/],
    [{ EVROTRUST_CERTIFICATE_TYPE: 'qualified' }, 'EVROTRUST_CERTIFICATE_TYPE', /integer such as 1/],
  ];
  for (const [env, variable, expectation] of [...bad, ...refusals]) {
    it(`${variable}=${JSON.stringify(env[variable] ?? '')} → ConfigError naming ${variable}`, () => {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.variable === variable &&
          expectation.test(err.message) &&
          err.message.startsWith(`${variable}: `),
      );
    });
  }

  it('sandbox mode: implied only when nothing external is configured, else chosen', () => {
    assert.equal(loadConfig({}).sandbox, true, 'a fresh clone');
    assert.equal(loadConfig({ PORT: '3100', DATA_DIR: '/tmp/x' }).sandbox, true, 'local settings are not external');
    const chosen = loadConfig({ EVROTRUST_SANDBOX: 'true', ...EXTERNAL, CALLBACK_ALLOWED_IPS: '172.30.90.90' });
    assert.equal(chosen.sandbox, true);
    assert.equal(chosen.temporal.address, 'temporal:7233');
    assert.deepEqual(chosen.callbackAllowedIps, ['172.30.90.90']);
    assert.equal(loadConfig({ ...PROD, EVROTRUST_SANDBOX: 'false' }).sandbox, false);
    assert.equal(loadConfig({ ...PROD, NODE_ENV: 'production' }).sandbox, false);
    assert.equal(loadConfig({ NODE_ENV: 'development' }).sandbox, true);
  });

  it('allowlists and proxy lists: specific entries, private blocks and narrow mapped ranges are accepted', () => {
    const list = '10.0.0.0/8,172.16.0.0/12,fc00::/7,2001:db8::/32,::ffff:203.0.113.0/120,::ffff:10.0.0.0/104,::1,::/96,203.0.113.10';
    assert.deepEqual(loadConfig({ CALLBACK_ALLOWED_IPS: list, TRUST_PROXY: list }).trustProxy, list.split(','));
  });

  it('durations at their bounds are accepted', () => {
    const c = loadConfig({
      SIGNING_POLL_INTERVAL: '5s',
      SIGNING_DEFAULT_EXPIRY: '30d',
      SIGNING_EXPIRY_GRACE: '1s',
      RECONCILE_INTERVAL: '1h',
    });
    assert.equal(c.signingPollIntervalMs, 5000);
    assert.equal(c.signingDefaultExpiryMs, 30 * 86_400_000);
    assert.equal(c.signingExpiryGraceMs, 1000);
    assert.equal(c.reconcileIntervalMs, 3_600_000);
    const d = loadConfig({
      SIGNING_POLL_INTERVAL: '1d',
      SIGNING_DEFAULT_EXPIRY: '30s',
      SIGNING_EXPIRY_GRACE: '60s',
      RECONCILE_INTERVAL: '5000ms',
    });
    assert.deepEqual(
      [d.signingPollIntervalMs, d.signingDefaultExpiryMs, d.signingExpiryGraceMs, d.reconcileIntervalMs],
      [86_400_000, 30_000, 60_000, 5000],
    );
  });

  it('the service exits with code 1 and one line naming the variable', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, PORT: 'abc' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), 'PORT: expected a port number 0-65535');
  });

  it('durations', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('15m'), 900_000);
    assert.equal(parseDuration('3d'), 259_200_000);
    assert.equal(parseDuration('3 days'), undefined);
    assert.equal(parseDuration('0s'), undefined);
    assert.equal(parseDuration('0.4ms'), undefined, 'whole units only: no rounding to 0');
    assert.equal(parseDuration('1.5h'), undefined);
    assert.equal(parseDuration('-5s'), undefined);
    assert.equal(parseDuration('1e3s'), undefined);
    assert.equal(parseDuration('100000000d'), 8.64e15, 'the longest a Date can hold');
    assert.equal(parseDuration('100000001d'), undefined);
    assert.equal(parseDuration('999999999d'), undefined, 'would be an invalid date');
    assert.equal(parseDuration('99999999999999999ms'), undefined);
    assert.equal(formatDuration(259_200_000), '3d');
    assert.equal(formatDuration(90_000), '90s');
  });

  // Every refusal above, through the real entry point: exit code 1 and exactly one line that names
  // the variable. Each run pays a Node + tsx start, so they run concurrently.
  describe('refusals through src/main.ts', { concurrency: 4 }, () => {
    for (const [env, variable, expectation] of refusals) {
      it(`${JSON.stringify(env)} → exit 1, one line naming ${variable}`, async () => {
        const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          execFile(
            process.execPath,
            ['--import', 'tsx', 'src/main.ts'],
            { env: { PATH: process.env.PATH, ...env }, timeout: 30_000, encoding: 'utf8' },
            (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
          );
        });
        assert.equal(r.code, 1, r.stderr);
        const lines = r.stderr.trim().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.ok(lines[0]?.startsWith(`${variable}: `), lines[0]);
        assert.match(lines[0] ?? '', expectation);
        assert.equal(r.stdout, '');
      });
    }
  });
});
