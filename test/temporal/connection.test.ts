// loadTemporalConnection: envconfig's variables and temporal.toml profiles, what "configured" means,
// and every refusal naming its variable without echoing a secret. Pure logic on real files in a
// temporary directory; the connections themselves are tested for real in tls.test.ts.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, loadConfig } from '../../src/config';
import {
  describeTemporalConnection,
  loadTemporalConnection,
  TemporalConfigError,
  temporalConnectOptions,
  type TemporalConnection,
} from '../../src/temporal/connection';
import { createTestCa } from '../helpers/certs';

const dir = mkdtempSync(join(tmpdir(), 'temporal-conn-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

const ca = createTestCa();
const client = ca.issue('client', 'worker');
const other = ca.issue('client', 'other');
const CA = file('ca.crt', ca.certPem);
const CERT = file('client.crt', client.certPem);
const KEY = file('client.key', client.keyPem);
const OTHER_KEY = file('other.key', other.keyPem);
const SECRET = 'tc-secret-api-key-0123456789';

/** A HOME whose ~/.config/temporalio/temporal.toml has a Cloud profile as default: it must never be read unasked. */
const home = join(dir, 'home');
mkdirSync(join(home, '.config', 'temporalio'), { recursive: true });
writeFileSync(
  join(home, '.config', 'temporalio', 'temporal.toml'),
  `[profile.default]
address = "my-ns.a1b2c.tmprl.cloud:7233"
namespace = "my-ns.a1b2c"
api_key = "${SECRET}"

[profile.staging]
address = "temporal.staging.internal:7233"
namespace = "staging"
[profile.staging.tls]
server_ca_cert_path = "${CA}"
`,
);

function refused(env: Record<string, string>, variable: string, expectation: RegExp): void {
  assert.throws(
    () => loadTemporalConnection(env),
    (err: unknown) => {
      assert.ok(err instanceof TemporalConfigError, String(err));
      assert.equal(err.variable, variable, err.message);
      assert.match(err.message, expectation);
      assert.ok(err.message.startsWith(`${variable}: `));
      assert.ok(!err.message.includes('\n'), 'one line');
      assert.ok(!err.message.includes(SECRET), 'no API key in the message');
      assert.ok(!err.message.includes('PRIVATE KEY'), 'no key material in the message');
      return true;
    },
  );
}

describe('loadTemporalConnection', () => {
  it('nothing configured: embedded, and the user temporal.toml (a Cloud default profile) is not read', () => {
    const c = loadTemporalConnection({ HOME: home });
    assert.equal(c.address, undefined);
    assert.equal(c.namespace, 'default');
    assert.equal(c.apiKey, undefined);
    assert.equal(c.source, 'embedded');
    assert.equal(loadTemporalConnection({ HOME: home, TEMPORAL_NAMESPACE: 'dev' }).namespace, 'dev');
    // loadConfig agrees: a fresh clone's npm start is still sandbox mode with its own dev server.
    const config = loadConfig({ HOME: home });
    assert.equal(config.sandbox, true);
    assert.equal(config.temporal.address, undefined);
  });

  it('TEMPORAL_ADDRESS alone: the environment only, still no file', () => {
    const c = loadTemporalConnection({ HOME: home, TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'signing' });
    assert.deepEqual({ ...c }, { address: 'temporal:7233', namespace: 'signing', source: 'environment' });
    assert.deepEqual(temporalConnectOptions(c), { address: 'temporal:7233' });
    assert.equal(loadTemporalConnection({ TEMPORAL_ADDRESS: '[::1]:7233' }).address, '[::1]:7233');
  });

  it('Temporal Cloud with an API key: TLS on, the key passed on', () => {
    const c = loadTemporalConnection({
      TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'my-ns.a1b2c',
      TEMPORAL_API_KEY: SECRET,
    });
    assert.deepEqual(temporalConnectOptions(c), { address: 'my-ns.a1b2c.tmprl.cloud:7233', tls: true, apiKey: SECRET });
    assert.equal(c.namespace, 'my-ns.a1b2c');
    assert.equal(describeTemporalConnection(c), 'my-ns.a1b2c.tmprl.cloud:7233 namespace my-ns.a1b2c, TLS, API key (environment)');
    // TEMPORAL_TLS=false turns TLS off explicitly (a key over plaintext to a local proxy).
    assert.equal(
      temporalConnectOptions(loadTemporalConnection({ TEMPORAL_ADDRESS: 'h:1', TEMPORAL_API_KEY: SECRET, TEMPORAL_TLS: 'false' })).tls,
      false,
    );
  });

  it('mTLS from variables: certificate, key and CA read and passed as bytes; server name', () => {
    const c = loadTemporalConnection({
      TEMPORAL_ADDRESS: 'temporal.example.com:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: CERT,
      TEMPORAL_TLS_CLIENT_KEY_PATH: KEY,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: CA,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const tls = c.tls;
    assert.ok(tls && typeof tls === 'object');
    assert.equal(Buffer.from(tls.clientCertPair?.crt ?? []).toString(), client.certPem);
    assert.equal(Buffer.from(tls.clientCertPair?.key ?? []).toString(), client.keyPem);
    assert.equal(Buffer.from(tls.serverRootCACertificate ?? []).toString(), ca.certPem);
    assert.equal(tls.serverNameOverride, 'temporal.internal');
    assert.match(describeTemporalConnection(c), /, mTLS \(environment\)$/);
    // The same from _DATA variables.
    const d = loadTemporalConnection({
      TEMPORAL_ADDRESS: 'temporal.example.com:7233',
      TEMPORAL_TLS_CLIENT_CERT_DATA: client.certPem,
      TEMPORAL_TLS_CLIENT_KEY_DATA: client.keyPem,
    });
    assert.ok(d.tls && typeof d.tls === 'object' && d.tls.clientCertPair);
  });

  it('a profile chosen with TEMPORAL_PROFILE from the default file; variables override it', () => {
    const c = loadTemporalConnection({ HOME: home, TEMPORAL_PROFILE: 'staging' });
    assert.equal(c.address, 'temporal.staging.internal:7233');
    assert.equal(c.namespace, 'staging');
    assert.ok(c.tls && typeof c.tls === 'object' && c.tls.serverRootCACertificate);
    assert.match(c.source, /^profile 'staging' of .*\/\.config\/temporalio\/temporal\.toml$/);
    const o = loadTemporalConnection({ HOME: home, TEMPORAL_PROFILE: 'staging', TEMPORAL_NAMESPACE: 'other', TEMPORAL_ADDRESS: 'x:1' });
    assert.deepEqual([o.address, o.namespace], ['x:1', 'other']);
    // XDG_CONFIG_HOME moves the default file, as for the CLI.
    assert.equal(loadTemporalConnection({ XDG_CONFIG_HOME: join(home, '.config'), TEMPORAL_PROFILE: 'staging' }).namespace, 'staging');
    // The Cloud default profile, when chosen by name, is read (with its key).
    assert.equal(loadTemporalConnection({ HOME: home, TEMPORAL_PROFILE: 'default' }).apiKey, SECRET);
  });

  it('TEMPORAL_CONFIG_FILE alone: its default profile; gRPC header names normalized as the CLI does', () => {
    const path = file(
      'meta.toml',
      `[profile.default]
address = "127.0.0.1:7233"
[profile.default.grpc_meta]
x_tenant_id = "acme"
`,
    );
    const c = loadTemporalConnection({ TEMPORAL_CONFIG_FILE: path, TEMPORAL_GRPC_META_X_REQUEST_SOURCE: 'signing' });
    assert.deepEqual(c.metadata, { 'x-tenant-id': 'acme', 'x-request-source': 'signing' });
    assert.deepEqual(loadTemporalConnection({ TEMPORAL_CONFIG_FILE: path, TEMPORAL_GRPC_META_X_TENANT_ID: 'other' }).metadata, {
      'x-tenant-id': 'other',
    });
    // An empty variable removes a profile's header.
    assert.deepEqual(loadTemporalConnection({ TEMPORAL_CONFIG_FILE: path, TEMPORAL_GRPC_META_X_TENANT_ID: '' }).metadata, undefined);
  });

  it('never shows the API key or the client key when printed or serialized', () => {
    const c: TemporalConnection = loadTemporalConnection({
      TEMPORAL_ADDRESS: 'h:7233',
      TEMPORAL_API_KEY: SECRET,
      TEMPORAL_TLS_CLIENT_CERT_PATH: CERT,
      TEMPORAL_TLS_CLIENT_KEY_PATH: KEY,
    });
    for (const text of [
      inspect(c, { depth: 5 }),
      JSON.stringify(c),
      inspect(loadConfig({ ...external(), TEMPORAL_API_KEY: SECRET }), { depth: 5 }),
    ]) {
      assert.ok(!text.includes(SECRET), text);
      assert.ok(!text.includes('PRIVATE KEY'), text);
      assert.ok(!text.includes(Buffer.from(client.keyPem).subarray(0, 40).toString('hex')), 'no key bytes');
    }
    assert.equal(c.apiKey, SECRET, 'the value itself is there for the connection');
  });

  describe('refusals: one line naming the variable', () => {
    it('addresses, namespaces, booleans', () => {
      refused({ TEMPORAL_ADDRESS: 'nohost' }, 'TEMPORAL_ADDRESS', /expected host:port/);
      refused({ TEMPORAL_ADDRESS: 'h:0' }, 'TEMPORAL_ADDRESS', /host:port/);
      refused({ TEMPORAL_ADDRESS: 'http://h:7233' }, 'TEMPORAL_ADDRESS', /host:port/);
      refused({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_NAMESPACE: 'a b' }, 'TEMPORAL_NAMESPACE', /namespace name/);
      refused({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_TLS: 'yes' }, 'TEMPORAL_TLS', /true or false/);
      refused(
        { TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' },
        'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
        /not supported by Temporal's TypeScript SDK.*TEMPORAL_TLS_SERVER_NAME/,
      );
    });

    it('connection settings without a Temporal to apply them to', () => {
      refused({ TEMPORAL_API_KEY: SECRET }, 'TEMPORAL_API_KEY', /no Temporal is configured/);
      refused({ TEMPORAL_TLS_CLIENT_CERT_PATH: CERT }, 'TEMPORAL_TLS_CLIENT_CERT_PATH', /expected TEMPORAL_ADDRESS/);
      refused({ TEMPORAL_GRPC_META_X_A: 'b' }, 'TEMPORAL_GRPC_META_X_A', /no Temporal is configured/);
    });

    it('API keys: no spaces or line breaks, and not with an authorization header', () => {
      refused({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_API_KEY: `${SECRET}\n` }, 'TEMPORAL_API_KEY', /without spaces or line breaks/);
      refused(
        { TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_API_KEY: SECRET, TEMPORAL_GRPC_META_AUTHORIZATION: `Bearer ${SECRET}` },
        'TEMPORAL_API_KEY',
        /authorization header/,
      );
    });

    it('certificates and keys: unreadable, not PEM, half a pair, a key of another certificate, path and data both', () => {
      const base = { TEMPORAL_ADDRESS: 'h:7233' };
      refused(
        { ...base, TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'missing.crt') },
        'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
        /cannot read .*missing\.crt \(ENOENT\)/,
      );
      refused({ ...base, TEMPORAL_TLS_SERVER_CA_CERT_PATH: dir }, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', /cannot read .* \(EISDIR\)/);
      refused({ ...base, TEMPORAL_TLS_SERVER_CA_CERT_PATH: KEY }, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', /expected a PEM CA certificate file/);
      refused(
        { ...base, TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'garbage' },
        'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
        /expected a PEM CA certificate$/,
      );
      refused(
        { ...base, TEMPORAL_TLS_CLIENT_CERT_PATH: CERT, TEMPORAL_TLS_CLIENT_KEY_PATH: CERT },
        'TEMPORAL_TLS_CLIENT_KEY_PATH',
        /PEM private key/,
      );
      refused(
        { ...base, TEMPORAL_TLS_CLIENT_CERT_PATH: CERT },
        'TEMPORAL_TLS_CLIENT_KEY_PATH',
        /required with the client certificate \(TEMPORAL_TLS_CLIENT_CERT_PATH\)/,
      );
      refused({ ...base, TEMPORAL_TLS_CLIENT_KEY_PATH: KEY }, 'TEMPORAL_TLS_CLIENT_CERT_PATH', /required with the client key/);
      refused(
        { ...base, TEMPORAL_TLS_CLIENT_CERT_PATH: CERT, TEMPORAL_TLS_CLIENT_KEY_PATH: OTHER_KEY },
        'TEMPORAL_TLS_CLIENT_KEY_PATH',
        /the private key of the client certificate .* it is another key/,
      );
      refused(
        { ...base, TEMPORAL_TLS_CLIENT_KEY_PATH: KEY, TEMPORAL_TLS_CLIENT_KEY_DATA: client.keyPem, TEMPORAL_TLS_CLIENT_CERT_PATH: CERT },
        'TEMPORAL_TLS_CLIENT_KEY_PATH',
        /expected TEMPORAL_TLS_CLIENT_KEY_PATH or TEMPORAL_TLS_CLIENT_KEY_DATA, not both/,
      );
    });

    it('profiles and files: missing file, missing profile, no address, bad TOML (without quoting it), a bad key in a profile', () => {
      refused(
        { TEMPORAL_CONFIG_FILE: join(dir, 'none.toml') },
        'TEMPORAL_CONFIG_FILE',
        /cannot read .*none\.toml \(ENOENT\); expected a readable temporal\.toml/,
      );
      refused(
        { HOME: join(dir, 'nohome'), TEMPORAL_PROFILE: 'prod' },
        'TEMPORAL_PROFILE',
        /profile 'prod' chosen, but .* cannot be read \(ENOENT\); expected TEMPORAL_CONFIG_FILE/,
      );
      refused({ HOME: home, TEMPORAL_PROFILE: 'prod' }, 'TEMPORAL_PROFILE', /has no profile 'prod'; expected one of: default, staging$/);
      const noDefault = file('no-default.toml', '[profile.other]\naddress = "h:1"\n');
      refused(
        { TEMPORAL_CONFIG_FILE: noDefault },
        'TEMPORAL_CONFIG_FILE',
        /has no profile 'default'; expected one of: other \(choose with TEMPORAL_PROFILE\)/,
      );
      const noAddress = file('no-address.toml', '[profile.default]\nnamespace = "x"\n');
      refused(
        { TEMPORAL_CONFIG_FILE: noAddress },
        'TEMPORAL_CONFIG_FILE',
        /profile 'default' of .* has no address; expected address = "host:port" in it, or TEMPORAL_ADDRESS/,
      );
      const broken = file('broken.toml', `[profile.default]\naddress = "h:1"\napi_key = "${SECRET}\n`);
      refused(
        { TEMPORAL_CONFIG_FILE: broken },
        'TEMPORAL_CONFIG_FILE',
        /broken\.toml is not a valid temporal\.toml \(line 3, column \d+\)/,
      );
      const badAddress = file('bad-address.toml', '[profile.cloud]\naddress = "nohost"\n');
      refused(
        { TEMPORAL_CONFIG_FILE: badAddress, TEMPORAL_PROFILE: 'cloud' },
        'TEMPORAL_PROFILE',
        /^TEMPORAL_PROFILE: profile 'cloud' of .*bad-address\.toml: address: expected host:port/,
      );
      const missingCert = file(
        'missing-cert.toml',
        `[profile.default]\naddress = "h:1"\n[profile.default.tls]\nclient_cert_path = "${join(dir, 'gone.crt')}"\nclient_key_path = "${KEY}"\n`,
      );
      refused(
        { TEMPORAL_CONFIG_FILE: missingCert },
        'TEMPORAL_CONFIG_FILE',
        /profile 'default' of .*: client_cert_path: cannot read .*gone\.crt \(ENOENT\)/,
      );
    });

    it('loadConfig turns each into a ConfigError, before any other variable', () => {
      assert.throws(
        () => loadConfig({ TEMPORAL_API_KEY: SECRET, PORT: 'abc' }),
        (err: unknown) => err instanceof ConfigError && err.variable === 'TEMPORAL_API_KEY' && !err.message.includes(SECRET),
      );
    });
  });

  it('a chosen profile counts as external Temporal for sandbox mode, like TEMPORAL_ADDRESS', () => {
    assert.throws(
      () => loadConfig({ HOME: home, TEMPORAL_PROFILE: 'staging' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.variable === 'EVROTRUST_BASE_URL' &&
        /Temporal \(profile 'staging' of .*\) set; for the simulator instead, set EVROTRUST_SANDBOX=true/.test(err.message),
    );
  });
});

/** An external configuration that loadConfig accepts (sandbox chosen explicitly). */
function external(): Record<string, string> {
  return { TEMPORAL_ADDRESS: 'h:7233', MONGODB_URI: 'mongodb://db:27017/signing', EVROTRUST_SANDBOX: 'true' };
}
