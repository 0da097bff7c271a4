// Configuration: every variable validated at start; a bad one stops the process with exit code 1
// and one line naming the variable and what it expects.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ConfigError, loadConfig } from '../src/config';
import { formatDuration, parseDuration } from '../src/lib/duration';

const PROD = {
  EVROTRUST_BASE_URL: 'https://et.test.iteco.bg/vendor',
  EVROTRUST_VENDOR_NUMBER: 'V1',
  EVROTRUST_API_KEY: 'k',
  EVROTRUST_PRIVATE_KEY_FILE: '/etc/evrotrust/key.pem',
  CALLBACK_ALLOWED_IPS: '203.0.113.10,2001:db8::/32',
  API_TOKEN: 'a-long-enough-token',
};

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
      MONGODB_URI: 'mongodb://db:27017/signing',
      TEMPORAL_ADDRESS: 'temporal:7233',
      SIGNING_POLL_INTERVAL: '90s',
    });
    assert.equal(c.sandbox, false);
    assert.equal(c.mongodb.dbName, 'signing');
    assert.equal(c.signingPollIntervalMs, 90_000);
    assert.deepEqual(c.callbackAllowedIps, ['203.0.113.10', '2001:db8::/32']);
  });

  const bad: [Record<string, string>, string, RegExp][] = [
    [{ PORT: 'abc' }, 'PORT', /port number/],
    [{ SIGNING_POLL_INTERVAL: '5x' }, 'SIGNING_POLL_INTERVAL', /duration like 90s/],
    [{ MONGODB_URI: 'mongodb://h:27017' }, 'MONGODB_URI', /names the database/],
    [{ MONGODB_URI: 'postgres://x/y' }, 'MONGODB_URI', /mongodb:\/\//],
    [{ TEMPORAL_ADDRESS: 'nohost' }, 'TEMPORAL_ADDRESS', /host:port/],
    [{ CALLBACK_ALLOWED_IPS: '1.2.3.4,300.1.1.1' }, 'CALLBACK_ALLOWED_IPS', /IPv4\/IPv6 addresses or CIDR/],
    [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY', /CIDR/],
    [{ PUBLIC_BASE_URL: 'ftp://x' }, 'PUBLIC_BASE_URL', /http\(s\) URL/],
    [{ API_TOKEN: 'short' }, 'API_TOKEN', /16 characters/],
    [{ ...PROD, API_TOKEN: '' }, 'API_TOKEN', /required when EVROTRUST_BASE_URL is set/],
    [{ ...PROD, EVROTRUST_API_KEY: '' }, 'EVROTRUST_API_KEY', /required/],
    [{ EVROTRUST_SIGNATURE_TYPE_PDF: 'PAdES' }, 'EVROTRUST_SIGNATURE_TYPE_PDF', /one of PDF1, PDF2/],
    [{ EVROTRUST_SIGNATURE_TYPE_OTHER: 'cad1' }, 'EVROTRUST_SIGNATURE_TYPE_OTHER', /CAD1/],
    [{ EVROTRUST_SIGNATURE_ALGORITHM: 'SHA1' }, 'EVROTRUST_SIGNATURE_ALGORITHM', /SHA256/],
    [{ EVROTRUST_COVERAGE: '1000' }, 'EVROTRUST_COVERAGE', /one of 0, 500, 20000, 100000, 250000/],
    [{ EVROTRUST_CERTIFICATE_TYPE: 'qualified' }, 'EVROTRUST_CERTIFICATE_TYPE', /integer such as 1/],
  ];
  for (const [env, variable, expectation] of bad) {
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
    assert.equal(formatDuration(259_200_000), '3d');
    assert.equal(formatDuration(90_000), '90s');
  });
});
